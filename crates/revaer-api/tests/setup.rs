//! Setup mode: closed until `POST /v1/setup/complete` with the setup token,
//! which applies a first changeset and answers the first API key once.

mod common;

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::Method;
use common::Api;
use serde_json::json;

#[tokio::test]
async fn setup_opens_the_api_once() {
    let (api, setup_token) = Api::start_in_setup().await;
    let closed = api.call(Method::GET, "/v1/torrents", None).await;
    closed.problem(409);
    assert_eq!(closed.json["type"], "https://revaer.dev/problems/setup-required");
    assert_eq!(api.send(Method::GET, "/health", None, None).await.status, 200, "health stays open");

    let wrong = api
        .send(Method::POST, "/v1/setup/complete", None, Some(json!({"token": "rvs_wrong"})))
        .await;
    wrong.problem(401);
    let invalid = api
        .send(
            Method::POST,
            "/v1/setup/complete",
            None,
            Some(json!({
                "token": setup_token, "settings": {"engine_profile": {"connections_limit": 0}}
            })),
        )
        .await
        .problem(422);
    assert_eq!(
        invalid,
        ["/engine_profile/connections_limit"],
        "nothing consumed by a bad changeset"
    );
    let form = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/setup/complete")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-revaer-setup-token", &setup_token)
        .body(axum::body::Body::from("api_key_label=ops"))
        .expect("request");
    api.raw(form).await.problem(415);

    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/setup/complete")
        .header("content-type", "application/json")
        .header("x-revaer-setup-token", &setup_token)
        .body(axum::body::Body::from(
            r#"{"settings": {"engine_profile": {"dht": false}}, "api_key_label": "ops"}"#,
        ))
        .expect("request");
    let done = api.raw(request).await;
    assert_eq!(done.status, 201, "{}", done.json);
    let token = done.json["api_key"]["token"].as_str().expect("token once").to_owned();
    assert!(done.json["revision"].as_i64().is_some_and(|r| r > 0));
    let open = api.send(Method::GET, "/v1/torrents", Some(&token), None).await;
    assert_eq!(open.status, 200, "{}", open.json);
    let settings = api.store.settings().await.expect("settings");
    assert!(!settings.settings.engine_profile.dht, "the first changeset applied");

    let again = api
        .send(Method::POST, "/v1/setup/complete", None, Some(json!({"token": setup_token})))
        .await;
    again.problem(409);
    // Set up: only completing is refused early; other methods and paths
    // are the router's (405, 404).
    let trace = axum::http::Request::builder()
        .method("TRACE")
        .uri("/v1/setup/complete")
        .body(axum::body::Body::empty())
        .expect("request");
    api.raw(trace).await.problem(405);
    api.send(Method::GET, "/v1/setup/other", None, None).await.problem(404);
    api.stop().await;

    let (fresh, token) = Api::start_in_setup().await;
    let body = json!({"token": token, "api_key_label": ""});
    let pointers =
        fresh.send(Method::POST, "/v1/setup/complete", None, Some(body)).await.problem(400);
    assert_eq!(pointers, ["/api_key_label"], "the setup body's own field");
    let too_big = json!({"token": "x".repeat(100_000)});
    fresh.send(Method::POST, "/v1/setup/complete", None, Some(too_big)).await.problem(413);
    fresh.stop().await;
}

#[tokio::test]
async fn setup_answers_loopback_clients_only() {
    let (api, setup_token) = Api::start_in_setup().await;
    let mut request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/setup/complete")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(json!({"token": setup_token}).to_string()))
        .expect("request");
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 5555))));
    let refused = api.raw(request).await;
    refused.problem(403);
    assert!(api.store.has_setup_token().await.expect("token"), "nothing consumed");
    let mut local = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/setup/complete")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(json!({"token": setup_token}).to_string()))
        .expect("request");
    // An IPv4 client of an IPv6 listener arrives mapped: still loopback.
    let mapped: std::net::IpAddr = "::ffff:127.0.0.1".parse().expect("ip");
    local.extensions_mut().insert(ConnectInfo(SocketAddr::new(mapped, 5555)));
    assert_eq!(api.raw(local).await.status, 201);
    // Set up: setup routes answer 409 before reading any body.
    let huge = "x".repeat(1 << 20);
    let late =
        api.send(Method::POST, "/v1/setup/complete", None, Some(json!({"token": huge}))).await;
    late.problem(409);
    api.stop().await;
}

#[tokio::test]
async fn remote_setup_can_be_allowed_explicitly() {
    let (api, setup_token) =
        Api::start_in_setup_with(|options| options.http.remote_setup = true).await;
    let mut request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/setup/complete")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(json!({"token": setup_token}).to_string()))
        .expect("request");
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 5555))));
    let reply = api.raw(request).await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    api.stop().await;
}
