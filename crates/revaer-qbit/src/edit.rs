//! Per-torrent edits: `setLocation`, `toggleSequentialDownload`,
//! `toggleFirstLastPiecePrio`, `filePrio` and `addPeers`.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use revaer_api_models::TorrentAction;
use revaer_domain::selection::PriorityOverride;
use revaer_domain::{FilePriority, SelectionRules};
use revaer_service::Caller;

use crate::params::Params;
use crate::reply::{Reply, Text, service_error};
use crate::state::QbitState;

/// `torrents/setLocation`: `hashes`, `location` (inside the storage
/// roots). `400` without a location; the move runs to its end.
pub async fn set_location(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let Some(location) = params.get("location").map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(Text::error(StatusCode::BAD_REQUEST, "Save path cannot be empty"));
    };
    let action = TorrentAction::Move { save_path: location.to_owned() };
    crate::actions::each(&state, &caller, &params, action).await
}

/// `torrents/toggleSequentialDownload`: `hashes`, each switched.
pub async fn toggle_sequential(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    for id in crate::actions::named(&state, &params) {
        let Some(torrent) = state.service.engine().summary(id) else { continue };
        let action = TorrentAction::Sequential { enable: !torrent.sequential };
        state.service.act(&caller, id, action).await.map_err(service_error)?;
    }
    Ok(Text::body(""))
}

/// `torrents/toggleFirstLastPiecePrio`: `hashes`, each switched.
pub async fn toggle_first_last(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    for id in crate::actions::named(&state, &params) {
        let Some(torrent) = state.service.engine().summary(id) else { continue };
        let action = TorrentAction::FirstLastPiece { enable: !torrent.first_last_piece };
        state.service.act(&caller, id, action).await.map_err(service_error)?;
    }
    Ok(Text::body(""))
}

/// A file priority as qBittorrent numbers it (`0` skip, `1` normal, `6`
/// high, `7` maximum).
fn priority(text: &str) -> Option<FilePriority> {
    match text.trim() {
        "0" => Some(FilePriority::Skip),
        "1" => Some(FilePriority::Normal),
        "6" | "7" => Some(FilePriority::High),
        _ => None,
    }
}

/// `torrents/filePrio`: `hash`, `id` (file indexes, `|`-separated),
/// `priority`. `400` for an unknown priority, `409` for an unknown index
/// or a torrent without its metadata yet, `404` for an unknown torrent.
/// The file's new priority is kept with the others as they are.
pub async fn file_priority(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let id = params.hash()?;
    let Some(wanted) = params.get("priority").and_then(priority) else {
        return Ok(Text::error(StatusCode::BAD_REQUEST, "Priority is not valid"));
    };
    let detail = state.service.engine().detail(id).await.map_err(|e| service_error(e.into()))?;
    let indexes: Option<Vec<u32>> = params
        .get("id")
        .unwrap_or_default()
        .split('|')
        .map(|index| index.trim().parse::<u32>().ok())
        .collect();
    let known = |index: &u32| usize::try_from(*index).is_ok_and(|at| at < detail.files.len());
    let Some(indexes) = indexes.filter(|list| !list.is_empty() && list.iter().all(known)) else {
        return Ok(Text::error(StatusCode::CONFLICT, "File IDs are not valid"));
    };
    // Every file's priority, explicit: the rules then say exactly what the
    // files say now, with the change.
    let priorities = detail
        .files
        .iter()
        .map(|file| PriorityOverride {
            index: file.index,
            priority: if indexes.contains(&file.index) { wanted } else { file.priority },
        })
        .collect();
    let rules = SelectionRules { priorities, ..SelectionRules::default() };
    state.service.select_files(&caller, id, rules).await.map_err(service_error)?;
    Ok(Text::body(""))
}

/// `torrents/addPeers`: `hashes`, `peers` (`ip:port`, `|`-separated).
/// `400` when no peer is usable.
pub async fn add_peers(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let peers: Vec<String> = params
        .get("peers")
        .unwrap_or_default()
        .split('|')
        .map(str::trim)
        .filter(|peer| peer.parse::<std::net::SocketAddr>().is_ok())
        .take(revaer_api_models::torrent::MAX_PEERS)
        .map(str::to_owned)
        .collect();
    if peers.is_empty() {
        return Ok(Text::error(StatusCode::BAD_REQUEST, "No valid peers were specified"));
    }
    crate::actions::each(&state, &caller, &params, TorrentAction::AddPeers { peers }).await
}
