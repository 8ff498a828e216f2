//! The download queue: `topPrio`, `bottomPrio`, `increasePrio`,
//! `decreasePrio` (`409` while the session does not queue, as qBittorrent
//! answers) and `setForceStart`.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use revaer_api_models::TorrentAction;
use revaer_api_models::torrent::QueueTo;
use revaer_service::Caller;

use crate::params::Params;
use crate::reply::{Reply, Text};
use crate::state::QbitState;

async fn queue(state: &QbitState, caller: &Caller, params: &Params, to: QueueTo) -> Reply<Text> {
    if !crate::map::queueing(&state.service.engine().settings()) {
        return Ok(Text::error(StatusCode::CONFLICT, "Torrent queueing must be enabled"));
    }
    crate::actions::each(state, caller, params, TorrentAction::Queue { to }).await
}

/// `torrents/topPrio`: `hashes` to the front of the queue.
pub async fn top(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    queue(&state, &caller, &params, QueueTo::Top).await
}

/// `torrents/bottomPrio`: `hashes` to the back of the queue.
pub async fn bottom(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    queue(&state, &caller, &params, QueueTo::Bottom).await
}

/// `torrents/increasePrio`: `hashes` one place towards the front.
pub async fn up(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    queue(&state, &caller, &params, QueueTo::Up).await
}

/// `torrents/decreasePrio`: `hashes` one place towards the back.
pub async fn down(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    queue(&state, &caller, &params, QueueTo::Down).await
}

/// `torrents/setForceStart`: `hashes`, `value` (`true`: run outside the
/// queue; anything else gives them back to it).
pub async fn set_force_start(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let enable = params.flag("value").unwrap_or(false);
    crate::actions::each(&state, &caller, &params, TorrentAction::ForceStart { enable }).await
}
