//! Cleanup: what a move leaves behind in the download (archive volumes that
//! were extracted, dropped clutter, emptied folders) goes; emptied folders in
//! the destination go; the work folder goes.
//!
//! Other modes leave the download alone: it seeds on. Every removal is
//! "if it exists", so a rerun finds nothing left to do.

use revaer_domain::settings::TransferMode;

use super::{Ctx, Outcome};
use crate::error::Result;
use crate::fsutil;
use crate::meta::Origin;
use crate::plan::WORK_DIR;

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
        // The torrent's own folder goes too once empty, never the save path.
        let own_folder = plan.source_root != ctx.spec.save_path;
        if plan.source_root.is_dir() {
            emptied += fsutil::remove_empty_dirs(&plan.source_root, own_folder);
        }
    }
    emptied += fsutil::remove_empty_dirs(&plan.destination, false);
    fsutil::remove_tree_if_exists(&plan.work_dir)?;
    if let Some(work_root) = plan.work_dir.parent().filter(|p| p.ends_with(WORK_DIR)) {
        // Other jobs may be using it; only an empty one goes.
        let _ = std::fs::remove_dir(work_root);
    }
    Ok(Outcome::Done(format!(
        "{removed} file(s) and {emptied} empty folder(s) removed, work folder cleared"
    )))
}
