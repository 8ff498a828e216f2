//! A torrent's swarm and trackers through the facade, on a real transfer:
//! `sync/torrentPeers` with its rids, `pieceStates`, first/last piece
//! priority, and tracker edits as qBittorrent answers them.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{Facade, Seeder};
use revaer_domain::{Scope, Scopes};
use serde_json::Value;

async fn post(facade: &Facade, sid: &str, path: &str, form: &str) -> (StatusCode, String) {
    let reply = facade.with(sid, Method::POST, &format!("/api/v2/torrents/{path}"), form).await;
    (reply.status, reply.text)
}

async fn get(facade: &Facade, sid: &str, path: &str) -> Value {
    let reply = facade.with(sid, Method::GET, &format!("/api/v2/{path}"), "").await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    reply.json()
}

async fn add(facade: &Facade, sid: &str, metainfo: &[u8], fields: &[(&str, &str)]) {
    assert_eq!(
        facade.upload(&format!("SID={sid}"), "torrents", metainfo, fields).await.text,
        "Ok."
    );
}

fn trackers(list: &Value) -> Vec<(String, i64)> {
    list.as_array()
        .expect("trackers")
        .iter()
        .filter(|t| t["tier"].as_i64().is_some_and(|tier| tier >= 0))
        .filter_map(|t| Some((t["url"].as_str()?.to_owned(), t["tier"].as_i64()?)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_sync_by_rid_while_pieces_arrive() {
    let seeder = Seeder::start("Swarm", &[("a.bin", 100 * 16_384)]).await;
    let facade = Facade::start().await;
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let hash = seeder.id.to_hex();
    // Slow (about 16 s in all) so that the peer is there to look at.
    add(&facade, &sid, &seeder.metainfo, &[("firstLastPiecePrio", "true"), ("dlLimit", "100000")])
        .await;
    let row = &get(&facade, &sid, &format!("torrents/info?hashes={hash}")).await[0];
    assert_eq!(row["f_l_piece_prio"], true);
    let pieces = get(&facade, &sid, &format!("torrents/pieceStates?hash={hash}")).await;
    assert_eq!(pieces.as_array().map(Vec::len), Some(100));

    let path = format!("sync/torrentPeers?hash={hash}&rid=0");
    let empty = get(&facade, &sid, &path).await;
    assert_eq!(
        (empty["full_update"].as_bool(), empty["show_flags"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(empty["peers"], serde_json::json!({}));
    let peers = format!("hashes={hash}&peers={}", seeder.peer());
    assert_eq!(post(&facade, &sid, "addPeers", &peers).await.0, StatusCode::OK);
    let key = seeder.peer().to_string();
    let mut rid = empty["rid"].as_u64().expect("rid");
    let deadline = Instant::now() + Duration::from_secs(20);
    let seen = loop {
        let reply = get(&facade, &sid, &format!("sync/torrentPeers?hash={hash}&rid={rid}")).await;
        assert!(reply.get("full_update").is_none(), "deltas after the first: {reply}");
        rid = reply["rid"].as_u64().expect("rid");
        if let Some(peer) = reply["peers"].get(&key) {
            break peer.clone();
        }
        assert!(Instant::now() < deadline, "the seeder shows up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(seen["ip"], "127.0.0.1");
    assert_eq!(seen["port"], seeder.peer().port());
    assert!(seen["progress"].as_f64().is_some_and(|p| (p - 1.0).abs() < 1e-9), "{seen}");
    assert!(seen["flags"].as_str().is_some_and(|f| f.contains('D') || f.contains('d')), "{seen}");
    assert!(["BT", "μTP"].contains(&seen["connection"].as_str().unwrap_or_default()), "{seen}");
    // The same rid again (the reply was lost) repeats the delta; an
    // unknown one is a full update.
    let again = get(&facade, &sid, &format!("sync/torrentPeers?hash={hash}&rid={rid}")).await;
    let repeat = get(&facade, &sid, &format!("sync/torrentPeers?hash={hash}&rid={rid}")).await;
    assert_eq!(again.get("peers_removed"), repeat.get("peers_removed"));
    let full = get(&facade, &sid, &format!("sync/torrentPeers?hash={hash}&rid=4242424")).await;
    assert_eq!(full["full_update"], true);
    assert!(full["peers"].get(&key).is_some(), "a full update lists every peer: {full}");

    // Pieces arrive, the first and last among the first third. (libtorrent
    // picks its first four at random, whatever their priority, and fetches
    // those it asked for meanwhile.)
    let deadline = Instant::now() + Duration::from_secs(20);
    let states = loop {
        let states = get(&facade, &sid, &format!("torrents/pieceStates?hash={hash}")).await;
        let had = states.as_array().map_or(0, |s| s.iter().filter(|p| *p == 2).count());
        if had >= 30 {
            break states;
        }
        assert!(Instant::now() < deadline, "pieces arrive");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let had = states.as_array().map_or(0, |s| s.iter().filter(|p| *p == 2).count());
    assert!(had < 100, "still downloading");
    assert_eq!(
        (states[0].as_u64(), states[99].as_u64()),
        (Some(2), Some(2)),
        "edges first: {states}"
    );
    assert_eq!(
        post(&facade, &sid, "toggleFirstLastPiecePrio", &format!("hashes={hash}")).await.0,
        StatusCode::OK
    );
    let row = &get(&facade, &sid, &format!("torrents/info?hashes={hash}")).await[0];
    assert_eq!(row["f_l_piece_prio"], false);

    let unknown = "0".repeat(40);
    let missing = facade
        .with(&sid, Method::GET, &format!("/api/v2/sync/torrentPeers?hash={unknown}"), "")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let missing = facade
        .with(&sid, Method::GET, &format!("/api/v2/torrents/pieceStates?hash={unknown}"), "")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    facade.stop().await;
    seeder.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trackers_are_added_by_tier_edited_and_removed() {
    let seeder = Seeder::start("Tracked", &[("a.bin", 20_000)]).await;
    let facade = Facade::start().await;
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let hash = seeder.id.to_hex();
    add(&facade, &sid, &seeder.metainfo, &[("stopped", "true")]).await;
    let ok = (StatusCode::OK, String::new());
    let urls =
        "http://a.example/announce\nudp://b.example:6969\n\nhttps://c.example/announce\nnot a url";
    let form = format!("hash={hash}&urls={}", urls.replace('\n', "%0A").replace(' ', "+"));
    assert_eq!(post(&facade, &sid, "addTrackers", &form).await, ok);
    // Twice: nothing is added twice.
    assert_eq!(post(&facade, &sid, "addTrackers", &form).await, ok);
    let list = get(&facade, &sid, &format!("torrents/trackers?hash={hash}")).await;
    let want = |urls: &[(&str, i64)]| -> Vec<(String, i64)> {
        urls.iter().map(|(u, t)| ((*u).to_owned(), *t)).collect()
    };
    assert_eq!(
        trackers(&list),
        want(&[
            ("http://a.example/announce", 0),
            ("udp://b.example:6969", 0),
            ("https://c.example/announce", 1)
        ])
    );

    let edit = format!("hash={hash}&origUrl=udp://b.example:6969&newUrl=udp://b2.example:6969");
    assert_eq!(post(&facade, &sid, "editTracker", &edit).await, ok);
    let taken = format!("hash={hash}&url=udp://b2.example:6969&newUrl=http://a.example/announce");
    assert_eq!(post(&facade, &sid, "editTracker", &taken).await.0, StatusCode::CONFLICT);
    let absent = format!("hash={hash}&origUrl=udp://gone&newUrl=udp://new.example:1");
    assert_eq!(post(&facade, &sid, "editTracker", &absent).await.0, StatusCode::CONFLICT);
    let junk = format!("hash={hash}&origUrl=udp://b2.example:6969&newUrl=gopher://x");
    assert_eq!(post(&facade, &sid, "editTracker", &junk).await.0, StatusCode::BAD_REQUEST);

    // As VueTorrent sends them: each URL encoded, then joined with `|`.
    let encoded = "http%253A%252F%252Fa.example%252Fannounce|udp://nowhere";
    assert_eq!(
        post(&facade, &sid, "removeTrackers", &format!("hash={hash}&urls={encoded}")).await,
        ok
    );
    let list = get(&facade, &sid, &format!("torrents/trackers?hash={hash}")).await;
    assert_eq!(
        trackers(&list),
        want(&[("udp://b2.example:6969", 0), ("https://c.example/announce", 1)])
    );
    let none =
        post(&facade, &sid, "removeTrackers", &format!("hash={hash}&urls=udp://nowhere")).await;
    assert_eq!(none.0, StatusCode::CONFLICT);
    let unknown = format!("hash={}&urls=http://a.example/announce", "0".repeat(40));
    assert_eq!(post(&facade, &sid, "addTrackers", &unknown).await.0, StatusCode::NOT_FOUND);
    facade.stop().await;
    seeder.stop().await;
}
