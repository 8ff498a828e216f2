//! What the engine reports as it runs.
//!
//! The engine publishes [`EngineEvent`]s on a bounded broadcast channel;
//! the service layer turns each into an [`Event`](super::Event) (the same
//! payload under the same name) and puts it on the event bus. Each payload
//! is one struct, shared by both enums, so the two cannot drift apart.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::file::FileEntry;
use crate::health::HealthStatus;
use crate::info_hash::InfoHash;
use crate::torrent::{TorrentLabels, TorrentState};

/// A torrent was added (also on start-up, for each torrent restored from
/// the resume directory, with `restored: true`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TorrentAdded {
    /// The torrent.
    pub torrent: InfoHash,
    /// Its name so far.
    pub name: String,
    /// Category and tags.
    #[serde(flatten)]
    pub labels: TorrentLabels,
    /// The folder its files live in.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub save_path: PathBuf,
    /// When it was first added (kept across restarts).
    pub added_at: Option<DateTime<Utc>>,
    /// Whether it was restored from resume data rather than newly added.
    pub restored: bool,
}

/// A magnet's metadata arrived; the file list is now known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetadataReceived {
    /// The torrent.
    pub torrent: InfoHash,
    /// The name from the metadata.
    pub name: String,
    /// The files, with the priorities the selection gave them.
    pub files: Vec<FileEntry>,
}

/// The lifecycle state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StateChanged {
    /// The torrent.
    pub torrent: InfoHash,
    /// Previous state.
    pub from: TorrentState,
    /// New state.
    pub to: TorrentState,
}

/// Transfer progress; at most 10 per second per torrent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    /// The torrent.
    pub torrent: InfoHash,
    /// Fraction of wanted bytes present, 0.0 to 1.0.
    pub progress: f64,
    /// Wanted bytes present.
    pub bytes_done: u64,
    /// Wanted bytes in all.
    pub bytes_wanted: u64,
    /// Download rate, bytes/s.
    pub download_bps: u64,
    /// Upload rate, bytes/s.
    pub upload_bps: u64,
    /// Seconds left at the current rate (`null` when done or stalled).
    pub eta_secs: Option<u64>,
}

/// Every wanted byte is present. Sent once per completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Completed {
    /// The torrent.
    pub torrent: InfoHash,
    /// Its name.
    pub name: String,
    /// The payload: the single file or the top-level folder.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub content_path: PathBuf,
}

/// The torrent was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Removed {
    /// The torrent.
    pub torrent: InfoHash,
    /// Whether its data was deleted too.
    pub data_deleted: bool,
}

/// The torrent's files now live under a new save path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StorageMoved {
    /// The torrent.
    pub torrent: InfoHash,
    /// The new save path.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub save_path: PathBuf,
}

/// A tracker announce failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackerError {
    /// The torrent.
    pub torrent: InfoHash,
    /// The tracker's URL.
    pub url: String,
    /// What went wrong.
    pub message: String,
}

/// A seeding torrent reached a share limit, and its action ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareLimitReached {
    /// The torrent.
    pub torrent: InfoHash,
    /// Which limit.
    pub limit: crate::share::ShareLimitKind,
    /// What was done.
    pub action: crate::share::ShareAction,
}

/// The torrent hit an error (disk full, file permissions, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TorrentError {
    /// The torrent.
    pub torrent: InfoHash,
    /// What went wrong.
    pub message: String,
}

/// A torrent's resume data could not be used; it was re-added from its
/// metainfo (or magnet) and will be rechecked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResumeRejected {
    /// The torrent.
    pub torrent: InfoHash,
    /// Why the resume data was refused.
    pub reason: String,
}

/// The engine's own health changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EngineHealthChanged {
    /// New status.
    pub status: HealthStatus,
    /// Why, when not `ok`.
    pub reason: Option<String>,
}

/// One engine event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EngineEvent {
    /// See [`TorrentAdded`].
    TorrentAdded(TorrentAdded),
    /// See [`MetadataReceived`].
    MetadataReceived(MetadataReceived),
    /// See [`StateChanged`].
    StateChanged(StateChanged),
    /// See [`Progress`].
    Progress(Progress),
    /// See [`Completed`].
    Completed(Completed),
    /// See [`Removed`].
    Removed(Removed),
    /// See [`StorageMoved`].
    StorageMoved(StorageMoved),
    /// See [`TrackerError`].
    TrackerError(TrackerError),
    /// See [`TorrentError`].
    TorrentError(TorrentError),
    /// See [`ShareLimitReached`].
    ShareLimitReached(ShareLimitReached),
    /// See [`ResumeRejected`].
    ResumeRejected(ResumeRejected),
    /// See [`EngineHealthChanged`].
    Health(EngineHealthChanged),
}

impl EngineEvent {
    /// The torrent this event is about, if any.
    pub fn torrent(&self) -> Option<InfoHash> {
        match self {
            Self::TorrentAdded(e) => Some(e.torrent),
            Self::MetadataReceived(e) => Some(e.torrent),
            Self::StateChanged(e) => Some(e.torrent),
            Self::Progress(e) => Some(e.torrent),
            Self::Completed(e) => Some(e.torrent),
            Self::Removed(e) => Some(e.torrent),
            Self::StorageMoved(e) => Some(e.torrent),
            Self::TrackerError(e) => Some(e.torrent),
            Self::TorrentError(e) => Some(e.torrent),
            Self::ShareLimitReached(e) => Some(e.torrent),
            Self::ResumeRejected(e) => Some(e.torrent),
            Self::Health(_) => None,
        }
    }
}
