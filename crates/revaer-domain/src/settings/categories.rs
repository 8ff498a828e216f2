//! `categories`: per-category save paths, library templates and overrides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Check, TransferMode, Violation};

/// Placeholders a library template may use.
pub const TEMPLATE_PLACEHOLDERS: [&str; 5] = ["name", "category", "tags", "year", "id"];

/// Categories by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Categories(pub BTreeMap<String, Category>);

/// One category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Category {
    /// Where its torrents download (default: the engine's download root).
    pub save_path: Option<String>,
    /// Where completed torrents land under the library root; placeholders
    /// `{name}`, `{category}`, `{tags}`, `{year}`, `{id}`.
    pub library_path: String,
    /// Post-processing overrides for this category.
    pub overrides: FsOverrides,
    /// Share limits for its torrents (`inherit`: the global ones).
    pub share_limits: crate::share::ShareLimits,
}

impl Default for Category {
    fn default() -> Self {
        Self {
            save_path: None,
            library_path: "{category}/{name}".to_owned(),
            overrides: FsOverrides::default(),
            share_limits: crate::share::ShareLimits::default(),
        }
    }
}

/// Fields of `fs_policy` a category may override.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct FsOverrides {
    /// Transfer mode for this category.
    pub transfer_mode: Option<TransferMode>,
    /// Extract archives or not.
    pub extract: Option<bool>,
    /// Flatten or not.
    pub flatten: Option<bool>,
    /// Record checksums or not.
    pub checksum: Option<bool>,
    /// Drop globs for this category (replacing the policy's).
    pub cleanup_drop: Option<Vec<String>>,
}

/// Why a library template is unusable, if it is.
fn template_problem(template: &str) -> Option<String> {
    if template.trim().is_empty() || template.len() > 1024 {
        return Some("must be 1 to 1024 bytes".to_owned());
    }
    if template.chars().any(char::is_control) {
        return Some("must not contain control characters".to_owned());
    }
    if template.starts_with('/') || template.split('/').any(|part| part == "..") {
        return Some("must stay inside the library root (no leading / and no ..)".to_owned());
    }
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Some("has an unclosed {".to_owned());
        };
        let name = &rest[open + 1..open + close];
        if !TEMPLATE_PLACEHOLDERS.contains(&name) {
            return Some(format!(
                "unknown placeholder {{{name}}}; use {}",
                TEMPLATE_PLACEHOLDERS.join(", ")
            ));
        }
        rest = &rest[open + close + 1..];
    }
    rest.contains('}').then(|| "has a } without {".to_owned())
}

impl Categories {
    /// Every violation, with pointers under `/categories`.
    pub fn validate(&self) -> Vec<Violation> {
        let mut check = Check::new("/categories");
        check.require(self.0.len() <= 256, "", "at most 256 categories");
        for (name, category) in &self.0 {
            let base = format!("/{}", escape_pointer(name));
            // Names end up in paths through `{category}`: nothing that could
            // climb out of the library or split a path.
            let valid_name = !name.trim().is_empty()
                && name.len() <= 128
                && name != "."
                && name != ".."
                && !name.chars().any(|c| c.is_control() || c == '/' || c == '\\');
            check.require(
                valid_name,
                &base,
                "category names are 1 to 128 characters, not . or .., without / \\ or control characters",
            );
            if let Some(path) = &category.save_path {
                check.path(path, &format!("{base}/save_path"));
            }
            let problem = template_problem(&category.library_path);
            check.require(
                problem.is_none(),
                &format!("{base}/library_path"),
                problem.unwrap_or_default(),
            );
            check
                .extend(category.share_limits.validate(&format!("/categories{base}/share_limits")));
            if let Some(drop) = &category.overrides.cleanup_drop {
                check.globs(drop, &format!("{base}/overrides/cleanup_drop"), true);
            }
        }
        check.finish()
    }
}

/// Escapes a JSON Pointer reference token (RFC 6901).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_names_are_checked() {
        assert_eq!(template_problem("{category}/{name} ({year})"), None);
        assert!(template_problem("/abs").is_some());
        assert!(template_problem("a/../b").is_some());
        assert!(template_problem("{nme}").is_some_and(|p| p.contains("unknown placeholder")));
        assert!(template_problem("{name").is_some());
        assert!(template_problem("name}").is_some());
        let categories = Categories(BTreeMap::from([
            (
                "tv/hd".to_owned(),
                Category { library_path: "{bogus}".into(), ..Category::default() },
            ),
            ("ok".to_owned(), Category::default()),
        ]));
        let pointers = categories.validate().into_iter().map(|v| v.pointer).collect::<Vec<_>>();
        assert_eq!(pointers, ["/categories/tv~1hd", "/categories/tv~1hd/library_path"]);
        for bad in ["..", ".", "a\\b", "x\ty"] {
            let one = Categories(BTreeMap::from([(bad.to_owned(), Category::default())]));
            assert_eq!(one.validate().len(), 1, "{bad:?}");
        }
        assert!(template_problem("a\0b").is_some());
    }
}
