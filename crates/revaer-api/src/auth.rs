//! API keys: verified in memory against a cache of key digests that a
//! background task refreshes (so a request costs no query and a revoked
//! key stops working within the refresh interval), and the extractor that
//! requires one.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use revaer_store::{ApiKey, ApiKeyDigest, Store, token_key_id};

use crate::error::ApiError;
use crate::ratelimit::Decision;
use crate::state::ApiState;

/// Header carrying a key as an alternative to `Authorization: Bearer`.
pub const API_KEY_HEADER: &str = "x-revaer-api-key";
/// Longest credential header accepted, in bytes.
const MAX_CREDENTIAL: usize = 256;

/// The usable keys, by key id.
#[derive(Debug, Clone, Default)]
pub struct KeyCache {
    keys: Arc<RwLock<HashMap<String, ApiKeyDigest>>>,
    /// Held across a whole read-and-swap, so that a refresh that read
    /// before a change never overwrites one that read after it.
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl KeyCache {
    /// Loads the keys now.
    pub async fn refresh(&self, store: &Store) -> Result<(), revaer_store::StoreError> {
        let _one_at_a_time = self.refreshing.lock().await;
        let digests = store.api_key_digests().await?;
        let map = digests.into_iter().map(|d| (d.key.key_id.clone(), d)).collect();
        match self.keys.write() {
            Ok(mut keys) => *keys = map,
            Err(poisoned) => *poisoned.into_inner() = map,
        }
        Ok(())
    }

    /// Usable keys without any rate limit, by key id.
    pub fn unlimited(&self) -> Vec<String> {
        let Ok(keys) = self.keys.read() else { return Vec::new() };
        let mut ids: Vec<String> = keys
            .values()
            .filter(|d| d.key.rate_limit.is_none())
            .map(|d| d.key.key_id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// The key a token belongs to, if it verifies.
    pub fn verify(&self, token: &str) -> Option<ApiKey> {
        let key_id = token_key_id(token)?;
        let keys = self.keys.read().ok()?;
        keys.get(key_id).filter(|digest| digest.verify(token)).map(|digest| digest.key.clone())
    }
}

/// The caller's verified API key.
#[derive(Debug, Clone)]
pub struct Authenticated(pub ApiKey);

fn credential(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let header = headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok());
    bearer.or(header).map(str::trim).filter(|t| !t.is_empty() && t.len() <= MAX_CREDENTIAL)
}

/// Whether the request comes from a loopback address (IPv4, IPv6, or IPv4
/// mapped into IPv6); an unknown peer is not.
pub fn is_loopback(request: &Request) -> bool {
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .is_some_and(|axum::extract::ConnectInfo(addr)| addr.ip().to_canonical().is_loopback())
}

/// The key a request's credentials name, if it verifies.
pub fn verify(headers: &HeaderMap, state: &ApiState) -> Result<ApiKey, ApiError> {
    let token = credential(headers).ok_or(ApiError::Unauthorized)?;
    let key = state.keys().verify(token).ok_or(ApiError::Unauthorized)?;
    state.store().record_key_use(&key.key_id);
    Ok(key)
}

impl FromRequestParts<ApiState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        // Put there by [`require_key`]; verified here when a route has no
        // such layer.
        if let Some(found) = parts.extensions.get::<Self>() {
            return Ok(found.clone());
        }
        verify(&parts.headers, state).map(Self)
    }
}

fn rate_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset: u64) {
    let values = [
        ("x-ratelimit-limit", u64::from(limit)),
        ("x-ratelimit-remaining", u64::from(remaining)),
        ("x-ratelimit-reset", reset),
    ];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

/// Layer for the `/v1` routes: verifies the API key, counts the request
/// against the key's rate limit (429 with `Retry-After` when over it), and
/// answers with `X-RateLimit-Limit`, `-Remaining` and `-Reset`.
pub async fn require_key(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Response {
    let key = match verify(request.headers(), &state) {
        Ok(key) => key,
        Err(err) => return err.into_response(),
    };
    match state.rate_limits().check(&key) {
        Decision::Unlimited => {
            request.extensions_mut().insert(Authenticated(key));
            next.run(request).await
        }
        Decision::Allowed { limit, remaining, reset_secs } => {
            request.extensions_mut().insert(Authenticated(key));
            let mut response = next.run(request).await;
            rate_headers(response.headers_mut(), limit, remaining, reset_secs);
            response
        }
        Decision::Denied { limit, retry_after_secs, breach } => {
            tracing::info!(key_id = %key.key_id, "rate limited");
            metrics::counter!(revaer_telemetry::names::RATE_LIMIT_THROTTLED_TOTAL).increment(1);
            if breach {
                state.guard_rail_breach(&key.key_id);
            }
            let mut response = ApiError::RateLimited { retry_after_secs }.into_response();
            rate_headers(response.headers_mut(), limit, 0, retry_after_secs);
            response
        }
    }
}
