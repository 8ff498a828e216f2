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
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Map, Value};

use revaer_domain::InfoHash;

use crate::params::Params;
use crate::reply::{Reply, service_error};
#[cfg(test)]
use crate::rid::next_rid;
use crate::rid::{RidStates, changed};
use crate::rows::BuiltRow;
use crate::state::QbitState;

/// Who a sync state belongs to: a session id, or a key used without one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Client(pub String);

/// Everything a client is sent, at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    torrents: HashMap<InfoHash, Arc<BuiltRow>>,
    categories: BTreeMap<String, Value>,
    tags: Vec<String>,
    server: Map<String, Value>,
}

/// Every client's `sync/maindata` state.
#[derive(Debug, Default)]
pub struct SyncStates(RidStates<Client, Snapshot>);

/// A `sync/maindata` reply. A full update carries every key (typed
/// clients expect them on an empty daemon too); a delta only those with
/// something in them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MainData {
    rid: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    full_update: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    torrents: Option<Torrents>,
    #[serde(skip_serializing_if = "Option::is_none")]
    torrents_removed: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    categories: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    categories_removed: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags_removed: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trackers: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_state: Option<Map<String, Value>>,
}

/// `Some` when there is something, or when everything is sent.
fn keep<T: IsEmpty>(value: T, full: bool) -> Option<T> {
    (full || !value.is_empty()).then_some(value)
}

trait IsEmpty {
    fn is_empty(&self) -> bool;
}

impl<K, V> IsEmpty for BTreeMap<K, V> {
    fn is_empty(&self) -> bool {
        BTreeMap::is_empty(self)
    }
}

impl<T> IsEmpty for Vec<T> {
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
}

impl IsEmpty for Map<String, Value> {
    fn is_empty(&self) -> bool {
        Map::is_empty(self)
    }
}

/// A torrent in a reply: whole (new to the client) or its changed fields.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Row {
    /// Every field.
    Whole(Arc<BuiltRow>),
    /// The fields that changed.
    Changed(Map<String, Value>),
}

/// The torrents of a reply, by hash (a JSON object; its keys in no order,
/// as qBittorrent's).
#[derive(Debug, Clone, Default)]
pub struct Torrents(Vec<(Arc<BuiltRow>, Row)>);

impl Serialize for Torrents {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (row, sent) in &self.0 {
            map.serialize_entry(&row.hash, sent)?;
        }
        map.end()
    }
}

