//! SQLite specifics: the database file's directory and per-connection
//! pragmas.

use std::path::Path;

use sqlx::AnyConnection;
use sqlx::Executor;

use crate::Backend;
use crate::error::{Result, StoreError};

/// How long a writer waits for another's lock before failing.
const BUSY_TIMEOUT_MS: u32 = 5000;

/// Creates the directory a `sqlite://PATH` URL's file lives in.
pub(crate) fn ensure_parent_dir(url: &str) -> Result<()> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|err| StoreError::Connect {
            backend: "SQLite",
            source: sqlx::Error::Io(err),
        })?;
    }
    Ok(())
}

/// Per-connection set-up. SQLite: write-ahead logging (readers never block
/// the writer), a busy timeout so concurrent writers queue instead of
/// failing, foreign keys, and full fsync at commit (an acknowledged change
/// survives power loss).
pub(crate) async fn prepare(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        conn.execute(
            format!(
                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; \
                 PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"
            )
            .as_str(),
        )
        .await?;
    }
    Ok(())
}
