//! Queue places and force-start through the facade, as VueTorrent and
//! Flood offer them: `409` while the session does not queue, qBittorrent's
//! 1-based `priority` once it does, and the `forced*` states.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::Facade;
use revaer_domain::{Scope, Scopes};

async fn info(facade: &Facade, sid: &str) -> Vec<serde_json::Value> {
    let rows = facade.with(sid, Method::GET, "/api/v2/torrents/info?sort=priority", "").await;
    rows.json().as_array().cloned().unwrap_or_default()
}

async fn wait_info(
    facade: &Facade,
    sid: &str,
    what: &str,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = info(facade, sid).await;
        if done(&rows) {
            return rows;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn hash(n: u8) -> String {
    format!("{n:02x}").repeat(20)
}

fn priority_of(rows: &[serde_json::Value], hash: &str) -> Option<i64> {
    rows.iter().find(|r| r["hash"] == hash).and_then(|r| r["priority"].as_i64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_places_and_force_start() {
    let facade = Facade::start().await;
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let add = |n: u8| format!("urls=magnet%3A%3Fxt%3Durn%3Abtih%3A{}", hash(n));
    let added = facade.with(&sid, Method::POST, "/api/v2/torrents/add", &add(1)).await;
    assert_eq!(added.text, "Ok.");
    let top = format!("hashes={}", hash(3));
    let refused = facade.with(&sid, Method::POST, "/api/v2/torrents/topPrio", &top).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "no queueing: {}", refused.text);
    let rows = info(&facade, &sid).await;
    assert_eq!(rows[0]["priority"], -1, "no queue, no places: {rows:?}");

    let mut session = facade.engine.settings();
    session.active_downloads = Some(1);
    facade.engine.apply_settings(session).await.expect("queueing on");
    for n in 2..=3 {
        let added = facade.with(&sid, Method::POST, "/api/v2/torrents/add", &add(n)).await;
        assert_eq!(added.text, "Ok.");
    }
    wait_info(&facade, &sid, "places 1, 2, 3", |rows| {
        (1..=3).all(|n| priority_of(rows, &hash(n)) == Some(i64::from(n)))
    })
    .await;
    let moved = facade.with(&sid, Method::POST, "/api/v2/torrents/topPrio", &top).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let down = format!("hashes={}", hash(1));
    facade.with(&sid, Method::POST, "/api/v2/torrents/decreasePrio", &down).await;
    let rows = wait_info(&facade, &sid, "3, 2, 1", |rows| {
        [(3, 1), (2, 2), (1, 3)].iter().all(|(n, at)| priority_of(rows, &hash(*n)) == Some(*at))
    })
    .await;
    assert_eq!(rows[0]["hash"], hash(3), "sorted by priority: {rows:?}");
    let state = |rows: &[serde_json::Value], n: u8| {
        rows.iter().find(|r| r["hash"] == hash(n)).map(|r| r["state"].clone())
    };
    wait_info(&facade, &sid, "the front running, the back waiting", |rows| {
        state(rows, 3) == Some("metaDL".into()) && state(rows, 1) == Some("queuedDL".into())
    })
    .await;

    let force = format!("hashes={}&value=true", hash(1));
    let forced = facade.with(&sid, Method::POST, "/api/v2/torrents/setForceStart", &force).await;
    assert_eq!(forced.status, StatusCode::OK);
    wait_info(&facade, &sid, "the forced one running", |rows| {
        rows.iter().any(|r| {
            r["hash"] == hash(1) && r["state"] == "forcedMetaDL" && r["force_start"] == true
        })
    })
    .await;
    facade.stop().await;
}
