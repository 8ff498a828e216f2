//! The validate step: the effective policy for the torrent's category, the
//! allow-list, the deliverables and a destination that is ours.

mod destination;

pub(crate) use destination::reclaim;
pub use destination::release;

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use revaer_domain::settings::{FsPolicy, TransferMode};

use crate::config::{FsopsConfig, JobSpec};
use crate::error::{FsopsError, Result};
use crate::fsutil::PART_PREFIX;
use crate::meta::{Item, META_FILE, Origin, Plan};

/// Folder under the library root that holds each job's scratch space.
pub const WORK_DIR: &str = ".revaer-work";

/// Checks a relative, `/`-separated name from a torrent or an archive.
pub fn check_rel(name: &str) -> Result<()> {
    let unsafe_name = |reason| Err(FsopsError::UnsafeName { name: name.to_owned(), reason });
    if name.is_empty() || name.len() > 4096 {
        return unsafe_name("must be 1 to 4096 bytes");
    }
    if name.starts_with('/') || Path::new(name).has_root() {
        return unsafe_name("is absolute");
    }
    if name.contains('\0') {
        return unsafe_name("contains NUL");
    }
    if name.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return unsafe_name("has an empty, . or .. component");
    }
    Ok(())
}

/// Names FsOps uses for itself get a `_` in front when a payload has them.
pub fn unreserve(rel: &str) -> String {
    let (dir, name) = rel.rsplit_once('/').map_or(("", rel), |(d, n)| (d, n));
    if name == META_FILE
        || name.starts_with(PART_PREFIX)
        || name.starts_with(destination::CLAIM_PREFIX)
    {
        if dir.is_empty() { format!("_{name}") } else { format!("{dir}/_{name}") }
    } else {
        rel.to_owned()
    }
}

/// `path` with `..` and `.` resolved and symlinks followed as far as the
/// path exists; the rest is appended lexically.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    let mut existing = path.to_owned();
    let mut rest = Vec::new();
    loop {
        if let Ok(mut out) = fs::canonicalize(&existing) {
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Ok(out);
        }
        let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
            return Err(FsopsError::UnsafeName {
                name: path.display().to_string(),
                reason: "does not resolve",
            });
        };
        rest.push(name.to_owned());
        existing = parent.to_owned();
    }
}

fn inside(path: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|root| path.starts_with(root))
}

fn outside(path: PathBuf, roots: &[PathBuf]) -> FsopsError {
    let roots = roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ");
    FsopsError::OutsideAllowedRoots { path, roots }
}

/// The allow-listed roots, resolved as far as they exist.
pub fn allowed_roots(config: &FsopsConfig) -> Vec<PathBuf> {
    let roots: Vec<PathBuf> = if config.policy.allowed_roots.is_empty() {
        config.download_roots.iter().cloned().chain([config.library_root()]).collect()
    } else {
        config.policy.allowed_roots.iter().map(|root| config.resolve(root)).collect()
    };
    roots.iter().filter_map(|root| resolve(root).ok()).collect()
}

fn octal(text: Option<&str>) -> Option<u32> {
    text.and_then(|text| u32::from_str_radix(text, 8).ok())
}

