//! Metric names (Prometheus conventions: `revaer_` prefix, base units,
//! `_total` for counters) and the label keys they carry.

/// Counter: FsOps steps run, by `step` and `outcome` (`done`, `skipped`, `failed`).
pub const FSOPS_STEPS_TOTAL: &str = "revaer_fsops_steps_total";
/// Histogram: FsOps step duration in seconds, by `step`.
pub const FSOPS_STEP_SECONDS: &str = "revaer_fsops_step_duration_seconds";
/// Counter: bytes FsOps wrote into the library (copies, extraction), by `step`.
pub const FSOPS_BYTES_TOTAL: &str = "revaer_fsops_bytes_total";
/// Gauge: FsOps jobs waiting or running.
pub const FSOPS_QUEUE_DEPTH: &str = "revaer_fsops_queue_depth";
/// Counter: FsOps jobs finished, by `outcome` (`done`, `retry`, `failed`).
pub const FSOPS_JOBS_TOTAL: &str = "revaer_fsops_jobs_total";

/// Label key: the FsOps step.
pub const LABEL_STEP: &str = "step";
/// Label key: how something ended.
pub const LABEL_OUTCOME: &str = "outcome";
