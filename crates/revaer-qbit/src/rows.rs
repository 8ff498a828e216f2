//! Torrent rows built once per published summary, with their JSON.
//!
//! A poll of `torrents/info` or `sync/maindata` sends thousands of rows,
//! nearly all unchanged since the last poll. Each row is built (and
//! serialised) only when the engine publishes a new summary of its
//! torrent; a reply then copies the bytes of the rows it sends, and a
//! delta compares a changed row with the one before field by field,
//! without turning either into a JSON tree.

use std::collections::{HashMap, HashSet};
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use revaer_domain::{InfoHash, TorrentSummary};
use revaer_engine::Engine;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::map::{RowPolicy, TorrentInfo};

/// A row and its JSON (every field but `hash`, as `sync/maindata` sends a
/// torrent new to the client).
#[derive(Debug)]
pub struct BuiltRow {
    info: TorrentInfo,
    json: Option<Box<RawValue>>,
}

impl BuiltRow {
    /// Builds the JSON of `info`.
    pub fn new(info: TorrentInfo) -> Self {
        let json = serde_json::value::to_raw_value(&info).ok();
        Self { info, json }
    }

    /// The row's JSON object.
    pub fn json(&self) -> std::borrow::Cow<'_, str> {
        match &self.json {
            Some(json) => json.get().into(),
            // Serialising a row does not fail; were it to, it is done again.
            None => serde_json::to_string(&self.info).unwrap_or_else(|_| "{}".into()).into(),
        }
    }
}

impl Deref for BuiltRow {
    type Target = TorrentInfo;

    fn deref(&self) -> &TorrentInfo {
        &self.info
    }
}

impl PartialEq for BuiltRow {
    fn eq(&self, other: &Self) -> bool {
        self.info == other.info
    }
}

impl Serialize for BuiltRow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.json {
            Some(json) => json.serialize(serializer),
            None => self.info.serialize(serializer),
        }
    }
}

/// Rows already built, by torrent: a row is built again only when the
/// engine published a new summary of its torrent, so that listing (and
/// syncing) thousands of unchanged torrents costs a lookup each.
#[derive(Debug, Default)]
pub struct RowCache(Mutex<Rows>);

/// The rows, and the policy they were built under (a row shows the limits
/// in force and the queue, so a new policy means new rows).
#[derive(Debug, Default)]
struct Rows {
    by_id: HashMap<InfoHash, Cached>,
    policy: RowPolicy,
}

/// The summary a row was built from, and the row.
type Cached = (Arc<TorrentSummary>, Arc<BuiltRow>);

impl RowCache {
    /// The rows of `list` (any part of the torrents), in its order.
    pub fn rows(&self, engine: &Engine, list: &[Arc<TorrentSummary>]) -> Vec<Arc<BuiltRow>> {
        let mut rows = Vec::with_capacity(list.len());
        self.each(engine, list, false, |_, row| rows.push(row));
        rows
    }

    /// The rows of every torrent, `all` of them, by torrent; the rows of
    /// torrents gone are forgotten once they are a good part.
    pub fn by_id(
        &self,
        engine: &Engine,
        all: &[Arc<TorrentSummary>],
    ) -> HashMap<InfoHash, Arc<BuiltRow>> {
        let mut rows = HashMap::with_capacity(all.len());
        self.each(engine, all, true, |id, row| {
            rows.insert(id, row);
        });
        rows
    }

    /// Calls `f` with each torrent of `list` and its row, built when the
    /// cache has none for its summary. With `complete`, `list` is every
    /// torrent, and rows of the others may go.
    fn each(
        &self,
        engine: &Engine,
        list: &[Arc<TorrentSummary>],
        complete: bool,
        mut f: impl FnMut(InfoHash, Arc<BuiltRow>),
    ) {
        let policy = RowPolicy::of(engine);
        let mut rows = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if rows.policy != policy {
            rows.by_id.clear();
            rows.policy = policy;
        }
        let Rows { by_id: cache, policy } = &mut *rows;
        // Torrents that went: forgotten once they are a good part (a
        // filtered list says nothing of the torrents it leaves out).
        if complete && cache.len() > list.len().saturating_mul(2).max(1024) {
            let live: HashSet<InfoHash> = list.iter().map(|t| t.id).collect();
            cache.retain(|id, _| live.contains(id));
        }
        for summary in list {
            let row = match cache.get_mut(&summary.id) {
                Some((seen, row)) if Arc::ptr_eq(seen, summary) => Arc::clone(row),
                // Published again, unchanged (the engine republishes on its
                // status cadence): the same row.
                Some((seen, row)) if **seen == **summary => {
                    *seen = Arc::clone(summary);
                    Arc::clone(row)
                }
                _ => {
                    let trackers = engine.facets(summary.id).map_or(0, |f| f.tracker_hosts.len());
                    let trackers = u32::try_from(trackers).unwrap_or(u32::MAX);
                    let info = TorrentInfo::of(summary, trackers, policy);
                    let row = Arc::new(BuiltRow::new(info));
                    cache.insert(summary.id, (Arc::clone(summary), Arc::clone(&row)));
                    row
                }
            };
            f(summary.id, row);
        }
    }
}

