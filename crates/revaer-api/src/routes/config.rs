//! `/v1/config`: the settings with their revision; changes as changesets.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use revaer_api_models::{InvalidParam, Problem};
use revaer_domain::settings::{Changeset, SettingsSnapshot};
use revaer_store::ChangeContext;
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::ApiState;

fn with_etag(snapshot: SettingsSnapshot) -> impl IntoResponse {
    let etag = HeaderValue::from_str(&format!("\"{}\"", snapshot.revision)).ok();
    let mut headers = HeaderMap::new();
    if let Some(etag) = etag {
        headers.insert(header::ETAG, etag);
    }
    (headers, Json(snapshot))
}

/// `GET /v1/config`: the settings and their revision (also as `ETag`).
#[utoipa::path(get, path = "/v1/config", tag = "config",
    responses((status = 200, description = "The settings and their revision (also as `ETag`)", body = SettingsSnapshot)))]
pub async fn get_config(
    _: Authenticated,
    State(state): State<ApiState>,
) -> ApiResult<impl IntoResponse> {
    Ok(with_etag(state.store().settings().await?))
}

/// `PATCH /v1/config`: applies a changeset (`If-Match: <revision>` refuses
/// it with 412 when the settings moved on); 422 lists every violation.
#[utoipa::path(patch, path = "/v1/config", tag = "config",
    params(("If-Match" = Option<String>, Header, description = "Apply only if the settings are still at this revision")),
    request_body(content = Object, description = "A changeset: the documents and fields to change", example = json!({"engine_profile": {"download_limit_bps": 5_000_000}})),
    responses(
        (status = 200, description = "The new settings", body = SettingsSnapshot),
        (status = 412, description = "The settings moved on", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid settings; every violation with its pointer", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "https://revaer.dev/problems/invalid-settings", "title": "Invalid settings", "status": 422, "detail": "1 violation", "invalid_params": [{"pointer": "/engine_profile/listen_port", "message": "must be 1 to 65535"}], "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"})),
    ))]
pub async fn patch_config(
    Authenticated(key): Authenticated,
    State(state): State<ApiState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<impl IntoResponse> {
    let mut context = ChangeContext::new(key.key_id.clone()).because("PATCH /v1/config");
    // `*` matches any revision; a weak tag (`W/"5"`) names one as well.
    if let Some(value) = headers.get(header::IF_MATCH).filter(|v| v.as_bytes().trim_ascii() != b"*")
    {
        let revision = value
            .to_str()
            .ok()
            .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| {
                ApiError::Validation(vec![InvalidParam::new(
                    "/headers/if-match",
                    "must be a settings revision",
                )])
            })?;
        context = context.if_revision(revision);
    }
    let snapshot = state.store().apply_changeset(&Changeset(body), &context).await?;
    Ok(with_etag(snapshot))
}
