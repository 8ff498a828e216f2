//! `/health` and `/health/full`.

use revaer_domain::{Component, HealthStatus};
use serde::{Deserialize, Serialize};

/// `GET /health`: the process answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Liveness {
    /// Always `ok`.
    pub status: HealthStatus,
}

/// `GET /health/full`: every component (HTTP 503 when one is failing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthReport {
    /// The worst component status.
    pub status: HealthStatus,
    /// The daemon's version.
    pub version: String,
    /// The git revision the binary was built from (`unknown` outside a
    /// checkout).
    pub git_revision: String,
    /// Each component.
    pub components: HealthComponents,
}

/// The components of [`HealthReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthComponents {
    /// The store.
    pub database: DatabaseHealth,
    /// The BitTorrent engine.
    pub engine: EngineHealthReport,
    /// The settings watcher.
    pub config_watcher: WatcherHealth,
    /// Post-processing (`null` when this process runs none).
    pub fsops: Option<FsopsHealth>,
    /// Per-key rate limits.
    pub rate_limiter: RateLimiterHealth,
}

impl HealthComponents {
    /// Each component's name, status and reason.
    pub fn statuses(&self) -> Vec<(Component, HealthStatus, Option<&str>)> {
        let mut all = vec![
            (Component::Database, self.database.status, self.database.reason.as_deref()),
            (Component::Engine, self.engine.status, self.engine.reason.as_deref()),
            (
                Component::ConfigWatcher,
                self.config_watcher.status,
                self.config_watcher.reason.as_deref(),
            ),
            (Component::RateLimiter, self.rate_limiter.status, self.rate_limiter.reason.as_deref()),
        ];
        if let Some(fsops) = &self.fsops {
            all.push((Component::Fsops, fsops.status, fsops.reason.as_deref()));
        }
        all
    }
}

/// The store's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatabaseHealth {
    /// Status.
    pub status: HealthStatus,
    /// Why, when not `ok`.
    pub reason: Option<String>,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// How long reading the settings took, in milliseconds.
    pub latency_ms: f64,
    /// The settings revision read.
    pub revision: Option<i64>,
}

/// The engine's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EngineHealthReport {
    /// Status.
    pub status: HealthStatus,
    /// Why, when not `ok` (the last error).
    pub reason: Option<String>,
    /// Sockets the session listens on.
    pub listen_endpoints: Vec<String>,
    /// Torrents in the session.
    pub torrents: u64,
    /// Torrents by state (`downloading`, `seeding`, …).
    pub torrents_by_state: std::collections::BTreeMap<String, u64>,
    /// Whether the DHT is on.
    pub dht: bool,
    /// Nodes in the DHT routing table (`null` while the DHT is off or
    /// before its first report).
    pub dht_nodes: Option<u64>,
    /// How often the engine's worker was restarted after a fault.
    pub worker_restarts: u32,
    /// Session download cap, bytes/s (`null`: unlimited).
    pub download_limit_bps: Option<u64>,
    /// Session upload cap, bytes/s (`null`: unlimited).
    pub upload_limit_bps: Option<u64>,
}

/// The settings watcher's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WatcherHealth {
    /// Status.
    pub status: HealthStatus,
    /// Why, when not `ok`.
    pub reason: Option<String>,
    /// The last revision delivered.
    pub last_revision: i64,
    /// How long after its commit the last revision arrived, in milliseconds.
    pub last_latency_ms: Option<f64>,
    /// Revisions delivered.
    pub deliveries: u64,
    /// Failed polls or notifications.
    pub failures: u64,
}

/// Post-processing's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FsopsHealth {
    /// Status: `degraded` while a tool is missing, a job failed for good or
    /// the queue is long.
    pub status: HealthStatus,
    /// Why, when not `ok`.
    pub reason: Option<String>,
    /// Jobs waiting.
    pub queued: u64,
    /// Jobs running.
    pub running: u64,
    /// Torrents whose latest job failed for good.
    pub failed: u64,
    /// Tools that extraction needs and this host lacks.
    pub missing_tools: Vec<String>,
}

/// The rate limiter's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateLimiterHealth {
    /// Status: `degraded` while a key breaches its limit in bursts.
    pub status: HealthStatus,
    /// Why, when not `ok`.
    pub reason: Option<String>,
    /// Requests refused with 429 since the start.
    pub throttled: u64,
    /// Guard-rail breaches since the start (bursts of throttles).
    pub breaches: u64,
    /// Enabled keys without any rate limit.
    pub unlimited_keys: u64,
}
