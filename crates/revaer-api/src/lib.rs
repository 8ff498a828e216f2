//! Revaer's HTTP API on axum: `/v1` routes behind API keys, health, and
//! Problem+JSON (RFC 9457) for every error, unknown routes and methods
//! included.
//!
//! # Layout
//! - [`state`]: what handlers reach (engine, store, key cache, limits).
//! - [`auth`]: API keys verified in memory; the [`auth::Authenticated`]
//!   extractor.
//! - [`error`]: [`ApiError`] and its problem documents.
//! - [`extract`]: JSON bodies, query strings and path ids with Problem
//!   rejections; [`form`]: add requests as JSON or multipart forms.
//! - [`routes`]: one module per route group.
//! - [`openapi`]: the OpenAPI document and its rendered reference.
//! - [`trace`]: trace and request ids for every request.
//!
//! # Quick start
//! ```no_run
//! # async fn demo(engine: revaer_engine::Engine, store: revaer_store::Store) -> std::io::Result<()> {
//! use revaer_api::{ApiState, auth::KeyCache, state::ApiLimits};
//! let keys = KeyCache::default();
//! let state = ApiState::new(engine, store, keys, ApiLimits::default(), true);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:7070").await?;
//! revaer_api::serve(listener, revaer_api::router(state), std::future::pending()).await
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
pub mod error;
pub mod events;
pub mod extract;
pub mod form;
pub mod metrics;
pub mod openapi;
pub mod ratelimit;
pub mod routes;
pub mod state;
pub mod trace;

use std::future::Future;

use axum::Router;
use axum::http::Uri;
use axum::routing::{get, post};

pub use error::{ApiError, ApiResult};
pub use state::ApiState;

/// The router with every route.
pub fn router(state: ApiState) -> Router {
    use routes::{config, events, health, keys, setup, torrents, transfer};
    // Everything under /v1 but setup needs a key and counts against its
    // rate limit (a route layer: unknown routes stay 404).
    let protected = Router::new()
        .route("/v1/config", get(config::get_config).patch(config::patch_config))
        .route("/v1/events", get(events::stream_events))
        .route("/v1/keys", get(keys::list_keys).post(keys::issue_key))
        .route("/v1/keys/{key_id}", axum::routing::delete(keys::revoke_key))
        .route("/v1/keys/{key_id}/rotate", post(keys::rotate_key))
        .route(
            "/v1/torrents",
            get(torrents::list_torrents).post(torrents::add_torrent).layer(
                // Forms are read through axum's multipart, which honours this.
                axum::extract::DefaultBodyLimit::max(state.limits().json_body),
            ),
        )
        .route("/v1/torrents/{id}", get(torrents::get_torrent).delete(torrents::delete_torrent))
        .route("/v1/torrents/{id}/action", post(torrents::torrent_action))
        .route("/v1/torrents/{id}/select", post(torrents::select_files))
        .route("/v1/transfer", get(transfer::get_transfer))
        .route("/v1/transfer/limits", post(transfer::set_limits))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_key));
    Router::new()
        .route("/health", get(health::health))
        .route("/health/full", get(health::health_full))
        .route("/metrics", get(metrics::render_metrics))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route("/docs", get(openapi::docs))
        .route(
            "/v1/setup/complete",
            post(setup::complete_setup)
                .layer(axum::extract::DefaultBodyLimit::max(setup::MAX_SETUP_BODY)),
        )
        .merge(protected)
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), setup::setup_gate))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn(trace::layer))
        .with_state(state)
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute { path: uri.path().chars().take(256).collect() }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
