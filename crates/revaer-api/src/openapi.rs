//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! the DTOs' schemas (`utoipa`), served at `/v1/openapi.json`, and a
//! reference rendered from it at `/docs` (plain HTML, no script, nothing
//! fetched from elsewhere: it works offline).

use std::fmt::Write as _;
use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, OpenApi as Document, RefOr, ResponseBuilder, SecurityRequirement,
};
use utoipa::{Modify, OpenApi};

use crate::routes;

/// The document's source: every route and the schemas they use.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Revaer",
        description = "The Revaer torrent server's HTTP API. Every error is `application/problem+json` (RFC 9457) with a `trace_id`; validation errors list `invalid_params` with JSON Pointers (`/query/<name>` for query parameters). Every `/v1` route but setup needs an API key (`Authorization: Bearer rvk_…` or `x-revaer-api-key`) and counts against its rate limit (`X-RateLimit-*` headers; 429 with `Retry-After`).",
        license(name = "Apache-2.0"),
    ),
    paths(
        routes::health::health,
        routes::health::health_full,
        crate::metrics::render_metrics,
        routes::setup::complete_setup,
        routes::config::get_config,
        routes::config::patch_config,
        routes::events::stream_events,
        routes::keys::list_keys,
        routes::keys::issue_key,
        routes::keys::rotate_key,
        routes::keys::revoke_key,
        routes::torrents::list_torrents,
        routes::torrents::add_torrent,
        routes::torrents::get_torrent,
        routes::torrents::delete_torrent,
        routes::torrents::torrent_action,
        routes::torrents::select_files,
        routes::transfer::get_transfer,
        routes::transfer::set_limits,
    ),
    components(schemas(revaer_api_models::Problem, revaer_api_models::InvalidParam)),
    modifiers(&Conventions),
    tags(
        (name = "torrents", description = "Add, list, inspect, act on and select files of torrents"),
        (name = "transfer", description = "Global rates and caps"),
        (name = "events", description = "The server-sent event stream"),
        (name = "config", description = "Settings, revisioned"),
        (name = "keys", description = "API keys"),
        (name = "setup", description = "First-run setup"),
        (name = "health", description = "Liveness, health and metrics"),
    ),
)]
struct ApiDoc;

/// What every `/v1` operation but setup shares: the security schemes, the
/// key requirement, and the 401, 429 and 500 problems.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-revaer-api-key"))),
        );
        for (path, item) in &mut doc.paths.paths {
            let protected = path.starts_with("/v1/") && !path.starts_with("/v1/setup/");
            let operations =
                [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                if protected {
                    require_key(operation);
                }
                if operation.request_body.is_some() {
                    operation.responses.responses.entry("415".to_owned()).or_insert_with(|| {
                        RefOr::T(problem_response(
                            "The body is not in a media type the route reads",
                        ))
                    });
                }
            }
        }
    }
}

fn require_key(operation: &mut Operation) {
    let empty: [&str; 0] = [];
    operation.security = Some(vec![
        SecurityRequirement::new("bearer", empty),
        SecurityRequirement::new("api_key", empty),
    ]);
    let problem = problem_response;
    let responses = &mut operation.responses.responses;
    responses
        .entry("401".to_owned())
        .or_insert_with(|| RefOr::T(problem("No API key, or one that does not verify")));
    responses
        .entry("429".to_owned())
        .or_insert_with(|| RefOr::T(problem("The key is over its rate limit; see `Retry-After`")));
    responses.entry("500".to_owned()).or_insert_with(|| {
        RefOr::T(problem("The server failed; the trace id finds it in the log"))
    });
}

/// A response carrying a problem document.
fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            revaer_api_models::PROBLEM_CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Problem"))))
                .build(),
        )
        .build()
}

/// The document, built once.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default());

/// The document as pretty JSON (what `docs/api/openapi.json` holds).
pub fn document() -> &'static str {
    &DOCUMENT
}

/// `GET /v1/openapi.json`.
pub async fn openapi_json() -> Response {
    let mut response = document().to_owned().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `GET /docs`: the reference, rendered from the document.
pub async fn docs() -> Response {
    static PAGE: LazyLock<String> = LazyLock::new(|| render(&ApiDoc::openapi()));
    let mut response = PAGE.clone().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

/// A readable page: each operation with its parameters, body and answers,
/// then every schema as JSON.
fn render(doc: &Document) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Revaer API</title>\
         <style>body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}\
         code,pre{background:#f4f4f4}pre{padding:.5em;overflow:auto}\
         h3{border-top:1px solid #ccc;padding-top:.5em}</style></head><body>",
    );
    let _ = write!(
        html,
        "<h1>{} {}</h1><p>{}</p><p>The machine-readable document: <a href=\"/v1/openapi.json\">/v1/openapi.json</a>.</p>",
        escape(&doc.info.title),
        escape(&doc.info.version),
        escape(doc.info.description.as_deref().unwrap_or_default())
    );
    for (path, item) in &doc.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                render_operation(&mut html, method, path, operation);
            }
        }
    }
    html.push_str("<h2>Schemas</h2>");
    if let Some(components) = &doc.components {
        for (name, schema) in &components.schemas {
            let json = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ =
                write!(html, "<h3 id=\"{0}\">{0}</h3><pre>{1}</pre>", escape(name), escape(&json));
        }
    }
    html.push_str("</body></html>");
    html
}

fn render_operation(html: &mut String, method: &str, path: &str, operation: &Operation) {
    let _ = write!(html, "<h3><code>{method} {}</code></h3>", escape(path));
    for text in [&operation.summary, &operation.description].into_iter().flatten() {
        let _ = write!(html, "<p>{}</p>", escape(text));
    }
    if let Some(parameters) = &operation.parameters {
        html.push_str("<p>Parameters:</p><ul>");
        for parameter in parameters {
            let _ = write!(
                html,
                "<li><code>{}</code> ({}): {}</li>",
                escape(&parameter.name),
                serde_json::to_value(&parameter.parameter_in)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                escape(parameter.description.as_deref().unwrap_or_default())
            );
        }
        html.push_str("</ul>");
    }
    if let Some(body) = &operation.request_body {
        let json = serde_json::to_string_pretty(body).unwrap_or_default();
        let _ = write!(html, "<p>Body:</p><pre>{}</pre>", escape(&json));
    }
    html.push_str("<p>Answers:</p><ul>");
    for (status, response) in &operation.responses.responses {
        let description = match response {
            RefOr::T(response) => response.description.clone(),
            RefOr::Ref(reference) => reference.ref_location.clone(),
        };
        let _ = write!(html, "<li><b>{}</b>: {}</li>", escape(status), escape(&description));
    }
    html.push_str("</ul>");
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}
