//! `/health` (liveness) and `/health/full` (every component).

use std::collections::BTreeMap;
use std::time::Instant;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use revaer_api_models::Problem;
use revaer_api_models::health::{
    DatabaseHealth, EngineHealthReport, HealthComponents, HealthReport, Liveness, WatcherHealth,
};
use revaer_domain::{HealthStatus, TorrentState};

use crate::error::ApiResult;
use crate::state::ApiState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "The process answers", body = Liveness)))]
pub async fn health() -> Json<Liveness> {
    Json(Liveness { status: HealthStatus::Ok })
}

/// Every component's health; 503 when any is failing.
#[utoipa::path(get, path = "/health/full", tag = "health",
    description = "Loopback clients (container health checks, a local monitor) need no key; others need one.",
    responses(
        (status = 200, description = "`ok` or `degraded`", body = HealthReport),
        (status = 401, description = "A remote client without a valid key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A component is failing", body = HealthReport),
    ))]
pub async fn health_full(
    State(state): State<ApiState>,
    request: Request,
) -> ApiResult<(StatusCode, Json<HealthReport>)> {
    if !crate::auth::is_loopback(&request) {
        crate::auth::verify(request.headers(), &state)?;
    }
    let report = report(&state).await;
    let code = if report.status == HealthStatus::Failing {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    Ok((code, Json(report)))
}

/// Every component's health, as `/health/full` reports it (and the health
/// watch compares).
pub async fn report(state: &ApiState) -> HealthReport {
    let clock = Instant::now();
    let database = match state.store().settings().await {
        Ok(snapshot) => (HealthStatus::Ok, None, Some(snapshot.revision)),
        Err(err) => (HealthStatus::Failing, Some(err.to_string()), None),
    };
    let database = DatabaseHealth {
        status: database.0,
        reason: database.1,
        backend: state.store().backend().name().to_owned(),
        latency_ms: clock.elapsed().as_secs_f64() * 1000.0,
        revision: database.2,
    };
    let watcher = state.store().watcher_status();
    let config_watcher = WatcherHealth {
        status: watcher.health.status,
        reason: watcher.health.reason,
        last_revision: watcher.last_revision,
        last_latency_ms: watcher.last_latency.map(|d| d.as_secs_f64() * 1000.0),
        deliveries: watcher.deliveries,
        failures: watcher.failures,
    };
    let components = HealthComponents {
        database,
        engine: engine_report(state),
        config_watcher,
        fsops: state.fsops_health().await,
        rate_limiter: state.rate_limiter_health(),
    };
    let status = [
        components.database.status,
        components.engine.status,
        components.config_watcher.status,
        components.rate_limiter.status,
    ]
    .into_iter()
    .chain(components.fsops.as_ref().map(|f| f.status))
    .max()
    .unwrap_or(HealthStatus::Ok);
    HealthReport {
        status,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        git_revision: state.git_revision().to_owned(),
        components,
    }
}

fn engine_report(state: &ApiState) -> EngineHealthReport {
    let engine = state.engine().health();
    let session = state.engine().settings();
    let torrents = state.engine().list();
    let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
    for torrent_state in TorrentState::ALL {
        let count = torrents.iter().filter(|t| t.state == torrent_state).count() as u64;
        if count > 0 {
            by_state.insert(torrent_state.as_str().to_owned(), count);
        }
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
