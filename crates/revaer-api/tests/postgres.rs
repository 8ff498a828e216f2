//! The API over a store on the real PostgreSQL server: keys, settings with
//! revisions, transfer caps and the torrent lifecycle, through the router.

mod common;

use axum::body::Body;
use axum::http::{Method, Request};
use common::{Api, Backend, payload};
use revaer_service::catalogue::Catalogue;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_settings_and_torrents_work_on_postgres() {
    let api = Api::start_on(Backend::Postgres).await;
    assert_eq!(api.store.backend().name(), "PostgreSQL");

    // Keys: issue, list, rotate, revoke.
    let issued = api
        .call(
            Method::POST,
            "/v1/keys",
            Some(json!({"label": "sonarr", "rate_limit": {"burst": 5, "per_seconds": 10}})),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.json);
    let key_id = issued.json["key_id"].as_str().expect("key id").to_owned();
    let listed = api.call(Method::GET, "/v1/keys", None).await;
    assert!(listed.json.as_array().expect("keys").iter().any(|k| k["key_id"] == key_id.as_str()));
    let rotated = api.call(Method::POST, &format!("/v1/keys/{key_id}/rotate"), None).await;
    assert_eq!(rotated.status, 200, "{}", rotated.json);
    assert_ne!(rotated.json["token"], issued.json["token"]);
    let revoked = api.call(Method::DELETE, &format!("/v1/keys/{key_id}"), None).await;
    assert_eq!(revoked.status, 204);

    // Settings: a stale If-Match is 412, a valid change bumps the revision,
    // an invalid one is 422 with its pointer.
    let config = api.call(Method::GET, "/v1/config", None).await;
    let revision = config.json["revision"].as_i64().expect("revision");
    let patch = |if_match: i64, body: serde_json::Value| {
        Request::builder()
            .method(Method::PATCH)
            .uri("/v1/config")
            .header("authorization", format!("Bearer {}", api.token))
            .header("content-type", "application/json")
            .header("if-match", format!("\"{if_match}\""))
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let changed =
        api.raw(patch(revision, json!({"engine_profile": {"active_downloads": 7}}))).await;
    assert_eq!(changed.status, 200, "{}", changed.json);
    assert!(changed.json["revision"].as_i64().expect("revision") > revision);
    api.raw(patch(revision, json!({"engine_profile": {"active_downloads": 8}}))).await.problem(412);
    let invalid = api
        .raw(patch(
            changed.json["revision"].as_i64().expect("rev"),
            json!({"engine_profile": {"connections_limit": 0}}),
        ))
        .await;
    assert_eq!(invalid.problem(422), ["/engine_profile/connections_limit"]);

    // Transfer caps are stored settings.
    let caps =
        api.call(Method::POST, "/v1/transfer/limits", Some(json!({"upload_bps": 250_000}))).await;
    assert_eq!(caps.json["upload_limit_bps"], 250_000, "{}", caps.json);

    // Torrents: add, duplicate, list, detail, act, remove; the catalogue
    // (written from the bus's events, as the daemon does) follows.
    let catalogue = Catalogue::new(api.store.clone(), "pg-test");
    let mut live = api.events.subscribe(None).live;
    tokio::spawn(async move {
        while let Ok(event) = live.recv().await {
            catalogue.apply(&event).await.expect("the catalogue takes the event");
        }
    });
    let metainfo = payload(api.dir.path(), "pg-show");
    let body = json!({"metainfo": metainfo, "paused": true, "category": "tv", "tags": ["pg"]});
    let added = api.call(Method::POST, "/v1/torrents", Some(body.clone())).await;
    assert_eq!(added.status, 201, "{}", added.json);
    let id = added.json["id"].as_str().expect("id").to_owned();
    assert_eq!(api.call(Method::POST, "/v1/torrents", Some(body)).await.status, 200);
    let row = eventually(&api, &id, true).await.expect("catalogued");
    assert_eq!(
        (row.tags.as_slice(), row.instance.as_deref()),
        (["pg".to_owned()].as_slice(), Some("pg-test"))
    );
    let listed = api.call(Method::GET, "/v1/torrents?category=tv&tag=pg&extension=srt", None).await;
    assert_eq!(listed.json["items"][0]["id"], id.as_str(), "{}", listed.json);
    let detail = api.call(Method::GET, &format!("/v1/torrents/{id}"), None).await;
    assert_eq!(detail.status, 200, "{}", detail.json);
    assert!(detail.json["fsops"].is_null(), "no job before completion");
    let resumed = api
        .call(Method::POST, &format!("/v1/torrents/{id}/action"), Some(json!({"type": "resume"})))
        .await;
    assert_eq!(resumed.status, 204, "{}", resumed.json);
    let removed =
        api.call(Method::DELETE, &format!("/v1/torrents/{id}?delete_data=true"), None).await;
    assert_eq!(removed.status, 204, "{}", removed.json);
    assert!(eventually(&api, &id, false).await.is_none(), "the row goes with the torrent");
    api.stop().await;
}

/// The catalogue's row for `id` once it is there (`present`) or gone.
async fn eventually(api: &Api, id: &str, present: bool) -> Option<revaer_store::TorrentRow> {
    let id = id.parse().expect("hash");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let row = api.store.torrent(id).await.expect("read");
        if row.is_some() == present {
            return row;
        }
        assert!(std::time::Instant::now() < deadline, "the catalogue follows in time");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
