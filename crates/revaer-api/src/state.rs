//! What every handler can reach: the engine, the store, the key cache and
//! the request limits. Cheap to clone.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use metrics_exporter_prometheus::PrometheusHandle;
use revaer_api_models::health::{FsopsHealth, RateLimiterHealth};
use revaer_domain::HealthStatus;
use revaer_engine::Engine;
use revaer_store::Store;

use crate::auth::KeyCache;
use crate::events::EventBus;
use crate::ratelimit::RateLimits;

/// Events kept for replay.
const EVENT_RING: usize = 4096;

/// Asks FsOps for its health (FsOps lives in the daemon; the API only
/// reports it).
pub type HealthProbe =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = FsopsHealth> + Send>> + Send + Sync>;

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// Largest request body, in bytes (JSON or a form; a base64 `.torrent`
    /// of 16 MiB fits).
    pub json_body: usize,
    /// Largest `.torrent` file part of a multipart add, in bytes.
    pub torrent_file: usize,
}

impl ApiLimits {
    /// Limits for `.torrent` files of up to `torrent_file` bytes: bodies
    /// may carry one base64-encoded, with room for the other fields.
    pub fn for_torrent_files(torrent_file: usize) -> Self {
        let base64 = torrent_file.div_ceil(3).saturating_mul(4);
        Self { json_body: base64.saturating_add(1024 * 1024), torrent_file }
    }
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self::for_torrent_files(revaer_api_models::torrent::MAX_METAINFO_BYTES)
    }
}

struct Inner {
    engine: Engine,
    store: Store,
    keys: KeyCache,
    limits: ApiLimits,
    /// Set up (active) or still in setup mode.
    active: AtomicBool,
    /// FsOps health, when the daemon runs FsOps.
    fsops_health: Option<HealthProbe>,
    /// Per-key buckets.
    rate_limits: Arc<RateLimits>,
    /// The event bus.
    events: EventBus,
    /// The Prometheus registry's handle, when the daemon installed one.
    metrics: Option<PrometheusHandle>,
    /// `/metrics` needs a key from loopback clients too.
    metrics_need_key: bool,
    /// The git revision the binary was built from.
    git_revision: &'static str,
    /// Setup may be completed from any address, not only loopback.
    remote_setup: bool,
    /// Set when the server shuts down: long-lived answers (event streams)
    /// end so that the shutdown does not wait for them.
    closing: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("limits", &self.limits)
            .field("active", &self.active)
            .field("fsops_health", &self.fsops_health.is_some())
            .finish_non_exhaustive()
    }
}

/// The API's shared state.
#[derive(Debug, Clone)]
pub struct ApiState {
    inner: Arc<Inner>,
}

impl ApiState {
    /// State over a running engine and an open store, active (set up) or in
    /// setup mode.
    pub fn new(
        engine: Engine,
        store: Store,
        keys: KeyCache,
        limits: ApiLimits,
        active: bool,
    ) -> Self {
        let active = AtomicBool::new(active);
        let rate_limits = Arc::new(RateLimits::default());
        let events = EventBus::new(EVENT_RING);
        let inner = Inner {
            engine,
            store,
            keys,
            limits,
            active,
            fsops_health: None,
            rate_limits,
            events,
            metrics: None,
            metrics_need_key: false,
            git_revision: "unknown",
            remote_setup: false,
            closing: tokio::sync::watch::channel(false).0,
        };
        Self { inner: Arc::new(inner) }
    }

    /// A copy of the state to change before it is shared.
    fn copy_inner(&self) -> Inner {
        Inner {
            engine: self.inner.engine.clone(),
            store: self.inner.store.clone(),
            keys: self.inner.keys.clone(),
            limits: self.inner.limits,
            active: AtomicBool::new(self.is_active()),
            fsops_health: self.inner.fsops_health.clone(),
            rate_limits: Arc::clone(&self.inner.rate_limits),
            events: self.inner.events.clone(),
            metrics: self.inner.metrics.clone(),
            metrics_need_key: self.inner.metrics_need_key,
            git_revision: self.inner.git_revision,
            remote_setup: self.inner.remote_setup,
            closing: self.inner.closing.clone(),
        }
    }

    /// Reports FsOps health through `probe` (in `/health/full`).
    #[must_use]
    pub fn with_fsops_health(self, probe: HealthProbe) -> Self {
        let inner = Inner { fsops_health: Some(probe), ..self.copy_inner() };
        Self { inner: Arc::new(inner) }
    }

    /// Serves `/metrics` from `handle` (the registry the daemon installed);
    /// `need_key` makes loopback clients send a key too.
    #[must_use]
    pub fn with_metrics(self, handle: PrometheusHandle, need_key: bool) -> Self {
        let inner =
            Inner { metrics: Some(handle), metrics_need_key: need_key, ..self.copy_inner() };
        Self { inner: Arc::new(inner) }
    }

    /// Reports `revision` as the git revision the binary was built from.
    #[must_use]
    pub fn with_git_revision(self, revision: &'static str) -> Self {
        let inner = Inner { git_revision: revision, ..self.copy_inner() };
        Self { inner: Arc::new(inner) }
    }

