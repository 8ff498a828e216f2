//! Runtime rows: FsOps jobs, one per post-processing run of a torrent.

use std::time::Duration;

use chrono::{DateTime, Utc};
use revaer_domain::InfoHash;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::error::{Result, StoreError, db};
use crate::{Store, from_ms, now_ms};

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsJobStatus {
    /// Waiting to run (or to be retried at `next_attempt_at`).
    Pending,
    /// Running.
    Running,
    /// Finished.
    Done,
    /// Failed for good (after its retries).
    Failed,
    /// Nothing to do (the policy says so).
    Skipped,
}

impl FsJobStatus {
    /// Its name, as stored and serialised.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Running, Self::Done, Self::Failed, Self::Skipped]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// Jobs by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsJobCounts {
    /// Waiting (new or to be retried).
    pub pending: u64,
    /// Running.
    pub running: u64,
    /// Finished.
    pub done: u64,
    /// Failed for good, and the latest job of their torrent.
    pub failed: u64,
}

/// A new job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFsJob {
    /// The torrent (its row must exist).
    pub info_hash: InfoHash,
    /// The payload to process.
    pub source_path: String,
    /// The trace id of the request that added the torrent, if known.
    pub trace_id: Option<String>,
}

/// A job's row.
#[derive(Debug, Clone, PartialEq)]
pub struct FsJob {
    /// Its id.
    pub id: i64,
    /// The torrent.
    pub info_hash: InfoHash,
    /// The payload.
    pub source_path: String,
    /// Where it was delivered, once known.
    pub destination: Option<String>,
    /// Status.
    pub status: FsJobStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// When to try again (pending jobs after a failure).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The step journal (as in `.revaer.meta`).
    pub journal: Value,
    /// Trace id of the originating request.
    pub trace_id: Option<String>,
    /// The runner holding the job's lease, while it runs.
    pub owner: Option<String>,
    /// Until when the lease holds.
    pub lease_until: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A change to a job (fields left `None` keep their value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FsJobUpdate {
    /// New status.
    pub status: Option<FsJobStatus>,
    /// New destination.
    pub destination: Option<String>,
    /// New attempt count.
    pub attempts: Option<u32>,
    /// New last error (`Some(None)` clears it).
    pub last_error: Option<Option<String>>,
    /// New retry time (`Some(None)` clears it).
    pub next_attempt_at: Option<Option<DateTime<Utc>>>,
    /// New journal.
    pub journal: Option<Value>,
}

/// A job that may be claimed now (`$3` is now).
const DUE: &str = "((status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $3)) \
                   OR (status = 'running' AND (lease_until IS NULL OR lease_until <= $3)))";

const COLUMNS: &str = "id, info_hash, source_path, destination, status, attempts, last_error, \
                       next_attempt_at, journal, trace_id, created_at, updated_at, owner, lease_until";

fn decode(row: &sqlx::any::AnyRow) -> Result<FsJob> {
    let read = || db("read an FsOps job");
    let corrupt = |what, detail: String| StoreError::Corrupt { what, detail };
    let hex: String = row.try_get(1).map_err(read())?;
    let status: String = row.try_get(4).map_err(read())?;
    let journal: String = row.try_get(8).map_err(read())?;
    Ok(FsJob {
        id: row.try_get(0).map_err(read())?,
        info_hash: InfoHash::parse(&hex)
            .map_err(|err| corrupt("job torrent id", err.to_string()))?,
        source_path: row.try_get(2).map_err(read())?,
        destination: row.try_get(3).map_err(read())?,
        status: FsJobStatus::parse(&status).ok_or_else(|| corrupt("job status", status.clone()))?,
        attempts: u32::try_from(row.try_get::<i64, _>(5).map_err(read())?).unwrap_or(u32::MAX),
        last_error: row.try_get(6).map_err(read())?,
        next_attempt_at: row.try_get::<Option<i64>, _>(7).map_err(read())?.map(from_ms),
        journal: serde_json::from_str(&journal)
            .map_err(|err| corrupt("job journal", err.to_string()))?,
        trace_id: row.try_get(9).map_err(read())?,
        created_at: from_ms(row.try_get(10).map_err(read())?),
        updated_at: from_ms(row.try_get(11).map_err(read())?),
        owner: row.try_get(12).map_err(read())?,
        lease_until: row.try_get::<Option<i64>, _>(13).map_err(read())?.map(from_ms),
    })
}

impl Store {
    /// Creates a pending job, unless the torrent already has one waiting or
    /// running (then `None`: one active job per torrent, by a unique index).
    pub async fn create_fs_job(&self, new: &NewFsJob) -> Result<Option<FsJob>> {
        let now = now_ms();
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO fs_jobs (info_hash, source_path, status, trace_id, created_at, updated_at) \
             VALUES ($1, $2, 'pending', $3, $4, $4) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(new.info_hash.to_hex())
        .bind(&new.source_path)
        .bind(new.trace_id.as_deref())
        .bind(now)
        .fetch_optional(self.pool())
        .await
        .map_err(db("create an FsOps job"))?;
        match id {
            Some(id) => self.fs_job(id).await.map(Some),
            None => Ok(None),
        }
    }

    /// One job.
    pub async fn fs_job(&self, id: i64) -> Result<FsJob> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM fs_jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(db("read an FsOps job"))?
            .ok_or_else(|| StoreError::NotFound { what: "FsOps job", id: id.to_string() })?;
        decode(&row)
    }

    /// A torrent's jobs, oldest first.
    pub async fn fs_jobs_for(&self, id: InfoHash) -> Result<Vec<FsJob>> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM fs_jobs WHERE info_hash = $1 ORDER BY id"))
            .bind(id.to_hex())
            .fetch_all(self.pool())
            .await
            .map_err(db("list FsOps jobs"))?
            .iter()
            .map(decode)
            .collect()
    }

