//! The pipeline: runs a job's steps in order from where its journal says it
//! stopped, recording each attempt before and after it runs.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use chrono::Utc;
use revaer_telemetry::names;

use crate::config::{FsopsConfig, JobSpec};
use crate::error::{FsopsError, Result};
use crate::meta::{Meta, Step, StepOutcome, StepRecord};
use crate::step::{self, Cancel, Ctx, EngineMover, Outcome};
use crate::tools::Toolbox;

/// One finished step attempt, as the caller hears of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// The step.
    pub step: Step,
    /// How it ended.
    pub outcome: StepOutcome,
    /// What it did, or why it failed.
    pub detail: Option<String>,
    /// How long it took.
    pub duration: Duration,
    /// Bytes it wrote.
    pub bytes: u64,
}

/// What the pipeline calls back into.
pub struct Hooks<'a, 'm> {
    /// Saves the journal durably (the `fs_jobs` row). Called before and
    /// after every step; an error stops the job so that it never gets ahead
    /// of its record.
    pub persist: &'a mut dyn FnMut(&Meta) -> std::result::Result<(), String>,
    /// Moves a seeding torrent's storage (a `move` while the engine has it).
    pub mover: Option<&'a mut EngineMover<'m>>,
    /// Hears of every finished step attempt.
    pub on_step: &'a mut dyn FnMut(&StepReport),
    /// Set to stop the job at the next safe point (between steps, between
    /// files, every MiB of a copy); it resumes from its journal.
    pub cancel: Option<&'a AtomicBool>,
}

impl std::fmt::Debug for Hooks<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").field("mover", &self.mover.is_some()).finish_non_exhaustive()
    }
}

/// How a run ended: the journal as it stands, and the error if a step failed.
#[derive(Debug)]
pub struct JobReport {
    /// The journal.
    pub meta: Meta,
    /// `Err` when a step failed (the journal records which).
    pub result: Result<()>,
}

impl JobReport {
    /// Where the entry was delivered, once planned.
    pub fn destination(&self) -> Option<PathBuf> {
        self.meta.plan.as_ref().map(|plan| plan.destination.clone())
    }
}

/// The FsOps pipeline for one configuration.
#[derive(Debug, Clone)]
pub struct Pipeline {
    config: FsopsConfig,
    tools: Toolbox,
}

impl Pipeline {
    /// A pipeline with this configuration and these tools.
    pub const fn new(config: FsopsConfig, tools: Toolbox) -> Self {
        Self { config, tools }
    }

    /// Its configuration.
    pub const fn config(&self) -> &FsopsConfig {
        &self.config
    }

    /// Its tools.
    pub const fn tools(&self) -> &Toolbox {
        &self.tools
    }

    /// Runs job `job` for `spec`, resuming from `previous` (the journal the
    /// job's row holds, if any). Blocking: call it off the async runtime.
    /// A finished journal makes this a no-op.
    pub fn run(
        &self,
        job: i64,
        spec: &JobSpec,
        previous: Option<Meta>,
        hooks: Hooks<'_, '_>,
    ) -> JobReport {
        let mut meta = previous
            .filter(|meta| meta.job == job && meta.torrent == spec.torrent)
            .unwrap_or_else(|| Meta::new(job, spec.torrent, &spec.name));
        if meta.next_step().is_some()
            && let Some(plan) = meta.plan.as_mut()
        {
            crate::plan::refresh(plan, &self.config, spec);
        }
        let result = self.run_steps(spec, &mut meta, hooks);
        if let Err(err) = &result
            && !err.is_retryable()
            && !meta.finished(Step::Transfer)
        {
            // Failed for good before anything was delivered: no empty
            // folder stays in the library.
            crate::plan::release(&meta);
        }
        JobReport { meta, result }
    }

    fn run_steps(&self, spec: &JobSpec, meta: &mut Meta, mut hooks: Hooks<'_, '_>) -> Result<()> {
        while let Some(step) = meta.next_step() {
            Cancel(hooks.cancel).check()?;
            meta.steps.push(StepRecord {
                step,
                outcome: StepOutcome::Started,
                started_at: Utc::now(),
                finished_at: None,
                detail: None,
            });
            save(meta, &mut hooks)?;
            let clock = Instant::now();
            let before = meta.items.clone();
            let mut ctx = Ctx {
                config: &self.config,
                spec,
                tools: &self.tools,
                meta,
                mover: hooks.mover.as_deref_mut(),
                cancel: Cancel(hooks.cancel),
                bytes: 0,
            };
            let result = step::apply(step, &mut ctx);
            let bytes = ctx.bytes;
            let (outcome, detail, error) = match result {
                Ok(Outcome::Done(detail)) => (StepOutcome::Done, detail, None),
                Ok(Outcome::Skipped(detail)) => (StepOutcome::Skipped, detail, None),
                Err(err) => {
                    meta.items = before;
                    (StepOutcome::Failed, err.to_string(), Some(err))
                }
            };
            if let Some(record) = meta.steps.last_mut() {
                record.outcome = outcome;
                record.finished_at = Some(Utc::now());
                record.detail = Some(detail.clone());
            }
            if error.is_none() && meta.next_step().is_none() {
                meta.completed_at = Some(Utc::now());
            }
            let report = StepReport {
                step,
                outcome,
                detail: Some(detail),
                duration: clock.elapsed(),
                bytes,
            };
            if matches!(error, Some(FsopsError::DestinationTaken { .. })) && step == Step::Transfer
            {
                // Released after a failure and taken by another torrent
                // since: plan again (another name) on the next attempt.
                meta.restart();
            }
            save(meta, &mut hooks)?;
            record_metrics(&report);
            (hooks.on_step)(&report);
            if let Some(err) = error {
                return Err(err);
            }
        }
        Ok(())
    }
}

/// The caller's record first, then the copy in the destination (once the
/// destination exists).
fn save(meta: &Meta, hooks: &mut Hooks<'_, '_>) -> Result<()> {
    (hooks.persist)(meta).map_err(|detail| FsopsError::Persist { detail })?;
    if let Some(plan) = &meta.plan
        && plan.destination.is_dir()
    {
        meta.write_owned(&plan.destination)?;
    }
    Ok(())
}

fn record_metrics(report: &StepReport) {
    let outcome = report.outcome.as_str();
    let step = report.step.as_str();
    metrics::counter!(names::FSOPS_STEPS_TOTAL, names::LABEL_STEP => step, names::LABEL_OUTCOME => outcome)
        .increment(1);
    metrics::histogram!(names::FSOPS_STEP_SECONDS, names::LABEL_STEP => step)
        .record(report.duration.as_secs_f64());
    if report.bytes > 0 {
        metrics::counter!(names::FSOPS_BYTES_TOTAL, names::LABEL_STEP => step)
            .increment(report.bytes);
    }
}
