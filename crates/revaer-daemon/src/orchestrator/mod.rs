//! The FsOps orchestrator: it follows the event bus in order, keeping the
//! torrent catalogue (the one writer of torrent rows) and giving every
//! completed torrent a job in the store — the row is always written before
//! the job that refers to it. Workers claim due jobs under a lease, run the pipeline on a
//! blocking thread (journal saved to the job's row before and after each
//! step, seeding torrents moved through the engine), and record the
//! outcome: done, retried later with exponential back-off, or failed for
//! good once the attempts are spent or the error cannot heal.
//!
//! Several daemons may share one database: each claims only jobs of
//! torrents it holds (by the catalogue), a job runs on one runner at a time
//! (the lease), and a daemon that died finds the jobs it was running
//! released when it restarts under the same instance name (or takes them
//! over when their leases expire).

mod job;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use revaer_api_models::health::FsopsHealth;
use revaer_domain::event::EventSource;
use revaer_domain::{Event, FilePriority, FsopsEvent, HealthStatus, InfoHash};
use revaer_engine::{Engine, EngineError};
use revaer_fsops::{JobSpec, Pipeline};
use revaer_service::ServiceError;
use revaer_service::bus::BusEvent;
use revaer_service::catalogue::Catalogue;
use revaer_store::{FsJob, FsJobStatus, NewFsJob, Store, StoreError};
use revaer_telemetry::names;
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;

/// How the orchestrator runs jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrchestratorConfig {
    /// This daemon's name as a job owner; unique among daemons sharing a
    /// database, stable across its restarts.
    pub instance: String,
    /// Jobs run at once (each on a blocking thread).
    pub workers: usize,
    /// How long a claim holds without renewal (renewed every third of it).
    pub lease: Duration,
    /// Attempts before a job fails for good.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles with each attempt.
    pub retry_base: Duration,
    /// Longest delay between retries.
    pub retry_cap: Duration,
    /// How often idle workers look for due jobs (retries, other daemons'
    /// jobs); new jobs on this daemon wake them at once.
    pub poll: Duration,
    /// Jobs waiting or running beyond which health is degraded.
    pub queue_threshold: u64,
}

impl Default for OrchestratorConfig {
    fn default() -> Self {
        Self {
            instance: "revaerd".to_owned(),
            workers: 2,
            lease: Duration::from_mins(2),
            max_attempts: 5,
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_hours(1),
            poll: Duration::from_secs(2),
            queue_threshold: 100,
        }
    }
}

/// Why the orchestrator could not do something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrchestratorError {
    /// The engine refused or does not know the torrent.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The catalogue could not be written.
    #[error(transparent)]
    Catalogue(#[from] ServiceError),
}

struct Shared {
    store: Store,
    engine: Engine,
    catalogue: Catalogue,
    pipeline: RwLock<Arc<Pipeline>>,
    config: OrchestratorConfig,
    wake: Notify,
    events: broadcast::Sender<FsopsEvent>,
}

impl Shared {
    fn pipeline(&self) -> Arc<Pipeline> {
        self.pipeline
            .read()
            .map_or_else(|poisoned| Arc::clone(&poisoned.into_inner()), |p| Arc::clone(&p))
    }
}

/// The running orchestrator. Cheap to share behind an `Arc`.
pub struct Orchestrator {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: tokio::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Orchestrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orchestrator").field("config", &self.shared.config).finish_non_exhaustive()
    }
}

impl Drop for Orchestrator {
    fn drop(&mut self) {
        // Without a shutdown, the tasks still stop.
        let _ = self.stop.send(true);
    }
}

