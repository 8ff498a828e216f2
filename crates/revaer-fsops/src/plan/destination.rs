//! The destination: the category's template rendered under the library
//! root, then claimed. Claiming is atomic (the journal is linked into the
//! folder, which fails if one is there), so two jobs never share a folder,
//! and a folder that already holds this torrent's journal is reused.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use revaer_domain::settings::Category;

use super::{check_rel, inside, outside, resolve};
use crate::config::{FsopsConfig, JobSpec};
use crate::error::{FsopsError, Result};
use crate::fsutil;
use crate::meta::{META_FILE, Meta};
use crate::template::{TemplateValues, render};

/// The journal a claim writes before linking it into place.
pub(super) const CLAIM_PREFIX: &str = ".revaer-claim-";
/// Destination names tried before giving up: `X`, `X (2)` … `X (100)`.
const MAX_CANDIDATES: u32 = 100;

/// The name `{name}` stands for: a single-file torrent's name without its
/// extension (`Movie.2019.mkv` lands in `Movie.2019/`).
fn entry_name(spec: &JobSpec) -> &str {
    let single = spec.files.len() == 1 && !spec.files[0].contains('/');
    match spec.name.rsplit_once('.') {
        Some((stem, ext))
            if single
                && !stem.is_empty()
                && (1..=5).contains(&ext.len())
                && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            stem
        }
        _ => &spec.name,
    }
}

/// Renders, checks and claims the destination for job `job`.
pub(super) fn claim(
    config: &FsopsConfig,
    spec: &JobSpec,
    category: Option<&Category>,
    roots: &[PathBuf],
    job: i64,
) -> Result<PathBuf> {
    // Without a category, entries land directly under the library root.
    let template = category.map_or("{name}", |c| c.library_path.as_str());
    let values = TemplateValues {
        name: entry_name(spec),
        category: spec.category.as_deref(),
        tags: &spec.tags,
        id: spec.torrent,
    };
    let rel = render(template, &values)?;
    check_rel(&rel)?;
    let library = resolve(&config.library_root())?;
    let first = config.library_root().join(&rel);
    let resolved = resolve(&first)?;
    if !inside(&resolved, roots) || !resolved.starts_with(&library) {
        return Err(outside(resolved, roots));
    }
    let parent = first.parent().unwrap_or(&first).to_owned();
    fsutil::create_dirs(&parent)?;
    // The parents now exist: check again with every link resolved.
    let real_parent = resolve(&parent)?;
    if !real_parent.starts_with(&library) {
        return Err(outside(real_parent, roots));
    }
    let name = first.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    for n in 1..=MAX_CANDIDATES {
        let candidate = if n == 1 { first.clone() } else { parent.join(format!("{name} ({n})")) };
        match fs::create_dir(&candidate) {
            Ok(()) => {}
            Err(err) if err.kind() == ErrorKind::AlreadyExists => {
                let found = fs::symlink_metadata(&candidate)
                    .map_err(FsopsError::io("inspect", &candidate))?;
                if !found.is_dir() {
                    continue;
                }
            }
            Err(err) => return Err(FsopsError::io("create the destination", &candidate)(err)),
        }
        if take(&candidate, spec, job)? {
            return Ok(candidate);
        }
    }
    Err(FsopsError::DestinationTaken { path: first, tries: MAX_CANDIDATES })
}

/// Makes sure the planned destination is still (or again) this torrent's:
/// a job resumed after its folder was released claims it anew.
pub(crate) fn reclaim(dir: &Path, spec: &JobSpec, job: i64) -> Result<()> {
    if let Some(parent) = dir.parent() {
        fsutil::create_dirs(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(err) if err.kind() == ErrorKind::AlreadyExists => {}
        Err(err) => return Err(FsopsError::io("create the destination", dir)(err)),
    }
    if take(dir, spec, job)? {
        Ok(())
    } else {
        Err(FsopsError::DestinationTaken { path: dir.to_owned(), tries: 1 })
    }
}

/// Cleans up after a job that failed for good: its work folder goes, and
/// its destination too when it received nothing but this job's journal (a
/// failure before the transfer), so that no empty folder is left in the
/// library. `true` when the destination went.
pub fn release(meta: &Meta) -> bool {
    let Some(plan) = &meta.plan else { return false };
    // Scratch space goes whatever happens to the folder.
    let _ = fsutil::remove_tree_if_exists(&plan.work_dir);
    let dir = &plan.destination;
    let ours = Meta::read_from(dir)
        .ok()
        .flatten()
        .is_some_and(|m| m.torrent == meta.torrent && m.job == meta.job);
    let only_journal = fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(std::result::Result::ok).all(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name == META_FILE || name.starts_with(CLAIM_PREFIX)
        })
    });
    if !ours || !only_journal {
        return false;
    }
    fs::remove_dir_all(dir).is_ok()
}

