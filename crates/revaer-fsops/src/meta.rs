//! The job journal: the plan, the deliverables and a record per step, kept
//! in the `fs_jobs` row and as `.revaer.meta` in the destination folder.
//!
//! See `JOURNAL.md` for the invariants that make a job resumable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use revaer_domain::InfoHash;
use revaer_domain::settings::TransferMode;
use serde::{Deserialize, Serialize};

pub use revaer_domain::fsops::{Step, StepOutcome, StepRecord};

use crate::error::{FsopsError, Result};
use crate::fsutil;

/// The journal's file name inside the destination folder.
pub const META_FILE: &str = ".revaer.meta";
/// The journal format version.
pub const META_VERSION: u32 = 1;
/// Journals larger than this are refused when read back.
const MAX_META_BYTES: u64 = 64 * 1024 * 1024;

/// What the validate step fixed for the rest of the job. Never recomputed
/// on resume, so that a settings change mid-job cannot split a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools, reason = "independent pipeline switches")]
pub struct Plan {
    /// The folder that the deliverables' relative paths start from.
    pub source_root: PathBuf,
    /// The library folder the entry lands in.
    pub destination: PathBuf,
    /// Where the engine moves a seeding torrent (its new save path) so that
    /// its files land in the destination; set with `engine_move`.
    pub engine_save_path: Option<PathBuf>,
    /// Scratch space for extraction, on the library's filesystem.
    pub work_dir: PathBuf,
    /// How files get there.
    pub mode: TransferMode,
    /// The engine moves the payload (a `move` of a torrent that seeds on).
    pub engine_move: bool,
    /// Extract archives.
    pub extract: bool,
    /// Collapse a single top-level folder.
    pub flatten: bool,
    /// Record checksums.
    pub checksum: bool,
    /// Always copy instead of linking or renaming (cross-filesystem path).
    pub force_copy: bool,
    /// Mode for files (`None`: leave).
    pub file_mode: Option<u32>,
    /// Mode for folders (`None`: leave).
    pub dir_mode: Option<u32>,
    /// Owner, by name or id.
    pub owner: Option<String>,
    /// Group, by name or id.
    pub group: Option<String>,
    /// Drop patterns.
    pub drop: Vec<String>,
    /// Keep patterns.
    pub keep: Vec<String>,
}

/// Where a deliverable came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A file of the torrent.
    Payload,
    /// A file extracted from an archive of the torrent.
    Extracted,
}

/// One file to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Where it is now.
    pub src: PathBuf,
    /// Where it goes, relative to the destination (`/`-separated).
    pub rel: String,
    /// Its size.
    pub size: u64,
    /// Where it came from.
    pub origin: Origin,
    /// Not delivered: an archive volume that was extracted, or dropped by
    /// the cleanup rules.
    #[serde(default)]
    pub skip: bool,
}

/// The whole journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Format version.
    pub version: u32,
    /// The job this journal belongs to (the `fs_jobs` id): a later job for
    /// the same torrent starts a journal of its own.
    pub job: i64,
    /// The torrent.
    pub torrent: InfoHash,
    /// Its name.
    pub name: String,
    /// The plan, once validated.
    pub plan: Option<Plan>,
    /// The deliverables, once known.
    pub items: Vec<Item>,
    /// SHA-256 of each delivered file, by relative path.
    pub checksums: BTreeMap<String, String>,
    /// Every step attempt, in order.
    pub steps: Vec<StepRecord>,
    /// Step attempts of an earlier plan that was given up (its destination
    /// was taken while the job waited), kept for the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<StepRecord>,
    /// Set when the last step ended.
    pub completed_at: Option<DateTime<Utc>>,
}

impl Meta {
    /// An empty journal for a torrent.
    pub fn new(job: i64, torrent: InfoHash, name: &str) -> Self {
        Self {
            version: META_VERSION,
            job,
            torrent,
            name: name.to_owned(),
            plan: None,
            items: Vec::new(),
            checksums: BTreeMap::new(),
            steps: Vec::new(),
            superseded: Vec::new(),
            completed_at: None,
        }
    }

