//! Scoped keys: each route needs its scope (403 naming a missing one), a
//! key hands out nothing wider than itself, and a key's event stream ends
//! with the key.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};
use common::Api;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const ID: &str = "0123456789abcdef0123456789abcdef01234567";

/// Issues a key with `body` as the admin and returns its token.
async fn issue(api: &Api, token: Option<&str>, body: Value) -> (u16, Value) {
    let token = token.unwrap_or(&api.token);
    let reply = api.send(Method::POST, "/v1/keys", Some(token), Some(body)).await;
    (reply.status.as_u16(), reply.json)
}

async fn token_of(api: &Api, body: Value) -> String {
    let (status, json) = issue(api, None, body).await;
    assert_eq!(status, 201, "{json}");
    json["token"].as_str().expect("token").to_owned()
}

/// The status of `method uri` with `token`, and the scope a 403 names.
async fn attempt(
    api: &Api,
    token: &str,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let reply = api.send(method, uri, Some(token), body).await;
    (reply.status.as_u16(), reply.json.get("required_scope").cloned().unwrap_or(Value::Null))
}

/// Who, what, the body, and the status and `required_scope` expected.
type Case<'a> = (&'a str, Method, String, Option<Value>, u16, Value);

#[tokio::test]
async fn every_route_needs_its_scope_and_a_refusal_names_it() {
    let api = Api::start().await;
    let reader = token_of(&api, json!({"label": "dashboard"})).await;
    let control = token_of(&api, json!({"label": "sonarr", "scopes": ["control"]})).await;
    let add = json!({"magnet": format!("magnet:?xt=urn:btih:{ID}"), "paused": true});
    let freeze = json!({"app_profile": {"immutable_keys": ["/app_profile", "/fs_policy"]}});
    let cases: Vec<Case<'_>> = vec![
        // A key issued without scopes reads, and only reads.
        (&reader, Method::GET, "/v1/torrents".into(), None, 200, Value::Null),
        (&reader, Method::GET, "/v1/transfer".into(), None, 200, Value::Null),
        (&reader, Method::GET, "/health/full".into(), None, 200, Value::Null),
        (&reader, Method::POST, "/v1/torrents".into(), Some(add.clone()), 403, json!("control")),
        (&reader, Method::DELETE, format!("/v1/torrents/{ID}"), None, 403, json!("control")),
        (
            &reader,
            Method::POST,
            "/v1/transfer/limits".into(),
            Some(json!({"download_bps": 1})),
            403,
            json!("control"),
        ),
        (&reader, Method::GET, "/v1/config".into(), None, 403, json!("admin")),
        (&reader, Method::GET, "/v1/keys".into(), None, 403, json!("admin")),
        // `control` acts on torrents, never on keys or settings: it cannot
        // freeze the settings.
        (&control, Method::POST, "/v1/torrents".into(), Some(add), 201, Value::Null),
        (
            &control,
            Method::POST,
            format!("/v1/torrents/{ID}/action"),
            Some(json!({"type": "resume"})),
            204,
            Value::Null,
        ),
        (&control, Method::PATCH, "/v1/config".into(), Some(freeze.clone()), 403, json!("admin")),
        (
            &control,
            Method::POST,
            "/v1/keys".into(),
            Some(json!({"label": "x"})),
            403,
            json!("admin"),
        ),
        (&control, Method::DELETE, format!("/v1/torrents/{ID}"), None, 204, Value::Null),
    ];
    for (token, method, uri, body, status, scope) in cases {
        let seen = attempt(&api, token, method.clone(), &uri, body).await;
        assert_eq!(seen, (status, scope), "{method} {uri}");
    }
    let refused = api.send(Method::GET, "/v1/keys", Some(&reader), None).await;
    let detail = refused.json["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("`admin` scope"), "{detail}");
    // Nothing was frozen.
    let config = api.call(Method::GET, "/v1/config", None).await;
    assert_eq!(config.json["app_profile"]["immutable_keys"], json!([]));
    api.stop().await;
}

