//! Revaer's FsOps: a finished download becomes a tidy library entry.
//!
//! A [`Pipeline`] runs a job through seven steps ([`meta::Step`]): validate
//! (allow-list, plan, destination), extract (zip, 7z, tar, RAR sets),
//! flatten, transfer (move, hard link, copy or reflink, with a copy
//! fallback across filesystems), permissions, cleanup and checksum. Each
//! attempt of each step is journalled before and after it runs, through the
//! caller's `persist` hook (the daemon's `fs_jobs` row) and as
//! `.revaer.meta` in the destination, and every step is idempotent: a rerun
//! after a crash anywhere finishes the job with the result an uninterrupted
//! run would have had. See `JOURNAL.md` for the invariants.
//!
//! The library is synchronous: the daemon runs jobs on blocking threads, so
//! a long copy never holds up the async runtime.
//!
//! # Layout
//! - [`config`]: the policy, limits and the torrent a job is for.
//! - [`plan`]: the validate step (allow-list, layout, destination).
//! - [`template`], [`rules`]: library templates and cleanup patterns.
//! - [`meta`]: the journal and `.revaer.meta`.
//! - `step/`: one module per step; [`pipeline`] drives them.
//! - [`tools`]: external programs (RAR) and the health they imply.
//!
//! # Quick start
//! ```no_run
//! use revaer_fsops::{FsopsConfig, Hooks, JobSpec, Pipeline, Toolbox};
//! # fn spec() -> JobSpec {
//! #     JobSpec {
//! #         torrent: revaer_domain::InfoHash::from_bytes([1; 20]),
//! #         name: "Show".into(),
//! #         save_path: "/srv/revaer/downloads".into(),
//! #         files: vec!["Show/e01.mkv".into()],
//! #         category: Some("tv".into()),
//! #         tags: Vec::new(),
//! #         seeding: true,
//! #     }
//! # }
//! let config = FsopsConfig::new("/srv/revaer", vec!["/srv/revaer/downloads".into()]);
//! let pipeline = Pipeline::new(config, Toolbox::search(std::env::var_os("PATH").as_deref()));
//! let report = pipeline.run(
//!     1,
//!     &spec(),
//!     None,
//!     Hooks { persist: &mut |_meta| Ok(()), mover: None, on_step: &mut |_step| {}, cancel: None },
//! );
//! println!("{:?} → {:?}", report.result, report.destination());
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
pub mod error;
mod fsutil;
pub mod meta;
pub mod pipeline;
pub mod plan;
pub mod rules;
mod step;
pub mod template;
pub mod tools;

pub use config::{ExtractLimits, FsopsConfig, JobSpec};
pub use error::{FsopsError, Result};
pub use meta::{META_FILE, Meta, Step, StepOutcome};
pub use pipeline::{Hooks, JobReport, Pipeline, StepReport};
pub use step::EngineMover;
pub use tools::Toolbox;

/// The in-progress name a copy to `dest` is written under (a hidden,
/// fixed-length `.revaer-part-…` sibling) before it is renamed into place.
pub fn part_file_for(dest: &std::path::Path) -> std::path::PathBuf {
    fsutil::part_path(dest)
}
