//! The routes, one module per group, and the one table that lists them:
//! the router and the OpenAPI document are both built from [`protected`],
//! [`local`] and [`open`] (utoipa-axum), so a route cannot be served
//! without being documented, or documented without being served. Each
//! protected route states its [`Scope`] here, once: `scoped` puts the
//! check on the route and the requirement in its documentation.

pub mod config;
pub mod events;
pub mod health;
pub mod keys;
pub mod setup;
pub mod swarm;
pub mod torrents;
pub mod transfer;

use axum::extract::DefaultBodyLimit;
use revaer_domain::Scope;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{Ref, RefOr, SecurityRequirement};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter, UtoipaMethodRouterExt as _};
use utoipa_axum::routes;

use crate::state::{ApiLimits, ApiState};

/// Every route that needs an API key and counts against its rate limit
/// (the router adds the layer that checks both), each with its scope.
pub fn protected(limits: ApiLimits) -> OpenApiRouter<ApiState> {
    use Scope::{Admin, Control, Read};
    OpenApiRouter::new()
        .routes(scoped(Admin, routes!(config::get_config, config::patch_config)))
        .routes(scoped(Read, routes!(events::stream_events)))
        .routes(scoped(Admin, routes!(keys::list_keys, keys::issue_key)))
        .routes(scoped(Admin, routes!(keys::revoke_key)))
        .routes(scoped(Admin, routes!(keys::rotate_key)))
        .routes(scoped(Read, routes!(torrents::list_torrents)))
        // Forms are read through axum's multipart, which honours this.
        .routes(scoped(
            Control,
            routes!(torrents::add_torrent).layer(DefaultBodyLimit::max(limits.json_body)),
        ))
        .routes(scoped(Read, routes!(torrents::get_torrent)))
        .routes(scoped(Read, routes!(swarm::torrent_peers)))
        .routes(scoped(Read, routes!(swarm::torrent_pieces)))
        .routes(scoped(Control, routes!(torrents::delete_torrent)))
        .routes(scoped(Control, routes!(torrents::torrent_action)))
        .routes(scoped(Control, routes!(torrents::select_files)))
        .routes(scoped(Read, routes!(transfer::get_transfer)))
        .routes(scoped(Control, routes!(transfer::set_limits)))
}

/// Routes loopback clients may read without a key (unless the daemon says
/// otherwise); others need a key with the scope.
pub fn local() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(scoped(Scope::Read, routes!(health::health_full)))
        .routes(scoped(Scope::Read, routes!(crate::metrics::render_metrics)))
}

/// Routes open without a key: liveness and setup.
pub fn open() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(setup::complete_setup).layer(DefaultBodyLimit::max(setup::MAX_SETUP_BODY)))
}

/// `table` guarded by `scope`: the check on the route (inside the key
/// layer), and in its documentation the scope as the security
/// requirement's role, a sentence, and the 403 answer.
fn scoped(scope: Scope, table: UtoipaMethodRouter<ApiState>) -> UtoipaMethodRouter<ApiState> {
    let (components, mut documented, router) = table;
    crate::openapi::operations(&mut documented)
        .for_each(|operation| document_scope(operation, scope));
    let check = axum::middleware::from_fn(move |request, next| {
        crate::auth::require_scope(scope, request, next)
    });
    (components, documented, router.layer(check))
}

fn document_scope(operation: &mut Operation, scope: Scope) {
    let roles = [scope.as_str()];
    operation.security = Some(vec![
        SecurityRequirement::new("bearer", roles),
        SecurityRequirement::new("api_key", roles),
    ]);
    let sentence = format!("Needs an API key with the `{scope}` scope.");
    operation.description = Some(match operation.description.take() {
        Some(text) => format!("{text}\n\n{sentence}"),
        None => sentence,
    });
    operation
        .responses
        .responses
        .entry("403".to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name("MissingScope")));
}