#[tokio::test]
async fn a_key_hands_out_nothing_wider_than_itself() {
    let api = Api::start().await;
    let limit = json!({"burst": 60, "per_seconds": 60});
    let expiry = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let (status, limited) = issue(
        &api,
        None,
        json!({"label": "ops", "scopes": ["admin"], "rate_limit": limit, "expires_at": expiry}),
    )
    .await;
    assert_eq!(status, 201, "{limited}");
    let (limited_id, limited) = (
        limited["key_id"].as_str().expect("id").to_owned(),
        limited["token"].as_str().expect("token").to_owned(),
    );
    let sooner = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let wider = [
        (json!({"label": "a", "expires_at": sooner}), "/rate_limit"),
        (
            json!({"label": "b", "rate_limit": {"burst": 600, "per_seconds": 60}, "expires_at": sooner}),
            "/rate_limit",
        ),
        (json!({"label": "c", "rate_limit": limit}), "/expires_at"),
    ];
    for (body, pointer) in wider {
        let (status, problem) = issue(&api, Some(&limited), body.clone()).await;
        assert_eq!(status, 403, "{body}: {problem}");
        assert_eq!(problem["invalid_params"][0]["pointer"], pointer, "{problem}");
    }
    let narrower = json!({"label": "d", "scopes": ["read"], "rate_limit": {"burst": 10, "per_seconds": 60}, "expires_at": sooner});
    assert_eq!(issue(&api, Some(&limited), narrower).await.0, 201);
    // The unlimited first key can be neither rotated nor revoked by it…
    let keys = api.call(Method::GET, "/v1/keys", None).await.json;
    let first =
        keys.as_array().expect("keys").iter().find(|k| k["label"] == "tests").expect("first key");
    let first = first["key_id"].as_str().expect("id");
    let rotate =
        api.send(Method::POST, &format!("/v1/keys/{first}/rotate"), Some(&limited), None).await;
    assert_eq!(rotate.problem(403), ["/rate_limit"], "it is unlimited; the limited key is not");
    let revoke = api.send(Method::DELETE, &format!("/v1/keys/{first}"), Some(&limited), None).await;
    revoke.problem(403);
    assert_eq!(
        api.call(Method::GET, "/v1/keys", None).await.status,
        200,
        "the owner is not locked out"
    );
    // …but it may rotate itself.
    let own = api
        .send(Method::POST, &format!("/v1/keys/{limited_id}/rotate"), Some(&limited), None)
        .await;
    assert_eq!(own.status, 200, "{}", own.json);
    // An empty scope list is refused with its pointer; so is an unknown one.
    assert_eq!(
        api.call(Method::POST, "/v1/keys", Some(json!({"label": "e", "scopes": []})))
            .await
            .problem(400),
        ["/scopes"]
    );
    api.call(Method::POST, "/v1/keys", Some(json!({"label": "f", "scopes": ["root"]})))
        .await
        .problem(400);
    api.stop().await;
}

/// Issues a key with `token`; answers its id and token.
async fn issue_as(api: &Api, token: &str, body: Value) -> (String, String) {
    let (status, json) = issue(api, Some(token), body).await;
    assert_eq!(status, 201, "{json}");
    let id = json["key_id"].as_str().expect("id").to_owned();
    (id, json["token"].as_str().expect("token").to_owned())
}

