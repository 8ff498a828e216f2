//! RAR archives (single files and multi-volume sets) through `unar`.
//!
//! `lsar -j` lists the entries first: any unsafe name refuses the whole
//! archive before a byte is written, and the declared sizes must fit the
//! budget. While `unar` runs, the output folder is measured and the tool is
//! killed the moment it writes past the budget (declared sizes can lie).
//! Afterwards links are removed, so only regular files are delivered.

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use serde_json::Value;

use super::{Budget, Produced, entry_name};
use crate::error::{FsopsError, Result};
use crate::tools::Toolbox;

/// Listings larger than this are refused (a hostile archive could list
/// millions of entries).
const MAX_LISTING: usize = 64 * 1024 * 1024;
/// How often the output is measured while `unar` runs.
const WATCH_EVERY: Duration = Duration::from_millis(100);

pub(super) fn extract(
    tools: &Toolbox,
    first: &Path,
    out: &Path,
    budget: Budget,
) -> Result<(Vec<Produced>, usize)> {
    let (unar, lsar) = tools.rar()?;
    check_listing(lsar, first, budget)?;
    let fail = |detail: String| FsopsError::Archive { archive: first.to_owned(), detail };
    // A file, not a pipe: a chatty tool can never block on a full pipe.
    let log_path = out.with_extension("log");
    let log = std::fs::File::create(&log_path).map_err(FsopsError::io("create", &log_path))?;
    let mut child = Command::new(unar)
        .args([
            "-q",
            "-no-directory",
            "-force-overwrite",
            "-no-recursion",
            "-forks",
            "skip",
            "-password",
            "",
        ])
        .arg("-output-directory")
        .arg(out)
        .arg("--")
        .arg(first)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|err| fail(format!("could not start unar: {err}")))?;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|err| fail(err.to_string()))? {
            break status;
        }
        if tree_size(out) > budget.bytes {
            let _ = child.kill();
            let _ = child.wait();
            return Err(FsopsError::ArchiveTooLarge {
                archive: first.to_owned(),
                reason: format!("expands beyond {} bytes", budget.bytes),
            });
        }
        thread::sleep(WATCH_EVERY);
    };
    if !status.success() {
        let stderr = crate::fsutil::read_bounded(&log_path, 1024 * 1024)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        let last =
            stderr.lines().rfind(|l| !l.contains("NSCalendarDate")).unwrap_or("").trim().to_owned();
        return Err(fail(format!("unar exited with {status}: {last}")));
    }
    collect(first, out, budget)
}

/// Refuses an archive whose listing has an unsafe name or is too large.
fn check_listing(lsar: &Path, first: &Path, budget: Budget) -> Result<()> {
    let fail = |detail: String| FsopsError::Archive { archive: first.to_owned(), detail };
    let output = Command::new(lsar)
        .arg("-j")
        .arg("--")
        .arg(first)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|err| fail(format!("could not start lsar: {err}")))?;
    if !output.status.success() || output.stdout.len() > MAX_LISTING {
        return Err(fail(format!("lsar could not list it ({})", output.status)));
    }
    let listing: Value =
        serde_json::from_slice(&output.stdout).map_err(|err| fail(err.to_string()))?;
    let entries = listing["lsarContents"].as_array().cloned().unwrap_or_default();
    if entries.len() as u64 > budget.entries {
        return Err(FsopsError::ArchiveTooLarge {
            archive: first.to_owned(),
            reason: format!("more than {} entries", budget.entries),
        });
    }
    let mut declared = 0u64;
    for entry in &entries {
        let name = entry["XADFileName"].as_str().unwrap_or_default();
        entry_name(first, name)?;
        declared = declared.saturating_add(entry["XADFileSize"].as_u64().unwrap_or(0));
    }
    if declared > budget.bytes {
        return Err(FsopsError::ArchiveTooLarge {
            archive: first.to_owned(),
            reason: format!("declares {declared} bytes, beyond {}", budget.bytes),
        });
    }
    Ok(())
}

fn tree_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(std::result::Result::ok)
        .filter_map(|entry| entry.metadata().ok())
        .filter(std::fs::Metadata::is_file)
        .map(|meta| meta.len())
        .sum()
}

/// The regular files unar wrote; links it created are removed.
fn collect(first: &Path, out: &Path, budget: Budget) -> Result<(Vec<Produced>, usize)> {
    let mut produced = Vec::new();
    let mut links = 0;
    let mut total = 0u64;
    for entry in walkdir::WalkDir::new(out).follow_links(false).sort_by_file_name() {
        let entry = entry.map_err(|err| FsopsError::Archive {
            archive: first.to_owned(),
            detail: err.to_string(),
        })?;
        let kind = entry.file_type();
        let path = entry.path();
        if kind.is_symlink() {
            std::fs::remove_file(path).map_err(FsopsError::io("remove a link from", path))?;
            links += 1;
        } else if kind.is_file() {
            let rel = path.strip_prefix(out).unwrap_or(path).to_string_lossy().into_owned();
            let rel = entry_name(first, &rel)?;
            let size = entry.metadata().map_or(0, |m| m.len());
            total += size;
            produced.push(Produced { rel, path: path.to_owned(), size });
        }
    }
    if total > budget.bytes {
        return Err(FsopsError::ArchiveTooLarge {
            archive: first.to_owned(),
            reason: format!("expands beyond {} bytes", budget.bytes),
        });
    }
    Ok((produced, links))
}
