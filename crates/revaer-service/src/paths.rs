//! Where clients may have files written: the operator's storage roots.
//!
//! Every path a client can name — an add's save path, a move's target,
//! the settings' download, resume and library folders, FsOps' allowed
//! roots, category save paths — must resolve inside one of the roots the
//! operator gave the daemon (`--storage-root`; by default the data
//! directory). Symbolic links are resolved before the check: the longest
//! part of the path that exists is canonicalised and the rest appended,
//! and `..` is refused outright, so no spelling of a path leaves a root.

use std::io;
use std::path::{Component, Path, PathBuf};

use revaer_api_models::InvalidParam;
use revaer_domain::settings::Settings;

/// The operator's storage roots, canonical, and the directory relative
/// settings paths are resolved against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageRoots {
    base: PathBuf,
    roots: Vec<PathBuf>,
    /// The daemon's own files and folders: no client path may be inside
    /// one, nor above one.
    protected: Vec<PathBuf>,
}

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathRefused {
    /// Not absolute (for client paths) or not valid UTF-8.
    #[error("must be an absolute path")]
    NotAbsolute,
    /// Contains `..`.
    #[error("must not contain `..`")]
    ParentComponent,
    /// Resolves outside every root. (The message names the roots, never
    /// the resolved path: that would tell a client where links point.)
    #[error("is outside the storage roots ({roots})")]
    Outside {
        /// The path as resolved.
        path: PathBuf,
        /// The roots, for the message.
        roots: String,
    },
    /// Inside, or above, the daemon's own files (its database, resume
    /// data, lock and address files).
    #[error("is or holds the daemon's own files")]
    Protected,
    /// Could not be resolved (the cause is logged, not answered).
    #[error("cannot be resolved")]
    Unresolvable,
}

impl StorageRoots {
    /// Roots from the operator's list, made canonical; `base` resolves
    /// relative settings paths. A root must exist and be a folder: one
    /// that is missing is refused rather than created, since it is most
    /// often a mount point whose disk is not mounted, and writing there
    /// would fill the wrong filesystem. The filesystem root is refused: it
    /// would confine nothing.
    pub fn new(base: &Path, roots: &[PathBuf]) -> io::Result<Self> {
        let mut canonical = Vec::with_capacity(roots.len());
        for root in roots {
            let resolved = root.canonicalize().map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!(
                        "storage root {}: {err} (create it, or mount its disk, first)",
                        root.display()
                    ),
                )
            })?;
            if !resolved.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("storage root {} is not a folder", root.display()),
                ));
            }
            if resolved.parent().is_none() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a storage root may not be the filesystem root",
                ));
            }
            canonical.push(resolved);
        }
        if canonical.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no storage root"));
        }
        Ok(Self { base: base.canonicalize()?, roots: canonical, protected: Vec::new() })
    }

    /// These roots, with `paths` (the daemon's own files and folders)
    /// out of every client's reach, resolved as client paths are.
    #[must_use]
    pub fn protecting(mut self, paths: &[PathBuf]) -> Self {
        for path in paths {
            let resolved = resolve(path).unwrap_or_else(|_| path.clone());
            self.protected.push(resolved);
        }
        self
    }

    /// The roots, canonical.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The path a client named, resolved, if it is inside a root.
    pub fn confine(&self, path: &Path) -> Result<PathBuf, PathRefused> {
        if !path.is_absolute() || path.to_str().is_none() {
            return Err(PathRefused::NotAbsolute);
        }
        self.inside(path)
    }

    /// A settings path (relative ones are under the base), resolved, if it
    /// is inside a root.
    pub fn confine_setting(&self, path: &str) -> Result<PathBuf, PathRefused> {
        self.inside(&self.absolute(path))
    }

    /// A settings path made absolute (relative ones are under the base).
    fn absolute(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() { path.to_path_buf() } else { self.base.join(path) }
    }

    fn inside(&self, path: &Path) -> Result<PathBuf, PathRefused> {
        if climbs(path) {
            return Err(PathRefused::ParentComponent);
        }
        let resolved = resolve(path).map_err(|err| {
            tracing::debug!(path = %path.display(), error = %err, "a path does not resolve");
            PathRefused::Unresolvable
        })?;
        if self.protected.iter().any(|own| resolved.starts_with(own) || own.starts_with(&resolved))
        {
            return Err(PathRefused::Protected);
        }
        if self.roots.iter().any(|root| resolved.starts_with(root)) {
            Ok(resolved)
        } else {
            let roots: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
            Err(PathRefused::Outside { path: resolved, roots: roots.join(", ") })
        }
    }

    /// Every path in `settings` that is outside the roots, with its JSON
    /// Pointer (for `422` answers and for the check at start-up).
    pub fn violations(&self, settings: &Settings) -> Vec<InvalidParam> {
        let mut named = vec![
            (
                "/engine_profile/download_root".to_owned(),
                settings.engine_profile.download_root.clone(),
            ),
            ("/fs_policy/library_root".to_owned(), settings.fs_policy.library_root.clone()),
        ];
        for (index, root) in settings.fs_policy.allowed_roots.iter().enumerate() {
            named.push((format!("/fs_policy/allowed_roots/{index}"), root.clone()));
        }
        for (name, category) in &settings.categories.0 {
            if let Some(path) = &category.save_path {
                let name = revaer_domain::settings::escape_pointer(name);
                named.push((format!("/categories/{name}/save_path"), path.clone()));
            }
        }
        let mut refused: Vec<InvalidParam> = named
            .into_iter()
            .filter_map(|(pointer, path)| {
                self.confine_setting(&path)
                    .err()
                    .map(|why| InvalidParam::new(pointer, why.to_string()))
            })
            .collect();
        if !self.resume_dir_ok(&settings.engine_profile.resume_dir) {
            refused.push(InvalidParam::new(
                "/engine_profile/resume_dir",
                "must stay out of the storage roots (clients write there)",
            ));
        }
        refused
    }

    /// The resume folder is the engine's own: it need not be in a root,
    /// and may not be anywhere in one but where it is protected.
    fn resume_dir_ok(&self, resume: &str) -> bool {
        let path = self.absolute(resume);
        if climbs(&path) {
            return false;
        }
        let path = resolve(&path).unwrap_or(path);
        let reachable = self.roots.iter().any(|root| path.starts_with(root));
        !reachable || self.protected.iter().any(|own| path.starts_with(own))
    }
}

