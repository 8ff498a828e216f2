//! Events: one typed model from the engine to every client.
//!
//! The engine reports [`EngineEvent`]s and FsOps [`FsopsEvent`]s; the
//! daemon adds its own ([`system`]). The service layer turns each into one
//! [`Event`] — every variant a typed payload — and the event bus wraps it
//! in a [`StreamEvent`] with an id, a timestamp, the torrent and the trace
//! id. That envelope is what the event stream sends, what the CLI reads and
//! what later protocols (the qBittorrent facade's sync, the web UI) build
//! on; nothing between the engine and a client's parser is untyped JSON.
//!
//! On the wire an event is `{"id", "ts", "torrent"?, "trace_id"?, "type",
//! "data"}`: `type` is the variant's snake_case name ([`Event::kind`]) and
//! `data` its payload.

pub mod engine;
pub mod fsops;
pub mod system;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use engine::{
    Completed, EngineEvent, EngineHealthChanged, MetadataReceived, Progress, Removed,
    ResumeRejected, ShareLimitReached, StateChanged, StorageMoved, TorrentAdded, TorrentError,
    TrackerError,
};
pub use fsops::{FsopsCompleted, FsopsEvent, FsopsFailed, FsopsStarted, FsopsStep};
pub use system::{
    EventSource, EventsDropped, GuardRail, GuardRailKind, HealthChanged, Resync, SettingsChanged,
};

use crate::info_hash::InfoHash;

/// Every event, engine, FsOps and daemon alike. Serialised adjacently
/// tagged: `{"type": "progress", "data": {…}}`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A torrent was added or restored.
    TorrentAdded(TorrentAdded),
    /// A magnet's metadata arrived.
    MetadataReceived(MetadataReceived),
    /// A torrent's lifecycle state changed.
    StateChanged(StateChanged),
    /// Transfer progress (at most 10 per second per torrent).
    Progress(Progress),
    /// Every wanted byte is present.
    Completed(Completed),
    /// A torrent was removed.
    Removed(Removed),
    /// A torrent's files moved.
    StorageMoved(StorageMoved),
    /// A tracker announce failed.
    TrackerError(TrackerError),
    /// A torrent hit an error.
    TorrentError(TorrentError),
    /// A seeding torrent reached a share limit.
    ShareLimitReached(ShareLimitReached),
    /// Resume data was refused; the torrent is rechecked.
    ResumeRejected(ResumeRejected),
    /// The engine's own health changed.
    Health(EngineHealthChanged),
    /// An FsOps job began.
    FsopsStarted(FsopsStarted),
    /// An FsOps step ended.
    FsopsStep(FsopsStep),
    /// An FsOps job delivered its entry.
    FsopsCompleted(FsopsCompleted),
    /// An FsOps job failed.
    FsopsFailed(FsopsFailed),
    /// A settings revision was committed.
    SettingsChanged(SettingsChanged),
    /// A component's health moved.
    HealthChanged(HealthChanged),
    /// A rate-limit guard rail tripped.
    GuardRail(GuardRail),
    /// The bus lost events from a source.
    EventsDropped(EventsDropped),
    /// Events were missed: refetch state (a stream's first frame only).
    Resync(Resync),
}

impl Event {
    /// Every `type`, as the wire spells them.
    pub const KINDS: &'static [&'static str] = <Self as strum::VariantNames>::VARIANTS;

    /// The `type`, as the wire spells it (also the SSE `event:` name).
    pub fn kind(&self) -> &'static str {
        self.into()
    }

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
            Self::FsopsStarted(e) => Some(e.torrent),
            Self::FsopsStep(e) => Some(e.torrent),
            Self::FsopsCompleted(e) => Some(e.torrent),
            Self::FsopsFailed(e) => Some(e.torrent),
            Self::Health(_)
            | Self::SettingsChanged(_)
            | Self::HealthChanged(_)
            | Self::GuardRail(_)
            | Self::EventsDropped(_)
            | Self::Resync(_) => None,
        }
    }

    /// The trace id the event itself carries (FsOps events carry the add
    /// request's, guard rails the tripping request's); other events get
    /// theirs from the bus.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Self::FsopsStarted(e) => e.trace_id.as_deref(),
            Self::FsopsStep(e) => e.trace_id.as_deref(),
            Self::FsopsCompleted(e) => e.trace_id.as_deref(),
            Self::FsopsFailed(e) => e.trace_id.as_deref(),
            Self::GuardRail(e) => e.trace_id.as_deref(),
            _ => None,
        }
    }
}

