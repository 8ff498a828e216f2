//! `GET /v1/events`: the server-sent event stream's records.

use chrono::{DateTime, Utc};
use revaer_domain::InfoHash;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `event:` name of the frame a server sends first when a client's
/// `Last-Event-ID` is no longer known (it must refetch state).
pub const RESYNC: &str = "resync";

/// One event: the JSON `data:` of an SSE frame (whose `id:` and `event:`
/// repeat `id` and `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamEvent {
    /// Monotonic, unique across daemon restarts.
    pub id: u64,
    /// The event type: `torrent_added`, `metadata_received`,
    /// `state_changed`, `progress`, `completed`, `removed`,
    /// `storage_moved`, `tracker_error`, `torrent_error`,
    /// `resume_rejected`, `health`, `fsops_started`, `fsops_step`,
    /// `fsops_completed`, `fsops_failed`, `settings_changed`,
    /// `health_changed`, `events_dropped`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it was published.
    pub ts: DateTime<Utc>,
    /// The torrent it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub torrent: Option<InfoHash>,
    /// The payload (the type's fields).
    pub data: Value,
    /// The trace id of the request behind it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}
