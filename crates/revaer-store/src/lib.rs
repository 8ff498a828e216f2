//! Revaer's data layer: settings, keys and runtime state in a database.
//!
//! The embedded default is a SQLite file (WAL mode) in the data directory;
//! operators who run several instances point the store at PostgreSQL (14 or
//! newer). Both backends run the same queries through `sqlx::Any` (the SQL
//! is written to mean the same on both: `$1` parameters, `BIGINT`
//! milliseconds for times, JSON in `TEXT`), with one migration directory
//! per backend and backend modules for what differs: SQLite's connection
//! pragmas and revision polling, PostgreSQL's `LISTEN/NOTIFY`.
//!
//! # Layout
//! - [`Store`] (here): connecting, migrating, the pool.
//! - `settings.rs`: snapshots, changesets, history; one revision orders every
//!   change.
//! - `watcher.rs`: delivers each new revision to every subscriber.
//! - `setup_token.rs`, `api_keys.rs`: one-time setup tokens and API keys
//!   (stored hashed), and setup completion in one transaction.
//! - `torrents.rs`, `fs_jobs.rs`: runtime rows.
//! - `sqlite/`, `postgres/`: backend specifics.
//!
//! # Quick start
//! ```no_run
//! use revaer_store::{ChangeContext, Store, StoreConfig};
//!
//! # async fn demo() -> revaer_store::Result<()> {
//! let store = Store::connect(&StoreConfig::sqlite("/srv/revaer/revaer.db")).await?;
//! // Subscribe first, then read: nothing can slip in between.
//! let mut updates = store.subscribe();
//! let snapshot = store.settings().await?;
//! let changeset = serde_json::from_str(r#"{"engine_profile": {"dht": false}}"#).expect("json");
//! store.apply_changeset(&changeset, &ChangeContext::new("admin")).await?;
//! let update = updates.recv().await.expect("delivered");
//! assert_eq!(update.revision, snapshot.revision + 1);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api_keys;
mod error;
mod fs_jobs;
mod postgres;
mod secret;
mod settings;
mod setup_token;
mod sqlite;
#[cfg(feature = "test-support")]
pub mod testing;
mod torrents;
mod watcher;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use tokio::task::JoinHandle;

pub use api_keys::{ApiKey, ApiKeyDigest, IssuedKey, KeyRateLimit, NewApiKey, token_key_id};
pub use error::{Result, StoreError};
pub use fs_jobs::{FsJob, FsJobCounts, FsJobStatus, FsJobUpdate, NewFsJob};
pub use secret::SecretToken;
pub use settings::{ChangeContext, HistoryEntry};
pub use torrents::{TorrentRow, TorrentSourceRow};
pub use watcher::{SettingsUpdate, WatcherStatus};

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend's name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// How to reach the database.
#[derive(Clone)]
pub struct StoreConfig {
    /// `sqlite://PATH` or `postgres://…`.
    pub url: String,
    /// Most pooled connections.
    pub max_connections: u32,
    /// How often the watcher checks the revision as a fallback (SQLite:
    /// other writers; PostgreSQL: notifications lost while reconnecting).
    pub poll_interval: Duration,
    /// How often batched API-key last-used times are written.
    pub key_use_flush_interval: Duration,
}

impl StoreConfig {
    /// A SQLite database file (created if missing).
    pub fn sqlite(path: impl AsRef<Path>) -> Self {
        Self::url(format!("sqlite://{}?mode=rwc", path.as_ref().display()))
    }

    /// A database URL (`sqlite://…` or `postgres://…`).
    pub fn url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
            poll_interval: Duration::from_secs(1),
            key_use_flush_interval: Duration::from_secs(5),
        }
    }

    /// The files the database lives in on this host: a SQLite file and
    /// its `-wal` and `-shm` companions; none for PostgreSQL.
    pub fn local_files(&self) -> Vec<std::path::PathBuf> {
        match self.backend() {
            Ok(Backend::Sqlite) => sqlite::files(&self.url),
            _ => Vec::new(),
        }
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Result<Backend> {
        if self.url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if self.url.starts_with("postgres://") || self.url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl { url: redact(&self.url) })
        }
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &redact(&self.url))
            .field("max_connections", &self.max_connections)
            .field("poll_interval", &self.poll_interval)
            .finish_non_exhaustive()
    }
}

/// A URL with its password (in the authority or a `password=` query
/// parameter) replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.find(['/', '?']).map_or((rest, ""), |at| rest.split_at(at));
    let authority = match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let scrubbed = query
                .split('&')
                .map(|pair| if pair.starts_with("password=") { "password=***" } else { pair })
                .collect::<Vec<_>>()
                .join("&");
            format!("{path}?{scrubbed}")
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// The data layer. Cheap to clone; background tasks (watcher, key-use
/// flush) stop when [`Store::close`] is called or the last clone drops.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: AnyPool,
    backend: Backend,
    config: StoreConfig,
    watcher: watcher::Watcher,
    key_uses: api_keys::KeyUses,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self.tasks.get_mut().map(std::mem::take).unwrap_or_default() {
            task.abort();
        }
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("backend", &self.inner.backend).finish_non_exhaustive()
    }
}