impl IsEmpty for Torrents {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What takes a client from `old` to `new` (everything when `old` is
/// `None`).
pub fn delta(old: Option<&Snapshot>, new: &Snapshot, rid: u64) -> MainData {
    let empty = Snapshot::default();
    let full = old.is_none();
    let base = old.unwrap_or(&empty);
    let mut torrents = Vec::new();
    for (id, row) in &new.torrents {
        match base.torrents.get(id) {
            // The same row (most often the very same, from the row cache).
            Some(before) if Arc::ptr_eq(before, row) => {}
            Some(before) => {
                let fields = crate::rows::changed(before, row);
                if !fields.is_empty() {
                    torrents.push((Arc::clone(row), Row::Changed(fields)));
                }
            }
            None => torrents.push((Arc::clone(row), Row::Whole(Arc::clone(row)))),
        }
    }
    let torrents = Torrents(torrents);
    let mut removed: Vec<String> = base
        .torrents
        .iter()
        .filter(|(id, _)| !new.torrents.contains_key(*id))
        .map(|(_, row)| row.hash.clone())
        .collect();
    removed.sort();
    let categories: Map<String, Value> = new
        .categories
        .iter()
        .filter(|(name, category)| base.categories.get(*name) != Some(*category))
        .map(|(name, category)| (name.clone(), category.clone()))
        .collect();
    let categories_removed: Vec<String> = base
        .categories
        .keys()
        .filter(|name| !new.categories.contains_key(*name))
        .cloned()
        .collect();
    let tags: Vec<String> =
        new.tags.iter().filter(|tag| !base.tags.contains(tag)).cloned().collect();
    let tags_removed: Vec<String> =
        base.tags.iter().filter(|tag| !new.tags.contains(tag)).cloned().collect();
    MainData {
        rid,
        full_update: full,
        torrents: keep(torrents, full),
        torrents_removed: keep(removed, false),
        categories: keep(categories, full),
        categories_removed: keep(categories_removed, false),
        tags: keep(tags, full),
        tags_removed: keep(tags_removed, false),
        trackers: keep(Map::new(), full),
        server_state: keep(changed(&base.server, new.server.clone()), full),
    }
}

impl SyncStates {
    /// The reply for `client` asking with `rid`, given `now`.
    pub fn reply(&self, client: &Client, rid: u64, now: Snapshot) -> MainData {
        self.0.reply(client, rid, now, delta)
    }
}

/// Everything a client is sent, now.
async fn snapshot(state: &QbitState) -> Reply<Snapshot> {
    let engine = state.service.engine();
    // Keyed by id: the order of the engine's list does not matter here.
    let list = engine.list_unordered();
    let torrents = state.rows.by_id(engine, &list);
    let settings = state.settings.current(&state.service).await.map_err(service_error)?;
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
    let unique: std::collections::BTreeSet<&str> =
        list.iter().flat_map(|t| t.labels.tags.iter().map(String::as_str)).collect();
    let tags: Vec<String> = unique.into_iter().map(str::to_owned).collect();
    Ok(Snapshot { torrents, categories, tags, server: server_state(state, &list) })
}

/// `server_state`: the session's figures.
fn server_state(
    state: &QbitState,
    list: &[Arc<revaer_domain::TorrentSummary>],
) -> Map<String, Value> {
    let session = state.service.engine().settings();
    let totals = revaer_service::transfer::totals(list);
    let health = state.service.engine().health();
    // The download folder's filesystem (the nearest folder that exists:
    // the download folder is made with the first torrent).
    let free = session
        .download_dir
        .ancestors()
        .find_map(|dir| nix::sys::statvfs::statvfs(dir).ok())
        .map_or(0, |fs| fs.blocks_available().saturating_mul(fs.fragment_size()));
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
        "dl_rate_limit": session.download_limit.get().unwrap_or(0),
        "up_rate_limit": session.upload_limit.get().unwrap_or(0),
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
) -> Reply<axum::response::Response> {
    let rid = params.int("rid").and_then(|rid| u64::try_from(rid).ok()).unwrap_or(0);
    let now = snapshot(&state).await?;
    let data = state.syncs.reply(&client, rid, now);
    Ok(crate::reply::json_sized(&data, data.size_hint()))
}

impl MainData {
    /// About how many bytes the reply's JSON takes (its rows sent whole
    /// above all), so that its buffer is allocated once.
    fn size_hint(&self) -> usize {
        let rows = self.torrents.as_ref().map_or(0, |torrents| {
            let row = |sent: &Row| match sent {
                Row::Whole(row) => row.json().len() + 48,
                Row::Changed(fields) => fields.len() * 32 + 48,
            };
            torrents.0.iter().map(|(_, sent)| row(sent)).sum()
        });
        rows + 4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(torrents: &[(&str, &str)]) -> Snapshot {
        let row = |hash: &str, name: &str| {
            let mut summary =
                crate::map::test_summary(revaer_domain::TorrentState::Paused, 0, 0, 0);
            summary.name = name.into();
            let mut info =
                crate::map::TorrentInfo::of(&summary, 0, &crate::map::RowPolicy::default());
            info.hash = hash.into();
            let mut id = [0_u8; 20];
            id[0] = hash.as_bytes()[0];
            (InfoHash::from_bytes(id), info)
        };
        Snapshot {
            torrents: torrents
                .iter()
                .map(|(h, n)| row(h, n))
                .map(|(h, r)| (h, Arc::new(BuiltRow::new(r))))
                .collect(),
            ..Snapshot::default()
        }
    }

    fn json(data: &MainData) -> Value {
        serde_json::to_value(data).expect("serialises")
    }

    #[test]
    fn rids_follow_qbittorrents_rules_including_a_lost_reply() {
        let syncs = SyncStates::default();
        let me = Client("sid".into());
        let full = json(&syncs.reply(&me, 0, snap(&[("a", "A")])));
        assert_eq!(full["full_update"], true);
        assert!(full["torrents"]["a"].get("hash").is_none(), "the hash is the key");
        assert_eq!(full["torrents"]["a"]["name"], "A");
        for key in ["categories", "tags", "trackers", "server_state"] {
            assert!(full.get(key).is_some(), "a full update carries {key}");
        }
        let rid = |data: &Value| data["rid"].as_u64().expect("rid");
        // Nothing changed: an empty delta under a new rid.
        let quiet = json(&syncs.reply(&me, rid(&full), snap(&[("a", "A")])));
        assert!(quiet.get("full_update").is_none() && quiet.get("torrents").is_none(), "{quiet}");
        assert_eq!(rid(&quiet), next_rid(rid(&full)));
        // A change, and a new torrent: changed fields only; the new one whole.
        let change = json(&syncs.reply(&me, rid(&quiet), snap(&[("a", "A2"), ("b", "B")])));
        let keys: Vec<&str> = change["torrents"]["a"]
            .as_object()
            .map(|f| f.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["name"], "only what changed");
        assert!(change["torrents"]["b"].get("state").is_some(), "new torrents come whole");
        // That reply is lost: the client asks with the rid before again,
        // and gets the changes since then (b went meanwhile: never seen).
        let again = json(&syncs.reply(&me, rid(&quiet), snap(&[("a", "A2")])));
        assert_eq!(again["torrents"]["a"]["name"], "A2");
        assert!(again.get("torrents_removed").is_none());
        assert!(again["torrents"].get("b").is_none());
        // It got that one: deltas from there.
        let next = json(&syncs.reply(&me, rid(&again), snap(&[])));
        assert_eq!(next["torrents_removed"], serde_json::json!(["a"]));
        // An unknown rid: full; another client has its own state.
        assert_eq!(json(&syncs.reply(&me, 0, snap(&[])))["full_update"], true);
        let other = json(&syncs.reply(&Client("other".into()), rid(&next), snap(&[])));
        assert_eq!(other["full_update"], true);
    }
}
