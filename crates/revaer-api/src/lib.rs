//! Revaer's HTTP API on axum: `/v1` routes behind API keys, health, and
//! Problem+JSON (RFC 9457) for every error, unknown routes and methods
//! included. Handlers are thin: they parse, call the service layer
//! (`revaer-service`) and render.
//!
//! # Layout
//! - [`state`]: what handlers reach (the service, the HTTP settings).
//! - [`auth`]: API keys on HTTP; the [`auth::Authenticated`] extractor and
//!   the layer that applies rate limits.
//! - [`error`]: [`ApiError`] and its problem documents.
//! - [`extract`]: JSON bodies, query strings and path ids with Problem
//!   rejections; [`form`]: add requests as JSON or multipart forms.
//! - [`routes`]: one module per route group, and the one route table.
//! - [`contract`]: the shared problem answers and documented parameters.
//! - [`openapi`]: the OpenAPI document (from the same table) and `/docs`.
//! - [`metrics`]: `/metrics` and the request counters.
//! - [`trace`]: trace and request ids for every request.
//! - [`server`]: the listener, with its timeouts and connection cap;
//!   [`peer`]: the client's address, behind trusted proxies too.
//!
//! # Quick start
//! ```no_run
//! # async fn demo(engine: revaer_engine::Engine, store: revaer_store::Store) -> std::io::Result<()> {
//! use revaer_api::{ApiState, state::HttpConfig};
//! use revaer_service::{Service, ServiceConfig, bus::EventBus};
//! let service = Service::new(engine, store, EventBus::new(4096), ServiceConfig::default());
//! let state = ApiState::new(service, HttpConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:7070").await?;
//! revaer_api::serve(listener, revaer_api::router(state), std::future::pending()).await
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
pub mod contract;
pub mod deadline;
pub mod error;
pub mod extract;
pub mod form;
pub mod metrics;
pub mod openapi;
pub mod peer;
pub mod routes;
pub mod server;
pub mod state;
pub mod trace;

use std::future::Future;

use axum::Router;
use axum::http::Uri;
use axum::routing::get;

pub use error::{ApiError, ApiResult};
pub use state::ApiState;

/// The router with every route.
pub fn router(state: ApiState) -> Router {
    // Everything under /v1 but setup needs a key and counts against its
    // rate limit (a route layer: unknown routes stay 404).
    let protected = routes::protected(state.limits())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_key));
    let local = routes::local().route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        auth::require_key_unless_loopback,
    ));
    let (api, _) = routes::open().merge(local).merge(protected).split_for_parts();
    api.route("/v1/openapi.json", get(openapi::docs::openapi_json))
        .route("/docs", get(openapi::docs::docs))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), routes::setup::setup_gate))
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
/// the requests in flight, with the default [`server::ListenerLimits`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::serve(listener, router, shutdown, server::ListenerLimits::default(), None).await
}
