//! One job, start to outcome: the pipeline on a blocking thread, the lease
//! renewed beside it (and the job stopped when the lease is lost or the
//! daemon shuts down), the outcome written back and announced.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use revaer_domain::{FsopsEvent, InfoHash, event};
use revaer_engine::EngineError;
use revaer_fsops::{FsopsError, Hooks, JobReport, Meta, StepReport};
use revaer_store::{FsJob, FsJobStatus, FsJobUpdate};
use revaer_telemetry::names;
use tokio::sync::watch;

use super::{Shared, job_spec};

/// The delay before retry number `attempt` (1 = the first retry).
pub(super) fn backoff(base: Duration, cap: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
    base.saturating_mul(factor).min(cap)
}

/// How a run ended.
enum Outcome {
    /// Delivered to this destination.
    Done(String),
    /// Failed; whether trying again can help.
    Failed { error: String, retryable: bool },
    /// Stopped (shutdown, lease lost): neither success nor an attempt.
    Stopped,
}

pub(super) async fn run(shared: Arc<Shared>, job: FsJob, stop: watch::Receiver<bool>) {
    let torrent = job.info_hash;
    let _ = shared.events.send(FsopsEvent::Started(event::FsopsStarted {
        torrent,
        job: job.id,
        attempt: job.attempts,
        trace_id: job.trace_id.clone(),
    }));
    let (outcome, meta) = match job_spec(&shared.engine, torrent).await {
        Ok(spec) => run_pipeline(&shared, &job, spec, stop).await,
        Err(err) => {
            // A torrent the engine no longer has will not come back; other
            // engine errors may pass.
            let retryable = !matches!(err, EngineError::NotFound { .. });
            let error = format!("the engine could not describe the torrent: {err}");
            (Outcome::Failed { error, retryable }, None)
        }
    };
    let failed_for_good = finish(&shared, &job, outcome).await;
    if failed_for_good {
        // No empty folder or scratch space stays behind for a job that
        // never delivered.
        if let Some(meta) = meta.or_else(|| Meta::from_value(&job.journal)) {
            let _ = tokio::task::spawn_blocking(move || revaer_fsops::plan::release(&meta)).await;
        }
    }
}

