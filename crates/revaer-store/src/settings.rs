//! Settings: consistent snapshots, changesets applied in one transaction,
//! and the history of every change.
//!
//! One row (`settings_meta`) holds the revision. A change first increments
//! it (`UPDATE … RETURNING`, conditional on the caller's revision when one
//! is given), which takes the write lock on both backends before anything
//! is read, so concurrent changes are serialised and a stale one is refused
//! rather than overwriting. The documents are then read, patched and
//! validated as a whole (`revaer_domain::settings`), written, a history row
//! is added, and on PostgreSQL a `NOTIFY` is queued; all of it commits
//! together or not at all.

use chrono::{DateTime, Utc};
use revaer_domain::settings::{
    Applied, Changeset, ChangesetError, Settings, SettingsSnapshot, Violation,
};
use serde_json::{Map, Value};
use sqlx::{AnyConnection, Row};

use crate::error::{Result, StoreError, db};
use crate::{Backend, Store, from_ms, now_ms};

/// Who is changing the settings, why, and from which revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeContext {
    /// Who (an API key id, `setup`, `cli`, …).
    pub actor: String,
    /// Why, if given.
    pub reason: Option<String>,
    /// The revision the change was based on: if the settings have moved on
    /// since, the change is refused ([`StoreError::StaleRevision`]).
    pub if_revision: Option<i64>,
}

impl ChangeContext {
    /// A change by `actor`, with no reason and no revision check.
    pub fn new(actor: impl Into<String>) -> Self {
        Self { actor: actor.into(), reason: None, if_revision: None }
    }

    /// With a reason.
    #[must_use]
    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Only if the settings are still at `revision`.
    #[must_use]
    pub fn if_revision(mut self, revision: i64) -> Self {
        self.if_revision = Some(revision);
        self
    }
}

/// One committed change.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// The revision it produced.
    pub revision: i64,
    /// When.
    pub changed_at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: Option<String>,
    /// The changed documents before the change.
    pub old: Value,
    /// The changed documents after it.
    pub new: Value,
}

fn corrupt(what: &'static str) -> impl FnOnce(serde_json::Error) -> StoreError {
    move |err| StoreError::Corrupt { what, detail: err.to_string() }
}

/// Reads the revision and every document in one statement (one snapshot on
/// both backends).
pub(crate) async fn read_snapshot(conn: &mut AnyConnection) -> Result<SettingsSnapshot> {
    let rows = sqlx::query(
        "SELECT m.revision, d.name, d.body FROM settings_meta m \
         LEFT JOIN settings_documents d ON 1 = 1 WHERE m.id = 1",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db("read the settings"))?;
    let mut revision = 0;
    let mut documents = Map::new();
    for row in rows {
        revision = row.try_get::<i64, _>(0).map_err(db("read the settings revision"))?;
        let name: Option<String> = row.try_get(1).map_err(db("read a settings document"))?;
        let body: Option<String> = row.try_get(2).map_err(db("read a settings document"))?;
        if let (Some(name), Some(body)) = (name, body) {
            documents
                .insert(name, serde_json::from_str(&body).map_err(corrupt("settings document"))?);
        }
    }
    let settings: Settings =
        serde_json::from_value(Value::Object(documents)).map_err(corrupt("settings"))?;
    Ok(SettingsSnapshot { revision, settings })
}

/// Increments the revision (only from `expected`, when given); `None` when
/// the revision has moved on.
async fn bump_revision(
    conn: &mut AnyConnection,
    now: i64,
    expected: Option<i64>,
) -> Result<Option<i64>> {
    let bumped = match expected {
        Some(expected) => {
            sqlx::query_scalar(
                "UPDATE settings_meta SET revision = revision + 1, committed_at = $1 \
                 WHERE id = 1 AND revision = $2 RETURNING revision",
            )
            .bind(now)
            .bind(expected)
            .fetch_optional(&mut *conn)
            .await
        }
        None => {
            sqlx::query_scalar(
                "UPDATE settings_meta SET revision = revision + 1, committed_at = $1 \
                 WHERE id = 1 RETURNING revision",
            )
            .bind(now)
            .fetch_optional(&mut *conn)
            .await
        }
    };
    bumped.map_err(db("bump the settings revision"))
}

/// Whether a change may switch `app_profile.mode` (only completing setup
/// may: an ordinary changeset that did would lock everyone out, or skip
/// setup without a key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModeChange {
    Allowed,
    Refused,
}

/// The outcome of [`apply_in`]: the snapshot and, if anything changed, when
/// it was committed (for the watcher's latency).
pub(crate) struct AppliedChange {
    pub snapshot: SettingsSnapshot,
    pub committed_at: Option<i64>,
}

/// Applies a changeset inside the caller's transaction. Returns without a
/// new revision when the changeset changes nothing.
pub(crate) async fn apply_in(
    conn: &mut AnyConnection,
    backend: Backend,
    changeset: &Changeset,
    context: &ChangeContext,
    mode: ModeChange,
) -> Result<AppliedChange> {
    change_in(conn, backend, context, |current| {
        let applied = current.apply(changeset)?;
        if mode == ModeChange::Refused
            && applied.settings.app_profile.mode != current.app_profile.mode
        {
            let violations = vec![Violation {
                pointer: "/app_profile/mode".to_owned(),
                message: "changes only by completing setup".to_owned(),
            }];
            return Err(ChangesetError::Invalid { violations }.into());
        }
        Ok(applied)
    })
    .await
}

