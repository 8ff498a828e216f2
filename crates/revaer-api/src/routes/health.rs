//! `/health` (liveness) and `/health/full` (every component).

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use revaer_domain::{ComponentHealth, HealthStatus};
use serde_json::json;

use crate::state::ApiState;

/// Liveness: the process answers.
pub async fn health() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Every component's health; 503 when any is failing.
pub async fn health_full(State(state): State<ApiState>) -> impl IntoResponse {
    let engine = state.engine().health();
    let session = state.engine().settings();
    let clock = Instant::now();
    let database = match state.store().settings().await {
        Ok(snapshot) => (ComponentHealth::ok(), Some(snapshot.revision)),
        Err(err) => (ComponentHealth::failing(err.to_string()), None),
    };
    let latency_ms = clock.elapsed().as_secs_f64() * 1000.0;
    let torrents = state.engine().list();
    let watcher = state.store().watcher_status();
    let fsops = state.fsops_health().await;
    let overall = [
        Some(engine.status.status),
        Some(database.0.status),
        Some(watcher.health.status),
        fsops.as_ref().map(|h| h.status),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(HealthStatus::Ok);
    let code = if overall == HealthStatus::Failing {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = json!({
        "status": overall,
        "version": env!("CARGO_PKG_VERSION"),
        "components": {
            "database": {
                "status": database.0.status,
                "reason": database.0.reason,
                "backend": state.store().backend().name(),
                "latency_ms": latency_ms,
                "revision": database.1,
            },
            "engine": {
                "status": engine.status.status,
                "reason": engine.status.reason,
                "listen_endpoints": engine.listen_endpoints,
                "torrents": torrents.len(),
                "worker_restarts": engine.worker_restarts,
                "download_limit_bps": session.download_limit,
                "upload_limit_bps": session.upload_limit,
            },
            "config_watcher": {
                "status": watcher.health.status,
                "reason": watcher.health.reason,
                "last_revision": watcher.last_revision,
                "last_latency_ms": watcher.last_latency.map(|d| d.as_secs_f64() * 1000.0),
                "deliveries": watcher.deliveries,
                "failures": watcher.failures,
            },
            "fsops": fsops.map(|h| json!({"status": h.status, "reason": h.reason})),
            "rate_limiter": {"status": "ok", "throttled": state.rate_limits().throttled()},
        },
    });
    (code, Json(body))
}
