//! `/v1/keys`: list, issue, rotate, revoke API keys.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use revaer_api_models::InvalidParam;
use revaer_api_models::keys::{IssuedKeyView, KeyView, NewKeyRequest, RateLimitSpec};
use revaer_domain::{Scope, Scopes};
use revaer_store::{ApiKey, IssuedKey, KeyRateLimit, NewApiKey};

use crate::auth::Authenticated;
use crate::contract::problems::{BadRequest, NotFound};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::ApiState;

/// Longest key id accepted in a path.
const MAX_KEY_ID: usize = 64;

fn view(key: &ApiKey) -> KeyView {
    KeyView {
        key_id: key.key_id.clone(),
        label: key.label.clone(),
        rate_limit: key
            .rate_limit
            .map(|l| RateLimitSpec { burst: l.burst, per_seconds: l.per_seconds }),
        created_at: key.created_at,
        last_used_at: key.last_used_at,
        expires_at: key.expires_at,
        revoked_at: key.revoked_at,
        enabled: key.enabled,
        scopes: key.scopes.iter().collect(),
        issued_by: key.issued_by.clone(),
    }
}

fn issued(key: &IssuedKey) -> IssuedKeyView {
    IssuedKeyView { key: view(&key.key), token: key.token.expose().to_owned() }
}

fn key_id(raw: &str) -> ApiResult<&str> {
    if raw.is_empty() || raw.len() > MAX_KEY_ID || !raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(unreadable());
    }
    Ok(raw)
}

fn unreadable() -> ApiError {
    ApiError::Validation(vec![InvalidParam::new(
        "/path/key_id",
        format!("a key id is 1 to {MAX_KEY_ID} letters and digits"),
    )])
}

/// `GET /v1/keys`.
#[utoipa::path(get, path = "/v1/keys", tag = "keys",
    responses((status = 200, description = "Every key; never a secret", body = [KeyView])))]
pub async fn list_keys(
    _: Authenticated,
    State(state): State<ApiState>,
) -> ApiResult<Json<Vec<KeyView>>> {
    let keys = state.service.list_keys().await?;
    Ok(Json(keys.iter().map(view).collect()))
}

/// `POST /v1/keys`: 201 with the token, shown once.
#[utoipa::path(post, path = "/v1/keys", tag = "keys",
    request_body(content = NewKeyRequest, example = json!({"label": "sonarr", "rate_limit": {"burst": 30, "per_seconds": 10}})),
    responses(
        (status = 201, description = "The key and its token, shown this once", body = IssuedKeyView),
        (status = 400, response = BadRequest),
    ))]
pub async fn issue_key(
    key: Authenticated,
    State(state): State<ApiState>,
    ApiJson(request): ApiJson<NewKeyRequest>,
) -> ApiResult<impl IntoResponse> {
    // An empty list is refused by the store, with its pointer.
    let scopes = request.scopes.as_deref().map_or(Scopes::of(&[Scope::Read]), Scopes::of);
    let new = NewApiKey {
        label: request.label,
        rate_limit: request
            .rate_limit
            .map(|l| KeyRateLimit { burst: l.burst, per_seconds: l.per_seconds }),
        expires_at: request.expires_at,
        scopes,
        // The service records the caller's key as the issuer.
        issued_by: None,
    };
    let key = state.service.issue_key(&key.caller(), &new).await?;
    Ok((StatusCode::CREATED, Json(issued(&key))))
}

/// `POST /v1/keys/{key_id}/rotate`: a new token; the old one stops working.
#[utoipa::path(post, path = "/v1/keys/{key_id}/rotate", tag = "keys",
    params(("key_id" = String, Path, description = "The key's public id")),
    responses(
        (status = 200, description = "The key and its new token, shown this once", body = IssuedKeyView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ))]
pub async fn rotate_key(
    key: Authenticated,
    State(state): State<ApiState>,
    raw: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<IssuedKeyView>> {
    let Path(raw) = raw.map_err(|_| unreadable())?;
    let key = state.service.rotate_key(&key.caller(), key_id(&raw)?).await?;
    Ok(Json(issued(&key)))
}

/// `DELETE /v1/keys/{key_id}`: revokes the key for good.
#[utoipa::path(delete, path = "/v1/keys/{key_id}", tag = "keys",
    params(("key_id" = String, Path, description = "The key's public id")),
    responses(
        (status = 204, description = "Revoked for good"),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ))]
pub async fn revoke_key(
    key: Authenticated,
    State(state): State<ApiState>,
    raw: Result<Path<String>, PathRejection>,
) -> ApiResult<StatusCode> {
    let Path(raw) = raw.map_err(|_| unreadable())?;
    state.service.revoke_key(&key.caller(), key_id(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
