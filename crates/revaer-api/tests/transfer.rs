//! `/v1/transfer` through the real router over a real engine and store.

mod common;

use axum::http::Method;
use common::Api;
use serde_json::json;

#[tokio::test]
async fn transfer_reports_rates_and_stores_global_caps() {
    let api = Api::start().await;
    for (method, uri) in [(Method::GET, "/v1/transfer"), (Method::POST, "/v1/transfer/limits")] {
        api.send(method, uri, None, Some(json!({}))).await.problem(401);
    }
    let reply = api.call(Method::GET, "/v1/transfer", None).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["torrents"], 0);
    assert_eq!(reply.json["download_bps"], 0);
    assert!(reply.json["download_limit_bps"].is_null(), "unlimited at first");

    let reply =
        api.call(Method::POST, "/v1/transfer/limits", Some(json!({"download_bps": 500_000}))).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["download_limit_bps"], 500_000);
    assert!(reply.json["upload_limit_bps"].is_null(), "an absent cap is left alone");
    let settings = api.store.settings().await.expect("settings");
    assert_eq!(settings.settings.engine_profile.download_limit_bps, Some(500_000));
    // null lifts a cap; 0 does too.
    let reply = api
        .call(
            Method::POST,
            "/v1/transfer/limits",
            Some(json!({"download_bps": null, "upload_bps": 0})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert!(reply.json["download_limit_bps"].is_null());
    let settings = api.store.settings().await.expect("settings");
    assert_eq!(settings.settings.engine_profile.download_limit_bps, None);

    let bad = |body| api.call(Method::POST, "/v1/transfer/limits", Some(body));
    assert_eq!(bad(json!({})).await.problem(400), ["/download_bps"]);
    assert_eq!(bad(json!({"upload_bps": 1_u64 << 40})).await.problem(400), ["/upload_bps"]);
    assert_eq!(bad(json!({"upload_bps": "fast"})).await.problem(400), ["/upload_bps"]);
    assert_eq!(bad(json!({"colour": 1})).await.problem(400).len(), 1);
    api.stop().await;
}

#[tokio::test]
async fn config_never_shows_key_material() {
    let api = Api::start().await;
    let reply = api.call(Method::GET, "/v1/config", None).await;
    assert_eq!(reply.status, 200);
    let text = reply.json.to_string();
    let secret = api.token.split('_').next_back().expect("secret part");
    assert!(!text.contains(secret), "the key's secret is not in the settings");
    assert!(!text.contains("rvk_"), "no token at all");
    api.stop().await;
}
