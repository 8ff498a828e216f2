//! Answers as qBittorrent gives them: plain text for statuses and short
//! replies, JSON for data.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A plain-text answer (`text/plain; charset=UTF-8`).
#[derive(Debug, Clone)]
pub struct Text(pub StatusCode, pub String);

impl Text {
    /// `200 Ok.`
    pub fn ok() -> Self {
        Self(StatusCode::OK, "Ok.".to_owned())
    }

    /// `200` with `body`.
    pub fn body(body: impl Into<String>) -> Self {
        Self(StatusCode::OK, body.into())
    }

    /// An error status with its reason phrase as the body.
    pub fn status(status: StatusCode) -> Self {
        Self(status, status.canonical_reason().unwrap_or_default().to_owned())
    }

    /// An error status with `body`.
    pub fn error(status: StatusCode, body: impl Into<String>) -> Self {
        Self(status, body.into())
    }
}

impl IntoResponse for Text {
    fn into_response(self) -> Response {
        let mut response = (self.0, self.1).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=UTF-8"));
        response
    }
}

/// `value` as JSON, written into one buffer of `capacity` bytes (a large
/// reply is then never copied to grow it).
pub fn json_sized<T: serde::Serialize>(value: &T, capacity: usize) -> Response {
    let mut body = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "a qBittorrent API reply did not serialise");
            Text::status(StatusCode::INTERNAL_SERVER_ERROR).into_response()
        }
    }
}

/// A handler's failure: an error status and its text.
pub type Failure = Text;

/// Handler results.
pub type Reply<T> = Result<T, Failure>;

/// Maps a service error to qBittorrent's statuses: unknown torrents 404,
/// bad input 400, refusals 403, conflicts 409, the rest 500 (logged).
pub fn service_error(err: revaer_service::ServiceError) -> Failure {
    use revaer_engine::EngineError as E;
    use revaer_service::ServiceError as S;
    match err {
        S::Engine(E::NotFound { .. }) => Text::status(StatusCode::NOT_FOUND),
        S::Engine(E::MetadataPending { .. }) => Text::status(StatusCode::CONFLICT),
        S::Invalid(params) | S::PathRefused(params) => {
            let said: Vec<String> =
                params.iter().map(|p| format!("{}: {}", p.pointer, p.message)).collect();
            Text::error(StatusCode::BAD_REQUEST, said.join("; "))
        }
        S::TooLarge { .. } => Text::status(StatusCode::PAYLOAD_TOO_LARGE),
        S::Conflict(why) => Text::error(StatusCode::CONFLICT, why),
        S::Engine(err @ E::TrackerConflict { .. }) => {
            Text::error(StatusCode::CONFLICT, err.to_string())
        }
        S::Store(revaer_store::StoreError::StaleRevision { .. }) => {
            Text::status(StatusCode::CONFLICT)
        }
        S::Store(err @ revaer_store::StoreError::InvalidSettings(_)) => {
            Text::error(StatusCode::BAD_REQUEST, err.to_string())
        }
        S::MissingScope(_) | S::Wider { .. } => Text::status(StatusCode::FORBIDDEN),
        S::Engine(
            err @ (E::InvalidMetainfo { .. }
            | E::InvalidMagnet { .. }
            | E::MetainfoTooLarge { .. }
            | E::InvalidPath { .. }
            | E::InvalidTracker { .. }
            | E::InvalidSelection { .. }
            | E::InvalidLabels { .. }),
        ) => Text::error(StatusCode::BAD_REQUEST, err.to_string()),
        other => {
            tracing::warn!(error = %other, "a qBittorrent API call failed");
            Text::status(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}
