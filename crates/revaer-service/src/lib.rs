//! Revaer's service layer: the operations every protocol calls.
//!
//! The `/v1` API, the qBittorrent facade and the web UI are thin: they
//! turn a request into a call on a [`Service`] and its answer into a
//! response. Validation beyond a request's own shape, trace bookkeeping,
//! key checks and rate limits, health aggregation and the event bus live
//! here once, over the engine, the store and the bus — framework-neutral:
//! nothing here knows HTTP.
//!
//! # Layout
//! - [`Service`] (here): the handles, setup state and configuration.
//! - [`bus`]: the event bus (ids, replay ring, resync); [`forward`]: engine,
//!   FsOps and settings events onto it.
//! - [`torrents`], [`transfer`], [`settings`], [`setup`]: the operations.
//! - [`keys`]: the in-memory key cache, key management and its refresh
//!   loop; [`ratelimit`]: per-key buckets and their guard rails.
//! - [`health`]: every component's health, and the loop that publishes
//!   changes.
//! - [`paths`]: the operator's storage roots, and the check every path a
//!   client names passes; [`peer`]: who the client is behind a proxy.
//! - [`catalogue`]: the torrent catalogue in the store, written from the
//!   bus's events by one writer.
//! - [`error`]: why an operation failed ([`ServiceError`]).
//!
//! Background loops ([`keys::refresh_keys`], [`health::watch_health`],
//! [`forward::forward_events`]) are futures: the composition root spawns
//! them and owns their handles.
//!
//! # Quick start
//! ```no_run
//! # async fn demo(engine: revaer_engine::Engine, store: revaer_store::Store) -> Result<(), revaer_service::ServiceError> {
//! use revaer_service::{Caller, Service, ServiceConfig, bus::EventBus};
//! use revaer_service::forward::{EventSources, forward_events};
//! let bus = EventBus::new(4096);
//! tokio::spawn(forward_events(bus.clone(), EventSources::engine(engine.subscribe())));
//! let service = Service::new(engine, store, bus, ServiceConfig::default());
//! service.keys().refresh(service.store()).await?;
//! let page = service.list_torrents(&revaer_api_models::ListQuery::parse("limit=10").expect("valid"));
//! println!("{} torrents", page.items.len());
//! # let _ = Caller::system("demo");
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bus;
pub mod catalogue;
pub mod error;
pub mod forward;
pub mod health;
pub mod keys;
pub mod paths;
pub mod peer;
pub mod ratelimit;
pub mod settings;
pub mod setup;
pub mod torrents;
pub mod transfer;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use revaer_engine::Engine;
use revaer_store::{ApiKey, Store};

pub use error::{Result, ServiceError};
pub use health::HealthProbe;

use crate::bus::EventBus;
use crate::keys::KeyCache;
use crate::ratelimit::RateLimits;

/// How the service is set up.
#[derive(Clone)]
pub struct ServiceConfig {
    /// Set up already (`false`: setup mode).
    pub active: bool,
    /// Largest `.torrent` accepted, in bytes.
    pub max_metainfo_bytes: usize,
    /// The git revision the binary was built from (in health reports).
    pub git_revision: &'static str,
    /// FsOps health, when this process runs FsOps (the orchestrator lives
    /// in the daemon; the service only reports it).
    pub fsops_health: Option<HealthProbe>,
    /// Where clients may have files written. `None` checks nothing: only
    /// for embedders that confine paths themselves (the daemon always
    /// sets it).
    pub storage: Option<paths::StorageRoots>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            active: true,
            max_metainfo_bytes: revaer_api_models::torrent::MAX_METAINFO_BYTES,
            git_revision: "unknown",
            fsops_health: None,
            storage: None,
        }
    }
}

impl std::fmt::Debug for ServiceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceConfig")
            .field("active", &self.active)
            .field("max_metainfo_bytes", &self.max_metainfo_bytes)
            .field("git_revision", &self.git_revision)
            .field("fsops_health", &self.fsops_health.is_some())
            .field("storage", &self.storage)
            .finish()
    }
}

/// Who asks: the key (or the part of the daemon) acting, and the trace id
/// of the request, which the events the call causes carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The API key's id, or a name such as `setup`.
    pub actor: String,
    /// The request's trace id.
    pub trace_id: Option<String>,
    /// What the caller may do and hand out.
    pub grant: keys::Grant,
    /// The caller's API key, if it came with one.
    pub key_id: Option<String>,
}

impl Caller {
    /// A request made with `key`.
    pub fn key(key: &ApiKey, trace_id: Option<String>) -> Self {
        Self {
            actor: key.key_id.clone(),
            trace_id,
            grant: keys::Grant::of(key),
            key_id: Some(key.key_id.clone()),
        }
    }

    /// The daemon itself (no key, no trace).
    pub fn system(name: &str) -> Self {
        Self { actor: name.to_owned(), trace_id: None, grant: keys::Grant::SYSTEM, key_id: None }
    }
}

#[derive(Debug)]
struct Inner {
    engine: Engine,
    store: Store,
    bus: EventBus,
    keys: KeyCache,
    rate_limits: RateLimits,
    /// Set up (active) or still in setup mode.
    active: AtomicBool,
    config: ServiceConfig,
}

/// The service: every operation, over the engine, the store and the bus.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

impl Service {
    /// A service over a running engine, an open store and a bus.
    pub fn new(engine: Engine, store: Store, bus: EventBus, config: ServiceConfig) -> Self {
        let inner = Inner {
            engine,
            store,
            bus,
            keys: KeyCache::default(),
            rate_limits: RateLimits::default(),
            active: AtomicBool::new(config.active),
            config,
        };
        Self { inner: Arc::new(inner) }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The event bus.
    pub fn bus(&self) -> &EventBus {
        &self.inner.bus
    }

    /// The API key cache.
    pub fn keys(&self) -> &KeyCache {
        &self.inner.keys
    }

    /// The per-key rate limits.
    pub fn rate_limits(&self) -> &RateLimits {
        &self.inner.rate_limits
    }

    /// How the service was set up.
    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    /// Whether setup is complete.
    pub fn is_active(&self) -> bool {
        self.inner.active.load(Ordering::Acquire)
    }

    /// Leaves setup mode.
    pub fn activate(&self) {
        self.inner.active.store(true, Ordering::Release);
    }
}
