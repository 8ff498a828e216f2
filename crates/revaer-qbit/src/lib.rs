//! Revaer's qBittorrent WebUI API v2 facade, under `/api/v2`.
//!
//! Sonarr, Radarr, Prowlarr, autobrr, cross-seed, Flood and VueTorrent
//! speak qBittorrent's WebUI API; this crate serves it over Revaer's
//! service layer (no second state: every answer is read from the engine
//! and the settings, every change goes through the service, with the
//! caller's key, its scopes and its rate limit).
//!
//! - [`auth`]: login sessions (`SID`), bans, Bearer and Basic keys, the
//!   CSRF check, and the scope each route needs.
//! - [`app`]: versions (qBittorrent `v5.0.5`, WebAPI `2.11.2`), build
//!   information, preferences.
//! - [`torrents`] (reads) and [`actions`] (mutators); [`organise`]
//!   (categories, tags, caps); [`transfer`]; [`sync`] (`sync/maindata`,
//!   incremental per client).
//! - [`map`]: Revaer's torrents as qBittorrent's rows and states.
//! - [`share`]: share limits in qBittorrent's numbers; [`queue`]: queue
//!   places and force-start; [`edit`]: locations, sequential download,
//!   file priorities and peers.
//!
//! Reads answer `GET`, `HEAD` and `POST` (a `GET` reads its query, a
//! `POST` its form body); mutators need `POST` (`405` otherwise).
//!
//! # Example
//! ```no_run
//! # fn mount(service: revaer_service::Service, v1: axum::Router) -> axum::Router {
//! use revaer_qbit::{QbitConfig, QbitState};
//! v1.merge(revaer_qbit::router(QbitState::new(service, QbitConfig::default())))
//! # }
//! ```

pub mod actions;
pub mod app;
pub mod auth;
pub mod edit;
pub mod log;
pub mod map;
pub mod organise;
pub mod params;
pub mod prefs;
pub mod queue;
pub mod reply;
pub mod rid;
pub mod rows;
pub mod session;
pub mod share;
pub mod state;
pub mod swarm;
pub mod sync;
pub mod torrents;
pub mod trackers;
pub mod transfer;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, get, post};

pub use state::{QbitConfig, QbitState};

/// A read: `GET` (and so `HEAD`) and `POST`.
fn read<H, T>(handler: H) -> MethodRouter<QbitState>
where
    H: Handler<T, QbitState> + Clone,
    T: 'static,
{
    get(handler.clone()).post(handler)
}

/// Every route of the facade, each behind the scope it needs.
pub fn router(state: QbitState) -> Router {
    let reads = Router::new()
        .route("/api/v2/auth/logout", post(auth::logout))
        .route("/api/v2/app/version", read(app::version))
        .route("/api/v2/app/webapiVersion", read(app::webapi_version))
        .route("/api/v2/app/buildInfo", read(app::build_info))
        .route("/api/v2/app/preferences", read(app::preferences))
        .route("/api/v2/app/defaultSavePath", read(app::default_save_path))
        .route("/api/v2/torrents/info", read(torrents::info))
        .route("/api/v2/torrents/properties", read(torrents::properties))
        .route("/api/v2/torrents/files", read(torrents::files))
        .route("/api/v2/torrents/trackers", read(torrents::trackers))
        .route("/api/v2/torrents/categories", read(torrents::categories))
        .route("/api/v2/torrents/tags", read(torrents::tags))
        .route("/api/v2/torrents/downloadLimit", read(organise::download_limit))
        .route("/api/v2/torrents/uploadLimit", read(organise::upload_limit))
        .route("/api/v2/log/main", read(log::main))
        .route("/api/v2/log/peers", read(log::peers))
        .route("/api/v2/sync/maindata", read(sync::maindata))
        .route("/api/v2/sync/torrentPeers", read(swarm::torrent_peers))
        .route("/api/v2/torrents/pieceStates", read(swarm::piece_states))
        .route("/api/v2/transfer/info", read(transfer::info))
        .route("/api/v2/transfer/downloadLimit", read(organise::global_download))
        .route("/api/v2/transfer/uploadLimit", read(organise::global_upload))
        .route_layer(from_fn_with_state(state.clone(), auth::require_read));
    // As on `/v1`: the largest `.torrent` and 1 MiB of the rest (a form of
    // several smaller ones fits too).
    let add_body = state.service.config().max_metainfo_bytes.saturating_add(1024 * 1024);
    let control = Router::new()
        .route("/api/v2/torrents/add", post(actions::add).layer(DefaultBodyLimit::max(add_body)))
        .route("/api/v2/torrents/delete", post(actions::delete))
        .route("/api/v2/torrents/stop", post(actions::stop))
        .route("/api/v2/torrents/pause", post(actions::stop))
        .route("/api/v2/torrents/start", post(actions::start))
        .route("/api/v2/torrents/resume", post(actions::start))
        .route("/api/v2/torrents/recheck", post(actions::recheck))
        .route("/api/v2/torrents/reannounce", post(actions::reannounce))
        .route("/api/v2/torrents/setCategory", post(actions::set_category))
        .route("/api/v2/torrents/createCategory", post(organise::create_category))
        .route("/api/v2/torrents/editCategory", post(organise::edit_category))
        .route("/api/v2/torrents/removeCategories", post(organise::remove_categories))
        .route("/api/v2/torrents/addTags", post(organise::add_tags))
        .route("/api/v2/torrents/removeTags", post(organise::remove_tags))
        .route("/api/v2/torrents/createTags", post(organise::create_tags))
        .route("/api/v2/torrents/deleteTags", post(organise::delete_tags))
        .route("/api/v2/torrents/setDownloadLimit", post(organise::set_download_limit))
        .route("/api/v2/torrents/setUploadLimit", post(organise::set_upload_limit))
        .route("/api/v2/torrents/setShareLimits", post(share::set_share_limits))
        .route("/api/v2/torrents/topPrio", post(queue::top))
        .route("/api/v2/torrents/bottomPrio", post(queue::bottom))
        .route("/api/v2/torrents/increasePrio", post(queue::up))
        .route("/api/v2/torrents/decreasePrio", post(queue::down))
        .route("/api/v2/torrents/setForceStart", post(queue::set_force_start))
        .route("/api/v2/torrents/setLocation", post(edit::set_location))
        .route("/api/v2/torrents/toggleSequentialDownload", post(edit::toggle_sequential))
        .route("/api/v2/torrents/filePrio", post(edit::file_priority))
        .route("/api/v2/torrents/addPeers", post(edit::add_peers))
        .route("/api/v2/torrents/toggleFirstLastPiecePrio", post(edit::toggle_first_last))
        .route("/api/v2/torrents/addTrackers", post(trackers::add_trackers))
        .route("/api/v2/torrents/removeTrackers", post(trackers::remove_trackers))
        .route("/api/v2/torrents/editTracker", post(trackers::edit_tracker))
        .route("/api/v2/app/setPreferences", post(prefs::set_preferences))
        .route("/api/v2/transfer/setDownloadLimit", post(organise::set_global_download))
        .route("/api/v2/transfer/setUploadLimit", post(organise::set_global_upload))
        .route_layer(from_fn_with_state(state.clone(), auth::require_control));
    Router::new()
        .route("/api/v2/auth/login", post(auth::login))
        .merge(reads)
        .merge(control)
        .with_state(state)
}
