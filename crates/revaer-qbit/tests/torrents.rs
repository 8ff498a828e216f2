//! Torrents through the facade: add, list with qBittorrent's filters and
//! fields, details, categories, stop and start, delete.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::Facade;

const HASH: &str = "0123456789abcdef0123456789abcdef01234567";

fn magnet(hash: &str) -> String {
    format!("magnet%3A%3Fxt%3Durn%3Abtih%3A{hash}%26dn%3DShow")
}

#[tokio::test]
async fn an_added_magnet_is_listed_filtered_labelled_stopped_started_and_deleted() {
    let facade = Facade::start().await;
    let sid = facade.login(&facade.token).await;
    let add = format!(
        "urls={}&category=tv&tags=a,b&stopped=true&contentLayout=undefined&foo=bar",
        magnet(HASH)
    );
    let reply = facade.with(&sid, Method::POST, "/api/v2/torrents/add", &add).await;
    assert_eq!(reply.text, "Ok.");
    // Visible at once, with qBittorrent's fields.
    let info = facade
        .with(&sid, Method::GET, &format!("/api/v2/torrents/info?hashes={HASH}"), "")
        .await
        .json();
    let row = &info[0];
    assert_eq!(row["hash"], HASH);
    assert_eq!(row["state"], "stoppedDL");
    assert_eq!(row["category"], "tv");
    assert_eq!(row["tags"], "a, b");
    assert_eq!(row["eta"], 8_640_000);
    assert_eq!(row["ratio_limit"], -2.0, "qBittorrent sends a ratio as a number");
    assert!(row["save_path"].as_str().is_some_and(|p| p.ends_with("downloads")));
    // The same again adds nothing: `Fails.`.
    let again = facade.with(&sid, Method::POST, "/api/v2/torrents/add", &add).await;
    assert_eq!(again.text, "Fails.");
    assert_filters(&facade, &sid).await;
    // Details.
    let props = facade
        .with(&sid, Method::GET, &format!("/api/v2/torrents/properties?hash={HASH}"), "")
        .await;
    assert_eq!(props.status, StatusCode::OK);
    let unknown = facade
        .with(
            &sid,
            Method::GET,
            "/api/v2/torrents/properties?hash=ffffffffffffffffffffffffffffffffffffffff",
            "",
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let trackers = facade
        .with(&sid, Method::GET, &format!("/api/v2/torrents/trackers?hash={HASH}"), "")
        .await
        .json();
    assert_eq!(trackers[0]["url"], "** [DHT] **");
    assert_eq!(trackers[2]["url"], "** [LSD] **");
    // Category, start, stop (both verb sets).
    let set = facade
        .with(
            &sid,
            Method::POST,
            "/api/v2/torrents/setCategory",
            &format!("hashes={HASH}&category=movies"),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    let summary = || {
        facade.engine.summary(revaer_domain::InfoHash::parse(HASH).expect("hash")).expect("there")
    };
    assert_eq!(summary().labels.category.as_deref(), Some("movies"));
    assert_eq!(summary().labels.tags, ["a", "b"], "tags kept");
    assert_verbs(&facade, &sid).await;
    // Delete (`all` names every torrent).
    let deleted = facade
        .with(&sid, Method::POST, "/api/v2/torrents/delete", "hashes=all&deleteFiles=false")
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert!(facade.engine.list().is_empty());
    facade.stop().await;
}

#[tokio::test]
async fn a_torrent_file_is_any_part_with_a_file_name() {
    let facade = Facade::start().await;
    let sid = facade.login(&facade.token).await;
    let source = facade.dir.path().join("payload");
    std::fs::create_dir_all(&source).expect("mkdir");
    std::fs::write(source.join("a.bin"), vec![7_u8; 40_000]).expect("payload");
    let options = revaer_engine::metainfo::CreateOptions {
        piece_size: Some(16 * 1024),
        v1_only: false,
        trackers: vec![],
    };
    let bytes = revaer_engine::metainfo::create(&source, &options).expect("torrent");
    let id = revaer_engine::metainfo::Metainfo::parse(&bytes).expect("parse").id;
    // @ctrl/qbittorrent calls the part `file`; cross-seed adds `foo=bar`.
    let boundary = "XyZ";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.torrent\"\r\nContent-Type: application/x-bittorrent\r\n\r\n").as_bytes());
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"paused\"\r\n\r\ntrue\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"foo\"\r\n\r\nbar\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v2/torrents/add")
        .header("cookie", format!("SID={sid}"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .expect("request");
    let reply = facade.raw(request).await;
    assert_eq!(reply.text, "Ok.");
    let files = facade
        .with(&sid, Method::GET, &format!("/api/v2/torrents/files?hash={}", id.to_hex()), "")
        .await
        .json();
    assert_eq!(files[0]["name"], "payload/a.bin");
    assert_eq!(files[0]["priority"], 1);
    let summary = facade.engine.summary(id).expect("added");
    assert_eq!(summary.state, revaer_domain::TorrentState::Paused, "`paused` is read too");
    facade.stop().await;
}

/// Filters, as a POST form (Flood and cross-seed post their reads).
async fn assert_filters(facade: &Facade, sid: &str) {
    let count = |reply: common::Reply| reply.json().as_array().map_or(0, Vec::len);
    for (query, expected) in [
        ("filter=stopped", 1),
        ("filter=paused", 1),
        ("filter=running", 0),
        ("filter=downloading", 1),
        ("filter=nonsense", 1),
        ("category=tv", 1),
        ("category=movies", 0),
        ("category=", 0),
        ("tag=b", 1),
        ("tag=", 0),
    ] {
        let posted = facade.with(sid, Method::POST, "/api/v2/torrents/info", query).await;
        assert_eq!(count(posted), expected, "{query}");
    }
}

/// Both verb sets, each waited for (the state follows libtorrent's next
/// status report).
async fn assert_verbs(facade: &Facade, sid: &str) {
    let id = revaer_domain::InfoHash::parse(HASH).expect("hash");
    let paused_now =
        || facade.engine.summary(id).map(|t| t.state == revaer_domain::TorrentState::Paused);
    for (verb, paused) in [("start", false), ("pause", true), ("resume", false), ("stop", true)] {
        let reply = facade
            .with(sid, Method::POST, &format!("/api/v2/torrents/{verb}"), &format!("hashes={HASH}"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{verb}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while paused_now() != Some(paused) && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(paused_now(), Some(paused), "{verb}");
    }
}
