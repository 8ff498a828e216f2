//! `/v1/keys`: API keys as listed (never their secrets) and as issued (the
//! token, once).

use chrono::{DateTime, Utc};
use revaer_domain::Scope;
use serde::{Deserialize, Serialize};

/// A per-key rate limit: `burst` requests, refilled over `per_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Bucket size (1 to 100 000).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100_000))]
    pub burst: u32,
    /// Seconds to refill a full bucket (1 to 86 400).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 86_400))]
    pub per_seconds: u32,
}

/// An API key as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyView {
    /// Public id (the token's middle part).
    pub key_id: String,
    /// Label.
    pub label: String,
    /// Rate limit (`null`: unlimited).
    pub rate_limit: Option<RateLimitSpec>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used (recorded in batches, a few seconds late at most).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Switched on.
    pub enabled: bool,
    /// What it may do (`admin` grants `control`, which grants `read`).
    pub scopes: Vec<Scope>,
    /// The key that issued it (`null`: issued on the host or at setup).
    /// Revoking that key revokes this one too, and this one's requests
    /// also count against that key's rate limit.
    pub issued_by: Option<String>,
}

/// `POST /v1/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// A name for people (1 to 64 characters, not blank, no control
    /// characters).
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^ \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub label: String,
    /// Its rate limit (absent: unlimited).
    #[serde(default)]
    pub rate_limit: Option<RateLimitSpec>,
    /// When it stops working (absent: never); must be in the future.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// What it may do (absent: `read` only). No wider than the issuing
    /// key's scopes; likewise its rate limit and expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 3))]
    pub scopes: Option<Vec<Scope>>,
}

/// An issued (or rotated) key: the token is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedKeyView {
    /// The key.
    #[serde(flatten)]
    pub key: KeyView,
    /// The token (`rvk_…`), not stored anywhere in clear.
    pub token: String,
}
