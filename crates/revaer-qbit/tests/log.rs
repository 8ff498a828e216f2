//! `log/main` from the daemon's events: qBittorrent's types, the filters
//! and `last_known_id`.

mod common;

use axum::http::Method;
use common::Facade;
use revaer_domain::event::{Event, Progress, SettingsChanged, TorrentError, TrackerError};
use revaer_domain::{InfoHash, Scope, Scopes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_become_log_lines_after_the_last_known_id() {
    let facade = Facade::start().await;
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Read])).await).await;
    let torrent = InfoHash::from_bytes([7; 20]);
    let bus = facade.service.bus();
    bus.publish(Event::SettingsChanged(SettingsChanged { revision: 3 }));
    bus.publish(Event::Progress(Progress {
        torrent,
        progress: 0.5,
        bytes_done: 1,
        bytes_wanted: 2,
        download_bps: 0,
        upload_bps: 0,
        eta_secs: None,
    }));
    bus.publish(Event::TrackerError(TrackerError {
        torrent,
        url: "http://t.example/announce".into(),
        message: "timed out".into(),
    }));
    bus.publish(Event::TorrentError(TorrentError { torrent, message: "disk full".into() }));

    let all = facade.with(&sid, Method::GET, "/api/v2/log/main", "").await.json();
    let lines = all.as_array().expect("lines");
    let kinds: Vec<i64> = lines.iter().filter_map(|l| l["type"].as_i64()).collect();
    assert_eq!(kinds, [2, 4, 8], "progress is not logged: {all}");
    let hex = torrent.to_hex();
    assert_eq!(
        lines[1]["message"],
        format!("'{hex}': tracker http://t.example/announce failed: timed out")
    );
    assert!(lines[0]["timestamp"].as_i64().is_some_and(|ms| ms > 1_700_000_000_000), "{all}");
    let ids: Vec<u64> = lines.iter().filter_map(|l| l["id"].as_u64()).collect();
    assert_eq!(ids, [1, 3, 4], "small ids, in order, progress's skipped");

    let after = facade.with(&sid, Method::GET, "/api/v2/log/main?last_known_id=3", "").await.json();
    assert_eq!(after.as_array().map(Vec::len), Some(1));
    assert_eq!(after[0]["type"], 8);
    let form = "normal=true&info=false&warning=true&critical=false";
    let warnings = facade.with(&sid, Method::POST, "/api/v2/log/main", form).await.json();
    assert_eq!(warnings.as_array().map(Vec::len), Some(1));
    assert_eq!(warnings[0]["type"], 4);
    facade.stop().await;
}

#[tokio::test]
async fn the_peer_log_is_empty_as_revaer_blocks_no_peers() {
    let facade = Facade::start().await;
    let anonymous = facade.send(Method::GET, "/api/v2/log/peers", &[], "").await;
    assert_eq!(anonymous.status, axum::http::StatusCode::FORBIDDEN);
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Read])).await).await;
    for (method, path) in
        [(Method::GET, "/api/v2/log/peers?last_known_id=-1"), (Method::POST, "/api/v2/log/peers")]
    {
        let reply = facade.with(&sid, method, path, "").await;
        assert_eq!(reply.status, axum::http::StatusCode::OK);
        assert_eq!(reply.json(), serde_json::json!([]));
    }
    facade.stop().await;
}
