//! Library templates: `{category}/{name}` and friends, rendered into a safe
//! relative path.
//!
//! Values come from the torrent (its name, tags) and may hold anything, so
//! each rendered path segment is sanitised: separators and control
//! characters become `_`, leading and trailing spaces and dots go, `.` and
//! `..` never survive, and every segment fits in 255 bytes. A template can
//! therefore never climb out of the library root, whatever the torrent is
//! called. (The template itself is validated when settings are saved.)

use revaer_domain::InfoHash;

use crate::error::{FsopsError, Result};

/// Longest rendered segment, in bytes: the 255 of common filesystems less
/// room for a collision suffix (` (100)`).
const MAX_SEGMENT: usize = 248;

/// What a template's placeholders stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateValues<'a> {
    /// The torrent's name.
    pub name: &'a str,
    /// Its category (`uncategorized` when it has none).
    pub category: Option<&'a str>,
    /// Its tags, joined with `,` in the order given.
    pub tags: &'a [String],
    /// Its id.
    pub id: InfoHash,
}

/// Renders `template` into a relative path of sanitised segments.
pub fn render(template: &str, values: &TemplateValues<'_>) -> Result<String> {
    let year = year_of(values.name).map(|year| year.to_string()).unwrap_or_default();
    let tags = values.tags.join(",");
    let id = values.id.to_hex();
    let mut segments = Vec::new();
    for raw in template.split('/') {
        let mut out = String::new();
        let mut rest = raw;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').ok_or_else(|| bad(template, "has an unclosed {"))?;
            let value = match &rest[open + 1..open + close] {
                "name" => values.name,
                "category" => values.category.unwrap_or("uncategorized"),
                "tags" => tags.as_str(),
                "year" => year.as_str(),
                "id" => id.as_str(),
                _ => return Err(bad(template, "has an unknown placeholder")),
            };
            // Placeholder values are data: a `/` inside one never splits a path.
            out.push_str(&value.replace(['/', '\\'], "_"));
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        let segment = sanitise_segment(&drop_empty_brackets(&out));
        if !segment.is_empty() {
            segments.push(segment);
        }
    }
    if segments.is_empty() {
        return Err(bad(template, "renders to an empty path"));
    }
    Ok(segments.join("/"))
}

fn bad(template: &str, reason: &'static str) -> FsopsError {
    FsopsError::UnsafeName { name: template.to_owned(), reason }
}

/// `Movie ()` → `Movie`: brackets left empty by a missing `{year}`.
fn drop_empty_brackets(text: &str) -> String {
    let mut out = text.to_owned();
    for pair in ["()", "[]", "{}"] {
        out = out.replace(pair, "");
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One path segment as a safe file name (empty when nothing usable is left).
pub fn sanitise_segment(text: &str) -> String {
    let replaced: String = text
        .chars()
        .map(|c| if c.is_control() || c == '/' || c == '\\' { '_' } else { c })
        .collect();
    let trimmed = replaced.trim_matches(|c: char| c == '.' || c.is_whitespace());
    let mut out = String::new();
    for c in trimmed.chars() {
        if out.len() + c.len_utf8() > MAX_SEGMENT {
            break;
        }
        out.push(c);
    }
    out.trim_end_matches(|c: char| c == '.' || c.is_whitespace()).to_owned()
}

/// A release year in a torrent name: a 4-digit token from 1900 to 2099,
/// the last one when there are several (`2001.A.Space.Odyssey.1968` → 1968).
pub fn year_of(name: &str) -> Option<u16> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .rev()
        .filter(|token| token.len() == 4)
        .filter_map(|token| token.parse::<u16>().ok())
        .find(|year| (1900..=2099).contains(year))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> InfoHash {
        InfoHash::parse("0123456789abcdef0123456789abcdef01234567").expect("valid")
    }

    fn values<'a>(
        name: &'a str,
        category: Option<&'a str>,
        tags: &'a [String],
    ) -> TemplateValues<'a> {
        TemplateValues { name, category, tags, id: id() }
    }

    #[test]
    fn placeholders_render() {
        let tags = vec!["hd".to_owned(), "fr".to_owned()];
        let v = values("Some.Movie.2019.1080p", Some("movies"), &tags);
        assert_eq!(
            render("{category}/{name} ({year})", &v).expect("ok"),
            "movies/Some.Movie.2019.1080p (2019)"
        );
        assert_eq!(render("{tags}/{id}", &v).expect("ok"), format!("hd,fr/{}", id().to_hex()));
        let none = values("Show S01", None, &[]);
        assert_eq!(
            render("{category}/{name} ({year})", &none).expect("ok"),
            "uncategorized/Show S01"
        );
    }

    #[test]
    fn hostile_names_cannot_escape() {
        for name in ["../../etc", "..", "/etc/passwd", "a/../../b", "\u{0}x\u{7}", "...", " . "] {
            // Either refused or safe; never a path that climbs.
            let Ok(rendered) = render("{category}/{name}", &values(name, Some(".."), &[])) else {
                continue;
            };
            assert!(
                !rendered.split('/').any(|s| s == ".." || s == "." || s.is_empty()),
                "{name:?} rendered {rendered:?}"
            );
            assert!(!rendered.starts_with('/'));
        }
        assert_eq!(render("{name}", &values("a/b\\c", None, &[])).expect("ok"), "a_b_c");
        assert!(render("{name}", &values("..", None, &[])).is_err(), "nothing usable is left");
    }

    #[test]
    fn long_segments_are_cut_on_a_char_boundary() {
        let name = "é".repeat(300);
        let rendered = render("{name}", &values(&name, None, &[])).expect("ok");
        assert!(rendered.len() <= MAX_SEGMENT);
        assert!(rendered.chars().all(|c| c == 'é'));
    }

    #[test]
    fn years_are_found() {
        assert_eq!(year_of("2001.A.Space.Odyssey.1968.720p"), Some(1968));
        assert_eq!(year_of("Movie (1999) [1080p]"), Some(1999));
        assert_eq!(year_of("Show.S01E02.x264"), None);
        assert_eq!(year_of("Track 3000"), None);
    }
}
