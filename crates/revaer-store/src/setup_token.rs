//! Setup tokens and setup completion.
//!
//! A fresh install issues a one-time token (stored hashed, with an expiry,
//! under its issuer: the daemon's instance name). A new token revokes the
//! issuer's older unused ones, so a token printed by an earlier start stops
//! working, while daemons sharing a database in setup mode each keep their
//! own. Completing setup with any of them consumes it and revokes the rest, applies the initial
//! changeset with `app_profile.mode = "active"`, and issues the first API
//! key, all in one transaction: two concurrent completions cannot both
//! succeed, and a failure consumes nothing.

use std::time::Duration;

use revaer_domain::settings::{AppMode, Changeset, SettingsSnapshot};
use serde_json::{Value, json};

use crate::api_keys::{IssuedKey, NewApiKey};
use crate::error::{Result, StoreError, db};
use crate::secret::{SecretToken, hash, random_secret};
use crate::settings::{ChangeContext, ModeChange, apply_in, read_snapshot};
use crate::{Store, now_ms};

const PREFIX: &str = "rvs_";

/// Takes the settings lock without changing anything.
async fn lock_settings(conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query("UPDATE settings_meta SET revision = revision WHERE id = 1")
        .execute(&mut *conn)
        .await
        .map_err(db("lock the settings"))?;
    Ok(())
}

impl Store {
    /// Issues a setup token valid for `ttl` under the default issuer (see
    /// [`Store::issue_setup_token_for`]).
    pub async fn issue_setup_token(&self, ttl: Duration) -> Result<SecretToken> {
        self.issue_setup_token_for(ttl, "revaer").await
    }

    /// Issues a setup token valid for `ttl` on behalf of `issuer` (a
    /// daemon's instance name), revoking `issuer`'s older unused tokens and
    /// purging dead ones. Refused once the instance is set up.
    #[tracing::instrument(skip(self))]
    pub async fn issue_setup_token_for(&self, ttl: Duration, issuer: &str) -> Result<SecretToken> {
        let now = now_ms();
        let secret = format!("{PREFIX}{}", random_secret());
        let mut tx = self.pool().begin().await.map_err(db("begin a transaction"))?;
        // Setup is serialised on the settings row (a row lock on
        // PostgreSQL, the write lock on SQLite) before anything is read: two
        // instances starting on a fresh database cannot both end up with a
        // valid token.
        lock_settings(&mut tx).await?;
        sqlx::query(
            "UPDATE setup_tokens SET revoked_at = $1 \
             WHERE issuer = $2 AND consumed_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(issuer)
        .execute(&mut *tx)
        .await
        .map_err(db("revoke the issuer's older setup tokens"))?;
        // Dead tokens are kept a day for the record, then dropped.
        let day_ago = now.saturating_sub(24 * 3600 * 1000);
        sqlx::query(
            "DELETE FROM setup_tokens WHERE consumed_at IS NULL \
             AND (revoked_at < $1 OR expires_at < $1)",
        )
        .bind(day_ago)
        .execute(&mut *tx)
        .await
        .map_err(db("purge dead setup tokens"))?;
        if read_snapshot(&mut tx).await?.settings.app_profile.mode == AppMode::Active {
            return Err(StoreError::AlreadySetUp);
        }
        let expires = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        sqlx::query(
            "INSERT INTO setup_tokens (token_hash, created_at, expires_at, issuer) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(hash(&secret).to_vec())
        .bind(now)
        .bind(expires)
        .bind(issuer)
        .execute(&mut *tx)
        .await
        .map_err(db("store the setup token"))?;
        tx.commit().await.map_err(db("commit the setup token"))?;
        Ok(SecretToken::new(secret))
    }

    /// Whether an unused, unexpired setup token exists.
    pub async fn has_setup_token(&self) -> Result<bool> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM setup_tokens WHERE consumed_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now_ms())
        .fetch_one(self.pool())
        .await
        .map_err(db("look for setup tokens"))?;
        Ok(count > 0)
    }

    /// Completes setup: consumes `token`, applies `changeset` with the mode
    /// set to active, and issues the first API key, atomically.
    #[tracing::instrument(skip_all, fields(actor = %context.actor))]
    pub async fn complete_setup(
        &self,
        token: &str,
        changeset: &Changeset,
        first_key: &NewApiKey,
        context: &ChangeContext,
    ) -> Result<(SettingsSnapshot, IssuedKey)> {
        let now = now_ms();
        let mut tx = self.pool().begin().await.map_err(db("begin a transaction"))?;
        // Serialised with every other setup and settings change, so the mode
        // read below is the one this transaction commits against.
        lock_settings(&mut tx).await?;
        let consumed = sqlx::query(
            "UPDATE setup_tokens SET consumed_at = $1 WHERE token_hash = $2 \
             AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(hash(token).to_vec())
        .execute(&mut *tx)
        .await
        .map_err(db("consume the setup token"))?;
        if consumed.rows_affected() != 1 {
            return Err(StoreError::SetupTokenRejected);
        }
        sqlx::query(
            "UPDATE setup_tokens SET revoked_at = $1 WHERE consumed_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db("revoke the other setup tokens"))?;
        if read_snapshot(&mut tx).await?.settings.app_profile.mode == AppMode::Active {
            return Err(StoreError::AlreadySetUp);
        }
        let mut changeset = changeset.clone();
        let app = changeset.0.entry("app_profile").or_insert_with(|| json!({}));
        if let Value::Object(app) = app {
            app.insert("mode".to_owned(), json!("active"));
        }
        let applied =
            apply_in(&mut tx, self.backend(), &changeset, context, ModeChange::Allowed).await?;
        let key = crate::api_keys::insert(&mut tx, first_key).await?;
        tx.commit().await.map_err(db("commit setup"))?;
        if let Some(committed_at) = applied.committed_at {
            self.watcher().deliver(applied.snapshot.clone(), committed_at);
        }
        tracing::info!(revision = applied.snapshot.revision, key_id = %key.key.key_id, "setup completed");
        Ok((applied.snapshot, key))
    }
}
