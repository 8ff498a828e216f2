//! What FsOps reports as jobs run: a job started, each step's outcome, and
//! how the job ended. The daemon puts these on the same event bus as the
//! engine's events.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::info_hash::InfoHash;

/// One FsOps event. Serialised with a `type` tag (`fsops_…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FsopsEvent {
    /// A job began (or resumed) on this instance.
    #[serde(rename = "fsops_started")]
    Started {
        /// The torrent.
        torrent: InfoHash,
        /// The job's id.
        job: i64,
        /// The attempt (1 for the first).
        attempt: u32,
        /// The trace id of the request that added the torrent.
        trace_id: Option<String>,
    },
    /// One step attempt ended.
    #[serde(rename = "fsops_step")]
    Step {
        /// The torrent.
        torrent: InfoHash,
        /// The job's id.
        job: i64,
        /// The step (`validate`, `extract`, …).
        step: String,
        /// `done`, `skipped` or `failed`.
        outcome: String,
        /// What it did or why it failed.
        detail: Option<String>,
        /// How long it took, in milliseconds.
        duration_ms: u64,
        /// The trace id of the request that added the torrent.
        trace_id: Option<String>,
    },
    /// The job finished; the entry is in the library.
    #[serde(rename = "fsops_completed")]
    Completed {
        /// The torrent.
        torrent: InfoHash,
        /// The job's id.
        job: i64,
        /// Where the entry is.
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        destination: PathBuf,
        /// The trace id of the request that added the torrent.
        trace_id: Option<String>,
    },
    /// The job failed; it is retried at `retry_at`, or never when that is
    /// absent.
    #[serde(rename = "fsops_failed")]
    Failed {
        /// The torrent.
        torrent: InfoHash,
        /// The job's id.
        job: i64,
        /// What went wrong.
        error: String,
        /// When it is tried again (absent: failed for good).
        retry_at: Option<DateTime<Utc>>,
        /// The trace id of the request that added the torrent.
        trace_id: Option<String>,
    },
}

impl FsopsEvent {
    /// The torrent this event is about.
    pub const fn torrent(&self) -> InfoHash {
        match self {
            Self::Started { torrent, .. }
            | Self::Step { torrent, .. }
            | Self::Completed { torrent, .. }
            | Self::Failed { torrent, .. } => *torrent,
        }
    }

    /// The `type` tag, as serialised.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Started { .. } => "fsops_started",
            Self::Step { .. } => "fsops_step",
            Self::Completed { .. } => "fsops_completed",
            Self::Failed { .. } => "fsops_failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_matches_serialised_tag() {
        let torrent = InfoHash::from_bytes([3; 20]);
        let events = [
            FsopsEvent::Started { torrent, job: 1, attempt: 1, trace_id: Some("t".into()) },
            FsopsEvent::Step {
                torrent,
                job: 1,
                step: "extract".into(),
                outcome: "done".into(),
                detail: None,
                duration_ms: 5,
                trace_id: None,
            },
            FsopsEvent::Completed { torrent, job: 1, destination: "/lib/x".into(), trace_id: None },
            FsopsEvent::Failed {
                torrent,
                job: 1,
                error: "e".into(),
                retry_at: None,
                trace_id: None,
            },
        ];
        for event in events {
            let json = serde_json::to_value(&event).expect("serialize");
            assert_eq!(json["type"], event.kind());
            assert_eq!(event.torrent(), torrent);
            let back: FsopsEvent = serde_json::from_value(json).expect("deserialize");
            assert_eq!(back, event);
        }
    }
}
