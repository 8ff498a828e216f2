//! Problem Details for HTTP APIs (RFC 9457): every error Revaer answers.

use serde::{Deserialize, Serialize};

/// The media type of a problem document.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Base of the problem `type` URIs; each kind is documented under it.
pub const PROBLEM_BASE: &str = "https://revaer.dev/problems/";

/// One invalid parameter: where (a JSON Pointer into the request body, or
/// `/query/<name>` and `/headers/<name>` for query parameters and headers)
/// and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvalidParam {
    /// Where the problem is.
    pub pointer: String,
    /// What is wrong with it.
    pub message: String,
}

impl InvalidParam {
    /// A problem at `pointer`.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self { pointer: pointer.into(), message: message.into() }
    }

    /// A problem with query parameter `name`.
    pub fn query(name: &str, message: impl Into<String>) -> Self {
        Self::new(format!("/query/{name}"), message)
    }
}

/// A problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the kind of problem (`https://revaer.dev/problems/<kind>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, fixed summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Every invalid parameter, for validation failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParam>,
    /// The trace id of the request, to find it in the logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// For `forbidden`: the scope the route needs, which the key lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_scope: Option<revaer_domain::Scope>,
}

impl Problem {
    /// A problem of kind `slug` (the last part of its `type`).
    pub fn new(slug: &str, title: impl Into<String>, status: u16) -> Self {
        Self {
            kind: format!("{PROBLEM_BASE}{slug}"),
            title: title.into(),
            status,
            detail: None,
            invalid_params: Vec::new(),
            trace_id: None,
            required_scope: None,
        }
    }

    /// With a detail.
    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// With invalid parameters.
    #[must_use]
    pub fn invalid(mut self, params: Vec<InvalidParam>) -> Self {
        self.invalid_params = params;
        self
    }

    /// Naming the scope the request needed.
    #[must_use]
    pub fn requires(mut self, scope: revaer_domain::Scope) -> Self {
        self.required_scope = Some(scope);
        self
    }

    /// The kind's slug (`validation`, `not-found`, …).
    pub fn slug(&self) -> &str {
        self.kind.strip_prefix(PROBLEM_BASE).unwrap_or(&self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_serialise_as_rfc_9457() {
        let problem = Problem::new("validation", "Invalid request", 400)
            .detail("2 invalid parameters")
            .invalid(vec![InvalidParam::query("limit", "must be 1 to 1000")]);
        let json = serde_json::to_value(&problem).expect("json");
        assert_eq!(json["type"], "https://revaer.dev/problems/validation");
        assert_eq!(json["status"], 400);
        assert_eq!(json["invalid_params"][0]["pointer"], "/query/limit");
        assert!(json.get("trace_id").is_none(), "absent fields are left out");
        assert_eq!(problem.slug(), "validation");
        let back: Problem = serde_json::from_value(json).expect("parse");
        assert_eq!(back, problem);
    }
}
