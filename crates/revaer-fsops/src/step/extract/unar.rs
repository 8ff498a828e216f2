//! RAR archives (single files and multi-volume sets) through `unar`.
//!
//! `lsar -j` lists the entries first: any unsafe name refuses the whole
//! archive before a byte is written, and the declared sizes must fit the
//! budget. While `unar` runs, the output folder is measured and the tool is
//! killed the moment it writes past the budget (declared sizes can lie).
//! Afterwards links are removed, so only regular files are delivered.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Budget, Produced, entry_name};
use crate::error::{FsopsError, Result};
use crate::step::Cancel;
use crate::tools::Toolbox;

/// Listings larger than this are refused (a hostile archive could list
/// millions of entries).
const MAX_LISTING: usize = 64 * 1024 * 1024;
/// How often the output is measured while `unar` runs.
const WATCH_EVERY: Duration = Duration::from_millis(100);
/// Listing an archive takes a moment; a tool still at it after this is stuck.
const LIST_TIMEOUT: Duration = Duration::from_mins(2);
/// A tool that writes nothing for this long is stuck and is stopped.
const STALL: Duration = Duration::from_mins(5);

pub(super) fn extract(
    tools: &Toolbox,
    first: &Path,
    out: &Path,
    budget: Budget,
    cancel: Cancel<'_>,
) -> Result<(Vec<Produced>, usize)> {
    let (unar, lsar) = tools.rar()?;
    check_listing(lsar, first, out, budget, cancel)?;
    // A file, not a pipe: a chatty tool can never block on a full pipe.
    let log_path = out.with_extension("log");
    let log = File::create(&log_path).map_err(FsopsError::io("create", &log_path))?;
    let child = Command::new(unar)
        .args(["-q", "-no-directory", "-force-overwrite", "-no-recursion"])
        .args(["-forks", "skip", "-password", ""])
        .arg("-output-directory")
        .arg(out)
        .arg("--")
        .arg(first)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|err| tool_failed("unar", format!("could not start: {err}")))?;
    let (mut last_size, mut last_growth) = (0, Instant::now());
    let status = watch(child, "unar", cancel, || {
        let size = tree_size(out);
        if size > budget.bytes {
            return Err(FsopsError::ArchiveTooLarge {
                archive: first.to_owned(),
                reason: format!("expands beyond {} bytes", budget.bytes),
            });
        }
        if size != last_size {
            (last_size, last_growth) = (size, Instant::now());
        } else if last_growth.elapsed() > STALL {
            return Err(tool_failed("unar", format!("wrote nothing for {} s", STALL.as_secs())));
        }
        Ok(())
    })?;
    if !status.success() {
        let stderr = crate::fsutil::read_bounded(&log_path, 1024 * 1024)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        let last =
            stderr.lines().rfind(|l| !l.contains("NSCalendarDate")).unwrap_or("").trim().to_owned();
        // unar read the archive and gave up on it: a broken archive.
        return Err(FsopsError::Archive {
            archive: first.to_owned(),
            detail: format!("unar exited with {status}: {last}"),
        });
    }
    collect(first, out, budget)
}

fn tool_failed(tool: &'static str, detail: String) -> FsopsError {
    FsopsError::ToolFailed { tool, detail }
}

/// Waits for `child`, calling `check` every [`WATCH_EVERY`]; kills it when
/// `check` fails or the job is cancelled.
fn watch(
    mut child: Child,
    tool: &'static str,
    cancel: Cancel<'_>,
    mut check: impl FnMut() -> Result<()>,
) -> Result<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().map_err(|err| tool_failed(tool, err.to_string()))? {
            return Ok(status);
        }
        if let Err(err) = cancel.check().and_then(|()| check()) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(err);
        }
        thread::sleep(WATCH_EVERY);
    }
}

/// Refuses an archive whose listing has an unsafe name or is too large.
fn check_listing(
    lsar: &Path,
    first: &Path,
    out: &Path,
    budget: Budget,
    cancel: Cancel<'_>,
) -> Result<()> {
    let fail = |detail: String| FsopsError::Archive { archive: first.to_owned(), detail };
    let list_path = out.with_extension("list.json");
    let list = File::create(&list_path).map_err(FsopsError::io("create", &list_path))?;
    let child = Command::new(lsar)
        .arg("-j")
        .arg("--")
        .arg(first)
        .stdin(Stdio::null())
        .stdout(Stdio::from(list))
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| tool_failed("lsar", format!("could not start: {err}")))?;
    let started = Instant::now();
    let status = watch(child, "lsar", cancel, || {
        // Bounded: a hostile archive could list millions of entries.
        if std::fs::metadata(&list_path).map_or(0, |m| m.len()) > MAX_LISTING as u64 {
            return Err(fail("its listing is too large".to_owned()));
        }
        if started.elapsed() > LIST_TIMEOUT {
            return Err(tool_failed(
                "lsar",
                format!("no listing after {} s", LIST_TIMEOUT.as_secs()),
            ));
        }
        Ok(())
    })?;
    if !status.success() {
        return Err(fail(format!("lsar could not list it ({status})")));
    }
    let stdout = crate::fsutil::read_bounded(&list_path, MAX_LISTING as u64)?;
    let listing: Value = serde_json::from_slice(&stdout).map_err(|err| fail(err.to_string()))?;
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
        // unar would create links before anything could stop it writing
        // through them: such archives are refused outright.
        if entry["XADIsLink"].as_u64() == Some(1) || entry["XADIsHardLink"].as_u64() == Some(1) {
            return Err(FsopsError::ArchiveUnsafe {
                archive: first.to_owned(),
                entry: name.to_owned(),
                reason: "is a link",
            });
        }
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
            let Some(rel) = entry_name(first, &rel)? else { continue };
            let meta = entry.metadata().map_err(|err| FsopsError::Archive {
                archive: first.to_owned(),
                detail: err.to_string(),
            })?;
            if std::os::unix::fs::MetadataExt::nlink(&meta) > 1 {
                // A hard link to a file elsewhere: delivering it (and
                // changing its mode) would touch that file.
                return Err(FsopsError::ArchiveUnsafe {
                    archive: first.to_owned(),
                    entry: rel,
                    reason: "is a hard link",
                });
            }
            let size = meta.len();
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
