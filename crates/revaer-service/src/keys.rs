//! API keys: verified in memory against a cache of key digests that
//! [`refresh_keys`] reloads (so a request costs no query, and a revoked key
//! stops working within the refresh interval); issuing, rotating and
//! revoking keys, each followed by a reload, and each allowed only for keys
//! no wider than the caller's own ([`Grant`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use revaer_domain::event::{GuardRail, GuardRailKind};
use revaer_domain::{Event, HealthStatus, Scope, Scopes};
use revaer_store::{
    ApiKey, ApiKeyDigest, IssuedKey, KeyRateLimit, NewApiKey, Store, StoreError, token_key_id,
};

use crate::{Caller, Result, Service, ServiceError};

/// What a caller may do, and the most it may hand out: its key's scopes,
/// rate limit and expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// The scopes held.
    pub scopes: Scopes,
    /// The rate limit (`None`: unlimited).
    pub rate_limit: Option<KeyRateLimit>,
    /// When it ends (`None`: never).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a key would be wider than its issuer's: the field, as a JSON Pointer
/// into the request, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wider {
    /// The field that is wider.
    pub pointer: &'static str,
    /// What is wider, for people.
    pub reason: String,
}

impl Grant {
    /// The daemon itself: everything, unlimited.
    pub const SYSTEM: Self = Self { scopes: Scopes::ADMIN, rate_limit: None, expires_at: None };

    /// What `key` grants.
    pub fn of(key: &ApiKey) -> Self {
        Self { scopes: key.scopes, rate_limit: key.rate_limit, expires_at: key.expires_at }
    }

    /// What a key made from `new` would grant.
    pub fn of_new(new: &NewApiKey) -> Self {
        Self { scopes: new.scopes, rate_limit: new.rate_limit, expires_at: new.expires_at }
    }

    /// Whether this grant allows what `scope` guards.
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.allows(scope)
    }

    /// How `other` is wider than this grant, if it is: more scopes, a
    /// faster or unlimited rate, a later or no expiry.
    pub fn wider(&self, other: &Self) -> Option<Wider> {
        if !self.scopes.covers(other.scopes) {
            let reason = format!("scopes [{}] exceed this key's [{}]", other.scopes, self.scopes);
            return Some(Wider { pointer: "/scopes", reason });
        }
        if let Some(mine) = self.rate_limit {
            let faster = other.rate_limit.is_none_or(|theirs| {
                // Refill rates compared without division: b/p against B/P.
                let (b, p) = (u64::from(theirs.burst), u64::from(theirs.per_seconds));
                let (mb, mp) = (u64::from(mine.burst), u64::from(mine.per_seconds));
                b > mb || b * mp > mb * p
            });
            if faster {
                let reason = format!(
                    "the rate limit must be no more than this key's {} per {} s",
                    mine.burst, mine.per_seconds
                );
                return Some(Wider { pointer: "/rate_limit", reason });
            }
        }
        if let Some(mine) = self.expires_at
            && other.expires_at.is_none_or(|theirs| theirs > mine)
        {
            let reason = format!("the key must expire no later than this key ({mine})");
            return Some(Wider { pointer: "/expires_at", reason });
        }
        None
    }

    fn check(&self, other: &Self) -> Result<()> {
        match self.wider(other) {
            Some(Wider { pointer, reason }) => Err(ServiceError::Wider { pointer, reason }),
            None => Ok(()),
        }
    }
}

/// Most keys reported once as having no rate limit (bounds the memory of
/// what was reported).
const MAX_REPORTED: usize = 100_000;

/// Longest chain of issuers followed for a key's rate limits.
pub const MAX_LINEAGE: usize = 16;

