//! Request tracing: every request gets a trace id (the client's, when it
//! sends a W3C `traceparent`; a new one otherwise) and a request id (the
//! client's `x-request-id` when it is sane; the trace id otherwise). Both
//! go into a span around the request, back to the client as
//! `x-request-id`, into every problem document, and
//! (through the service layer and `EventBus::note_trace`) into the events a
//! command on a torrent causes.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

/// The W3C trace context header.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The request id header, echoed back.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest request id taken from a client.
const MAX_REQUEST_ID: usize = 128;

tokio::task_local! {
    static CURRENT: RequestTrace;
}

/// A request's identifiers (also in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTrace {
    /// 32 lower-case hex digits.
    pub trace_id: String,
    /// The client's request id, or the trace id.
    pub request_id: String,
}

/// The trace id of the request being served, if any.
pub fn current_trace_id() -> Option<String> {
    CURRENT.try_with(|trace| trace.trace_id.clone()).ok()
}

/// The layer: reads or makes the identifiers, serves the request inside
/// its span, and echoes the request id on the response.
pub async fn layer(mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let trace_id = headers
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_traceparent)
        .unwrap_or_else(new_trace_id);
    let request_id = headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| valid_request_id(id))
        .map_or_else(|| trace_id.clone(), str::to_owned);
    let span = tracing::info_span!(
        "request",
        trace_id = %trace_id,
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let trace = RequestTrace { trace_id, request_id };
    request.extensions_mut().insert(trace.clone());
    let mut response = CURRENT.scope(trace.clone(), next.run(request).instrument(span)).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&trace.request_id) {
        headers.insert(REQUEST_ID, value);
    }
    response
}

/// The trace id of a `traceparent` header (version 00, or a later version
/// read as 00 says), or `None` when it is not one.
pub fn parse_traceparent(value: &str) -> Option<String> {
    let mut parts = value.trim().split('-');
    let version = parts.next()?;
    let trace_id = parts.next()?;
    let parent_id = parts.next()?;
    let flags = parts.next()?;
    let rest_ok = if version == "00" { parts.next().is_none() } else { true };
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let ok = hex(version, 2)
        && version != "ff"
        && hex(trace_id, 32)
        && trace_id.bytes().any(|b| b != b'0')
        && hex(parent_id, 16)
        && parent_id.bytes().any(|b| b != b'0')
        && hex(flags, 2)
        && rest_ok;
    ok.then(|| trace_id.to_owned())
}

/// A request id worth echoing: 1–128 visible ASCII characters.
fn valid_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_REQUEST_ID && id.bytes().all(|b| b.is_ascii_graphic())
}

/// A new random trace id.
pub fn new_trace_id() -> String {
    format!("{:032x}", nonzero(rand::random::<u128>()))
}

fn nonzero<T: PartialEq + From<u8>>(value: T) -> T {
    if value == T::from(0) { T::from(1) } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparents_are_read_as_w3c_says() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        let header = format!("00-{id}-00f067aa0ba902b7-01");
        assert_eq!(parse_traceparent(&header).as_deref(), Some(id));
        // A later version may carry more fields.
        assert_eq!(
            parse_traceparent(&format!("01-{id}-00f067aa0ba902b7-00-xyz")).as_deref(),
            Some(id)
        );
        for bad in [
            format!("00-{id}-00f067aa0ba902b7-01-extra"),
            format!("ff-{id}-00f067aa0ba902b7-01"),
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01".to_owned(),
            format!("00-{id}-0000000000000000-01"),
            format!("00-{}-00f067aa0ba902b7-01", id.to_uppercase()),
            format!("00-{id}-00f067aa0ba902b7"),
            "garbage".to_owned(),
        ] {
            assert_eq!(parse_traceparent(&bad), None, "{bad}");
        }
    }

    #[test]
    fn request_ids_are_bounded_and_visible() {
        assert!(valid_request_id("abc-123"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a b"));
        assert!(!valid_request_id(&"x".repeat(129)));
        let id = new_trace_id();
        assert_eq!(id.len(), 32);
        assert!(parse_traceparent(&format!("00-{id}-0000000000000001-01")).is_some());
    }
}
