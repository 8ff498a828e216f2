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
    // Every route, with the scope it needs (`None`: open).
    let routes = [
        ("/health", "get", None),
        ("/health/full", "get", Some("read")),
        ("/metrics", "get", Some("read")),
        ("/v1/setup/complete", "post", None),
        ("/v1/config", "get", Some("admin")),
        ("/v1/config", "patch", Some("admin")),
        ("/v1/events", "get", Some("read")),
        ("/v1/keys", "get", Some("admin")),
        ("/v1/keys", "post", Some("admin")),
        ("/v1/keys/{key_id}", "delete", Some("admin")),
        ("/v1/keys/{key_id}/rotate", "post", Some("admin")),
        ("/v1/torrents", "get", Some("read")),
        ("/v1/torrents", "post", Some("control")),
        ("/v1/torrents/{id}", "get", Some("read")),
        ("/v1/torrents/{id}", "delete", Some("control")),
        ("/v1/torrents/{id}/action", "post", Some("control")),
        ("/v1/torrents/{id}/select", "post", Some("control")),
        ("/v1/transfer", "get", Some("read")),
        ("/v1/transfer/limits", "post", Some("control")),
    ];
    for (path, method, scope) in routes {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is documented");
        let Some(scope) = scope else {
            assert!(operation["security"].is_null(), "{method} {path} is open");
            continue;
        };
        let mut roles = serde_json::json!([{"bearer": [scope]}, {"api_key": [scope]}]);
        if !path.starts_with("/v1/") {
            // Loopback clients need no key: the key is optional.
            roles.as_array_mut().expect("array").push(serde_json::json!({}));
        }
        assert_eq!(operation["security"], roles, "{method} {path} states its scope");
        let description = operation["description"].as_str().unwrap_or_default();
        assert!(
            description.contains(&format!("`{scope}` scope")),
            "{method} {path}: {description}"
        );
        for status in ["401", "403", "429"] {
            assert!(operation["responses"][status].is_object(), "{method} {path} answers {status}");
        }
    }
    // Examples for requests and problems, and the stream described.
    let add = &doc["paths"]["/v1/torrents"]["post"]["requestBody"]["content"]["application/json"];
    assert!(add["example"].is_object(), "{add}");
    let form =
        &doc["paths"]["/v1/torrents"]["post"]["requestBody"]["content"]["multipart/form-data"];
    assert!(form["schema"].is_object(), "the form is described: {form}");
    let invalid = &doc["paths"]["/v1/torrents"]["get"]["responses"]["400"];
    assert_eq!(invalid["$ref"], "#/components/responses/BadRequest", "a shared problem answer");
    let bad_request =
        &doc["components"]["responses"]["BadRequest"]["content"]["application/problem+json"];
    assert!(bad_request["example"]["invalid_params"].is_array(), "{bad_request}");
    let events = &doc["paths"]["/v1/events"]["get"]["responses"]["200"]["content"];
    assert!(events["text/event-stream"].is_object(), "{events}");
    for schema in ["Problem", "TorrentSummary", "TorrentView", "StreamEvent", "HealthReport"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema}");
    }
    // Every event type has its own payload schema, so clients can generate
    // types for them.
    let variants = doc["components"]["schemas"]["Event"]["oneOf"].as_array().expect("variants");
    let kinds: Vec<&str> =
        variants.iter().filter_map(|v| v["properties"]["type"]["enum"][0].as_str()).collect();
    assert_eq!(kinds, revaer_api_models::events::Event::KINDS);
    assert!(variants.iter().all(|v| v["properties"]["data"]["$ref"].is_string()), "typed payloads");
}

/// Every `$ref` in `value`, with where it is.
fn references<'a>(value: &'a serde_json::Value, at: &str, out: &mut Vec<(String, &'a str)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref"
                    && let Some(target) = child.as_str()
                {
                    out.push((at.to_owned(), target));
                }
                references(child, &format!("{at}/{key}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                references(child, &format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_free_text_field_states_the_one_text_rule() {
    let doc: serde_json::Value =
        serde_json::from_str(revaer_api::openapi::document()).expect("JSON");
    let schemas = &doc["components"]["schemas"];
    // Written as literals in schema attributes: they must be the rule.
    for pattern in [
        &schemas["NewKeyRequest"]["properties"]["label"]["pattern"],
        &schemas["SetupRequest"]["properties"]["api_key_label"]["pattern"],
    ] {
        assert_eq!(pattern, revaer_domain::text::TEXT_PATTERN);
    }
    let list = doc["paths"]["/v1/torrents"]["get"]["parameters"].as_array().expect("params");
    for name in ["category", "tracker", "name"] {
        let param = list.iter().find(|p| p["name"] == name).expect(name);
        assert_eq!(param["schema"]["pattern"], revaer_domain::text::TEXT_PATTERN, "{name}");
    }
}

#[test]
fn every_reference_in_the_document_resolves() {
    let doc: serde_json::Value =
        serde_json::from_str(revaer_api::openapi::document()).expect("JSON");
    let mut found = Vec::new();
    references(&doc, "", &mut found);
    assert!(found.len() > 50, "the document refers to its components: {}", found.len());
    let dangling: Vec<_> = found
        .iter()
        .filter(|(_, target)| {
            target.strip_prefix('#').is_none_or(|pointer| doc.pointer(pointer).is_none())
        })
        .collect();
    assert!(dangling.is_empty(), "references that resolve to nothing: {dangling:?}");
}

/// The Python interpreter of the test environment (`./scripts/dev.sh
/// test` makes it), which has `openapi-spec-validator`.
fn test_python() -> std::path::PathBuf {
    std::env::var_os("REVAER_PYTHON").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
        std::path::PathBuf::from,
    )
}

#[test]
fn the_document_validates_against_the_openapi_3_1_schema() {
    let python = test_python();
    assert!(
        python.exists(),
        "{} is missing: run ./scripts/dev.sh test (or `just venv`), or point REVAER_PYTHON at a \
         Python with openapi-spec-validator",
        python.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, revaer_api::openapi::document()).expect("write");
    let output = std::process::Command::new(&python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("the validator runs");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && said.contains(": OK"),
        "the OpenAPI 3.1 validator refuses the document:\n{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
    assert!(!page.contains("#/components/responses/"), "shared answers show their text");
    assert!(page.contains("No such thing."), "{page}");
    api.stop().await;
}