/// The plan and the payload's deliverables, or why the job is refused.
/// The destination is claimed for job `job` (created, with a journal in
/// it) before this returns: two jobs never share a folder.
pub fn validate(config: &FsopsConfig, spec: &JobSpec, job: i64) -> Result<(Plan, Vec<Item>)> {
    let policy = &config.policy;
    let category = spec
        .category
        .as_deref()
        .map(|name| config.categories.0.get(name).cloned().unwrap_or_default());
    let overrides = category.as_ref().map(|c| c.overrides.clone()).unwrap_or_default();
    let mode = overrides.transfer_mode.unwrap_or(policy.transfer_mode);
    let engine_move = mode == TransferMode::Move && spec.seeding;

    let library = config.library_root();
    let roots = allowed_roots(config);
    let (source_root, rels) = payload_layout(spec)?;
    let source_real = resolve(&source_root)?;
    if !inside(&source_real, &roots) {
        return Err(outside(source_real, &roots));
    }
    let mut taken = HashSet::new();
    let mut items = Vec::with_capacity(rels.len());
    for rel in rels {
        if engine_move && unreserve(&rel) != rel {
            // The engine keeps the torrent's names; this one would clash
            // with the journal.
            return Err(FsopsError::UnsafeName { name: rel, reason: "is a name FsOps reserves" });
        }
        let mut item = payload_item(&source_root, &rel, &roots)?;
        item.rel = free_name(&taken, &item.rel);
        taken.insert(item.rel.clone());
        items.push(item);
    }
    let work_dir = library.join(WORK_DIR);
    if fs::symlink_metadata(&work_dir).is_ok_and(|m| !m.is_dir()) {
        return Err(FsopsError::UnsafeName {
            name: work_dir.display().to_string(),
            reason: "must be a folder, not a link or a file",
        });
    }
    let destination = destination::claim(config, spec, category.as_ref(), &roots, job)?;
    let engine_save_path = engine_move.then(|| engine_save_path(spec, &source_root, &destination));
    if let Some(save) = &engine_save_path
        && *save == destination
        && let Ok(top) = source_root.strip_prefix(&spec.save_path)
        && !top.as_os_str().is_empty()
    {
        // The engine puts the torrent's own folder inside the destination.
        let top = top.to_string_lossy();
        for item in &mut items {
            item.rel = format!("{top}/{}", item.rel);
        }
    }
    Ok((
        Plan {
            source_root,
            // Per job: a later job of the torrent never shares scratch space.
            work_dir: work_dir.join(format!("{}-{job}", spec.torrent.to_hex())),
            destination,
            engine_save_path,
            mode,
            engine_move,
            extract: overrides.extract.unwrap_or(policy.extract),
            // A seeding torrent keeps the layout the engine gave it.
            flatten: overrides.flatten.unwrap_or(policy.flatten) && !engine_move,
            checksum: overrides.checksum.unwrap_or(policy.checksum),
            force_copy: config.force_copy,
            file_mode: file_mode(policy, 0o666),
            dir_mode: dir_mode(policy),
            owner: policy.chown.clone(),
            group: policy.chgrp.clone(),
            drop: overrides.cleanup_drop.unwrap_or_else(|| policy.cleanup_drop.clone()),
            keep: policy.cleanup_keep.clone(),
        },
        items,
    ))
}

/// Where the engine moves a seeding torrent so that its files land at
/// `destination/rel`: the destination's parent when the destination is
/// named like the torrent's own top folder (`tv/Show` ← `Show/…`), the
/// destination itself otherwise.
fn engine_save_path(spec: &JobSpec, source_root: &Path, destination: &Path) -> PathBuf {
    let top = source_root.strip_prefix(&spec.save_path).ok().and_then(|rest| rest.to_str());
    match (top, destination.file_name().and_then(|n| n.to_str()), destination.parent()) {
        (Some(top), Some(name), Some(parent)) if !top.is_empty() && top == name => {
            parent.to_owned()
        }
        _ => destination.to_owned(),
    }
}

/// `rel`, or `name (2).ext`, `name (3).ext`, … when `taken` has it.
pub(crate) fn free_name(taken: &HashSet<String>, rel: &str) -> String {
    if !taken.contains(rel) {
        return rel.to_owned();
    }
    let (dir, name) = rel.rsplit_once('/').map_or((None, rel), |(d, n)| (Some(d), n));
    let (stem, ext) = name
        .rsplit_once('.')
        .filter(|(stem, _)| !stem.is_empty())
        .map_or((name, None), |(s, e)| (s, Some(e)));
    // Fewer names are taken than there are numbers to try.
    (2..=taken.len() + 2)
        .map(|n| {
            let name =
                ext.map_or_else(|| format!("{stem} ({n})"), |ext| format!("{stem} ({n}).{ext}"));
            dir.map_or_else(|| name.clone(), |dir| format!("{dir}/{name}"))
        })
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or_else(|| rel.to_owned())
}

