//! `sync/maindata` as VueTorrent polls it: a full update first, then only
//! what changed, per client, with qBittorrent's `rid` rules.

mod common;

use axum::http::Method;
use common::Facade;
use serde_json::Value;

const HASH: &str = "fedcba9876543210fedcba9876543210fedcba98";

#[tokio::test]
async fn maindata_sends_everything_once_then_what_changed() {
    let facade = Facade::start().await;
    let sid = facade.login(&facade.token).await;
    let poll = |rid: Option<u64>| {
        let (facade, sid) = (&facade, sid.clone());
        async move {
            let path = rid.map_or("/api/v2/sync/maindata".to_owned(), |rid| {
                format!("/api/v2/sync/maindata?rid={rid}")
            });
            facade.with(&sid, Method::GET, &path, "").await.json()
        }
    };
    let rid_of = |data: &Value| data["rid"].as_u64().expect("rid");
    let full = poll(None).await;
    assert_eq!(full["full_update"], true);
    assert!(
        full["server_state"]["free_space_on_disk"].as_u64().is_some_and(|free| free > 0),
        "{full}"
    );
    assert_eq!(full["server_state"]["connection_status"], "connected");
    let mut rid = rid_of(&full);

    // A new torrent comes whole (VueTorrent stores it as it is).
    let add = format!("urls=magnet%3A%3Fxt%3Durn%3Abtih%3A{HASH}&stopped=true&category=tv&tags=x");
    facade.with(&sid, Method::POST, "/api/v2/torrents/add", &add).await;
    let added = poll(Some(rid)).await;
    assert!(added.get("full_update").is_none(), "{added}");
    let row = &added["torrents"][HASH];
    for field in ["name", "state", "progress", "tags", "category", "save_path", "added_on", "eta"] {
        assert!(row.get(field).is_some(), "{field} in {row}");
    }
    assert!(row.get("hash").is_none(), "the key is the hash");
    assert_eq!(added["tags"], serde_json::json!(["x"]));
    rid = rid_of(&added);

    // A change sends only what changed.
    facade
        .with(
            &sid,
            Method::POST,
            "/api/v2/torrents/setCategory",
            &format!("hashes={HASH}&category=movies"),
        )
        .await;
    let changed = poll(Some(rid)).await;
    assert_eq!(changed["torrents"][HASH], serde_json::json!({"category": "movies"}), "{changed}");
    let before_loss = rid;
    rid = rid_of(&changed);

    // That reply is lost: asking with the previous rid sends it again.
    let resent = poll(Some(before_loss)).await;
    assert_eq!(resent["torrents"][HASH]["category"], "movies");
    assert_ne!(rid_of(&resent), rid, "a new rid (they wrap, so not always larger)");
    rid = rid_of(&resent);

    // Categories and removals.
    facade
        .with(&sid, Method::POST, "/api/v2/torrents/createCategory", "category=movies&savePath=")
        .await;
    facade.with(&sid, Method::POST, "/api/v2/torrents/delete", &format!("hashes={HASH}")).await;
    let gone = poll(Some(rid)).await;
    assert_eq!(gone["torrents_removed"], serde_json::json!([HASH]));
    assert_eq!(gone["categories"]["movies"]["name"], "movies");
    assert_eq!(gone["tags_removed"], serde_json::json!(["x"]));
    // An unknown rid, or another client: a full update.
    assert_eq!(poll(Some(123_456)).await["full_update"], true);
    let other = facade.login(&facade.token).await;
    let theirs = facade
        .with(&other, Method::GET, &format!("/api/v2/sync/maindata?rid={}", rid_of(&gone)), "")
        .await
        .json();
    assert_eq!(theirs["full_update"], true, "sync state is per session");
    facade.stop().await;
}
