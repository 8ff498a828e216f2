//! Which files of a torrent to download.
//!
//! A [`SelectionRules`] value is what users send: include and exclude globs,
//! the skip-fluff preset and explicit per-file priorities. It is compiled
//! once ([`SelectionRules::compile`], which validates every glob and bound)
//! and then evaluated against the torrent's file list.
//!
//! Semantics, in order:
//! 1. With no include globs every file starts wanted (`normal`); otherwise a
//!    file starts wanted only if some include glob matches it.
//! 2. A file matching any exclude glob becomes `skip`.
//! 3. With `skip_fluff`, files inside `sample`, `samples`, `extra`, `extras`,
//!    `proof`, `proofs`, `screens` or `screenshots` folders (at any depth,
//!    any case), and files whose name has `sample`, `proof` or `screens` as a
//!    word (`movie-sample.mkv`), become `skip`.
//! 4. Explicit priorities by file index win over everything above.
//!
//! Globs: `*` and `?` never cross `/`, `**` does, `{a,b}` alternates, `[..]`
//! is a class, matching ignores case. A glob is tested against the path
//! inside the torrent's top-level folder (`Season 1/e01.mkv`) and against the
//! full path (`Show/Season 1/e01.mkv`); either match counts.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::file::FilePriority;

/// Most globs accepted in one list. (Compiling globs costs time in their
/// total length: two lists of 64 of the longest, full of wildcards,
/// compile in about 40 ms on a small machine, where 256 of 1 KiB took a
/// quarter of a second to most of one.)
pub const MAX_GLOBS: usize = 64;
/// Longest glob accepted, in bytes.
pub const MAX_GLOB_LEN: usize = 256;
/// Most explicit per-file priorities accepted in one request: as many as
/// fit the 1 MiB body of a selection request, at up to 41 bytes each
/// (`{"index":4294967295,"priority":"normal"},`), beside the globs. More
/// files than that are selected with globs.
pub const MAX_PRIORITY_OVERRIDES: usize = 20_000;

// The OpenAPI document's `maxItems` repeat these.
#[cfg(feature = "openapi")]
const _: () = assert!(MAX_GLOBS == 64 && MAX_PRIORITY_OVERRIDES == 20_000);

const FLUFF_DIRS: &[&str] =
    &["sample", "samples", "extra", "extras", "proof", "proofs", "screens", "screenshots"];
const FLUFF_WORDS: &[&str] = &["sample", "proof", "screens"];

/// The selection a user asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SelectionRules {
    /// Globs of files to download (at most 64, each at most 256 bytes);
    /// empty means "everything".
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 64))]
    pub include: Vec<String>,
    /// Globs of files not to download (at most 64, each at most 256 bytes).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 64))]
    pub exclude: Vec<String>,
    /// Skip samples, extras, proofs and screenshots.
    #[serde(default)]
    pub skip_fluff: bool,
    /// Explicit priorities by file index; these win over the globs.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 20_000))]
    pub priorities: Vec<PriorityOverride>,
}

/// An explicit priority for one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriorityOverride {
    /// The file's index in the torrent.
    #[cfg_attr(feature = "openapi", schema(value_type = u64, maximum = 4_294_967_295_u64))]
    pub index: u32,
    /// Its priority.
    pub priority: FilePriority,
}

