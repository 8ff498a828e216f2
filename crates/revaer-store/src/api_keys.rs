//! API keys: issue, rotate, revoke, list, verify, and batched last-used
//! times.
//!
//! A token is `rvk_<key id>_<secret>`: the key id (16 hex digits) finds the
//! row, the secret (32 random bytes, base64url) is checked against its
//! stored SHA-256 in constant time. The secret is returned only when a key
//! is issued or rotated.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use revaer_domain::Scopes;
use sqlx::{AnyConnection, Row};

use crate::error::{Result, StoreError, db};
use crate::secret::{SecretToken, hash, matches, random_id, random_secret};
use crate::{Inner, Store, from_ms, now_ms};

const PREFIX: &str = "rvk_";
const ID_LEN: usize = 16;
const SECRET_LEN: usize = 43;

/// A per-key token bucket: `burst` requests, refilled over `per_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRateLimit {
    /// Bucket size.
    pub burst: u32,
    /// Seconds to refill a full bucket.
    pub per_seconds: u32,
}

/// What to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// A name for people (1 to 64 characters).
    pub label: String,
    /// Its rate limit; `None` means unlimited.
    pub rate_limit: Option<KeyRateLimit>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// What it may do (at least one scope).
    pub scopes: Scopes,
    /// The key that issued it (`None`: issued on the host or at setup).
    /// Revoking that key revokes this one, and this one spends from that
    /// key's rate limit as well as its own.
    pub issued_by: Option<String>,
}

/// An API key as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Public id (part of the token).
    pub key_id: String,
    /// Label.
    pub label: String,
    /// Rate limit, if any.
    pub rate_limit: Option<KeyRateLimit>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used (written in batches, so up to a few seconds late).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked (then it no longer verifies, for good).
    pub revoked_at: Option<DateTime<Utc>>,
    /// Switched on (a disabled key does not verify until enabled again).
    pub enabled: bool,
    /// What it may do.
    pub scopes: Scopes,
    /// The key that issued it, if a key did.
    pub issued_by: Option<String>,
}

impl ApiKey {
    /// Whether the key verifies at `now`.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.enabled && self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A usable key with its secret's hash, for verifying tokens in memory
/// (the API keeps these in a cache so that a request costs no query).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyDigest {
    /// The key.
    pub key: ApiKey,
    secret_hash: Vec<u8>,
}

impl std::fmt::Debug for ApiKeyDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyDigest").field("key", &self.key).finish_non_exhaustive()
    }
}

impl ApiKeyDigest {
    /// The stored digest of the current secret: it changes when the key
    /// is rotated (so sessions opened with the old token can end).
    pub fn fingerprint(&self) -> &[u8] {
        &self.secret_hash
    }

    /// Whether `token` is this key's: right shape, this key's id, matching
    /// secret (constant-time), and the key usable now. A SHA-256 of 43
    /// bytes and a comparison: microseconds.
    pub fn verify(&self, token: &str) -> bool {
        parse(token).is_some_and(|(key_id, secret)| {
            key_id == self.key.key_id
                && matches(secret, &self.secret_hash)
                && self.key.is_usable(Utc::now())
        })
    }
}

/// The key id a token names, if it has a token's shape (to find its
/// [`ApiKeyDigest`]).
pub fn token_key_id(token: &str) -> Option<&str> {
    parse(token).map(|(key_id, _)| key_id)
}

/// A key together with its token, returned once.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    /// The key.
    pub key: ApiKey,
    /// The token to hand to its owner: shown once, stored only hashed.
    pub token: SecretToken,
}

fn check(new: &NewApiKey) -> Result<()> {
    // Counted as given: what the OpenAPI document states.
    if !revaer_domain::text::is_text(&new.label, 64) {
        return Err(StoreError::Invalid {
            field: "label",
            reason: "1 to 64 characters, not blank, no control characters",
        });
    }
    if new.scopes.is_empty() {
        return Err(StoreError::Invalid { field: "scopes", reason: "at least one scope" });
    }
    if new.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(StoreError::Invalid { field: "expires_at", reason: "must be in the future" });
    }
    if let Some(limit) = new.rate_limit {
        if !(1..=100_000).contains(&limit.burst) {
            return Err(StoreError::Invalid {
                field: "rate_limit.burst",
                reason: "must be 1 to 100000",
            });
        }
        if !(1..=86_400).contains(&limit.per_seconds) {
            return Err(StoreError::Invalid {
                field: "rate_limit.per_seconds",
                reason: "must be 1 to 86400",
            });
        }
    }
    Ok(())
}

