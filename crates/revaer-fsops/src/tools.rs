//! External programs FsOps may need, found once on the `PATH` the daemon
//! passes in, and the health that follows from their absence.
//!
//! zip, 7z and tar archives are read in-process by libarchive. RAR is read
//! by `unar` (with `lsar` to list first): it is the free implementation that
//! handles RAR 4 and RAR 5 and multi-volume sets; libarchive only reads RAR
//! volumes it is handed one stream at a time, and `unrar` is non-free.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use revaer_domain::ComponentHealth;

use crate::error::FsopsError;

/// The external programs, where they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Toolbox {
    /// `unar`: extracts RAR sets.
    pub unar: Option<PathBuf>,
    /// `lsar`: lists them first (names and sizes are checked before
    /// anything is written).
    pub lsar: Option<PathBuf>,
}

impl Toolbox {
    /// Looks the programs up in a `PATH`-style list of folders.
    pub fn search(path_var: Option<&OsStr>) -> Self {
        let dirs: Vec<PathBuf> =
            path_var.map(|p| std::env::split_paths(p).collect()).unwrap_or_default();
        let find =
            |name: &str| dirs.iter().map(|dir| dir.join(name)).find(|path| is_executable(path));
        Self { unar: find("unar"), lsar: find("lsar") }
    }

    /// The RAR programs, or which one is missing.
    pub fn rar(&self) -> Result<(&Path, &Path), FsopsError> {
        let missing = |tool| FsopsError::ToolMissing {
            tool,
            needed_for: "extract RAR archives",
            package: "unar",
        };
        let unar = self.unar.as_deref().ok_or_else(|| missing("unar"))?;
        let lsar = self.lsar.as_deref().ok_or_else(|| missing("lsar"))?;
        Ok((unar, lsar))
    }

    /// FsOps health as far as tools go: degraded when extraction is on and
    /// a RAR program is missing.
    pub fn health(&self, extract_enabled: bool) -> ComponentHealth {
        match self.rar() {
            Err(err) if extract_enabled => ComponentHealth::degraded(err.to_string()),
            _ => ComponentHealth::ok(),
        }
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tools_degrade_health_only_when_extracting() {
        let empty = tempfile::tempdir().expect("tempdir");
        let tools = Toolbox::search(Some(empty.path().as_os_str()));
        assert_eq!(tools, Toolbox::default());
        let health = tools.health(true);
        assert_eq!(health.status, revaer_domain::HealthStatus::Degraded);
        assert!(health.reason.is_some_and(|r| r.contains("unar") && r.contains("RAR")));
        assert_eq!(tools.health(false), ComponentHealth::ok());
    }
}
