//! Bringing torrents back from the resume directory at start-up.

use std::path::PathBuf;

use revaer_domain::{EngineEvent, InfoHash};

use super::Worker;
use super::commands::add_params;
use crate::error::Result;
use crate::ffi;
use crate::metainfo::{Metainfo, priorities_for};
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
        self.emit(EngineEvent::ResumeRejected { torrent: id, reason });
    }

    fn restore_one(&mut self, stored: StoredTorrent) {
        let id = stored.id;
        let info = stored.metainfo.as_deref().and_then(|bytes| Metainfo::parse(bytes).ok());
        let layout = info.filter(|info| info.id == id).map(|info| info.layout().to_vec());
        let (mut meta, meta_problem) = match stored.meta {
            Ok(meta) => (meta, None),
            Err(reason) => (TorrentMeta::new(id, id.to_hex(), PathBuf::default()), Some(reason)),
        };
        if let Some(reason) = &meta_problem {
            if stored.resume.is_none() && layout.is_none() {
                self.reject(id, format!("{reason}; nothing left to restore from"));
                return;
            }
            self.reject(id, reason.clone());
        }
        if let Some(layout) = &layout
            && meta.file_priorities.is_empty()
            && !meta.selection.is_default()
        {
            meta.file_priorities = priorities_for(layout, &meta.selection).unwrap_or_default();
        }
        let pending = layout.is_none() && !meta.selection.is_default();
        let metainfo = layout.as_ref().and(stored.metainfo.as_deref());
        let pex = self.session_config.pex;
        let mut params = add_params(&meta, metainfo, stored.resume.as_deref(), pending, pex);
        let mut added = ffi::torrent::ffi::add_torrent(self.session.pin_mut(), &params);
        if let Err(err) = &added
            && stored.resume.is_some()
        {
            self.reject(id, format!("{}; rechecking from the metainfo", err.what()));
            if meta.save_path.as_os_str().is_empty() {
                meta.save_path.clone_from(&self.session_config.download_dir);
            }
            params = add_params(&meta, metainfo, None, pending, pex);
            added = ffi::torrent::ffi::add_torrent(self.session.pin_mut(), &params);
        }
        if let Err(err) = added {
            self.reject(id, format!("could not re-add the torrent: {}", err.what()));
            return;
        }
        if meta_problem.is_some()
            && let Err(err) = self.store.write_meta(&meta)
        {
            tracing::error!(torrent = %id, error = %err, "rewriting the torrent record failed");
        }
        let mut record = TorrentRecord::new(meta, layout);
        record.selection_pending = pending;
        let event = EngineEvent::TorrentAdded {
            torrent: id,
            name: record.name(),
            labels: record.meta.labels.clone(),
            restored: true,
        };
        self.torrents.insert(id, record);
        self.emit(event);
    }
}
