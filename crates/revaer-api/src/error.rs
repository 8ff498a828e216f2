//! One error type for every handler, rendered as Problem+JSON: one `match`
//! decides the problem's kind, status and invalid parameters.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use revaer_api_models::{InvalidParam, PROBLEM_CONTENT_TYPE, Problem};
use revaer_engine::EngineError;
use revaer_service::ServiceError;
use revaer_store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request is invalid; every problem with its pointer.
    #[error("invalid request")]
    Validation(Vec<InvalidParam>),
    /// The body is not the JSON expected.
    #[error("malformed body: {detail}")]
    Malformed {
        /// What the parser said.
        detail: String,
        /// Where, when known.
        pointer: Option<String>,
    },
    /// No API key, or one that does not verify.
    #[error("an API key is required")]
    Unauthorized,
    /// No such thing.
    #[error("no {what} {id}")]
    NotFound {
        /// What kind of thing.
        what: &'static str,
        /// Which.
        id: String,
    },
    /// No such route.
    #[error("no route {path}")]
    NoRoute {
        /// The path asked for.
        path: String,
    },
    /// The route exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is not in a media type the route reads.
    #[error("unsupported media type")]
    UnsupportedMediaType {
        /// What the route reads.
        expected: &'static str,
    },
    /// The body is larger than allowed.
    #[error("the body is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body did not arrive whole in time.
    #[error("the body did not arrive within {secs} s")]
    BodyTimedOut {
        /// The deadline, in seconds.
        secs: u64,
    },
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key is over its rate limit.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a request can go through.
        retry_after_secs: u64,
    },
    /// The instance is not set up yet.
    #[error("setup required")]
    SetupRequired,
    /// A setup route called on an instance already set up.
    #[error("already set up")]
    AlreadySetUp,
    /// A path outside the storage roots; each with its pointer.
    #[error("path outside the storage roots")]
    PathRefused(Vec<InvalidParam>),
    /// The key lacks the scope the route needs.
    #[error("missing scope {0}")]
    MissingScope(revaer_domain::Scope),
    /// A key asked to hand out more than it holds.
    #[error("wider than the caller: {reason}")]
    Wider {
        /// The wider field.
        pointer: &'static str,
        /// What is wider.
        reason: String,
    },
    /// Setup mode answers loopback clients only.
    #[error("setup from loopback only")]
    SetupFromLoopbackOnly,
    /// Something failed on the server (logged; answered generically).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid(params) => Self::Validation(params),
            ServiceError::TooLarge { limit } => Self::TooLarge { limit },
            ServiceError::AlreadySetUp => Self::AlreadySetUp,
            ServiceError::MissingScope(scope) => Self::MissingScope(scope),
            ServiceError::PathRefused(params) => Self::PathRefused(params),
            ServiceError::Internal(cause) => Self::Internal(cause),
            ServiceError::Wider { pointer, reason } => Self::Wider { pointer, reason },
            ServiceError::Engine(err) => Self::Engine(err),
            ServiceError::Store(err) => Self::Store(err),
            // A variant added later: a server failure until it gets its own
            // problem.
            other => Self::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    fn problem(&self) -> Problem {
        match self {
            Self::Validation(params) => {
                let count = params.len();
                Problem::new("validation", "Invalid request", 400)
                    .detail(format!("{count} invalid parameter(s)"))
                    .invalid(params.clone())
            }
            Self::Malformed { detail, pointer } => {
                let problem = Problem::new("malformed-body", "Malformed request body", 400)
                    .detail(detail.clone());
                match pointer {
                    Some(pointer) => {
                        problem.invalid(vec![InvalidParam::new(pointer.clone(), detail.clone())])
                    }
                    None => problem,
                }
            }
            Self::Unauthorized => Problem::new("unauthorized", "Authentication required", 401)
                .detail("send an API key as `Authorization: Bearer <token>` or `x-revaer-api-key`"),
            Self::NotFound { what, id } => {
                Problem::new("not-found", "Not found", 404).detail(format!("no {what} {id}"))
            }
            Self::NoRoute { path } => {
                Problem::new("no-route", "No such route", 404).detail(format!("no route {path}"))
            }
            Self::MethodNotAllowed => Problem::new("method-not-allowed", "Method not allowed", 405),
            Self::UnsupportedMediaType { expected } => {
                Problem::new("unsupported-media-type", "Unsupported media type", 415)
                    .detail(format!("send the body as {expected}"))
            }
            Self::TooLarge { limit } => Problem::new("payload-too-large", "Payload too large", 413)
                .detail(format!("at most {limit} bytes")),
            Self::BodyTimedOut { secs } => Problem::new("request-timeout", "Request timeout", 408)
                .detail(format!("the whole body must arrive within {secs} s")),
            Self::Engine(err) => engine_problem(err),
            Self::Store(err) => store_problem(err),
            Self::RateLimited { retry_after_secs } => {
                Problem::new("rate-limited", "Too many requests", 429).detail(format!(
                    "this API key is over its rate limit; retry in {retry_after_secs} s"
                ))
            }
            Self::SetupRequired => Problem::new("setup-required", "Setup required", 409).detail(
                "complete setup first: POST /v1/setup/complete with the setup token the daemon printed",
            ),
            Self::AlreadySetUp => Problem::new("already-set-up", "Already set up", 409)
                .detail("this instance is already set up; use an API key"),
            Self::PathRefused(params) => {
                Problem::new("path-outside-roots", "Path outside the storage roots", 422)
                    .detail("every path must be inside a storage root the operator configured")
                    .invalid(params.clone())
            }
            Self::MissingScope(scope) => Problem::new("forbidden", "Forbidden", 403)
                .detail(format!("this API key lacks the `{scope}` scope this route needs"))
                .requires(*scope),
            Self::Wider { pointer, reason } => Problem::new("forbidden", "Forbidden", 403)
                .detail(format!("a key may not hand out more than it holds: {reason}"))
                .invalid(vec![InvalidParam::new(*pointer, reason.clone())]),
            Self::SetupFromLoopbackOnly => Problem::new("forbidden", "Forbidden", 403)
                .detail("while in setup mode the API answers loopback clients only"),
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                Problem::new("internal", "Internal error", 500).detail("see the server log")
            }
        }
    }
}