impl Orchestrator {
    /// Starts following the bus (`events`, subscribed by the caller before
    /// anything is published that should count) and the workers. Jobs this
    /// instance was running when it last stopped are released first, the
    /// catalogue is brought in line with the engine, and completed torrents
    /// that never got a job (a crash between the two) get one.
    pub async fn start(
        store: Store,
        engine: Engine,
        pipeline: Pipeline,
        config: OrchestratorConfig,
        events: broadcast::Receiver<BusEvent>,
    ) -> Self {
        let (fsops_events, _) = broadcast::channel(1024);
        let (stop, _) = watch::channel(false);
        let workers = config.workers.max(1);
        let shared = Arc::new(Shared {
            catalogue: Catalogue::new(store.clone(), config.instance.clone()),
            store,
            engine,
            pipeline: RwLock::new(Arc::new(pipeline)),
            config,
            wake: Notify::new(),
            events: fsops_events,
        });
        match shared.store.release_fs_jobs(&shared.config.instance).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "FsOps jobs of a previous run resume"),
            Err(err) => {
                tracing::warn!(error = %err, "could not release FsOps jobs of a previous run");
            }
        }
        // The caller subscribed before this: no event falls in between.
        reconcile(&shared).await;
        let mut tasks = vec![tokio::spawn(follow(Arc::clone(&shared), events, stop.subscribe()))];
        for _ in 0..workers {
            tasks.push(tokio::spawn(work(Arc::clone(&shared), stop.subscribe())));
        }
        Self { shared, stop, tasks: tokio::sync::Mutex::new(tasks) }
    }

    /// FsOps events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<FsopsEvent> {
        self.shared.events.subscribe()
    }

    /// Uses a new pipeline (the settings changed) for jobs claimed from now on.
    pub fn set_pipeline(&self, pipeline: Pipeline) {
        match self.shared.pipeline.write() {
            Ok(mut current) => *current = Arc::new(pipeline),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(pipeline),
        }
    }

    /// Queues a job for a torrent that has all its wanted bytes, unless one
    /// is already waiting or running. `None` when nothing was queued.
    pub async fn enqueue(
        &self,
        torrent: InfoHash,
        trace_id: Option<String>,
    ) -> Result<Option<FsJob>, OrchestratorError> {
        enqueue(&self.shared, torrent, trace_id).await
    }

    /// Puts a torrent's latest job back in the queue when it failed for
    /// good (after the cause was fixed); `true` when it was.
    pub async fn retry(&self, torrent: InfoHash) -> Result<bool, OrchestratorError> {
        let jobs = self.shared.store.fs_jobs_for(torrent).await?;
        let Some(latest) = jobs.last().filter(|job| job.status == FsJobStatus::Failed) else {
            return Ok(false);
        };
        let requeued = self.shared.store.requeue_fs_job(latest.id).await?;
        if requeued {
            self.shared.wake.notify_waiters();
            publish_queue_depth(&self.shared).await;
        }
        Ok(requeued)
    }

    /// FsOps health: degraded while a tool extraction needs is missing, a
    /// job has failed for good, or the queue is over its threshold.
    pub async fn health(&self) -> FsopsHealth {
        let pipeline = self.shared.pipeline();
        let config = pipeline.config();
        let extracting = config.policy.extract
            || config.categories.0.values().any(|c| c.overrides.extract == Some(true));
        let tools = pipeline.tools();
        let mut report = FsopsHealth {
            status: HealthStatus::Ok,
            reason: None,
            queued: 0,
            running: 0,
            failed: 0,
            missing_tools: [("unar", &tools.unar), ("lsar", &tools.lsar)]
                .into_iter()
                .filter(|(_, found)| extracting && found.is_none())
                .map(|(name, _)| name.to_owned())
                .collect(),
        };
        let mut reasons = Vec::new();
        let tool_health = tools.health(extracting);
        if tool_health.status != HealthStatus::Ok {
            reasons.extend(tool_health.reason);
        }
        match self.shared.store.fs_job_counts().await {
            Ok(counts) => {
                report.queued = counts.pending;
                report.running = counts.running;
                report.failed = counts.failed;
                let queued = counts.pending + counts.running;
                metrics::gauge!(names::FSOPS_QUEUE_DEPTH).set(queued as f64);
                if counts.failed > 0 {
                    reasons.push(format!(
                        "{} FsOps job(s) failed for good; see the torrents' FsOps status",
                        counts.failed
                    ));
                }
                if queued > self.shared.config.queue_threshold {
                    reasons.push(format!(
                        "{queued} FsOps jobs queued (threshold {})",
                        self.shared.config.queue_threshold
                    ));
                }
            }
            Err(err) => reasons.push(format!("cannot read the FsOps queue: {err}")),
        }
        if !reasons.is_empty() {
            report.status = HealthStatus::Degraded;
            report.reason = Some(reasons.join("; "));
        }
        report
    }

    /// Stops taking jobs, stops the running ones at their next safe point
    /// (between steps and files, every MiB of a copy: they go back to the
    /// queue and resume from their journals) and waits for the workers.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        self.shared.wake.notify_waiters();
        let tasks = std::mem::take(&mut *self.tasks.lock().await);
        for task in tasks {
            let _ = task.await;
        }
    }
}

/// What FsOps needs to know of a torrent, from the engine.
async fn job_spec(engine: &Engine, torrent: InfoHash) -> Result<JobSpec, EngineError> {
    let detail = engine.detail(torrent).await?;
    Ok(JobSpec {
        torrent,
        name: detail.summary.name.clone(),
        save_path: detail.summary.save_path.clone(),
        files: detail
            .files
            .iter()
            .filter(|f| f.priority != FilePriority::Skip)
            .map(|f| f.path.clone())
            .collect(),
        category: detail.summary.labels.category.clone(),
        tags: detail.summary.labels.tags.clone(),
        seeding: true,
    })
}

