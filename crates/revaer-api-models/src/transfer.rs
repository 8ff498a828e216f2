//! `/v1/transfer`: the session's rates, totals and global caps.

use serde::{Deserialize, Serialize};

use crate::InvalidParam;
use crate::torrent::present;

/// Largest cap, in bytes/s (libtorrent keeps rates in an `i32`).
pub const MAX_CAP_BPS: u64 = i32::MAX as u64;

/// `GET /v1/transfer`: what the whole session moves now, and its caps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferStats {
    /// Download rate, bytes/s, over every torrent.
    pub download_bps: u64,
    /// Upload rate, bytes/s.
    pub upload_bps: u64,
    /// Payload downloaded by the torrents now in the session, bytes.
    pub downloaded: u64,
    /// Payload uploaded by them, bytes.
    pub uploaded: u64,
    /// Connected peers.
    pub peers: u32,
    /// Torrents in the session.
    pub torrents: u32,
    /// Session download cap, bytes/s (`null`: unlimited).
    pub download_limit_bps: Option<u64>,
    /// Session upload cap, bytes/s (`null`: unlimited).
    pub upload_limit_bps: Option<u64>,
}

/// `POST /v1/transfer/limits`: new global caps, stored in the settings
/// (so they last and reach every daemon sharing the database). An absent
/// field keeps its cap; `null` or 0 lifts it; give at least one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[allow(clippy::option_option, reason = "an absent cap and a null cap mean different things")]
pub struct TransferLimits {
    /// Download cap, bytes/s (at most 2 147 483 647).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u64>, maximum = 2_147_483_647))]
    pub download_bps: Option<Option<u64>>,
    /// Upload cap, bytes/s (at most 2 147 483 647).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u64>, maximum = 2_147_483_647))]
    pub upload_bps: Option<Option<u64>>,
}

impl TransferLimits {
    /// Checks the caps; every problem with its pointer.
    pub fn validate(&self) -> Result<(), Vec<InvalidParam>> {
        if self.download_bps.is_none() && self.upload_bps.is_none() {
            return Err(vec![InvalidParam::new(
                "/download_bps",
                "give download_bps, upload_bps or both",
            )]);
        }
        let errors = crate::torrent::check_caps(&[
            ("/download_bps", self.download_bps.flatten()),
            ("/upload_bps", self.upload_bps.flatten()),
        ]);
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// The settings changeset that applies these caps (0 becomes `null`).
    pub fn changeset(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut profile = serde_json::Map::new();
        for (field, cap) in
            [("download_limit_bps", self.download_bps), ("upload_limit_bps", self.upload_bps)]
        {
            if let Some(cap) = cap {
                profile.insert(field.to_owned(), cap.filter(|bps| *bps > 0).into());
            }
        }
        let mut changeset = serde_json::Map::new();
        changeset.insert("engine_profile".to_owned(), profile.into());
        changeset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_tell_absent_from_null_and_are_bounded() {
        let limits: TransferLimits =
            serde_json::from_str(r#"{"download_bps": null, "upload_bps": 0}"#).expect("parse");
        assert_eq!(limits, TransferLimits { download_bps: Some(None), upload_bps: Some(Some(0)) });
        assert!(limits.validate().is_ok());
        assert_eq!(
            serde_json::Value::from(limits.changeset()),
            serde_json::json!({"engine_profile": {"download_limit_bps": null, "upload_limit_bps": null}})
        );
        let one: TransferLimits = serde_json::from_str(r#"{"upload_bps": 1000}"#).expect("parse");
        assert_eq!(
            serde_json::Value::from(one.changeset()),
            serde_json::json!({"engine_profile": {"upload_limit_bps": 1000}})
        );
        let empty = TransferLimits::default();
        assert_eq!(empty.validate().expect_err("nothing")[0].pointer, "/download_bps");
        let huge =
            TransferLimits { upload_bps: Some(Some(MAX_CAP_BPS + 1)), ..TransferLimits::default() };
        assert_eq!(huge.validate().expect_err("too big")[0].pointer, "/upload_bps");
        assert!(serde_json::from_str::<TransferLimits>(r#"{"down": 1}"#).is_err());
    }
}
