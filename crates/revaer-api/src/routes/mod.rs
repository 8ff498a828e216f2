//! The routes, one module per group, and the one table that lists them:
//! the router and the OpenAPI document are both built from
//! [`protected`] and [`open`] (utoipa-axum), so a route cannot be served
//! without being documented, or documented without being served.

pub mod config;
pub mod events;
pub mod health;
pub mod keys;
pub mod setup;
pub mod torrents;
pub mod transfer;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt as _};
use utoipa_axum::routes;

use crate::state::ApiLimits;

/// Every route that needs an API key and counts against its rate limit
/// (the router adds the layer that checks both).
pub fn protected(limits: ApiLimits) -> OpenApiRouter<crate::state::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(config::get_config, config::patch_config))
        .routes(routes!(events::stream_events))
        .routes(routes!(keys::list_keys, keys::issue_key))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(keys::rotate_key))
        // Forms are read through axum's multipart, which honours this.
        .routes(
            routes!(torrents::list_torrents, torrents::add_torrent)
                .layer(DefaultBodyLimit::max(limits.json_body)),
        )
        .routes(routes!(torrents::get_torrent, torrents::delete_torrent))
        .routes(routes!(torrents::torrent_action))
        .routes(routes!(torrents::select_files))
        .routes(routes!(transfer::get_transfer))
        .routes(routes!(transfer::set_limits))
}

/// Routes open without a key: health, metrics (which check keys
/// themselves for remote clients) and setup.
pub fn open() -> OpenApiRouter<crate::state::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(health::health_full))
        .routes(routes!(crate::metrics::render_metrics))
        .routes(routes!(setup::complete_setup).layer(DefaultBodyLimit::max(setup::MAX_SETUP_BODY)))
}
