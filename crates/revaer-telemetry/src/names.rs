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

/// Counter: HTTP requests, by `route` (the route template), `method` and `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "revaer_http_requests_total";
/// Histogram: HTTP request duration in seconds, by `route`.
pub const HTTP_REQUEST_SECONDS: &str = "revaer_http_request_duration_seconds";
/// Counter: requests refused by a key's rate limit.
pub const RATE_LIMIT_THROTTLED_TOTAL: &str = "revaer_rate_limit_throttled_total";
/// Counter: guard-rail breaches (a key refused again and again in a
/// minute).
pub const RATE_LIMIT_BREACHES_TOTAL: &str = "revaer_rate_limit_breaches_total";
/// Gauge: open event streams.
pub const SSE_SUBSCRIBERS: &str = "revaer_sse_subscribers";
/// Gauge: torrents, by `state` (set when metrics are scraped).
pub const TORRENTS: &str = "revaer_torrents";

/// Label key: the route template (`/v1/torrents/{id}`), never the raw path.
pub const LABEL_ROUTE: &str = "route";
/// Label key: the HTTP method.
pub const LABEL_METHOD: &str = "method";
/// Label key: the HTTP status.
pub const LABEL_STATUS: &str = "status";
/// Label key: a torrent state.
pub const LABEL_STATE: &str = "state";
