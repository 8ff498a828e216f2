//! `GET /v1/torrents`: the query (limit, cursor, sort, filters), parsed and
//! validated with a pointer per invalid parameter, and the page it selects.
//!
//! Pages are keyset pages: sorted by the sort key then the id, each page
//! starting after the previous page's last item, so adding or removing
//! torrents never shifts the items already paged past. Under the default
//! sort, `added_at`, the order of existing torrents never changes, so a walk
//! through the pages sees every torrent once; keys that change over time
//! (`progress`, `ratio`, and `name`/`size` while a magnet's metadata
//! arrives) can move a torrent across a page boundary mid-walk.

use std::cmp::Ordering;

use revaer_domain::{TorrentState, TorrentSummary};
use serde::{Deserialize, Serialize};

use crate::cursor::{Cursor, CursorError, CursorKey, fingerprint};
use crate::problem::InvalidParam;

/// Items per page when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 100;
/// Most items per page.
pub const MAX_LIMIT: usize = 1000;
/// Most query parameters in one request.
const MAX_PARAMS: usize = 64;
/// Longest value of one parameter, in bytes.
const MAX_VALUE: usize = 1024;
/// Most tags to match.
const MAX_TAGS: usize = 32;

/// What a list is sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// When the torrent was added (stable: the default).
    #[default]
    AddedAt,
    /// Name, case-insensitively.
    Name,
    /// Fraction done.
    Progress,
    /// Total size.
    Size,
    /// Upload ratio.
    Ratio,
}

impl SortKey {
    const ALL: [(Self, &'static str); 5] = [
        (Self::AddedAt, "added_at"),
        (Self::Name, "name"),
        (Self::Progress, "progress"),
        (Self::Size, "size"),
        (Self::Ratio, "ratio"),
    ];
    /// Every query-string name.
    pub const NAMES: [&'static str; 5] = ["added_at", "name", "progress", "size", "ratio"];

    /// Its query-string name.
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(key, _)| *key == self).map_or("added_at", |(_, name)| name)
    }

    /// The key a query-string name names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(key, _)| *key)
    }

    fn key(self, torrent: &TorrentSummary) -> CursorKey {
        match self {
            Self::AddedAt => {
                CursorKey::Int(torrent.added_at.map_or(i64::MIN, |at| at.timestamp_millis()))
            }
            Self::Name => CursorKey::Text(torrent.name.to_lowercase()),
            Self::Progress => CursorKey::Float(torrent.progress),
            Self::Size => CursorKey::Int(i64::try_from(torrent.size).unwrap_or(i64::MAX)),
            Self::Ratio => CursorKey::Float(torrent.ratio),
        }
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Smallest first (the default).
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

impl Order {
    /// Both query-string names.
    pub const NAMES: [&'static str; 2] = ["asc", "desc"];

    /// Its query-string name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }

    /// The order a query-string name names.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "asc" => Some(Self::Asc),
            "desc" => Some(Self::Desc),
            _ => None,
        }
    }
}

/// A validated list query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    /// Items per page, 1 to 1000.
    pub limit: usize,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
    /// Sort key.
    pub sort: SortKey,
    /// Sort order.
    pub order: Order,
    /// Any of these states (empty: all).
    pub states: Vec<TorrentState>,
    /// This category.
    pub category: Option<String>,
    /// All of these tags.
    pub tags: Vec<String>,
    /// A tracker whose host contains this (lower-cased).
    pub tracker: Option<String>,
    /// A file with this extension (lower-cased, without the dot).
    pub extension: Option<String>,
    /// A name containing this, case-insensitively (lower-cased).
    pub name: Option<String>,
}

impl ListQuery {
    /// Parses a raw query string; every problem is reported, each with its
    /// parameter's pointer (`/query/<name>`).
    pub fn parse(raw: &str) -> Result<Self, Vec<InvalidParam>> {
        let mut query = Self { limit: DEFAULT_LIMIT, ..Self::default() };
        let mut errors = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let mut cursor_text = None;
        for (count, (key, value)) in form_urlencoded::parse(raw.as_bytes()).enumerate() {
            if count >= MAX_PARAMS {
                errors
                    .push(InvalidParam::new("/query", format!("at most {MAX_PARAMS} parameters")));
                break;
            }
            let key = key.into_owned();
            if value.len() > MAX_VALUE {
                errors.push(InvalidParam::query(&key, format!("at most {MAX_VALUE} bytes")));
                continue;
            }
            let repeatable = matches!(key.as_str(), "tag" | "state");
            if !repeatable && seen.contains(&key) {
                errors.push(InvalidParam::query(&key, "is given more than once"));
                continue;
            }
            seen.push(key.clone());
            if let Err(message) = query.set(&key, &value, &mut cursor_text) {
                errors.push(InvalidParam::query(&key, message));
            }
        }
        if let Some(text) = cursor_text {
            match Cursor::decode(&text, query.fingerprint()) {
                Ok(cursor) => query.cursor = Some(cursor),
                Err(err @ (CursorError::Malformed | CursorError::Mismatch)) => {
                    errors.push(InvalidParam::query("cursor", err.to_string()));
                }
            }
        }
        if errors.is_empty() { Ok(query) } else { Err(errors) }
    }

