//! The settings watcher: every new revision, with its snapshot, to every
//! subscriber in the process, in order.
//!
//! Three sources feed one [`Watcher`], which delivers a revision only if it
//! is newer than the last one delivered (so order holds and nothing is sent
//! twice):
//! - a change committed by this process is delivered right after commit;
//! - on PostgreSQL, a `LISTEN revaer_settings_changed` connection hears
//!   changes committed by other instances (`postgres/`), reconnecting with
//!   back-off when it drops;
//! - on both backends, a cheap revision poll every `poll_interval` catches
//!   other writers of a SQLite file and anything a dropped PostgreSQL
//!   connection missed. Revisions committed elsewhere between two polls
//!   arrive as one update with the newest snapshot.

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use revaer_domain::ComponentHealth;
use revaer_domain::settings::SettingsSnapshot;
use tokio::sync::broadcast;

use crate::error::{Result, db};
use crate::{Inner, Store, now_ms};

/// One delivered revision.
#[derive(Debug, Clone)]
pub struct SettingsUpdate {
    /// The revision.
    pub revision: i64,
    /// The settings at that revision.
    pub snapshot: Arc<SettingsSnapshot>,
    /// From commit to delivery.
    pub latency: Duration,
}

/// What `/health/full` shows of the watcher.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatcherStatus {
    /// `ok`, or `degraded` with the reason (e.g. the listener is down).
    pub health: ComponentHealth,
    /// The last revision delivered.
    pub last_revision: i64,
    /// Commit-to-delivery latency of the last delivery.
    pub last_latency: Option<Duration>,
    /// Revisions delivered since start.
    pub deliveries: u64,
    /// Failures (lost listener connections, failed polls) since start.
    pub failures: u64,
}

/// Where a watcher failure comes from; each clears on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    Poll,
    Listener,
}

#[derive(Debug)]
pub(crate) struct Watcher {
    sender: broadcast::Sender<SettingsUpdate>,
    status: Mutex<WatcherStatus>,
    faults: Mutex<std::collections::BTreeMap<Source, String>>,
}

impl Default for Watcher {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(64).0,
            status: Mutex::new(WatcherStatus::default()),
            faults: Mutex::new(std::collections::BTreeMap::new()),
        }
    }
}

impl Watcher {
    fn status(&self) -> std::sync::MutexGuard<'_, WatcherStatus> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn last_revision(&self) -> i64 {
        self.status().last_revision
    }

    /// Starts counting from `revision` (the one current at connect time).
    pub(crate) fn start_at(&self, revision: i64) {
        self.status().last_revision = revision;
    }

    /// Delivers a snapshot committed at `committed_at_ms` if it is newer
    /// than the last one delivered.
    pub(crate) fn deliver(&self, snapshot: SettingsSnapshot, committed_at_ms: i64) {
        let mut status = self.status();
        if snapshot.revision <= status.last_revision {
            return;
        }
        let latency = Duration::from_millis(u64::try_from(now_ms() - committed_at_ms).unwrap_or(0));
        status.last_revision = snapshot.revision;
        status.last_latency = Some(latency);
        status.deliveries += 1;
        let update =
            SettingsUpdate { revision: snapshot.revision, snapshot: Arc::new(snapshot), latency };
        tracing::debug!(
            revision = update.revision,
            latency_ms = latency.as_millis(),
            "settings delivered"
        );
        // Sent under the lock, so subscribers see revisions in order. An
        // error only means nobody is subscribed.
        let _ = self.sender.send(update);
    }

    /// Records a failure of `source` and degrades health.
    pub(crate) fn fail(&self, source: Source, reason: String) {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        if faults.get(&source) != Some(&reason) {
            tracing::warn!(%reason, "settings watcher degraded");
        }
        faults.insert(source, reason);
        let mut status = self.status();
        status.failures += 1;
        status.health =
            ComponentHealth::degraded(faults.values().cloned().collect::<Vec<_>>().join("; "));
    }

    /// Clears `source`'s failure; health is ok once no source is failing.
    pub(crate) fn recover(&self, source: Source) {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        if faults.remove(&source).is_none() {
            return;
        }
        tracing::info!(?source, "settings watcher source recovered");
        self.status().health = if faults.is_empty() {
            ComponentHealth::ok()
        } else {
            ComponentHealth::degraded(faults.values().cloned().collect::<Vec<_>>().join("; "))
        };
    }
}

impl Store {
    /// Every revision committed from now on, with its snapshot, in order.
    /// A subscriber more than 64 revisions behind gets `Lagged` and should
    /// read [`Store::settings`] to catch up.
    pub fn subscribe(&self) -> broadcast::Receiver<SettingsUpdate> {
        self.inner.watcher.sender.subscribe()
    }

    /// The watcher's health and counters.
    pub fn watcher_status(&self) -> WatcherStatus {
        self.inner.watcher.status().clone()
    }

    pub(crate) fn watcher(&self) -> &Watcher {
        &self.inner.watcher
    }

    pub(crate) fn weak(&self) -> Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    pub(crate) fn upgrade(weak: &Weak<Inner>) -> Option<Self> {
        weak.upgrade().map(|inner| Self { inner })
    }

    /// Delivers the current revision if it is new (the poll).
    pub(crate) async fn poll_revision(&self) -> Result<()> {
        let (revision, committed_at): (i64, i64) =
            sqlx::query_as("SELECT revision, committed_at FROM settings_meta WHERE id = 1")
                .fetch_one(self.pool())
                .await
                .map_err(db("poll the settings revision"))?;
        if revision > self.watcher().last_revision() {
            let snapshot = self.settings().await?;
            self.watcher().deliver(snapshot, committed_at);
        }
        Ok(())
    }

    /// Starts the watcher's tasks and the API-key use flusher.
    pub(crate) async fn start_tasks(&self) -> Result<()> {
        let current = self.settings().await?.revision;
        self.watcher().start_at(current);
        let mut tasks = vec![tokio::spawn(poll_loop(self.weak(), self.inner.config.poll_interval))];
        tasks.push(tokio::spawn(crate::api_keys::flush_loop(
            self.weak(),
            self.inner.config.key_use_flush_interval,
        )));
        if self.backend() == crate::Backend::Postgres {
            tasks.push(tokio::spawn(crate::postgres::listen_loop(
                self.weak(),
                self.inner.config.url.clone(),
            )));
        }
        self.inner.tasks.lock().unwrap_or_else(PoisonError::into_inner).extend(tasks);
        Ok(())
    }
}

async fn poll_loop(weak: Weak<Inner>, every: Duration) {
    let mut ticker = tokio::time::interval(every.max(Duration::from_millis(50)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(store) = Store::upgrade(&weak) else { return };
        match store.poll_revision().await {
            Ok(()) => store.watcher().recover(Source::Poll),
            Err(err) => store.watcher().fail(Source::Poll, format!("revision poll failed: {err}")),
        }
    }
}