/// Whether `path` has a `..` component.
fn climbs(path: &Path) -> bool {
    path.components().any(|c| c == Component::ParentDir)
}

/// `path` with symbolic links resolved: the longest existing prefix made
/// canonical, the rest (which does not exist yet) appended as it is.
/// (Two spellings of one place resolve to the same path, which is what
/// comparing paths needs.)
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(canonical) => {
                let mut resolved = canonical;
                for part in rest.iter().rev() {
                    resolved.push(part);
                }
                return Ok(resolved);
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let Some(name) = existing.file_name().map(ToOwned::to_owned) else {
                    return Err(err);
                };
                rest.push(name);
                if !existing.pop() {
                    return Err(err);
                }
            }
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(dir: &Path) -> StorageRoots {
        std::fs::create_dir_all(dir.join("media")).expect("mkdir");
        StorageRoots::new(dir, &[dir.join("media")]).expect("roots")
    }

    #[test]
    fn paths_resolve_inside_a_root_or_are_refused() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let base = dir.path().canonicalize()?;
        let roots = roots(&base);
        let media = base.join("media");
        assert_eq!(roots.confine(&media.join("tv/new"))?, media.join("tv/new"), "not there yet");
        assert_eq!(roots.confine(&media)?, media);
        assert!(matches!(roots.confine(&base.join("elsewhere")), Err(PathRefused::Outside { .. })));
        assert_eq!(roots.confine(&media.join("../elsewhere")), Err(PathRefused::ParentComponent));
        assert_eq!(roots.confine(Path::new("media/x")), Err(PathRefused::NotAbsolute));
        assert!(roots.confine(Path::new("/etc")).is_err());
        // A prefix that is not a path component is not inside.
        assert!(roots.confine(&base.join("media-other")).is_err());
        // A link inside a root that points out of it is followed, and refused.
        std::os::unix::fs::symlink("/etc", media.join("escape"))?;
        let refused = roots.confine(&media.join("escape/cron.d"));
        assert!(
            matches!(refused, Err(PathRefused::Outside { ref path, .. }) if path.starts_with("/etc")),
            "{refused:?}"
        );
        // Relative settings paths are under the base.
        assert_eq!(roots.confine_setting("media/library")?, media.join("library"));
        assert!(roots.confine_setting("downloads").is_err(), "the base is not a root here");
        Ok(())
    }

    #[test]
    fn the_filesystem_root_is_never_a_root() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        assert!(StorageRoots::new(dir.path(), &[PathBuf::from("/")]).is_err());
        assert!(StorageRoots::new(dir.path(), &[]).is_err());
        Ok(())
    }

    #[test]
    fn a_missing_root_is_refused_not_created() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let unmounted = dir.path().join("mnt/media");
        let refused = StorageRoots::new(dir.path(), std::slice::from_ref(&unmounted));
        let message = refused.err().map(|err| err.to_string()).unwrap_or_default();
        assert!(message.contains("mnt/media") && message.contains("mount"), "{message}");
        assert!(!unmounted.exists(), "nothing is created where a disk should be");
        std::fs::write(dir.path().join("file"), "")?;
        assert!(StorageRoots::new(dir.path(), &[dir.path().join("file")]).is_err(), "a file");
        Ok(())
    }
}
