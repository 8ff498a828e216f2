//! The torrent catalogue: which daemon holds which torrent, with its name,
//! labels, save path and times (ADR 0006). The engine's resume directory
//! is the engine's own record; these rows are written from its events by
//! one writer per daemon (`revaer-service`'s catalogue).

use chrono::{DateTime, Utc};
use revaer_domain::InfoHash;
use sqlx::Row;

use crate::error::{Result, StoreError, db};
use crate::{Store, from_ms};

/// Where a torrent came from: enough to add it again from nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TorrentSourceRow {
    /// A magnet URI.
    Magnet(String),
    /// The bytes of a `.torrent`.
    Metainfo(Vec<u8>),
}

/// One torrent as the database keeps it (times to the millisecond).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TorrentRow {
    /// Its id.
    pub info_hash: InfoHash,
    /// Its name.
    pub name: String,
    /// Category.
    pub category: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Save path.
    pub save_path: String,
    /// Source.
    pub source: TorrentSourceRow,
    /// Added.
    pub added_at: DateTime<Utc>,
    /// Completed (the last time).
    pub completed_at: Option<DateTime<Utc>>,
    /// The trace id of the request that added it (kept from the first add).
    pub trace_id: Option<String>,
    /// The instance name of the daemon that holds it (`None` for rows from
    /// before the catalogue recorded holders).
    pub instance: Option<String>,
}

const COLUMNS: &str = "info_hash, name, category, tags, save_path, source_magnet, source_metainfo, added_at, completed_at, trace_id, instance";

fn decode(row: &sqlx::any::AnyRow) -> Result<TorrentRow> {
    let read = || db("read a torrent");
    let hex: String = row.try_get(0).map_err(read())?;
    let tags: String = row.try_get(3).map_err(read())?;
    let magnet: Option<String> = row.try_get(5).map_err(read())?;
    let metainfo: Option<Vec<u8>> = row.try_get(6).map_err(read())?;
    let source = match (magnet, metainfo) {
        (_, Some(bytes)) => TorrentSourceRow::Metainfo(bytes),
        (Some(uri), None) => TorrentSourceRow::Magnet(uri),
        (None, None) => {
            return Err(StoreError::Corrupt {
                what: "torrent",
                detail: format!("{hex} has no source"),
            });
        }
    };
    Ok(TorrentRow {
        info_hash: InfoHash::parse(&hex)
            .map_err(|err| StoreError::Corrupt { what: "torrent id", detail: err.to_string() })?,
        name: row.try_get(1).map_err(read())?,
        category: row.try_get(2).map_err(read())?,
        tags: serde_json::from_str(&tags)
            .map_err(|err| StoreError::Corrupt { what: "torrent tags", detail: err.to_string() })?,
        save_path: row.try_get(4).map_err(read())?,
        source,
        added_at: from_ms(row.try_get(7).map_err(read())?),
        completed_at: row.try_get::<Option<i64>, _>(8).map_err(read())?.map(from_ms),
        trace_id: row.try_get(9).map_err(read())?,
        instance: row.try_get(10).map_err(read())?,
    })
}

impl Store {
    /// Inserts or updates a torrent's row. The trace id is the first one
    /// recorded, and a source once recorded stays (a `.torrent` is kept
    /// over a magnet link; the first magnet over a later one).
    pub async fn upsert_torrent(&self, torrent: &TorrentRow) -> Result<()> {
        let (magnet, metainfo) = match &torrent.source {
            TorrentSourceRow::Magnet(uri) => (Some(uri.as_str()), None),
            TorrentSourceRow::Metainfo(bytes) => (None, Some(bytes.clone())),
        };
        sqlx::query(&format!(
            "INSERT INTO torrents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (info_hash) DO UPDATE SET name = excluded.name, category = excluded.category, \
             tags = excluded.tags, save_path = excluded.save_path, \
             source_magnet = COALESCE(torrents.source_magnet, excluded.source_magnet), \
             source_metainfo = COALESCE(excluded.source_metainfo, torrents.source_metainfo), \
             completed_at = excluded.completed_at, \
             trace_id = COALESCE(torrents.trace_id, excluded.trace_id), instance = excluded.instance"
        ))
        .bind(torrent.info_hash.to_hex())
        .bind(&torrent.name)
        .bind(torrent.category.as_deref())
        .bind(serde_json::Value::from(torrent.tags.clone()).to_string())
        .bind(&torrent.save_path)
        .bind(magnet)
        .bind(metainfo)
        .bind(torrent.added_at.timestamp_millis())
        .bind(torrent.completed_at.map(|at| at.timestamp_millis()))
        .bind(torrent.trace_id.as_deref())
        .bind(torrent.instance.as_deref())
        .execute(self.pool())
        .await
        .map_err(db("write a torrent"))?;
        Ok(())
    }

    /// One torrent's row.
    pub async fn torrent(&self, id: InfoHash) -> Result<Option<TorrentRow>> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM torrents WHERE info_hash = $1"))
            .bind(id.to_hex())
            .fetch_optional(self.pool())
            .await
            .map_err(db("read a torrent"))?
            .as_ref()
            .map(decode)
            .transpose()
    }

    /// Every torrent, oldest first.
    pub async fn torrents(&self) -> Result<Vec<TorrentRow>> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM torrents ORDER BY added_at, info_hash"))
            .fetch_all(self.pool())
            .await
            .map_err(db("list torrents"))?
            .iter()
            .map(decode)
            .collect()
    }

    /// Records (or clears) a torrent's completion time.
    pub async fn set_torrent_completed(
        &self,
        id: InfoHash,
        at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let updated = sqlx::query("UPDATE torrents SET completed_at = $1 WHERE info_hash = $2")
            .bind(at.map(|at| at.timestamp_millis()))
            .bind(id.to_hex())
            .execute(self.pool())
            .await
            .map_err(db("mark a torrent completed"))?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "torrent", id: id.to_hex() });
        }
        Ok(())
    }

    /// Deletes a torrent's row and its FsOps jobs, in one transaction,
    /// unless a daemon other than `instance` holds it now; false if nothing
    /// was deleted.
    pub async fn remove_torrent_held_by(&self, id: InfoHash, instance: &str) -> Result<bool> {
        let mut tx = self.pool().begin().await.map_err(db("begin a transaction"))?;
        let removed = sqlx::query(
            "DELETE FROM torrents WHERE info_hash = $1 AND (instance IS NULL OR instance = $2)",
        )
        .bind(id.to_hex())
        .bind(instance)
        .execute(&mut *tx)
        .await
        .map_err(db("remove a torrent"))?;
        if removed.rows_affected() > 0 {
            sqlx::query("DELETE FROM fs_jobs WHERE info_hash = $1")
                .bind(id.to_hex())
                .execute(&mut *tx)
                .await
                .map_err(db("remove a torrent's jobs"))?;
        }
        tx.commit().await.map_err(db("remove a torrent"))?;
        Ok(removed.rows_affected() > 0)
    }

    /// Deletes a torrent's row and its FsOps jobs; false if there was none.
    pub async fn remove_torrent(&self, id: InfoHash) -> Result<bool> {
        let mut tx = self.pool().begin().await.map_err(db("begin a transaction"))?;
        sqlx::query("DELETE FROM fs_jobs WHERE info_hash = $1")
            .bind(id.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(db("remove a torrent's jobs"))?;
        let removed = sqlx::query("DELETE FROM torrents WHERE info_hash = $1")
            .bind(id.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(db("remove a torrent"))?;
        tx.commit().await.map_err(db("remove a torrent"))?;
        Ok(removed.rows_affected() > 0)
    }
}
