//! Extract: archives in the payload are unpacked into the work folder and
//! their files become deliverables in place of the archive volumes.
//!
//! Every attempt starts from an empty work folder, so a crash mid-way
//! leaves nothing that a rerun would trip over. Guards, whichever reader
//! runs: names must be relative without `..`, links are never created,
//! and the bytes written are capped (a ratio to the archive's size and an
//! absolute limit) and counted as they are written, not taken from headers.

mod libarchive;
mod unar;

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::config::ExtractLimits;
use crate::error::{FsopsError, Result};
use crate::fsutil;
use crate::meta::{Item, Origin};
use crate::plan::{free_name, unreserve};

use super::{Ctx, Outcome};

/// Which reader handles an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// zip, 7z, tar (plain, gz, xz, zst, bz2): libarchive in-process.
    Libarchive,
    /// RAR, one file or a multi-volume set: `unar`.
    Rar,
}

/// One archive: its volumes in order (indices into the items).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ArchiveSet {
    reader: Reader,
    volumes: Vec<usize>,
}

/// A file an archive produced.
#[derive(Debug)]
pub(super) struct Produced {
    /// Its name inside the archive (checked: relative, no `..`).
    pub rel: String,
    /// Where it was written.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
}

/// What a reader needs to keep an archive in bounds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    /// Bytes it may write.
    pub bytes: u64,
    /// Entries it may have.
    pub entries: u64,
}

impl Budget {
    fn new(limits: ExtractLimits, archive_bytes: u64) -> Self {
        Self {
            bytes: limits
                .max_bytes
                .min(archive_bytes.saturating_mul(limits.max_ratio).max(1024 * 1024)),
            entries: limits.max_entries,
        }
    }
}

const SINGLE: [&str; 12] = [
    ".zip", ".7z", ".tar", ".tgz", ".tar.gz", ".txz", ".tar.xz", ".tzst", ".tar.zst", ".tar.bz2",
    ".tbz2", ".tbz",
];

/// How a file name places it among archives: reader, set key, volume order.
fn classify(rel: &str) -> Option<(Reader, String, u32)> {
    let lower = rel.to_ascii_lowercase();
    if SINGLE.iter().any(|ext| lower.ends_with(ext)) {
        return Some((Reader::Libarchive, rel.to_owned(), 1));
    }
    if let Some(stem) = lower.strip_suffix(".rar") {
        if let Some((base, number)) = stem.rsplit_once(".part")
            && let Ok(n) = number.parse::<u32>()
        {
            return Some((Reader::Rar, format!("{base}#part"), n));
        }
        return Some((Reader::Rar, format!("{stem}#old"), 1));
    }
    // Old-style continuation volumes: `x.r00`, `x.r01`, … follow `x.rar`.
    let (stem, ext) = lower.rsplit_once('.')?;
    let digits = ext.strip_prefix('r')?;
    if (2..=3).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        let n: u32 = digits.parse().ok()?;
        return Some((Reader::Rar, format!("{stem}#old"), n + 2));
    }
    None
}

/// The complete archive sets among the items, in name order; incomplete
/// sets (no first volume, or a gap) are reported and left as files.
fn find_sets(items: &[Item]) -> (Vec<ArchiveSet>, Vec<String>) {
    let mut groups: BTreeMap<String, (Reader, Vec<(u32, usize)>)> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        if let Some((reader, key, order)) = classify(&item.rel) {
            groups.entry(key).or_insert((reader, Vec::new())).1.push((order, index));
        }
    }
    let mut sets = Vec::new();
    let mut incomplete = Vec::new();
    for (key, (reader, mut volumes)) in groups {
        volumes.sort_unstable();
        let gapless = volumes.iter().enumerate().all(|(i, (order, _))| *order == i as u32 + 1);
        if gapless {
            sets.push(ArchiveSet {
                reader,
                volumes: volumes.into_iter().map(|(_, i)| i).collect(),
            });
        } else {
            incomplete.push(key.split('#').next().unwrap_or_default().to_owned());
        }
    }
    (sets, incomplete)
}

pub(crate) fn apply(ctx: &mut Ctx<'_, '_>) -> Result<Outcome> {
    let plan = ctx.plan()?;
    // A rerun starts over: forget what an earlier attempt extracted.
    ctx.meta.items.retain(|item| item.origin == Origin::Payload);
    for item in &mut ctx.meta.items {
        item.skip = false;
    }
    if !plan.extract {
        return Ok(Outcome::Skipped("extraction is off".to_owned()));
    }
    let (sets, incomplete) = find_sets(&ctx.meta.items);
    if sets.is_empty() {
        let note = if incomplete.is_empty() {
            String::new()
        } else {
            format!(" (incomplete: {})", incomplete.join(", "))
        };
        return Ok(Outcome::Skipped(format!("no archives{note}")));
    }
    let out_root = plan.work_dir.join("extract");
    fsutil::remove_tree_if_exists(&out_root)?;
    let result = extract_sets(ctx, &sets, &out_root);
    if result.is_err() {
        // Whatever an archive wrote before it failed goes: it could be
        // large, and a rerun starts over anyway.
        let _ = fsutil::remove_tree_if_exists(&out_root);
    }
    let (produced_count, links) = result?;
    let mut detail =
        format!("{} archive(s), {produced_count} file(s), {} bytes", sets.len(), ctx.bytes);
    if links > 0 {
        let _ = write!(detail, ", {links} link(s) not created");
    }
    if !incomplete.is_empty() {
        let _ = write!(detail, ", incomplete sets left as they are: {}", incomplete.join(", "));
    }
    Ok(Outcome::Done(detail))
}