/// Splits a token into key id and secret, if it has the right shape.
fn parse(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = (rest.get(..ID_LEN)?, rest.get(ID_LEN..)?.strip_prefix('_')?);
    (id.bytes().all(|b| b.is_ascii_hexdigit()) && secret.len() == SECRET_LEN)
        .then_some((id, secret))
}

const COLUMNS: &str = "key_id, label, rate_limit_burst, rate_limit_per_seconds, created_at, last_used_at, \
                       expires_at, revoked_at, enabled, scopes, issued_by";

/// Scopes as stored; a list this build does not know grants nothing
/// (fails closed), and is logged.
fn scopes(stored: &str) -> Scopes {
    stored.parse().unwrap_or_else(|err| {
        tracing::warn!(%err, "an API key's stored scopes do not parse; it may do nothing");
        Scopes::default()
    })
}

/// The index of `secret_hash` in `SELECT {COLUMNS}, secret_hash`.
const SECRET_HASH: usize = 11;

fn decode(row: &sqlx::any::AnyRow) -> Result<ApiKey> {
    let get_i64 =
        |index: usize| -> Result<Option<i64>> { row.try_get(index).map_err(db("read an API key")) };
    let burst = get_i64(2)?.and_then(|n| u32::try_from(n).ok());
    let per = get_i64(3)?.and_then(|n| u32::try_from(n).ok());
    Ok(ApiKey {
        key_id: row.try_get(0).map_err(db("read an API key"))?,
        label: row.try_get(1).map_err(db("read an API key"))?,
        rate_limit: burst.zip(per).map(|(burst, per_seconds)| KeyRateLimit { burst, per_seconds }),
        created_at: from_ms(get_i64(4)?.unwrap_or_default()),
        last_used_at: get_i64(5)?.map(from_ms),
        expires_at: get_i64(6)?.map(from_ms),
        revoked_at: get_i64(7)?.map(from_ms),
        enabled: get_i64(8)? == Some(1),
        scopes: scopes(&row.try_get::<String, _>(9).map_err(db("read an API key"))?),
        issued_by: row.try_get(10).map_err(db("read an API key"))?,
    })
}

pub(crate) async fn insert(conn: &mut AnyConnection, new: &NewApiKey) -> Result<IssuedKey> {
    check(new)?;
    let (key_id, secret) = (random_id(), random_secret());
    let now = now_ms();
    // A key issued under another is written only while that one is still
    // usable: a revocation that lands first leaves nothing to outlive it
    // (one that lands after sees the new row and revokes it too).
    let inserted = sqlx::query(
        "INSERT INTO api_keys (key_id, label, secret_hash, rate_limit_burst, rate_limit_per_seconds, \
         created_at, expires_at, enabled, scopes, issued_by) \
         SELECT $1, $2, $3, $4, $5, $6, $7, 1, $8, $9 \
         WHERE $9 IS NULL OR EXISTS (SELECT 1 FROM api_keys \
             WHERE key_id = $9 AND revoked_at IS NULL AND enabled = 1)",
    )
    .bind(&key_id)
    .bind(new.label.trim())
    .bind(hash(&secret).to_vec())
    .bind(new.rate_limit.map(|limit| i64::from(limit.burst)))
    .bind(new.rate_limit.map(|limit| i64::from(limit.per_seconds)))
    .bind(now)
    .bind(new.expires_at.map(|at| at.timestamp_millis()))
    .bind(new.scopes.to_string())
    .bind(new.issued_by.as_deref())
    .execute(&mut *conn)
    .await
    .map_err(db("issue an API key"))?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::NotFound {
            what: "API key",
            id: new.issued_by.clone().unwrap_or_default(),
        });
    }
    let key = ApiKey {
        key_id: key_id.clone(),
        label: new.label.trim().to_owned(),
        rate_limit: new.rate_limit,
        created_at: from_ms(now),
        last_used_at: None,
        expires_at: new.expires_at,
        revoked_at: None,
        enabled: true,
        scopes: new.scopes,
        issued_by: new.issued_by.clone(),
    };
    Ok(IssuedKey { key, token: SecretToken::new(format!("{PREFIX}{key_id}_{secret}")) })
}

