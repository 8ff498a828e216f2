//! Flatten: first the cleanup rules decide which files will not be
//! delivered (so that a dropped `.nfo` cannot keep a folder from
//! collapsing); then, while every remaining deliverable sits in one
//! top-level folder, that folder is collapsed (`Movie/Movie/movie.mkv` →
//! `movie.mkv`).
//!
//! Pure bookkeeping on the journal: nothing moves on disk until the
//! transfer, so a rerun computes the same layout.

use super::{Ctx, Outcome};
use crate::error::{FsopsError, Result};
use crate::meta::Item;
use crate::rules::CleanupRules;

pub(crate) fn apply(ctx: &mut Ctx<'_, '_>) -> Result<Outcome> {
    let plan = ctx.plan()?;
    let rules = CleanupRules::new(&plan.drop, &plan.keep)?;
    let dropped = rules.mark(&mut ctx.meta.items, plan.engine_move);
    if !ctx.meta.items.iter().any(|item| !item.skip) {
        return Err(FsopsError::NothingToDeliver);
    }
    let note = format!("{dropped} file(s) dropped by the cleanup rules");
    if !plan.flatten {
        let why = if plan.engine_move {
            "the torrent seeds on in its own layout"
        } else {
            "flattening is off"
        };
        return Ok(Outcome::Skipped(format!("{why}; {note}")));
    }
    let collapsed = collapse(&mut ctx.meta.items);
    if collapsed.is_empty() {
        return Ok(Outcome::Skipped(format!("no single top-level folder; {note}")));
    }
    Ok(Outcome::Done(format!("collapsed {}; {note}", collapsed.join("/"))))
}

/// Strips shared top folders from the deliverables; returns them in order.
fn collapse(items: &mut [Item]) -> Vec<String> {
    let mut collapsed = Vec::new();
    loop {
        let mut live = items.iter().filter(|item| !item.skip);
        let Some(top) =
            live.next().and_then(|item| item.rel.split_once('/')).map(|(top, _)| top.to_owned())
        else {
            break;
        };
        let prefix = format!("{top}/");
        if !items.iter().filter(|item| !item.skip).all(|item| item.rel.starts_with(&prefix)) {
            break;
        }
        for item in items.iter_mut().filter(|item| item.rel.starts_with(&prefix)) {
            item.rel = item.rel[prefix.len()..].to_owned();
        }
        collapsed.push(top);
    }
    collapsed
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::meta::Origin;

    fn items(rels: &[(&str, bool)]) -> Vec<Item> {
        rels.iter()
            .map(|(rel, skip)| Item {
                src: PathBuf::from(rel),
                rel: (*rel).to_owned(),
                size: 0,
                origin: Origin::Payload,
                skip: *skip,
            })
            .collect()
    }

    #[test]
    fn single_top_folders_collapse_repeatedly() {
        let mut list = items(&[("A/B/x.mkv", false), ("A/B/s/y.srt", false), ("x.rar", true)]);
        assert_eq!(collapse(&mut list), ["A", "B"]);
        let rels: Vec<&str> = list.iter().map(|i| i.rel.as_str()).collect();
        assert_eq!(rels, ["x.mkv", "s/y.srt", "x.rar"]);
        let mut flat = items(&[("A/x.mkv", false), ("y.mkv", false)]);
        assert!(collapse(&mut flat).is_empty());
        let mut single = items(&[("x.mkv", false)]);
        assert!(collapse(&mut single).is_empty());
    }
}
