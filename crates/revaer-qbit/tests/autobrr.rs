//! autobrr's call sequence (through go-qbittorrent, as the research notes
//! list it): an add with both `paused` and `stopped`, `skip_checking`,
//! both `root_folder` and `contentLayout`, `savepath` with `autoTMM=false`
//! and caps in bytes; then its re-announce loop: `torrents/trackers` until
//! a tracker shows status 2 (working), `torrents/reannounce` otherwise.
//! The tracker is a real opentracker on loopback that the seeder announced
//! to first, and the torrent is fetched from the peer it names.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{Facade, Seeder, Tracker, free_port};
use revaer_domain::{Scope, Scopes, TrackerStatus};

/// A seeder of a torrent naming a real tracker on loopback, announced to
/// it (its first try found no tracker), before any leecher: the leecher
/// learns of it from its own first announce. Answers the announce URL.
async fn seeder_on_a_tracker() -> (Seeder, Tracker, String) {
    let port = free_port();
    let announce = format!("http://127.0.0.1:{port}/announce");
    let files = [("release.mkv", 400_000), ("release.nfo", 200)];
    let seeder = Seeder::start_with("Release.2024", &files, vec![announce.clone()]).await;
    let tracker = Tracker::start(port, &[seeder.id]).await;
    seeder.engine.reannounce(seeder.id).await.expect("seeder re-announces");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let detail = seeder.engine.detail(seeder.id).await.expect("seeder detail");
        if detail.trackers.iter().any(|t| t.status == TrackerStatus::Working) {
            break;
        }
        assert!(Instant::now() < deadline, "the seeder announced: {:?}", detail.trackers);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    (seeder, tracker, announce)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autobrrs_reannounce_loop_ends_on_a_working_tracker_and_the_torrent_arrives() {
    let (seeder, _tracker, announce) = seeder_on_a_tracker().await;
    let facade = Facade::start().await;
    let hash = seeder.id.to_hex();
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let savepath = facade.dir.path().join("downloads/autobrr").to_string_lossy().into_owned();
    let fields = [
        ("paused", "false"),
        ("stopped", "false"),
        ("skip_checking", "false"),
        ("root_folder", "true"),
        ("contentLayout", "Original"),
        ("savepath", savepath.as_str()),
        ("autoTMM", "false"),
        ("category", "autobrr"),
        ("tags", "irc,freeleech"),
        ("upLimit", "10485760"),
        ("dlLimit", "10485760"),
    ];
    let added = facade.upload(&format!("SID={sid}"), "file", &seeder.metainfo, &fields).await;
    assert_eq!((added.status, added.text.as_str()), (StatusCode::OK, "Ok."));

    // The loop: trackers until one works (status 2), re-announcing
    // between tries, as autobrr does (it waits seconds; this, less).
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut reannounced = 0;
    let working = loop {
        let path = format!("/api/v2/torrents/trackers?hash={hash}");
        let rows = facade.with(&sid, Method::GET, &path, "").await.json();
        let rows = rows.as_array().cloned().unwrap_or_default();
        // The DHT, PeX and LSD rows come first (working when on and the
        // torrent is public; autobrr's torrents are private, and then they
        // show status 0, which it skips).
        let firsts: Vec<&str> = rows.iter().take(3).filter_map(|r| r["url"].as_str()).collect();
        assert_eq!(firsts, ["** [DHT] **", "** [PeX] **", "** [LSD] **"]);
        if let Some(row) = rows.iter().find(|row| row["url"] == announce.as_str()) {
            let message = row["msg"].as_str().unwrap_or_default().to_lowercase();
            assert!(!message.contains("unregistered"), "not a dead torrent: {row}");
            if row["status"] == 2 {
                break row.clone();
            }
        }
        assert!(Instant::now() < deadline, "a working tracker in time: {rows:?}");
        let body = format!("hashes={hash}");
        let reply = facade.with(&sid, Method::POST, "/api/v2/torrents/reannounce", &body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reannounced += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(working["num_seeds"].as_i64().is_some_and(|n| n >= 0), "{working} ({reannounced})");

    // The seeder was found through the tracker: the torrent completes.
    let deadline = Instant::now() + Duration::from_mins(1);
    let row = loop {
        let path = format!("/api/v2/torrents/info?hashes={hash}");
        let row = facade.with(&sid, Method::GET, &path, "").await.json()[0].clone();
        if row["progress"] == 1.0 {
            break row;
        }
        assert!(Instant::now() < deadline, "complete in time: {row}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(row["category"], "autobrr");
    assert_eq!(row["tags"], "irc, freeleech");
    assert_eq!(row["up_limit"], 10_485_760);
    assert_eq!(row["save_path"], savepath.as_str());
    let root = std::path::Path::new(&savepath).join("Release.2024");
    for (path, bytes) in &seeder.files {
        assert_eq!(&std::fs::read(root.join(path)).expect("fetched file"), bytes, "{path}");
    }
    facade.stop().await;
    seeder.stop().await;
}