impl Store {
    /// Issues a key; its token is in the result and nowhere else.
    #[tracing::instrument(skip_all, fields(label = %new.label))]
    pub async fn issue_api_key(&self, new: &NewApiKey) -> Result<IssuedKey> {
        let mut conn = self.pool().acquire().await.map_err(db("acquire a connection"))?;
        insert(&mut conn, new).await
    }

    /// Every key (revoked and expired ones too), oldest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, key_id"))
            .fetch_all(self.pool())
            .await
            .map_err(db("list API keys"))?
            .iter()
            .map(decode)
            .collect()
    }

    /// One key by id.
    pub async fn api_key(&self, key_id: &str) -> Result<ApiKey> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_keys WHERE key_id = $1"))
            .bind(key_id)
            .fetch_optional(self.pool())
            .await
            .map_err(db("read an API key"))?
            .ok_or_else(|| StoreError::NotFound { what: "API key", id: key_id.to_owned() })?;
        decode(&row)
    }

    /// Every usable (not revoked, not expired) key with its secret's hash.
    pub async fn api_key_digests(&self) -> Result<Vec<ApiKeyDigest>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, secret_hash FROM api_keys WHERE enabled = 1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $1) ORDER BY key_id"
        ))
        .bind(now_ms())
        .fetch_all(self.pool())
        .await
        .map_err(db("list API key digests"))?;
        rows.iter()
            .map(|row| {
                let secret_hash = row.try_get(SECRET_HASH).map_err(db("read an API key digest"))?;
                Ok(ApiKeyDigest { key: decode(row)?, secret_hash })
            })
            .collect()
    }

    /// Gives a key a new secret; the old token stops working at once.
    #[tracing::instrument(skip(self))]
    pub async fn rotate_api_key(&self, key_id: &str) -> Result<IssuedKey> {
        let secret = random_secret();
        let updated = sqlx::query(
            "UPDATE api_keys SET secret_hash = $1, rotated_at = $2 WHERE key_id = $3 AND revoked_at IS NULL",
        )
        .bind(hash(&secret).to_vec())
        .bind(now_ms())
        .bind(key_id)
        .execute(self.pool())
        .await
        .map_err(db("rotate an API key"))?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "API key", id: key_id.to_owned() });
        }
        let key = self.api_key(key_id).await?;
        Ok(IssuedKey { key, token: SecretToken::new(format!("{PREFIX}{key_id}_{secret}")) })
    }

    /// Switches a key off or on again (revoked keys stay off).
    #[tracing::instrument(skip(self))]
    pub async fn set_api_key_enabled(&self, key_id: &str, enabled: bool) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE api_keys SET enabled = $1 WHERE key_id = $2 AND revoked_at IS NULL",
        )
        .bind(i64::from(enabled))
        .bind(key_id)
        .execute(self.pool())
        .await
        .map_err(db("switch an API key"))?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "API key", id: key_id.to_owned() });
        }
        Ok(())
    }

    /// Revokes a key for good, and every key issued under it.
    #[tracing::instrument(skip(self))]
    pub async fn revoke_api_key(&self, key_id: &str) -> Result<()> {
        // The key and every key issued under it, in one statement.
        let updated = sqlx::query(
            "WITH RECURSIVE issued(key_id) AS ( \
                 SELECT key_id FROM api_keys WHERE key_id = $1 \
                 UNION SELECT k.key_id FROM api_keys k JOIN issued i ON k.issued_by = i.key_id) \
             UPDATE api_keys SET enabled = 0, revoked_at = $2 \
             WHERE key_id IN (SELECT key_id FROM issued) AND revoked_at IS NULL",
        )
        .bind(key_id)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .map_err(db("revoke an API key"))?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "API key", id: key_id.to_owned() });
        }
        Ok(())
    }

    /// The key a token belongs to, if the token is valid: right shape,
    /// known id, matching secret (constant-time), not revoked, not expired.
    /// One indexed lookup; callers on a hot path cache the result.
    pub async fn verify_api_key(&self, token: &str) -> Result<Option<ApiKey>> {
        let Some((key_id, secret)) = parse(token) else { return Ok(None) };
        let row =
            sqlx::query(&format!("SELECT {COLUMNS}, secret_hash FROM api_keys WHERE key_id = $1"))
                .bind(key_id)
                .fetch_optional(self.pool())
                .await
                .map_err(db("verify an API key"))?;
        let Some(row) = row else { return Ok(None) };
        let stored: Vec<u8> = row.try_get(SECRET_HASH).map_err(db("verify an API key"))?;
        let key = decode(&row)?;
        Ok((matches(secret, &stored) && key.is_usable(Utc::now())).then_some(key))
    }

    /// Notes that a key was used now; written in the next batch.
    pub fn record_key_use(&self, key_id: &str) {
        let mut uses = self.inner.key_uses.0.lock().unwrap_or_else(PoisonError::into_inner);
        uses.insert(key_id.to_owned(), now_ms());
    }

    /// Writes the batched last-used times now.
    pub async fn flush_key_uses(&self) -> Result<()> {
        let batch = std::mem::take(
            &mut *self.inner.key_uses.0.lock().unwrap_or_else(PoisonError::into_inner),
        );
        if batch.is_empty() {
            return Ok(());
        }
        let written = self.write_key_uses(&batch).await;
        if written.is_err() {
            // Put the batch back (newer uses win) for the next flush.
            let mut uses = self.inner.key_uses.0.lock().unwrap_or_else(PoisonError::into_inner);
            for (key_id, at) in batch {
                let slot = uses.entry(key_id).or_insert(at);
                *slot = (*slot).max(at);
            }
        }
        written
    }

    async fn write_key_uses(&self, batch: &HashMap<String, i64>) -> Result<()> {
        let mut tx = self.pool().begin().await.map_err(db("begin a transaction"))?;
        for (key_id, at) in batch {
            sqlx::query(
                "UPDATE api_keys SET last_used_at = $1 WHERE key_id = $2 \
                 AND (last_used_at IS NULL OR last_used_at < $1)",
            )
            .bind(at)
            .bind(key_id)
            .execute(&mut *tx)
            .await
            .map_err(db("record API key use"))?;
        }
        tx.commit().await.map_err(db("record API key use"))
    }
}

