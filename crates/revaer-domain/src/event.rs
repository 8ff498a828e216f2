//! What the engine reports as it runs.
//!
//! The engine publishes these on a bounded broadcast channel; the daemon
//! stamps each with a bus id and timestamp and fans it out to SSE clients,
//! metrics and FsOps.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::file::FileEntry;
use crate::health::HealthStatus;
use crate::info_hash::InfoHash;
use crate::torrent::{TorrentLabels, TorrentState};

/// One engine event. Serialised with a `type` tag in snake_case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EngineEvent {
    /// A torrent was added (also on start-up, for each torrent restored
    /// from the resume directory, with `restored: true`).
    TorrentAdded {
        /// The torrent.
        torrent: InfoHash,
        /// Its name so far.
        name: String,
        /// Category and tags.
        #[serde(flatten)]
        labels: TorrentLabels,
        /// Whether it was restored from resume data rather than newly added.
        restored: bool,
    },
    /// A magnet's metadata arrived; the file list is now known.
    MetadataReceived {
        /// The torrent.
        torrent: InfoHash,
        /// The name from the metadata.
        name: String,
        /// The files, with the priorities the selection gave them.
        files: Vec<FileEntry>,
    },
    /// The lifecycle state changed.
    StateChanged {
        /// The torrent.
        torrent: InfoHash,
        /// Previous state.
        from: TorrentState,
        /// New state.
        to: TorrentState,
    },
    /// Transfer progress; at most 10 per second per torrent.
    Progress {
        /// The torrent.
        torrent: InfoHash,
        /// Fraction of wanted bytes present, 0.0 to 1.0.
        progress: f64,
        /// Wanted bytes present.
        bytes_done: u64,
        /// Wanted bytes in all.
        bytes_wanted: u64,
        /// Download rate, bytes/s.
        download_bps: u64,
        /// Upload rate, bytes/s.
        upload_bps: u64,
    },
    /// Every wanted byte is present. Sent once per completion.
    Completed {
        /// The torrent.
        torrent: InfoHash,
        /// Its name.
        name: String,
        /// The payload: the single file or the top-level folder.
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        content_path: PathBuf,
    },
    /// The torrent was removed.
    Removed {
        /// The torrent.
        torrent: InfoHash,
        /// Whether its data was deleted too.
        data_deleted: bool,
    },
    /// The torrent's files now live under a new save path.
    StorageMoved {
        /// The torrent.
        torrent: InfoHash,
        /// The new save path.
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        save_path: PathBuf,
    },
    /// A tracker announce failed.
    TrackerError {
        /// The torrent.
        torrent: InfoHash,
        /// The tracker's URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The torrent hit an error (disk full, file permissions, …).
    TorrentError {
        /// The torrent.
        torrent: InfoHash,
        /// What went wrong.
        message: String,
    },
    /// A torrent's resume data could not be used; it was re-added from its
    /// metainfo (or magnet) and will be rechecked.
    ResumeRejected {
        /// The torrent.
        torrent: InfoHash,
        /// Why the resume data was refused.
        reason: String,
    },
    /// The engine's own health changed.
    Health {
        /// New status.
        status: HealthStatus,
        /// Why, when not `ok`.
        reason: Option<String>,
    },
}

impl EngineEvent {
    /// The torrent this event is about, if any.
    pub fn torrent(&self) -> Option<InfoHash> {
        match self {
            Self::TorrentAdded { torrent, .. }
            | Self::MetadataReceived { torrent, .. }
            | Self::StateChanged { torrent, .. }
            | Self::Progress { torrent, .. }
            | Self::Completed { torrent, .. }
            | Self::Removed { torrent, .. }
            | Self::StorageMoved { torrent, .. }
            | Self::TrackerError { torrent, .. }
            | Self::TorrentError { torrent, .. }
            | Self::ResumeRejected { torrent, .. } => Some(*torrent),
            Self::Health { .. } => None,
        }
    }

    /// The `type` tag, as serialised.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::TorrentAdded { .. } => "torrent_added",
            Self::MetadataReceived { .. } => "metadata_received",
            Self::StateChanged { .. } => "state_changed",
            Self::Progress { .. } => "progress",
            Self::Completed { .. } => "completed",
            Self::Removed { .. } => "removed",
            Self::StorageMoved { .. } => "storage_moved",
            Self::TrackerError { .. } => "tracker_error",
            Self::TorrentError { .. } => "torrent_error",
            Self::ResumeRejected { .. } => "resume_rejected",
            Self::Health { .. } => "health",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_matches_serialised_tag() {
        let id = InfoHash::from_bytes([7; 20]);
        let events = [
            EngineEvent::Removed { torrent: id, data_deleted: true },
            EngineEvent::Health { status: HealthStatus::Degraded, reason: Some("x".into()) },
            EngineEvent::StateChanged {
                torrent: id,
                from: TorrentState::Checking,
                to: TorrentState::Seeding,
            },
        ];
        for event in events {
            let json = serde_json::to_value(&event).expect("serialize");
            assert_eq!(json["type"], event.kind());
            let back: EngineEvent = serde_json::from_value(json).expect("deserialize");
            assert_eq!(back, event);
        }
        assert_eq!(EngineEvent::Removed { torrent: id, data_deleted: false }.torrent(), Some(id));
        assert_eq!(EngineEvent::Health { status: HealthStatus::Ok, reason: None }.torrent(), None);
    }
}
