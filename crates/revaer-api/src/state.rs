//! What every handler can reach: the service layer and the HTTP settings.
//! A plain struct of handles, built by the composition root; cheap to
//! clone. Background work (key refresh, health watch, event forwarding)
//! belongs to the daemon, which owns those tasks.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use revaer_service::Service;

/// Largest body of every JSON route but adds (config, keys, actions,
/// selection), in bytes.
pub const SMALL_BODY: usize = 1024 * 1024;

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// Largest add body, in bytes (JSON or a form; a base64 `.torrent`
    /// of the largest size allowed fits).
    pub json_body: usize,
    /// Largest body of every other JSON route, in bytes.
    pub small_body: usize,
    /// Largest `.torrent` file part of a multipart add, in bytes.
    pub torrent_file: usize,
}

impl ApiLimits {
    /// Limits for `.torrent` files of up to `torrent_file` bytes: bodies
    /// may carry one base64-encoded, with room for the other fields.
    pub fn for_torrent_files(torrent_file: usize) -> Self {
        let base64 = torrent_file.div_ceil(3).saturating_mul(4);
        Self { json_body: base64.saturating_add(1024 * 1024), small_body: SMALL_BODY, torrent_file }
    }
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self::for_torrent_files(revaer_api_models::torrent::MAX_METAINFO_BYTES)
    }
}

/// How the HTTP side behaves.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Request limits.
    pub limits: ApiLimits,
    /// The Prometheus registry's handle, when the daemon installed one
    /// (`/metrics` answers 404 without).
    pub metrics: Option<PrometheusHandle>,
    /// `/metrics` needs a key from loopback clients too.
    pub metrics_need_key: bool,
    /// Setup may be completed from any address, not only loopback (a
    /// container or a host without a local shell can opt in, and should
    /// then publish the port only to a trusted network until setup is
    /// done).
    pub remote_setup: bool,
    /// Loopback clients may read `/health/full` and `/metrics` without a
    /// key (turn off when a proxy on the same host forwards remote
    /// clients).
    pub loopback_exempt: bool,
    /// Proxies whose `X-Forwarded-For` names the client (empty: none; the
    /// TCP peer is the client).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            limits: ApiLimits::default(),
            metrics: None,
            metrics_need_key: false,
            remote_setup: false,
            loopback_exempt: true,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The API's shared state.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// The operations.
    pub service: Service,
    /// The HTTP settings.
    pub http: Arc<HttpConfig>,
}

impl ApiState {
    /// State over `service`.
    pub fn new(service: Service, http: HttpConfig) -> Self {
        Self { service, http: Arc::new(http) }
    }

    /// The request limits.
    pub fn limits(&self) -> ApiLimits {
        self.http.limits
    }
}
