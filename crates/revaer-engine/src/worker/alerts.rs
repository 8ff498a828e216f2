//! Turning libtorrent alerts and status updates into records and events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use revaer_domain::event;
use revaer_domain::{EngineEvent, FilePriority, InfoHash, TorrentState};

use super::Worker;
use crate::error::{EngineError, Result};
use crate::ffi;
use crate::ffi::alert::{AlertKind, AlertRecord, StatusRecord};
use crate::metainfo::{FileSlot, Metainfo, arrange, priorities_with, visible_files};
use crate::torrents::derive_state;

/// At most this many progress events per torrent per second.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

impl Worker<'_> {
    pub(super) fn on_alert(&mut self, alert: &AlertRecord) {
        let id = InfoHash::from_bytes(alert.info_hash);
        match alert.kind {
            AlertKind::MetadataReceived => {
                if let Err(err) = self.on_metadata(id) {
                    tracing::warn!(torrent = %id, error = %err, "applying metadata failed");
                    self.emit(EngineEvent::TorrentError(event::TorrentError {
                        torrent: id,
                        message: err.to_string(),
                    }));
                }
            }
            AlertKind::Deleted => self.finish_delete(id, None),
            AlertKind::DeleteFailed => self.finish_delete(id, Some(&alert.message)),
            AlertKind::TrackerError => self.emit(EngineEvent::TrackerError(event::TrackerError {
                torrent: id,
                url: alert.detail.clone(),
                message: alert.message.clone(),
            })),
            AlertKind::TorrentError | AlertKind::FileError => {
                let message = if alert.detail.is_empty() {
                    alert.message.clone()
                } else {
                    format!("{} ({})", alert.message, alert.detail)
                };
                tracing::warn!(torrent = %id, %message, "torrent error");
                self.emit(EngineEvent::TorrentError(event::TorrentError { torrent: id, message }));
            }
            AlertKind::ListenFailed => {
                tracing::warn!(endpoint = %alert.detail, error = %alert.message, "listen failed");
                let failure = format!("{}: {}", alert.detail, alert.message);
                if !self.faults.listen_failed.contains(&failure) {
                    self.faults.listen_failed.push(failure);
                }
                self.refresh_health();
            }
            AlertKind::ListenSucceeded => self.on_listening(alert),
            AlertKind::ResumeSaved => self.on_resume_saved(id, &alert.data),
            AlertKind::ResumeFailed => {
                self.saving.remove(&id);
                tracing::debug!(torrent = %id, error = %alert.message, "no resume data");
            }
            AlertKind::StorageMoved => self.finish_move(id, Ok(alert.detail.clone())),
            AlertKind::Lost => self.on_lost_alerts(&alert.message),
            // A report queued before the DHT was switched off is stale.
            AlertKind::DhtStats if self.session_config.dht => {
                let nodes = alert.count;
                self.context.shared.update_health(|health| health.dht_nodes = Some(nodes));
            }
            AlertKind::StorageMoveFailed => {
                let message = format!("{} ({})", alert.message, alert.detail);
                self.finish_move(id, Err(EngineError::MoveFailed { id, message }));
            }
            AlertKind::PrioritiesReset => self.apply_edges(id),
            _ => {}
        }
    }

    fn on_listening(&mut self, alert: &AlertRecord) {
        tracing::info!(endpoint = %alert.detail, "listening");
        let (endpoint, port, tcp) = (alert.detail.clone(), alert.port, alert.tcp);
        self.faults.listen_failed.retain(|failure| !failure.starts_with(&format!("{endpoint}:")));
        self.context.shared.update_health(|health| {
            if !health.listen_endpoints.contains(&endpoint) {
                health.listen_endpoints.push(endpoint);
            }
            if tcp && health.listen_port.is_none() {
                health.listen_port = Some(port);
            }
        });
        self.refresh_health();
    }

    fn on_resume_saved(&mut self, id: InfoHash, data: &[u8]) {
        self.saving.remove(&id);
        // A save that lands after a remove must not bring the torrent back.
        if !self.torrents.contains_key(&id) {
            return;
        }
        match self.store.write_resume(id, data) {
            Ok(()) => {
                if self.faults.resume_dir.take().is_some() {
                    self.refresh_health();
                }
            }
            Err(err) => {
                tracing::error!(torrent = %id, error = %err, "writing resume data failed");
                self.faults.resume_dir = Some(format!("cannot write resume data: {err}"));
                self.refresh_health();
            }
        }
    }

    /// libtorrent has deleted a removed torrent's part file (`failure` is
    /// `None`) or could not. The torrent's own files are deleted now, off
    /// this thread, keeping those that were there before it and those
    /// another torrent names at the same place — as things stand now, not
    /// at the removal: a torrent added meanwhile counts. A torrent added
    /// again under the same id meanwhile keeps every file.
    fn finish_delete(&mut self, id: InfoHash, failure: Option<&str>) {
        let replies = self.deletes.remove(&id).unwrap_or_default();
        let failure = failure.map(str::to_owned);
        let events = self.context.events.clone();
        let finish = move |failure: Option<String>| {
            // An error only means nobody is subscribed.
            let _ = events.send(EngineEvent::Removed(event::Removed {
                torrent: id,
                data_deleted: failure.is_none(),
            }));
            for reply in replies {
                let _ = reply.send(match &failure {
                    None => Ok(()),
                    Some(message) => {
                        Err(EngineError::DeleteFailed { id, message: message.clone() })
                    }
                });
            }
        };
        let own = self.own_deletes.remove(&id).filter(|_| !self.torrents.contains_key(&id));
        let Some(mut own) = own else {
            finish(failure);
            return;
        };
        let others = self
            .torrents
            .values()
            .filter_map(|other| Some((other.meta.save_path.as_path(), other.layout.as_deref()?)));
        own.kept.extend(crate::owned::shared(&own.save_path, &own.layout, others));
        self.off_thread(Box::new(move || {
            let deleted = own.run();
            if deleted.is_ok() {
                tracing::info!(torrent = %id, kept = own.kept.len(), "deleted the files it wrote");
            }
            finish(failure.or(deleted.err()));
        }));
    }

    fn finish_move(&mut self, id: InfoHash, result: Result<String>) {
        let replies = self.moves.remove(&id).unwrap_or_default();
        if let Some(record) = self.torrents.get_mut(&id) {
            // Memory follows libtorrent whatever the disk says; a failed
            // write leaves `moving_to` on disk, which the restore resolves.
            if let Ok(path) = &result {
                record.meta.save_path = std::path::PathBuf::from(path);
            }
            record.meta.moving_to = None;
            persist(&self.store, &record.meta);
            let summary = record.shared_summary();
            self.context.shared.publish(summary);
        }
        let outcome = result.map(|path| {
            self.emit(EngineEvent::StorageMoved(event::StorageMoved {
                torrent: id,
                save_path: path.into(),
            }));
            self.request_save(id);
        });
        if let Err(err) = &outcome {
            tracing::warn!(torrent = %id, error = %err, "storage move failed");
        }
        let message = outcome.as_ref().err().map(ToString::to_string);
        for reply in replies {
            let _ = reply.send(match &message {
                None => Ok(()),
                Some(message) => Err(EngineError::MoveFailed { id, message: message.clone() }),
            });
        }
    }

    /// libtorrent dropped alerts: replies parked on an alert may never get
    /// one, so they are answered now with what is known.
    fn on_lost_alerts(&mut self, message: &str) {
        tracing::error!(%message, "libtorrent alerts lost");
        let unknown = || EngineError::Native {
            op: "confirm the operation",
            message: format!(
                "libtorrent dropped its alerts ({message}); check the torrent's state"
            ),
        };
        self.own_deletes.clear();
        for (_, replies) in self.moves.drain().chain(self.deletes.drain()) {
            for reply in replies {
                let _ = reply.send(Err(unknown()));
            }
        }
        self.saving.clear();
    }

    /// A magnet's metadata arrived: apply the pending selection, keep the
    /// metainfo, announce the files.
    fn on_metadata(&mut self, id: InfoHash) -> Result<()> {
        let Some(record) = self.torrents.get(&id) else { return Ok(()) };
        // Only a pending selection has rules to apply: a magnet without one
        // selects every file.
        let pending = record.pending_selection.clone();
        let selection = pending.clone().unwrap_or_default();
        let files = ffi::torrent::ffi::torrent_files(self.session.pin_mut(), id.as_bytes())
            .map_err(EngineError::native("read files"))?;
        let content_layout = record.meta.content_layout;
        let (layout, renames) =
            arrange(files.into_iter().map(FileSlot::from).collect(), content_layout);
        if !renames.is_empty()
            && let Err(err) = ffi::torrent::ffi::rename_torrent_files(
                self.session.pin_mut(),
                id.as_bytes(),
                &renames,
            )
        {
            // Reported, and the rest (a pending selection above all) still
            // applied: the files then lie where the metainfo names them.
            let message = EngineError::native("lay out the files")(err).to_string();
            self.emit(EngineEvent::TorrentError(event::TorrentError { torrent: id, message }));
        }
        let priorities = match priorities_with(&layout, &selection) {
            Ok(priorities) => priorities,
            Err(err) => {
                self.emit(EngineEvent::TorrentError(event::TorrentError {
                    torrent: id,
                    message: err.to_string(),
                }));
                layout.iter().map(|slot| if slot.pad { 0 } else { 4 }).collect()
            }
        };
        if pending.is_some() {
            ffi::torrent::ffi::set_file_priorities(
                self.session.pin_mut(),
                id.as_bytes(),
                &priorities,
            )
            .map_err(EngineError::native("set file priorities"))?;
        }
        if pending.is_some() {
            self.set_upload_mode(id, false)?;
        }
        let name = self.keep_metainfo(id);
        let Some(record) = self.torrents.get_mut(&id) else { return Ok(()) };
        let mut meta = record.meta.clone();
        meta.file_priorities.clone_from(&priorities);
        // No piece can have been written before the file list was known:
        // whatever is on disk already was not written by this torrent.
        meta.adopted = crate::owned::adopted(&meta.save_path, &layout);
        if let Some(name) = name {
            // The magnet's `dn` was only a hint; the metadata names it.
            if let Some(status) = record.status.as_mut() {
                status.name.clone_from(&name);
            }
            meta.name = name;
        }
        self.store.write_meta(&meta)?;
        record.meta = meta;
        record.pending_selection = None;
        let entries = visible_files(&layout, |index| {
            (0, FilePriority::from_libtorrent(priorities.get(index).copied().unwrap_or(4)))
        });
        record.layout = Some(layout);
        let name = record.name();
        self.apply_edges(id);
        self.request_save(id);
        self.refresh_facets(id);
        self.emit(EngineEvent::MetadataReceived(event::MetadataReceived {
            torrent: id,
            name,
            files: entries,
        }));
        Ok(())
    }

    /// Writes the metainfo of a torrent whose metadata just arrived, so a
    /// restart needs no peer to know its files; returns its name. Failing
    /// here only costs a metadata fetch after a restart, so it is logged.
    fn keep_metainfo(&mut self, id: InfoHash) -> Option<String> {
        let kept = ffi::torrent::ffi::torrent_metainfo(self.session.pin_mut(), id.as_bytes())
            .map_err(EngineError::native("read metainfo"))
            .and_then(|bytes| self.store.write_metainfo(id, &bytes).map(|()| bytes));
        match kept {
            Ok(bytes) => Metainfo::parse(&bytes).map(|info| info.name).ok(),
            Err(err) => {
                tracing::warn!(torrent = %id, error = %err, "keeping the metainfo failed");
                None
            }
        }
    }

    pub(super) fn on_statuses(&mut self, statuses: &[StatusRecord]) {
        let now = Instant::now();
        let mut published = Vec::with_capacity(statuses.len());
        let mut events = Vec::new();
        let mut saves = Vec::new();
        for status in statuses {
            let id = InfoHash::from_bytes(status.info_hash);
            let Some(record) = self.torrents.get_mut(&id) else { continue };
            let state = derive_state(status);
            let previous = record.state;
            let moved =
                record.status.as_ref().is_none_or(|s| s.queue_position != status.queue_position);
            self.queue_dirty |= moved;
            record.status = Some(status.clone());
            record.status_at = Some(now);
            if record.meta.save_path.as_os_str().is_empty() && !status.save_path.is_empty() {
                record.meta.save_path = status.save_path.clone().into();
                persist(&self.store, &record.meta);
            }
            if state != previous {
                record.state = state;
                events.push(EngineEvent::StateChanged(event::StateChanged {
                    torrent: id,
                    from: previous,
                    to: state,
                }));
                if matches!(state, TorrentState::Paused | TorrentState::Seeding) {
                    saves.push(id);
                }
            }
            let settled = !matches!(
                state,
                TorrentState::Checking | TorrentState::Metadata | TorrentState::Error
            );
            // A torrent with every file skipped is finished but has
            // delivered nothing: no completion for it.
            if status.is_finished
                && status.has_metadata
                && status.total_wanted > 0
                && settled
                && record.meta.completed_at.is_none()
            {
                record.meta.completed_at = Some(Utc::now());
                persist(&self.store, &record.meta);
                events.push(EngineEvent::Completed(event::Completed {
                    torrent: id,
                    name: record.name(),
                    content_path: record.content_path(),
                }));
                saves.push(id);
            } else if state == TorrentState::Downloading && record.meta.completed_at.is_some() {
                record.meta.completed_at = None;
                persist(&self.store, &record.meta);
            }
            let summary = record.summary();
            events.extend(due_progress(record, &summary, now));
            if status.need_save_resume {
                self.dirty.insert(id);
            }
            published.push(Arc::new(summary));
        }
        self.context.shared.publish_many(published);
        for id in saves {
            self.request_save(id);
        }
        for event in events {
            self.emit(event);
        }
        self.recompute_torrent_faults();
    }
}

