//! Per-torrent edits through the facade on a real torrent: file
//! priorities, sequential download, a new location, and a peer named by
//! hand that the download then comes from.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{Facade, Seeder};
use revaer_domain::{Scope, Scopes};

async fn post(facade: &Facade, sid: &str, path: &str, form: &str) -> (StatusCode, String) {
    let reply = facade.with(sid, Method::POST, &format!("/api/v2/torrents/{path}"), form).await;
    (reply.status, reply.text)
}

async fn row(facade: &Facade, sid: &str, hash: &str) -> serde_json::Value {
    let path = format!("/api/v2/torrents/info?hashes={hash}");
    facade.with(sid, Method::GET, &path, "").await.json()[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_order_location_and_peers_are_edited() {
    let seeder = Seeder::start("Pack", &[("a.bin", 100_000), ("b.bin", 120_000)]).await;
    let facade = Facade::start().await;
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let hash = seeder.id.to_hex();
    assert_eq!(
        facade
            .upload(&format!("SID={sid}"), "torrents", &seeder.metainfo, &[("stopped", "true")])
            .await
            .text,
        "Ok."
    );

    let ok = (StatusCode::OK, String::new());
    assert_eq!(post(&facade, &sid, "filePrio", &format!("hash={hash}&id=0&priority=0")).await, ok);
    let files =
        facade.with(&sid, Method::GET, &format!("/api/v2/torrents/files?hash={hash}"), "").await;
    let priorities: Vec<i64> = files
        .json()
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["priority"].as_i64())
        .collect();
    assert_eq!(priorities, [0, 1], "only the first is skipped");
    let bad_index =
        post(&facade, &sid, "filePrio", &format!("hash={hash}&id=0|9&priority=1")).await;
    assert_eq!(bad_index.0, StatusCode::CONFLICT);
    let bad_priority =
        post(&facade, &sid, "filePrio", &format!("hash={hash}&id=1&priority=3")).await;
    assert_eq!(bad_priority.0, StatusCode::BAD_REQUEST);
    let unknown =
        post(&facade, &sid, "filePrio", &format!("hash={}&id=0&priority=1", "0".repeat(40))).await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);

    assert_eq!(
        post(&facade, &sid, "toggleSequentialDownload", &format!("hashes={hash}")).await,
        ok
    );
    assert_eq!(row(&facade, &sid, &hash).await["seq_dl"], true);
    post(&facade, &sid, "toggleSequentialDownload", &format!("hashes={hash}")).await;
    assert_eq!(row(&facade, &sid, &hash).await["seq_dl"], false);

    let moved = facade.dir.path().join("moved");
    let form = format!("hashes={hash}&location={}", moved.display());
    assert_eq!(post(&facade, &sid, "setLocation", &form).await, ok);
    assert_eq!(row(&facade, &sid, &hash).await["save_path"], moved.display().to_string());
    let outside = post(&facade, &sid, "setLocation", &format!("hashes={hash}&location=/etc")).await;
    assert_eq!(outside.0, StatusCode::BAD_REQUEST, "outside the storage roots: {}", outside.1);
    assert_eq!(
        post(&facade, &sid, "setLocation", &format!("hashes={hash}&location=")).await.0,
        StatusCode::BAD_REQUEST
    );

    assert_eq!(post(&facade, &sid, "start", &format!("hashes={hash}")).await.0, StatusCode::OK);
    let none = post(&facade, &sid, "addPeers", &format!("hashes={hash}&peers=nowhere")).await;
    assert_eq!(none.0, StatusCode::BAD_REQUEST);
    let peers = format!("hashes={hash}&peers={}|junk", seeder.peer());
    assert_eq!(post(&facade, &sid, "addPeers", &peers).await, ok);
    let deadline = Instant::now() + Duration::from_secs(30);
    while row(&facade, &sid, &hash).await["progress"] != 1.0 {
        assert!(Instant::now() < deadline, "the named peer serves the download");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, b) = &seeder.files[1];
    assert_eq!(&std::fs::read(moved.join("Pack/b.bin")).expect("fetched file"), b);
    assert!(!moved.join("Pack/a.bin").exists(), "the skipped file is not written");
    facade.stop().await;
    seeder.stop().await;
}
