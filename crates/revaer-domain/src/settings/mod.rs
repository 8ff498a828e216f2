//! Settings documents: typed, defaulted, validated, and changed only through
//! changesets.
//!
//! There are four documents, each a struct with defaults that make a fresh
//! install work under the data directory (relative paths are resolved
//! against it by the daemon):
//! - [`AppProfile`] (`app_profile`): instance name, mode, HTTP bind, telemetry,
//!   feature flags and the immutable keys;
//! - [`EngineProfile`] (`engine_profile`): the BitTorrent session;
//! - [`FsPolicy`] (`fs_policy`): how FsOps post-processes completed torrents;
//! - [`Categories`] (`categories`): per-category save paths, library templates
//!   and FsOps overrides.
//!
//! A [`Changeset`] is a JSON object keyed by document, each value a JSON Merge
//! Patch (RFC 7396) of that document: only the fields to change, `null` to
//! reset a field to its default (or delete a category). [`Settings::apply`]
//! validates every section together and reports every violation with a JSON
//! Pointer into the changeset.

mod app;
mod categories;
mod changeset;
mod engine;
mod fs;

pub use app::{AppMode, AppProfile};
pub use categories::{Categories, Category, FsOverrides, escape_pointer};
pub use changeset::{Applied, Changeset, ChangesetError, Violation};
pub use engine::{Encryption, EngineProfile};
pub use fs::{FsPolicy, TransferMode};

use serde::{Deserialize, Serialize};

/// Largest serialised settings accepted, in bytes.
pub const MAX_SETTINGS_BYTES: usize = 1024 * 1024;

/// The names of the settings documents, in a stable order.
pub const DOCUMENTS: [&str; 4] = ["app_profile", "engine_profile", "fs_policy", "categories"];

/// Every settings document, as one value.
///
/// Reading is lenient (fields this version does not know are ignored, so
/// instances of different versions can share a database); changesets are
/// strict (an unknown field is a violation with its pointer).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// The application profile.
    #[serde(default)]
    pub app_profile: AppProfile,
    /// The BitTorrent session profile.
    #[serde(default)]
    pub engine_profile: EngineProfile,
    /// The post-processing policy.
    #[serde(default)]
    pub fs_policy: FsPolicy,
    /// Categories by name.
    #[serde(default)]
    pub categories: Categories,
}

/// Settings at one revision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsSnapshot {
    /// The revision that produced these settings (0 for the defaults).
    pub revision: i64,
    /// The settings.
    #[serde(flatten)]
    pub settings: Settings,
}

/// Validation shared by the documents: collects violations with pointers.
#[derive(Debug, Default)]
pub(crate) struct Check {
    prefix: String,
    violations: Vec<Violation>,
}

impl Check {
    pub(crate) fn new(prefix: &str) -> Self {
        Self { prefix: prefix.to_owned(), violations: Vec::new() }
    }

    /// Records a violation at `pointer` (relative to the document) unless
    /// `ok`.
    pub(crate) fn require(&mut self, ok: bool, pointer: &str, message: impl Into<String>) {
        if !ok {
            self.violations.push(Violation {
                pointer: format!("{}{pointer}", self.prefix),
                message: message.into(),
            });
        }
    }

    pub(crate) fn path(&mut self, value: &str, pointer: &str) {
        self.require(!value.trim().is_empty(), pointer, "must not be empty");
        self.require(!value.contains('\0'), pointer, "must not contain NUL");
        self.require(value.len() <= 4096, pointer, "must be at most 4096 bytes");
        self.require(!is_filesystem_root(value), pointer, "must not be the filesystem root");
    }

    pub(crate) fn globs(&mut self, globs: &[String], pointer: &str, allow_fluff: bool) {
        self.require(globs.len() <= 256, pointer, "at most 256 patterns");
        for (index, glob) in globs.iter().enumerate() {
            if allow_fluff && glob == "@fluff" {
                continue;
            }
            let parsed = globset::GlobBuilder::new(glob).literal_separator(true).build();
            self.require(
                parsed.is_ok() && !glob.trim().is_empty() && glob.len() <= 1024,
                &format!("{pointer}/{index}"),
                "is not a valid glob pattern",
            );
        }
    }

    /// A permission mode: octal, three or four digits, no setuid, setgid
    /// or sticky bit.
    pub(crate) fn mode(&mut self, value: Option<&str>, pointer: &str) {
        if let Some(text) = value {
            let parsed = u32::from_str_radix(text, 8).ok();
            let valid = (3..=4).contains(&text.len()) && parsed.is_some_and(|mode| mode <= 0o7777);
            self.require(valid, pointer, "must be an octal mode like \"0644\"");
            if valid {
                self.require(
                    parsed.is_some_and(|mode| mode <= 0o777),
                    pointer,
                    "permission bits only: no setuid, setgid or sticky bit",
                );
            }
        }
    }

    pub(crate) fn octal(&mut self, value: Option<&str>, pointer: &str, max: u32) {
        if let Some(text) = value {
            let parsed = u32::from_str_radix(text, 8).ok().filter(|mode| *mode <= max);
            let valid = parsed.is_some() && (3..=4).contains(&text.len());
            self.require(
                valid,
                pointer,
                format!("must be an octal mode up to {max:o}, like \"0644\""),
            );
        }
    }

    /// Adds violations found by another type's own check.
    pub(crate) fn extend(&mut self, violations: Vec<Violation>) {
        self.violations.extend(violations);
    }

    pub(crate) fn finish(self) -> Vec<Violation> {
        self.violations
    }
}

impl Settings {
    /// Every violation of every document's rules.
    pub fn validate(&self) -> Vec<Violation> {
        let size = serde_json::to_vec(self).map_or(usize::MAX, |bytes| bytes.len());
        if size > MAX_SETTINGS_BYTES {
            return vec![Violation {
                pointer: String::new(),
                message: format!(
                    "settings may take at most {MAX_SETTINGS_BYTES} bytes, these take {size}"
                ),
            }];
        }
        let mut violations = self.app_profile.validate();
        violations.extend(self.engine_profile.validate());
        violations.extend(self.fs_policy.validate());
        violations.extend(self.categories.validate());
        violations
    }

    /// One document as JSON, by name.
    pub fn document(&self, name: &str) -> Option<serde_json::Value> {
        let value = match name {
            "app_profile" => serde_json::to_value(&self.app_profile),
            "engine_profile" => serde_json::to_value(&self.engine_profile),
            "fs_policy" => serde_json::to_value(&self.fs_policy),
            "categories" => serde_json::to_value(&self.categories),
            _ => return None,
        };
        value.ok()
    }
}

/// Whether `path` names the filesystem root (`/`, `//`, `/.`, `/./`…).
pub fn is_filesystem_root(path: &str) -> bool {
    let path = std::path::Path::new(path.trim());
    path.has_root()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::RootDir | std::path::Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let settings = Settings::default();
        assert_eq!(settings.validate(), Vec::new());
        let json = serde_json::to_value(&settings).expect("json");
        let back: Settings = serde_json::from_value(json).expect("back");
        assert_eq!(back, settings);
        for name in DOCUMENTS {
            assert!(settings.document(name).is_some(), "{name}");
        }
        assert!(settings.document("nope").is_none());
    }
}
