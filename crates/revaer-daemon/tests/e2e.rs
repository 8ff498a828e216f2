//! End to end through the real `revaerd` binary: set up over HTTP, add a
//! torrent that a second engine seeds on loopback, watch it complete over
//! SSE, see FsOps deliver it into the library, restart the daemon, and find
//! everything as it was.

mod common;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{complete_setup, http, open_events, preseed, start, terminate};
use revaer_engine::metainfo::{self, CreateOptions};
use revaer_engine::{AddTorrentOptions, Engine, EngineConfig, SessionConfig, TorrentSource};
use serde_json::Value;

const FILES: &[(&str, usize)] = &[("show.e01.mkv", 300_001), ("subs/e01.srt", 2_000)];

fn bytes(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// A payload on disk, its `.torrent`, and an engine seeding it.
async fn seeder(dir: &Path) -> (Engine, Vec<u8>, String) {
    let root = dir.join("files/e2e-show");
    for (n, (rel, len)) in FILES.iter().enumerate() {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes(n as u8, *len)).expect("write");
    }
    let options = CreateOptions { piece_size: Some(16 * 1024), v1_only: true, trackers: vec![] };
    let torrent = metainfo::create(&root, &options).expect("torrent");
    let id = metainfo::Metainfo::parse(&torrent).expect("parse").id.to_hex();
    let config =
        EngineConfig::new(dir.join("resume"), SessionConfig::loopback(dir.join("downloads")));
    let engine = Engine::start(config).await.expect("seeder starts");
    let add = AddTorrentOptions { save_path: Some(dir.join("files")), ..Default::default() };
    engine.add(TorrentSource::Metainfo(torrent.clone()), add).await.expect("seeder adds");
    (engine, torrent, id)
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// The daemon's BitTorrent listen address, from `/health/full`.
fn peer_addr(addr: &str) -> std::net::SocketAddr {
    let (_, body) = http(addr, "GET", "/health/full", &[], "");
    let health = json(&body);
    health["components"]["engine"]["listen_endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|e| e.ends_with("(tcp)"))
        .and_then(|e| e.split(' ').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("a TCP listen endpoint: {health}"))
}

/// Reads SSE frames until `wanted` matches one; returns its data and the
/// last event id seen.
fn read_until(
    events: &mut std::io::BufReader<std::net::TcpStream>,
    what: &str,
    wanted: impl Fn(&Value) -> bool,
) -> (Value, u64) {
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut line = String::new();
    loop {
        assert!(Instant::now() < deadline, "no {what} in time");
        line.clear();
        match events.read_line(&mut line) {
            Ok(0) => panic!("the stream ended before {what}"),
            Ok(_) => {}
            // A read timeout between keep-alives: go on until the deadline.
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(err) => panic!("stream: {err}"),
        }
        if let Some(data) = line.strip_prefix("data: ") {
            let event = json(data);
            if wanted(&event) {
                let id = event["id"].as_u64().expect("an id");
                return (event, id);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_goes_from_add_to_library_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    preseed(&data).await;
    let (seed, torrent, id) = seeder(&dir.path().join("seed")).await;

    // Set up over HTTP.
    let daemon = start(&data);
    let token = daemon.setup_token.clone().expect("setup token");
    let bearer = complete_setup(&daemon.addr, &token);
    let auth = [("authorization", bearer.as_str()), ("content-type", "application/json")];

    // Add it, traced, and let the seeder connect.
    let mut events = open_events(&daemon.addr, &bearer);
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let parent = format!("00-{trace}-b7ad6b7169203331-01");
    let add =
        serde_json::json!({"metainfo": data_encoding::BASE64.encode(&torrent), "category": "tv"});
    let mut headers = auth.to_vec();
    headers.push(("traceparent", &parent));
    let (status, body) = http(&daemon.addr, "POST", "/v1/torrents", &headers, &add.to_string());
    assert_eq!(status, 201, "{body}");
    assert_eq!(json(&body)["id"], id.as_str());
    let id_hash = id.parse().expect("hash");
    seed.connect_peer(id_hash, peer_addr(&daemon.addr)).await.expect("connect");

    // Over SSE: added (with the add's trace), completed, post-processed.
    let about = |kind: &'static str| {
        let id = id.clone();
        move |e: &Value| e["type"] == kind && e["torrent"] == id.as_str()
    };
    let (added, _) = read_until(&mut events, "torrent_added", about("torrent_added"));
    assert_eq!(added["trace_id"], trace, "the add's trace follows it: {added}");
    read_until(&mut events, "completed", about("completed"));
    let (done, last_id) = read_until(&mut events, "fsops_completed", about("fsops_completed"));
    assert_eq!(done["trace_id"], trace, "and into FsOps: {done}");
    let destination = PathBuf::from(done["data"]["destination"].as_str().expect("destination"));
    assert!(destination.starts_with(data.join("library")), "{}", destination.display());
    for (n, (rel, len)) in FILES.iter().enumerate() {
        let delivered = std::fs::read(destination.join(rel)).expect("delivered");
        assert_eq!(delivered, bytes(n as u8, *len), "{rel}");
    }
    let (_, before) = http(&daemon.addr, "GET", &format!("/v1/torrents/{id}"), &auth, "");
    let before = json(&before);
    assert_eq!(before["fsops"]["status"], "done", "{before}");
    drop(events);
    terminate(daemon);

    // Restarted: the key, the torrent, its state and its FsOps record are
    // as they were; an event id from before the restart gets a resync.
    let daemon = start(&data);
    assert!(daemon.setup_token.is_none(), "set up already");
    let path = format!("/v1/torrents/{id}");
    let deadline = Instant::now() + Duration::from_mins(1);
    let after = loop {
        let (status, body) = http(&daemon.addr, "GET", &path, &auth, "");
        assert_eq!(status, 200, "{body}");
        let view = json(&body);
        if view["state"] == "seeding" {
            break view;
        }
        assert!(Instant::now() < deadline, "seeding again in time: {view}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(after["progress"], 1.0);
    assert_eq!(after["category"], "tv");
    assert_eq!(after["fsops"]["status"], "done");
    assert_eq!(after["fsops"]["destination"], before["fsops"]["destination"]);
    assert_eq!(after["fsops"]["attempts"], before["fsops"]["attempts"], "not run again");
    for (n, (rel, len)) in FILES.iter().enumerate() {
        assert_eq!(std::fs::read(destination.join(rel)).expect("kept"), bytes(n as u8, *len));
    }
    let resume = format!("{bearer}\r\nLast-Event-ID: {last_id}");
    let mut events = open_events(&daemon.addr, &resume);
    let (resync, _) = read_until(&mut events, "resync", |e| e["type"] == "resync");
    assert!(resync["data"]["next_id"].as_u64().is_some_and(|next| next > last_id), "{resync}");
    drop(events);
    terminate(daemon);
    // The catalogue: this daemon holds the torrent, added by that request.
    let store =
        revaer_store::Store::connect(&revaer_store::StoreConfig::sqlite(data.join("revaer.db")))
            .await
            .expect("store");
    let row = store.torrent(id_hash).await.expect("read").expect("catalogued");
    let instance = revaer_daemon::app::default_instance(&data.canonicalize().expect("data dir"));
    assert_eq!(row.instance.as_deref(), Some(instance.as_str()));
    assert_eq!(row.trace_id.as_deref(), Some(trace));
    assert_eq!(row.category.as_deref(), Some("tv"));
    assert!(row.completed_at.is_some(), "{row:?}");
    store.close().await;
    seed.shutdown().await.expect("seeder stops");
}
