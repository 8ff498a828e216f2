//! The worker: one OS thread that owns the libtorrent session.
//!
//! See `WORKER.md` next to this crate for the invariants. In short: the
//! session is created, used and dropped on this thread only; callers talk to
//! it through a command channel and read what it publishes in [`Shared`];
//! a supervisor restarts it (rebuilding from the resume directory) if it
//! fails.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use cxx::UniquePtr;
use revaer_domain::event;
use revaer_domain::{ComponentHealth, EngineEvent, InfoHash};
use tokio::sync::{broadcast, oneshot};

use crate::command::{Command, Reply};
use crate::config::{EngineConfig, SessionConfig};
use crate::error::{EngineError, Result};
use crate::ffi;
use crate::ffi::alert::AlertBatch;
use crate::ffi::session::Session;
use crate::resume::ResumeStore;
use crate::shared::Shared;
use crate::torrents::TorrentRecord;

mod alerts;
mod commands;
mod detail;
mod restore;
mod share;

/// Longest the worker sleeps waiting for a command before it polls alerts.
const TICK: Duration = Duration::from_millis(20);
/// How often session statistics are asked for while the DHT runs.
const STATS_EVERY: Duration = Duration::from_secs(5);
/// Most often the download queue's order is recorded (it changes with
/// every add, removal, completion and move).
const QUEUE_SAVE_EVERY: Duration = Duration::from_secs(5);
/// Longest the session may take to report its listen sockets at start.
const LISTEN_WAIT: Duration = Duration::from_secs(5);
/// Longest shutdown waits for resume data.
const SHUTDOWN_SAVE_WAIT: Duration = Duration::from_secs(10);
/// Restart back-off after a worker fault: first and longest delay.
const BACKOFF_START: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// What the worker thread is started with.
#[derive(Debug)]
pub(crate) struct Context {
    pub config: EngineConfig,
    pub shared: Arc<Shared>,
    pub events: broadcast::Sender<EngineEvent>,
}

/// How a worker run ended.
enum Exit {
    /// Asked to stop (or every handle is gone).
    Shutdown,
}

/// Why the engine is not fully healthy.
#[derive(Debug, Default, Clone)]
pub(crate) struct Faults {
    pub listen_failed: Vec<String>,
    pub disk: Option<String>,
    pub resume_dir: Option<String>,
    pub worker: Option<String>,
}

