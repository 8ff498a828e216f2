//! Cleanup: what a move leaves behind in the download (archive volumes that
//! were extracted, dropped clutter, emptied folders) goes; emptied folders in
//! the destination go; the work folder goes.
//!
//! Other modes leave the download alone: it seeds on. Every removal is
//! "if it exists", so a rerun finds nothing left to do.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use revaer_domain::settings::TransferMode;

use super::{Ctx, Outcome};
use crate::error::Result;
use crate::fsutil;
use crate::meta::Origin;
use crate::plan::WORK_DIR;

/// Removes each folder in `folders` and its parents up to `root` (included
/// unless it is `keep`) while they are empty; deepest first.
fn remove_emptied<'a>(folders: impl Iterator<Item = &'a Path>, root: &Path, keep: &Path) -> usize {
    let mut candidates: BTreeSet<PathBuf> = BTreeSet::new();
    for folder in folders.filter(|f| f.starts_with(root)) {
        let mut at = Some(folder);
        while let Some(dir) = at.filter(|d| d.starts_with(root) && *d != keep) {
            candidates.insert(dir.to_owned());
            at = dir.parent();
        }
    }
    let mut ordered: Vec<PathBuf> = candidates.into_iter().collect();
    ordered.sort_by_key(|dir| std::cmp::Reverse(dir.components().count()));
    ordered.into_iter().filter(|dir| fs::remove_dir(dir).is_ok()).count()
}

pub(crate) fn apply(ctx: &mut Ctx<'_, '_>) -> Result<Outcome> {
    let plan = ctx.plan()?;
    let mut removed = 0usize;
    let mut emptied = 0usize;
    if plan.mode == TransferMode::Move && !plan.engine_move {
        for item in ctx.meta.items.iter().filter(|i| i.skip && i.origin == Origin::Payload) {
            if item.src.exists() {
                fsutil::remove_file_if_exists(&item.src)?;
                removed += 1;
            }
        }
        // Only the folders the torrent's files were in (and the torrent's
        // own folder) go, once empty; never the save path or its siblings.
        let folders = ctx
            .meta
            .items
            .iter()
            .filter(|i| i.origin == Origin::Payload)
            .filter_map(|i| i.src.parent());
        emptied += remove_emptied(folders, &plan.source_root, &ctx.spec.save_path);
    }
    emptied += fsutil::remove_empty_dirs(&plan.destination, false);
    fsutil::remove_tree_if_exists(&plan.work_dir)?;
    if let Some(work_root) = plan.work_dir.parent().filter(|p| p.ends_with(WORK_DIR)) {
        // Other jobs may be using it; only an empty one goes.
        let _ = fs::remove_dir(work_root);
    }
    Ok(Outcome::Done(format!(
        "{removed} file(s) and {emptied} empty folder(s) removed, work folder cleared"
    )))
}