/// Changes the settings inside the caller's transaction: takes the lock
/// (the revision bump comes first), computes the new settings from the
/// current ones with `edit`, and records the changed documents and the
/// history entry. Returns without a new revision when nothing changes.
async fn change_in(
    conn: &mut AnyConnection,
    backend: Backend,
    context: &ChangeContext,
    edit: impl FnOnce(&Settings) -> Result<Applied>,
) -> Result<AppliedChange> {
    let now = now_ms();
    // The write comes first: it takes the lock before anything is read.
    let bumped = bump_revision(conn, now, context.if_revision).await?;
    let current = read_snapshot(conn).await?;
    let Some(revision) = bumped else {
        let expected = context.if_revision.unwrap_or_default();
        return Err(StoreError::StaleRevision { expected, current: current.revision });
    };
    let applied = edit(&current.settings)?;
    if applied.changed.is_empty() {
        // Nothing changes: the caller rolls the bump back.
        let snapshot = SettingsSnapshot { revision: revision - 1, settings: current.settings };
        return Ok(AppliedChange { snapshot, committed_at: None });
    }
    let (mut old, mut new) = (Map::new(), Map::new());
    for name in &applied.changed {
        let before = current.settings.document(name).unwrap_or(Value::Null);
        let after = applied.settings.document(name).unwrap_or(Value::Null);
        sqlx::query(
            "INSERT INTO settings_documents (name, body, revision) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, revision = excluded.revision",
        )
        .bind(*name)
        .bind(after.to_string())
        .bind(revision)
        .execute(&mut *conn)
        .await
        .map_err(db("write a settings document"))?;
        old.insert((*name).to_owned(), before);
        new.insert((*name).to_owned(), after);
    }
    sqlx::query(
        "INSERT INTO settings_history (revision, changed_at, actor, reason, old_body, new_body) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(revision)
    .bind(now)
    .bind(&context.actor)
    .bind(context.reason.as_deref())
    .bind(Value::Object(old).to_string())
    .bind(Value::Object(new).to_string())
    .execute(&mut *conn)
    .await
    .map_err(db("write the settings history"))?;
    if backend == Backend::Postgres {
        // Delivered to every listener when (and only if) this commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::postgres::CHANNEL)
            .bind(revision.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db("notify listeners"))?;
    }
    Ok(AppliedChange {
        snapshot: SettingsSnapshot { revision, settings: applied.settings },
        committed_at: Some(now),
    })
}

impl Store {
    /// The current settings and their revision (defaults at revision 0).
    pub async fn settings(&self) -> Result<SettingsSnapshot> {
        let mut conn = self.pool().acquire().await.map_err(db("acquire a connection"))?;
        read_snapshot(&mut conn).await
    }

    /// Applies a changeset in one transaction and delivers the new revision
    /// to subscribers. A changeset that changes nothing returns the current
    /// snapshot without a new revision.
    #[tracing::instrument(skip_all, fields(actor = %context.actor, if_revision = ?context.if_revision))]
    pub async fn apply_changeset(
        &self,
        changeset: &Changeset,
        context: &ChangeContext,
    ) -> Result<SettingsSnapshot> {
        let mut tx = self.pool().begin().await.map_err(db("begin a transaction"))?;
        let applied =
            apply_in(&mut tx, self.backend(), changeset, context, ModeChange::Refused).await?;
        let Some(committed_at) = applied.committed_at else {
            tx.rollback().await.map_err(db("roll back"))?;
            return Ok(applied.snapshot);
        };
        tx.commit().await.map_err(db("commit the settings change"))?;
        tracing::info!(revision = applied.snapshot.revision, "settings changed");
        self.watcher().deliver(applied.snapshot.clone(), committed_at);
        Ok(applied.snapshot)
    }

    /// Clears `app_profile.immutable_keys`, whatever they protect: the
    /// operator's way back from the host (`revaerd unlock-settings`, with
    /// the daemon stopped), recorded in the history like any change.
    /// Returns the keys that were lifted.
    #[tracing::instrument(skip_all, fields(actor = %context.actor))]
    pub async fn lift_immutable_keys(&self, context: &ChangeContext) -> Result<Vec<String>> {
        let mut lifted = Vec::new();
        let mut tx = self.pool().begin().await.map_err(db("begin a transaction"))?;
        let applied = change_in(&mut tx, self.backend(), context, |current| {
            lifted.clone_from(&current.app_profile.immutable_keys);
            Ok(current.lift_immutable_keys())
        })
        .await?;
        let Some(committed_at) = applied.committed_at else {
            tx.rollback().await.map_err(db("roll back"))?;
            return Ok(Vec::new());
        };
        tx.commit().await.map_err(db("commit the settings change"))?;
        tracing::info!(revision = applied.snapshot.revision, "immutable keys lifted");
        self.watcher().deliver(applied.snapshot, committed_at);
        Ok(lifted)
    }

    /// The most recent `limit` changes, newest first.
    pub async fn settings_history(&self, limit: u32) -> Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(
            "SELECT revision, changed_at, actor, reason, old_body, new_body FROM settings_history \
             ORDER BY revision DESC LIMIT $1",
        )
        .bind(i64::from(limit.min(10_000)))
        .fetch_all(self.pool())
        .await
        .map_err(db("read the settings history"))?;
        rows.into_iter()
            .map(|row| {
                let text = |index: usize| -> Result<String> {
                    row.try_get(index).map_err(db("read history"))
                };
                Ok(HistoryEntry {
                    revision: row.try_get(0).map_err(db("read history"))?,
                    changed_at: from_ms(row.try_get(1).map_err(db("read history"))?),
                    actor: text(2)?,
                    reason: row.try_get(3).map_err(db("read history"))?,
                    old: serde_json::from_str(&text(4)?).map_err(corrupt("history"))?,
                    new: serde_json::from_str(&text(5)?).map_err(corrupt("history"))?,
                })
            })
            .collect()
    }
}
