//! Events the daemon itself raises: settings revisions, health changes,
//! rate-limit guard rails, and what the bus tells a subscriber about the
//! events it missed.

use serde::{Deserialize, Serialize};

use crate::health::{Component, HealthStatus};

/// A settings change was committed (by this daemon or another sharing the
/// database).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsChanged {
    /// The new revision.
    pub revision: i64,
}

/// A component's health moved (or was unhealthy when first seen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthChanged {
    /// Which component.
    pub component: Component,
    /// Its status now.
    pub status: HealthStatus,
    /// Its status before (`null` when first seen).
    pub previous: Option<HealthStatus>,
    /// Why, when not `ok`.
    pub reason: Option<String>,
}

/// What a guard rail reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GuardRailKind {
    /// A key was refused by its rate limit 10 times within a minute.
    Breach,
    /// A key has no rate limit at all (reported once per key).
    UnlimitedKey,
}

/// A rate-limiter guard rail tripped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GuardRail {
    /// Which guard rail.
    pub guard_rail: GuardRailKind,
    /// The API key it is about.
    pub key_id: String,
    /// What it means for the rate limiter's health.
    pub status: HealthStatus,
    /// For people.
    pub reason: String,
    /// The trace id of the request that tripped it (a breach's last
    /// refused request).
    pub trace_id: Option<String>,
}

/// Where events were lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventSource {
    /// The engine's events.
    Engine,
    /// Post-processing's events.
    Fsops,
    /// Settings revisions.
    Settings,
}

/// The bus fell behind one of its sources, which dropped events: state
/// built from events may be stale (refetch what matters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventsDropped {
    /// Which source.
    pub source: EventSource,
    /// How many events were lost.
    pub missed: u64,
}

/// The first frame of a stream whose `Last-Event-ID` is no longer known
/// (older than the replay ring, from an earlier run, or unknown): events
/// were missed, refetch state. Its id is the newest event's, so a client
/// that stores it resumes right after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resync {
    /// For people.
    pub reason: String,
    /// The id the next live event will have.
    pub next_id: u64,
}