/// Extracts every set; returns the files produced and the links left out.
fn extract_sets(
    ctx: &mut Ctx<'_, '_>,
    sets: &[ArchiveSet],
    out_root: &Path,
) -> Result<(usize, usize)> {
    let mut taken: HashSet<String> =
        ctx.meta.items.iter().filter(|i| !i.skip).map(|i| i.rel.clone()).collect();
    let mut produced_count = 0;
    let mut links = 0;
    let mut entries_left = ctx.config.limits.max_entries;
    for (n, set) in sets.iter().enumerate() {
        let volumes: Vec<PathBuf> =
            set.volumes.iter().map(|&i| ctx.meta.items[i].src.clone()).collect();
        let archive_bytes = set.volumes.iter().map(|&i| ctx.meta.items[i].size).sum();
        let mut budget = Budget::new(ctx.config.limits, archive_bytes);
        budget.entries = entries_left;
        let out = out_root.join(n.to_string());
        fsutil::create_dirs(&out)?;
        let (produced, skipped_links) = match set.reader {
            Reader::Libarchive => libarchive::extract(&volumes[0], &out, budget, ctx.cancel)?,
            Reader::Rar => unar::extract(ctx.tools, &volumes[0], &out, budget, ctx.cancel)?,
        };
        entries_left = entries_left.saturating_sub(produced.len() as u64);
        links += skipped_links;
        let first_rel = ctx.meta.items[set.volumes[0]].rel.clone();
        let dir = first_rel.rsplit_once('/').map(|(dir, _)| dir.to_owned());
        for &volume in &set.volumes {
            ctx.meta.items[volume].skip = true;
            taken.remove(&ctx.meta.items[volume].rel);
        }
        for file in produced {
            ctx.bytes += file.size;
            let rel = match &dir {
                Some(dir) => format!("{dir}/{}", file.rel),
                None => file.rel.clone(),
            };
            let rel = free_name(&taken, &unreserve(&rel));
            taken.insert(rel.clone());
            ctx.meta.items.push(Item {
                src: file.path,
                rel,
                size: file.size,
                origin: Origin::Extracted,
                skip: false,
            });
            produced_count += 1;
        }
    }
    Ok((produced_count, links))
}

/// Checks an entry name from an archive and makes it `/`-separated and
/// relative (`./a/b/` → `a/b`); `None` for the archive's root folder
/// (`./`, which `tar -C dir .` writes first).
pub(super) fn entry_name(archive: &Path, raw: &str) -> Result<Option<String>> {
    let trimmed = raw.trim_end_matches('/');
    let mut name = trimmed;
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    if !raw.is_empty() && (name.is_empty() || name == ".") {
        return Ok(None);
    }
    crate::plan::check_rel(name).map_err(|err| FsopsError::ArchiveUnsafe {
        archive: archive.to_owned(),
        entry: raw.to_owned(),
        reason: match err {
            FsopsError::UnsafeName { reason, .. } => reason,
            _ => "is unusable",
        },
    })?;
    Ok(Some(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(rel: &str) -> Item {
        Item {
            src: PathBuf::from(rel),
            rel: rel.to_owned(),
            size: 1,
            origin: Origin::Payload,
            skip: false,
        }
    }

    #[test]
    fn volumes_group_into_sets() {
        let items: Vec<Item> = [
            "a/x.part02.rar",
            "a/x.part01.rar",
            "a/x.part03.rar",
            "b.rar",
            "b.r00",
            "b.r01",
            "c.part2.rar",
            "d.zip",
            "e.tar.gz",
            "f.mkv",
            "g.r05",
        ]
        .iter()
        .map(|rel| item(rel))
        .collect();
        let (sets, incomplete) = find_sets(&items);
        let as_names = |set: &ArchiveSet| {
            set.volumes.iter().map(|&i| items[i].rel.as_str()).collect::<Vec<_>>()
        };
        let names: Vec<Vec<&str>> = sets.iter().map(as_names).collect();
        assert_eq!(
            names,
            vec![
                vec!["a/x.part01.rar", "a/x.part02.rar", "a/x.part03.rar"],
                vec!["b.rar", "b.r00", "b.r01"],
                vec!["d.zip"],
                vec!["e.tar.gz"],
            ]
        );
        assert_eq!(incomplete, ["c", "g"]);
    }

    #[test]
    fn names_are_freed_deterministically() {
        let taken: HashSet<String> =
            ["a/m.mkv", "a/m (2).mkv", "README"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(free_name(&taken, "a/m.mkv"), "a/m (3).mkv");
        assert_eq!(free_name(&taken, "README"), "README (2)");
        assert_eq!(free_name(&taken, "new.mkv"), "new.mkv");
    }

    #[test]
    fn entry_names_are_checked() {
        let a = Path::new("x.zip");
        assert_eq!(entry_name(a, "./dir/f.txt").expect("ok").as_deref(), Some("dir/f.txt"));
        assert_eq!(entry_name(a, "dir/").expect("ok").as_deref(), Some("dir"));
        assert_eq!(entry_name(a, "./").expect("ok"), None, "the archive's root");
        assert_eq!(entry_name(a, ".").expect("ok"), None);
        for bad in ["../up", "/abs", "a/../../b", ""] {
            assert!(matches!(entry_name(a, bad), Err(FsopsError::ArchiveUnsafe { .. })), "{bad}");
        }
    }

    #[test]
    fn budgets_take_the_smaller_limit() {
        let limits = ExtractLimits { max_ratio: 10, max_bytes: 1 << 40, max_entries: 5 };
        assert_eq!(Budget::new(limits, 10 << 20).bytes, 100 << 20);
        assert_eq!(Budget::new(limits, 1).bytes, 1024 * 1024, "tiny archives get a floor");
        let capped = ExtractLimits { max_bytes: 50, ..limits };
        assert_eq!(Budget::new(capped, 10 << 20).bytes, 50);
    }
}
