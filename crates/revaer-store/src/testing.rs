//! Test databases for this crate's tests and the crates above it (feature
//! `test-support`): a SQLite file in a temporary folder, or a fresh
//! database on a PostgreSQL server (`REVAER_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped afterwards.
#![allow(clippy::missing_panics_doc, reason = "test support: a broken setup panics")]
#![allow(clippy::expect_used, reason = "test support: a broken setup panics")]

use std::time::Duration;

use rand::RngCore;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::{Store, StoreConfig};

/// The longest any test waits for one thing.
pub const WAIT: Duration = Duration::from_secs(10);

/// The PostgreSQL server tests use: `REVAER_TEST_POSTGRES`, or the local
/// `postgres` superuser.
pub fn admin_url() -> String {
    std::env::var("REVAER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// One test's database; cleaned up on drop (even after a panic).
#[derive(Debug)]
pub struct TestDb {
    /// How to connect to it.
    pub config: StoreConfig,
    /// An open store on it.
    pub store: Store,
    postgres_db: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A SQLite file in a temporary folder.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = StoreConfig::sqlite(dir.path().join("revaer.db"));
        config.poll_interval = Duration::from_millis(100);
        let store = Store::connect(&config).await.expect("sqlite store");
        Self { config, store, postgres_db: None, _dir: Some(dir) }
    }

    /// A fresh database on the PostgreSQL server.
    pub async fn postgres() -> Self {
        let mut bytes = [0_u8; 6];
        rand::rng().fill_bytes(&mut bytes);
        let name = format!("revaer_test_{}", data_encoding::HEXLOWER.encode(&bytes));
        let admin = admin_url();
        let mut conn =
            PgConnection::connect(&admin).await.expect("PostgreSQL is reachable (see .ci/run)");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        conn.close().await.ok();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
        let mut config = StoreConfig::url(format!("{base}/{name}"));
        config.poll_interval = Duration::from_millis(100);
        let store = Store::connect(&config).await.expect("postgres store");
        Self { config, store, postgres_db: Some(name), _dir: None }
    }

    /// A second, independent store on the same database (another instance).
    pub async fn another(&self) -> Store {
        Store::connect(&self.config).await.expect("second store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.postgres_db.take() else { return };
        // Drop the database from a helper thread with its own runtime: this
        // runs in async tests and after panics alike.
        let admin = admin_url();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            let Ok(runtime) = runtime else { return };
            // Bounded: a server that stopped answering must not hang the
            // test run (the database is then left behind).
            let cleanup = async move {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::raw_sql(&drop).execute(&mut conn).await;
                }
            };
            let _ = runtime.block_on(async { tokio::time::timeout(WAIT, cleanup).await });
        })
        .join();
    }
}