async fn run_pipeline(
    shared: &Arc<Shared>,
    job: &FsJob,
    spec: revaer_fsops::JobSpec,
    stop: watch::Receiver<bool>,
) -> (Outcome, Option<Meta>) {
    let pipeline = shared.pipeline();
    let previous = Meta::from_value(&job.journal);
    let owner = job.owner.clone().unwrap_or_default();
    let cancel = Arc::new(AtomicBool::new(false));
    let guard = tokio::spawn(guard_lease(
        Arc::clone(shared),
        job.id,
        owner.clone(),
        Arc::clone(&cancel),
        stop,
    ));
    let runtime = tokio::runtime::Handle::current();
    let worker = Arc::clone(shared);
    let (id, trace_id) = (job.id, job.trace_id.clone());
    let flag = Arc::clone(&cancel);
    let report = tokio::task::spawn_blocking(move || {
        let mut persist = |meta: &Meta| {
            let update = FsJobUpdate {
                journal: Some(meta.to_value().map_err(|e| e.to_string())?),
                destination: meta
                    .plan
                    .as_ref()
                    .map(|p| p.destination.to_string_lossy().into_owned()),
                ..FsJobUpdate::default()
            };
            runtime
                .block_on(worker.store.update_fs_job(id, &owner, &update))
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let mut mover = |to: &Path| move_seeding(&runtime, &worker, spec.torrent, to);
        let mut on_step = |step: &StepReport| {
            let _ = worker.events.send(step_event(spec.torrent, id, trace_id.clone(), step));
        };
        let hooks = Hooks {
            persist: &mut persist,
            mover: Some(&mut mover),
            on_step: &mut on_step,
            cancel: Some(&flag),
        };
        pipeline.run(id, &spec, previous, hooks)
    })
    .await;
    guard.abort();
    let stopped = cancel.load(Ordering::Relaxed);
    match report {
        Ok(JobReport { result: Ok(()), meta }) => {
            let destination =
                meta.plan.as_ref().map(|p| p.destination.to_string_lossy().into_owned());
            (Outcome::Done(destination.unwrap_or_default()), Some(meta))
        }
        Ok(JobReport { result: Err(FsopsError::Cancelled | FsopsError::Persist { .. }), meta })
            if stopped =>
        {
            (Outcome::Stopped, Some(meta))
        }
        Ok(JobReport { result: Err(err), meta }) => {
            (Outcome::Failed { error: err.to_string(), retryable: err.is_retryable() }, Some(meta))
        }
        Err(join) => (
            Outcome::Failed { error: format!("the FsOps worker stopped: {join}"), retryable: true },
            None,
        ),
    }
}

/// The engine moves a seeding torrent, unless it is already there (libtorrent
/// refuses to move a torrent onto its own files).
fn move_seeding(
    runtime: &tokio::runtime::Handle,
    shared: &Shared,
    torrent: InfoHash,
    to: &Path,
) -> Result<(), String> {
    if shared.engine.summary(torrent).is_some_and(|s| s.save_path == to) {
        return Ok(());
    }
    runtime.block_on(shared.engine.move_storage(torrent, to.to_owned())).map_err(|e| e.to_string())
}

fn step_event(
    torrent: InfoHash,
    job: i64,
    trace_id: Option<String>,
    step: &StepReport,
) -> FsopsEvent {
    FsopsEvent::Step(event::FsopsStep {
        torrent,
        job,
        step: step.step,
        outcome: step.outcome,
        detail: step.detail.clone(),
        duration_ms: u64::try_from(step.duration.as_millis()).unwrap_or(u64::MAX),
        trace_id,
    })
}

/// Renews the lease every third of it. Stops the job (`cancel`) when the
/// daemon shuts down, when another runner took the job, or when no renewal
/// has succeeded for a whole lease (it may have been taken over).
async fn guard_lease(
    shared: Arc<Shared>,
    id: i64,
    owner: String,
    cancel: Arc<AtomicBool>,
    mut stop: watch::Receiver<bool>,
) {
    let lease = shared.config.lease;
    let every = (lease / 3).max(Duration::from_millis(100));
    let mut renewed = Instant::now();
    loop {
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    cancel.store(true, Ordering::Relaxed);
                    return;
                }
            }
            () = tokio::time::sleep(every) => {
                match shared.store.renew_fs_job_lease(id, &owner, lease).await {
                    Ok(()) => renewed = Instant::now(),
                    Err(revaer_store::StoreError::NotOwner { .. }) => {
                        tracing::warn!(job = id, "FsOps lease taken over; stopping this run");
                        cancel.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(err) => {
                        tracing::warn!(job = id, error = %err, "could not renew an FsOps lease");
                        if renewed.elapsed() >= lease {
                            cancel.store(true, Ordering::Relaxed);
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// Records the outcome; `true` when the job failed for good.
async fn finish(shared: &Shared, job: &FsJob, outcome: Outcome) -> bool {
    let torrent = job.info_hash;
    let owner = job.owner.clone().unwrap_or_default();
    let attempts = job.attempts;
    let (update, event, label) = match outcome {
        Outcome::Stopped => {
            // Back in the queue, the interrupted attempt not counted; its
            // journal resumes it.
            let update = FsJobUpdate {
                status: Some(FsJobStatus::Pending),
                attempts: Some(attempts.saturating_sub(1)),
                next_attempt_at: Some(None),
                ..FsJobUpdate::default()
            };
            if let Err(err) = shared.store.update_fs_job(job.id, &owner, &update).await {
                tracing::debug!(job = job.id, error = %err, "a stopped FsOps job was already taken over");
            }
            return false;
        }
        Outcome::Done(destination) => (
            FsJobUpdate {
                status: Some(FsJobStatus::Done),
                last_error: Some(None),
                next_attempt_at: Some(None),
                destination: Some(destination.clone()),
                ..FsJobUpdate::default()
            },
            FsopsEvent::Completed(event::FsopsCompleted {
                torrent,
                job: job.id,
                destination: destination.into(),
                trace_id: job.trace_id.clone(),
            }),
            "done",
        ),
        Outcome::Failed { error, retryable } => {
            let retry_at = (retryable && attempts < shared.config.max_attempts).then(|| {
                let delay = backoff(shared.config.retry_base, shared.config.retry_cap, attempts);
                chrono::Duration::from_std(delay)
                    .ok()
                    .and_then(|delay| Utc::now().checked_add_signed(delay))
                    .unwrap_or_else(Utc::now)
            });
            tracing::warn!(%torrent, job = job.id, attempts, %error, retry = retry_at.is_some(), "FsOps job failed");
            (
                FsJobUpdate {
                    status: Some(if retry_at.is_some() {
                        FsJobStatus::Pending
                    } else {
                        FsJobStatus::Failed
                    }),
                    last_error: Some(Some(error.clone())),
                    next_attempt_at: Some(retry_at),
                    ..FsJobUpdate::default()
                },
                FsopsEvent::Failed(event::FsopsFailed {
                    torrent,
                    job: job.id,
                    error,
                    retry_at,
                    trace_id: job.trace_id.clone(),
                }),
                if retry_at.is_some() { "retry" } else { "failed" },
            )
        }
    };
    if let Err(err) = shared.store.update_fs_job(job.id, &owner, &update).await {
        // The lease lapsed and another runner took the job: it carries on.
        tracing::warn!(job = job.id, error = %err, "could not record an FsOps outcome");
        return false;
    }
    metrics::counter!(names::FSOPS_JOBS_TOTAL, names::LABEL_OUTCOME => label).increment(1);
    let _ = shared.events.send(event);
    label == "failed"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_the_cap() {
        let (base, cap) = (Duration::from_secs(30), Duration::from_mins(5));
        let delays: Vec<u64> = (1..=6).map(|n| backoff(base, cap, n).as_secs()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 300, 300]);
        assert_eq!(backoff(base, cap, u32::MAX), cap);
    }
}
