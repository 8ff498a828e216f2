//! One job, start to outcome: the pipeline on a blocking thread, the lease
//! renewed beside it, the outcome written back and announced.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use revaer_domain::FsopsEvent;
use revaer_fsops::{Hooks, JobReport, Meta, StepOutcome, StepReport};
use revaer_store::{FsJob, FsJobStatus, FsJobUpdate};
use revaer_telemetry::names;

use super::{Shared, job_spec};

/// The delay before retry number `attempt` (1 = the first retry).
pub(super) fn backoff(base: Duration, cap: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
    base.saturating_mul(factor).min(cap)
}

pub(super) async fn run(shared: &Arc<Shared>, job: FsJob) {
    let torrent = job.info_hash;
    let attempt = job.attempts + 1;
    let _ = shared.events.send(FsopsEvent::Started {
        torrent,
        job: job.id,
        attempt,
        trace_id: job.trace_id.clone(),
    });
    let (result, meta) = match job_spec(&shared.engine, torrent).await {
        Ok(spec) => run_pipeline(shared, &job, spec).await,
        Err(err) => (Err((format!("the engine does not have the torrent: {err}"), false)), None),
    };
    let failed_for_good = finish(shared, &job, result).await;
    if failed_for_good && let Some(meta) = meta {
        // No empty folder stays in the library for a job that never delivered.
        let _ = tokio::task::spawn_blocking(move || revaer_fsops::plan::release(&meta)).await;
    }
}

/// The pipeline's outcome: the destination, or the error and whether
/// retrying can help.
type Outcome = Result<String, (String, bool)>;

async fn run_pipeline(
    shared: &Arc<Shared>,
    job: &FsJob,
    spec: revaer_fsops::JobSpec,
) -> (Outcome, Option<Meta>) {
    let pipeline = shared.pipeline();
    let previous = Meta::from_value(&job.journal);
    let renewer = tokio::spawn(renew_lease(Arc::clone(shared), job.id));
    let runtime = tokio::runtime::Handle::current();
    let worker = Arc::clone(shared);
    let (id, trace_id) = (job.id, job.trace_id.clone());
    let report = tokio::task::spawn_blocking(move || {
        let owner = worker.config.instance.clone();
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
        let mut mover = |to: &Path| {
            runtime
                .block_on(worker.engine.move_storage(spec.torrent, to.to_owned()))
                .map_err(|e| e.to_string())
        };
        let mut on_step = |step: &StepReport| {
            let _ = worker.events.send(step_event(spec.torrent, id, trace_id.clone(), step));
        };
        let hooks = Hooks { persist: &mut persist, mover: Some(&mut mover), on_step: &mut on_step };
        pipeline.run(id, &spec, previous, hooks)
    })
    .await;
    renewer.abort();
    match report {
        Ok(JobReport { result: Ok(()), meta }) => {
            let destination =
                meta.plan.as_ref().map(|p| p.destination.to_string_lossy().into_owned());
            (Ok(destination.unwrap_or_default()), Some(meta))
        }
        Ok(JobReport { result: Err(err), meta }) => {
            (Err((err.to_string(), err.is_retryable())), Some(meta))
        }
        Err(join) => (Err((format!("the FsOps worker stopped: {join}"), true)), None),
    }
}

fn step_event(
    torrent: revaer_domain::InfoHash,
    job: i64,
    trace_id: Option<String>,
    step: &StepReport,
) -> FsopsEvent {
    let outcome = match step.outcome {
        StepOutcome::Done => "done",
        StepOutcome::Skipped => "skipped",
        StepOutcome::Failed => "failed",
        StepOutcome::Started => "started",
    };
    FsopsEvent::Step {
        torrent,
        job,
        step: step.step.as_str().to_owned(),
        outcome: outcome.to_owned(),
        detail: step.detail.clone(),
        duration_ms: u64::try_from(step.duration.as_millis()).unwrap_or(u64::MAX),
        trace_id,
    }
}

async fn renew_lease(shared: Arc<Shared>, id: i64) {
    let every = (shared.config.lease / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        if let Err(err) =
            shared.store.renew_fs_job_lease(id, &shared.config.instance, shared.config.lease).await
        {
            tracing::warn!(job = id, error = %err, "could not renew an FsOps lease");
        }
    }
}

/// Records the outcome; `true` when the job failed for good.
async fn finish(shared: &Shared, job: &FsJob, result: Outcome) -> bool {
    let torrent = job.info_hash;
    let attempts = job.attempts + 1;
    let (update, event, label) = match result {
        Ok(destination) => (
            FsJobUpdate {
                status: Some(FsJobStatus::Done),
                attempts: Some(attempts),
                last_error: Some(None),
                next_attempt_at: Some(None),
                destination: Some(destination.clone()),
                ..FsJobUpdate::default()
            },
            FsopsEvent::Completed {
                torrent,
                job: job.id,
                destination: destination.into(),
                trace_id: job.trace_id.clone(),
            },
            "done",
        ),
        Err((error, can_retry)) => {
            let retry_at = (can_retry && attempts < shared.config.max_attempts).then(|| {
                let delay = backoff(shared.config.retry_base, shared.config.retry_cap, attempts);
                Utc::now()
                    + chrono::Duration::from_std(delay)
                        .unwrap_or_else(|_| chrono::Duration::hours(1))
            });
            tracing::warn!(%torrent, job = job.id, attempts, %error, retry = retry_at.is_some(), "FsOps job failed");
            (
                FsJobUpdate {
                    status: Some(if retry_at.is_some() {
                        FsJobStatus::Pending
                    } else {
                        FsJobStatus::Failed
                    }),
                    attempts: Some(attempts),
                    last_error: Some(Some(error.clone())),
                    next_attempt_at: Some(retry_at),
                    ..FsJobUpdate::default()
                },
                FsopsEvent::Failed {
                    torrent,
                    job: job.id,
                    error,
                    retry_at,
                    trace_id: job.trace_id.clone(),
                },
                if retry_at.is_some() { "retry" } else { "failed" },
            )
        }
    };
    metrics::counter!(names::FSOPS_JOBS_TOTAL, names::LABEL_OUTCOME => label).increment(1);
    if let Err(err) = shared.store.update_fs_job(job.id, &shared.config.instance, &update).await {
        // The lease lapsed and another runner took the job: it carries on.
        tracing::warn!(job = job.id, error = %err, "could not record an FsOps outcome");
        return false;
    }
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
