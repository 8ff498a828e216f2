//! The data directory's lock, held for the life of the daemon.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};

/// The data directory's lock file.
pub const LOCK_FILE: &str = "revaerd.lock";

/// Takes the data directory's lock, held for the life of the daemon: a
/// second daemon on the same directory stops here, before it opens the
/// store, issues a setup token or starts an engine on the same resume
/// files. The lock file names the holder's process id for operators.
/// (`revaerd init` does not lock: it only touches the store, atomically.)
pub fn lock_data_dir(dir: &Path) -> anyhow::Result<std::fs::File> {
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = std::io::Read::read_to_string(&mut file, &mut holder);
            bail!(
                "another revaerd (process {}) uses the data directory {}",
                holder.trim(),
                dir.display()
            );
        }
        Err(std::fs::TryLockError::Error(err)) => {
            return Err(err).with_context(|| format!("lock {}", path.display()));
        }
    }
    file.set_len(0)
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .with_context(|| format!("write {}", path.display()))?;
    Ok(file)
}
