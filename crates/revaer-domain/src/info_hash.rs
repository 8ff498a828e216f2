//! The torrent identity.
//!
//! A torrent is identified everywhere (API paths, events, database keys) by
//! its info-hash: the v1 SHA-1 hash, or for a v2-only torrent the SHA-256
//! hash truncated to 20 bytes, exactly as libtorrent's `info_hash_t::get_best`
//! picks it. On the wire it is 40 lowercase hex digits.

use std::fmt;
use std::str::FromStr;

use data_encoding::{BASE32, HEXLOWER_PERMISSIVE};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 20-byte torrent identity (v1 info-hash or truncated v2 info-hash).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHash([u8; 20]);

/// Why a string is not an info-hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InfoHashError {
    /// The text has the wrong length for hex (40) or base32 (32).
    #[error("an info-hash is 40 hex digits (or 32 base32 characters), got {len} characters")]
    Length {
        /// Length of the rejected text, in characters.
        len: usize,
    },
    /// The text has the right length but is not valid hex or base32.
    #[error("an info-hash must be hex (0-9, a-f) or base32 (A-Z, 2-7)")]
    Alphabet,
}

impl InfoHash {
    /// Wraps raw bytes.
    pub const fn from_bytes(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Parses 40 hex digits (either case) or 32 base32 characters (the
    /// older magnet form).
    pub fn parse(text: &str) -> Result<Self, InfoHashError> {
        let decoded = match text.len() {
            40 => HEXLOWER_PERMISSIVE.decode(text.as_bytes()),
            32 => BASE32.decode(text.to_ascii_uppercase().as_bytes()),
            len => return Err(InfoHashError::Length { len }),
        };
        let bytes = decoded.map_err(|_| InfoHashError::Alphabet)?;
        let array: [u8; 20] = bytes.try_into().map_err(|_| InfoHashError::Alphabet)?;
        Ok(Self(array))
    }

    /// The 40-digit lowercase hex form.
    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }
}

impl FromStr for InfoHash {
    type Err = InfoHashError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InfoHash({})", self.to_hex())
    }
}

impl Serialize for InfoHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for InfoHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for InfoHash {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9a-f]{40}$"))
            .description(Some("The torrent's info-hash: 40 lower-case hex digits."))
            .examples(["0123456789abcdef0123456789abcdef01234567"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for InfoHash {}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

    #[test]
    fn hex_round_trips_and_lowercases() {
        let id = InfoHash::parse(&HEX.to_ascii_uppercase()).expect("valid hex");
        assert_eq!(id.to_string(), HEX);
        assert_eq!(id.to_hex().parse::<InfoHash>(), Ok(id));
    }

    #[test]
    fn base32_decodes_to_the_same_bytes_as_hex() {
        let id = InfoHash::parse(HEX).expect("valid hex");
        let b32 = BASE32.encode(id.as_bytes());
        assert_eq!(b32.len(), 32);
        assert_eq!(InfoHash::parse(&b32.to_ascii_lowercase()), Ok(id));
    }

    #[test]
    fn wrong_length_and_alphabet_are_typed_errors() {
        assert_eq!(InfoHash::parse("abc"), Err(InfoHashError::Length { len: 3 }));
        let bad = "z".repeat(40);
        assert_eq!(InfoHash::parse(&bad), Err(InfoHashError::Alphabet));
        let bad32 = "1".repeat(32);
        assert_eq!(InfoHash::parse(&bad32), Err(InfoHashError::Alphabet));
    }

    #[test]
    fn serde_uses_the_hex_string() {
        let id = InfoHash::parse(HEX).expect("valid hex");
        let json = serde_json::to_string(&id).expect("serialize");
        assert_eq!(json, format!("\"{HEX}\""));
        let back: InfoHash = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, id);
        assert!(serde_json::from_str::<InfoHash>("\"nope\"").is_err());
    }
}