#[tokio::test]
async fn keys_issued_under_a_key_go_with_it_and_share_its_budget() {
    let api = Api::start().await;
    let limit = json!({"burst": 4, "per_seconds": 3600});
    let ops = json!({"label": "ops", "scopes": ["admin"], "rate_limit": limit});
    let (ops_id, ops) = issue_as(&api, &api.token, ops).await;
    // The issuer is recorded; one level and the next.
    let (tool_id, tool) =
        issue_as(&api, &ops, json!({"label": "tool", "scopes": ["admin"], "rate_limit": limit}))
            .await;
    let keys = api.call(Method::GET, "/v1/keys", None).await.json;
    let tool_view = keys.as_array().expect("keys").iter().find(|k| k["key_id"] == tool_id.as_str());
    assert_eq!(tool_view.expect("listed")["issued_by"], ops_id.as_str());
    // `ops` spent one request issuing; `tool` spends from both buckets, so
    // the family gets the four `ops` has, not four each.
    for _ in 0..3 {
        assert_eq!(attempt(&api, &tool, Method::GET, "/v1/torrents", None).await.0, 200);
    }
    assert_eq!(
        attempt(&api, &tool, Method::GET, "/v1/torrents", None).await.0,
        429,
        "ops's bucket is empty"
    );
    assert_eq!(attempt(&api, &ops, Method::GET, "/v1/torrents", None).await.0, 429);

    // Revoking a key revokes what was issued under it, all the way down.
    let (sub_id, sub) =
        issue_as(&api, &api.token, json!({"label": "sub", "scopes": ["admin"]})).await;
    let (_, leaf) = issue_as(&api, &sub, json!({"label": "leaf", "scopes": ["read"]})).await;
    let (_, issuer) = issue_as(&api, &sub, json!({"label": "issuer", "scopes": ["admin"]})).await;
    let (_, grand) = issue_as(&api, &issuer, json!({"label": "grand"})).await;
    assert_eq!(attempt(&api, &leaf, Method::GET, "/v1/torrents", None).await.0, 200);
    let revoked =
        api.send(Method::DELETE, &format!("/v1/keys/{sub_id}"), Some(&api.token), None).await;
    assert_eq!(revoked.status, 204, "{}", revoked.json);
    for token in [&sub, &leaf, &issuer, &grand] {
        assert_eq!(attempt(&api, token, Method::GET, "/v1/torrents", None).await.0, 401);
    }
    let keys = api.call(Method::GET, "/v1/keys", None).await.json;
    let revoked: Vec<&str> = keys
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| !k["revoked_at"].is_null())
        .filter_map(|k| k["label"].as_str())
        .collect();
    assert_eq!(revoked, ["sub", "leaf", "issuer", "grand"]);
    assert_eq!(api.call(Method::GET, "/v1/keys", None).await.status, 200, "the root key stays");

    // A chain of issued keys is as deep as a request follows, no deeper.
    let mut token = api.token.clone();
    for level in 1..=16 {
        token =
            issue_as(&api, &token, json!({"label": format!("level {level}"), "scopes": ["admin"]}))
                .await
                .1;
    }
    let (status, problem) = issue(&api, Some(&token), json!({"label": "level 17"})).await;
    assert_eq!(status, 403, "{problem}");
    api.stop().await;
}

/// Opens `/v1/events` with `token`; answers the stream's body.
async fn open_events(api: &Api, token: &str) -> Body {
    let request = Request::builder()
        .uri("/v1/events")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let response = api.router.clone().oneshot(request).await.expect("answer");
    assert_eq!(response.status(), 200);
    response.into_body()
}

/// Whether the stream ends (every frame read) within `within`.
async fn ends_within(body: &mut Body, within: Duration) -> bool {
    let drained = async {
        while let Some(frame) = body.frame().await {
            frame.expect("frame");
        }
    };
    tokio::time::timeout(within, drained).await.is_ok()
}

#[tokio::test]
async fn a_revoked_keys_event_stream_ends_within_a_second() {
    let api = Api::start().await;
    let (status, issued) = issue(&api, None, json!({"label": "watcher"})).await;
    assert_eq!(status, 201);
    let (key_id, token) = (
        issued["key_id"].as_str().expect("id").to_owned(),
        issued["token"].as_str().expect("token").to_owned(),
    );
    let mut body = open_events(&api, &token).await;
    // The opening frame arrives while the key is good.
    let first = tokio::time::timeout(Duration::from_secs(5), body.frame()).await;
    assert!(matches!(first, Ok(Some(Ok(_)))), "the stream opens");
    assert_eq!(api.call(Method::DELETE, &format!("/v1/keys/{key_id}"), None).await.status, 204);
    let revoked = tokio::time::Instant::now();
    assert!(
        ends_within(&mut body, Duration::from_secs(1)).await,
        "the stream ends within a second of the revocation"
    );
    assert!(revoked.elapsed() < Duration::from_secs(1));
    api.stop().await;
}

