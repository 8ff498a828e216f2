//! Transfer: every deliverable reaches `destination/rel` by the plan's mode.
//!
//! Per file, and idempotent: a final name only ever appears complete
//! (links and renames are atomic; copies are written under a
//! `.revaer-part-` name, synced, checked and renamed), so on a rerun an
//! existing final name is a finished file and is left alone. A link or
//! rename across filesystems falls back to copy + verify + rename; a move
//! deletes its source only after the copy is in place and verified.
//! Sources are opened without following links, and every destination's
//! folder is checked to still resolve inside the destination.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use revaer_domain::settings::TransferMode;
use sha2::{Digest, Sha256};

use super::{Cancel, Ctx, Outcome};
use crate::error::{FsopsError, Result};
use crate::fsutil::{self, part_path};
use crate::meta::{Origin, Plan};
use crate::plan::resolve;

pub(crate) fn apply(ctx: &mut Ctx<'_, '_>) -> Result<Outcome> {
    let plan = ctx.plan()?;
    // The cleanup rules were applied before flattening.
    if !ctx.meta.items.iter().any(|item| !item.skip) {
        return Err(FsopsError::NothingToDeliver);
    }
    crate::plan::reclaim(&plan.destination, ctx.spec, ctx.meta.job)?;
    ctx.meta.write_owned(&plan.destination)?;
    // Moving a torrent onto itself fails in libtorrent: a rerun after the
    // move finds every file in place and goes on.
    let in_place = ctx.meta.items.iter().filter(|i| i.origin == Origin::Payload).all(|i| {
        fs::symlink_metadata(plan.destination.join(&i.rel)).is_ok()
            && fs::symlink_metadata(&i.src).is_err()
    });
    if plan.engine_move && !in_place {
        let to = plan.engine_save_path.clone().unwrap_or_else(|| plan.destination.clone());
        let mover = ctx.mover.as_mut().ok_or_else(|| FsopsError::EngineMove {
            to: to.clone(),
            detail: "no engine is attached to move a seeding torrent".to_owned(),
        })?;
        mover(&to).map_err(|detail| FsopsError::EngineMove { to: to.clone(), detail })?;
    }
    let root = resolve(&plan.destination)?;
    let mut delivered = 0;
    for item in ctx.meta.items.iter().filter(|item| !item.skip) {
        let dest = plan.destination.join(&item.rel);
        if plan.engine_move && item.origin == Origin::Payload {
            if fs::symlink_metadata(&dest).is_err() {
                return Err(FsopsError::SourceMissing { path: dest });
            }
        } else {
            // Extracted files are ours to move whatever the mode.
            let mode =
                if item.origin == Origin::Extracted { TransferMode::Move } else { plan.mode };
            ctx.cancel.check()?;
            ctx.bytes += place(&item.src, &dest, &root, mode, &plan, ctx.cancel)?;
        }
        delivered += 1;
    }
    let how = if plan.engine_move { "move (by the engine)" } else { mode_name(plan.mode) };
    Ok(Outcome::Done(format!(
        "{delivered} file(s) by {how} to {}, {} bytes copied",
        plan.destination.display(),
        ctx.bytes
    )))
}

const fn mode_name(mode: TransferMode) -> &'static str {
    match mode {
        TransferMode::Move => "move",
        TransferMode::Hardlink => "hardlink",
        TransferMode::Copy => "copy",
        TransferMode::Reflink => "reflink",
    }
}

/// Puts one file in place; returns the bytes copied (0 for links/renames).
fn place(
    src: &Path,
    dest: &Path,
    root: &Path,
    mode: TransferMode,
    plan: &Plan,
    cancel: Cancel<'_>,
) -> Result<u64> {
    if let Some(parent) = dest.parent() {
        fsutil::create_dirs(parent)?;
        // Nothing between the destination and the file may lead elsewhere.
        let real = resolve(parent)?;
        if !real.starts_with(root) {
            return Err(FsopsError::OutsideAllowedRoots {
                path: real,
                roots: root.display().to_string(),
            });
        }
    }
    if let Ok(existing) = fs::symlink_metadata(dest) {
        // Finished by an earlier run. A move may have died between its
        // copy and the removal of its source: finish that, once the copy is
        // known to be the same file.
        if mode == TransferMode::Move
            && let Ok(source) = fs::symlink_metadata(src)
            && source.is_file()
            && !same_file(&source, &existing)
        {
            if source.len() != existing.len() || hash_file(src)? != hash_file(dest)? {
                return Err(FsopsError::VerifyFailed {
                    path: src.to_owned(),
                    detail: format!("{} already holds a different file", dest.display()),
                });
            }
            fsutil::remove_file_if_exists(src)?;
        }
        return Ok(0);
    }
    let source = fs::symlink_metadata(src)
        .map_err(|_| FsopsError::SourceMissing { path: src.to_owned() })?;
    if !source.is_file() {
        return Err(FsopsError::UnsafeName {
            name: src.display().to_string(),
            reason: "is no longer a regular file",
        });
    }
    match mode {
        TransferMode::Hardlink if !plan.force_copy => match fs::hard_link(src, dest) {
            Ok(()) => fsutil::sync_parent(dest).map(|()| 0),
            Err(err) if needs_copy(&err) => copy_into_place(src, dest, false, cancel),
            Err(err) => Err(FsopsError::io("hard-link", dest)(err)),
        },
        TransferMode::Move if !plan.force_copy => match fs::rename(src, dest) {
            Ok(()) => fsutil::sync_parent(dest).map(|()| 0),
            Err(err) if needs_copy(&err) => move_by_copy(src, dest, cancel),
            Err(err) => Err(FsopsError::io("move", dest)(err)),
        },
        TransferMode::Move => move_by_copy(src, dest, cancel),
        TransferMode::Reflink if !plan.force_copy => reflink_into_place(src, dest),
        TransferMode::Hardlink | TransferMode::Copy | TransferMode::Reflink => {
            copy_into_place(src, dest, false, cancel)
        }
    }
}

fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Errors after which a copy does what a link or rename could not.
fn needs_copy(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::CrossesDevices
        || matches!(err.raw_os_error(), Some(code) if code == nix::libc::EPERM || code == nix::libc::EMLINK || code == nix::libc::EOPNOTSUPP)
}

fn move_by_copy(src: &Path, dest: &Path, cancel: Cancel<'_>) -> Result<u64> {
    let copied = copy_into_place(src, dest, true, cancel)?;
    fsutil::remove_file_if_exists(src)?;
    Ok(copied)
}

fn reflink_into_place(src: &Path, dest: &Path) -> Result<u64> {
    let part = part_path(dest);
    let result = (|| {
        fsutil::remove_file_if_exists(&part)?;
        // `None` when cloned (no bytes copied), the size when it copied.
        let copied =
            reflink_copy::reflink_or_copy(src, &part).map_err(FsopsError::io("clone", src))?;
        File::open(&part).and_then(|f| f.sync_all()).map_err(FsopsError::io("sync", &part))?;
        check_size(src, &part)?;
        fsutil::rename_durable(&part, dest)?;
        Ok(copied.unwrap_or(0))
    })();
    if result.is_err() {
        let _ = fsutil::remove_file_if_exists(&part);
    }
    result
}

/// Copies under a part name, syncs, checks (size always; content too when
/// the source is deleted afterwards), then renames into place. A failed
/// copy leaves no part file behind (it could be most of a disk).
fn copy_into_place(
    src: &Path,
    dest: &Path,
    verify_content: bool,
    cancel: Cancel<'_>,
) -> Result<u64> {
    let part = part_path(dest);
    let result = copy_to_part(src, &part, verify_content, cancel);
    match result {
        Ok(written) => {
            fsutil::rename_durable(&part, dest)?;
            Ok(written)
        }
        Err(err) => {
            let _ = fsutil::remove_file_if_exists(&part);
            Err(err)
        }
    }
}

fn copy_to_part(src: &Path, part: &Path, verify_content: bool, cancel: Cancel<'_>) -> Result<u64> {
    let mut input = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(src)
        .map_err(FsopsError::io("open", src))?;
    let mut output = File::create(part).map_err(FsopsError::io("create", part))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        cancel.check()?;
        let n = input.read(&mut buf).map_err(FsopsError::io("read", src))?;
        if n == 0 {
            break;
        }
        if verify_content {
            hasher.update(&buf[..n]);
        }
        output.write_all(&buf[..n]).map_err(FsopsError::io("write", part))?;
        total += n as u64;
    }
    output.sync_all().map_err(FsopsError::io("sync", part))?;
    if verify_content && hash_file(part)? != hasher.finalize().as_slice() {
        return Err(FsopsError::VerifyFailed {
            path: src.to_owned(),
            detail: "content differs".to_owned(),
        });
    }
    check_size(src, part)?;
    Ok(total)
}

fn check_size(src: &Path, part: &Path) -> Result<()> {
    let want = fs::metadata(src).map_err(FsopsError::io("read", src))?.len();
    let got = fs::metadata(part).map_err(FsopsError::io("read", part))?.len();
    if want != got {
        return Err(FsopsError::VerifyFailed {
            path: src.to_owned(),
            detail: format!("{got} of {want} bytes"),
        });
    }
    Ok(())
}

/// SHA-256 of a file.
pub(crate) fn hash_file(path: &Path) -> Result<Vec<u8>> {
    let mut file = File::open(path).map_err(FsopsError::io("read", path))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).map_err(FsopsError::io("read", path))?;
    Ok(hasher.finalize().to_vec())
}
