//! Post-processing steps and how they end: the vocabulary FsOps' journal,
//! its events and the API's job status share.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Resolve and allow-list the source and destination; fix the plan.
    Validate,
    /// Extract archives into the work folder.
    Extract,
    /// Collapse a single top-level folder.
    Flatten,
    /// Move, link or copy into the destination.
    Transfer,
    /// Modes and owners.
    Permissions,
    /// Drop clutter, remove emptied folders and the work folder.
    Cleanup,
    /// A checksum per delivered file.
    Checksum,
}

impl Step {
    /// Every step in order.
    pub const ALL: [Self; 7] = [
        Self::Validate,
        Self::Extract,
        Self::Flatten,
        Self::Transfer,
        Self::Permissions,
        Self::Cleanup,
        Self::Checksum,
    ];

    /// Its snake-case name (as in the journal and metric labels).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Validate => "validate",
            Self::Extract => "extract",
            Self::Flatten => "flatten",
            Self::Transfer => "transfer",
            Self::Permissions => "permissions",
            Self::Cleanup => "cleanup",
            Self::Checksum => "checksum",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a step attempt ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// Started; no end recorded (it is running, or the process died).
    Started,
    /// Did its work.
    Done,
    /// Had nothing to do (off in the policy, or nothing matched).
    Skipped,
    /// Failed; `detail` says why.
    Failed,
}

impl StepOutcome {
    /// Its snake-case name (as in the journal and metric labels).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Done => "done",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

/// One attempt of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepRecord {
    /// The step.
    pub step: Step,
    /// How it ended.
    pub outcome: StepOutcome,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// What it did, or why it failed.
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialised_ones() {
        for step in Step::ALL {
            assert_eq!(serde_json::to_value(step).expect("json"), step.as_str());
        }
        for outcome in
            [StepOutcome::Started, StepOutcome::Done, StepOutcome::Skipped, StepOutcome::Failed]
        {
            assert_eq!(serde_json::to_value(outcome).expect("json"), outcome.as_str());
        }
    }
}
