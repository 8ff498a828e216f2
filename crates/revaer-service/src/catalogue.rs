//! The torrent catalogue: the store's record of which daemon holds which
//! torrent, with its name, labels, save path and times (ADR 0006).
//!
//! The engine's resume directory is the engine's own record; the catalogue
//! is written from the bus's events by one writer per daemon — the
//! [`Catalogue`] — and brought in line with the engine's list when the
//! daemon starts (or when it fell behind the bus). Nothing else writes
//! torrent rows, and no request waits for them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use revaer_domain::event::TorrentAdded;
use revaer_domain::{Event, InfoHash, StreamEvent, TorrentSummary};
use revaer_engine::Engine;
use revaer_store::{Store, StoreError, TorrentRow, TorrentSourceRow};

use crate::Result;

/// The catalogue's one writer for this daemon.
#[derive(Debug, Clone)]
pub struct Catalogue {
    store: Store,
    instance: String,
}

/// A magnet link that finds the torrent again from any peer.
fn magnet(id: InfoHash, name: &str) -> TorrentSourceRow {
    let name: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    TorrentSourceRow::Magnet(format!("magnet:?xt=urn:btih:{}&dn={name}", id.to_hex()))
}

impl Catalogue {
    /// The writer for the daemon named `instance`.
    pub fn new(store: Store, instance: impl Into<String>) -> Self {
        Self { store, instance: instance.into() }
    }

    /// Brings the catalogue in line with the engine: a row for every
    /// torrent it holds, and none for torrents this daemon no longer holds.
    /// One read of the table, then a write per torrent.
    pub async fn reconcile(&self, engine: &Engine) -> Result<()> {
        let held = engine.list();
        let mut rows: HashMap<InfoHash, TorrentRow> =
            self.store.torrents().await?.into_iter().map(|row| (row.info_hash, row)).collect();
        for summary in &held {
            let existing = rows.remove(&summary.id);
            self.store.upsert_torrent(&self.row_for(summary, existing)).await?;
        }
        // What is left is held by no engine of this daemon.
        for row in rows.into_values() {
            if row.instance.as_deref() == Some(self.instance.as_str()) {
                self.store.remove_torrent_held_by(row.info_hash, &self.instance).await?;
            }
        }
        Ok(())
    }

    /// Makes sure `summary`'s torrent has a row (when its `torrent_added`
    /// could not be recorded, say), before a job refers to it.
    pub async fn ensure(&self, summary: &TorrentSummary) -> Result<()> {
        if self.store.torrent(summary.id).await?.is_none() {
            self.store.upsert_torrent(&self.row_for(summary, None)).await?;
        }
        Ok(())
    }

    fn row_for(&self, summary: &TorrentSummary, existing: Option<TorrentRow>) -> TorrentRow {
        TorrentRow {
            info_hash: summary.id,
            name: summary.name.clone(),
            category: summary.labels.category.clone(),
            tags: summary.labels.tags.clone(),
            save_path: summary.save_path.to_string_lossy().into_owned(),
            source: magnet(summary.id, &summary.name),
            added_at: summary
                .added_at
                .or_else(|| existing.as_ref().map(|r| r.added_at))
                .unwrap_or_else(Utc::now),
            completed_at: summary.completed_at,
            trace_id: existing.and_then(|r| r.trace_id),
            instance: Some(self.instance.clone()),
        }
    }

    /// Applies one event (those that change a row; others are ignored).
    pub async fn apply(&self, event: &StreamEvent) -> Result<()> {
        match &event.event {
            Event::TorrentAdded(added) => self.added(added, event.ts, event.trace_id.clone()).await,
            Event::MetadataReceived(e) => {
                self.update(e.torrent, |row| row.name.clone_from(&e.name)).await
            }
            Event::StorageMoved(e) => {
                let path = e.save_path.to_string_lossy().into_owned();
                self.update(e.torrent, |row| row.save_path = path).await
            }
            Event::Completed(e) => {
                match self.store.set_torrent_completed(e.torrent, Some(event.ts)).await {
                    Ok(()) | Err(StoreError::NotFound { .. }) => Ok(()),
                    Err(err) => Err(err.into()),
                }
            }
            Event::Removed(e) => self.removed(e.torrent).await,
            _ => Ok(()),
        }
    }

    async fn added(
        &self,
        added: &TorrentAdded,
        at: DateTime<Utc>,
        trace_id: Option<String>,
    ) -> Result<()> {
        let existing = self.store.torrent(added.torrent).await?;
        let row = TorrentRow {
            info_hash: added.torrent,
            name: added.name.clone(),
            category: added.labels.category.clone(),
            tags: added.labels.tags.clone(),
            save_path: added.save_path.to_string_lossy().into_owned(),
            source: magnet(added.torrent, &added.name),
            added_at: added.added_at.unwrap_or(at),
            completed_at: existing.as_ref().and_then(|r| r.completed_at),
            // The add request's; a restore has none, and the store keeps
            // the first one recorded (its upsert never replaces a trace).
            trace_id: if added.restored { None } else { trace_id },
            instance: Some(self.instance.clone()),
        };
        Ok(self.store.upsert_torrent(&row).await?)
    }

    async fn update(&self, id: InfoHash, change: impl FnOnce(&mut TorrentRow)) -> Result<()> {
        let Some(mut row) = self.store.torrent(id).await? else { return Ok(()) };
        // The holder stays who it is: only an add (or a reconcile) claims a row.
        change(&mut row);
        Ok(self.store.upsert_torrent(&row).await?)
    }

    /// Removes the row (and the torrent's FsOps jobs) unless another daemon
    /// sharing the database holds the torrent now (checked in the same
    /// statement, so a concurrent add elsewhere is never deleted).
    async fn removed(&self, id: InfoHash) -> Result<()> {
        self.store.remove_torrent_held_by(id, &self.instance).await?;
        Ok(())
    }
}
