//! Every component's health in one report (what `/health/full` answers),
//! and [`watch_health`], which compares reports and publishes each change
//! as a `health_changed` event.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use revaer_api_models::health::{
    DatabaseHealth, EngineHealthReport, FsopsHealth, HealthComponents, HealthReport,
    RateLimiterHealth, WatcherHealth,
};
use revaer_domain::event::HealthChanged;
use revaer_domain::{Component, Event, HealthStatus};

use crate::Service;
use crate::ratelimit::BREACH_DEGRADES_FOR;

/// Asks FsOps for its health.
pub type HealthProbe =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = FsopsHealth> + Send>> + Send + Sync>;

impl Service {
    /// Every component's health; the overall status is the worst.
    pub async fn health_report(&self) -> HealthReport {
        let fsops = match &self.config().fsops_health {
            Some(probe) => Some(probe().await),
            None => None,
        };
        let components = HealthComponents {
            database: self.database_health().await,
            engine: self.engine_health(),
            config_watcher: self.watcher_health(),
            fsops,
            rate_limiter: self.rate_limiter_health(),
        };
        let status = components
            .statuses()
            .into_iter()
            .map(|(_, status, _)| status)
            .max()
            .unwrap_or(HealthStatus::Ok);
        HealthReport {
            status,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            git_revision: self.config().git_revision.to_owned(),
            components,
        }
    }

    async fn database_health(&self) -> DatabaseHealth {
        let clock = Instant::now();
        let (status, reason, revision) = match self.store().settings().await {
            Ok(snapshot) => (HealthStatus::Ok, None, Some(snapshot.revision)),
            Err(err) => (HealthStatus::Failing, Some(err.to_string()), None),
        };
        DatabaseHealth {
            status,
            reason,
            backend: self.store().backend().name().to_owned(),
            latency_ms: clock.elapsed().as_secs_f64() * 1000.0,
            revision,
        }
    }

    fn watcher_health(&self) -> WatcherHealth {
        let watcher = self.store().watcher_status();
        WatcherHealth {
            status: watcher.health.status,
            reason: watcher.health.reason,
            last_revision: watcher.last_revision,
            last_latency_ms: watcher.last_latency.map(|d| d.as_secs_f64() * 1000.0),
            deliveries: watcher.deliveries,
            failures: watcher.failures,
        }
    }

    fn engine_health(&self) -> EngineHealthReport {
        let engine = self.engine().health();
        let session = self.engine().settings();
        let torrents = self.engine().list();
        let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
        for torrent in &torrents {
            *by_state.entry(torrent.state.as_str().to_owned()).or_default() += 1;
        }
        EngineHealthReport {
            status: engine.status.status,
            reason: engine.status.reason,
            listen_endpoints: engine.listen_endpoints,
            torrents: torrents.len() as u64,
            torrents_by_state: by_state,
            dht: session.dht,
            dht_nodes: engine.dht_nodes,
            worker_restarts: engine.worker_restarts,
            download_limit_bps: session.download_limit.get(),
            upload_limit_bps: session.upload_limit.get(),
        }
    }

    /// The rate limiter's health: `degraded` for a while after a breach.
    pub fn rate_limiter_health(&self) -> RateLimiterHealth {
        let limits = self.rate_limits();
        let recent = limits.last_breach().filter(|b| b.at.elapsed() < BREACH_DEGRADES_FOR);
        RateLimiterHealth {
            status: if recent.is_some() { HealthStatus::Degraded } else { HealthStatus::Ok },
            reason: recent.map(|b| format!("API key {} keeps passing its rate limit", b.key_id)),
            throttled: limits.throttled(),
            breaches: limits.breaches(),
            unlimited_keys: self.keys().unlimited().len() as u64,
        }
    }
}

/// Compares every component's health every `every` and publishes a
/// `health_changed` event for each change: a pipeline failure, a watcher
/// falling behind, an engine fault. A component first seen unhealthy is
/// reported too. Runs until dropped.
pub async fn watch_health(service: Service, every: Duration) {
    let mut last: BTreeMap<Component, HealthStatus> = BTreeMap::new();
    loop {
        let report = service.health_report().await;
        for (component, status, reason) in report.components.statuses() {
            let previous = last.insert(component, status);
            let changed = match previous {
                Some(previous) => previous != status,
                None => status != HealthStatus::Ok,
            };
            if changed {
                tracing::info!(
                    component = component.as_str(),
                    ?status,
                    ?previous,
                    reason,
                    "health changed"
                );
                service.bus().publish(Event::HealthChanged(HealthChanged {
                    component,
                    status,
                    previous,
                    reason: reason.map(str::to_owned),
                }));
            }
        }
        tokio::time::sleep(every).await;
    }
}
