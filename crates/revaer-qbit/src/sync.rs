//! `sync/maindata`: qBittorrent's incremental sync, per client.
//!
//! Each client (a session, or a key used without one) has a sync state:
//! the snapshot it was last sent (under the `rid` of that reply) and the
//! snapshot it is known to hold (the one before, which it acknowledged by
//! asking with its `rid`). A request with
//! - `rid` 0, or one this state does not know → a full update;
//! - the last `rid` sent → the changes since that reply;
//! - the `rid` before it (the last reply was lost) → the changes since the
//!   acknowledged snapshot again, accumulated;
//!
//! each answered under a new `rid` (`(last % 1 000 000) + 1`, as
//! qBittorrent counts). A torrent new to the client comes whole; a changed
//! one with only its changed fields; `hash` is the key, never a field.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::map::TorrentInfo;
use crate::params::Params;
use crate::reply::{Reply, service_error};
use crate::state::QbitState;

/// Sync states kept at once (the least recently used goes first).
pub const MAX_STATES: usize = 1024;
/// A sync state unused this long is dropped.
pub const STATE_TIMEOUT: Duration = Duration::from_hours(1);

/// Who a sync state belongs to: a session id, or a key used without one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Client(pub String);

/// Everything a client is sent, at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    torrents: HashMap<String, TorrentInfo>,
    categories: BTreeMap<String, Value>,
    tags: Vec<String>,
    server: Map<String, Value>,
}

#[derive(Debug)]
struct SyncState {
    /// The `rid` of the last reply and what it held.
    sent: (u64, Arc<Snapshot>),
    /// The `rid` before it and what it held (what the client holds if the
    /// last reply was lost).
    acked: Option<(u64, Arc<Snapshot>)>,
    used: Instant,
}

/// Every client's sync state.
#[derive(Debug, Default)]
pub struct SyncStates(Mutex<HashMap<Client, SyncState>>);

/// A `sync/maindata` reply.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MainData {
    rid: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    full_update: bool,
    #[serde(skip_serializing_if = "Map::is_empty")]
    torrents: Map<String, Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    torrents_removed: Vec<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    categories: Map<String, Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    categories_removed: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags_removed: Vec<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    server_state: Map<String, Value>,
}

fn next_rid(rid: u64) -> u64 {
    (rid % 1_000_000) + 1
}

/// A torrent row as a JSON object without its `hash` (the map's key).
fn fields(row: &TorrentInfo) -> Map<String, Value> {
    let mut map = match serde_json::to_value(row) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    map.remove("hash");
    map
}

/// The fields of `now` that differ from `before`.
fn changed(before: &Map<String, Value>, now: Map<String, Value>) -> Map<String, Value> {
    now.into_iter().filter(|(key, value)| before.get(key) != Some(value)).collect()
}

/// What takes a client from `old` to `new` (everything when `old` is
/// `None`).
pub fn delta(old: Option<&Snapshot>, new: &Snapshot, rid: u64) -> MainData {
    let empty = Snapshot::default();
    let base = old.unwrap_or(&empty);
    let mut data = MainData { rid, full_update: old.is_none(), ..MainData::default() };
    for (hash, row) in &new.torrents {
        match base.torrents.get(hash) {
            Some(before) if before == row => {}
            Some(before) => {
                data.torrents
                    .insert(hash.clone(), Value::Object(changed(&fields(before), fields(row))));
            }
            None => {
                data.torrents.insert(hash.clone(), Value::Object(fields(row)));
            }
        }
    }
    data.torrents_removed =
        base.torrents.keys().filter(|hash| !new.torrents.contains_key(*hash)).cloned().collect();
    data.torrents_removed.sort();
    for (name, category) in &new.categories {
        if base.categories.get(name) != Some(category) {
            data.categories.insert(name.clone(), category.clone());
        }
    }
    data.categories_removed = base
        .categories
        .keys()
        .filter(|name| !new.categories.contains_key(*name))
        .cloned()
        .collect();
    data.tags = new.tags.iter().filter(|tag| !base.tags.contains(tag)).cloned().collect();
    data.tags_removed = base.tags.iter().filter(|tag| !new.tags.contains(tag)).cloned().collect();
    data.server_state = changed(&base.server, new.server.clone());
    data
}

