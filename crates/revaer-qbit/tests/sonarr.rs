//! Sonarr's call sequence (its `QBittorrentProxyV2`, as the research notes
//! list it) against the facade, with the torrent really fetched from a
//! seeder on loopback: probe, log in, preferences, categories,
//! createCategory, add, properties until it is there, info until it is
//! complete, the files at `content_path`, setCategory, delete with files.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{Facade, Seeder};
use revaer_domain::{Scope, Scopes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sonarrs_sequence_fetches_imports_and_removes_a_torrent() {
    let seeder = Seeder::start("Show.S01E01", &[("e01.mkv", 300_000), ("e01.nfo", 500)]).await;
    let facade = Facade::start().await;
    let hash = seeder.id.to_hex();
    // The probe without a session: 403 means "v2 is here".
    let probe = facade.send(Method::GET, "/api/v2/app/webapiVersion", &[], "").await;
    assert_eq!(probe.status, StatusCode::FORBIDDEN);
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let get = |path: String| {
        let (facade, sid) = (&facade, sid.clone());
        async move { facade.with(&sid, Method::GET, &path, "").await }
    };
    let version = get("/api/v2/app/webapiVersion".into()).await.text;
    assert!(version.split('.').count() == 3 && version.starts_with("2."), "{version}");
    let prefs = get("/api/v2/app/preferences".into()).await.json();
    assert!(prefs["save_path"].is_string() && prefs["dht"].is_boolean());
    assert!(prefs["max_ratio_enabled"].is_boolean() && prefs["queueing_enabled"].is_boolean());
    assert_eq!(get("/api/v2/torrents/categories".into()).await.json(), serde_json::json!({}));
    let made = facade
        .with(&sid, Method::POST, "/api/v2/torrents/createCategory", "category=tv-sonarr&savePath=")
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);

    add_as_sonarr(&facade, &sid, &seeder.metainfo).await;
    // WaitForTorrent: properties until 200 (here at once).
    let props = get(format!("/api/v2/torrents/properties?hash={hash}")).await;
    assert_eq!(props.status, StatusCode::OK);
    assert!(props.json()["save_path"].is_string());
    facade.engine.connect_peer(seeder.id, seeder.peer()).await.expect("connect to the seeder");

    let row = poll_until_complete(&facade, &sid).await;
    assert_eq!(row["hash"], hash.as_str());
    assert_eq!(row["amount_left"], 0, "done: nothing left");
    let content = std::path::PathBuf::from(row["content_path"].as_str().expect("content_path"));
    assert_ne!(
        content.to_str(),
        row["save_path"].as_str(),
        "the torrent's root, not the save path"
    );
    for (path, bytes) in &seeder.files {
        assert_eq!(&std::fs::read(content.join(path)).expect("imported file"), bytes, "{path}");
    }

    // After import: the post-import category, then removal with the files.
    let set = facade
        .with(
            &sid,
            Method::POST,
            "/api/v2/torrents/setCategory",
            &format!("hashes={hash}&category=tv-imported"),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(
        get("/api/v2/torrents/info?category=tv-imported".into()).await.json()[0]["hash"],
        hash.as_str()
    );
    let deleted = facade
        .with(
            &sid,
            Method::POST,
            "/api/v2/torrents/delete",
            &format!("hashes={hash}&deleteFiles=true"),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(10);
    while content.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!content.exists(), "the files went with it");
    assert_eq!(get("/api/v2/torrents/info".into()).await.json(), serde_json::json!([]));
    facade.stop().await;
    seeder.stop().await;
}

/// The add: a multipart `torrents` part, as Sonarr sends it.
async fn add_as_sonarr(facade: &Facade, sid: &str, metainfo: &[u8]) {
    let fields = [("category", "tv-sonarr"), ("stopped", "false")];
    assert_eq!(
        facade.upload(&format!("SID={sid}"), "torrents", metainfo, &fields).await.text,
        "Ok."
    );
}

/// The queue poll: info by category until the torrent is complete.
async fn poll_until_complete(facade: &Facade, sid: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = facade
            .with(sid, Method::GET, "/api/v2/torrents/info?category=tv-sonarr", "")
            .await
            .json();
        let row = rows[0].clone();
        let seeding =
            ["uploading", "stalledUP"].contains(&row["state"].as_str().unwrap_or_default());
        if row["progress"] == 1.0 && seeding {
            return row;
        }
        assert!(Instant::now() < deadline, "completes in time: {row}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
