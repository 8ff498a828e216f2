//! `/v1/config`: the settings with their revision; changesets with
//! `If-Match`, every violation with its pointer.

mod common;

use axum::http::Method;
use common::Api;
use serde_json::json;

#[tokio::test]
async fn settings_are_read_and_changed_by_revision() {
    let api = Api::start().await;
    let current = api.call(Method::GET, "/v1/config", None).await;
    assert_eq!(current.status, 200, "{}", current.json);
    let revision = current.json["revision"].as_i64().expect("revision");
    assert_eq!(
        current.headers.get("etag").and_then(|v| v.to_str().ok()),
        Some(format!("\"{revision}\"").as_str())
    );
    assert!(current.json["engine_profile"]["listen_port"].is_number());

    let change = |if_match: &str, body: serde_json::Value| {
        axum::http::Request::builder()
            .method(Method::PATCH)
            .uri("/v1/config")
            .header("authorization", format!("Bearer {}", api.token))
            .header("content-type", "application/json")
            .header("if-match", if_match)
            .body(axum::body::Body::from(body.to_string()))
            .expect("request")
    };
    let changed = api
        .raw(change(&format!("\"{revision}\""), json!({"engine_profile": {"dht": false}})))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.json);
    assert_eq!(changed.json["revision"].as_i64(), Some(revision + 1));
    assert_eq!(changed.json["engine_profile"]["dht"], false);

    let stale =
        api.raw(change(&revision.to_string(), json!({"engine_profile": {"dht": true}}))).await;
    stale.problem(412);
    let invalid = api
        .raw(change(
            &(revision + 1).to_string(),
            json!({"engine_profile": {"connections_limit": 0}, "fs_policy": {"chmod_file": "999"}}),
        ))
        .await
        .problem(422);
    assert_eq!(invalid, ["/engine_profile/connections_limit", "/fs_policy/chmod_file"]);
    // Tags as the document's pattern has them: digits, quoted or not,
    // `W/` for weak ones; anything else is refused, not read leniently.
    for bad in ["yesterday", "+5", "\"5", "5\"", "W/", "-3", "\"\"5\"\""] {
        let refused = api.raw(change(bad, json!({}))).await.problem(400);
        assert_eq!(refused, ["/headers/if-match"], "{bad}");
    }
    // Weak tags never match (RFC 9110 strong comparison); a list matches
    // when one of its tags is the current revision; `*` matches any.
    let current = revision + 1;
    let weak = api.raw(change(&format!("W/\"{current}\""), json!({}))).await;
    weak.problem(412);
    let list = format!("\"{revision}\", W/\"{current}\", \"{current}\"");
    let listed = api.raw(change(&list, json!({"engine_profile": {"pex": false}}))).await;
    assert_eq!(listed.status, 200, "{}", listed.json);
    api.raw(change("\"100001\", \"100002\"", json!({}))).await.problem(412);
    let any = api.raw(change("*", json!({"engine_profile": {"pex": true}}))).await;
    assert_eq!(any.status, 200, "{}", any.json);
    api.send(Method::GET, "/v1/config", None, None).await.problem(401);

    let health = api.send(Method::GET, "/health/full", None, None).await;
    assert_eq!(
        health.json["components"]["config_watcher"]["last_revision"].as_i64(),
        Some(revision + 3)
    );
    api.stop().await;
}
