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
/// Counter: connections closed at once because the connection cap was
/// reached.
pub const HTTP_CONNECTIONS_REFUSED_TOTAL: &str = "revaer_http_connections_refused_total";
/// Counter: requests refused by a key's rate limit.
pub const RATE_LIMIT_THROTTLED_TOTAL: &str = "revaer_rate_limit_throttled_total";
/// Counter: guard-rail breaches (a key refused again and again in a
/// minute).
pub const RATE_LIMIT_BREACHES_TOTAL: &str = "revaer_rate_limit_breaches_total";
/// Gauge: open event streams.
pub const SSE_SUBSCRIBERS: &str = "revaer_sse_subscribers";
/// Counter: event frames sent to subscribers (replays included).
pub const SSE_EVENTS_SENT_TOTAL: &str = "revaer_sse_events_sent_total";
/// Counter: event streams ended because the client fell behind.
pub const SSE_LAGGED_TOTAL: &str = "revaer_sse_lagged_disconnects_total";

/// Gauge: the session's download rate, bytes/s (set when scraped).
pub const ENGINE_DOWNLOAD_BPS: &str = "revaer_engine_download_bytes_per_second";
/// Gauge: the session's upload rate, bytes/s.
pub const ENGINE_UPLOAD_BPS: &str = "revaer_engine_upload_bytes_per_second";
/// Gauge: payload bytes downloaded by the torrents in the session.
pub const ENGINE_DOWNLOADED_BYTES: &str = "revaer_engine_downloaded_bytes";
/// Gauge: payload bytes uploaded by the torrents in the session.
pub const ENGINE_UPLOADED_BYTES: &str = "revaer_engine_uploaded_bytes";
/// Gauge: connected peers.
pub const ENGINE_PEERS: &str = "revaer_engine_peers";
/// Counter: engine worker restarts after a fault.
pub const ENGINE_WORKER_RESTARTS_TOTAL: &str = "revaer_engine_worker_restarts_total";

/// Gauge: how long after its commit the last settings revision reached
/// this daemon, in seconds.
pub const CONFIG_WATCHER_LATENCY_SECONDS: &str = "revaer_config_watcher_latency_seconds";
/// Counter: settings revisions delivered by the watcher.
pub const CONFIG_WATCHER_DELIVERIES_TOTAL: &str = "revaer_config_watcher_deliveries_total";
/// Counter: failed watcher polls or notifications.
pub const CONFIG_WATCHER_FAILURES_TOTAL: &str = "revaer_config_watcher_failures_total";
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