static DRIVERS: Once = Once::new();

impl Store {
    /// Connects, runs the migrations and starts the watcher. Must be called
    /// inside a Tokio runtime.
    pub async fn connect(config: &StoreConfig) -> Result<Self> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = config.backend()?;
        if backend == Backend::Sqlite {
            sqlite::prepare_file(&config.url)?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move { sqlite::prepare(conn, backend).await })
            })
            .connect(&config.url)
            .await
            .map_err(|source| StoreError::Connect { backend: backend.name(), source })?;
        let mut migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        // Migrations are additive, so an older binary may share a database
        // a newer one has migrated (instances upgrade one at a time).
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        let store = Self {
            inner: Arc::new(Inner {
                pool,
                backend,
                config: config.clone(),
                watcher: watcher::Watcher::default(),
                key_uses: api_keys::KeyUses::default(),
                tasks: std::sync::Mutex::new(Vec::new()),
            }),
        };
        store.start_tasks().await?;
        tracing::info!(backend = backend.name(), "store ready");
        Ok(store)
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// How it was connected.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// A cheap round trip, for health checks: the latency of `SELECT 1`.
    pub async fn ping(&self) -> Result<Duration> {
        let started = std::time::Instant::now();
        sqlx::query("SELECT 1").execute(self.pool()).await.map_err(error::db("ping"))?;
        Ok(started.elapsed())
    }

    /// Flushes batched writes, stops the background tasks and closes the
    /// pool.
    pub async fn close(&self) {
        if let Err(err) = self.flush_key_uses().await {
            tracing::warn!(error = %err, "flushing API-key use times failed");
        }
        let tasks = self
            .inner
            .tasks
            .lock()
            .map(|mut tasks| std::mem::take(&mut *tasks))
            .unwrap_or_default();
        for task in tasks {
            task.abort();
        }
        self.inner.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Milliseconds since the Unix epoch to a timestamp.
pub(crate) fn from_ms(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_backends_and_hide_passwords() {
        assert_eq!(StoreConfig::sqlite("/tmp/x.db").backend().ok(), Some(Backend::Sqlite));
        assert_eq!(StoreConfig::url("postgresql://h/db").backend().ok(), Some(Backend::Postgres));
        assert!(matches!(
            StoreConfig::url("mysql://h").backend(),
            Err(StoreError::UnsupportedUrl { .. })
        ));
        assert_eq!(redact("postgres://me:secret@h:5432/db"), "postgres://me:***@h:5432/db");
        assert_eq!(redact("postgres://me@h/db"), "postgres://me@h/db");
        assert_eq!(redact("postgres://me:p@ss@h/db"), "postgres://me:***@h/db");
        assert_eq!(
            redact("postgres://h/db?user=me&password=x&sslmode=off"),
            "postgres://h/db?user=me&password=***&sslmode=off"
        );
        assert_eq!(redact("sqlite:///tmp/x.db?mode=rwc"), "sqlite:///tmp/x.db?mode=rwc");
        let debug = format!("{:?}", StoreConfig::url("postgres://me:secret@h/db"));
        assert!(!debug.contains("secret"));
    }
}

#[cfg(test)]
mod send_checks {
    use super::*;

    fn send<T: Send>(_: T) {}

    /// Callers spawn these on a multi-threaded runtime: they must be `Send`
    /// (a stray `raw_sql(..).execute(&mut *conn)` once broke that).
    #[allow(dead_code)]
    fn store_futures_are_send(
        store: &Store,
        changeset: &revaer_domain::settings::Changeset,
        ctx: &ChangeContext,
    ) {
        send(store.settings());
        send(store.settings_history(1));
        send(store.apply_changeset(changeset, ctx));
        let key = NewApiKey {
            label: String::new(),
            rate_limit: None,
            expires_at: None,
            scopes: revaer_domain::Scopes::ADMIN,
            issued_by: None,
        };
        send(store.complete_setup("t", changeset, &key, ctx));
        send(store.issue_setup_token(Duration::ZERO));
        send(store.issue_api_key(&key));
        send(store.verify_api_key("t"));
        send(store.flush_key_uses());
        send(store.remove_torrent(revaer_domain::InfoHash::from_bytes([0; 20])));
        send(store.claim_fs_job("me", Duration::ZERO));
        send(store.update_fs_job(1, "me", &FsJobUpdate::default()));
        send(store.poll_revision());
    }
}
