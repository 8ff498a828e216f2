//! FsOps errors: what failed, on which path, and whether trying again can help.

use std::io;
use std::path::PathBuf;

/// Why a job (or one of its steps) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsopsError {
    /// A source or destination resolves outside every allow-listed root.
    #[error("{path} is outside the allowed roots ({roots})")]
    OutsideAllowedRoots {
        /// The offending path, as resolved.
        path: PathBuf,
        /// The allowed roots, comma-separated.
        roots: String,
    },
    /// A name (from the torrent, an archive or a template) would climb out
    /// of its folder or is otherwise unusable.
    #[error("unsafe name {name:?}: {reason}")]
    UnsafeName {
        /// The name.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The payload is not where the engine said it is.
    #[error("the payload {path} is missing")]
    SourceMissing {
        /// The missing path.
        path: PathBuf,
    },
    /// A filesystem operation failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// An archive could not be read.
    #[error("could not extract {archive}: {detail}")]
    Archive {
        /// The archive (its first volume).
        archive: PathBuf,
        /// What the reader said.
        detail: String,
    },
    /// An archive holds an entry that would escape the work folder.
    #[error("refused to extract {archive}: entry {entry:?} {reason}")]
    ArchiveUnsafe {
        /// The archive.
        archive: PathBuf,
        /// The entry.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An archive expands beyond the configured limits.
    #[error("refused to extract {archive}: {reason}")]
    ArchiveTooLarge {
        /// The archive.
        archive: PathBuf,
        /// Which limit it broke.
        reason: String,
    },
    /// An external tool this job needs is not installed.
    #[error(
        "{tool} is not installed; it is needed to {needed_for} (install the `{package}` package)"
    )]
    ToolMissing {
        /// The program.
        tool: &'static str,
        /// What it does for FsOps.
        needed_for: &'static str,
        /// The Debian/Ubuntu package that provides it.
        package: &'static str,
    },
    /// No free destination name was found.
    #[error("every destination name from {path} to ({tries}) is taken by other entries")]
    DestinationTaken {
        /// The first candidate.
        path: PathBuf,
        /// How many were tried.
        tries: u32,
    },
    /// A user or group name does not exist on this system.
    #[error("unknown {kind} {name:?}")]
    UnknownOwner {
        /// `user` or `group`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A user or group name resolves to the superuser's id (0), which the
    /// policy never hands files to, whatever the name is.
    #[error("{kind} {name:?} is the superuser (id 0)")]
    SuperuserOwner {
        /// `user` or `group`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// The journal could not be saved by the caller (the job stops so that
    /// it never gets ahead of its record).
    #[error("could not record the journal: {detail}")]
    Persist {
        /// What the caller reported.
        detail: String,
    },
    /// The engine could not move a seeding torrent's files.
    #[error("the engine could not move the torrent to {to}: {detail}")]
    EngineMove {
        /// The new save path.
        to: PathBuf,
        /// What the engine reported.
        detail: String,
    },
    /// A copy did not reproduce its source.
    #[error("the copy of {path} does not match its source ({detail})")]
    VerifyFailed {
        /// The source.
        path: PathBuf,
        /// What differed.
        detail: String,
    },
    /// An external tool failed to run (could not start, stalled).
    #[error("{tool} failed: {detail}")]
    ToolFailed {
        /// The program.
        tool: &'static str,
        /// What happened.
        detail: String,
    },
    /// The caller asked the job to stop (shutdown, or its lease was lost);
    /// it resumes from its journal.
    #[error("stopped before the job was done")]
    Cancelled,
    /// The cleanup rules drop every file: nothing would reach the library.
    #[error("the cleanup rules drop every file of the torrent; nothing to deliver")]
    NothingToDeliver,
    /// The journal on disk belongs to a different torrent or version.
    #[error("the journal {path} is unreadable: {detail}")]
    Journal {
        /// Where it is.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

impl FsopsError {
    /// Whether trying again later can succeed. Refusals on safety grounds,
    /// corrupt archives and rules that drop everything do not change with
    /// time; IO errors, missing tools and the engine might.
    pub const fn is_retryable(&self) -> bool {
        !matches!(
            self,
            Self::OutsideAllowedRoots { .. }
                | Self::UnsafeName { .. }
                | Self::ArchiveUnsafe { .. }
                | Self::ArchiveTooLarge { .. }
                | Self::UnknownOwner { .. }
                | Self::SuperuserOwner { .. }
                | Self::Archive { .. }
                | Self::NothingToDeliver
        )
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { action, path, source }
    }
}

/// FsOps results.
pub type Result<T, E = FsopsError> = std::result::Result<T, E>;
