//! The OpenAPI 3.1 document, built from the same route table as the router
//! ([`crate::routes`]) and the DTOs' schemas (`utoipa`), served at
//! `/v1/openapi.json`, with a reference rendered from it at `/docs`.
//!
//! # Layout
//! - here: the document's frame (info, tags, shared components) and the
//!   conventions every protected operation shares (security, 401/429/500).
//! - [`docs`]: `/v1/openapi.json` and the offline `/docs` page.
//!
//! The shared problem answers and the query parameters are in
//! [`crate::contract`], which the routes use.

pub mod docs;

use std::sync::LazyLock;

use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, Paths};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr, SecurityRequirement};

use crate::contract::problems;
use crate::routes;
use crate::state::ApiLimits;

/// The document's frame; the paths come from the route table.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Revaer",
        description = "The Revaer torrent server's HTTP API. Every error is `application/problem+json` (RFC 9457) with a `trace_id`; validation errors list `invalid_params` with JSON Pointers (`/query/<name>` for query parameters). Every `/v1` route but setup needs an API key (`Authorization: Bearer rvk_…` or `x-revaer-api-key`) with the route's scope (`read`, `control` or `admin`, each granting the ones before it; 403 names a missing one) and counts against its rate limit (`X-RateLimit-*` headers; 429 with `Retry-After`).",
        license(name = "Apache-2.0"),
    ),
    components(
        schemas(
            revaer_api_models::Problem,
            revaer_api_models::InvalidParam,
            crate::contract::sse::EventFrame,
            revaer_api_models::events::StreamEvent,
        ),
        responses(
            problems::BadRequest,
            problems::Unauthorized,
            problems::WrongSetupToken,
            problems::Forbidden,
            problems::MissingScope,
            problems::NotFound,
            problems::Conflict,
            problems::AlreadySetUp,
            problems::PreconditionFailed,
            problems::PayloadTooLarge,
            problems::UnsupportedMediaType,
            problems::UnprocessableSettings,
            problems::PathOutsideRoots,
            problems::TooManyRequests,
            problems::ServerError,
            problems::ServiceUnavailable,
        ),
    ),
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
struct Frame;

/// Every operation of a set of paths.
pub(crate) fn operations(paths: &mut Paths) -> impl Iterator<Item = &mut Operation> {
    paths.paths.values_mut().flat_map(|item| {
        [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete]
            .into_iter()
            .flatten()
    })
}

/// A reference to a shared problem response.
fn problem(name: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::Ref(Ref::from_response_name(name))
}

/// What every protected operation shares: the key requirement (with the
/// route's scope, set by the route table), and the 401, 429 and 500
/// problems.
fn require_key(operation: &mut Operation) {
    let empty: [&str; 0] = [];
    operation.security.get_or_insert_with(|| {
        vec![SecurityRequirement::new("bearer", empty), SecurityRequirement::new("api_key", empty)]
    });
    let responses = &mut operation.responses.responses;
    responses.entry("401".to_owned()).or_insert_with(|| problem("Unauthorized"));
    responses.entry("429".to_owned()).or_insert_with(|| problem("TooManyRequests"));
    responses.entry("500".to_owned()).or_insert_with(|| problem("ServerError"));
}

/// Header parameters are absent or have a value, never `null`: utoipa
/// makes optional ones nullable, which would invite a literal `null`.
fn headers_are_never_null(operation: &mut Operation) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.parameter_in != ParameterIn::Header {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(object))) = &mut parameter.schema
            && let SchemaType::Array(types) = &object.schema_type
            && let [only] = types.iter().filter(|t| **t != Type::Null).collect::<Vec<_>>()[..]
        {
            object.schema_type = SchemaType::Type(only.clone());
        }
    }
}

/// Bodies that must name at least one field. (utoipa 5.5's
/// `min_properties` writes `maxProperties`, so it is set here.)
const AT_LEAST_ONE_FIELD: [&str; 1] = ["TransferLimits"];

fn at_least_one_field(doc: &mut Document) {
    use utoipa::openapi::schema::Schema;
    let Some(components) = doc.components.as_mut() else { return };
    for name in AT_LEAST_ONE_FIELD {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) {
            object.min_properties = Some(1);
        }
    }
}

/// The whole document.
pub fn build() -> Document {
    let mut doc = Frame::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    components.add_security_scheme(
        "api_key",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-revaer-api-key"))),
    );
    let mut protected = routes::protected(ApiLimits::default()).into_openapi();
    operations(&mut protected.paths).for_each(require_key);
    doc.merge(protected);
    let mut local = routes::local().into_openapi();
    for operation in operations(&mut local.paths) {
        require_key(operation);
        // Loopback clients may call these without a key: the empty
        // requirement says a key is optional.
        operation.security.get_or_insert_with(Vec::new).push(SecurityRequirement::default());
    }
    doc.merge(local);
    doc.merge(routes::open().into_openapi());
    at_least_one_field(&mut doc);
    for operation in operations(&mut doc.paths) {
        headers_are_never_null(operation);
        if operation.request_body.is_some() {
            let responses = &mut operation.responses.responses;
            responses.entry("415".to_owned()).or_insert_with(|| problem("UnsupportedMediaType"));
        }
    }
    doc
}

/// The document as pretty JSON (what `docs/api/openapi.json` holds),
/// built once.
pub fn document() -> &'static str {
    static DOCUMENT: LazyLock<String> =
        LazyLock::new(|| build().to_pretty_json().unwrap_or_default());
    &DOCUMENT
}
