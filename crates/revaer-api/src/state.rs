//! What every handler can reach: the engine, the store, the key cache and
//! the request limits. Cheap to clone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use revaer_engine::Engine;
use revaer_store::Store;

use crate::auth::KeyCache;

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// Largest JSON body, in bytes (a base64 `.torrent` of 16 MiB fits).
    pub json_body: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self { json_body: 24 * 1024 * 1024 }
    }
}

#[derive(Debug)]
struct Inner {
    engine: Engine,
    store: Store,
    keys: KeyCache,
    limits: ApiLimits,
    /// Set up (active) or still in setup mode.
    active: AtomicBool,
}

/// The API's shared state.
#[derive(Debug, Clone)]
pub struct ApiState {
    inner: Arc<Inner>,
}

impl ApiState {
    /// State over a running engine and an open store, active (set up) or in
    /// setup mode.
    pub fn new(
        engine: Engine,
        store: Store,
        keys: KeyCache,
        limits: ApiLimits,
        active: bool,
    ) -> Self {
        Self {
            inner: Arc::new(Inner { engine, store, keys, limits, active: AtomicBool::new(active) }),
        }
    }

    /// Whether setup is complete.
    pub fn is_active(&self) -> bool {
        self.inner.active.load(Ordering::Acquire)
    }

    /// Leaves setup mode.
    pub fn activate(&self) {
        self.inner.active.store(true, Ordering::Release);
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The API key cache.
    pub fn keys(&self) -> &KeyCache {
        &self.inner.keys
    }

    /// The request limits.
    pub fn limits(&self) -> ApiLimits {
        self.inner.limits
    }
}