/// Whether `dir` is (now) this torrent's: its journal is ours, or the
/// folder was empty and our journal got in first.
fn take(dir: &Path, spec: &JobSpec, job: i64) -> Result<bool> {
    if let Some(existing) = read_journal(dir)? {
        return Ok(existing.torrent == spec.torrent);
    }
    // Empty but for claims a crash left behind: free.
    for entry in fs::read_dir(dir).map_err(FsopsError::io("list", dir))? {
        let entry = entry.map_err(FsopsError::io("list", dir))?;
        if !entry.file_name().to_string_lossy().starts_with(CLAIM_PREFIX) {
            return Ok(false);
        }
    }
    let meta = Meta::new(job, spec.torrent, &spec.name);
    let bytes = serde_json::to_vec_pretty(&meta).map_err(|err| FsopsError::Journal {
        path: dir.join(META_FILE),
        detail: err.to_string(),
    })?;
    let part = dir.join(format!("{CLAIM_PREFIX}{job}"));
    fsutil::write_synced(&part, &bytes)?;
    // A link fails if the name exists: whoever links first owns the folder.
    let linked = fs::hard_link(&part, dir.join(META_FILE));
    fsutil::remove_file_if_exists(&part)?;
    match linked {
        Ok(()) => fsutil::sync_parent(&dir.join(META_FILE)).map(|()| true),
        Err(err) if err.kind() == ErrorKind::AlreadyExists => {
            Ok(read_journal(dir)?.is_some_and(|m| m.torrent == spec.torrent))
        }
        // Filesystems without hard links (exFAT, vfat, some network and
        // FUSE mounts): an exclusive create claims as well; a crash mid-write
        // leaves a journal that makes the folder look taken (the next name
        // is used), never a shared folder.
        Err(err) if matches!(err.raw_os_error(), Some(c) if c == nix::libc::EPERM || c == nix::libc::EOPNOTSUPP || c == nix::libc::ENOSYS) => {
            Ok(claim_exclusive(dir, &bytes)?
                || read_journal(dir)?.is_some_and(|m| m.torrent == spec.torrent))
        }
        Err(err) => Err(FsopsError::io("claim the destination", dir)(err)),
    }
}

fn claim_exclusive(dir: &Path, bytes: &[u8]) -> Result<bool> {
    let path = dir.join(META_FILE);
    match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(mut file) => {
            std::io::Write::write_all(&mut file, bytes).map_err(FsopsError::io("write", &path))?;
            file.sync_all().map_err(FsopsError::io("sync", &path))?;
            fsutil::sync_parent(&path).map(|()| true)
        }
        Err(err) if err.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(FsopsError::io("claim the destination", dir)(err)),
    }
}

/// A folder's journal; an unreadable one counts as someone else's.
fn read_journal(dir: &Path) -> Result<Option<Meta>> {
    match Meta::read_from(dir) {
        Ok(found) => Ok(found),
        Err(FsopsError::Journal { .. }) => {
            Ok(Some(Meta::new(0, revaer_domain::InfoHash::from_bytes([0; 20]), "")))
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_file_torrents_lose_their_extension_in_names() {
        let spec = |name: &str, files: &[&str]| JobSpec {
            torrent: revaer_domain::InfoHash::from_bytes([1; 20]),
            name: name.into(),
            save_path: PathBuf::from("/dl"),
            files: files.iter().map(|s| (*s).to_owned()).collect(),
            category: None,
            tags: vec![],
            seeding: false,
        };
        assert_eq!(entry_name(&spec("Movie.2019.mkv", &["Movie.2019.mkv"])), "Movie.2019");
        assert_eq!(entry_name(&spec("Show.S01", &["Show.S01/a.mkv"])), "Show.S01");
        assert_eq!(entry_name(&spec("Dr. Who", &["Dr. Who"])), "Dr. Who", "not an extension");
    }
}
