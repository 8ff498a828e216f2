//! The problem answers routes share, as reusable OpenAPI responses
//! (`#/components/responses/…`): one definition per kind of failure
//! instead of a copy per route. Each body is a [`Problem`].
#![allow(dead_code, reason = "response types for the OpenAPI document only")]

use revaer_api_models::Problem;
use utoipa::ToResponse;

/// Invalid input: every invalid parameter with its JSON Pointer
/// (`/query/<name>`, `/path/<name>`, `/headers/<name>`, or into the body).
#[derive(Debug, ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "https://revaer.dev/problems/validation", "title": "Invalid request", "status": 400, "detail": "1 invalid parameter(s)", "invalid_params": [{"pointer": "/query/limit", "message": "must be a whole number from 1 to 1000"}], "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"})
)]
pub struct BadRequest(Problem);

/// No API key, or one that does not verify.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unauthorized(Problem);

/// The setup token is unknown, used or expired.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct WrongSetupToken(Problem);

/// Not from this address: setup answers loopback clients only (unless the
/// daemon allows remote setup).
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(Problem);

/// The key lacks the scope the route needs (named in `required_scope`),
/// or asks to hand out a key wider than its own (the field in
/// `invalid_params`).
#[derive(Debug, ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "https://revaer.dev/problems/forbidden", "title": "Forbidden", "status": 403, "detail": "this API key lacks the `control` scope this route needs", "required_scope": "control", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"})
)]
pub struct MissingScope(Problem);

/// No such thing.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(Problem);

/// Not possible now (metadata pending, a move running).
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(Problem);

/// This instance is already set up.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct AlreadySetUp(Problem);

/// The settings moved on since the revision in `If-Match`.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PreconditionFailed(Problem);

/// The body (or a `.torrent` in it) is over its size limit.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(Problem);

/// The body is not in a media type the route reads.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(Problem);

/// The settings refuse the change; every violation with its pointer.
#[derive(Debug, ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "https://revaer.dev/problems/invalid-settings", "title": "Invalid settings", "status": 422, "detail": "1 violation", "invalid_params": [{"pointer": "/engine_profile/listen_port", "message": "must be 1 to 65535"}], "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"})
)]
pub struct UnprocessableSettings(Problem);

/// A save path resolves outside the daemon's storage roots.
#[derive(Debug, ToResponse)]
#[response(
    content_type = "application/problem+json",
    example = json!({"type": "https://revaer.dev/problems/path-outside-roots", "title": "Path outside the storage roots", "status": 422, "detail": "every path must be inside a storage root the operator configured", "invalid_params": [{"pointer": "/save_path", "message": "/etc is outside the storage roots (/var/lib/revaer)"}], "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"})
)]
pub struct PathOutsideRoots(Problem);

/// The key is over its rate limit; see `Retry-After`.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct TooManyRequests(Problem);

/// The server failed; the trace id finds it in the log.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct ServerError(Problem);

/// The engine is restarting or stopped.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct ServiceUnavailable(Problem);