/// Brings the settings that do not shape the delivery (modes, owners,
/// checksums) up to date on a resumed plan, so that fixing a setting fixes
/// a failed job. Layout (source, destination, mode, extraction, flattening,
/// cleanup rules) stays as validated.
pub fn refresh(plan: &mut Plan, config: &FsopsConfig, spec: &JobSpec) {
    let policy = &config.policy;
    let overrides = spec
        .category
        .as_deref()
        .and_then(|name| config.categories.0.get(name))
        .map(|c| c.overrides.clone())
        .unwrap_or_default();
    plan.checksum = overrides.checksum.unwrap_or(policy.checksum);
    plan.file_mode = file_mode(policy, 0o666);
    plan.dir_mode = dir_mode(policy);
    plan.owner.clone_from(&policy.chown);
    plan.group.clone_from(&policy.chgrp);
}

fn file_mode(policy: &FsPolicy, base: u32) -> Option<u32> {
    octal(policy.chmod_file.as_deref())
        .or_else(|| octal(policy.umask.as_deref()).map(|mask| base & !mask))
}

fn dir_mode(policy: &FsPolicy) -> Option<u32> {
    octal(policy.chmod_dir.as_deref())
        .or_else(|| octal(policy.umask.as_deref()).map(|mask| 0o777 & !mask))
}

/// Where the payload's relative paths start, and the paths: inside the
/// torrent's top-level folder when it has one.
fn payload_layout(spec: &JobSpec) -> Result<(PathBuf, Vec<String>)> {
    for file in &spec.files {
        check_rel(file)?;
    }
    if spec.files.is_empty() {
        return Err(FsopsError::SourceMissing { path: spec.save_path.join(&spec.name) });
    }
    let top = spec.files[0].split_once('/').map(|(top, _)| top.to_owned());
    let shared = top
        .filter(|top| spec.files.iter().all(|f| f.split_once('/').is_some_and(|(t, _)| t == top)));
    Ok(match shared {
        Some(top) => {
            let rels = spec.files.iter().map(|f| f[top.len() + 1..].to_owned()).collect();
            (spec.save_path.join(top), rels)
        }
        None => (spec.save_path.clone(), spec.files.clone()),
    })
}

fn payload_item(source_root: &Path, rel: &str, roots: &[PathBuf]) -> Result<Item> {
    let src = source_root.join(rel);
    let meta =
        fs::symlink_metadata(&src).map_err(|_| FsopsError::SourceMissing { path: src.clone() })?;
    if meta.file_type().is_symlink() {
        return Err(FsopsError::UnsafeName {
            name: rel.to_owned(),
            reason: "is a symbolic link in the payload",
        });
    }
    let resolved = resolve(&src)?;
    if !inside(&resolved, roots) {
        return Err(outside(resolved, roots));
    }
    Ok(Item { src, rel: unreserve(rel), size: meta.len(), origin: Origin::Payload, skip: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_are_checked() {
        for bad in ["", "/etc/passwd", "a/../b", "..", "a//b", "./a", "a/.", "x\0y"] {
            assert!(check_rel(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "a/b.mkv", "..a/b..", "Season 1/e.mkv"] {
            assert!(check_rel(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn reserved_names_are_renamed() {
        assert_eq!(unreserve(".revaer.meta"), "_.revaer.meta");
        assert_eq!(unreserve("d/.revaer-part-x"), "d/_.revaer-part-x");
        assert_eq!(unreserve("d/movie.mkv"), "d/movie.mkv");
    }

    #[test]
    fn layout_strips_the_shared_top_folder() {
        let spec = |files: &[&str]| JobSpec {
            torrent: revaer_domain::InfoHash::parse("0123456789abcdef0123456789abcdef01234567")
                .expect("valid"),
            name: "Show".into(),
            save_path: PathBuf::from("/dl"),
            files: files.iter().map(|s| (*s).to_owned()).collect(),
            category: None,
            tags: vec![],
            seeding: false,
        };
        let (root, rels) = payload_layout(&spec(&["Show/a.mkv", "Show/s/b.mkv"])).expect("ok");
        assert_eq!(
            (root, rels),
            (PathBuf::from("/dl/Show"), vec!["a.mkv".into(), "s/b.mkv".into()])
        );
        let (root, rels) = payload_layout(&spec(&["movie.mkv"])).expect("ok");
        assert_eq!((root, rels), (PathBuf::from("/dl"), vec!["movie.mkv".to_owned()]));
        assert!(payload_layout(&spec(&["Show/../../etc/passwd"])).is_err());
        assert!(payload_layout(&spec(&[])).is_err());
    }
}
