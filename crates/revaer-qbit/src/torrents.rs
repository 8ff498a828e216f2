//! `torrents/*` reads: the list, one torrent's properties, files and
//! trackers, categories and tags.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse as _, Response};
use revaer_domain::{FilePriority, TorrentState, TorrentSummary, TrackerStatus};
use serde::Serialize;

use crate::map::{ETA_UNKNOWN, TorrentInfo, complete};
use crate::params::{Hashes, Params};
use crate::reply::{Reply, service_error};
use crate::rows::{BuiltRow, info_body};
use crate::state::QbitState;

/// Whether `torrent` passes `torrents/info`'s `filter` (qBittorrent 5.0's
/// names and 4.x's `paused`/`resumed`; an unknown filter passes all).
fn passes(filter: &str, torrent: &TorrentSummary) -> bool {
    let state = crate::map::state(torrent);
    let done = complete(torrent);
    let paused = torrent.state == TorrentState::Paused;
    let active = torrent.download_bps > 0 || torrent.upload_bps > 0;
    match filter {
        "downloading" => !done && torrent.state != TorrentState::Error,
        "seeding" => done && !paused && torrent.state != TorrentState::Error,
        "completed" => done,
        "stopped" | "paused" => paused,
        "running" | "resumed" => !paused,
        "active" => active,
        "inactive" => !active,
        "stalled" => state.starts_with("stalled"),
        "stalled_uploading" => state == "stalledUP",
        "stalled_downloading" => state == "stalledDL",
        "checking" => torrent.state == TorrentState::Checking,
        "moving" => torrent.state == TorrentState::Moving,
        "errored" => torrent.state == TorrentState::Error,
        _ => true,
    }
}