/// Last-used times waiting for the next batch, by key id.
#[derive(Debug, Default)]
pub(crate) struct KeyUses(Mutex<HashMap<String, i64>>);

pub(crate) async fn flush_loop(weak: Weak<Inner>, every: Duration) {
    let mut ticker = tokio::time::interval(every.max(Duration::from_millis(100)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(store) = Store::upgrade(&weak) else { return };
        if let Err(err) = store.flush_key_uses().await {
            tracing::warn!(error = %err, "recording API key use failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_only_in_shape() {
        let secret = "a".repeat(SECRET_LEN);
        let token = format!("rvk_0123456789abcdef_{secret}");
        assert_eq!(parse(&token), Some(("0123456789abcdef", secret.as_str())));
        assert_eq!(parse("rvk_short"), None);
        assert_eq!(parse(&format!("rvx_0123456789abcdef_{secret}")), None);
        assert_eq!(parse(&format!("rvk_0123456789abcdeg_{secret}")), None);
        assert_eq!(parse(&format!("rvk_0123456789abcdef-{secret}")), None);
        assert_eq!(parse(&format!("rvk_0123456789abcdef_{secret}x")), None);
        assert_eq!(parse("rvk_ééééééééééééééééé"), None, "multi-byte input must not panic");
    }

    #[test]
    fn new_keys_are_bounded() {
        let ok = NewApiKey {
            label: "ci".into(),
            rate_limit: None,
            expires_at: None,
            scopes: Scopes::ADMIN,
            issued_by: None,
        };
        assert!(check(&ok).is_ok());
        let limit = |burst, per_seconds| NewApiKey {
            rate_limit: Some(KeyRateLimit { burst, per_seconds }),
            ..ok.clone()
        };
        assert!(check(&limit(0, 1)).is_err());
        assert!(check(&limit(1, 0)).is_err());
        assert!(check(&limit(10, 60)).is_ok());
        assert!(check(&NewApiKey { label: " ".into(), ..ok.clone() }).is_err());
        assert!(check(&NewApiKey { label: "x".repeat(65), ..ok }).is_err());
    }
}
