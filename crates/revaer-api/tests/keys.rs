//! `/v1/keys`: issue, list, rotate, revoke, each effective at once.

mod common;

use axum::http::Method;
use common::Api;
use revaer_domain::event::{GuardRail, GuardRailKind};
use revaer_domain::{Event, HealthStatus};
use serde_json::json;

#[tokio::test]
async fn keys_are_issued_listed_rotated_and_revoked() {
    let api = Api::start().await;
    let issued = api
        .call(
            Method::POST,
            "/v1/keys",
            Some(json!({"label": "sonarr", "rate_limit": {"burst": 10, "per_seconds": 1}})),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.json);
    let key_id = issued.json["key_id"].as_str().expect("id").to_owned();
    let token = issued.json["token"].as_str().expect("token shown once").to_owned();
    assert_eq!(
        api.send(Method::GET, "/v1/torrents", Some(&token), None).await.status,
        200,
        "works at once"
    );

    let list = api.call(Method::GET, "/v1/keys", None).await;
    assert_eq!(list.status, 200);
    let listed: Vec<&serde_json::Value> = list.json.as_array().expect("array").iter().collect();
    assert_eq!(listed.len(), 2);
    assert!(
        listed.iter().all(|k| k.get("token").is_none() && k.get("secret_hash").is_none()),
        "no secrets listed"
    );
    assert!(listed.iter().any(|k| k["label"] == "sonarr" && k["rate_limit"]["burst"] == 10));

    let rotated = api.call(Method::POST, &format!("/v1/keys/{key_id}/rotate"), None).await;
    assert_eq!(rotated.status, 200, "{}", rotated.json);
    let new_token = rotated.json["token"].as_str().expect("token").to_owned();
    api.send(Method::GET, "/v1/torrents", Some(&token), None).await.problem(401);
    assert_eq!(api.send(Method::GET, "/v1/torrents", Some(&new_token), None).await.status, 200);

    assert_eq!(api.call(Method::DELETE, &format!("/v1/keys/{key_id}"), None).await.status, 204);
    api.send(Method::GET, "/v1/torrents", Some(&new_token), None).await.problem(401);
    api.call(Method::DELETE, "/v1/keys/nosuchkey", None).await.problem(404);
    let unreadable = api.call(Method::POST, "/v1/keys/not-a-key!/rotate", None).await;
    assert_eq!(unreadable.problem(400), ["/path/key_id"]);
    assert_eq!(api.call(Method::DELETE, "/v1/keys/%FF", None).await.problem(400), ["/path/key_id"]);

    let bad = api.call(Method::POST, "/v1/keys", Some(json!({"label": ""}))).await.problem(400);
    assert_eq!(bad, ["/label"]);
    let bad = api
        .call(
            Method::POST,
            "/v1/keys",
            Some(json!({"label": "x", "rate_limit": {"burst": 0, "per_seconds": 1}})),
        )
        .await
        .problem(400);
    assert_eq!(bad, ["/rate_limit/burst"]);
    let bad = api
        .call(
            Method::POST,
            "/v1/keys",
            Some(json!({"label": "x", "expires_at": "2001-01-01T00:00:00Z"})),
        )
        .await
        .problem(400);
    assert_eq!(bad, ["/expires_at"]);
    api.send(Method::GET, "/v1/keys", None, None).await.problem(401);
    api.stop().await;
}

#[tokio::test]
async fn keys_are_rate_limited_with_headers_and_a_retry_after() {
    let api = Api::start().await;
    let issued = api
        .call(
            Method::POST,
            "/v1/keys",
            Some(json!({"label": "tight", "rate_limit": {"burst": 2, "per_seconds": 60}})),
        )
        .await;
    let token = issued.json["token"].as_str().expect("token").to_owned();
    let header = |reply: &common::Reply, name: &str| {
        reply.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    };
    let first = api.send(Method::GET, "/v1/torrents", Some(&token), None).await;
    assert_eq!(first.status, 200);
    assert_eq!(header(&first, "x-ratelimit-limit").as_deref(), Some("2"));
    assert_eq!(header(&first, "x-ratelimit-remaining").as_deref(), Some("1"));
    assert!(header(&first, "x-ratelimit-reset").is_some());
    let second = api.send(Method::GET, "/v1/torrents", Some(&token), None).await;
    assert_eq!(header(&second, "x-ratelimit-remaining").as_deref(), Some("0"));
    let third = api.send(Method::GET, "/v1/torrents", Some(&token), None).await;
    third.problem(429);
    assert_eq!(third.json["type"], "https://revaer.dev/problems/rate-limited");
    let retry: u64 =
        header(&third, "retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=30).contains(&retry), "{retry}");
    // Other keys are not affected; unlimited keys carry no limit headers.
    let free = api.call(Method::GET, "/v1/torrents", None).await;
    assert_eq!(free.status, 200);
    assert!(header(&free, "x-ratelimit-limit").is_none());
    let health = api.send(Method::GET, "/health/full", None, None).await;
    assert_eq!(health.json["components"]["rate_limiter"]["throttled"], 1);
    assert_eq!(
        health.json["components"]["rate_limiter"]["status"], "ok",
        "one refusal is no breach"
    );

    // A key refused again and again within a minute is a guard-rail
    // breach: reported once as a `guard_rail` event, and health degrades.
    let mut events = api.events.subscribe(None).live;
    for _ in 0..revaer_service::ratelimit::BREACH_THROTTLES {
        api.send(Method::GET, "/v1/torrents", Some(&token), None).await.problem(429);
    }
    let rails = guard_rails(&mut events);
    assert_eq!(rails.len(), 1, "reported once: {rails:?}");
    assert_eq!(rails[0].guard_rail, GuardRailKind::Breach);
    assert_eq!(rails[0].status, HealthStatus::Degraded);
    assert!(rails[0].trace_id.is_some(), "the refused request's trace id");
    assert_eq!(rails[0].key_id, issued.json["key_id"].as_str().expect("key id"));
    let health = api.send(Method::GET, "/health/full", None, None).await;
    let limiter = &health.json["components"]["rate_limiter"];
    assert_eq!(limiter["breaches"], 1);
    assert_eq!(limiter["status"], "degraded");
    assert_eq!(health.json["status"], "degraded", "{}", health.json);
    assert_eq!(health.status, 200, "degraded is still 200");
    api.stop().await;
}

#[tokio::test]
async fn keys_without_a_limit_are_reported_once() {
    let api = Api::start().await;
    let mut events = api.events.subscribe(None).live;
    let refresher = tokio::spawn(revaer_service::keys::refresh_keys(
        api.service.clone(),
        std::time::Duration::from_millis(50),
    ));
    // Several refreshes later, one report about the key.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let rails = guard_rails(&mut events);
    assert_eq!(rails.len(), 1, "reported once: {rails:?}");
    assert_eq!(rails[0].guard_rail, GuardRailKind::UnlimitedKey);
    let health = api.send(Method::GET, "/health/full", None, None).await;
    assert_eq!(health.json["components"]["rate_limiter"]["unlimited_keys"], 1);
    refresher.abort();
    api.stop().await;
}

/// The guard-rail events published so far.
fn guard_rails(
    events: &mut tokio::sync::broadcast::Receiver<revaer_service::bus::BusEvent>,
) -> Vec<GuardRail> {
    let mut rails = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let Event::GuardRail(rail) = &event.event {
            rails.push(rail.clone());
        }
    }
    rails
}