/// `torrents/info`: `filter`, `category` (`""`: none), `tag` (`""`:
/// none), `hashes`, `sort`, `reverse`, `limit`, `offset` (negative: from
/// the end).
pub async fn info(State(state): State<QbitState>, params: Params) -> Response {
    let engine = state.service.engine();
    let wanted = match params.hashes("hashes") {
        Hashes::Some(ids) if params.get("hashes").is_some() => {
            Some(ids.into_iter().collect::<std::collections::HashSet<_>>())
        }
        _ => None,
    };
    let filter = params.get("filter").unwrap_or("all");
    let category = params.get("category");
    let tag = params.get("tag");
    let list: Vec<_> = engine
        .list()
        .into_iter()
        .filter(|t| wanted.as_ref().is_none_or(|ids| ids.contains(&t.id)))
        .filter(|t| passes(filter, t))
        .filter(|t| category.is_none_or(|c| t.labels.category.as_deref().unwrap_or("") == c))
        .filter(|t| {
            tag.is_none_or(|g| {
                if g.is_empty() {
                    t.labels.tags.is_empty()
                } else {
                    t.labels.tags.iter().any(|x| x == g)
                }
            })
        })
        .collect();
    let mut rows = state.rows.rows(engine, &list);
    if let Some(key) = params.get("sort") {
        sort(&mut rows, key);
    }
    if params.flag("reverse") == Some(true) {
        rows.reverse();
    }
    let len = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let offset = params.int("offset").unwrap_or(0);
    let start = if offset < 0 { (len + offset).max(0) } else { offset.min(len) };
    let limit = params.int("limit").filter(|l| *l > 0).unwrap_or(len);
    let start = usize::try_from(start).unwrap_or(0);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(rows.len());
    let body = info_body(rows.get(start..end).unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Sorts by a `torrents/info` field name (unknown names leave the order).
fn sort(rows: &mut [std::sync::Arc<BuiltRow>], key: &str) {
    let by_f64 = |f: fn(&TorrentInfo) -> f64| {
        move |a: &std::sync::Arc<BuiltRow>, b: &std::sync::Arc<BuiltRow>| f(a).total_cmp(&f(b))
    };
    match key {
        "name" => rows.sort_by_cached_key(|row| row.name.to_lowercase()),
        "size" => rows.sort_by_key(|r| r.size),
        "total_size" => rows.sort_by_key(|r| r.total_size),
        "progress" => rows.sort_by(by_f64(|r| r.progress)),
        "ratio" => rows.sort_by(by_f64(|r| r.ratio)),
        "dlspeed" => rows.sort_by_key(|r| r.dlspeed),
        "upspeed" => rows.sort_by_key(|r| r.upspeed),
        "eta" => rows.sort_by_key(|r| r.eta),
        "added_on" => rows.sort_by_key(|r| r.added_on),
        "completion_on" => rows.sort_by_key(|r| r.completion_on),
        "state" => rows.sort_by_key(|r| r.state),
        "category" => rows.sort_by(|a, b| a.category.cmp(&b.category)),
        "hash" => rows.sort_by(|a, b| a.hash.cmp(&b.hash)),
        "priority" => rows.sort_by_key(|r| r.priority),
        "num_seeds" => rows.sort_by_key(|r| r.num_seeds),
        "num_leechs" => rows.sort_by_key(|r| r.num_leechs),
        "downloaded" => rows.sort_by_key(|r| r.downloaded),
        "uploaded" => rows.sort_by_key(|r| r.uploaded),
        "seeding_time" => rows.sort_by_key(|r| r.seeding_time),
        "last_activity" => rows.sort_by_key(|r| r.last_activity),
        _ => {}
    }
}

/// `torrents/properties`.
#[derive(Debug, Clone, Serialize)]
pub struct Properties {
    save_path: String,
    download_path: String,
    creation_date: i64,
    piece_size: i64,
    comment: String,
    total_wasted: u64,
    total_uploaded: u64,
    total_uploaded_session: u64,
    total_downloaded: u64,
    total_downloaded_session: u64,
    up_limit: i64,
    dl_limit: i64,
    time_elapsed: i64,
    seeding_time: i64,
    nb_connections: u32,
    nb_connections_limit: i64,
    share_ratio: f64,
    addition_date: i64,
    completion_date: i64,
    created_by: String,
    dl_speed_avg: u64,
    dl_speed: u64,
    eta: u64,
    last_seen: i64,
    peers: u32,
    peers_total: i64,
    pieces_have: i64,
    pieces_num: i64,
    reannounce: i64,
    seeds: u32,
    seeds_total: i64,
    total_size: u64,
    up_speed_avg: u64,
    up_speed: u64,
    popularity: f64,
    private: bool,
    is_private: bool,
    has_metadata: bool,
    hash: String,
    name: String,
}

fn limit_of(limit: revaer_domain::RateLimit) -> i64 {
    limit.get().and_then(|bps| i64::try_from(bps).ok()).unwrap_or(-1)
}

/// The engine's detail of the torrent `hash` names (`404` when none).
async fn detail(state: &QbitState, params: &Params) -> Reply<revaer_domain::TorrentDetail> {
    let id = params.hash()?;
    state.service.engine().detail(id).await.map_err(|err| service_error(err.into()))
}

/// `torrents/properties?hash=` (`404` for an unknown torrent).
pub async fn properties(State(state): State<QbitState>, params: Params) -> Reply<Json<Properties>> {
    let detail = detail(&state, &params).await?;
    let t = &detail.summary;
    let row = TorrentInfo::of(t, 0, &crate::map::RowPolicy::of(state.service.engine()));
    Ok(Json(Properties {
        save_path: row.save_path,
        download_path: String::new(),
        creation_date: -1,
        piece_size: -1,
        comment: String::new(),
        total_wasted: 0,
        total_uploaded: t.uploaded,
        total_uploaded_session: t.uploaded,
        total_downloaded: t.downloaded,
        total_downloaded_session: t.downloaded,
        up_limit: limit_of(t.upload_limit),
        dl_limit: limit_of(t.download_limit),
        time_elapsed: 0,
        seeding_time: row.seeding_time,
        nb_connections: t.peers,
        nb_connections_limit: -1,
        share_ratio: t.ratio,
        addition_date: row.added_on,
        completion_date: row.completion_on,
        created_by: String::new(),
        dl_speed_avg: t.download_bps,
        dl_speed: t.download_bps,
        eta: row.eta.min(ETA_UNKNOWN),
        last_seen: -1,
        peers: t.peers.saturating_sub(t.seeds),
        peers_total: -1,
        pieces_have: -1,
        pieces_num: -1,
        reannounce: 0,
        seeds: t.seeds,
        seeds_total: -1,
        total_size: t.size,
        up_speed_avg: t.upload_bps,
        up_speed: t.upload_bps,
        popularity: 0.0,
        private: t.private,
        is_private: t.private,
        has_metadata: row.has_metadata,
        hash: row.hash,
        name: row.name,
    }))
}

/// One row of `torrents/files`.
#[derive(Debug, Clone, Serialize)]
pub struct FileRow {
    index: u32,
    name: String,
    size: u64,
    progress: f64,
    priority: u8,
    is_seed: bool,
    piece_range: [u32; 2],
    availability: f64,
}

/// qBittorrent's file priorities: 0 skip, 1 normal, 6 high (Revaer's low
/// is shown as normal: qBittorrent has none).
pub fn priority_of(priority: FilePriority) -> u8 {
    match priority {
        FilePriority::Skip => 0,
        FilePriority::Low | FilePriority::Normal => 1,
        FilePriority::High => 6,
    }
}

/// `torrents/files?hash=`.
pub async fn files(State(state): State<QbitState>, params: Params) -> Reply<Json<Vec<FileRow>>> {
    let detail = detail(&state, &params).await?;
    let rows = detail
        .files
        .iter()
        .map(|file| FileRow {
            index: file.index,
            name: file.path.clone(),
            size: file.size,
            progress: file.progress(),
            priority: priority_of(file.priority),
            is_seed: file.bytes_done >= file.size,
            piece_range: [0, 0],
            availability: -1.0,
        })
        .collect();
    Ok(Json(rows))
}

/// One row of `torrents/trackers`.
#[derive(Debug, Clone, Serialize)]
pub struct TrackerRow {
    url: String,
    status: u8,
    tier: i64,
    num_peers: i64,
    num_seeds: i64,
    num_leeches: i64,
    num_downloaded: i64,
    msg: String,
}

/// A DHT, PeX or LSD row: working when the session has it on, disabled
/// (status 0) when not, or for a private torrent, which uses none of them.
fn pseudo(url: &str, on: bool, private: bool) -> TrackerRow {
    TrackerRow {
        url: url.to_owned(),
        status: if on && !private { 2 } else { 0 },
        tier: -1,
        num_peers: 0,
        num_seeds: 0,
        num_leeches: 0,
        num_downloaded: 0,
        msg: if private { "This torrent is private".to_owned() } else { String::new() },
    }
}

/// `torrents/trackers?hash=`: the DHT, PeX and LSD rows first, as
/// qBittorrent lists them, then each tracker (status 1 not contacted, 2
/// working, 3 updating, 4 not working).
pub async fn trackers(
    State(state): State<QbitState>,
    params: Params,
) -> Reply<Json<Vec<TrackerRow>>> {
    let detail = detail(&state, &params).await?;
    let session = state.service.engine().settings();
    let private = detail.summary.private;
    let mut rows = vec![
        pseudo("** [DHT] **", session.dht, private),
        pseudo("** [PeX] **", session.pex, private),
        pseudo("** [LSD] **", session.lsd, private),
    ];
    let count = |n: Option<u32>| n.map_or(-1, i64::from);
    rows.extend(detail.trackers.iter().map(|tracker| TrackerRow {
        url: tracker.url.clone(),
        status: match tracker.status {
            TrackerStatus::NotContacted => 1,
            TrackerStatus::Working => 2,
            TrackerStatus::Updating => 3,
            TrackerStatus::Error => 4,
        },
        tier: i64::from(tracker.tier),
        num_peers: -1,
        num_seeds: count(tracker.seeds),
        num_leeches: count(tracker.leechers),
        num_downloaded: -1,
        msg: tracker.message.clone().unwrap_or_default(),
    }));
    Ok(Json(rows))
}

/// One category of `torrents/categories`.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryView {
    name: String,
    #[serde(rename = "savePath")]
    save_path: String,
}

/// `torrents/categories`: the categories of the settings.
pub async fn categories(
    State(state): State<QbitState>,
) -> Reply<Json<BTreeMap<String, CategoryView>>> {
    let snapshot = state.settings.current(&state.service).await.map_err(service_error)?;
    let map = snapshot
        .settings
        .categories
        .0
        .iter()
        .map(|(name, category)| {
            let save_path = category.save_path.clone().unwrap_or_default();
            (name.clone(), CategoryView { name: name.clone(), save_path })
        })
        .collect();
    Ok(Json(map))
}

/// `torrents/tags`: every tag a torrent carries, sorted.
pub async fn tags(State(state): State<QbitState>) -> Json<Vec<String>> {
    let mut tags: Vec<String> =
        state.service.engine().list().iter().flat_map(|t| t.labels.tags.clone()).collect();
    tags.sort();
    tags.dedup();
    Json(tags)
}