/// The usable keys, by key id.
#[derive(Debug, Clone)]
pub struct KeyCache {
    keys: Arc<RwLock<HashMap<String, ApiKeyDigest>>>,
    /// Held across a whole read-and-swap, so that a refresh that read
    /// before a change never overwrites one that read after it.
    refreshing: Arc<tokio::sync::Mutex<()>>,
    /// Counts reloads, so that long-lived sessions (event streams) look at
    /// their key again after each.
    reloads: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self {
            keys: Arc::default(),
            refreshing: Arc::default(),
            reloads: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }
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
        self.reloads.send_modify(|n| *n = n.wrapping_add(1));
        Ok(())
    }

    /// Whether the key `key_id` is usable now (known, enabled, not revoked,
    /// not expired).
    pub fn is_usable(&self, key_id: &str) -> bool {
        self.current(key_id).is_some()
    }

    /// A mark of the usable key `key_id`'s current token: it changes when
    /// the key is rotated, and is `None` once the key is not usable. A
    /// session opened with a token keeps the mark and ends when the mark
    /// changes (the qBittorrent facade's sessions do).
    pub fn token_mark(&self, key_id: &str) -> Option<Vec<u8>> {
        self.current(key_id)
    }

    /// The fingerprint of the usable key `key_id`'s current secret.
    fn current(&self, key_id: &str) -> Option<Vec<u8>> {
        let keys = self.keys.read().ok()?;
        let digest = keys.get(key_id).filter(|digest| digest.key.is_usable(Utc::now()))?;
        Some(digest.fingerprint().to_vec())
    }

    /// Resolves when the token a session was opened with no longer
    /// works: its key revoked, disabled, deleted or rotated (seen at the
    /// next reload: at once for changes made through this daemon) or
    /// expired (at its expiry). For sessions that outlive a request, such
    /// as event streams.
    pub fn ended(&self, key: &ApiKey) -> impl Future<Output = ()> + Send + use<> {
        // Taken now, when the session opens, not when the future is first
        // polled: a rotation in between must still end it.
        let mut reloads = self.reloads.subscribe();
        let opened_with = self.current(&key.key_id);
        let (cache, key_id, expires_at) = (self.clone(), key.key_id.clone(), key.expires_at);
        async move {
            let expiry = expires_at.map(|at| {
                let left = (at - Utc::now()).to_std().unwrap_or_default();
                tokio::time::Instant::now() + left
            });
            let expired = async {
                match expiry {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(expired);
            while opened_with.is_some() && cache.current(&key_id) == opened_with {
                tokio::select! {
                    () = &mut expired => return,
                    changed = reloads.changed() => if changed.is_err() { return },
                }
            }
        }
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

    /// The usable key `key_id`, if known.
    pub fn get(&self, key_id: &str) -> Option<ApiKey> {
        let keys = self.keys.read().ok()?;
        keys.get(key_id).map(|digest| digest.key.clone())
    }

    /// The usable keys `key` was issued under, nearest first (bounded:
    /// a chain longer than [`MAX_LINEAGE`] is cut there).
    pub fn issuers(&self, key: &ApiKey) -> Vec<ApiKey> {
        let Ok(keys) = self.keys.read() else { return Vec::new() };
        let mut chain = Vec::new();
        let mut next = key.issued_by.as_deref();
        while let Some(id) = next {
            if chain.len() >= MAX_LINEAGE || id == key.key_id {
                break;
            }
            let Some(issuer) = keys.get(id) else { break };
            chain.push(issuer.key.clone());
            next = issuer.key.issued_by.as_deref();
        }
        chain
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

    /// A new key, no wider than the caller's, and issued under the
    /// caller's key (revoked with it, and spending from its rate limit);
    /// its token is in the answer, once.
    pub async fn issue_key(&self, caller: &Caller, key: &NewApiKey) -> Result<IssuedKey> {
        caller.grant.check(&Grant::of_new(key))?;
        if let Some(issuer) = caller.key_id.as_deref().and_then(|id| self.keys().get(id))
            && self.keys().issuers(&issuer).len() + 1 > MAX_LINEAGE
        {
            // Deeper, the new key's requests would no longer reach every
            // bucket above it.
            return Err(ServiceError::Wider {
                pointer: "",
                reason: format!("keys may be issued at most {MAX_LINEAGE} levels deep"),
            });
        }
        let key = NewApiKey { issued_by: caller.key_id.clone(), ..key.clone() };
        let issued = self.store().issue_api_key(&key).await?;
        self.keys().refresh(self.store()).await?;
        Ok(issued)
    }

    /// A new token for a key no wider than the caller's; the old one stops
    /// working at once.
    pub async fn rotate_key(&self, caller: &Caller, key_id: &str) -> Result<IssuedKey> {
        caller.grant.check(&Grant::of(&self.store().api_key(key_id).await?))?;
        let issued = self.store().rotate_api_key(key_id).await?;
        self.keys().refresh(self.store()).await?;
        Ok(issued)
    }

    /// Revokes a key no wider than the caller's, for good, with every key
    /// issued under it.
    pub async fn revoke_key(&self, caller: &Caller, key_id: &str) -> Result<()> {
        caller.grant.check(&Grant::of(&self.store().api_key(key_id).await?))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(scopes: &[Scope], limit: Option<(u32, u32)>, days: Option<i64>) -> Grant {
        Grant {
            scopes: Scopes::of(scopes),
            rate_limit: limit.map(|(burst, per_seconds)| KeyRateLimit { burst, per_seconds }),
            expires_at: days.map(|d| Utc::now() + chrono::Duration::days(d)),
        }
    }

    #[test]
    fn a_key_hands_out_nothing_wider_than_itself() {
        use Scope::{Admin, Control, Read};
        let limited = grant(&[Admin], Some((10, 60)), Some(7));
        let pointer = |other: Grant| limited.wider(&other).map(|w| w.pointer);
        // Narrower in every way: allowed.
        assert_eq!(pointer(grant(&[Read], Some((5, 60)), Some(1))), None);
        assert_eq!(pointer(grant(&[Control], Some((10, 120)), Some(6))), None);
        // Unlimited, a faster refill, a bigger burst, no expiry, a later one.
        assert_eq!(pointer(grant(&[Read], None, Some(1))), Some("/rate_limit"));
        assert_eq!(pointer(grant(&[Read], Some((10, 30)), Some(1))), Some("/rate_limit"));
        assert_eq!(pointer(grant(&[Read], Some((20, 600)), Some(1))), Some("/rate_limit"));
        assert_eq!(pointer(grant(&[Read], Some((1, 60)), None)), Some("/expires_at"));
        assert_eq!(pointer(grant(&[Read], Some((1, 60)), Some(8))), Some("/expires_at"));
        // More scopes than held.
        let control = grant(&[Control], None, None);
        assert_eq!(control.wider(&grant(&[Admin], None, None)).map(|w| w.pointer), Some("/scopes"));
        assert_eq!(control.wider(&grant(&[Read, Control], None, None)), None);
        // The daemon itself covers everything.
        assert_eq!(Grant::SYSTEM.wider(&limited), None);
    }
}
