//! Golden replies: the shape of every read the facade serves (each key,
//! and each value's JSON type: what typed clients decode), for a daemon
//! with one seeding torrent in a category with tags, compared with
//! `tests/golden/shapes.json`. A change to a reply's fields shows here as
//! a diff to review; after a deliberate one, rewrite the file with
//! `REVAER_BLESS_GOLDEN=1 cargo test -p revaer-qbit --test golden` and
//! commit it.

mod common;

use axum::http::{Method, StatusCode};
use common::{Facade, Seeder};
use revaer_domain::{Scope, Scopes};
use serde_json::{Map, Value, json};

/// Each value as its JSON type; arrays as the shape of their first item;
/// keys that are data (hashes, peers) as `<key>`.
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(n) if n.is_f64() => json!("float"),
        Value::Number(_) => json!("integer"),
        Value::String(_) => json!("string"),
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        Value::Object(map) => {
            let data_key = |key: &str| {
                (key.len() == 40 && key.bytes().all(|b| b.is_ascii_hexdigit())) || key.contains(':')
            };
            let mut out = Map::new();
            for (key, value) in map {
                let key = if data_key(key) { "<key>".to_owned() } else { key.clone() };
                out.insert(key, shape(value));
            }
            Value::Object(out)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_keeps_its_shape() {
    let seeder = Seeder::start("Golden", &[("a.bin", 40_000), ("b.bin", 20_000)]).await;
    let facade = Facade::start().await;
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let hash = seeder.id.to_hex();
    let made =
        facade.with(&sid, Method::POST, "/api/v2/torrents/createCategory", "category=tv").await;
    assert_eq!(made.status, StatusCode::OK);
    assert_eq!(
        facade
            .upload(
                &format!("SID={sid}"),
                "torrents",
                &seeder.metainfo,
                &[("category", "tv"), ("tags", "a,b")]
            )
            .await
            .text,
        "Ok."
    );
    facade.engine.connect_peer(seeder.id, seeder.peer()).await.expect("connect");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while facade.engine.summary(seeder.id).is_none_or(|t| t.progress < 1.0) {
        assert!(std::time::Instant::now() < deadline, "fetched in time");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // One line for the log.
    let id = seeder.id;
    let error = revaer_domain::event::TorrentError { torrent: id, message: "disk full".into() };
    facade.service.bus().publish(revaer_domain::event::Event::TorrentError(error));

    let reads = [
        "app/buildInfo".to_owned(),
        "app/preferences".to_owned(),
        "torrents/info".to_owned(),
        format!("torrents/properties?hash={hash}"),
        format!("torrents/files?hash={hash}"),
        format!("torrents/trackers?hash={hash}"),
        format!("torrents/pieceStates?hash={hash}"),
        "torrents/categories".to_owned(),
        "torrents/tags".to_owned(),
        format!("torrents/downloadLimit?hashes={hash}"),
        format!("torrents/uploadLimit?hashes={hash}"),
        "transfer/info".to_owned(),
        "log/main".to_owned(),
        "log/peers".to_owned(),
        "sync/maindata?rid=0".to_owned(),
        format!("sync/torrentPeers?hash={hash}&rid=0"),
    ];
    let mut shapes = Map::new();
    for read in reads {
        let reply = facade.with(&sid, Method::GET, &format!("/api/v2/{read}"), "").await;
        assert_eq!(reply.status, StatusCode::OK, "{read}: {}", reply.text);
        let name = read.split('?').next().unwrap_or_default().to_owned();
        let mut reply = reply.json();
        if name == "sync/torrentPeers" {
            // Two seeds part once both are complete, sooner or later: the
            // peer rows' fields are the swarm test's to check.
            reply["peers"] = json!("peers");
        }
        shapes.insert(name, shape(&reply));
    }
    for text in
        ["app/version", "app/webapiVersion", "app/defaultSavePath", "transfer/downloadLimit"]
    {
        let reply = facade.with(&sid, Method::GET, &format!("/api/v2/{text}"), "").await;
        assert_eq!(reply.status, StatusCode::OK, "{text}");
        let plain = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(plain.starts_with("text/plain"), "{text}: {plain}");
        shapes.insert(text.to_owned(), json!("text"));
    }
    let got = serde_json::to_string_pretty(&Value::Object(shapes)).expect("JSON") + "\n";
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/shapes.json");
    if std::env::var_os("REVAER_BLESS_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&golden, &got).expect("bless");
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        want == got,
        "the replies' shapes changed (review the diff; after a deliberate change, \
         REVAER_BLESS_GOLDEN=1 cargo test -p revaer-qbit --test golden):\n{got}"
    );
    facade.stop().await;
    seeder.stop().await;
}
