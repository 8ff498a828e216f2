//! What FsOps reports as jobs run: a job started, each step's outcome, and
//! how the job ended. The orchestrator publishes [`FsopsEvent`]s; the
//! service layer puts each on the event bus as an [`Event`](super::Event).
//!
//! Every payload carries the trace id of the request that added the
//! torrent, so that the bus can stamp the event with it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fsops::{Step, StepOutcome};
use crate::info_hash::InfoHash;

/// A job began (or resumed) on this instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FsopsStarted {
    /// The torrent.
    pub torrent: InfoHash,
    /// The job's id.
    pub job: i64,
    /// The attempt (1 for the first).
    pub attempt: u32,
    /// The trace id of the request that added the torrent.
    pub trace_id: Option<String>,
}

/// One step attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FsopsStep {
    /// The torrent.
    pub torrent: InfoHash,
    /// The job's id.
    pub job: i64,
    /// The step.
    pub step: Step,
    /// How it ended.
    pub outcome: StepOutcome,
    /// What it did or why it failed.
    pub detail: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// The trace id of the request that added the torrent.
    pub trace_id: Option<String>,
}

/// The job finished; the entry is in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FsopsCompleted {
    /// The torrent.
    pub torrent: InfoHash,
    /// The job's id.
    pub job: i64,
    /// Where the entry is.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub destination: PathBuf,
    /// The trace id of the request that added the torrent.
    pub trace_id: Option<String>,
}

/// The job failed; it is retried at `retry_at`, or never when that is
/// absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FsopsFailed {
    /// The torrent.
    pub torrent: InfoHash,
    /// The job's id.
    pub job: i64,
    /// What went wrong.
    pub error: String,
    /// When it is tried again (absent: failed for good).
    pub retry_at: Option<DateTime<Utc>>,
    /// The trace id of the request that added the torrent.
    pub trace_id: Option<String>,
}

/// One FsOps event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsopsEvent {
    /// See [`FsopsStarted`].
    Started(FsopsStarted),
    /// See [`FsopsStep`].
    Step(FsopsStep),
    /// See [`FsopsCompleted`].
    Completed(FsopsCompleted),
    /// See [`FsopsFailed`].
    Failed(FsopsFailed),
}

impl FsopsEvent {
    /// The torrent this event is about.
    pub fn torrent(&self) -> InfoHash {
        match self {
            Self::Started(e) => e.torrent,
            Self::Step(e) => e.torrent,
            Self::Completed(e) => e.torrent,
            Self::Failed(e) => e.torrent,
        }
    }
}