/// Why a selection cannot be used. [`SelectionError::pointer`] gives the JSON
/// Pointer of the offending part of a [`SelectionRules`] document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectionError {
    /// A glob list is longer than [`MAX_GLOBS`], or the overrides longer
    /// than [`MAX_PRIORITY_OVERRIDES`].
    #[error("`{field}` may hold at most {max} entries, got {len}")]
    TooMany {
        /// `include`, `exclude` or `priorities`.
        field: &'static str,
        /// How many were sent.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A glob does not parse or is too long.
    #[error("`{field}[{index}]` is not a valid glob: {reason}")]
    InvalidGlob {
        /// `include` or `exclude`.
        field: &'static str,
        /// Position in the list.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// An explicit priority names a file the torrent does not have.
    #[error("file index {index} does not exist; the torrent has {file_count} files")]
    UnknownFile {
        /// Position in `priorities`.
        position: usize,
        /// The index sent.
        index: u32,
        /// How many files the torrent has.
        file_count: usize,
    },
}

impl SelectionError {
    /// JSON Pointer (RFC 6901) to the offending value inside a
    /// [`SelectionRules`] document.
    pub fn pointer(&self) -> String {
        match self {
            Self::TooMany { field, .. } => format!("/{field}"),
            Self::InvalidGlob { field, index, .. } => format!("/{field}/{index}"),
            Self::UnknownFile { position, .. } => format!("/priorities/{position}/index"),
        }
    }
}

impl SelectionRules {
    /// Whether the rules select every file at normal priority.
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// Validates the rules and compiles the globs.
    pub fn compile(&self) -> Result<CompiledSelection, SelectionError> {
        if self.priorities.len() > MAX_PRIORITY_OVERRIDES {
            return Err(SelectionError::TooMany {
                field: "priorities",
                len: self.priorities.len(),
                max: MAX_PRIORITY_OVERRIDES,
            });
        }
        Ok(CompiledSelection {
            include: compile_globs("include", &self.include)?,
            exclude: compile_globs("exclude", &self.exclude)?,
            rules: self.clone(),
        })
    }
}

fn compile_globs(field: &'static str, globs: &[String]) -> Result<Option<GlobSet>, SelectionError> {
    if globs.len() > MAX_GLOBS {
        return Err(SelectionError::TooMany { field, len: globs.len(), max: MAX_GLOBS });
    }
    if globs.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for (index, glob) in globs.iter().enumerate() {
        let invalid = |reason: String| SelectionError::InvalidGlob { field, index, reason };
        if glob.len() > MAX_GLOB_LEN {
            return Err(invalid(format!("longer than {MAX_GLOB_LEN} bytes")));
        }
        if glob.trim().is_empty() {
            return Err(invalid("empty".to_owned()));
        }
        let compiled = GlobBuilder::new(glob)
            .literal_separator(true)
            .case_insensitive(true)
            .backslash_escape(true)
            .build()
            .map_err(|err| invalid(err.kind().to_string()))?;
        set.add(compiled);
    }
    set.build().map(Some).map_err(|err| SelectionError::InvalidGlob {
        field,
        index: 0,
        reason: err.to_string(),
    })
}

/// Validated, compiled selection rules, with the rules they came from (so
/// that what is compiled once can be handed on, and kept, as one value).
/// The default selects every file at normal priority.
#[derive(Debug, Clone, Default)]
pub struct CompiledSelection {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    rules: SelectionRules,
}

impl CompiledSelection {
    /// The rules these were compiled from.
    pub fn rules(&self) -> &SelectionRules {
        &self.rules
    }

    /// The rules, given back.
    pub fn into_rules(self) -> SelectionRules {
        self.rules
    }

    /// The priority of every file, in order. `paths` are the torrent's file
    /// paths, `/`-separated. Fails when an explicit priority names an index
    /// past the end of the list.
    pub fn evaluate<S: AsRef<str>>(
        &self,
        paths: &[S],
    ) -> Result<Vec<FilePriority>, SelectionError> {
        let mut result: Vec<FilePriority> =
            paths.iter().map(|path| self.glob_priority(path.as_ref())).collect();
        for (position, over) in self.rules.priorities.iter().enumerate() {
            let slot = result.get_mut(over.index as usize).ok_or(SelectionError::UnknownFile {
                position,
                index: over.index,
                file_count: paths.len(),
            })?;
            *slot = over.priority;
        }
        Ok(result)
    }

    fn glob_priority(&self, path: &str) -> FilePriority {
        let inner = path.split_once('/').map_or(path, |(_, rest)| rest);
        let matches = |set: &GlobSet| set.is_match(inner) || set.is_match(path);
        let included = self.include.as_ref().is_none_or(matches);
        let excluded = self.exclude.as_ref().is_some_and(matches);
        if !included || excluded || (self.rules.skip_fluff && is_fluff(inner)) {
            FilePriority::Skip
        } else {
            FilePriority::Normal
        }
    }
}

/// Whether a path (inside the torrent folder) is a sample, extra, proof or
/// screenshot by the skip-fluff preset.
pub fn is_fluff(path: &str) -> bool {
    let mut components = path.split('/').collect::<Vec<_>>();
    let Some(file) = components.pop() else { return false };
    let in_fluff_dir =
        components.iter().any(|dir| FLUFF_DIRS.iter().any(|fluff| dir.eq_ignore_ascii_case(fluff)));
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let fluff_word = stem
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| FLUFF_WORDS.iter().any(|fluff| word.eq_ignore_ascii_case(fluff)));
    in_fluff_dir || fluff_word
}

#[cfg(test)]
mod tests {
    use super::*;
    use FilePriority::{High, Normal, Skip};

    const FILES: &[&str] = &[
        "Show/e01.mkv",
        "Show/Season 1/e02.mkv",
        "Show/Sample/e01-sample.mkv",
        "Show/info.nfo",
        "Show/extras/behind.mkv",
        "Show/Season 1/Screens/shot1.jpg",
        "Show/movie-sample.mkv",
        "Show/Sampler.mkv",
    ];

