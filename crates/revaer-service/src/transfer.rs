//! The session's rates and totals, and its global caps (stored in the
//! settings, so that they last and reach every daemon sharing the
//! database).

use std::sync::Arc;

use revaer_api_models::{TransferLimits, TransferStats};
use revaer_domain::TorrentSummary;
use revaer_domain::settings::Changeset;

use crate::{Caller, Result, Service, ServiceError};

impl Service {
    /// Rates and totals over every torrent, with the caps the engine
    /// enforces now.
    pub fn transfer(&self) -> TransferStats {
        let session = self.engine().settings();
        TransferStats {
            download_limit_bps: session.download_limit.get(),
            upload_limit_bps: session.upload_limit.get(),
            ..totals(&self.engine().list())
        }
    }

    /// Stores new global caps (recorded in the history under the caller and
    /// `reason`); answers the stats with the caps as stored (the engine
    /// applies them when the watcher delivers the revision).
    pub async fn set_transfer_limits(
        &self,
        caller: &Caller,
        limits: &TransferLimits,
        reason: &str,
    ) -> Result<TransferStats> {
        limits.validate().map_err(ServiceError::Invalid)?;
        let changeset = Changeset(limits.changeset());
        let snapshot = self.change_settings(caller, &changeset, reason, None).await?;
        let profile = &snapshot.settings.engine_profile;
        Ok(TransferStats {
            download_limit_bps: profile.download_limit_bps,
            upload_limit_bps: profile.upload_limit_bps,
            ..totals(&self.engine().list())
        })
    }
}

/// Rates and totals summed over `torrents` (caps left unset); the metrics
/// read the same figures.
pub fn totals(torrents: &[Arc<TorrentSummary>]) -> TransferStats {
    let sum = |field: fn(&TorrentSummary) -> u64| {
        torrents.iter().map(|t| field(t)).fold(0_u64, u64::saturating_add)
    };
    TransferStats {
        download_bps: sum(|t| t.download_bps),
        upload_bps: sum(|t| t.upload_bps),
        downloaded: sum(|t| t.downloaded),
        uploaded: sum(|t| t.uploaded),
        peers: u32::try_from(sum(|t| u64::from(t.peers))).unwrap_or(u32::MAX),
        torrents: u32::try_from(torrents.len()).unwrap_or(u32::MAX),
        download_limit_bps: None,
        upload_limit_bps: None,
    }
}
