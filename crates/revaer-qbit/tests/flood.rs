//! Flood's poll (its qBittorrent adapter, as the research notes list it):
//! login with no Origin or Referer, the whole `Set-Cookie` sent back as
//! the `Cookie`; `webapiVersion` by GET, every other read by POST; an add
//! with `contentLayout=undefined`; then each round `torrents/info` with no
//! body, `properties` and `trackers` once per new hash, `transfer/info`,
//! and for the torrent on screen `files` and `sync/torrentPeers` (rid 0),
//! until the torrent, really fetched from a seeder on loopback, is done.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{Facade, Reply, Seeder};
use revaer_domain::{Scope, Scopes};
use serde_json::Value;

/// Flood's session: the `Set-Cookie` value as it came.
struct Flood<'a> {
    facade: &'a Facade,
    cookie: String,
}

impl Flood<'_> {
    async fn post(&self, path: &str, body: &str) -> Reply {
        let headers = [("cookie", self.cookie.as_str())];
        let reply =
            self.facade.send(Method::POST, &format!("/api/v2/{path}"), &headers, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        reply
    }
}

/// Whether a JSON value has the type a field needs.
type Check = fn(&Value) -> bool;

/// The fields Flood reads of a `torrents/info` row, with their JSON types.
const INFO_FIELDS: &[(&str, Check)] = &[
    ("hash", Value::is_string),
    ("added_on", Value::is_i64),
    ("completion_on", Value::is_i64),
    ("completed", Value::is_u64),
    ("dlspeed", Value::is_u64),
    ("upspeed", Value::is_u64),
    ("downloaded", Value::is_u64),
    ("uploaded", Value::is_u64),
    ("eta", Value::is_u64),
    ("last_activity", Value::is_i64),
    ("name", Value::is_string),
    ("num_seeds", Value::is_u64),
    ("num_complete", Value::is_i64),
    ("num_leechs", Value::is_u64),
    ("num_incomplete", Value::is_i64),
    ("progress", Value::is_number),
    ("ratio", Value::is_number),
    ("save_path", Value::is_string),
    ("size", Value::is_u64),
    ("total_size", Value::is_u64),
    ("state", Value::is_string),
    ("super_seeding", Value::is_boolean),
    ("seq_dl", Value::is_boolean),
    ("tags", Value::is_string),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_poll_follows_a_torrent_from_add_to_done() {
    let seeder = Seeder::start("Album", &[("01.flac", 350_000), ("cover.jpg", 9_000)]).await;
    let facade = Facade::start().await;
    let hash = seeder.id.to_hex();
    let token = facade.key(Scopes::of(&[Scope::Control])).await;
    let login = facade
        .send(Method::POST, "/api/v2/auth/login", &[], &format!("username=a&password={token}"))
        .await;
    assert_eq!(login.text, "Ok.");
    let set_cookie = login.headers.get("set-cookie").and_then(|v| v.to_str().ok()).expect("cookie");
    let flood = Flood { facade: &facade, cookie: set_cookie.to_owned() };
    let version = facade
        .send(Method::GET, "/api/v2/app/webapiVersion", &[("cookie", set_cookie)], "")
        .await
        .text;
    // axios parses the body as JSON: it must stay a string of three parts.
    assert!(serde_json::from_str::<Value>(&version).is_err(), "{version}");
    assert_eq!(version.split('.').count(), 3);
    let prefs = flood.post("app/preferences", "").await.json();
    for key in ["dht", "listen_port", "save_path", "max_connec", "pex", "dl_limit", "up_limit"] {
        assert!(prefs.get(key).is_some(), "preferences carry {key}");
    }

    let fields = [("stopped", "false"), ("contentLayout", "undefined"), ("tags", "music")];
    assert_eq!(
        facade.upload(set_cookie, "torrents", &seeder.metainfo, &fields).await.status,
        StatusCode::OK
    );
    facade.engine.connect_peer(seeder.id, seeder.peer()).await.expect("connect");

    let mut known = std::collections::HashSet::new();
    let deadline = Instant::now() + Duration::from_mins(1);
    let done = loop {
        let rows = flood.post("torrents/info", "").await.json();
        let rows = rows.as_array().cloned().unwrap_or_default();
        for row in &rows {
            for (field, right) in INFO_FIELDS {
                assert!(row.get(*field).is_some_and(right), "{field} as Flood reads it: {row}");
            }
            let id = row["hash"].as_str().unwrap_or_default().to_owned();
            if known.insert(id.clone()) {
                // One pair per new hash, serially.
                let props = flood.post("torrents/properties", &format!("hash={id}")).await.json();
                assert!(props["comment"].is_string() && props["creation_date"].is_i64(), "{props}");
                let trackers = flood.post("torrents/trackers", &format!("hash={id}")).await.json();
                assert!(trackers.as_array().is_some_and(|t| t.iter().all(|t| t["tier"].is_i64())));
            }
        }
        let transfer = flood.post("transfer/info", "").await.json();
        for key in ["dl_info_speed", "dl_info_data", "up_info_speed", "up_info_data"] {
            assert!(transfer[key].is_u64(), "transfer/info {key}: {transfer}");
        }
        let files = flood.post("torrents/files", &format!("hash={hash}")).await.json();
        for file in files.as_array().into_iter().flatten() {
            assert!(file["name"].is_string() && file["progress"].is_number(), "{file}");
            assert!([0, 1, 6, 7].contains(&file["priority"].as_i64().unwrap_or(-1)), "{file}");
        }
        let peers = flood.post("sync/torrentPeers", &format!("hash={hash}&rid=0")).await.json();
        assert!(peers["peers"].is_object(), "{peers}");
        if let Some(row) = rows.iter().find(|row| row["hash"] == hash.as_str())
            && row["progress"] == 1.0
        {
            break row.clone();
        }
        assert!(Instant::now() < deadline, "done in time: {rows:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(done["tags"], "music");
    assert!(["uploading", "stalledUP"].contains(&done["state"].as_str().unwrap_or("")), "{done}");
    // `undefined` is the default layout: the torrent's own folder.
    let root = std::path::Path::new(done["save_path"].as_str().expect("save path")).join("Album");
    for (path, bytes) in &seeder.files {
        assert_eq!(&std::fs::read(root.join(path)).expect("fetched"), bytes, "{path}");
    }
    let reply = flood.post("torrents/delete", &format!("hashes={hash}&deleteFiles=true")).await;
    assert_eq!(reply.text, "");
    facade.stop().await;
    seeder.stop().await;
}