/// Runs the worker, restarting it with back-off after a fault, until
/// shutdown. A failure before the first successful start is reported to
/// [`crate::Engine::start`] instead of retried.
pub(crate) fn supervise(
    context: &Context,
    commands: &Receiver<Command>,
    ready: oneshot::Sender<Result<()>>,
) {
    let mut ready = Some(ready);
    let mut backoff = BACKOFF_START;
    let mut restarts = 0_u32;
    let mut fault: Option<String> = None;
    loop {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            run_once(context, commands, &mut ready, fault.take())
        }));
        let reason = match outcome {
            Ok(Ok(Exit::Shutdown)) => return,
            Ok(Err(err)) => err.to_string(),
            Err(panic) => panic_message(&*panic),
        };
        if let Some(ready) = ready.take() {
            let _ =
                ready.send(Err(EngineError::Native { op: "start the session", message: reason }));
            return;
        }
        restarts += 1;
        tracing::error!(reason = %reason, restarts, "engine worker failed; restarting");
        context.shared.clear();
        context.shared.update_health(|health| {
            health.worker_restarts = restarts;
            health.status = ComponentHealth::failing(format!("engine worker restarting: {reason}"));
        });
        let _ = context.events.send(EngineEvent::Health(event::EngineHealthChanged {
            status: revaer_domain::HealthStatus::Failing,
            reason: Some(format!("engine worker restarting: {reason}")),
        }));
        fault = Some(reason);
        if !wait_out_backoff(commands, backoff) {
            return;
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Sleeps for `delay`, refusing commands meanwhile. False on shutdown.
fn wait_out_backoff(commands: &Receiver<Command>, delay: Duration) -> bool {
    let until = Instant::now() + delay;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        match commands.recv_timeout(left) {
            Ok(Command::Shutdown { reply }) => {
                let _ = reply.send(());
                return false;
            }
            Ok(command) => command.refuse(|| EngineError::Restarting),
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

fn run_once(
    context: &Context,
    commands: &Receiver<Command>,
    ready: &mut Option<oneshot::Sender<Result<()>>>,
    previous_fault: Option<String>,
) -> Result<Exit> {
    // The settings in force, including those applied at run time.
    let session_config = context.shared.settings();
    let store = ResumeStore::open(&context.config.resume_dir)?;
    let session =
        ffi::session::ffi::new_session(&session_config.to_ffi(), context.config.disk_io())
            .map_err(EngineError::native("start the session"))?;
    let mut worker = Worker::new(context, store, session, session_config);
    worker.faults.worker = previous_fault;
    worker.await_listen();
    worker.restore()?;
    worker.faults.worker = None;
    worker.refresh_health();
    if let Some(ready) = ready.take() {
        let _ = ready.send(Ok(()));
    }
    worker.run(commands)
}

/// Work handed to the deleting thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// The state owned by the worker thread.
pub(crate) struct Worker<'a> {
    pub context: &'a Context,
    pub session: UniquePtr<Session>,
    pub session_config: SessionConfig,
    pub store: ResumeStore,
    pub torrents: HashMap<InfoHash, TorrentRecord>,
    /// Replies waiting for a storage move to finish.
    pub moves: HashMap<InfoHash, Vec<Reply<()>>>,
    /// Replies waiting for a removed torrent's data to be deleted.
    pub deletes: HashMap<InfoHash, Vec<Reply<()>>>,
    /// Removed torrents whose files the engine deletes itself once
    /// libtorrent reports its part done.
    pub own_deletes: HashMap<InfoHash, crate::owned::OwnDelete>,
    /// The thread that deletes files, started at the first deletion.
    deleter: Option<std::sync::mpsc::Sender<Job>>,
    /// Torrents with unsaved state, waiting for their save interval.
    pub dirty: HashSet<InfoHash>,
    /// Torrents whose resume data was requested and not yet received.
    pub saving: HashSet<InfoHash>,
    pub faults: Faults,
    batch: AlertBatch,
    last_status_post: Option<Instant>,
    /// When session statistics (the DHT node count) were last asked for.
    last_stats_post: Option<Instant>,
    /// When share limits were last checked.
    last_share_check: Option<Instant>,
    /// Whether a queue place changed since the order was last recorded.
    pub queue_dirty: bool,
    /// When the queue order was last recorded.
    last_queue_save: Option<Instant>,
}

impl<'a> Worker<'a> {
    fn new(
        context: &'a Context,
        store: ResumeStore,
        session: UniquePtr<Session>,
        session_config: SessionConfig,
    ) -> Self {
        context.shared.update_health(|health| {
            health.listen_endpoints.clear();
            health.listen_port = None;
        });
        Self {
            context,
            session,
            session_config,
            store,
            torrents: HashMap::new(),
            moves: HashMap::new(),
            deletes: HashMap::new(),
            own_deletes: HashMap::new(),
            deleter: None,
            dirty: HashSet::new(),
            saving: HashSet::new(),
            faults: Faults::default(),
            batch: AlertBatch::default(),
            last_status_post: None,
            last_stats_post: None,
            last_share_check: None,
            queue_dirty: false,
            last_queue_save: None,
        }
    }

    /// Runs `job` on the deleting thread (started on first use), so that
    /// deleting many files never holds up the engine; where no thread can
    /// be had, here.
    pub(crate) fn off_thread(&mut self, job: Job) {
        if self.deleter.is_none() {
            let (sender, jobs) = std::sync::mpsc::channel::<Job>();
            let spawned = std::thread::Builder::new()
                .name("revaer-delete".into())
                .spawn(move || jobs.into_iter().for_each(|job| job()));
            match spawned {
                Ok(_) => self.deleter = Some(sender),
                Err(err) => tracing::warn!(error = %err, "no deleting thread; deleting here"),
            }
        }
        let job = match &self.deleter {
            Some(sender) => match sender.send(job) {
                Ok(()) => return,
                Err(returned) => returned.0,
            },
            None => job,
        };
        self.deleter = None;
        job();
    }

    pub(crate) fn emit(&self, event: EngineEvent) {
        // An error only means nobody is subscribed.
        let _ = self.context.events.send(event);
    }

    /// Waits (bounded) until the session reports its listen sockets.
    fn await_listen(&mut self) {
        let deadline = Instant::now() + LISTEN_WAIT;
        while Instant::now() < deadline {
            let health = self.context.shared.health();
            if health.listen_port.is_some() || !self.faults.listen_failed.is_empty() {
                return;
            }
            if let Err(err) = ffi::alert::ffi::wait_for_alert(self.session.pin_mut(), 50)
                .map_err(EngineError::native("wait for alerts"))
                .and_then(|_| self.poll_alerts())
            {
                tracing::warn!(error = %err, "polling alerts at start failed");
            }
        }
    }

    fn run(&mut self, commands: &Receiver<Command>) -> Result<Exit> {
        loop {
            match commands.recv_timeout(TICK) {
                Ok(command) => {
                    if let Some(reply) = self.dispatch(command) {
                        return Ok(self.shutdown(reply));
                    }
                    // Drain a burst without waiting, bounded so that alerts
                    // keep flowing under a flood of commands.
                    for _ in 0..64 {
                        let Ok(command) = commands.try_recv() else { break };
                        if let Some(reply) = self.dispatch(command) {
                            return Ok(self.shutdown(reply));
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    let (reply, _) = oneshot::channel();
                    return Ok(self.shutdown(reply));
                }
            }
            self.poll_alerts()?;
            self.on_tick()?;
        }
    }

    /// Runs one command; returns the shutdown reply when asked to stop.
    fn dispatch(&mut self, command: Command) -> Option<oneshot::Sender<()>> {
        match command {
            Command::Add { source, options, reply } => {
                let _ = reply.send(self.add(*source, *options));
            }
            Command::Remove { id, delete_data, reply } => self.remove(id, delete_data, reply),
            Command::Op { id, op, reply } => {
                let _ = reply.send(self.op(id, op));
            }
            Command::Sequential { id, enabled, reply } => {
                let _ = reply.send(self.set_sequential(id, enabled));
            }
            Command::Limits { id, download, upload, reply } => {
                let _ = reply.send(self.set_limits(id, download, upload));
            }
            Command::Select { id, selection, reply } => {
                let _ = reply.send(self.select(id, selection));
            }
            Command::Labels { id, labels, reply } => {
                let _ = reply.send(self.set_labels(id, labels));
            }
            Command::ShareLimits { id, limits, reply } => {
                let _ = reply.send(self.set_share_limits(id, limits));
            }
            Command::Queue { id, to, reply } => {
                let _ = reply.send(self.queue(id, to));
            }
            Command::ForceStart { id, enabled, reply } => {
                let _ = reply.send(self.force_start(id, enabled));
            }
            Command::Move { id, path, reply } => self.start_move(id, &path, reply),
            Command::ConnectPeer { id, peer, reply } => {
                let _ = reply.send(self.connect_peer(id, peer));
            }
            Command::Detail { id, reply } => {
                let _ = reply.send(self.detail(id));
            }
            Command::Trackers { id, edit, reply } => {
                let _ = reply.send(self.edit_trackers(id, &edit));
            }
            Command::FirstLastPiece { id, enabled, reply } => {
                let _ = reply.send(self.set_first_last(id, enabled));
            }
            Command::Peers { id, reply } => {
                let _ = reply.send(self.peers(id));
            }
            Command::Pieces { id, reply } => {
                let _ = reply.send(self.pieces(id));
            }
            Command::Settings { config, reply } => {
                let _ = reply.send(self.apply_settings(*config));
            }
            Command::Shutdown { reply } => return Some(reply),
            #[cfg(feature = "fault-injection")]
            Command::Panic => panic!("fault injected into the engine worker"),
        }
        None
    }

    /// Asks libtorrent for a status update soon (after a command changed
    /// something).
    pub(crate) fn refresh_soon(&mut self) {
        self.last_status_post = None;
    }

    fn on_tick(&mut self) -> Result<()> {
        let now = Instant::now();
        let due = self
            .last_status_post
            .is_none_or(|last| now.duration_since(last) >= self.context.config.status_interval);
        if due {
            ffi::session::ffi::post_updates(self.session.pin_mut())
                .map_err(EngineError::native("post status updates"))?;
            self.last_status_post = Some(now);
        }
        let stats_due =
            self.last_stats_post.is_none_or(|last| now.duration_since(last) >= STATS_EVERY);
        if self.session_config.dht && stats_due {
            ffi::session::ffi::post_stats(self.session.pin_mut())
                .map_err(EngineError::native("post session stats"))?;
            self.last_stats_post = Some(now);
        }
        if self.last_share_check.is_none_or(|last| now.duration_since(last) >= share::SHARE_EVERY) {
            self.enforce_share_limits(now);
            self.last_share_check = Some(now);
        }
        if self.queue_dirty
            && self.last_queue_save.is_none_or(|last| now.duration_since(last) >= QUEUE_SAVE_EVERY)
        {
            self.save_queue();
            self.last_queue_save = Some(now);
        }
        let interval = self.context.config.resume_save_interval;
        let ready = self
            .dirty
            .iter()
            .copied()
            .filter(|id| {
                self.torrents.get(id).is_some_and(|record| {
                    record.last_resume_request.is_none_or(|at| now.duration_since(at) >= interval)
                })
            })
            .collect::<Vec<_>>();
        for id in ready {
            self.request_save(id);
        }
        Ok(())
    }

    /// Records the download queue's order (torrents in no queue last, so
    /// that one that goes back to downloading keeps its turn).
    fn save_queue(&mut self) {
        self.queue_dirty = false;
        let mut order: Vec<(i32, InfoHash)> = self
            .torrents
            .values()
            .map(|r| (r.status.as_ref().map_or(-1, |s| s.queue_position), r.id()))
            .collect();
        order.sort_by_key(|(at, id)| (*at < 0, *at, *id));
        let ids: Vec<InfoHash> = order.into_iter().map(|(_, id)| id).collect();
        if let Err(err) = self.store.write_queue(&ids) {
            tracing::warn!(error = %err, "recording the queue order failed");
        }
    }

    /// Requests fresh resume data for a torrent.
    pub(crate) fn request_save(&mut self, id: InfoHash) {
        self.dirty.remove(&id);
        let Some(record) = self.torrents.get_mut(&id) else { return };
        record.last_resume_request = Some(Instant::now());
        match ffi::torrent::ffi::request_resume_data(self.session.pin_mut(), id.as_bytes()) {
            Ok(()) => {
                self.saving.insert(id);
            }
            Err(err) => tracing::warn!(torrent = %id, error = %err.what(), "resume request failed"),
        }
    }

    pub(crate) fn poll_alerts(&mut self) -> Result<()> {
        let mut batch = std::mem::take(&mut self.batch);
        ffi::alert::ffi::pop_alerts(self.session.pin_mut(), &mut batch)
            .map_err(EngineError::native("read alerts"))?;
        for alert in &batch.alerts {
            self.on_alert(alert);
        }
        if !batch.statuses.is_empty() {
            self.on_statuses(&batch.statuses);
        }
        self.batch = batch;
        Ok(())
    }

    /// Saves resume data for every torrent (bounded wait), then answers.
    fn shutdown(&mut self, reply: oneshot::Sender<()>) -> Exit {
        let ids = self.torrents.keys().copied().collect::<Vec<_>>();
        for id in ids {
            self.request_save(id);
        }
        let deadline = Instant::now() + SHUTDOWN_SAVE_WAIT;
        while !self.saving.is_empty() && Instant::now() < deadline {
            if let Err(err) = ffi::alert::ffi::wait_for_alert(self.session.pin_mut(), 100)
                .map_err(EngineError::native("wait for alerts"))
                .and_then(|_| self.poll_alerts())
            {
                tracing::warn!(error = %err, "polling alerts at shutdown failed");
                break;
            }
        }
        if !self.saving.is_empty() {
            tracing::warn!(missing = self.saving.len(), "shutdown without fresh resume data");
        }
        if self.queue_dirty {
            self.save_queue();
        }
        // A deletion not reported yet is not started: the files stay.
        self.own_deletes.clear();
        for (_, replies) in self.moves.drain().chain(self.deletes.drain()) {
            for waiting in replies {
                let _ = waiting.send(Err(EngineError::Stopped));
            }
        }
        self.context.shared.clear();
        let _ = reply.send(());
        Exit::Shutdown
    }

    /// Recomputes health from the recorded faults; publishes and announces
    /// a change.
    pub(crate) fn refresh_health(&mut self) {
        let port = self.context.shared.health().listen_port;
        let faults = &self.faults;
        let status = if let Some(reason) = &faults.worker {
            ComponentHealth::failing(format!("engine worker restarting: {reason}"))
        } else if port.is_none() && !faults.listen_failed.is_empty() {
            ComponentHealth::failing(format!("cannot listen: {}", faults.listen_failed.join("; ")))
        } else if !faults.listen_failed.is_empty() {
            ComponentHealth::degraded(format!(
                "some listen sockets failed: {}",
                faults.listen_failed.join("; ")
            ))
        } else if let Some(reason) = faults.disk.as_ref().or(faults.resume_dir.as_ref()) {
            ComponentHealth::degraded(reason.clone())
        } else {
            ComponentHealth::ok()
        };
        let mut changed = false;
        self.context.shared.update_health(|health| {
            if health.status != status {
                health.status = status.clone();
                changed = true;
            }
        });
        if changed {
            tracing::info!(status = ?status.status, reason = ?status.reason, "engine health changed");
            self.emit(EngineEvent::Health(event::EngineHealthChanged {
                status: status.status,
                reason: status.reason,
            }));
        }
    }
}
