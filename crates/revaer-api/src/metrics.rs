//! `/metrics` (Prometheus text from the one registry the daemon installs)
//! and the layer that counts and times every request by route template.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use revaer_domain::TorrentState;
use revaer_telemetry::names;

use crate::contract::problems::{NotFound, Unauthorized};
use crate::error::{ApiError, ApiResult};
use crate::state::ApiState;

/// Counts and times a request under its route template (unknown routes
/// share one label, so paths cannot explode the series).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let clock = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(names::HTTP_REQUESTS_TOTAL, names::LABEL_ROUTE => route.clone(), names::LABEL_METHOD => method, names::LABEL_STATUS => status)
        .increment(1);
    metrics::histogram!(names::HTTP_REQUEST_SECONDS, names::LABEL_ROUTE => route)
        .record(clock.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: Prometheus text. Loopback clients need no key (a local
/// Prometheus, container health checks) unless the daemon says otherwise;
/// everyone else needs one.
#[utoipa::path(get, path = "/metrics", tag = "health",
    description = "Prometheus text. Loopback clients need no key unless the daemon runs with `--metrics-require-key` or `--no-loopback-exemptions`; a request with a key counts against its rate limit; 404 when this process keeps no metrics registry.",
    responses(
        (status = 200, description = "Prometheus exposition format", content_type = "text/plain", body = String),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ))]
pub async fn render_metrics(
    State(state): State<ApiState>,
    request: Request,
) -> ApiResult<Response> {
    let keyed = request.extensions().get::<crate::auth::Authenticated>().is_some();
    if state.http.metrics_need_key && !keyed {
        return Err(ApiError::Unauthorized);
    }
    let Some(handle) = &state.http.metrics else {
        return Err(ApiError::NoRoute {
            path: "/metrics (no metrics registry in this process)".to_owned(),
        });
    };
    record_scrape_time(&state);
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

/// Series read from the engine and the watcher when scraped: torrents by
/// state (one series per state, never per torrent), session totals, and the
/// watcher's figures.
fn record_scrape_time(state: &ApiState) {
    let engine = state.service.engine();
    let torrents = engine.list();
    for torrent_state in TorrentState::ALL {
        let count = torrents.iter().filter(|t| t.state == torrent_state).count();
        metrics::gauge!(names::TORRENTS, names::LABEL_STATE => torrent_state.as_str())
            .set(count as f64);
    }
    let totals = revaer_service::transfer::totals(&torrents);
    metrics::gauge!(names::ENGINE_DOWNLOAD_BPS).set(totals.download_bps as f64);
    metrics::gauge!(names::ENGINE_UPLOAD_BPS).set(totals.upload_bps as f64);
    metrics::gauge!(names::ENGINE_DOWNLOADED_BYTES).set(totals.downloaded as f64);
    metrics::gauge!(names::ENGINE_UPLOADED_BYTES).set(totals.uploaded as f64);
    metrics::gauge!(names::ENGINE_PEERS).set(f64::from(totals.peers));
    let health = engine.health();
    metrics::counter!(names::ENGINE_WORKER_RESTARTS_TOTAL)
        .absolute(u64::from(health.worker_restarts));
    let watcher = state.service.store().watcher_status();
    if let Some(latency) = watcher.last_latency {
        metrics::gauge!(names::CONFIG_WATCHER_LATENCY_SECONDS).set(latency.as_secs_f64());
    }
    metrics::counter!(names::CONFIG_WATCHER_DELIVERIES_TOTAL).absolute(watcher.deliveries);
    metrics::counter!(names::CONFIG_WATCHER_FAILURES_TOTAL).absolute(watcher.failures);
}