#[tokio::test]
async fn an_expiring_keys_event_stream_ends_at_its_expiry() {
    let api = Api::start().await;
    let expiry = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let (status, issued) =
        issue(&api, None, json!({"label": "brief", "expires_at": expiry.to_rfc3339()})).await;
    assert_eq!(status, 201, "{issued}");
    let token = issued["token"].as_str().expect("token").to_owned();
    let mut body = open_events(&api, &token).await;
    assert!(
        ends_within(&mut body, Duration::from_secs(5)).await,
        "the stream ends when its key expires"
    );
    let late = chrono::Utc::now() - expiry;
    assert!(late < chrono::Duration::seconds(1), "ended {late} after the expiry");
    api.stop().await;
}

#[tokio::test]
async fn keyed_requests_to_health_and_metrics_spend_from_the_bucket() {
    let api = Api::start().await;
    let limited = token_of(
        &api,
        json!({"label": "scraper", "rate_limit": {"burst": 1, "per_seconds": 3600}}),
    )
    .await;
    assert_eq!(api.send(Method::GET, "/v1/transfer", Some(&limited), None).await.status, 200);
    for uri in ["/v1/transfer", "/health/full", "/metrics"] {
        let reply = api.send(Method::GET, uri, Some(&limited), None).await;
        assert_eq!(reply.status, 429, "{uri}: a request with a key spends from its bucket");
    }
    // Without a key, loopback still reads health.
    assert_eq!(api.send(Method::GET, "/health/full", None, None).await.status, 200);
    api.stop().await;
}

#[tokio::test]
async fn loopback_exemptions_can_be_turned_off() {
    let api = Api::start_active_with(|options| options.http.loopback_exempt = false).await;
    api.send(Method::GET, "/health/full", None, None).await.problem(401);
    assert_eq!(api.call(Method::GET, "/health/full", None).await.status, 200);
    api.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_counts_not_the_proxy() {
    let proxy = |options: &mut common::Options| {
        options.http.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    };
    let forwarded = |uri: &str, client: Option<&str>| {
        let mut request = Request::builder().uri(uri);
        if let Some(client) = client {
            request = request.header("x-forwarded-for", client);
        }
        request.body(Body::empty()).expect("request")
    };
    let api = Api::start_active_with(proxy).await;
    // A remote client through the proxy on loopback is not a loopback client…
    api.raw(forwarded("/health/full", Some("203.0.113.9"))).await.problem(401);
    // …a loopback client through it still is; a request that names no
    // client is from nobody known, so remote.
    assert_eq!(api.raw(forwarded("/health/full", Some("127.0.0.1"))).await.status, 200);
    api.raw(forwarded("/health/full", None)).await.problem(401);
    api.stop().await;
    // Without the setting, forwarded addresses are ignored.
    let api = Api::start().await;
    assert_eq!(api.raw(forwarded("/health/full", Some("203.0.113.9"))).await.status, 200);
    api.stop().await;
    // Setup answers loopback clients only, seen through the proxy too.
    let (api, token) = Api::start_in_setup_with(proxy).await;
    let setup = Request::builder()
        .method(Method::POST)
        .uri("/v1/setup/complete")
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-revaer-setup-token", token)
        .header("content-type", "application/json");
    api.raw(setup.body(Body::from("{}")).expect("request")).await.problem(403);
    api.stop().await;
}

#[tokio::test]
async fn a_rotated_keys_event_stream_ends_too() {
    let api = Api::start().await;
    let (_, issued) = issue(&api, None, json!({"label": "watcher"})).await;
    let key_id = issued["key_id"].as_str().expect("id").to_owned();
    let token = issued["token"].as_str().expect("token").to_owned();
    let mut body = open_events(&api, &token).await;
    let first = tokio::time::timeout(Duration::from_secs(5), body.frame()).await;
    assert!(matches!(first, Ok(Some(Ok(_)))), "the stream opens");
    let rotated = api.call(Method::POST, &format!("/v1/keys/{key_id}/rotate"), None).await;
    assert_eq!(rotated.status, 200);
    assert!(
        ends_within(&mut body, Duration::from_secs(1)).await,
        "the old token's stream ends at the rotation"
    );
    api.stop().await;
}
