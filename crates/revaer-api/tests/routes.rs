//! Every protected route, one table: 401 without a valid key, 429 with an
//! exhausted one (with `Retry-After`), and a Problem with a pointer for
//! invalid input.

mod common;

use axum::http::Method;
use common::Api;
use serde_json::{Value, json};

const ID: &str = "0123456789abcdef0123456789abcdef01234567";
const MAGNET: &str = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=caps";

/// (method, path, a valid-looking body) for every protected route.
fn routes() -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/v1/torrents".into(), None),
        (
            Method::POST,
            "/v1/torrents".into(),
            Some(json!({"magnet": format!("magnet:?xt=urn:btih:{ID}")})),
        ),
        (Method::GET, format!("/v1/torrents/{ID}"), None),
        (Method::DELETE, format!("/v1/torrents/{ID}"), None),
        (Method::POST, format!("/v1/torrents/{ID}/action"), Some(json!({"type": "pause"}))),
        (Method::POST, format!("/v1/torrents/{ID}/select"), Some(json!({"skip_fluff": true}))),
        (Method::GET, "/v1/config".into(), None),
        (Method::PATCH, "/v1/config".into(), Some(json!({}))),
        (Method::GET, "/v1/events".into(), None),
        (Method::GET, "/v1/keys".into(), None),
        (Method::POST, "/v1/keys".into(), Some(json!({"label": "x"}))),
        (Method::POST, "/v1/keys/abc/rotate".into(), None),
        (Method::DELETE, "/v1/keys/abc".into(), None),
        (Method::GET, "/v1/transfer".into(), None),
        (Method::POST, "/v1/transfer/limits".into(), Some(json!({"upload_bps": 1}))),
    ]
}

#[tokio::test]
async fn every_protected_route_needs_a_key_and_honours_its_rate_limit() {
    let api = Api::start().await;
    let issued = api
        .call(
            Method::POST,
            "/v1/keys",
            Some(json!({"label": "tight", "rate_limit": {"burst": 1, "per_seconds": 3600}})),
        )
        .await;
    let tight = issued.json["token"].as_str().expect("token").to_owned();
    // The one request the bucket holds.
    assert_eq!(api.send(Method::GET, "/v1/transfer", Some(&tight), None).await.status, 200);
    for (method, path, body) in routes() {
        for token in [None, Some("rvk_nope_nope"), Some("garbage")] {
            let reply = api.send(method.clone(), &path, token, body.clone()).await;
            assert_eq!(reply.problem(401), Vec::<String>::new(), "{method} {path}");
        }
        let limited = api.send(method.clone(), &path, Some(&tight), body.clone()).await;
        limited.problem(429);
        assert!(limited.headers.contains_key("retry-after"), "{method} {path}");
        assert_eq!(limited.headers["x-ratelimit-remaining"], "0", "{method} {path}");
    }
    api.stop().await;
}

#[tokio::test]
async fn every_protected_route_points_at_invalid_input() {
    let api = Api::start().await;
    let cases: Vec<Case> = vec![
        (Method::GET, "/v1/torrents?limit=0".into(), None, 400, "/query/limit"),
        (Method::POST, "/v1/torrents".into(), Some(json!({"magnet": "nope"})), 400, "/magnet"),
        (Method::GET, "/v1/torrents/xyz".into(), None, 400, "/path/id"),
        (
            Method::DELETE,
            format!("/v1/torrents/{ID}?delete_data=2"),
            None,
            400,
            "/query/delete_data",
        ),
        (
            Method::POST,
            format!("/v1/torrents/{ID}/action"),
            Some(json!({"type": "move", "save_path": "rel"})),
            400,
            "/save_path",
        ),
        (
            Method::POST,
            format!("/v1/torrents/{ID}/select"),
            Some(json!({"exclude": ["["]})),
            400,
            "/exclude/0",
        ),
        (
            Method::PATCH,
            "/v1/config".into(),
            Some(json!({"engine_profile": {"connections_limit": 0}})),
            422,
            "/engine_profile/connections_limit",
        ),
        (Method::GET, "/v1/events?state=flying".into(), None, 400, "/query/state"),
        (Method::POST, "/v1/keys".into(), Some(json!({"label": ""})), 400, "/label"),
        (Method::POST, "/v1/keys/a%2Fb/rotate".into(), None, 400, "/path/key_id"),
        (Method::DELETE, "/v1/keys/a%2Fb".into(), None, 400, "/path/key_id"),
        (
            Method::POST,
            "/v1/transfer/limits".into(),
            Some(json!({"upload_bps": -1})),
            400,
            "/upload_bps",
        ),
    ];
    points_at(&api, cases).await;
    api.stop().await;
}

type Case = (Method, String, Option<Value>, u16, &'static str);

/// Each request answers its status with a problem that has the pointer.
async fn points_at(api: &Api, cases: Vec<Case>) {
    for (method, path, body, status, pointer) in cases {
        let pointers = api.call(method.clone(), &path, body).await.problem(status);
        assert!(pointers.iter().any(|p| p == pointer), "{method} {path}: {pointers:?}");
    }
}

#[tokio::test]
async fn the_bounds_and_shapes_the_document_states_are_enforced() {
    let api = Api::start().await;
    let cases: Vec<Case> = vec![
        // Caps libtorrent cannot hold, as the document's `maximum` says.
        (
            Method::POST,
            "/v1/transfer/limits".into(),
            Some(json!({"upload_bps": 2_147_483_648_u64})),
            400,
            "/upload_bps",
        ),
        (
            Method::POST,
            "/v1/torrents".into(),
            Some(json!({"magnet": MAGNET, "download_bps": 2_147_483_648_u64})),
            400,
            "/download_bps",
        ),
        (
            Method::POST,
            format!("/v1/torrents/{ID}/action"),
            Some(json!({"type": "rate", "upload_bps": 9_000_000_000_u64})),
            400,
            "/upload_bps",
        ),
        // A body is a JSON object, never an array serde would read as one.
        (Method::POST, "/v1/transfer/limits".into(), Some(json!([null, null])), 400, ""),
        (Method::POST, format!("/v1/torrents/{ID}/action"), Some(json!(["pause"])), 400, ""),
        // Event streams: empty values, too many parameters, ids past int64.
        (Method::GET, "/v1/events?torrent=".into(), None, 400, "/query/torrent"),
        (Method::GET, "/v1/events?type=progress,".into(), None, 400, "/query/type"),
        (Method::GET, format!("/v1/events?{}", "state=queued&".repeat(33)), None, 400, "/query"),
        (
            Method::GET,
            "/v1/events?last_event_id=9223372036854775808".into(),
            None,
            400,
            "/query/last_event_id",
        ),
    ];
    points_at(&api, cases).await;
    api.stop().await;
}