impl From<EngineEvent> for Event {
    fn from(event: EngineEvent) -> Self {
        match event {
            EngineEvent::TorrentAdded(e) => Self::TorrentAdded(e),
            EngineEvent::MetadataReceived(e) => Self::MetadataReceived(e),
            EngineEvent::StateChanged(e) => Self::StateChanged(e),
            EngineEvent::Progress(e) => Self::Progress(e),
            EngineEvent::Completed(e) => Self::Completed(e),
            EngineEvent::Removed(e) => Self::Removed(e),
            EngineEvent::StorageMoved(e) => Self::StorageMoved(e),
            EngineEvent::TrackerError(e) => Self::TrackerError(e),
            EngineEvent::TorrentError(e) => Self::TorrentError(e),
            EngineEvent::ShareLimitReached(e) => Self::ShareLimitReached(e),
            EngineEvent::ResumeRejected(e) => Self::ResumeRejected(e),
            EngineEvent::Health(e) => Self::Health(e),
        }
    }
}

impl From<FsopsEvent> for Event {
    fn from(event: FsopsEvent) -> Self {
        match event {
            FsopsEvent::Started(e) => Self::FsopsStarted(e),
            FsopsEvent::Step(e) => Self::FsopsStep(e),
            FsopsEvent::Completed(e) => Self::FsopsCompleted(e),
            FsopsEvent::Failed(e) => Self::FsopsFailed(e),
        }
    }
}

/// One event as the bus publishes it and the stream sends it: the id
/// (monotonic, unique across daemon restarts), when, about which torrent,
/// the trace id of the request behind it, and the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamEvent {
    /// Monotonic, unique across daemon restarts (the SSE `id:`).
    pub id: u64,
    /// When it was published.
    pub ts: DateTime<Utc>,
    /// The torrent it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub torrent: Option<InfoHash>,
    /// The trace id of the request behind it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// `type` and `data`.
    #[serde(flatten)]
    pub event: Event,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsops::{Step, StepOutcome};
    use crate::health::HealthStatus;
    use crate::torrent::TorrentState;

    fn samples() -> Vec<Event> {
        let torrent = InfoHash::from_bytes([7; 20]);
        vec![
            EngineEvent::StateChanged(StateChanged {
                torrent,
                from: TorrentState::Checking,
                to: TorrentState::Seeding,
            })
            .into(),
            EngineEvent::Progress(Progress {
                torrent,
                progress: 0.5,
                bytes_done: 5,
                bytes_wanted: 10,
                download_bps: 1,
                upload_bps: 0,
                eta_secs: Some(5),
            })
            .into(),
            EngineEvent::Health(EngineHealthChanged { status: HealthStatus::Ok, reason: None })
                .into(),
            FsopsEvent::Step(FsopsStep {
                torrent,
                job: 1,
                step: Step::Extract,
                outcome: StepOutcome::Done,
                detail: None,
                duration_ms: 5,
                trace_id: Some("t".into()),
            })
            .into(),
            Event::GuardRail(GuardRail {
                guard_rail: GuardRailKind::UnlimitedKey,
                key_id: "k".into(),
                status: HealthStatus::Ok,
                reason: "no limit".into(),
                trace_id: None,
            }),
            Event::Resync(Resync { reason: "missed".into(), next_id: 9 }),
            EngineEvent::ShareLimitReached(ShareLimitReached {
                torrent,
                limit: crate::share::ShareLimitKind::Ratio,
                action: crate::share::ShareAction::Stop,
            })
            .into(),
        ]
    }

    #[test]
    fn the_wire_type_is_the_kind_and_envelopes_round_trip() {
        for event in samples() {
            let envelope = StreamEvent {
                id: 42,
                ts: Utc::now(),
                torrent: event.torrent(),
                trace_id: event.trace_id().map(str::to_owned),
                event,
            };
            let json = serde_json::to_value(&envelope).expect("serialize");
            assert_eq!(json["type"], envelope.event.kind());
            assert!(Event::KINDS.contains(&envelope.event.kind()));
            assert!(json["data"].is_object(), "{json}");
            assert_eq!(json["id"], 42);
            let back: StreamEvent = serde_json::from_value(json).expect("deserialize");
            assert_eq!(back, envelope);
        }
    }

    #[test]
    fn kinds_name_every_variant_once() {
        assert_eq!(Event::KINDS.len(), 21);
        assert!(Event::KINDS.contains(&"fsops_step") && Event::KINDS.contains(&"guard_rail"));
        let mut sorted = Event::KINDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), Event::KINDS.len());
    }

    #[test]
    fn fsops_events_carry_their_trace_and_torrent() {
        let event = samples().remove(3);
        assert_eq!(event.trace_id(), Some("t"));
        assert_eq!(event.torrent(), Some(InfoHash::from_bytes([7; 20])));
        assert_eq!(Event::Resync(Resync { reason: String::new(), next_id: 1 }).torrent(), None);
    }
}
