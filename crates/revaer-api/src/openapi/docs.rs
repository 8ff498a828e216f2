//! `/v1/openapi.json` and `/docs`: the document, and a reference rendered
//! from it (plain HTML, no script, nothing fetched from elsewhere: it
//! works offline).

use std::fmt::Write as _;
use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi as Document, RefOr};

use super::{build, document};

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
    static PAGE: LazyLock<String> = LazyLock::new(|| render(&build()));
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
                render_operation(&mut html, doc, (method, path), operation);
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

fn render_operation(
    html: &mut String,
    doc: &Document,
    (method, path): (&str, &str),
    operation: &Operation,
) {
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
            // A shared answer: its own description.
            RefOr::Ref(reference) => reference
                .ref_location
                .rsplit('/')
                .next()
                .and_then(|name| doc.components.as_ref()?.responses.get(name))
                .and_then(|shared| match shared {
                    RefOr::T(response) => Some(response.description.clone()),
                    RefOr::Ref(_) => None,
                })
                .unwrap_or_else(|| reference.ref_location.clone()),
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
