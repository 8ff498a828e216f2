//! Cleanup rules: which delivered files are dropped and which are kept.
//!
//! A pattern without `/` matches a file's name anywhere in the tree (like
//! `.gitignore`: `*.nfo` drops `Show/info.nfo`); a pattern with `/` matches
//! the whole relative path, with `*` not crossing `/` and `**` crossing any
//! number of folders. `@fluff` is the skip-fluff preset of the selection
//! rules (samples, proofs, screenshots, extras) plus `.nfo`, `.txt`, `.url`,
//! `.sfv` and `.exe` clutter. Keep patterns win over drop patterns.

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

    /// Whether the file at `rel` (`/`-separated, relative to the entry) goes.
    pub fn drops(&self, rel: &str) -> bool {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if self.keep_names.is_match(name) || self.keep_paths.is_match(rel) {
            return false;
        }
        let fluff = self.fluff
            && (is_fluff(rel)
                || name.rsplit_once('.').is_some_and(|(_, ext)| {
                    FLUFF_EXTENSIONS.iter().any(|fluff| ext.eq_ignore_ascii_case(fluff))
                }));
        fluff || self.drop_names.is_match(name) || self.drop_paths.is_match(rel)
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
        for gone in
            ["info.nfo", "Sample/e01.mkv", "e01-sample.mkv", "Proof/p.jpg", "README.TXT", "x.url"]
        {
            assert!(r.drops(gone), "{gone}");
        }
        for kept in ["e01.mkv", "Season 1/e02.mkv", "Sampler.mkv", "subs/en.srt"] {
            assert!(!r.drops(kept), "{kept}");
        }
    }

    #[test]
    fn names_match_anywhere_paths_match_whole() {
        let r = rules(&["*.jpg", "extras/**"], &["cover.jpg"]);
        assert!(r.drops("a/b/shot.JPG"), "case-insensitive, any depth");
        assert!(!r.drops("a/cover.jpg"), "keep wins");
        assert!(r.drops("extras/x/y.mkv"));
        assert!(!r.drops("show/extras/y.mkv"), "path patterns are anchored");
        assert!(CleanupRules::new(&["a[".to_owned()], &[]).is_err());
    }
}
