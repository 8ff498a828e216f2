//! VueTorrent's start-up and maindata loop (as the research notes list
//! them), from a browser on the same origin: `app/version` answers 403
//! without a session, then login, `buildInfo`, `preferences`, `log/main`;
//! then `sync/maindata` without a rid and with the last rid each round,
//! merged as VueTorrent merges it (a full update replaces everything, a
//! hash not seen before is stored as it comes, so it must be whole).
//! The merged state must equal a fresh full update, for a torrent really
//! fetched from a seeder on loopback, and its removal must show.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Facade, Reply, Seeder, multipart};
use revaer_domain::{Scope, Scopes};
use serde_json::{Map, Value};

const ORIGIN: &str = "http://127.0.0.1:8080";

/// A browser's request: same-origin `Host`, `Origin` and `Referer`.
fn browser(method: Method, path: &str, cookie: Option<&str>) -> axum::http::request::Builder {
    let builder = Request::builder()
        .method(method)
        .uri(format!("/api/v2/{path}"))
        .header("host", "127.0.0.1:8080")
        .header("origin", ORIGIN)
        .header("referer", format!("{ORIGIN}/"));
    match cookie {
        Some(cookie) => builder.header("cookie", cookie),
        None => builder,
    }
}

async fn get(facade: &Facade, path: &str, cookie: &str) -> Reply {
    let request = browser(Method::GET, path, Some(cookie)).body(Body::empty()).expect("request");
    let reply = facade.raw(request).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    reply
}

/// VueTorrent's store: torrents by hash, merged from each reply.
#[derive(Default)]
struct Store {
    rid: Option<u64>,
    torrents: BTreeMap<String, Map<String, Value>>,
    server: Map<String, Value>,
}

impl Store {
    fn merge(&mut self, data: &Value, whole_keys: usize) {
        self.rid = data["rid"].as_u64();
        if data["full_update"] == true {
            self.torrents.clear();
            self.server.clear();
        }
        for (hash, fields) in data["torrents"].as_object().into_iter().flatten() {
            let fields = fields.as_object().cloned().unwrap_or_default();
            if let Some(row) = self.torrents.get_mut(hash) {
                row.extend(fields);
            } else {
                // Stored as it comes: it must carry every field.
                assert_eq!(fields.len(), whole_keys, "a new torrent comes whole: {fields:?}");
                assert!(fields.get("tags").is_some_and(Value::is_string));
                self.torrents.insert(hash.clone(), fields);
            }
        }
        for hash in data["torrents_removed"].as_array().into_iter().flatten() {
            self.torrents.remove(hash.as_str().unwrap_or_default());
        }
        if let Some(server) = data["server_state"].as_object() {
            self.server.extend(server.clone());
        }
    }

    fn path(&self) -> String {
        match self.rid {
            Some(rid) => format!("sync/maindata?rid={rid}"),
            None => "sync/maindata".to_owned(),
        }
    }
}

/// VueTorrent's start-up: the probe, login, then what it loads first;
/// answers the session's cookie.
async fn start_up(facade: &Facade) -> String {
    let probe = browser(Method::GET, "app/version", None).body(Body::empty()).expect("request");
    assert_eq!(facade.raw(probe).await.status, StatusCode::FORBIDDEN, "logged out");
    let token = facade.key(Scopes::of(&[Scope::Control])).await;
    let login = browser(Method::POST, "auth/login", None)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("username=admin&password={token}")))
        .expect("request");
    let login = facade.raw(login).await;
    assert_eq!((login.status, login.text.as_str()), (StatusCode::OK, "Ok."));
    let cookie = format!("SID={}", login.sid().expect("a session"));
    let version = get(facade, "app/version", &cookie).await.text;
    assert!(version.trim_start_matches('v') >= "5", "5.x: stop/start ({version})");
    assert!(get(facade, "app/buildInfo", &cookie).await.json()["qt"].is_string());
    let prefs = get(facade, "app/preferences", &cookie).await.json();
    assert!(prefs["alternative_webui_enabled"].is_boolean());
    assert!(get(facade, "log/main", &cookie).await.json().is_array());

    cookie
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vuetorrents_merged_maindata_equals_a_full_update_through_add_done_and_delete() {
    let seeder = Seeder::start("Show.S02", &[("e01.mkv", 300_000), ("e02.mkv", 200_000)]).await;
    let facade = Facade::start().await;
    let hash = seeder.id.to_hex();
    let cookie = start_up(&facade).await;

    let mut store = Store::default();
    let first = get(&facade, &store.path(), &cookie).await.json();
    assert_eq!(first["full_update"], true);
    store.merge(&first, 0);
    for key in ["connection_status", "dl_info_speed", "global_ratio", "free_space_on_disk"] {
        assert!(store.server.contains_key(key), "server_state carries {key}");
    }
    assert!(store.server["global_ratio"].is_string());

    let (body, kind) = multipart("torrents", &seeder.metainfo, &[("tags", "tv, hd")]);
    let add = browser(Method::POST, "torrents/add", Some(&cookie))
        .header("content-type", kind)
        .body(Body::from(body))
        .expect("request");
    assert_eq!(facade.raw(add).await.text, "Ok.");
    facade.engine.connect_peer(seeder.id, seeder.peer()).await.expect("connect");

    // Every field of a `torrents/info` row but `hash`, the key.
    let whole_keys = 58;
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        let data = get(&facade, &store.path(), &cookie).await.json();
        store.merge(&data, whole_keys);
        if store.torrents.get(&hash).is_some_and(|row| row["progress"] == 1.0) {
            break;
        }
        assert!(Instant::now() < deadline, "done in time: {:?}", store.torrents.get(&hash));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let row = &store.torrents[&hash];
    let tags: Vec<&str> = row["tags"].as_str().unwrap_or_default().split(", ").collect();
    assert_eq!(tags, ["tv", "hd"]);

    // What the merges built is what a full update says (fields that move
    // on their own, such as rates, aside).
    let full = get(&facade, "sync/maindata?rid=0", &cookie).await.json();
    let fresh = full["torrents"][&hash].as_object().cloned().expect("in the full update");
    for key in [
        "name",
        "size",
        "total_size",
        "progress",
        "completed",
        "amount_left",
        "save_path",
        "content_path",
        "root_path",
        "tags",
        "category",
        "added_on",
        "completion_on",
        "has_metadata",
        "trackers_count",
    ] {
        assert_eq!(row[key], fresh[key], "{key} merged as sent whole");
    }
    // That full update came under this session: the store goes on from it.
    store.merge(&full, whole_keys);

    let delete = browser(Method::POST, "torrents/delete", Some(&cookie))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("hashes={hash}&deleteFiles=true")))
        .expect("request");
    assert_eq!(facade.raw(delete).await.status, StatusCode::OK);
    // The engine lets go of it once libtorrent has: a poll or two later.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let data = get(&facade, &store.path(), &cookie).await.json();
        assert!(data.get("full_update").is_none(), "deltas all along: {data}");
        store.merge(&data, whole_keys);
        if let Some(removed) = data.get("torrents_removed") {
            assert_eq!(removed, &serde_json::json!([hash]));
            break;
        }
        assert!(Instant::now() < deadline, "the removal shows in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(store.torrents.is_empty());
    facade.stop().await;
    seeder.stop().await;
}
