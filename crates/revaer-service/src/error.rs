//! Why an operation failed. Each protocol renders these its own way (the
//! `/v1` API as Problem+JSON); the typed causes stay available to it.

use revaer_api_models::InvalidParam;
use revaer_domain::Scope;
use revaer_engine::EngineError;
use revaer_store::StoreError;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The input is invalid; every problem with its JSON Pointer into the
    /// operation's input.
    #[error("invalid input ({} problem(s))", .0.len())]
    Invalid(Vec<InvalidParam>),
    /// A `.torrent` larger than the configured limit.
    #[error("the .torrent is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A path the caller named (or settings it sent) would leave the
    /// storage roots; every such path with its JSON Pointer.
    #[error("path outside the storage roots ({} problem(s))", .0.len())]
    PathRefused(Vec<InvalidParam>),
    /// The caller's key lacks the scope the operation needs.
    #[error("this API key lacks the `{0}` scope")]
    MissingScope(Scope),
    /// The caller asked for a key wider than its own.
    #[error("{reason}")]
    Wider {
        /// The field that is wider, as a JSON Pointer into the input.
        pointer: &'static str,
        /// What is wider.
        reason: String,
    },
    /// The instance is already set up.
    #[error("this instance is already set up")]
    AlreadySetUp,
    /// The operation conflicts with the current state (creating what
    /// exists, changing what does not).
    #[error("{0}")]
    Conflict(String),
    /// Something failed inside the service (a task that could not finish).
    #[error("internal error: {0}")]
    Internal(String),
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Operation results.
pub type Result<T> = std::result::Result<T, ServiceError>;
