//! API keys on HTTP: the credential headers, the [`Authenticated`]
//! extractor, the layers that require a key and apply its rate limit
//! (`X-RateLimit-*` headers; 429 with `Retry-After`), and the layer that
//! checks a route's scope. Keys are verified by the service layer, in
//! memory.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use revaer_domain::Scope;
use revaer_service::Caller;
use revaer_service::ratelimit::Decision;
use revaer_store::ApiKey;

use crate::error::ApiError;
use crate::state::ApiState;

/// Header carrying a key as an alternative to `Authorization: Bearer`.
pub const API_KEY_HEADER: &str = "x-revaer-api-key";
/// Longest credential header accepted, in bytes.
const MAX_CREDENTIAL: usize = 256;

/// The caller's verified API key.
#[derive(Debug, Clone)]
pub struct Authenticated(pub ApiKey);

impl Authenticated {
    /// The caller as the service layer knows it: the key and the request's
    /// trace id.
    pub fn caller(&self) -> Caller {
        Caller::key(&self.0, crate::trace::current_trace_id())
    }
}

fn credential(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let header = headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok());
    bearer.or(header).map(str::trim).filter(|t| !t.is_empty() && t.len() <= MAX_CREDENTIAL)
}

/// The key a request's credentials name, if it verifies.
fn verify(headers: &HeaderMap, state: &ApiState) -> Result<ApiKey, ApiError> {
    let token = credential(headers).ok_or(ApiError::Unauthorized)?;
    state.service.authenticate(token).ok_or(ApiError::Unauthorized)
}

impl FromRequestParts<ApiState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        // Put there by the key layers, which also spend from the key's
        // bucket and precede the scope check: a route without one fails
        // closed rather than verifying here without either.
        parts.extensions.get::<Self>().cloned().ok_or(ApiError::Unauthorized)
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
pub async fn require_key(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    admit(&state, request, next).await
}

/// Layer for routes that loopback clients may call without a key (full
/// health, metrics), unless the daemon turned that off. A request that
/// presents a key is treated as on [`require_key`]: verified, and counted
/// against its rate limit.
pub async fn require_key_unless_loopback(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Response {
    if credential(request.headers()).is_none()
        && state.http.loopback_exempt
        && crate::peer::is_loopback(&request, &state.http)
    {
        request.extensions_mut().insert(LoopbackExempt);
        return next.run(request).await;
    }
    admit(&state, request, next).await
}

/// Marks a request let through without a key because it came from
/// loopback (see [`require_key_unless_loopback`]).
#[derive(Debug, Clone, Copy)]
pub struct LoopbackExempt;

async fn admit(state: &ApiState, mut request: Request, next: Next) -> Response {
    let key = match verify(request.headers(), state) {
        Ok(key) => key,
        Err(err) => return err.into_response(),
    };
    match state.service.admit(&key, crate::trace::current_trace_id()) {
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
        Decision::Denied { limit, retry_after_secs, .. } => {
            let mut response = ApiError::RateLimited { retry_after_secs }.into_response();
            rate_headers(response.headers_mut(), limit, 0, retry_after_secs);
            response
        }
    }
}

/// Layer that lets a request through only if its key allows `scope`
/// (403 naming the scope otherwise). Runs inside [`require_key`] or
/// [`require_key_unless_loopback`]; the route table puts it on every
/// route.
pub async fn require_scope(scope: Scope, request: Request, next: Next) -> Response {
    let extensions = request.extensions();
    match extensions.get::<Authenticated>() {
        Some(Authenticated(key)) if key.scopes.allows(scope) => next.run(request).await,
        Some(_) => ApiError::MissingScope(scope).into_response(),
        None if extensions.get::<LoopbackExempt>().is_some() => next.run(request).await,
        None => ApiError::Unauthorized.into_response(),
    }
}
