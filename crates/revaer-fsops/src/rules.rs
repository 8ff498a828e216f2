//! Cleanup rules: which delivered files are dropped and which are kept.
//!
//! A pattern without `/` matches a file's name anywhere in the tree (like
//! `.gitignore`: `*.nfo` drops `Show/info.nfo`); a pattern with `/` matches
//! the whole relative path, with `*` not crossing `/` and `**` crossing any
//! number of folders. Keep patterns win over drop patterns.
//!
//! `@fluff` drops `.nfo`, `.txt`, `.url`, `.sfv` and `.exe` clutter, and
//! files the skip-fluff preset of the selection rules names (samples,
//! proofs, screenshots, extras) *when they are small beside the entry's
//! largest file* (under a quarter of it): a film called *Proof*, or a season
//! of the show *Extras*, is content, not fluff.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use revaer_domain::selection::is_fluff;

use crate::error::{FsopsError, Result};

/// The name of the fluff preset in drop lists.
pub const FLUFF: &str = "@fluff";

/// Clutter extensions that `@fluff` drops besides the selection preset.
const FLUFF_EXTENSIONS: [&str; 5] = ["nfo", "txt", "url", "sfv", "exe"];

/// Compiled keep and drop patterns.
#[derive(Debug, Clone)]
pub struct CleanupRules {
    drop_names: GlobSet,
    drop_paths: GlobSet,
    keep_names: GlobSet,
    keep_paths: GlobSet,
    fluff: bool,
}

impl CleanupRules {
    /// Compiles the patterns (validated with the settings, checked again here).
    pub fn new(drop: &[String], keep: &[String]) -> Result<Self> {
        let (drop_names, drop_paths) = compile(drop.iter().filter(|p| *p != FLUFF))?;
        let (keep_names, keep_paths) = compile(keep.iter())?;
        Ok(Self {
            drop_names,
            drop_paths,
            keep_names,
            keep_paths,
            fluff: drop.iter().any(|p| p == FLUFF),
        })
    }

    /// Whether the file at `rel` (`/`-separated, relative to the entry), of
    /// `size` bytes in an entry whose largest file has `largest`, goes.
    pub fn drops(&self, rel: &str, size: u64, largest: u64) -> bool {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if self.keep_names.is_match(name) || self.keep_paths.is_match(rel) {
            return false;
        }
        let clutter = name.rsplit_once('.').is_some_and(|(_, ext)| {
            FLUFF_EXTENSIONS.iter().any(|fluff| ext.eq_ignore_ascii_case(fluff))
        });
        let small = size.saturating_mul(4) < largest;
        let fluff = self.fluff && (clutter || (small && is_fluff(rel)));
        fluff || self.drop_names.is_match(name) || self.drop_paths.is_match(rel)
    }

    /// Marks the deliverables these rules drop (`skip`); files the engine
    /// owns (`keep_payload`) are never dropped. Returns how many went.
    pub fn mark(&self, items: &mut [crate::meta::Item], keep_payload: bool) -> usize {
        let largest = items.iter().filter(|i| !i.skip).map(|i| i.size).max().unwrap_or(0);
        let mut dropped = 0;
        for item in items.iter_mut().filter(|i| !i.skip) {
            let owned = keep_payload && item.origin == crate::meta::Origin::Payload;
            if !owned && self.drops(&item.rel, item.size, largest) {
                item.skip = true;
                dropped += 1;
            }
        }
        dropped
    }
}

fn compile<'a>(patterns: impl Iterator<Item = &'a String>) -> Result<(GlobSet, GlobSet)> {
    let mut names = GlobSetBuilder::new();
    let mut paths = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .case_insensitive(true)
            .build()
            .map_err(|_| FsopsError::UnsafeName {
                name: pattern.clone(),
                reason: "is not a valid glob",
            })?;
        if pattern.contains('/') {
            paths.add(glob)
        } else {
            names.add(glob)
        };
    }
    let build = |set: GlobSetBuilder| {
        set.build().map_err(|_| FsopsError::UnsafeName {
            name: String::new(),
            reason: "glob set too large",
        })
    };
    Ok((build(names)?, build(paths)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(drop: &[&str], keep: &[&str]) -> CleanupRules {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        CleanupRules::new(&owned(drop), &owned(keep)).expect("valid")
    }

    #[test]
    fn fluff_preset_drops_clutter_and_keeps_content() {
        let r = rules(&["@fluff"], &[]);
        let big = 4_000_000_000;
        for gone in
            ["info.nfo", "Sample/e01.mkv", "e01-sample.mkv", "Proof/p.jpg", "README.TXT", "x.url"]
        {
            assert!(r.drops(gone, 50_000_000, big), "{gone}");
        }
        for kept in ["e01.mkv", "Season 1/e02.mkv", "Sampler.mkv", "subs/en.srt"] {
            assert!(!r.drops(kept, 50_000_000, big), "{kept}");
        }
        // Content named like fluff is content when it is the entry.
        assert!(!r.drops("Proof.2005.1080p.mkv", big, big));
        assert!(!r.drops("Extras/Season 1/e01.mkv", big / 2, big), "episodes of similar size");
        assert!(r.drops("notes.txt", big, big), "clutter goes whatever its size");
    }

    #[test]
    fn names_match_anywhere_paths_match_whole() {
        let r = rules(&["*.jpg", "extras/**"], &["cover.jpg"]);
        assert!(r.drops("a/b/shot.JPG", 1, 1), "case-insensitive, any depth");
        assert!(!r.drops("a/cover.jpg", 1, 1), "keep wins");
        assert!(r.drops("extras/x/y.mkv", 1, 1));
        assert!(!r.drops("show/extras/y.mkv", 1, 1), "path patterns are anchored");
        assert!(CleanupRules::new(&["a[".to_owned()], &[]).is_err());
    }
}