impl SyncStates {
    /// The reply for `client` asking with `rid`, given `now`.
    pub fn reply(&self, client: &Client, rid: u64, now: Snapshot) -> MainData {
        let now = Arc::new(now);
        let mut states = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let clock = Instant::now();
        if states.len() >= MAX_STATES && !states.contains_key(client) {
            states.retain(|_, state| clock.duration_since(state.used) < STATE_TIMEOUT);
            if states.len() >= MAX_STATES
                && let Some(oldest) =
                    states.iter().min_by_key(|(_, s)| s.used).map(|(c, _)| c.clone())
            {
                states.remove(&oldest);
            }
        }
        let (base, last) = match states.get(client) {
            Some(state) if rid != 0 && rid == state.sent.0 => {
                (Some(Arc::clone(&state.sent.1)), state.sent.0)
            }
            Some(state) => match &state.acked {
                Some((acked, snapshot)) if rid != 0 && rid == *acked => {
                    (Some(Arc::clone(snapshot)), state.sent.0)
                }
                _ => (None, state.sent.0),
            },
            None => (None, 0),
        };
        let new_rid = next_rid(last);
        let data = delta(base.as_deref(), &now, new_rid);
        // What the client holds once it asks with `new_rid`: `now`; if it
        // asks with `rid` again instead, what it held before.
        let acked = base.map(|snapshot| (rid, snapshot));
        states.insert(client.clone(), SyncState { sent: (new_rid, now), acked, used: clock });
        data
    }
}

/// Everything a client is sent, now.
async fn snapshot(state: &QbitState) -> Reply<Snapshot> {
    let engine = state.service.engine();
    let list = engine.list();
    let torrents = list
        .iter()
        .map(|torrent| {
            let trackers = engine.facets(torrent.id).map_or(0, |f| f.tracker_hosts.len());
            let row = TorrentInfo::of(
                torrent,
                String::new(),
                u32::try_from(trackers).unwrap_or(u32::MAX),
            );
            (row.hash.clone(), row)
        })
        .collect();
    let settings = state.service.settings().await.map_err(service_error)?;
    let categories = settings
        .settings
        .categories
        .0
        .iter()
        .map(|(name, category)| {
            let save_path = category.save_path.clone().unwrap_or_default();
            (name.clone(), serde_json::json!({"name": name, "savePath": save_path}))
        })
        .collect();
    let mut tags: Vec<String> = list.iter().flat_map(|t| t.labels.tags.clone()).collect();
    tags.sort();
    tags.dedup();
    Ok(Snapshot { torrents, categories, tags, server: server_state(state, &list) })
}

