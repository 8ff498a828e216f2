//! What FsOps is told: the policy from the settings, where things are, and
//! the torrent a job is for.

use std::path::{Path, PathBuf};

use revaer_domain::InfoHash;
use revaer_domain::settings::{Categories, FsPolicy};

/// Limits that keep an archive from filling the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Extracted bytes may be at most this many times the archive's size.
    pub max_ratio: u64,
    /// Extracted bytes per archive, whatever its size.
    pub max_bytes: u64,
    /// Entries per archive.
    pub max_entries: u64,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        // Real releases compress video by a few percent at most; a ratio of
        // 100 leaves room for text-heavy archives while stopping bombs
        // (42.zip expands by a factor of millions).
        Self { max_ratio: 100, max_bytes: 512 * 1024 * 1024 * 1024, max_entries: 100_000 }
    }
}

/// FsOps configuration, rebuilt from the settings on every revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsopsConfig {
    /// The `fs_policy` document.
    pub policy: FsPolicy,
    /// The `categories` document.
    pub categories: Categories,
    /// What relative paths in the policy are relative to (the data folder).
    pub base_dir: PathBuf,
    /// Where the engine downloads; allowed as sources when the policy
    /// lists no roots of its own.
    pub download_roots: Vec<PathBuf>,
    /// Archive limits.
    pub limits: ExtractLimits,
    /// Always copy instead of hard-linking or renaming, as across
    /// filesystems (for filesystems that report links wrongly, and tests).
    pub force_copy: bool,
}

impl FsopsConfig {
    /// A configuration with the default policy.
    pub fn new(base_dir: impl Into<PathBuf>, download_roots: Vec<PathBuf>) -> Self {
        Self {
            policy: FsPolicy::default(),
            categories: Categories::default(),
            base_dir: base_dir.into(),
            download_roots,
            limits: ExtractLimits::default(),
            force_copy: false,
        }
    }

    /// A policy path made absolute against the base folder.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() { path.to_owned() } else { self.base_dir.join(path) }
    }

    /// The library root, absolute.
    pub fn library_root(&self) -> PathBuf {
        self.resolve(&self.policy.library_root)
    }
}

/// The torrent a job is for, as the engine knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// Its id.
    pub torrent: InfoHash,
    /// Its name.
    pub name: String,
    /// Its save path.
    pub save_path: PathBuf,
    /// The wanted files, relative to the save path (`/`-separated, with the
    /// top-level folder of a multi-file torrent), as the engine lists them.
    pub files: Vec<String>,
    /// Its category.
    pub category: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// The engine still has it: a `move` goes through the engine so that
    /// it seeds on from the library.
    pub seeding: bool,
}
