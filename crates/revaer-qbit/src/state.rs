//! What every handler of the facade shares.

use std::sync::Arc;

use revaer_service::Service;

use crate::session::Sessions;
use crate::sync::SyncStates;

/// How the facade behaves.
#[derive(Debug, Clone, Default)]
pub struct QbitConfig {
    /// Proxies whose `X-Forwarded-For` names the client (for login bans);
    /// empty: the TCP peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// The facade's state: the service it stands on, its sessions, its
/// configuration.
#[derive(Debug, Clone)]
pub struct QbitState {
    /// The service layer.
    pub service: Service,
    /// Login sessions and bans.
    pub sessions: Arc<Sessions>,
    /// Each client's `sync/maindata` state.
    pub syncs: Arc<SyncStates>,
    /// Configuration.
    pub config: Arc<QbitConfig>,
}

impl QbitState {
    /// The state over `service`.
    pub fn new(service: Service, config: QbitConfig) -> Self {
        Self { service, sessions: Arc::default(), syncs: Arc::default(), config: Arc::new(config) }
    }
}
