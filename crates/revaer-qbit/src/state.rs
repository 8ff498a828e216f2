//! What every handler of the facade shares.

use std::sync::{Arc, Mutex};

use revaer_domain::settings::SettingsSnapshot;
use revaer_store::SettingsUpdate;
use tokio::sync::broadcast;

use revaer_service::Service;

use crate::rows::RowCache;
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
    /// Each client's `sync/torrentPeers` state, per torrent.
    pub peer_syncs: Arc<crate::swarm::PeerSyncs>,
    /// Torrent rows, rebuilt only for torrents that changed.
    pub rows: Arc<RowCache>,
    /// The settings as the store last delivered them.
    pub settings: Arc<LiveSettings>,
    /// Configuration.
    pub config: Arc<QbitConfig>,
}

impl QbitState {
    /// The state over `service`.
    pub fn new(service: Service, config: QbitConfig) -> Self {
        Self {
            settings: Arc::new(LiveSettings::new(&service)),
            service,
            sessions: Arc::default(),
            syncs: Arc::default(),
            peer_syncs: Arc::default(),
            rows: Arc::default(),
            config: Arc::new(config),
        }
    }
}

/// The settings as the store's watcher last delivered them: a poll that
/// needs them (every `sync/maindata`) reads no database, and still sees a
/// change as soon as the store announces it.
#[derive(Debug)]
pub struct LiveSettings {
    updates: Mutex<broadcast::Receiver<SettingsUpdate>>,
    current: Mutex<Option<Arc<SettingsSnapshot>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LiveSettings {
    /// Follows `service`'s store from now on.
    pub fn new(service: &Service) -> Self {
        Self { updates: Mutex::new(service.store().subscribe()), current: Mutex::new(None) }
    }

    /// The newest settings: the last delivered, or read from the store
    /// when none was (or some were missed).
    pub async fn current(
        &self,
        service: &Service,
    ) -> revaer_service::Result<Arc<SettingsSnapshot>> {
        let mut stale = false;
        let mut latest = None;
        {
            let mut updates = lock(&self.updates);
            loop {
                match updates.try_recv() {
                    Ok(update) => latest = Some(update.snapshot),
                    Err(broadcast::error::TryRecvError::Empty) => break,
                    Err(broadcast::error::TryRecvError::Lagged(_)) => stale = true,
                    Err(broadcast::error::TryRecvError::Closed) => {
                        stale = true;
                        break;
                    }
                }
            }
        }
        let cached = {
            let mut current = lock(&self.current);
            if let Some(latest) = latest {
                *current = Some(latest);
            }
            current.clone()
        };
        match cached {
            Some(snapshot) if !stale => Ok(snapshot),
            _ => {
                let snapshot = Arc::new(service.settings().await?);
                *lock(&self.current) = Some(Arc::clone(&snapshot));
                Ok(snapshot)
            }
        }
    }
}