    /// The latest record of `step`, if it ever ran.
    pub fn last(&self, step: Step) -> Option<&StepRecord> {
        self.steps.iter().rev().find(|record| record.step == step)
    }

    /// Whether `step` has ended well (done or skipped) in its latest attempt.
    pub fn finished(&self, step: Step) -> bool {
        self.last(step)
            .is_some_and(|r| matches!(r.outcome, StepOutcome::Done | StepOutcome::Skipped))
    }

    /// The first step still to run, `None` when the job is complete.
    pub fn next_step(&self) -> Option<Step> {
        Step::ALL.into_iter().find(|step| !self.finished(*step))
    }

    /// Gives up the plan: the next run validates again from scratch.
    pub fn restart(&mut self) {
        let steps = std::mem::take(&mut self.steps);
        self.superseded.extend(steps);
        self.plan = None;
        self.items.clear();
        self.checksums.clear();
        self.completed_at = None;
    }

    /// The journal as JSON (for the `fs_jobs` row).
    pub fn to_value(&self) -> Result<serde_json::Value> {
        serde_json::to_value(self).map_err(|err| FsopsError::Journal {
            path: PathBuf::from(META_FILE),
            detail: err.to_string(),
        })
    }

    /// A journal from JSON (the `fs_jobs` row); `None` for anything else,
    /// such as the empty list a new row holds.
    pub fn from_value(value: &serde_json::Value) -> Option<Self> {
        serde_json::from_value::<Self>(value.clone())
            .ok()
            .filter(|meta| meta.version == META_VERSION)
    }

    /// Reads `.revaer.meta` from a destination folder (`None` if absent).
    pub fn read_from(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(META_FILE);
        let bytes = match fsutil::read_bounded(&path, MAX_META_BYTES) {
            Ok(bytes) => bytes,
            Err(FsopsError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(None);
            }
            Err(err) => return Err(err),
        };
        let meta: Self = serde_json::from_slice(&bytes)
            .map_err(|err| FsopsError::Journal { path: path.clone(), detail: err.to_string() })?;
        if meta.version != META_VERSION {
            return Err(FsopsError::Journal { path, detail: format!("version {}", meta.version) });
        }
        Ok(Some(meta))
    }

    /// Writes `.revaer.meta` into `dir` atomically.
    pub fn write_to(&self, dir: &Path) -> Result<()> {
        let path = dir.join(META_FILE);
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|err| FsopsError::Journal { path: path.clone(), detail: err.to_string() })?;
        fsutil::write_atomic(&path, &bytes)
    }

    /// Writes `.revaer.meta` into `dir`, unless the folder holds another
    /// torrent's journal (then it is not ours to write into).
    pub fn write_owned(&self, dir: &Path) -> Result<()> {
        match Self::read_from(dir) {
            Ok(Some(existing)) if existing.torrent != self.torrent => Err(FsopsError::Journal {
                path: dir.join(META_FILE),
                detail: format!("the folder belongs to torrent {}", existing.torrent.to_hex()),
            }),
            _ => self.write_to(dir),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_step_follows_the_latest_record() {
        let id = InfoHash::parse("0123456789abcdef0123456789abcdef01234567").expect("valid");
        let mut meta = Meta::new(7, id, "x");
        assert_eq!(meta.next_step(), Some(Step::Validate));
        let record = |step, outcome| StepRecord {
            step,
            outcome,
            started_at: Utc::now(),
            finished_at: None,
            detail: None,
        };
        meta.steps.push(record(Step::Validate, StepOutcome::Done));
        meta.steps.push(record(Step::Extract, StepOutcome::Failed));
        assert_eq!(meta.next_step(), Some(Step::Extract));
        meta.steps.push(record(Step::Extract, StepOutcome::Skipped));
        meta.steps.push(record(Step::Flatten, StepOutcome::Started));
        assert_eq!(meta.next_step(), Some(Step::Flatten));
        let round = Meta::from_value(&meta.to_value().expect("json")).expect("round trip");
        assert_eq!(round, meta);
        assert!(Meta::from_value(&serde_json::json!([])).is_none());
    }
}