/// `server_state`: the session's figures.
fn server_state(
    state: &QbitState,
    list: &[Arc<revaer_domain::TorrentSummary>],
) -> Map<String, Value> {
    let totals = state.service.transfer();
    let health = state.service.engine().health();
    let session = state.service.engine().settings();
    // The download folder's filesystem (the nearest folder that exists:
    // the download folder is made with the first torrent).
    let free = session
        .download_dir
        .ancestors()
        .find_map(|dir| nix::sys::statvfs::statvfs(dir).ok())
        .map_or(0, |fs| {
            fs.blocks_available().saturating_mul(fs.fragment_size())
        });
    let ratio = if totals.downloaded == 0 {
        0.0
    } else {
        totals.uploaded as f64 / totals.downloaded as f64
    };
    let peers: u64 = list.iter().map(|t| u64::from(t.peers)).sum();
    let value = serde_json::json!({
        "connection_status": if health.listen_port.is_some() { "connected" } else { "disconnected" },
        "dl_info_speed": totals.download_bps,
        "dl_info_data": totals.downloaded,
        "up_info_speed": totals.upload_bps,
        "up_info_data": totals.uploaded,
        "alltime_dl": totals.downloaded,
        "alltime_ul": totals.uploaded,
        "dl_rate_limit": totals.download_limit_bps.unwrap_or(0),
        "up_rate_limit": totals.upload_limit_bps.unwrap_or(0),
        "dht_nodes": health.dht_nodes.unwrap_or(0),
        "total_peer_connections": peers,
        "global_ratio": format!("{ratio:.2}"),
        "free_space_on_disk": free,
        "queueing": session.active_downloads.is_some() || session.active_limit.is_some(),
        "use_alt_speed_limits": false,
        "refresh_interval": 1500,
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `sync/maindata?rid=`.
pub async fn maindata(
    State(state): State<QbitState>,
    Extension(client): Extension<Client>,
    params: Params,
) -> Reply<Json<MainData>> {
    let rid = params.int("rid").and_then(|rid| u64::try_from(rid).ok()).unwrap_or(0);
    let now = snapshot(&state).await?;
    Ok(Json(state.syncs.reply(&client, rid, now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(torrents: &[(&str, &str)]) -> Snapshot {
        let row = |hash: &str, name: &str| {
            let summary = revaer_domain::TorrentSummary {
                id: revaer_domain::InfoHash::from_bytes([0; 20]),
                name: name.into(),
                state: revaer_domain::TorrentState::Paused,
                progress: 0.0,
                bytes_done: 0,
                bytes_wanted: 1,
                size: 1,
                download_bps: 0,
                upload_bps: 0,
                downloaded: 0,
                uploaded: 0,
                ratio: 0.0,
                eta_secs: None,
                peers: 0,
                seeds: 0,
                save_path: "/d".into(),
                labels: revaer_domain::TorrentLabels::default(),
                added_at: None,
                completed_at: None,
            };
            let mut info = TorrentInfo::of(&summary, String::new(), 0);
            info.hash = hash.into();
            (hash.to_owned(), info)
        };
        Snapshot {
            torrents: torrents.iter().map(|(h, n)| row(h, n)).collect(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn rids_follow_qbittorrents_rules_including_a_lost_reply() {
        let syncs = SyncStates::default();
        let me = Client("sid".into());
        let full = syncs.reply(&me, 0, snap(&[("a", "A")]));
        assert!(full.full_update);
        assert_eq!(full.rid, 1);
        assert!(full.torrents["a"].get("hash").is_none(), "the hash is the key");
        assert_eq!(full.torrents["a"]["name"], "A");
        // Nothing changed: an empty delta under a new rid.
        let quiet = syncs.reply(&me, 1, snap(&[("a", "A")]));
        assert!(!quiet.full_update && quiet.torrents.is_empty());
        assert_eq!(quiet.rid, 2);
        // A change, and a new torrent: changed fields only; the new one whole.
        let change = syncs.reply(&me, 2, snap(&[("a", "A2"), ("b", "B")]));
        assert_eq!(change.rid, 3);
        let keys: Vec<&str> = change.torrents["a"]
            .as_object()
            .map(|f| f.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["content_path", "name", "root_path"], "only what changed");
        assert!(change.torrents["b"].get("state").is_some(), "new torrents come whole");
        // That reply is lost: the client asks with 2 again and gets the
        // same changes (and the removal of what went since), under rid 4.
        let again = syncs.reply(&me, 2, snap(&[("a", "A2")]));
        assert_eq!(again.rid, 4);
        assert_eq!(again.torrents["a"]["name"], "A2");
        assert!(again.torrents_removed.is_empty(), "b was never seen by the client");
        assert!(again.torrents.get("b").is_none());
        // It got 4: deltas from there.
        let next = syncs.reply(&me, 4, snap(&[]));
        assert_eq!(next.torrents_removed, ["a"]);
        // An unknown rid: full.
        assert!(syncs.reply(&me, 999, snap(&[])).full_update);
        // Another client has its own state.
        assert!(syncs.reply(&Client("other".into()), 4, snap(&[])).full_update);
    }

    #[test]
    fn rids_wrap_at_a_million() {
        assert_eq!(next_rid(1_000_000), 1);
        assert_eq!(next_rid(7), 8);
    }
}
