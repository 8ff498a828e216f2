//! Bringing torrents back from the resume directory at start-up.

use std::path::PathBuf;

use revaer_domain::event;
use revaer_domain::{CompiledSelection, EngineEvent, InfoHash};

use super::Worker;
use super::commands::add_params;
use crate::error::Result;
use crate::ffi;
use crate::metainfo::{FileSlot, Metainfo, arrange_known, priorities_for};
use crate::resume::{StoredTorrent, TorrentMeta};
use crate::torrents::TorrentRecord;

impl Worker<'_> {
    /// Re-adds every torrent in the resume directory. A torrent whose
    /// resume data is unusable is re-added from its metainfo or magnet (and
    /// rechecked) and reported; none is dropped silently.
    pub(super) fn restore(&mut self) -> Result<()> {
        let stored = self.store.load_all()?;
        let count = stored.len();
        for torrent in stored {
            self.restore_one(torrent);
        }
        let summaries = self.torrents.values().map(TorrentRecord::shared_summary).collect();
        self.context.shared.publish_many(summaries);
        if count > 0 {
            tracing::info!(restored = self.torrents.len(), found = count, "torrents restored");
        }
        Ok(())
    }

    fn reject(&self, id: InfoHash, reason: String) {
        tracing::warn!(torrent = %id, %reason, "resume data rejected");
        self.emit(EngineEvent::ResumeRejected(event::ResumeRejected { torrent: id, reason }));
    }

    /// A magnet's stored selection, compiled once here for the metadata
    /// to come. Rules stored by an older build may no longer compile:
    /// every file is then fetched, and the torrent says why.
    fn pending_selection(&self, meta: &TorrentMeta) -> Option<CompiledSelection> {
        if meta.selection.is_default() {
            return None;
        }
        match meta.selection.compile() {
            Ok(compiled) => Some(compiled),
            Err(err) => {
                tracing::warn!(torrent = %meta.id, error = %err, "stored file selection dropped");
                self.emit(EngineEvent::TorrentError(event::TorrentError {
                    torrent: meta.id,
                    message: format!("the stored file selection no longer applies: {err}"),
                }));
                None
            }
        }
    }

    fn restore_one(&mut self, stored: StoredTorrent) {
        let id = stored.id;
        // The .torrent was written by us under this id (a v2 magnet that
        // turned out hybrid keeps its v2 id), so it is trusted as is.
        let layout = stored
            .metainfo
            .as_deref()
            .and_then(|bytes| Metainfo::parse(bytes).ok())
            .map(|info| info.layout().to_vec());
        let (mut meta, meta_problem) = match stored.meta {
            Ok(meta) => (meta, None),
            Err(reason) => (TorrentMeta::new(id, id.to_hex(), PathBuf::default()), Some(reason)),
        };
        if let Some(reason) = &meta_problem {
            if stored.resume.is_none() && layout.is_none() {
                self.give_up(id, &format!("{reason}; nothing left to restore from"));
                return;
            }
            self.reject(id, reason.clone());
        }
        // The files as they lie on disk: the metainfo's, laid out as at the
        // add (libtorrent is told again, in case the resume data missed it).
        let (layout, renames) = arrange_known(layout, meta.content_layout);
        let moved = settle_interrupted_move(&mut meta, layout.as_deref());
        if let Some(layout) = &layout
            && meta.file_priorities.is_empty()
            && !meta.selection.is_default()
        {
            meta.file_priorities = priorities_for(layout, &meta.selection).unwrap_or_default();
        }
        let pending = if layout.is_none() { self.pending_selection(&meta) } else { None };
        let metainfo = layout.as_ref().and(stored.metainfo.as_deref());
        let pex = self.session_config.pex;
        let mut params = add_params(
            &meta,
            metainfo,
            stored.resume.as_deref(),
            pending.is_some(),
            pex,
            renames.clone(),
        );
        let mut added = ffi::torrent::ffi::add_torrent(self.session.pin_mut(), &params);
        if let Err(err) = &added
            && stored.resume.is_some()
        {
            self.reject(id, format!("{}; rechecking from the metainfo", err.what()));
            if meta.save_path.as_os_str().is_empty() {
                meta.save_path.clone_from(&self.session_config.download_dir);
            }
            params = add_params(&meta, metainfo, None, pending.is_some(), pex, renames);
            added = ffi::torrent::ffi::add_torrent(self.session.pin_mut(), &params);
        }
        match added {
            Ok(added) if !added.duplicate => {}
            Ok(added) => {
                let other = InfoHash::from_bytes(added.info_hash);
                self.give_up(id, &format!("the same torrent is already restored as {other}"));
                return;
            }
            Err(err) => {
                self.give_up(id, &format!("could not re-add the torrent: {}", err.what()));
                return;
            }
        }
        if (meta_problem.is_some() || moved)
            && let Err(err) = self.store.write_meta(&meta)
        {
            tracing::error!(torrent = %id, error = %err, "rewriting the torrent record failed");
        }
        let mut record = TorrentRecord::new(meta, layout);
        record.pending_selection = pending;
        let summary = record.summary();
        let event = EngineEvent::TorrentAdded(event::TorrentAdded {
            torrent: id,
            name: summary.name,
            labels: summary.labels,
            save_path: summary.save_path,
            added_at: summary.added_at,
            restored: true,
        });
        self.torrents.insert(id, record);
        self.refresh_facets(id);
        self.apply_edges(id);
        self.emit(event);
    }

    /// A torrent that cannot come back: reported, and its files moved to
    /// `rejected/` so that they are kept but do not fail every start.
    fn give_up(&self, id: InfoHash, reason: &str) {
        let kept = match self.store.quarantine(id) {
            Ok(dir) => format!("; its files are kept in {}", dir.display()),
            Err(err) => format!("; moving its files aside failed: {err}"),
        };
        self.reject(id, format!("{reason}{kept}"));
    }
}

/// A crash during a move leaves `moving_to` in the record: the files are
/// wherever the payload now is. Returns whether the record changed.
fn settle_interrupted_move(meta: &mut TorrentMeta, layout: Option<&[FileSlot]>) -> bool {
    let Some(target) = meta.moving_to.take() else { return false };
    let top = layout
        .and_then(|slots| slots.iter().find(|slot| !slot.pad))
        .and_then(|slot| slot.path.split('/').next())
        .map_or_else(|| meta.name.clone(), str::to_owned);
    if target.join(&top).exists() {
        meta.save_path = target;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_move_follows_the_payload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let id = InfoHash::from_bytes([3; 20]);
        let mut meta = TorrentMeta::new(id, "show".into(), "/old".into());
        assert!(!settle_interrupted_move(&mut meta, None));

        meta.moving_to = Some(dir.path().to_path_buf());
        assert!(settle_interrupted_move(&mut meta, None));
        assert_eq!(meta.save_path, PathBuf::from("/old"), "nothing arrived: stay");
        assert_eq!(meta.moving_to, None);

        std::fs::create_dir(dir.path().join("show")).expect("mkdir");
        meta.moving_to = Some(dir.path().to_path_buf());
        assert!(settle_interrupted_move(&mut meta, None));
        assert_eq!(meta.save_path, dir.path(), "the payload moved: follow it");
    }
}
