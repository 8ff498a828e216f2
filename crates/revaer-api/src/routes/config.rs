//! `/v1/config`: the settings with their revision; changes as changesets.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use revaer_api_models::InvalidParam;
use revaer_domain::settings::{Changeset, SettingsSnapshot};
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::contract::problems::{BadRequest, PreconditionFailed, UnprocessableSettings};
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
    Ok(with_etag(state.service.settings().await?))
}

/// `PATCH /v1/config`: applies a changeset (`If-Match: <revision>` refuses
/// it with 412 when the settings moved on); 422 lists every violation.
#[utoipa::path(patch, path = "/v1/config", tag = "config",
    params(("If-Match" = Option<String>, Header, description = "Apply only if the settings are still at this revision (`*`, or up to 16 entity tags)",
        pattern = r#"^(\*|(W/)?("[0-9]{1,18}"|[0-9]{1,18})( *, *(W/)?("[0-9]{1,18}"|[0-9]{1,18})){0,15})$"#)),
    request_body(content = Object, description = "A changeset: the documents and fields to change", example = json!({"engine_profile": {"download_limit_bps": 5_000_000}})),
    responses(
        (status = 200, description = "The new settings", body = SettingsSnapshot),
        (status = 400, response = BadRequest),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = UnprocessableSettings),
    ))]
pub async fn patch_config(
    key: Authenticated,
    State(state): State<ApiState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<impl IntoResponse> {
    let if_revision = match headers.get(header::IF_MATCH) {
        Some(value) => if_match(&state, value).await?,
        None => None,
    };
    let snapshot = state
        .service
        .change_settings(&key.caller(), &Changeset(body), "PATCH /v1/config", if_revision)
        .await?;
    Ok(with_etag(snapshot))
}

/// One entity tag: `"5"`, `5` or `W/"5"` (weak); `(weak, revision)`, or
/// `None` when it is not one (as the document's pattern says).
fn revision_tag(tag: &str) -> Option<(bool, i64)> {
    let (weak, tag) = match tag.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, tag),
    };
    let digits = match tag.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"')?,
        None => tag,
    };
    let valid = (1..=18).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| digits.parse().ok()).flatten().map(|revision| (weak, revision))
}

/// Most entity tags read from one `If-Match`.
const MAX_TAGS: usize = 16;

/// The revision an `If-Match` asks for (RFC 9110 §13.1.1): `None` for `*`
/// (the settings always exist); the tag that names the current revision for
/// a list; 412 when no strong tag could match (weak tags never do). Tags are
/// `"5"`; a bare `5` is read as `"5"`.
async fn if_match(state: &ApiState, value: &HeaderValue) -> ApiResult<Option<i64>> {
    let invalid = || {
        ApiError::Validation(vec![InvalidParam::new(
            "/headers/if-match",
            "must be `*` or settings revisions as entity tags (\"5\")",
        )])
    };
    let text = value.to_str().map_err(|_| invalid())?.trim();
    if text == "*" {
        return Ok(None);
    }
    let tags: Vec<&str> = text.split(',').map(str::trim).take(MAX_TAGS + 1).collect();
    if tags.len() > MAX_TAGS {
        return Err(invalid());
    }
    let mut strong = Vec::new();
    for tag in tags {
        match revision_tag(tag).ok_or_else(invalid)? {
            // A weak tag is well formed but never matches.
            (true, _) => {}
            (false, revision) => strong.push(revision),
        }
    }
    let current = state.service.settings().await?.revision;
    match strong.as_slice() {
        // The store checks the one revision atomically with the change.
        [one] => Ok(Some(*one)),
        many if many.contains(&current) => Ok(Some(current)),
        _ => Err(ApiError::Store(revaer_store::StoreError::StaleRevision {
            expected: strong.first().copied().unwrap_or(-1),
            current,
        })),
    }
}
