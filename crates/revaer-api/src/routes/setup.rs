//! `POST /v1/setup/complete`: the setup token, an optional first settings
//! changeset, and the first API key (its token answered once). Also the
//! gate that keeps every other route closed until setup is done.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use revaer_api_models::setup::{FirstKey, SetupRequest, SetupResponse};
use revaer_domain::settings::Changeset;

use crate::contract::problems::{
    AlreadySetUp, BadRequest, Forbidden, PayloadTooLarge, UnprocessableSettings,
    UnsupportedMediaType, WrongSetupToken,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_json;
use crate::state::ApiState;

/// Header that may carry the setup token.
pub const SETUP_TOKEN_HEADER: &str = "x-revaer-setup-token";

/// Largest setup body: a first changeset is small.
pub const MAX_SETUP_BODY: usize = 64 * 1024;

/// Completes setup and answers the first API key's token, once.
#[utoipa::path(post, path = "/v1/setup/complete", tag = "setup",
    description = "Answers loopback clients only while in setup mode; needs the setup token the daemon printed (header or body).",
    params(("x-revaer-setup-token" = Option<String>, Header, description = "The setup token")),
    request_body(content = SetupRequest, example = json!({"settings": {"engine_profile": {"dht": false}}, "api_key_label": "ops"})),
    responses(
        (status = 201, description = "Set up; the first key's token is shown this once", body = SetupResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = WrongSetupToken),
        (status = 403, response = Forbidden),
        (status = 409, response = AlreadySetUp),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = UnprocessableSettings),
    ))]
pub async fn complete_setup(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<impl IntoResponse> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge { limit: MAX_SETUP_BODY }
        } else {
            ApiError::Malformed { detail: rejection.body_text(), pointer: None }
        }
    })?;
    if state.service.is_active() {
        return Err(ApiError::AlreadySetUp);
    }
    if !body.is_empty() && !crate::extract::is_json(&headers) {
        return Err(ApiError::UnsupportedMediaType { expected: "application/json" });
    }
    let request: SetupRequest =
        if body.is_empty() { SetupRequest::default() } else { parse_json(&body)? };
    let token = headers
        .get(SETUP_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(request.token)
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .ok_or(ApiError::Store(revaer_store::StoreError::SetupTokenRejected))?;
    let changeset = Changeset(request.settings.unwrap_or_default());
    let (snapshot, issued) =
        state.service.complete_setup(&token, &changeset, request.api_key_label).await?;
    Ok((
        StatusCode::CREATED,
        Json(SetupResponse {
            revision: snapshot.revision,
            api_key: FirstKey {
                key_id: issued.key.key_id,
                token: issued.token.expose().to_owned(),
            },
        }),
    ))
}

/// Until setup is complete only health and setup routes answer, and only to
/// loopback clients.
pub async fn setup_gate(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    if state.service.is_active() {
        // Setup is over: answer before any body is read (other methods and
        // paths get the router's 405 and 404).
        let completing = request.method() == axum::http::Method::POST
            && request.uri().path() == "/v1/setup/complete";
        if completing {
            return ApiError::AlreadySetUp.into_response();
        }
        return next.run(request).await;
    }
    let path = request.uri().path();
    let open = matches!(path, "/health" | "/health/full" | "/v1/openapi.json" | "/docs")
        || path.starts_with("/v1/setup/");
    // Unknown peers count as remote (fail closed); IPv4 clients of an IPv6
    // listener arrive mapped (`::ffff:127.0.0.1`).
    let loopback = crate::peer::is_loopback(&request, &state.http);
    if !open {
        return ApiError::SetupRequired.into_response();
    }
    if !loopback && !state.http.remote_setup && path.starts_with("/v1/setup/") {
        return ApiError::SetupFromLoopbackOnly.into_response();
    }
    next.run(request).await
}