    fn set(&mut self, key: &str, value: &str, cursor: &mut Option<String>) -> Result<(), String> {
        // As the OpenAPI document states it: 1 to `max` characters as
        // given, none a control character, not blank; used trimmed.
        let text = |value: &str, max: usize| -> Result<String, String> {
            if !revaer_domain::text::is_text(value, max) {
                return Err(format!(
                    "must be 1 to {max} characters, not blank, without control characters"
                ));
            }
            Ok(value.trim().to_owned())
        };
        match key {
            "limit" => {
                self.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| format!("must be a whole number from 1 to {MAX_LIMIT}"))?;
            }
            "cursor" => *cursor = Some(value.to_owned()),
            "sort" => {
                self.sort = SortKey::parse(value)
                    .ok_or("must be one of added_at, name, progress, size, ratio")?;
            }
            "order" => {
                self.order = Order::parse(value).ok_or("must be asc or desc")?;
            }
            "state" => {
                for part in value.split(',') {
                    let state = TorrentState::parse(part.trim()).ok_or_else(|| {
                        let all: Vec<&str> = TorrentState::ALL.iter().map(|s| s.as_str()).collect();
                        format!("{part:?} is not a state; use {}", all.join(", "))
                    })?;
                    if !self.states.contains(&state) {
                        self.states.push(state);
                    }
                }
            }
            "category" => self.category = Some(text(value, 128)?),
            "tag" => {
                if self.tags.len() >= MAX_TAGS {
                    return Err(format!("at most {MAX_TAGS} tags"));
                }
                self.tags.push(text(value, 128)?);
            }
            "tracker" => self.tracker = Some(text(value, 253)?.to_lowercase()),
            "extension" => {
                let ext = value.strip_prefix('.').unwrap_or(value).to_lowercase();
                if ext.is_empty()
                    || ext.len() > 16
                    || !ext.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err("must be a file extension of 1 to 16 letters or digits".to_owned());
                }
                self.extension = Some(ext);
            }
            "name" => self.name = Some(text(value, 256)?.to_lowercase()),
            _ => {
                return Err(
                    "is not a known parameter (limit, cursor, sort, order, state, category, tag, \
                     tracker, extension, name)"
                        .to_owned(),
                );
            }
        }
        Ok(())
    }

    /// A fingerprint of the sort and filters (not the limit or cursor):
    /// cursors carry it so that a cursor is only used with its own query.
    pub fn fingerprint(&self) -> u64 {
        let states: Vec<&str> = self.states.iter().map(|s| s.as_str()).collect();
        fingerprint(&format!(
            "{}|{:?}|{}|{:?}|{}|{:?}|{:?}|{:?}",
            self.sort.as_str(),
            self.order,
            states.join(","),
            self.category,
            self.tags.join(","),
            self.tracker,
            self.extension,
            self.name
        ))
    }

    /// Whether a torrent passes the filters this type can check alone
    /// (state, category, tags, name); trackers and file extensions are
    /// checked by the caller, which knows them.
    pub fn matches(&self, torrent: &TorrentSummary) -> bool {
        (self.states.is_empty() || self.states.contains(&torrent.state))
            && self.category.as_ref().is_none_or(|c| torrent.labels.category.as_ref() == Some(c))
            && self.tags.iter().all(|tag| torrent.labels.tags.contains(tag))
            && self.name.as_ref().is_none_or(|name| torrent.name.to_lowercase().contains(name))
    }

    /// The page this query selects from `torrents` (already filtered by the
    /// caller's extra filters), and the cursor of the next page.
    pub fn page<'a, T>(
        &self,
        torrents: impl IntoIterator<Item = &'a T>,
    ) -> (Vec<&'a T>, Option<String>)
    where
        T: AsRef<TorrentSummary> + 'a,
    {
        let mut keyed: Vec<(CursorKey, &'a T)> = torrents
            .into_iter()
            .filter(|t| self.matches(t.as_ref()))
            .map(|t| (self.sort.key(t.as_ref()), t))
            .collect();
        let ordering = |a: &(CursorKey, &T), b: &(CursorKey, &T)| {
            let by_key = compare(&a.0, &b.0).then_with(|| a.1.as_ref().id.cmp(&b.1.as_ref().id));
            if self.order == Order::Desc { by_key.reverse() } else { by_key }
        };
        keyed.sort_by(ordering);
        let start = self.cursor.as_ref().map_or(0, |cursor| {
            keyed.partition_point(|(key, t)| {
                let by_key =
                    compare(key, &cursor.key).then_with(|| t.as_ref().id.to_hex().cmp(&cursor.id));
                let past = if self.order == Order::Desc { by_key.reverse() } else { by_key };
                past != Ordering::Greater
            })
        });
        let rest = &keyed[start.min(keyed.len())..];
        let items: Vec<&'a T> = rest.iter().take(self.limit).map(|(_, t)| *t).collect();
        let next = (rest.len() > self.limit).then(|| items.last()).flatten().map(|last| {
            Cursor {
                key: self.sort.key(last.as_ref()),
                id: last.as_ref().id.to_hex(),
                fingerprint: self.fingerprint(),
            }
            .encode()
        });
        (items, next)
    }
}

fn compare(a: &CursorKey, b: &CursorKey) -> Ordering {
    match (a, b) {
        (CursorKey::Int(a), CursorKey::Int(b)) => a.cmp(b),
        (CursorKey::Float(a), CursorKey::Float(b)) => a.total_cmp(b),
        (CursorKey::Text(a), CursorKey::Text(b)) => a.cmp(b),
        // Cursors are checked against their query: kinds never mix.
        _ => Ordering::Equal,
    }
}

/// One page of torrents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TorrentPage {
    /// The torrents.
    pub items: Vec<TorrentSummary>,
    /// The next page's cursor; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};
    use revaer_domain::{InfoHash, TorrentLabels};

    use super::*;

    #[test]
    fn sort_keys_and_orders_name_themselves_as_serde_does() {
        for name in SortKey::NAMES {
            let key = SortKey::parse(name).expect(name);
            assert_eq!(key.as_str(), name);
            assert_eq!(serde_json::to_value(key).expect("json"), name);
        }
        for name in Order::NAMES {
            let order = Order::parse(name).expect(name);
            assert_eq!(
                (order.as_str(), serde_json::to_value(order).expect("json")),
                (name, name.into())
            );
        }
        assert!(SortKey::parse("colour").is_none() && Order::parse("up").is_none());
    }

    fn torrent(n: u8, name: &str, state: TorrentState, progress: f64) -> Arc<TorrentSummary> {
        Arc::new(TorrentSummary {
            id: InfoHash::from_bytes([n; 20]),
            name: name.to_owned(),
            state,
            progress,
            bytes_done: 0,
            bytes_wanted: 0,
            size: u64::from(n) * 1000,
            download_bps: 0,
            upload_bps: 0,
            downloaded: 0,
            uploaded: 0,
            ratio: f64::from(n % 3),
            eta_secs: None,
            peers: 0,
            seeds: 0,
            save_path: "/dl".into(),
            labels: TorrentLabels {
                category: n.is_multiple_of(2).then(|| "tv".to_owned()),
                tags: if n.is_multiple_of(3) {
                    vec!["hd".into(), "fr".into()]
                } else {
                    vec!["hd".into()]
                },
            },
            added_at: Utc.timestamp_millis_opt(1_700_000_000_000 + i64::from(n % 4)).single(),
            completed_at: None,
            seeding_secs: 0,
            last_activity_at: None,
            private: false,
            share_limits: revaer_domain::ShareLimits::default(),
            queue_position: None,
            force_start: false,
            sequential: false,
            first_last_piece: false,
            download_limit: revaer_domain::RateLimit::UNLIMITED,
            upload_limit: revaer_domain::RateLimit::UNLIMITED,
            content_path: std::path::PathBuf::new(),
            root_path: None,
        })
    }

    fn library() -> Vec<Arc<TorrentSummary>> {
        (1..=25)
            .map(|n: u8| {
                let state =
                    if n.is_multiple_of(5) { TorrentState::Paused } else { TorrentState::Seeding };
                torrent(n, &format!("Name {:02}", 26 - n), state, f64::from(n) / 25.0)
            })
            .collect()
    }

    fn ids(page: &[&Arc<TorrentSummary>]) -> Vec<u8> {
        page.iter().map(|t| t.id.as_bytes()[0]).collect()
    }

    /// Follows cursors to the end; returns every id in order.
    fn walk(raw: &str, all: &[Arc<TorrentSummary>]) -> Vec<u8> {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let query_text = match &cursor {
                Some(c) => format!("{raw}&cursor={c}"),
                None => raw.to_owned(),
            };
            let query = ListQuery::parse(&query_text).expect("valid");
            let (items, next) = query.page(all.iter());
            seen.extend(ids(&items));
            match next {
                Some(next) => cursor = Some(next),
                None => return seen,
            }
        }
        panic!("cursors never ended");
    }

    #[test]
    fn every_item_appears_once_in_every_sort_and_order() {
        let all = library();
        for sort in ["added_at", "name", "progress", "size", "ratio"] {
            for order in ["asc", "desc"] {
                let seen = walk(&format!("limit=4&sort={sort}&order={order}"), &all);
                let mut sorted = seen.clone();
                sorted.sort_unstable();
                sorted.dedup();
                assert_eq!((seen.len(), sorted.len()), (25, 25), "{sort} {order}: {seen:?}");
            }
        }
        let by_name = walk("limit=7&sort=name", &all);
        assert_eq!(by_name.first(), Some(&25), "Name 01 first");
        let by_size_desc = walk("limit=7&sort=size&order=desc", &all);
        assert_eq!(by_size_desc.first(), Some(&25));
    }

    #[test]
    fn pages_stay_stable_while_torrents_are_added_and_change_state() {
        let mut all = library();
        let query = ListQuery::parse("limit=10").expect("valid");
        let (first, next) = query.page(all.iter());
        let first = ids(&first);
        // Torrents change state and a new one arrives before the next page.
        for t in &mut all {
            Arc::make_mut(t).state = TorrentState::Downloading;
        }
        all.push(torrent(99, "late", TorrentState::Queued, 0.0));
        let next =
            ListQuery::parse(&format!("limit=100&cursor={}", next.expect("more"))).expect("valid");
        let (rest, end) = next.page(all.iter());
        let rest = ids(&rest);
        assert!(end.is_none());
        assert!(first.iter().all(|id| !rest.contains(id)), "no item twice");
        assert_eq!(first.len() + rest.len(), 26, "nothing skipped; the new one at the end");
        assert_eq!(rest.last(), Some(&99));
    }

    #[test]
    fn filters_combine() {
        let all = library();
        let q = ListQuery::parse("state=paused,seeding&tag=fr&sort=size").expect("valid");
        let (items, _) = q.page(all.iter());
        assert_eq!(ids(&items), [3, 6, 9, 12, 15, 18, 21, 24], "every torrent with the fr tag");
        let q =
            ListQuery::parse("state=paused&category=tv&tag=hd&name=NAME&sort=size").expect("valid");
        let (items, _) = q.page(all.iter());
        assert_eq!(ids(&items), [10, 20], "paused (n % 5), in tv (even), all tagged hd");
        let q = ListQuery::parse("name=name%2001").expect("valid");
        assert_eq!(ids(&q.page(all.iter()).0), [25], "case-insensitive substring");
    }

    #[test]
    fn every_invalid_parameter_is_reported_with_its_pointer() {
        let errors = ListQuery::parse(
            "limit=5000&sort=colour&order=up&state=seeding,flying&extension=.m-kv&tag=&colour=1&name=a&name=b",
        )
        .expect_err("invalid");
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/query/limit",
                "/query/sort",
                "/query/order",
                "/query/state",
                "/query/extension",
                "/query/tag",
                "/query/colour",
                "/query/name"
            ]
        );
        let cursor = Cursor { key: CursorKey::Int(1), id: "x".into(), fingerprint: 1 }.encode();
        let errors = ListQuery::parse(&format!("sort=name&cursor={cursor}")).expect_err("mismatch");
        assert_eq!(errors[0].pointer, "/query/cursor");
        assert!(errors[0].message.contains("another sort"));
        let long = format!("name={}", "a".repeat(2000));
        assert_eq!(ListQuery::parse(&long).expect_err("long")[0].pointer, "/query/name");
        let many = (0..70).map(|i| format!("tag=t{i}")).collect::<Vec<_>>().join("&");
        assert!(ListQuery::parse(&many).is_err());
        assert_eq!(ListQuery::parse("").expect("empty").limit, DEFAULT_LIMIT);
        assert_eq!(
            ListQuery::parse("extension=.MKV").expect("ok").extension.as_deref(),
            Some("mkv")
        );
    }
}
