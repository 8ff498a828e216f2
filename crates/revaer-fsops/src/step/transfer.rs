//! Transfer: every deliverable reaches `destination/rel` by the plan's mode.
//!
//! Per file, and idempotent: a final name only ever appears complete
//! (links and renames are atomic; copies are written under a
//! `.revaer-part-` name, synced, checked and renamed), so on a rerun an
//! existing final name is a finished file and is left alone. A link or
//! rename across filesystems falls back to copy + verify + rename; a move
//! deletes its source only after the copy is in place.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use revaer_domain::settings::TransferMode;
use sha2::{Digest, Sha256};

use super::{Ctx, Outcome};
use crate::error::{FsopsError, Result};
use crate::fsutil::{self, part_path};
use crate::meta::{Origin, Plan};
use crate::rules::CleanupRules;

pub(crate) fn apply(ctx: &mut Ctx<'_, '_>) -> Result<Outcome> {
    let plan = ctx.plan()?;
    let rules = CleanupRules::new(&plan.drop, &plan.keep)?;
    let mut dropped = 0;
    for item in &mut ctx.meta.items {
        let engine_owned = plan.engine_move && item.origin == Origin::Payload;
        if !item.skip && !engine_owned && rules.drops(&item.rel) {
            item.skip = true;
            dropped += 1;
        }
    }
    fsutil::create_dirs(&plan.destination)?;
    // The journal lands first: it marks the folder as this torrent's.
    ctx.meta.write_to(&plan.destination)?;
    if plan.engine_move {
        let mover = ctx.mover.as_mut().ok_or_else(|| FsopsError::EngineMove {
            to: plan.destination.clone(),
            detail: "no engine is attached to move a seeding torrent".to_owned(),
        })?;
        mover(&plan.destination)
            .map_err(|detail| FsopsError::EngineMove { to: plan.destination.clone(), detail })?;
    }
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
            ctx.bytes += place(&item.src, &dest, mode, &plan)?;
        }
        delivered += 1;
    }
    let how = if plan.engine_move { "move (by the engine)" } else { mode_name(plan.mode) };
    Ok(Outcome::Done(format!(
        "{delivered} file(s) by {how} to {}, {} bytes copied, {dropped} dropped",
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
fn place(src: &Path, dest: &Path, mode: TransferMode, plan: &Plan) -> Result<u64> {
    if let Ok(existing) = fs::symlink_metadata(dest) {
        // Finished by an earlier run. A move may have died between its
        // copy and the removal of its source: finish that.
        if mode == TransferMode::Move
            && let Ok(source) = fs::symlink_metadata(src)
            && source.len() == existing.len()
            && !same_file(&source, &existing)
        {
            fsutil::remove_file_if_exists(src)?;
        }
        return Ok(0);
    }
    if fs::symlink_metadata(src).is_err() {
        return Err(FsopsError::SourceMissing { path: src.to_owned() });
    }
    if let Some(parent) = dest.parent() {
        fsutil::create_dirs(parent)?;
    }
    match mode {
        TransferMode::Hardlink if !plan.force_copy => match fs::hard_link(src, dest) {
            Ok(()) => fsutil::sync_parent(dest).map(|()| 0),
            Err(err) if needs_copy(&err) => copy_into_place(src, dest, false),
            Err(err) => Err(FsopsError::io("hard-link", dest)(err)),
        },
        TransferMode::Move if !plan.force_copy => match fs::rename(src, dest) {
            Ok(()) => fsutil::sync_parent(dest).map(|()| 0),
            Err(err) if needs_copy(&err) => move_by_copy(src, dest),
            Err(err) => Err(FsopsError::io("move", dest)(err)),
        },
        TransferMode::Move => move_by_copy(src, dest),
        TransferMode::Reflink if !plan.force_copy => {
            let part = part_path(dest);
            fsutil::remove_file_if_exists(&part)?;
            reflink_copy::reflink_or_copy(src, &part).map_err(FsopsError::io("clone", src))?;
            File::open(&part).and_then(|f| f.sync_all()).map_err(FsopsError::io("sync", &part))?;
            check_size(src, &part)?;
            fsutil::rename_durable(&part, dest)?;
            Ok(fs::metadata(dest).map_or(0, |m| m.len()))
        }
        TransferMode::Hardlink | TransferMode::Copy | TransferMode::Reflink => {
            copy_into_place(src, dest, false)
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

fn move_by_copy(src: &Path, dest: &Path) -> Result<u64> {
    let copied = copy_into_place(src, dest, true)?;
    fsutil::remove_file_if_exists(src)?;
    Ok(copied)
}

/// Copies under a part name, syncs, checks (size always; content too when
/// the source is deleted afterwards), then renames into place.
fn copy_into_place(src: &Path, dest: &Path, verify_content: bool) -> Result<u64> {
    let part = part_path(dest);
    let written = {
        let mut input = File::open(src).map_err(FsopsError::io("open", src))?;
        let mut output = File::create(&part).map_err(FsopsError::io("create", &part))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = input.read(&mut buf).map_err(FsopsError::io("read", src))?;
            if n == 0 {
                break;
            }
            if verify_content {
                hasher.update(&buf[..n]);
            }
            output.write_all(&buf[..n]).map_err(FsopsError::io("write", &part))?;
            total += n as u64;
        }
        output.sync_all().map_err(FsopsError::io("sync", &part))?;
        if verify_content {
            let copy = hash_file(&part)?;
            if copy != hasher.finalize().as_slice() {
                fsutil::remove_file_if_exists(&part)?;
                return Err(FsopsError::VerifyFailed {
                    path: src.to_owned(),
                    detail: "content differs".to_owned(),
                });
            }
        }
        total
    };
    check_size(src, &part)?;
    fsutil::rename_durable(&part, dest)?;
    Ok(written)
}

fn check_size(src: &Path, part: &Path) -> Result<()> {
    let want = fs::metadata(src).map_err(FsopsError::io("read", src))?.len();
    let got = fs::metadata(part).map_err(FsopsError::io("read", part))?.len();
    if want != got {
        fsutil::remove_file_if_exists(part)?;
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
