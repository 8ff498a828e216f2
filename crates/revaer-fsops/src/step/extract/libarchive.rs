//! zip, 7z and tar archives through libarchive (`compress-tools`), one
//! entry at a time, every name and byte checked here rather than trusting
//! the library's own extraction.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use compress_tools::{ArchiveContents, ArchiveIterator};

use super::{Budget, Produced, entry_name};
use crate::error::{FsopsError, Result};
use crate::step::Cancel;

const KIND_MASK: u32 = 0o170_000;
const KIND_FILE: u32 = 0o100_000;
const KIND_DIR: u32 = 0o040_000;

/// Names that are not UTF-8 (old zips) are kept readable rather than refused.
#[allow(clippy::unnecessary_wraps, reason = "the reader's callback type")]
fn lossy(bytes: &[u8]) -> compress_tools::Result<String> {
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

struct Current {
    rel: String,
    path: PathBuf,
    out: BufWriter<File>,
    size: u64,
}

/// Extracts `archive` into `out`; returns the files and how many link or
/// special entries were left out.
pub(super) fn extract(
    archive: &Path,
    out: &Path,
    budget: Budget,
    cancel: Cancel<'_>,
) -> Result<(Vec<Produced>, usize)> {
    let fail = |detail: String| FsopsError::Archive { archive: archive.to_owned(), detail };
    let too_large =
        |reason: String| FsopsError::ArchiveTooLarge { archive: archive.to_owned(), reason };
    let file = File::open(archive).map_err(FsopsError::io("open", archive))?;
    let mut iter =
        ArchiveIterator::from_read_with_encoding(file, lossy).map_err(|e| fail(e.to_string()))?;
    let mut produced = BTreeMap::new();
    let (mut entries, mut written, mut skipped) = (0u64, 0u64, 0usize);
    let mut current: Option<Current> = None;
    for content in &mut iter {
        match content {
            ArchiveContents::StartOfEntry(raw, stat) => {
                entries += 1;
                if entries > budget.entries {
                    return Err(too_large(format!("more than {} entries", budget.entries)));
                }
                let Some(rel) = entry_name(archive, &raw)? else { continue };
                let path = out.join(&rel);
                match stat.st_mode & KIND_MASK {
                    KIND_DIR => {
                        fs::create_dir_all(&path).map_err(FsopsError::io("create", &path))?;
                    }
                    KIND_FILE => {
                        if let Some(parent) = path.parent() {
                            fs::create_dir_all(parent).map_err(FsopsError::io("create", parent))?;
                        }
                        let file = File::create(&path).map_err(FsopsError::io("create", &path))?;
                        current = Some(Current { rel, path, out: BufWriter::new(file), size: 0 });
                    }
                    // Symlinks, hard links, devices, FIFOs: never created, so
                    // nothing written later can be redirected through one.
                    _ => skipped += 1,
                }
            }
            ArchiveContents::DataChunk(chunk) => {
                cancel.check()?;
                let Some(entry) = current.as_mut() else { continue };
                written += chunk.len() as u64;
                if written > budget.bytes {
                    return Err(too_large(format!("expands beyond {} bytes", budget.bytes)));
                }
                entry.out.write_all(&chunk).map_err(FsopsError::io("write", &entry.path))?;
                entry.size += chunk.len() as u64;
            }
            ArchiveContents::EndOfEntry => {
                if let Some(entry) = current.take() {
                    let file = entry
                        .out
                        .into_inner()
                        .map_err(|e| FsopsError::io("write", &entry.path)(e.into_error()))?;
                    file.sync_all().map_err(FsopsError::io("sync", &entry.path))?;
                    produced.insert(
                        entry.rel.clone(),
                        Produced { rel: entry.rel, path: entry.path, size: entry.size },
                    );
                }
            }
            ArchiveContents::Err(err) => return Err(fail(err.to_string())),
        }
    }
    iter.close().map_err(|e| fail(e.to_string()))?;
    // A later entry of the same name replaced the earlier one on disk.
    let produced = produced.into_values().collect();
    Ok((produced, skipped))
}