impl Worker<'_> {
    /// Health follows the torrents: degraded while any is in error (disk
    /// full, permissions, a missing drive), ok again once none is.
    pub(super) fn recompute_torrent_faults(&mut self) {
        let mut errored =
            self.torrents.values().filter(|record| record.state == TorrentState::Error);
        let fault = errored.next().map(|record| {
            let message = record.status.as_ref().map(|s| s.error.as_str()).unwrap_or_default();
            let others = errored.count();
            let more = if others > 0 { format!(" (and {others} more)") } else { String::new() };
            format!("torrent {} failed: {message}{more}", record.id())
        });
        if fault != self.faults.disk {
            self.faults.disk = fault;
            self.refresh_health();
        }
    }
}

/// A progress event when one is due: while downloading or seeding, at most
/// every [`PROGRESS_EVERY`], and only when something moved.
fn due_progress(
    record: &mut crate::torrents::TorrentRecord,
    summary: &revaer_domain::TorrentSummary,
    now: Instant,
) -> Option<EngineEvent> {
    if !matches!(record.state, TorrentState::Downloading | TorrentState::Seeding) {
        return None;
    }
    let values =
        (summary.bytes_done, summary.bytes_wanted, summary.download_bps, summary.upload_bps);
    if record
        .last_progress
        .is_some_and(|(at, last)| now.duration_since(at) < PROGRESS_EVERY || last == values)
    {
        return None;
    }
    record.last_progress = Some((now, values));
    Some(EngineEvent::Progress(event::Progress {
        torrent: summary.id,
        progress: summary.progress,
        bytes_done: summary.bytes_done,
        bytes_wanted: summary.bytes_wanted,
        download_bps: summary.download_bps,
        upload_bps: summary.upload_bps,
        eta_secs: summary.eta_secs,
    }))
}

/// Writes a record changed by the worker itself (not by a caller); a
/// failure degrades health through the next save instead of failing.
fn persist(store: &crate::resume::ResumeStore, meta: &crate::resume::TorrentMeta) {
    if let Err(err) = store.write_meta(meta) {
        tracing::error!(torrent = %meta.id, error = %err, "writing torrent record failed");
    }
}
