//! The steps. Each takes the job's context, does its work idempotently (a
//! rerun after a crash at any point reaches the same result) and says what
//! it did.

pub(crate) mod checksum;
pub(crate) mod cleanup;
pub(crate) mod extract;
pub(crate) mod flatten;
pub(crate) mod permissions;
pub(crate) mod transfer;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::{FsopsConfig, JobSpec};
use crate::error::{FsopsError, Result};
use crate::meta::{Meta, Plan, Step};
use crate::tools::Toolbox;

/// Moves a seeding torrent's storage through the engine (the new save
/// path); answers when the move is done.
pub type EngineMover<'a> = dyn FnMut(&Path) -> std::result::Result<(), String> + 'a;

/// A stop request the long loops (copies, extraction) look at.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cancel<'a>(pub Option<&'a AtomicBool>);

impl Cancel<'_> {
    /// `Err(Cancelled)` once a stop was asked for.
    pub fn check(self) -> Result<()> {
        match self.0 {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(FsopsError::Cancelled),
            _ => Ok(()),
        }
    }
}

/// What a step works with.
pub(crate) struct Ctx<'a, 'm> {
    pub config: &'a FsopsConfig,
    pub spec: &'a JobSpec,
    pub tools: &'a Toolbox,
    pub meta: &'a mut Meta,
    pub mover: Option<&'a mut EngineMover<'m>>,
    /// Stop requests.
    pub cancel: Cancel<'a>,
    /// Bytes this step wrote (for the metrics).
    pub bytes: u64,
}

impl Ctx<'_, '_> {
    /// The plan (every step after validate has one).
    pub fn plan(&self) -> Result<Plan> {
        self.meta.plan.clone().ok_or_else(|| FsopsError::Journal {
            path: self.spec.save_path.clone(),
            detail: "no plan recorded before this step".to_owned(),
        })
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// It did something; what.
    Done(String),
    /// Nothing to do; why.
    Skipped(String),
}

/// Runs one step.
pub(crate) fn apply(step: Step, ctx: &mut Ctx<'_, '_>) -> Result<Outcome> {
    match step {
        Step::Validate => {
            let (plan, items) = crate::plan::validate(ctx.config, ctx.spec, ctx.meta.job)?;
            let detail = format!("{} files to {}", items.len(), plan.destination.display());
            ctx.meta.plan = Some(plan);
            ctx.meta.items = items;
            Ok(Outcome::Done(detail))
        }
        Step::Extract => extract::apply(ctx),
        Step::Flatten => flatten::apply(ctx),
        Step::Transfer => transfer::apply(ctx),
        Step::Permissions => permissions::apply(ctx),
        Step::Cleanup => cleanup::apply(ctx),
        Step::Checksum => checksum::apply(ctx),
    }
}