    /// How many jobs are in each status (for the queue gauge and health).
    pub async fn fs_job_counts(&self) -> Result<FsJobCounts> {
        // A failed job that a later job of its torrent superseded no longer
        // counts as failed.
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM fs_jobs f WHERE status <> 'failed' \
                 OR NOT EXISTS (SELECT 1 FROM fs_jobs g WHERE g.info_hash = f.info_hash AND g.id > f.id) \
             GROUP BY status",
        )
                .fetch_all(self.pool())
                .await
                .map_err(db("count FsOps jobs"))?;
        let mut counts = FsJobCounts::default();
        for (status, count) in rows {
            let count = u64::try_from(count).unwrap_or(0);
            match FsJobStatus::parse(&status) {
                Some(FsJobStatus::Pending) => counts.pending = count,
                Some(FsJobStatus::Running) => counts.running = count,
                Some(FsJobStatus::Done) => counts.done = count,
                Some(FsJobStatus::Failed) => counts.failed = count,
                Some(FsJobStatus::Skipped) | None => {}
            }
        }
        Ok(counts)
    }

    /// Puts a job that failed for good back in the queue with a fresh
    /// attempt count (its journal is kept: it resumes where it stopped).
    /// `false` when the job is not failed or its torrent has another job
    /// waiting or running.
    pub async fn requeue_fs_job(&self, id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE fs_jobs SET status = 'pending', attempts = 0, next_attempt_at = NULL, \
             updated_at = $1 WHERE id = $2 AND status = 'failed'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await;
        match done {
            Ok(done) => Ok(done.rows_affected() == 1),
            // Another job of the torrent waits or runs already.
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => Ok(false),
            Err(err) => Err(db("requeue an FsOps job")(err)),
        }
    }

    /// Gives back every job an instance holds as running (owners
    /// `<instance>#<claim>`): an instance restarting under its name calls
    /// this first, so that the jobs its previous life was running resume at
    /// once instead of after their leases. Returns how many were released.
    pub async fn release_fs_jobs(&self, instance: &str) -> Result<u64> {
        let prefix = format!("{instance}#");
        let done = sqlx::query(
            "UPDATE fs_jobs SET status = 'pending', owner = NULL, lease_until = NULL, \
             updated_at = $1 WHERE substr(owner, 1, $3) = $2 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(&prefix)
        .bind(i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX))
        .execute(self.pool())
        .await
        .map_err(db("release FsOps jobs"))?;
        Ok(done.rows_affected())
    }

    /// Claims the oldest job that is due (pending and past its retry time,
    /// or running under a lease that has run out, `lease_until <= now`: its
    /// runner died) for `owner` until `lease` from now, in one conditional
    /// write that also counts the attempt (so a job that crashes its runner
    /// runs out of attempts too). `owner` should be unique per claim
    /// (`<instance>#<token>`): only its holder can renew or update the job.
    /// `None` when there is nothing to do or another runner won the race.
    pub async fn claim_fs_job(&self, owner: &str, lease: Duration) -> Result<Option<FsJob>> {
        self.claim(owner, lease, None).await
    }

    /// Like [`Store::claim_fs_job`], but only a job of a torrent the daemon
    /// named `holder` holds (by the catalogue), or one no daemon is
    /// recorded as holding: a daemon sharing the database never takes a
    /// job for a torrent its engine does not have.
    pub async fn claim_fs_job_held_by(
        &self,
        owner: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<FsJob>> {
        self.claim(owner, lease, Some(holder)).await
    }

    async fn claim(
        &self,
        owner: &str,
        lease: Duration,
        holder: Option<&str>,
    ) -> Result<Option<FsJob>> {
        let now = now_ms();
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let held = if holder.is_some() {
            " AND info_hash IN (SELECT info_hash FROM torrents \
             WHERE instance = $4 OR instance IS NULL)"
        } else {
            ""
        };
        // Due again in the outer condition: on PostgreSQL another runner may
        // have claimed or finished the row between the two.
        let sql = format!(
            "UPDATE fs_jobs SET status = 'running', owner = $1, lease_until = $2, updated_at = $3, \
             attempts = attempts + 1 \
             WHERE id = (SELECT id FROM fs_jobs WHERE {DUE}{held} ORDER BY id LIMIT 1) \
             AND {DUE} RETURNING id"
        );
        let mut query = sqlx::query_scalar(&sql).bind(owner).bind(until).bind(now);
        if let Some(holder) = holder {
            query = query.bind(holder);
        }
        let claimed: Option<i64> =
            query.fetch_optional(self.pool()).await.map_err(db("claim an FsOps job"))?;
        match claimed {
            Some(id) => self.fs_job(id).await.map(Some),
            None => Ok(None),
        }
    }

    /// Extends `owner`'s lease on a job.
    pub async fn renew_fs_job_lease(&self, id: i64, owner: &str, lease: Duration) -> Result<()> {
        let until = now_ms().saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let renewed = sqlx::query("UPDATE fs_jobs SET lease_until = $1 WHERE id = $2 AND owner = $3 AND status = 'running'")
            .bind(until)
            .bind(id)
            .bind(owner)
            .execute(self.pool())
            .await
            .map_err(db("renew an FsOps job lease"))?;
        if renewed.rows_affected() == 0 {
            return Err(StoreError::NotOwner { id });
        }
        Ok(())
    }

    /// Updates a job `owner` holds, in one transaction; returns the new row.
    /// Any status other than `running` releases the lease.
    pub async fn update_fs_job(&self, id: i64, owner: &str, update: &FsJobUpdate) -> Result<FsJob> {
        let now = now_ms();
        let mut tx = self.pool().begin().await.map_err(db("begin a transaction"))?;
        // The ownership check is the first write: it takes the lock.
        let held = sqlx::query("UPDATE fs_jobs SET updated_at = $1 WHERE id = $2 AND owner = $3")
            .bind(now)
            .bind(id)
            .bind(owner)
            .execute(&mut *tx)
            .await
            .map_err(db("update an FsOps job"))?;
        if held.rows_affected() == 0 {
            drop(tx);
            return Err(match self.fs_job(id).await {
                Ok(_) => StoreError::NotOwner { id },
                Err(err) => err,
            });
        }
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM fs_jobs WHERE id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db("read an FsOps job"))?;
        let current = decode(&row)?;
        // The row as it will be: written, then returned without a re-read.
        let status = update.status.unwrap_or(current.status);
        let running = status == FsJobStatus::Running;
        let next = FsJob {
            status,
            destination: update.destination.clone().or(current.destination),
            attempts: update.attempts.unwrap_or(current.attempts),
            last_error: update.last_error.clone().unwrap_or(current.last_error),
            next_attempt_at: update.next_attempt_at.unwrap_or(current.next_attempt_at),
            journal: update.journal.clone().unwrap_or(current.journal),
            owner: running.then(|| owner.to_owned()),
            lease_until: if running { current.lease_until } else { None },
            updated_at: from_ms(now),
            ..current
        };
        sqlx::query(
            "UPDATE fs_jobs SET status = $1, destination = $2, attempts = $3, last_error = $4, \
             next_attempt_at = $5, journal = $6, owner = $7, lease_until = $8 WHERE id = $9",
        )
        .bind(next.status.as_str())
        .bind(next.destination.as_deref())
        .bind(i64::from(next.attempts))
        .bind(next.last_error.as_deref())
        .bind(next.next_attempt_at.map(|at| at.timestamp_millis()))
        .bind(next.journal.to_string())
        .bind(next.owner.as_deref())
        .bind(next.lease_until.map(|at| at.timestamp_millis()))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db("update an FsOps job"))?;
        tx.commit().await.map_err(db("update an FsOps job"))?;
        Ok(next)
    }
}