    /// Lets clients on any address complete setup (by default only
    /// loopback clients may: a container or a host without a local shell
    /// can opt in, and should then publish the port only to a trusted
    /// network until setup is done).
    #[must_use]
    pub fn with_remote_setup(self, allowed: bool) -> Self {
        let inner = Inner { remote_setup: allowed, ..self.copy_inner() };
        Self { inner: Arc::new(inner) }
    }

    /// Whether setup answers clients on any address.
    pub fn remote_setup(&self) -> bool {
        self.inner.remote_setup
    }

    /// The git revision the binary was built from (`unknown` if not told).
    pub fn git_revision(&self) -> &'static str {
        self.inner.git_revision
    }

    /// The metrics registry's handle.
    pub fn metrics(&self) -> Option<&PrometheusHandle> {
        self.inner.metrics.as_ref()
    }

    /// Whether `/metrics` needs a key from loopback clients.
    pub fn metrics_need_key(&self) -> bool {
        self.inner.metrics_need_key
    }

    /// FsOps health, when reported.
    pub async fn fsops_health(&self) -> Option<FsopsHealth> {
        match &self.inner.fsops_health {
            Some(probe) => Some(probe().await),
            None => None,
        }
    }

    /// Whether setup is complete.
    pub fn is_active(&self) -> bool {
        self.inner.active.load(Ordering::Acquire)
    }

    /// Leaves setup mode.
    pub fn activate(&self) {
        self.inner.active.store(true, Ordering::Release);
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The API key cache.
    pub fn keys(&self) -> &KeyCache {
        &self.inner.keys
    }

    /// The event bus (the daemon publishes into it).
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    /// Ends the event streams (call when the server begins to shut down).
    pub fn begin_shutdown(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Resolves once the server shuts down.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }

    /// The per-key rate limits.
    pub fn rate_limits(&self) -> &RateLimits {
        &self.inner.rate_limits
    }

    /// The rate limiter's health: `degraded` for a while after a breach.
    pub fn rate_limiter_health(&self) -> RateLimiterHealth {
        let limits = self.rate_limits();
        let recent =
            limits.last_breach().filter(|b| b.at.elapsed() < crate::ratelimit::BREACH_DEGRADES_FOR);
        RateLimiterHealth {
            status: if recent.is_some() { HealthStatus::Degraded } else { HealthStatus::Ok },
            reason: recent.map(|b| format!("API key {} keeps passing its rate limit", b.key_id)),
            throttled: limits.throttled(),
            breaches: limits.breaches(),
            unlimited_keys: self.keys().unlimited().len() as u64,
        }
    }

    /// Reports a breach: a metric, a log line and a `health` event.
    pub(crate) fn guard_rail_breach(&self, key_id: &str) {
        metrics::counter!(revaer_telemetry::names::RATE_LIMIT_BREACHES_TOTAL).increment(1);
        tracing::warn!(key_id, "guard rail: an API key keeps passing its rate limit");
        self.events().publish(
            "health",
            None,
            serde_json::json!({
                "component": "rate_limiter",
                "status": HealthStatus::Degraded,
                "guard_rail": "breach",
                "key_id": key_id,
                "reason": format!("API key {key_id} was refused {} times within a minute",
                    crate::ratelimit::BREACH_THROTTLES),
            }),
            crate::trace::current_trace_id(),
        );
    }

    /// Compares every component's health every `every` and publishes a
    /// `health_changed` event for each change (`component`, `status`,
    /// `previous`, `reason`): a pipeline failure, a watcher falling behind,
    /// an engine fault. A component first seen unhealthy is reported too.
    pub fn spawn_health_watch(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut last: std::collections::BTreeMap<&'static str, HealthStatus> =
                std::collections::BTreeMap::new();
            loop {
                let report = crate::routes::health::report(&state).await;
                for (component, status, reason) in report.components.statuses() {
                    let previous = last.insert(component, status);
                    let changed = match previous {
                        Some(previous) => previous != status,
                        None => status != HealthStatus::Ok,
                    };
                    if changed {
                        tracing::info!(component, ?status, ?previous, reason, "health changed");
                        state.events().publish(
                            "health_changed",
                            None,
                            serde_json::json!({
                                "component": component,
                                "status": status,
                                "previous": previous,
                                "reason": reason,
                            }),
                            None,
                        );
                    }
                }
                tokio::time::sleep(every).await;
            }
        })
    }

    /// Refreshes the API keys every `every` (a revoked key stops working
    /// within it) and reports each key without a rate limit once, as a
    /// guard-rail `health` event.
    pub fn spawn_key_refresh(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut reported = std::collections::HashSet::new();
            loop {
                if let Err(err) = state.keys().refresh(state.store()).await {
                    tracing::warn!(error = %err, "could not refresh API keys");
                }
                for key_id in state.keys().unlimited() {
                    if reported.len() < 100_000 && reported.insert(key_id.clone()) {
                        state.events().publish(
                            "health",
                            None,
                            serde_json::json!({
                                "component": "rate_limiter",
                                "status": HealthStatus::Ok,
                                "guard_rail": "unlimited_key",
                                "key_id": key_id,
                                "reason": format!("API key {key_id} has no rate limit"),
                            }),
                            None,
                        );
                    }
                }
                tokio::time::sleep(every).await;
            }
        })
    }

    /// The request limits.
    pub fn limits(&self) -> ApiLimits {
        self.inner.limits
    }
}
