//! `/metrics` (Prometheus text from the one registry the daemon installs)
//! and the layer that counts and times every request by route template.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use revaer_domain::TorrentState;
use revaer_telemetry::names;

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
    description = "Prometheus text. Loopback clients need no key unless the daemon runs with `--metrics-require-key`.",
    responses((status = 200, description = "Prometheus exposition format", content_type = "text/plain", body = String)))]
pub async fn render_metrics(
    State(state): State<ApiState>,
    request: Request,
) -> ApiResult<Response> {
    let loopback = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(addr)| addr.ip().to_canonical().is_loopback());
    if !loopback || state.metrics_need_key() {
        crate::auth::verify(request.headers(), &state)?;
    }
    let Some(handle) = state.metrics() else {
        return Err(ApiError::NoRoute {
            path: "/metrics (no metrics registry in this process)".to_owned(),
        });
    };
    // Torrents by state: counted at scrape time, one series per state.
    let torrents = state.engine().list();
    for torrent_state in TorrentState::ALL {
        let count = torrents.iter().filter(|t| t.state == torrent_state).count();
        metrics::gauge!(names::TORRENTS, names::LABEL_STATE => torrent_state.as_str())
            .set(count as f64);
    }
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
