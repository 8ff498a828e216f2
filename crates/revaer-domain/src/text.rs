//! Free text people give (labels, categories, tags, filters): one rule,
//! stated once for the code and once for the OpenAPI document, and tested
//! against each other for every character of the Basic Multilingual Plane.

/// 1 to `max` characters as given, none a control character (U+0000–U+001F,
/// U+007F–U+009F), and at least one that is not white space as JSON
/// Schema's (ECMAScript's) `\s` means it. Used trimmed.
pub fn is_text(value: &str, max: usize) -> bool {
    let count = value.chars().count();
    (1..=max).contains(&count)
        && !value.chars().any(char::is_control)
        && value.chars().any(|c| !is_blank(c))
}

/// White space as ECMAScript's `\s` (control characters aside, which text
/// never holds).
fn is_blank(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// [`is_text`] as a JSON Schema `pattern` (the length goes in
/// `minLength`/`maxLength`). Schema attributes that cannot name a constant
/// repeat it; the API's tests compare them with this.
pub const TEXT_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^ \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_and_the_pattern_agree_on_every_character() {
        let pattern = regex::Regex::new(TEXT_PATTERN).expect("the pattern compiles");
        for code in 0..=0xffff_u32 {
            let Some(c) = char::from_u32(code) else { continue };
            for text in [c.to_string(), format!("a{c}"), format!("{c}{c}")] {
                assert_eq!(is_text(&text, 8), pattern.is_match(&text), "U+{code:04X} in {text:?}");
            }
        }
        assert!(is_text("tv", 2) && !is_text("tvs", 2) && !is_text("", 2));
        assert!(!is_text(" \u{feff}", 8) && is_text(" x ", 8));
    }
}
