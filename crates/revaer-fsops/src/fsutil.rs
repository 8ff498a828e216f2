//! Small filesystem helpers: atomic writes, durable renames, bounded reads.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{FsopsError, Result};

/// Prefix of in-progress files; never a final name.
pub const PART_PREFIX: &str = ".revaer-part-";

/// The temporary sibling a file is written under before its rename: a
/// fixed-length name (from a hash of the final one), so that a final name
/// of 255 bytes still has a part name that fits.
pub fn part_path(dest: &Path) -> PathBuf {
    use sha2::Digest as _;
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let digest = sha2::Sha256::digest(name.as_bytes());
    dest.with_file_name(format!("{PART_PREFIX}{}", hex(&digest[..8])))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// Reads a file of at most `limit` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(FsopsError::io("read", path))?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(FsopsError::io("read", path))?;
    if bytes.len() as u64 > limit {
        return Err(FsopsError::Journal { path: path.to_owned(), detail: "too large".to_owned() });
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` so that readers see the old or the new content,
/// never a mix: temporary sibling, fsync, rename, fsync of the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let part = part_path(path);
    write_synced(&part, bytes)?;
    rename_durable(&part, path)
}

/// Writes a whole file and fsyncs it.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = File::create(path).map_err(FsopsError::io("create", path))?;
    file.write_all(bytes).map_err(FsopsError::io("write", path))?;
    file.sync_all().map_err(FsopsError::io("sync", path))
}

/// Renames and makes the rename durable (fsync of the target's folder).
pub fn rename_durable(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(FsopsError::io("rename into place", to))?;
    sync_parent(to)
}

/// Fsyncs the folder holding `path` so that a new or renamed entry survives
/// a power cut.
pub fn sync_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(FsopsError::io("sync the folder of", path))?;
    }
    Ok(())
}

/// Creates a folder and its parents.
pub fn create_dirs(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(FsopsError::io("create the folder", path))
}

/// Removes a file if it exists.
pub fn remove_file_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(FsopsError::io("remove", path)(err))
        }
        _ => Ok(()),
    }
}

/// Removes a folder tree if it exists.
pub fn remove_tree_if_exists(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(FsopsError::io("remove", path)(err))
        }
        _ => Ok(()),
    }
}

/// Removes the empty folders under `root` (deepest first), and `root`
/// itself when `include_root` and it ends up empty. Returns how many went.
pub fn remove_empty_dirs(root: &Path, include_root: bool) -> usize {
    let mut removed = 0;
    let dirs: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .contents_first(true)
        .follow_links(false)
        .into_iter()
        .filter_map(std::result::Result::ok)
        .filter(|entry| entry.file_type().is_dir())
        .map(walkdir::DirEntry::into_path)
        .collect();
    for dir in dirs {
        if (include_root || dir != root) && fs::remove_dir(&dir).is_ok() {
            removed += 1;
        }
    }
    removed
}
