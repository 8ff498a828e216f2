//! What callers ask the worker to do, and how it answers.

use std::net::SocketAddr;
use std::path::PathBuf;

use revaer_domain::{
    CompiledSelection, ContentLayout, FileEntry, InfoHash, MagnetUri, PeerEntry, PieceMap,
    RateLimit, ShareLimits, TorrentDetail, TorrentLabels, TorrentSummary, TrackerEdit,
};
use tokio::sync::oneshot;

use crate::config::SessionConfig;
use crate::error::Result;
use crate::metainfo::Metainfo;

/// The reply half of a command.
pub(crate) type Reply<T> = oneshot::Sender<Result<T>>;

/// Where a torrent comes from.
#[derive(Debug, Clone)]
pub enum TorrentSource {
    /// A validated magnet URI; the metadata is fetched from peers.
    Magnet(MagnetUri),
    /// The bytes of a `.torrent` file.
    Metainfo(Vec<u8>),
}

/// Options for adding a torrent (all optional).
#[derive(Debug, Clone, Default)]
#[allow(clippy::struct_excessive_bools, reason = "independent add flags, as the API takes them")]
pub struct AddTorrentOptions {
    /// Absolute directory to save into; the engine's download directory
    /// when `None`.
    pub save_path: Option<PathBuf>,
    /// Add without starting.
    pub paused: bool,
    /// Download pieces in order.
    pub sequential: bool,
    /// Which files to download, compiled by the caller
    /// (`SelectionRules::compile`, best off the async runtime) so that the
    /// engine's thread never compiles globs for a request. For a magnet it
    /// is applied as soon as the metadata arrives; until then no piece is
    /// requested.
    pub selection: CompiledSelection,
    /// Per-torrent download cap.
    pub download_limit: RateLimit,
    /// Per-torrent upload cap.
    pub upload_limit: RateLimit,
    /// Trackers to add to those in the source.
    pub trackers: Vec<String>,
    /// Category and tags, stored and returned as they are.
    pub labels: TorrentLabels,
    /// The torrent's own share limits (the engine enforces them, with the
    /// category's and the global ones from [`SessionConfig::share`]).
    pub share_limits: ShareLimits,
    /// Fetch the first and last pieces of each wanted file first.
    pub first_last_piece: bool,
    /// Where the files go under the save path (for a magnet, applied when
    /// the metadata arrives).
    pub content_layout: ContentLayout,
    /// Trust the files already on disk: seed without checking them first
    /// (libtorrent's seed mode; each piece is checked when first sent, and
    /// a piece that fails sends the torrent to a full check). Ignored for
    /// a magnet, which has no files to trust yet.
    pub skip_checking: bool,
}

/// The result of an add.
#[derive(Debug, Clone, PartialEq)]
pub enum AddOutcome {
    /// The torrent was added.
    Added(TorrentSummary),
    /// The torrent was already present; nothing changed.
    Duplicate(TorrentSummary),
}

impl AddOutcome {
    /// The torrent, whether new or existing.
    pub fn summary(&self) -> &TorrentSummary {
        match self {
            Self::Added(summary) | Self::Duplicate(summary) => summary,
        }
    }

    /// Whether the torrent was already present.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Self::Duplicate(_))
    }
}

/// A source after validation in the caller's task.
#[derive(Debug)]
pub(crate) enum ParsedSource {
    Magnet(MagnetUri),
    Metainfo { bytes: Vec<u8>, info: Metainfo },
}

/// A move in the session's download queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueMove {
    /// To the front.
    Top,
    /// To the back.
    Bottom,
    /// One place towards the front.
    Up,
    /// One place towards the back.
    Down,
}

/// Simple per-torrent operations that take no argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TorrentOp {
    Pause,
    Resume,
    Reannounce,
    Recheck,
}

/// A request to the worker thread.
#[derive(Debug)]
pub(crate) enum Command {
    Add {
        source: Box<ParsedSource>,
        options: Box<AddTorrentOptions>,
        reply: Reply<AddOutcome>,
    },
    Remove {
        id: InfoHash,
        delete_data: bool,
        reply: Reply<()>,
    },
    Op {
        id: InfoHash,
        op: TorrentOp,
        reply: Reply<()>,
    },
    Sequential {
        id: InfoHash,
        enabled: bool,
        reply: Reply<()>,
    },
    Limits {
        id: InfoHash,
        download: RateLimit,
        upload: RateLimit,
        reply: Reply<()>,
    },
    Select {
        id: InfoHash,
        selection: CompiledSelection,
        reply: Reply<Vec<FileEntry>>,
    },
    Labels {
        id: InfoHash,
        labels: TorrentLabels,
        reply: Reply<()>,
    },
    ShareLimits {
        id: InfoHash,
        limits: ShareLimits,
        reply: Reply<()>,
    },
    Queue {
        id: InfoHash,
        to: QueueMove,
        reply: Reply<()>,
    },
    ForceStart {
        id: InfoHash,
        enabled: bool,
        reply: Reply<()>,
    },
    Move {
        id: InfoHash,
        path: PathBuf,
        reply: Reply<()>,
    },
    ConnectPeer {
        id: InfoHash,
        peer: SocketAddr,
        reply: Reply<()>,
    },
    Trackers {
        id: InfoHash,
        edit: TrackerEdit,
        reply: Reply<()>,
    },
    FirstLastPiece {
        id: InfoHash,
        enabled: bool,
        reply: Reply<()>,
    },
    Peers {
        id: InfoHash,
        reply: Reply<Vec<PeerEntry>>,
    },
    Pieces {
        id: InfoHash,
        reply: Reply<PieceMap>,
    },
    Detail {
        id: InfoHash,
        reply: Reply<TorrentDetail>,
    },
    Settings {
        config: Box<SessionConfig>,
        reply: Reply<()>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    #[cfg(feature = "fault-injection")]
    Panic,
}

impl Command {
    /// Answers the command with an error without running it (used while the
    /// worker restarts).
    pub(crate) fn refuse(self, error: impl Fn() -> crate::EngineError) {
        match self {
            Self::Add { reply, .. } => drop(reply.send(Err(error()))),
            Self::Select { reply, .. } => drop(reply.send(Err(error()))),
            Self::Detail { reply, .. } => drop(reply.send(Err(error()))),
            Self::Peers { reply, .. } => drop(reply.send(Err(error()))),
            Self::Pieces { reply, .. } => drop(reply.send(Err(error()))),
            Self::Remove { reply, .. }
            | Self::Op { reply, .. }
            | Self::Sequential { reply, .. }
            | Self::Limits { reply, .. }
            | Self::Labels { reply, .. }
            | Self::ShareLimits { reply, .. }
            | Self::Queue { reply, .. }
            | Self::ForceStart { reply, .. }
            | Self::Move { reply, .. }
            | Self::ConnectPeer { reply, .. }
            | Self::Trackers { reply, .. }
            | Self::FirstLastPiece { reply, .. }
            | Self::Settings { reply, .. } => drop(reply.send(Err(error()))),
            Self::Shutdown { reply } => drop(reply.send(())),
            #[cfg(feature = "fault-injection")]
            Self::Panic => {}
        }
    }
}
