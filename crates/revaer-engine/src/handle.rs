//! [`Engine`]: the async handle callers use. Every method either reads what
//! the worker published or sends it a command and awaits the answer; none
//! blocks the async runtime on libtorrent.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use revaer_domain::{
    CompiledSelection, EngineEvent, FileEntry, InfoHash, PeerEntry, PieceMap, RateLimit,
    ShareLimits, TorrentDetail, TorrentLabels, TorrentSummary, TrackerEdit,
};
use tokio::sync::{broadcast, oneshot};

use crate::command::{
    AddOutcome, AddTorrentOptions, Command, ParsedSource, QueueMove, Reply, TorrentOp,
    TorrentSource,
};
use crate::config::{EngineConfig, SessionConfig};
use crate::error::{EngineError, Result};
use crate::metainfo::Metainfo;
use crate::shared::{EngineHealth, Shared};
use crate::worker;

/// How long [`Engine::start`] waits for the session to listen and for the
/// torrents in the resume directory to be restored.
const START_TIMEOUT: Duration = Duration::from_mins(2);

/// A handle to the running engine. Cheap to clone; the engine stops when
/// [`Engine::shutdown`] is called or the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    events: broadcast::Sender<EngineEvent>,
    /// Created before the worker starts, so that the first subscriber also
    /// sees what happened during start-up (restored torrents, rejected
    /// resume data).
    first_subscriber: Mutex<Option<broadcast::Receiver<EngineEvent>>>,
    max_metainfo_bytes: usize,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Engine {
    /// Starts the session on its own thread, restores every torrent from
    /// the resume directory and returns once the session is listening.
    pub async fn start(mut config: EngineConfig) -> Result<Self> {
        config.session.download_dir = absolute(config.session.download_dir)?;
        config.resume_dir = absolute(config.resume_dir)?;
        let (commands, receiver) = mpsc::channel();
        let (events, first_subscriber) = broadcast::channel(config.event_capacity.max(16));
        let shared = Arc::new(Shared::default());
        let (ready, started) = oneshot::channel();
        let max_metainfo_bytes = config.max_metainfo_bytes;
        shared.set_settings(config.session.clone());
        let context = worker::Context { config, shared: shared.clone(), events: events.clone() };
        let thread = std::thread::Builder::new()
            .name("revaer-engine".to_owned())
            .spawn(move || worker::supervise(&context, &receiver, ready))
            .map_err(EngineError::io("spawn the engine thread", "revaer-engine"))?;
        let engine = Self {
            inner: Arc::new(Inner {
                commands,
                shared,
                events,
                first_subscriber: Mutex::new(Some(first_subscriber)),
                max_metainfo_bytes,
                worker: Mutex::new(Some(thread)),
            }),
        };
        match tokio::time::timeout(START_TIMEOUT, started).await {
            Ok(Ok(Ok(()))) => Ok(engine),
            Ok(Ok(Err(err))) => Err(err),
            Ok(Err(_)) => Err(EngineError::Stopped),
            Err(_) => Err(EngineError::Timeout { op: "start", seconds: START_TIMEOUT.as_secs() }),
        }
    }

    async fn request<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.inner.commands.send(make(reply)).map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Restarting)?
    }

    /// Adds a torrent. Adding one that is already present returns
    /// [`AddOutcome::Duplicate`] and changes nothing.
    pub async fn add(
        &self,
        source: TorrentSource,
        options: AddTorrentOptions,
    ) -> Result<AddOutcome> {
        let source = match source {
            TorrentSource::Magnet(magnet) => ParsedSource::Magnet(magnet),
            TorrentSource::Metainfo(bytes) => {
                let max = self.inner.max_metainfo_bytes;
                if bytes.len() > max {
                    return Err(EngineError::MetainfoTooLarge { len: bytes.len(), max });
                }
                let (bytes, info) = tokio::task::spawn_blocking(move || {
                    let info = Metainfo::parse(&bytes);
                    (bytes, info)
                })
                .await
                .map_err(|_| EngineError::Stopped)?;
                ParsedSource::Metainfo { info: info?, bytes }
            }
        };
        let (source, options) = (Box::new(source), Box::new(options));
        self.request(|reply| Command::Add { source, options, reply }).await
    }

    /// Removes a torrent, and its downloaded data when `delete_data`. With
    /// `delete_data` the call returns once the files are gone.
    pub async fn remove(&self, id: InfoHash, delete_data: bool) -> Result<()> {
        self.request(|reply| Command::Remove { id, delete_data, reply }).await
    }

    /// Stops a torrent until [`Engine::resume`].
    pub async fn pause(&self, id: InfoHash) -> Result<()> {
        self.op(id, TorrentOp::Pause).await
    }

    /// Starts a paused torrent again (subject to the queue limits).
    pub async fn resume(&self, id: InfoHash) -> Result<()> {
        self.op(id, TorrentOp::Resume).await
    }

    /// Announces to every tracker now.
    pub async fn reannounce(&self, id: InfoHash) -> Result<()> {
        self.op(id, TorrentOp::Reannounce).await
    }

    /// Verifies every piece on disk again.
    pub async fn recheck(&self, id: InfoHash) -> Result<()> {
        self.op(id, TorrentOp::Recheck).await
    }

    async fn op(&self, id: InfoHash, op: TorrentOp) -> Result<()> {
        self.request(|reply| Command::Op { id, op, reply }).await
    }

    /// Switches in-order piece download on or off.
    pub async fn set_sequential(&self, id: InfoHash, enabled: bool) -> Result<()> {
        self.request(|reply| Command::Sequential { id, enabled, reply }).await
    }

    /// Sets the per-torrent caps (bytes per second; unlimited is
    /// [`RateLimit::UNLIMITED`]).
    pub async fn set_limits(
        &self,
        id: InfoHash,
        download: RateLimit,
        upload: RateLimit,
    ) -> Result<()> {
        self.request(|reply| Command::Limits { id, download, upload, reply }).await
    }

    /// Applies a file selection and returns the files with their new
    /// priorities (empty while a magnet's metadata is pending; the rules
    /// are kept and applied when it arrives). The rules come compiled
    /// (`SelectionRules::compile`, best off the async runtime), so the
    /// engine's thread never compiles globs for a request.
    pub async fn select(
        &self,
        id: InfoHash,
        selection: CompiledSelection,
    ) -> Result<Vec<FileEntry>> {
        self.request(|reply| Command::Select { id, selection, reply }).await
    }

    /// Replaces the category and tags.
    pub async fn set_labels(&self, id: InfoHash, labels: TorrentLabels) -> Result<()> {
        self.request(|reply| Command::Labels { id, labels, reply }).await
    }

    /// Replaces the torrent's own share limits (stored with it; reaching
    /// one fires its action, see [`crate::SessionConfig::share`]).
    pub async fn set_share_limits(&self, id: InfoHash, limits: ShareLimits) -> Result<()> {
        self.request(|reply| Command::ShareLimits { id, limits, reply }).await
    }

    /// Moves a torrent in the session's download queue (where queueing
    /// limits are set, the front ones run first; finished torrents are in
    /// no queue, and a move does nothing to them).
    pub async fn queue(&self, id: InfoHash, to: QueueMove) -> Result<()> {
        self.request(|reply| Command::Queue { id, to, reply }).await
    }

    /// Starts a torrent outside the queue (it runs whatever the queueing
    /// limits say), or gives it back to the queue. Pausing or resuming it
    /// ends a force-start.
    pub async fn set_force_start(&self, id: InfoHash, enabled: bool) -> Result<()> {
        self.request(|reply| Command::ForceStart { id, enabled, reply }).await
    }

    /// Moves the torrent's files under a new absolute save path; seeding
    /// continues from there. Returns once the move has finished.
    pub async fn move_storage(&self, id: InfoHash, path: PathBuf) -> Result<()> {
        self.request(|reply| Command::Move { id, path, reply }).await
    }

    /// Connects the torrent to a peer (as a tracker or PEX would).
    pub async fn connect_peer(&self, id: InfoHash, peer: SocketAddr) -> Result<()> {
        self.request(|reply| Command::ConnectPeer { id, peer, reply }).await
    }

    /// Changes the torrent's trackers: replacements, then removals, then
    /// additions, as one change that survives a restart. A URL to replace
    /// or remove that is not there, or a replacement already there, is
    /// refused ([`EngineError::TrackerConflict`]) and nothing changes.
    pub async fn edit_trackers(&self, id: InfoHash, edit: TrackerEdit) -> Result<()> {
        self.request(|reply| Command::Trackers { id, edit, reply }).await
    }

    /// Fetches the first and last pieces of each wanted file first (or
    /// not): a player can then open a file before it is complete.
    pub async fn set_first_last_piece(&self, id: InfoHash, enabled: bool) -> Result<()> {
        self.request(|reply| Command::FirstLastPiece { id, enabled, reply }).await
    }

    /// The torrent's connected peers.
    pub async fn peers(&self, id: InfoHash) -> Result<Vec<PeerEntry>> {
        self.request(|reply| Command::Peers { id, reply }).await
    }

    /// What the engine has of each of the torrent's pieces.
    pub async fn pieces(&self, id: InfoHash) -> Result<PieceMap> {
        self.request(|reply| Command::Pieces { id, reply }).await
    }

    /// Everything about one torrent: files, trackers, caps.
    pub async fn detail(&self, id: InfoHash) -> Result<TorrentDetail> {
        self.request(|reply| Command::Detail { id, reply }).await
    }

    /// Applies new session settings at once.
    pub async fn apply_settings(&self, mut config: SessionConfig) -> Result<()> {
        config.download_dir = absolute(config.download_dir)?;
        self.request(|reply| Command::Settings { config: Box::new(config), reply }).await
    }

    /// Every torrent's summary, oldest first, read from the worker's last
    /// published snapshot (no call into libtorrent).
    pub fn list(&self) -> Vec<Arc<TorrentSummary>> {
        self.inner.shared.list()
    }

    /// Every torrent's summary, in no order: [`Engine::list`] without its
    /// sort, for callers that key them by id.
    pub fn list_unordered(&self) -> Vec<Arc<TorrentSummary>> {
        self.inner.shared.list_unordered()
    }

    /// One torrent's summary from the snapshot.
    pub fn summary(&self, id: InfoHash) -> Option<Arc<TorrentSummary>> {
        self.inner.shared.get(id)
    }

    /// A torrent's tracker hosts and file extensions (for list filters),
    /// without a round trip to the worker.
    pub fn facets(&self, id: InfoHash) -> Option<Arc<crate::Facets>> {
        self.inner.shared.facets(id)
    }

    /// The session settings in force (as started, or as last applied).
    pub fn settings(&self) -> SessionConfig {
        self.inner.shared.settings()
    }

    /// The engine's health.
    pub fn health(&self) -> EngineHealth {
        self.inner.shared.health()
    }

    /// The first TCP port the session listens on.
    pub fn listen_port(&self) -> Option<u16> {
        self.inner.shared.health().listen_port
    }

    /// A new subscription to engine events. The first call returns a
    /// subscription that starts before the engine did, so it also holds the
    /// start-up events (restored torrents, rejected resume data); later
    /// calls see events from the moment they subscribe. A subscriber that
    /// falls more than the channel capacity behind gets
    /// `RecvError::Lagged` and loses the oldest events; the engine never
    /// waits for it.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        let first =
            self.inner.first_subscriber.lock().unwrap_or_else(PoisonError::into_inner).take();
        first.unwrap_or_else(|| self.inner.events.subscribe())
    }

    /// Saves resume data for every torrent, stops the session and joins the
    /// worker thread. Later calls on any clone fail with
    /// [`EngineError::Stopped`].
    pub async fn shutdown(&self) -> Result<()> {
        let (reply, done) = oneshot::channel();
        if self.inner.commands.send(Command::Shutdown { reply }).is_ok() {
            let _ = done.await;
        }
        let thread = self.inner.worker.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(thread) = thread {
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .map_err(|_| EngineError::Stopped)?
                .map_err(|_| EngineError::Stopped)?;
        }
        Ok(())
    }

    /// Makes the worker panic, to exercise its restart path.
    #[cfg(feature = "fault-injection")]
    pub fn inject_worker_panic(&self) {
        let _ = self.inner.commands.send(Command::Panic);
    }
}

fn absolute(path: PathBuf) -> Result<PathBuf> {
    std::path::absolute(&path).map_err(EngineError::io("resolve", path))
}