/// `torrents/info`'s body: each row with its `hash` first, then the rest.
pub fn info_body(rows: &[Arc<BuiltRow>]) -> Vec<u8> {
    let jsons: Vec<_> = rows.iter().map(|row| row.json()).collect();
    let capacity: usize = jsons.iter().map(|json| json.len() + ROW_EXTRA).sum();
    let mut body = Vec::with_capacity(capacity + 2);
    body.push(b'[');
    for (index, (row, json)) in rows.iter().zip(&jsons).enumerate() {
        if index > 0 {
            body.push(b',');
        }
        // The hash is hex: nothing in it to escape. The row is an object
        // of many fields, so `{` opens it and something follows.
        body.extend_from_slice(b"{\"hash\":\"");
        body.extend_from_slice(row.hash.as_bytes());
        body.extend_from_slice(b"\",");
        body.extend_from_slice(json.as_bytes().get(1..).unwrap_or(b"}"));
    }
    body.push(b']');
    body
}

/// What `info_body` adds to a row: `,{"hash":"<40 hex>",`.
const ROW_EXTRA: usize = 52;

/// `changed` over the listed fields, and their names.
macro_rules! field_diff {
    ($($field:ident)*) => {
        /// The fields of `now` that differ from `before` (never `hash`,
        /// the key).
        #[allow(clippy::float_cmp, reason = "any change is sent, as JSON would show it")]
        pub fn changed(before: &TorrentInfo, now: &TorrentInfo) -> Map<String, Value> {
            let mut out = Map::new();
            $(
                if before.$field != now.$field {
                    out.insert(stringify!($field).to_owned(), serde_json::json!(now.$field));
                }
            )*
            out
        }

        /// The fields `changed` compares.
        #[cfg(test)]
        const COMPARED: &[&str] = &[$(stringify!($field)),*];
    };
}

field_diff!(
    infohash_v1 infohash_v2 name magnet_uri size total_size progress dlspeed upspeed
    priority num_seeds num_complete num_leechs num_incomplete ratio popularity eta state
    seq_dl f_l_piece_prio category tags super_seeding force_start save_path download_path
    content_path root_path added_on completion_on tracker trackers_count dl_limit up_limit
    downloaded uploaded downloaded_session uploaded_session amount_left completed max_ratio
    max_seeding_time max_inactive_seeding_time ratio_limit seeding_time_limit
    inactive_seeding_time_limit share_limits_mode share_limit_action seen_complete
    last_activity auto_tmm time_active seeding_time availability reannounce comment private
    has_metadata
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::test_summary;
    use revaer_domain::TorrentState;

    fn row() -> TorrentInfo {
        TorrentInfo::of(&test_summary(TorrentState::Paused, 10, 0, 0), 0, &RowPolicy::default())
    }

    #[test]
    fn every_field_is_compared_and_only_changes_are_sent() {
        let before = row();
        let Ok(Value::Object(all)) = serde_json::to_value(&before) else { panic!("an object") };
        let mut sent: Vec<&str> = all.keys().map(String::as_str).collect();
        let mut compared = COMPARED.to_vec();
        sent.sort_unstable();
        compared.sort_unstable();
        assert_eq!(compared, sent, "every field sent is compared (a new one goes in field_diff!)");
        assert!(changed(&before, &before).is_empty(), "no change, no fields");
        let mut now = before.clone();
        now.name = "renamed".into();
        now.progress = 0.5;
        assert_eq!(
            Value::Object(changed(&before, &now)),
            serde_json::json!({"name": "renamed", "progress": 0.5})
        );
    }

    #[test]
    fn info_rows_carry_the_hash_first_then_every_field() {
        let built = Arc::new(BuiltRow::new(row()));
        let body = info_body(&[Arc::clone(&built), Arc::clone(&built)]);
        let parsed: Value = serde_json::from_slice(&body).expect("JSON");
        let rows = parsed.as_array().expect("an array");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["hash"], "ab".repeat(20));
        let Ok(Value::Object(all)) = serde_json::to_value(&built.info) else { panic!("an object") };
        assert_eq!(rows[0].as_object().map(Map::len), Some(all.len() + 1));
        assert_eq!(info_body(&[]), b"[]");
        assert_eq!(built.json(), serde_json::to_string(&built.info).expect("JSON"));
    }
}
