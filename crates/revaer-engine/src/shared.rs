//! State the worker publishes for callers to read without a round trip:
//! the torrent list and the engine's health.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use revaer_domain::{ComponentHealth, InfoHash, TorrentSummary};

use crate::config::SessionConfig;

/// The engine's health as `/health/full` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineHealth {
    /// Overall status and the reason when not `ok`.
    pub status: ComponentHealth,
    /// Sockets the session listens on (`address:port (tcp|utp)`).
    pub listen_endpoints: Vec<String>,
    /// The first TCP listen port, once listening.
    pub listen_port: Option<u16>,
    /// How often the worker was restarted after a fault.
    pub worker_restarts: u32,
    /// Nodes in the DHT routing table (`None` while the DHT is off or
    /// before its first report).
    pub dht_nodes: Option<u64>,
}

/// What list filters need of a torrent beyond its summary, kept up to date
/// by the worker so that filtering thousands of torrents costs no round
/// trip to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    /// The trackers' hosts, lower-case, without ports.
    pub tracker_hosts: Vec<String>,
    /// The files' extensions, lower-case, without the dot.
    pub extensions: Vec<String>,
}

/// Published by the worker, read by [`crate::Engine`].
#[derive(Debug, Default)]
pub(crate) struct Shared {
    summaries: RwLock<HashMap<InfoHash, Arc<TorrentSummary>>>,
    facets: RwLock<HashMap<InfoHash, Arc<Facets>>>,
    health: RwLock<EngineHealth>,
    /// The session settings in force; a restarted worker starts from these.
    settings: RwLock<SessionConfig>,
}

impl Shared {
    pub(crate) fn list(&self) -> Vec<Arc<TorrentSummary>> {
        let map = self.summaries.read().unwrap_or_else(PoisonError::into_inner);
        let mut list = map.values().cloned().collect::<Vec<_>>();
        drop(map);
        list.sort_by(|a, b| a.added_at.cmp(&b.added_at).then_with(|| a.id.cmp(&b.id)));
        list
    }

    pub(crate) fn list_unordered(&self) -> Vec<Arc<TorrentSummary>> {
        let map = self.summaries.read().unwrap_or_else(PoisonError::into_inner);
        map.values().cloned().collect()
    }

    pub(crate) fn get(&self, id: InfoHash) -> Option<Arc<TorrentSummary>> {
        self.summaries.read().unwrap_or_else(PoisonError::into_inner).get(&id).cloned()
    }

    pub(crate) fn publish(&self, summary: Arc<TorrentSummary>) {
        let mut map = self.summaries.write().unwrap_or_else(PoisonError::into_inner);
        map.insert(summary.id, summary);
    }

    pub(crate) fn publish_many(&self, summaries: Vec<Arc<TorrentSummary>>) {
        if summaries.is_empty() {
            return;
        }
        let mut map = self.summaries.write().unwrap_or_else(PoisonError::into_inner);
        for summary in summaries {
            map.insert(summary.id, summary);
        }
    }

    pub(crate) fn facets(&self, id: InfoHash) -> Option<Arc<Facets>> {
        self.facets.read().unwrap_or_else(PoisonError::into_inner).get(&id).cloned()
    }

    pub(crate) fn set_facets(&self, id: InfoHash, facets: Facets) {
        self.facets.write().unwrap_or_else(PoisonError::into_inner).insert(id, Arc::new(facets));
    }

    pub(crate) fn forget(&self, id: InfoHash) {
        self.facets.write().unwrap_or_else(PoisonError::into_inner).remove(&id);
        self.summaries.write().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }

    pub(crate) fn clear(&self) {
        self.facets.write().unwrap_or_else(PoisonError::into_inner).clear();
        self.summaries.write().unwrap_or_else(PoisonError::into_inner).clear();
    }

    pub(crate) fn settings(&self) -> SessionConfig {
        self.settings.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn set_settings(&self, settings: SessionConfig) {
        *self.settings.write().unwrap_or_else(PoisonError::into_inner) = settings;
    }

    pub(crate) fn health(&self) -> EngineHealth {
        self.health.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn update_health(&self, update: impl FnOnce(&mut EngineHealth)) {
        update(&mut self.health.write().unwrap_or_else(PoisonError::into_inner));
    }
}