fn engine_problem(err: &EngineError) -> Problem {
    use EngineError as E;
    match err {
        E::NotFound { id } => {
            Problem::new("not-found", "Not found", 404).detail(format!("no torrent {id}"))
        }
        E::InvalidMagnet { .. } => invalid("/magnet", err),
        E::InvalidMetainfo { .. } | E::MetainfoTooLarge { .. } => invalid("/metainfo", err),
        E::InvalidSelection { source } => invalid(&source.pointer(), err),
        E::InvalidPath { .. } => invalid("/save_path", err),
        E::InvalidTracker { .. } | E::InvalidLabels { .. } => invalid("", err),
        E::MetadataPending { .. } | E::MoveInProgress { .. } | E::TrackerConflict { .. } => {
            Problem::new("conflict", "Not possible now", 409).detail(err.to_string())
        }
        E::Restarting | E::Stopped | E::Timeout { .. } => {
            Problem::new("engine-unavailable", "Engine unavailable", 503).detail(err.to_string())
        }
        _ => {
            tracing::error!(error = %err, "engine failure");
            Problem::new("engine-failure", "The engine failed", 500).detail(err.to_string())
        }
    }
}

fn store_problem(err: &StoreError) -> Problem {
    match err {
        StoreError::NotFound { what, id } => {
            return Problem::new("not-found", "Not found", 404).detail(format!("no {what} {id}"));
        }
        StoreError::SetupTokenRejected => {
            return Problem::new("setup-token-rejected", "Setup token rejected", 401)
                .detail("the setup token is unknown, used or expired");
        }
        StoreError::AlreadySetUp => {
            return Problem::new("already-set-up", "Already set up", 409).detail(err.to_string());
        }
        StoreError::StaleRevision { .. } => {
            return Problem::new("stale-revision", "Settings changed", 412).detail(err.to_string());
        }
        StoreError::InvalidSettings(revaer_domain::settings::ChangesetError::Invalid {
            violations,
        }) => {
            let params = violations
                .iter()
                .map(|v| InvalidParam::new(v.pointer.clone(), v.message.clone()))
                .collect();
            return Problem::new("invalid-settings", "Invalid settings", 422)
                .detail(err.to_string())
                .invalid(params);
        }
        StoreError::Invalid { field, reason } => {
            return Problem::new("validation", "Invalid request", 400).invalid(vec![
                InvalidParam::new(format!("/{}", field.replace('.', "/")), *reason),
            ]);
        }
        _ => {}
    }
    // 5xx causes go to the log; the answer stays generic.
    tracing::error!(error = %err, "store failure");
    Problem::new("internal", "Internal error", 500)
        .detail("the database failed; see the server log")
}

fn invalid(pointer: &str, err: &EngineError) -> Problem {
    Problem::new("validation", "Invalid request", 400)
        .detail(err.to_string())
        .invalid(vec![InvalidParam::new(pointer, err.to_string())])
}

/// Renders a problem with its status and media type.
pub fn problem_response(problem: &Problem) -> Response {
    let mut problem = problem.clone();
    if problem.trace_id.is_none() {
        problem.trace_id = crate::trace::current_trace_id();
    }
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = problem_response(&self.problem());
        if let Self::TooLarge { .. } | Self::BodyTimedOut { .. } = self {
            // The rest of the body is not read: close rather than let the
            // client's upload stall.
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Self::RateLimited { retry_after_secs } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Handler results.
pub type ApiResult<T> = Result<T, ApiError>;