async fn enqueue(
    shared: &Shared,
    torrent: InfoHash,
    trace_id: Option<String>,
) -> Result<Option<FsJob>, OrchestratorError> {
    let detail = shared.engine.detail(torrent).await?;
    if detail.summary.bytes_done < detail.summary.bytes_wanted {
        return Ok(None);
    }
    let jobs = shared.store.fs_jobs_for(torrent).await?;
    if jobs.iter().any(|job| matches!(job.status, FsJobStatus::Pending | FsJobStatus::Running)) {
        return Ok(None);
    }
    // The row the job refers to: written from the same events before
    // this, unless that write failed; then the catalogue writes it now.
    shared.catalogue.ensure(&detail.summary).await?;
    // The job carries the trace id of the request that added the torrent.
    let trace_id = match trace_id {
        Some(trace) => Some(trace),
        None => shared.store.torrent(torrent).await?.and_then(|row| row.trace_id),
    };
    let job = shared
        .store
        .create_fs_job(&NewFsJob {
            info_hash: torrent,
            source_path: detail.summary.content_path.to_string_lossy().into_owned(),
            trace_id,
        })
        .await?;
    let Some(job) = job else {
        // Another job of the torrent got in first.
        return Ok(None);
    };
    shared.wake.notify_one();
    publish_queue_depth(shared).await;
    Ok(Some(job))
}

/// Sets the queue-depth gauge from the store.
async fn publish_queue_depth(shared: &Shared) {
    if let Ok(counts) = shared.store.fs_job_counts().await {
        metrics::gauge!(names::FSOPS_QUEUE_DEPTH).set((counts.pending + counts.running) as f64);
    }
}

/// The catalogue brought in line with the engine; completed torrents
/// without any job get one.
async fn reconcile(shared: &Shared) {
    if let Err(err) = shared.catalogue.reconcile(&shared.engine).await {
        tracing::warn!(error = %err, "could not reconcile the torrent catalogue");
    }
    for summary in shared.engine.list() {
        if summary.completed_at.is_none() || summary.bytes_done < summary.bytes_wanted {
            continue;
        }
        match shared.store.fs_jobs_for(summary.id).await {
            Ok(jobs) if jobs.is_empty() => {
                if let Err(err) = enqueue(shared, summary.id, None).await {
                    tracing::warn!(torrent = %summary.id, error = %err, "could not queue FsOps");
                }
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not read FsOps jobs"),
        }
    }
}

/// Follows the bus in order: each event to the catalogue, then a job for
/// each completion.
async fn follow(
    shared: Arc<Shared>,
    mut events: broadcast::Receiver<BusEvent>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let event = tokio::select! {
            _ = stop.changed() => return,
            event = events.recv() => event,
        };
        match event {
            Ok(event) => on_event(&shared, &event).await,
            // Missed events: skip the backlog (reconciling reads the state
            // as it is now) and catch up from the engine's list, once.
            Err(broadcast::error::RecvError::Lagged(_)) => {
                events = events.resubscribe();
                reconcile(&shared).await;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// One bus event: to the catalogue, then a job if it is a completion; the
/// engine's events lost before the bus: catch up from its list.
async fn on_event(shared: &Shared, event: &BusEvent) {
    if let Err(err) = shared.catalogue.apply(event).await {
        tracing::warn!(id = event.id, error = %err, "could not record an event in the catalogue");
    }
    match &event.event {
        Event::Completed(done) => {
            if let Err(err) = enqueue(shared, done.torrent, None).await {
                let torrent = done.torrent;
                tracing::warn!(%torrent, error = %err, "could not queue FsOps for a completed torrent");
            }
        }
        Event::EventsDropped(lost) if lost.source == EventSource::Engine => reconcile(shared).await,
        _ => {}
    }
}

/// A claim's owner: the instance and a token of this claim, so that only
/// this run (not another worker of the same daemon) holds the job.
fn claim_owner(instance: &str) -> String {
    static CLAIMS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seq = CLAIMS.fetch_add(1, Ordering::Relaxed);
    format!("{instance}#{}-{nanos:x}-{seq}", std::process::id())
}

async fn work(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let owner = claim_owner(&shared.config.instance);
        let claim =
            shared.store.claim_fs_job_held_by(&owner, &shared.config.instance, shared.config.lease);
        let pause = match claim.await {
            Ok(Some(claimed)) => {
                let id = claimed.id;
                // Its own task: a panic in a job does not take the worker.
                let run = tokio::spawn(job::run(Arc::clone(&shared), claimed, stop.clone()));
                if let Err(err) = run.await {
                    tracing::error!(job = id, error = %err, "an FsOps job panicked");
                }
                publish_queue_depth(&shared).await;
                continue;
            }
            Ok(None) => shared.config.poll,
            Err(err) => {
                tracing::warn!(error = %err, "could not claim an FsOps job");
                shared.config.poll
            }
        };
        tokio::select! {
            changed = stop.changed() => {
                // The orchestrator was dropped without a shutdown.
                if changed.is_err() {
                    return;
                }
            }
            () = shared.wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}
