//! Opaque list cursors: where the previous page ended, in the order and
//! under the filters it was asked for, as URL-safe base64 of a small JSON
//! document. A cursor used with another sort or other filters is refused.

use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};

/// Longest cursor accepted, in characters.
pub const MAX_CURSOR_LEN: usize = 512;

/// The sort value of the last item of a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CursorKey {
    /// A whole number (times in milliseconds, sizes).
    Int(i64),
    /// A fraction (progress, ratio).
    Float(f64),
    /// Text (names, lower-cased).
    Text(String),
}

/// Where a page ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The last item's sort value.
    #[serde(rename = "k")]
    pub key: CursorKey,
    /// The last item's id (ties are broken by id).
    #[serde(rename = "i")]
    pub id: String,
    /// A fingerprint of the sort and filters it was issued for.
    #[serde(rename = "f")]
    pub fingerprint: u64,
}

/// Why a cursor is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not a cursor this server issued.
    #[error("is not a valid cursor")]
    Malformed,
    /// Issued for another sort or other filters.
    #[error("was issued for another sort or other filters; start again without it")]
    Mismatch,
}

impl Cursor {
    /// The opaque text form.
    pub fn encode(&self) -> String {
        BASE64URL_NOPAD.encode(serde_json::to_vec(self).unwrap_or_default().as_slice())
    }

    /// Parses a cursor issued for `fingerprint`.
    pub fn decode(text: &str, fingerprint: u64) -> Result<Self, CursorError> {
        if text.is_empty() || text.len() > MAX_CURSOR_LEN {
            return Err(CursorError::Malformed);
        }
        let bytes = BASE64URL_NOPAD.decode(text.as_bytes()).map_err(|_| CursorError::Malformed)?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|_| CursorError::Malformed)?;
        if cursor.fingerprint == fingerprint { Ok(cursor) } else { Err(CursorError::Mismatch) }
    }
}

/// FNV-1a over the canonical text of a query: stable across processes and
/// versions (unlike `std`'s hasher).
pub fn fingerprint(canonical: &str) -> u64 {
    canonical.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_they_were_not_issued_for() {
        for key in [CursorKey::Int(-5), CursorKey::Float(0.25), CursorKey::Text("a b/c".into())] {
            let cursor = Cursor { key, id: "ab".repeat(20), fingerprint: 42 };
            let text = cursor.encode();
            assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert_eq!(Cursor::decode(&text, 42), Ok(cursor));
            assert_eq!(Cursor::decode(&text, 43), Err(CursorError::Mismatch));
        }
        for bad in ["", "!!!", "e30", &"A".repeat(MAX_CURSOR_LEN + 1)] {
            assert_eq!(Cursor::decode(bad, 42), Err(CursorError::Malformed), "{bad:.20}");
        }
        assert_ne!(fingerprint("sort=name"), fingerprint("sort=size"));
        assert_eq!(fingerprint(""), 0xcbf2_9ce4_8422_2325);
    }
}
