//! The OpenAPI document: generated from the code, committed as
//! `docs/api/openapi.json`, served at `/v1/openapi.json`, rendered at
//! `/docs`.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::Api;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api/openapi.json");

#[test]
fn the_committed_document_matches_the_code() {
    let generated = revaer_api::openapi::document();
    if std::env::var_os("REVAER_BLESS_OPENAPI").is_some() {
        std::fs::write(COMMITTED, format!("{generated}\n")).expect("write the document");
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed.trim_end() == generated,
        "docs/api/openapi.json is out of date: run `just openapi` (or \
         `REVAER_BLESS_OPENAPI=1 cargo test -p revaer-api --test openapi`) and commit it"
    );
}

#[test]
fn the_document_is_openapi_3_1_and_covers_every_route() {
    let doc: serde_json::Value =
        serde_json::from_str(revaer_api::openapi::document()).expect("JSON");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    let routes = [
        ("/health", "get"),
        ("/health/full", "get"),
        ("/metrics", "get"),
        ("/v1/setup/complete", "post"),
        ("/v1/config", "get"),
        ("/v1/config", "patch"),
        ("/v1/events", "get"),
        ("/v1/keys", "get"),
        ("/v1/keys", "post"),
        ("/v1/keys/{key_id}", "delete"),
        ("/v1/keys/{key_id}/rotate", "post"),
        ("/v1/torrents", "get"),
        ("/v1/torrents", "post"),
        ("/v1/torrents/{id}", "get"),
        ("/v1/torrents/{id}", "delete"),
        ("/v1/torrents/{id}/action", "post"),
        ("/v1/torrents/{id}/select", "post"),
        ("/v1/transfer", "get"),
        ("/v1/transfer/limits", "post"),
    ];
    for (path, method) in routes {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is documented");
        let protected = path.starts_with("/v1/") && !path.starts_with("/v1/setup/");
        assert_eq!(operation["security"].is_array(), protected, "{method} {path} security");
        if protected {
            assert!(operation["responses"]["401"].is_object(), "{method} {path} answers 401");
            assert!(operation["responses"]["429"].is_object(), "{method} {path} answers 429");
        }
    }
    // Examples for requests and problems, and the stream described.
    let add = &doc["paths"]["/v1/torrents"]["post"]["requestBody"]["content"]["application/json"];
    assert!(add["example"].is_object(), "{add}");
    let form =
        &doc["paths"]["/v1/torrents"]["post"]["requestBody"]["content"]["multipart/form-data"];
    assert!(form["schema"].is_object(), "the form is described: {form}");
    let invalid = &doc["paths"]["/v1/torrents"]["get"]["responses"]["400"]["content"]["application/problem+json"];
    assert!(invalid["example"]["invalid_params"].is_array(), "{invalid}");
    let events = &doc["paths"]["/v1/events"]["get"]["responses"]["200"]["content"];
    assert!(events["text/event-stream"].is_object(), "{events}");
    for schema in ["Problem", "TorrentSummary", "TorrentView", "StreamEvent", "HealthReport"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema}");
    }
}

#[tokio::test]
async fn the_document_and_its_reference_are_served_without_a_key() {
    let api = Api::start().await;
    let get = |uri: &str| Request::builder().uri(uri).body(Body::empty()).expect("request");
    let reply = api.raw(get("/v1/openapi.json")).await;
    assert_eq!(reply.status, 200);
    assert!(reply.json["paths"]["/v1/torrents"].is_object());
    let response = {
        use tower::ServiceExt as _;
        api.router.clone().oneshot(get("/docs")).await.expect("answer")
    };
    assert_eq!(response.status(), 200);
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.expect("body");
    let page = String::from_utf8(bytes.to_bytes().to_vec()).expect("utf-8");
    assert!(page.contains("<code>GET /v1/torrents</code>"), "{page}");
    assert!(!page.contains("<script"), "no script, nothing fetched: works offline");
    api.stop().await;
}
