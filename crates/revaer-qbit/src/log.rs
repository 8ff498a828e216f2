//! `log/main`: the daemon's events still in the bus's ring, as qBittorrent's
//! log lines (progress reports left out).

use axum::Json;
use axum::extract::State;
use revaer_domain::event::{Event, StreamEvent};
use serde::Serialize;

use crate::params::Params;
use crate::reply::Reply;
use crate::state::QbitState;

/// qBittorrent's message types.
const NORMAL: u8 = 1;
const INFO: u8 = 2;
const WARNING: u8 = 4;
const CRITICAL: u8 = 8;

/// One log line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    /// The event's place in this run (1, 2, …).
    pub id: u64,
    /// What happened.
    pub message: String,
    /// When, in milliseconds since the epoch.
    pub timestamp: i64,
    /// `1` normal, `2` info, `4` warning, `8` critical.
    #[serde(rename = "type")]
    pub kind: u8,
}

fn lower(value: impl std::fmt::Debug) -> String {
    format!("{value:?}").to_lowercase()
}

/// The line for `event` (`None` for what a log does not show), naming a
/// torrent with `name`.
pub fn line(
    event: &Event,
    name: &dyn Fn(revaer_domain::InfoHash) -> String,
) -> Option<(u8, String)> {
    use revaer_domain::HealthStatus;
    let bad = |status: &HealthStatus| match status {
        HealthStatus::Ok => INFO,
        HealthStatus::Degraded => WARNING,
        HealthStatus::Failing => CRITICAL,
    };
    Some(match event {
        Event::TorrentAdded(e) if e.restored => (NORMAL, format!("Restored torrent: '{}'", e.name)),
        Event::TorrentAdded(e) => (NORMAL, format!("Added new torrent: '{}'", e.name)),
        Event::MetadataReceived(e) => (NORMAL, format!("Metadata received: '{}'", e.name)),
        Event::StateChanged(e) => {
            (NORMAL, format!("'{}': {} → {}", name(e.torrent), e.from.as_str(), e.to.as_str()))
        }
        Event::Completed(e) => (NORMAL, format!("Torrent download finished: '{}'", e.name)),
        Event::Removed(e) if e.data_deleted => {
            (NORMAL, format!("Removed torrent and deleted its content: {}", e.torrent))
        }
        Event::Removed(e) => (NORMAL, format!("Removed torrent: {}", e.torrent)),
        Event::StorageMoved(e) => {
            (NORMAL, format!("'{}' moved to {}", name(e.torrent), e.save_path.display()))
        }
        Event::TrackerError(e) => {
            (WARNING, format!("'{}': tracker {} failed: {}", name(e.torrent), e.url, e.message))
        }
        Event::TorrentError(e) => {
            (CRITICAL, format!("'{}': error: {}", name(e.torrent), e.message))
        }
        Event::ShareLimitReached(e) => (
            INFO,
            format!("'{}' reached its {} limit: {}", name(e.torrent), lower(e.limit), e.action),
        ),
        Event::ResumeRejected(e) => (
            WARNING,
            format!("'{}': resume data refused ({}); rechecking", name(e.torrent), e.reason),
        ),
        Event::Health(e) => {
            (bad(&e.status), format!("engine {}{}", lower(e.status), reason(e.reason.as_deref())))
        }
        Event::FsopsStarted(e) => {
            (INFO, format!("'{}': post-processing began (attempt {})", name(e.torrent), e.attempt))
        }
        Event::FsopsStep(e) => {
            (INFO, format!("'{}': {} {}", name(e.torrent), e.step.as_str(), e.outcome.as_str()))
        }
        Event::FsopsCompleted(e) => {
            (INFO, format!("'{}': delivered to {}", name(e.torrent), e.destination.display()))
        }
        Event::FsopsFailed(e) => {
            (CRITICAL, format!("'{}': post-processing failed: {}", name(e.torrent), e.error))
        }
        Event::SettingsChanged(e) => (INFO, format!("settings revision {}", e.revision)),
        Event::HealthChanged(e) => (
            bad(&e.status),
            format!("{} {}{}", e.component.as_str(), lower(e.status), reason(e.reason.as_deref())),
        ),
        Event::GuardRail(e) => {
            (WARNING, format!("key {}: {} ({})", e.key_id, lower(e.guard_rail), e.reason))
        }
        Event::EventsDropped(e) => {
            (WARNING, format!("{} events from {} were lost", e.missed, lower(e.source)))
        }
        // Progress, resyncs, and kinds this facade does not know yet.
        _ => return None,
    })
}

fn reason(text: Option<&str>) -> String {
    text.map(|text| format!(": {text}")).unwrap_or_default()
}

/// `log/main`: `normal`, `info`, `warning`, `critical` (each on unless
/// `false`), `last_known_id` (lines after it; `-1`, the default: all).
pub async fn main(State(state): State<QbitState>, params: Params) -> Reply<Json<Vec<LogLine>>> {
    let wanted = |name, kind| if params.flag(name).unwrap_or(true) { kind } else { 0 };
    let mask = wanted("normal", NORMAL)
        | wanted("info", INFO)
        | wanted("warning", WARNING)
        | wanted("critical", CRITICAL);
    let after = params.int("last_known_id").unwrap_or(-1);
    let bus = state.service.bus();
    let engine = state.service.engine();
    let name = |id| engine.summary(id).map_or_else(|| id.to_hex(), |t| t.name.clone());
    let lines = bus
        .recent()
        .iter()
        .filter(|event| i64::try_from(bus.sequence(event.id)).is_ok_and(|seq| seq > after))
        .filter_map(|event: &std::sync::Arc<StreamEvent>| {
            let (kind, message) = line(&event.event, &name)?;
            (kind & mask != 0).then(|| LogLine {
                id: bus.sequence(event.id),
                message,
                timestamp: event.ts.timestamp_millis(),
                kind,
            })
        })
        .collect();
    Ok(Json(lines))
}
/// One line of `log/peers`: a peer qBittorrent blocked.
#[derive(Debug, Clone, Serialize)]
pub struct PeerLogLine {
    id: u64,
    ip: String,
    timestamp: i64,
    blocked: bool,
    reason: String,
}

/// `log/peers`: the peers blocked (by an IP filter or a ban). Revaer
/// blocks none, so the list is empty, whatever `last_known_id` says.
pub async fn peers() -> Json<Vec<PeerLogLine>> {
    Json(Vec::new())
}
