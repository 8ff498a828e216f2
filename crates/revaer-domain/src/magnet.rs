//! Validated magnet URIs.
//!
//! Revaer checks a magnet before it reaches libtorrent so that a bad one is a
//! typed error with a reason, not whatever the C++ parser says. Accepted exact
//! topics (`xt`) are `urn:btih:` with 40 hex digits or 32 base32 characters
//! (BitTorrent v1) and `urn:btmh:1220` with 64 hex digits (a SHA-256
//! multihash, BitTorrent v2). A hybrid magnet may carry both.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::info_hash::{InfoHash, InfoHashError};

/// Longest magnet URI accepted, in bytes. Real magnets with a dozen trackers
/// stay under 2 KiB; the cap bounds parsing work on hostile input.
pub const MAX_MAGNET_LEN: usize = 16 * 1024;

/// A magnet URI that names at least one valid BitTorrent info-hash.
#[derive(Clone, PartialEq, Eq)]
pub struct MagnetUri {
    uri: String,
    v1: Option<InfoHash>,
    v2: Option<[u8; 32]>,
    display_name: Option<String>,
    trackers: Vec<String>,
}

/// Why a string is not an acceptable magnet URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MagnetError {
    /// Longer than [`MAX_MAGNET_LEN`].
    #[error("a magnet URI may be at most {max} bytes, got {len}")]
    TooLong {
        /// Length of the rejected URI.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Does not start with `magnet:?`.
    #[error("a magnet URI starts with `magnet:?`")]
    Scheme,
    /// No `xt=urn:btih:` or `xt=urn:btmh:` parameter.
    #[error("a magnet URI needs an `xt=urn:btih:…` or `xt=urn:btmh:…` parameter")]
    MissingTopic,
    /// A `urn:btih:` topic whose hash is malformed.
    #[error("invalid `urn:btih:` info-hash: {source}")]
    InvalidV1 {
        /// What was wrong with the hash.
        source: InfoHashError,
    },
    /// A `urn:btmh:` topic that is not a 64-digit SHA-256 multihash.
    #[error("invalid `urn:btmh:` hash: expected `1220` followed by 64 hex digits")]
    InvalidV2,
    /// The hash is all zeros (no torrent has it; libtorrent reads it as
    /// missing).
    #[error("the info-hash is all zeros")]
    ZeroHash,
}

impl MagnetUri {
    /// Parses and validates a magnet URI.
    pub fn parse(uri: &str) -> Result<Self, MagnetError> {
        let uri = uri.trim();
        if uri.len() > MAX_MAGNET_LEN {
            return Err(MagnetError::TooLong { len: uri.len(), max: MAX_MAGNET_LEN });
        }
        let query = uri
            .get(..8)
            .filter(|scheme| scheme.eq_ignore_ascii_case("magnet:?"))
            .and_then(|_| uri.get(8..))
            .ok_or(MagnetError::Scheme)?;
        let mut magnet = Self {
            uri: uri.to_owned(),
            v1: None,
            v2: None,
            display_name: None,
            trackers: Vec::new(),
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "xt" => magnet.read_topic(&value)?,
                "dn" => magnet.display_name = Some(value.into_owned()),
                "tr" => magnet.trackers.push(value.into_owned()),
                _ => {}
            }
        }
        if magnet.v1.is_none() && magnet.v2.is_none() {
            return Err(MagnetError::MissingTopic);
        }
        Ok(magnet)
    }

    fn read_topic(&mut self, topic: &str) -> Result<(), MagnetError> {
        let lower = topic.to_ascii_lowercase();
        if let Some(hash) = lower.strip_prefix("urn:btih:") {
            // Base32 is case-insensitive, so the lowercased text is fine.
            let id = InfoHash::parse(hash).map_err(|source| MagnetError::InvalidV1 { source })?;
            // libtorrent treats an all-zero hash as "no hash".
            if id.as_bytes().iter().all(|b| *b == 0) {
                return Err(MagnetError::ZeroHash);
            }
            self.v1 = Some(id);
        } else if let Some(multihash) = lower.strip_prefix("urn:btmh:") {
            let digest = multihash.strip_prefix("1220").ok_or(MagnetError::InvalidV2)?;
            let bytes = data_encoding::HEXLOWER
                .decode(digest.as_bytes())
                .map_err(|_| MagnetError::InvalidV2)?;
            let digest: [u8; 32] = bytes.try_into().map_err(|_| MagnetError::InvalidV2)?;
            if digest.iter().all(|b| *b == 0) {
                return Err(MagnetError::ZeroHash);
            }
            self.v2 = Some(digest);
        }
        Ok(())
    }

    /// The torrent identity: the v1 hash when present, else the v2 hash
    /// truncated to 20 bytes.
    pub fn info_hash(&self) -> InfoHash {
        match (self.v1, self.v2) {
            (Some(v1), _) => v1,
            (None, Some(v2)) => {
                let mut truncated = [0_u8; 20];
                truncated.copy_from_slice(&v2[..20]);
                InfoHash::from_bytes(truncated)
            }
            // `parse` refuses magnets with neither.
            (None, None) => InfoHash::from_bytes([0; 20]),
        }
    }

    /// The display name (`dn`), if any.
    pub fn display_name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }

    /// Tracker URLs (`tr`), in order.
    pub fn trackers(&self) -> &[String] {
        &self.trackers
    }

    /// The URI as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.uri
    }
}

