//! The engine's error type.

use std::path::PathBuf;

use revaer_domain::torrent::LabelError;
use revaer_domain::{InfoHash, MagnetError, SelectionError};

/// Everything an engine call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// No torrent with this id.
    #[error("no torrent {id}")]
    NotFound {
        /// The id asked for.
        id: InfoHash,
    },
    /// The magnet URI was refused.
    #[error("invalid magnet URI: {source}")]
    InvalidMagnet {
        /// Why.
        #[from]
        source: MagnetError,
    },
    /// The `.torrent` bytes do not parse.
    #[error("invalid .torrent: {reason}")]
    InvalidMetainfo {
        /// libtorrent's reason.
        reason: String,
    },
    /// The `.torrent` is larger than the configured limit.
    #[error("a .torrent may be at most {max} bytes, got {len}")]
    MetainfoTooLarge {
        /// Size sent.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The file selection is invalid for this torrent.
    #[error("invalid file selection: {source}")]
    InvalidSelection {
        /// Why (with a JSON Pointer into the rules).
        #[from]
        source: SelectionError,
    },
    /// Category or tags out of bounds.
    #[error("invalid labels: {source}")]
    InvalidLabels {
        /// Why.
        #[from]
        source: LabelError,
    },
    /// A save path or move target that cannot be used.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },
    /// The operation needs the torrent's metadata, which a magnet has not
    /// received yet.
    #[error("torrent {id} has no metadata yet")]
    MetadataPending {
        /// The torrent.
        id: InfoHash,
    },
    /// libtorrent refused or failed an operation.
    #[error("libtorrent failed to {op}: {message}")]
    Native {
        /// What was being done.
        op: &'static str,
        /// libtorrent's message.
        message: String,
    },
    /// Moving a torrent's storage failed.
    #[error("moving torrent {id} failed: {message}")]
    MoveFailed {
        /// The torrent.
        id: InfoHash,
        /// libtorrent's message.
        message: String,
    },
    /// Deleting a removed torrent's data failed (the torrent is removed).
    #[error("deleting the data of torrent {id} failed: {message}")]
    DeleteFailed {
        /// The torrent.
        id: InfoHash,
        /// libtorrent's message.
        message: String,
    },
    /// Reading or writing the resume directory failed.
    #[error("{op} {path:?}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another engine has the resume directory open.
    #[error("the resume directory {path:?} is in use by another engine")]
    ResumeDirInUse {
        /// The directory.
        path: PathBuf,
    },
    /// A torrent is being moved; wait for that move to finish.
    #[error("torrent {id} is already being moved")]
    MoveInProgress {
        /// The torrent.
        id: InfoHash,
    },
    /// An extra tracker URL is unusable.
    #[error("tracker {index}: {reason}")]
    InvalidTracker {
        /// Position in the list.
        index: usize,
        /// Why.
        reason: &'static str,
    },
    /// A tracker edit names a tracker that is not there, or one already
    /// there.
    #[error("tracker {url}: {reason}")]
    TrackerConflict {
        /// The URL.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// The engine did not start listening or did not answer in time.
    #[error("the engine did not {op} within {seconds} s")]
    Timeout {
        /// What was awaited.
        op: &'static str,
        /// The bound.
        seconds: u64,
    },
    /// The engine's worker is restarting after a fault; retry shortly.
    #[error("the engine is restarting; retry shortly")]
    Restarting,
    /// The engine has shut down.
    #[error("the engine has shut down")]
    Stopped,
}

/// Shorthand for engine results.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    pub(crate) fn native(op: &'static str) -> impl FnOnce(cxx::Exception) -> Self {
        move |err| Self::Native { op, message: err.what().to_owned() }
    }

    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { op, path, source }
    }
}
