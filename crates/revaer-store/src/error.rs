//! The store's error type.

use revaer_domain::settings::ChangesetError;

/// Everything a store call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL is not one the store understands.
    #[error("unsupported database URL (use sqlite:// or postgres://): {url}")]
    UnsupportedUrl {
        /// The URL, with any password removed.
        url: String,
    },
    /// Connecting to the database failed.
    #[error("connecting to {backend} failed: {source}")]
    Connect {
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// Running the migrations failed.
    #[error("migrating the database failed: {source}")]
    Migrate {
        /// The migrator's error.
        #[from]
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed.
    #[error("{op} failed: {source}")]
    Database {
        /// What was being done.
        op: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// No such row.
    #[error("no {what} {id}")]
    NotFound {
        /// What kind of thing.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The FsOps job is not (or no longer) held by this runner.
    #[error("FsOps job {id} is held by another runner (or its lease expired)")]
    NotOwner {
        /// The job.
        id: i64,
    },
    /// The caller read an older settings revision than the current one.
    #[error("settings changed since revision {expected}; the current revision is {current}")]
    StaleRevision {
        /// The revision the caller read.
        expected: i64,
        /// The current revision.
        current: i64,
    },
    /// The changeset breaks one or more rules (each with its pointer).
    #[error(transparent)]
    InvalidSettings(#[from] ChangesetError),
    /// An input is out of bounds.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The setup token is unknown, expired, revoked or already used.
    #[error("the setup token is invalid, expired or already used")]
    SetupTokenRejected,
    /// Setup was already completed.
    #[error("this instance is already set up")]
    AlreadySetUp,
    /// Stored data does not decode.
    #[error("stored {what} is unreadable: {detail}")]
    Corrupt {
        /// What was read.
        what: &'static str,
        /// The decoder's message.
        detail: String,
    },
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Maps a driver error, naming the operation.
pub(crate) fn db(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { op, source }
}