    fn eval(rules: &SelectionRules) -> Vec<FilePriority> {
        rules.compile().expect("valid rules").evaluate(FILES).expect("valid indices")
    }

    #[test]
    fn the_most_priorities_fit_a_small_body_and_one_more_is_refused() {
        let over = |index: u32| PriorityOverride { index: u32::MAX - index, priority: Normal };
        let mut rules = SelectionRules {
            priorities: (0..MAX_PRIORITY_OVERRIDES as u32).map(over).collect(),
            ..SelectionRules::default()
        };
        let body = serde_json::to_vec(&rules).expect("serialises");
        assert!(body.len() < 1024 * 1024 - 64 * 1024, "{} bytes", body.len());
        assert!(rules.compile().is_ok());
        rules.priorities.push(over(0));
        let refused = rules.compile().err();
        assert!(matches!(refused, Some(SelectionError::TooMany { field: "priorities", .. })));
    }

    #[test]
    fn default_rules_want_everything() {
        assert!(SelectionRules::default().is_default());
        assert!(eval(&SelectionRules::default()).iter().all(|p| *p == Normal));
    }

    #[test]
    fn single_star_does_not_cross_slash_but_double_star_does() {
        let top = eval(&SelectionRules { include: vec!["*.mkv".into()], ..Default::default() });
        assert_eq!(top, [Normal, Skip, Skip, Skip, Skip, Skip, Normal, Normal]);
        let deep = eval(&SelectionRules { include: vec!["**/*.MKV".into()], ..Default::default() });
        assert_eq!(deep, [Normal, Normal, Normal, Skip, Normal, Skip, Normal, Normal]);
    }

    #[test]
    fn exclude_and_full_path_matching() {
        let rules = &SelectionRules {
            exclude: vec!["*.nfo".into(), "Show/Season 1/**".into()],
            ..Default::default()
        };
        assert_eq!(eval(rules), [Normal, Skip, Normal, Skip, Normal, Skip, Normal, Normal]);
    }

    #[test]
    fn skip_fluff_catches_folders_and_words_at_any_depth() {
        let rules = &SelectionRules { skip_fluff: true, ..Default::default() };
        assert_eq!(eval(rules), [Normal, Normal, Skip, Normal, Skip, Skip, Skip, Normal]);
        assert!(is_fluff("a/b/SAMPLES/x.mkv"));
        assert!(is_fluff("proof.jpg"));
        assert!(!is_fluff("Sampler.mkv"));
    }

    #[test]
    fn explicit_priorities_win() {
        let rules = &SelectionRules {
            skip_fluff: true,
            priorities: vec![
                PriorityOverride { index: 2, priority: High },
                PriorityOverride { index: 0, priority: Skip },
            ],
            ..Default::default()
        };
        let result = eval(rules);
        assert_eq!(result[0], Skip);
        assert_eq!(result[2], High);
    }

    #[test]
    fn errors_carry_json_pointers() {
        let bad_glob =
            SelectionRules { exclude: vec!["ok".into(), "a[".into()], ..Default::default() };
        let err = bad_glob.compile().expect_err("unclosed class");
        assert_eq!(err.pointer(), "/exclude/1");

        let empty = SelectionRules { include: vec![" ".into()], ..Default::default() };
        assert_eq!(empty.compile().expect_err("empty glob").pointer(), "/include/0");

        let too_many =
            SelectionRules { include: vec!["*".into(); MAX_GLOBS + 1], ..Default::default() };
        assert_eq!(too_many.compile().expect_err("too many").pointer(), "/include");

        let long =
            SelectionRules { include: vec!["a".repeat(MAX_GLOB_LEN + 1)], ..Default::default() };
        assert!(matches!(long.compile(), Err(SelectionError::InvalidGlob { .. })));

        let unknown = SelectionRules {
            priorities: vec![
                PriorityOverride { index: 1, priority: High },
                PriorityOverride { index: 99, priority: High },
            ],
            ..Default::default()
        };
        let err = unknown.compile().expect("compiles").evaluate(FILES).expect_err("index 99");
        assert_eq!(err.pointer(), "/priorities/1/index");
        assert!(err.to_string().contains("8 files"));
    }

    #[test]
    fn deserializes_and_refuses_unknown_fields() {
        let rules: SelectionRules = serde_json::from_str(
            r#"{"include":["**/*.mkv"],"priorities":[{"index":1,"priority":"high"}]}"#,
        )
        .expect("valid json");
        assert_eq!(rules.priorities[0].priority, High);
        assert!(serde_json::from_str::<SelectionRules>(r#"{"inclde":[]}"#).is_err());
    }
}
