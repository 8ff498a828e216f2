//! Extractors whose rejections are Problem+JSON: JSON bodies (with the
//! JSON Pointer of whatever does not parse), raw query strings and torrent
//! ids in paths.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use revaer_api_models::InvalidParam;
use revaer_domain::InfoHash;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::ApiState;

/// A JSON body of type `T`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<ApiState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        read_json(req, state.limits().small_body).await.map(Self)
    }
}

/// A JSON body of at most `limit` bytes (413 past it, without reading the
/// rest).
pub(crate) async fn read_json<T: DeserializeOwned>(
    req: Request,
    limit: usize,
) -> Result<T, ApiError> {
    if !is_json(req.headers()) {
        return Err(ApiError::UnsupportedMediaType { expected: "application/json" });
    }
    let body = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|err| unread_body(&err, limit))?;
    parse_json(&body)
}

/// Why a body of at most `limit` bytes could not be read: too large, too
/// slow (the listener's deadline), or broken off.
pub(crate) fn unread_body(err: &(dyn std::error::Error + 'static), limit: usize) -> ApiError {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if err.is::<http_body_util::LengthLimitError>() {
            return ApiError::TooLarge { limit };
        }
        if let Some(crate::deadline::BodyTimedOut(after)) = err.downcast_ref() {
            return ApiError::BodyTimedOut { secs: after.as_secs() };
        }
        cause = err.source();
    }
    ApiError::Malformed { detail: format!("the body could not be read: {err}"), pointer: None }
}

/// Whether the request's media type (case-insensitive, parameters aside)
/// is `essence`.
pub(crate) fn has_media_type(headers: &axum::http::HeaderMap, essence: &str) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(essence))
}

/// Whether the body is declared JSON: `application/json`, or a
/// `application/*+json` type.
pub(crate) fn is_json(headers: &axum::http::HeaderMap) -> bool {
    if has_media_type(headers, "application/json") {
        return true;
    }
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v.starts_with("application/") && v.ends_with("+json"))
}

/// Parses a JSON body, which is always an object (serde would read a
/// struct from an array too); the error points at what did not parse.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::Malformed {
            detail: "the body must be a JSON object".to_owned(),
            pointer: Some(String::new()),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let pointer: String = err
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => Some(format!("/{index}")),
                serde_path_to_error::Segment::Map { key } => {
                    Some(format!("/{}", key.replace('~', "~0").replace('/', "~1")))
                }
                serde_path_to_error::Segment::Enum { variant } => Some(format!("/{variant}")),
                serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        ApiError::Malformed { detail: err.inner().to_string(), pointer: Some(pointer) }
    })
}

/// The raw query string (parsed by the models, which report pointers).
#[derive(Debug)]
pub struct RawQuery(pub String);

impl FromRequestParts<ApiState> for RawQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &ApiState) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.uri.query().unwrap_or_default().to_owned()))
    }
}

/// A torrent id in the path.
#[derive(Debug, Clone, Copy)]
pub struct TorrentId(pub InfoHash);

impl FromRequestParts<ApiState> for TorrentId {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::NoRoute { path: parts.uri.path().to_owned() })?;
        InfoHash::parse(&raw).map(Self).map_err(|err| {
            ApiError::Validation(vec![InvalidParam::new(
                "/path/id",
                format!("{err}: a 40-character hex info-hash"),
            )])
        })
    }
}
