//! API keys: verified in memory against a cache of key digests that
//! [`refresh_keys`] reloads (so a request costs no query, and a revoked key
//! stops working within the refresh interval); issuing, rotating and
//! revoking keys, each followed by a reload.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use revaer_domain::event::{GuardRail, GuardRailKind};
use revaer_domain::{Event, HealthStatus};
use revaer_store::{ApiKey, ApiKeyDigest, IssuedKey, NewApiKey, Store, StoreError, token_key_id};

use crate::{Result, Service};

/// Most keys reported once as having no rate limit (bounds the memory of
/// what was reported).
const MAX_REPORTED: usize = 100_000;

/// The usable keys, by key id.
#[derive(Debug, Clone, Default)]
pub struct KeyCache {
    keys: Arc<RwLock<HashMap<String, ApiKeyDigest>>>,
    /// Held across a whole read-and-swap, so that a refresh that read
    /// before a change never overwrites one that read after it.
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl KeyCache {
    /// Loads the keys now.
    pub async fn refresh(&self, store: &Store) -> std::result::Result<(), StoreError> {
        let _one_at_a_time = self.refreshing.lock().await;
        let digests = store.api_key_digests().await?;
        let map = digests.into_iter().map(|d| (d.key.key_id.clone(), d)).collect();
        match self.keys.write() {
            Ok(mut keys) => *keys = map,
            Err(poisoned) => *poisoned.into_inner() = map,
        }
        Ok(())
    }

    /// Usable keys without any rate limit, by key id.
    pub fn unlimited(&self) -> Vec<String> {
        let Ok(keys) = self.keys.read() else { return Vec::new() };
        let mut ids: Vec<String> = keys
            .values()
            .filter(|d| d.key.rate_limit.is_none())
            .map(|d| d.key.key_id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// The key a token belongs to, if it verifies.
    pub fn verify(&self, token: &str) -> Option<ApiKey> {
        let key_id = token_key_id(token)?;
        let keys = self.keys.read().ok()?;
        keys.get(key_id).filter(|digest| digest.verify(token)).map(|digest| digest.key.clone())
    }
}

impl Service {
    /// The key `token` belongs to, if it verifies; its use is recorded.
    pub fn authenticate(&self, token: &str) -> Option<ApiKey> {
        let key = self.keys().verify(token)?;
        self.store().record_key_use(&key.key_id);
        Some(key)
    }

    /// Every key (never a secret).
    pub async fn list_keys(&self) -> Result<Vec<ApiKey>> {
        Ok(self.store().list_api_keys().await?)
    }

    /// A new key; its token is in the answer, once.
    pub async fn issue_key(&self, key: &NewApiKey) -> Result<IssuedKey> {
        let issued = self.store().issue_api_key(key).await?;
        self.keys().refresh(self.store()).await?;
        Ok(issued)
    }

    /// A new token for a key; the old one stops working at once.
    pub async fn rotate_key(&self, key_id: &str) -> Result<IssuedKey> {
        let issued = self.store().rotate_api_key(key_id).await?;
        self.keys().refresh(self.store()).await?;
        Ok(issued)
    }

    /// Revokes a key for good.
    pub async fn revoke_key(&self, key_id: &str) -> Result<()> {
        self.store().revoke_api_key(key_id).await?;
        self.keys().refresh(self.store()).await?;
        Ok(())
    }
}

/// Reloads the keys every `every` (keys changed by another daemon sharing
/// the database, expiries, revocations) and reports each key without a
/// rate limit once, as a `guard_rail` event. Runs until dropped.
pub async fn refresh_keys(service: Service, every: Duration) {
    let mut reported = HashSet::new();
    loop {
        if let Err(err) = service.keys().refresh(service.store()).await {
            tracing::warn!(error = %err, "could not refresh API keys");
        }
        for key_id in service.keys().unlimited() {
            if reported.len() < MAX_REPORTED && reported.insert(key_id.clone()) {
                service.bus().publish(Event::GuardRail(GuardRail {
                    guard_rail: GuardRailKind::UnlimitedKey,
                    reason: format!("API key {key_id} has no rate limit"),
                    key_id,
                    status: HealthStatus::Ok,
                    trace_id: None,
                }));
            }
        }
        tokio::time::sleep(every).await;
    }
}
