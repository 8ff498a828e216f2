//! API keys: verified in memory against a cache of key digests that a
//! background task refreshes (so a request costs no query and a revoked
//! key stops working within the refresh interval), and the extractor that
//! requires one.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use revaer_store::{ApiKey, ApiKeyDigest, Store, token_key_id};

use crate::error::ApiError;
use crate::state::ApiState;

/// Header carrying a key as an alternative to `Authorization: Bearer`.
pub const API_KEY_HEADER: &str = "x-revaer-api-key";
/// Longest credential header accepted, in bytes.
const MAX_CREDENTIAL: usize = 256;

/// The usable keys, by key id.
#[derive(Debug, Clone, Default)]
pub struct KeyCache {
    keys: Arc<RwLock<HashMap<String, ApiKeyDigest>>>,
}

impl KeyCache {
    /// Loads the keys now.
    pub async fn refresh(&self, store: &Store) -> Result<(), revaer_store::StoreError> {
        let digests = store.api_key_digests().await?;
        let map = digests.into_iter().map(|d| (d.key.key_id.clone(), d)).collect();
        match self.keys.write() {
            Ok(mut keys) => *keys = map,
            Err(poisoned) => *poisoned.into_inner() = map,
        }
        Ok(())
    }

    /// Refreshes every `every` until the store closes or the task is
    /// aborted.
    pub fn spawn_refresh(&self, store: Store, every: Duration) -> tokio::task::JoinHandle<()> {
        let cache = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(err) = cache.refresh(&store).await {
                    tracing::warn!(error = %err, "could not refresh API keys");
                }
            }
        })
    }

    /// The key a token belongs to, if it verifies.
    pub fn verify(&self, token: &str) -> Option<ApiKey> {
        let key_id = token_key_id(token)?;
        let keys = self.keys.read().ok()?;
        keys.get(key_id).filter(|digest| digest.verify(token)).map(|digest| digest.key.clone())
    }
}

/// The caller's verified API key.
#[derive(Debug, Clone)]
pub struct Authenticated(pub ApiKey);

fn credential(parts: &Parts) -> Option<&str> {
    let bearer = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let header = parts.headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok());
    bearer.or(header).map(str::trim).filter(|t| !t.is_empty() && t.len() <= MAX_CREDENTIAL)
}

impl FromRequestParts<ApiState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let token = credential(parts).ok_or(ApiError::Unauthorized)?;
        let key = state.keys().verify(token).ok_or(ApiError::Unauthorized)?;
        state.store().record_key_use(&key.key_id);
        Ok(Self(key))
    }
}
