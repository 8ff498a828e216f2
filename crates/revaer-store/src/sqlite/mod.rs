//! SQLite specifics: the database file's directory and per-connection
//! pragmas.

use std::path::PathBuf;

use sqlx::AnyConnection;
use sqlx::Executor;

use crate::Backend;
use crate::error::{Result, StoreError};

/// How long a writer waits for another's lock before failing.
const BUSY_TIMEOUT_MS: u32 = 5000;

/// Readable and writable by the owner only: the database holds magnets,
/// settings and key digests.
const PRIVATE: u32 = 0o600;

/// Makes the database file of a `sqlite://PATH` URL private before SQLite
/// opens it: creates its directory (0700), creates the file 0600 if it is
/// missing, and takes group and other access away from an existing file
/// and its `-wal`/`-shm` companions (SQLite gives those the database
/// file's mode when it creates them).
pub(crate) fn prepare_file(url: &str) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
    let files = files(url);
    let Some(path) = files.first() else { return Ok(()) };
    let io = |err| StoreError::Connect { backend: "SQLite", source: sqlx::Error::Io(err) };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(parent).map_err(io)?;
    }
    std::fs::OpenOptions::new().create(true).append(true).mode(PRIVATE).open(path).map_err(io)?;
    for file in &files {
        match std::fs::set_permissions(file, std::fs::Permissions::from_mode(PRIVATE)) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(io(err)),
            _ => {}
        }
    }
    Ok(())
}

/// The files of a `sqlite://PATH` database: the file, then its `-wal` and
/// `-shm` companions (none for an in-memory database).
pub(crate) fn files(url: &str) -> Vec<PathBuf> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Vec::new();
    }
    ["", "-wal", "-shm"].iter().map(|suffix| PathBuf::from(format!("{path}{suffix}"))).collect()
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