impl fmt::Debug for MagnetUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MagnetUri").field(&self.uri).finish()
    }
}

impl fmt::Display for MagnetUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)
    }
}

impl Serialize for MagnetUri {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.uri)
    }
}

impl<'de> Deserialize<'de> for MagnetUri {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
    const V2: &str = "d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb";

    #[test]
    fn v1_hex_magnet_with_name_and_trackers() {
        let uri = format!("magnet:?xt=urn:btih:{V1}&dn=My+Show&tr=http%3A%2F%2Ft%2Fa&tr=udp://u:1");
        let magnet = MagnetUri::parse(&uri).expect("valid");
        assert_eq!(magnet.info_hash().to_hex(), V1);
        assert_eq!(magnet.display_name(), Some("My Show"));
        assert_eq!(magnet.trackers(), ["http://t/a", "udp://u:1"]);
    }

    #[test]
    fn v1_base32_and_uppercase_scheme() {
        let id = InfoHash::parse(V1).expect("hex");
        let b32 = data_encoding::BASE32.encode(id.as_bytes());
        let magnet = MagnetUri::parse(&format!("MAGNET:?xt=urn:btih:{b32}")).expect("valid");
        assert_eq!(magnet.info_hash(), id);
    }

    #[test]
    fn v2_only_magnet_uses_truncated_hash() {
        let magnet = MagnetUri::parse(&format!("magnet:?xt=urn:btmh:1220{V2}")).expect("valid");
        assert_eq!(magnet.info_hash().to_hex(), &V2[..40]);
    }

    #[test]
    fn hybrid_magnet_prefers_v1() {
        let uri = format!("magnet:?xt=urn:btih:{V1}&xt=urn:btmh:1220{V2}");
        assert_eq!(MagnetUri::parse(&uri).expect("valid").info_hash().to_hex(), V1);
    }

    #[test]
    fn rejects_bad_magnets_with_reasons() {
        assert_eq!(MagnetUri::parse("http://x"), Err(MagnetError::Scheme));
        assert_eq!(MagnetUri::parse("magnet:?dn=x"), Err(MagnetError::MissingTopic));
        assert!(matches!(
            MagnetUri::parse("magnet:?xt=urn:btih:1234"),
            Err(MagnetError::InvalidV1 { .. })
        ));
        assert_eq!(
            MagnetUri::parse(&format!("magnet:?xt=urn:btmh:1120{V2}")),
            Err(MagnetError::InvalidV2)
        );
        assert_eq!(MagnetUri::parse("magnet:?xt=urn:btmh:1220abc"), Err(MagnetError::InvalidV2));
        let long = format!("magnet:?xt=urn:btih:{V1}&dn={}", "a".repeat(MAX_MAGNET_LEN));
        assert!(matches!(MagnetUri::parse(&long), Err(MagnetError::TooLong { .. })));
        // Multi-byte text at the scheme boundary must not panic.
        assert_eq!(MagnetUri::parse("magnet:é?xt"), Err(MagnetError::Scheme));
        let zeros = format!("magnet:?xt=urn:btih:{}", "0".repeat(40));
        assert_eq!(MagnetUri::parse(&zeros), Err(MagnetError::ZeroHash));
        let zeros = format!("magnet:?xt=urn:btmh:1220{}", "0".repeat(64));
        assert_eq!(MagnetUri::parse(&zeros), Err(MagnetError::ZeroHash));
    }
}
