//! The worker's view of one torrent: Revaer's record, the file layout and
//! the latest libtorrent status, and the list/detail views built from them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::DateTime;

use revaer_domain::{CompiledSelection, InfoHash, TorrentState, TorrentSummary};

use crate::ffi::alert::StatusRecord;
use crate::metainfo::FileSlot;
use crate::resume::TorrentMeta;

/// libtorrent `torrent_status::state_t` values (1 is `checking_files`, 7
/// `checking_resume_data`; both, and anything unknown, read as checking).
mod lt_state {
    pub const DOWNLOADING_METADATA: u8 = 2;
    pub const DOWNLOADING: u8 = 3;
    pub const FINISHED: u8 = 4;
    pub const SEEDING: u8 = 5;
}

/// One torrent as the worker tracks it.
#[derive(Debug)]
pub(crate) struct TorrentRecord {
    /// The persisted record (source, labels, user intent).
    pub meta: TorrentMeta,
    /// File slots, once the metadata is known.
    pub layout: Option<Vec<FileSlot>>,
    /// The latest status from libtorrent, and when it came.
    pub status: Option<StatusRecord>,
    /// When `status` came (seeding time runs on from there).
    pub status_at: Option<Instant>,
    /// The state last reported in an event.
    pub state: TorrentState,
    /// When the last progress event went out and what it said (bytes
    /// done, bytes wanted, download and upload rate), for coalescing.
    pub last_progress: Option<(Instant, (u64, u64, u64, u64))>,
    /// When fresh resume data was last requested.
    pub last_resume_request: Option<Instant>,
    /// The selection waiting for a magnet's metadata, compiled (upload
    /// mode is on until it arrives and the selection can be applied).
    pub pending_selection: Option<CompiledSelection>,
}

impl TorrentRecord {
    pub(crate) fn new(meta: TorrentMeta, layout: Option<Vec<FileSlot>>) -> Self {
        let state = if meta.paused { TorrentState::Paused } else { TorrentState::Checking };
        Self {
            meta,
            layout,
            status: None,
            status_at: None,
            state,
            last_progress: None,
            last_resume_request: None,
            pending_selection: None,
        }
    }

    pub(crate) fn id(&self) -> InfoHash {
        self.meta.id
    }

    /// The name: from libtorrent once known, else the record's.
    pub(crate) fn name(&self) -> String {
        self.status
            .as_ref()
            .map(|status| status.name.clone())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| self.meta.name.clone())
    }

    /// The payload, as qBittorrent's `content_path` is: the file of a
    /// single-file torrent (wherever it lies), else the top folder, or the
    /// save path itself when the files lie in it without one.
    pub(crate) fn content_path(&self) -> PathBuf {
        self.paths().0
    }

    /// The content path, and the top folder all files share (qBittorrent's
    /// `root_path`: none for files straight in the save path, nor before
    /// metadata).
    pub(crate) fn paths(&self) -> (PathBuf, Option<PathBuf>) {
        let save = &self.meta.save_path;
        let Some(layout) = self.layout.as_ref() else {
            // Before metadata the name is a magnet's `dn`: only its last
            // component counts, so it cannot point outside the save path.
            let name = self.name();
            let top = Path::new(&name)
                .file_name()
                .map_or_else(|| self.id().to_hex(), |n| n.to_string_lossy().into_owned());
            return (save.join(top), None);
        };
        let mut files = layout.iter().filter(|slot| !slot.pad).map(|slot| slot.path.as_str());
        let Some(first) = files.next() else { return (save.clone(), None) };
        let mut rest = files.peekable();
        let single = rest.peek().is_none();
        let root = match first.split_once('/') {
            Some((top, _))
                if rest.all(|path| path.split_once('/').is_some_and(|(t, _)| t == top)) =>
            {
                Some(save.join(top))
            }
            _ => None,
        };
        let content = if single { save.join(first) } else { root.clone().unwrap_or(save.clone()) };
        (content, root)
    }

    pub(crate) fn summary(&self) -> TorrentSummary {
        let (content_path, root_path) = self.paths();
        let status = self.status.as_ref();
        let get = |field: fn(&StatusRecord) -> i64| status.map_or(0, |s| field(s).max(0) as u64);
        let bytes_done = get(|s| s.total_wanted_done);
        let bytes_wanted = get(|s| s.total_wanted);
        let downloaded = get(|s| s.all_time_download);
        let uploaded = get(|s| s.all_time_upload);
        let download_bps = get(|s| s.download_rate);
        let size = match get(|s| s.total_size) {
            0 => self
                .layout
                .as_ref()
                .map_or(0, |l| l.iter().filter(|f| !f.pad).map(|f| f.size).sum()),
            size => size,
        };
        let progress = if bytes_wanted == 0 {
            if status.is_some_and(|s| s.has_metadata && s.is_finished) { 1.0 } else { 0.0 }
        } else {
            bytes_done as f64 / bytes_wanted as f64
        };
        let ratio = self.ratio();
        let eta_secs = (self.state == TorrentState::Downloading && download_bps > 0)
            .then(|| bytes_wanted.saturating_sub(bytes_done).div_ceil(download_bps));
        TorrentSummary {
            id: self.id(),
            name: self.name(),
            state: self.state,
            progress,
            bytes_done,
            bytes_wanted,
            size,
            download_bps,
            upload_bps: get(|s| s.upload_rate),
            downloaded,
            uploaded,
            ratio,
            eta_secs,
            peers: status.map_or(0, |s| s.num_peers.max(0) as u32),
            seeds: status.map_or(0, |s| s.num_seeds.max(0) as u32),
            save_path: self.meta.save_path.clone(),
            labels: self.meta.labels.clone(),
            added_at: Some(self.meta.added_at),
            completed_at: self.meta.completed_at,
            seeding_secs: get(|s| s.seeding_secs),
            last_activity_at: status
                .and_then(|s| (s.last_activity > 0).then_some(s.last_activity))
                .and_then(|secs| DateTime::from_timestamp(secs, 0)),
            private: status.is_some_and(|s| s.private_torrent),
            share_limits: self.meta.share_limits,
            queue_position: status.and_then(|s| u32::try_from(s.queue_position).ok()),
            force_start: self.meta.force_start,
            first_last_piece: self.meta.first_last_piece,
            sequential: self.meta.sequential,
            download_limit: self.meta.download_limit,
            upload_limit: self.meta.upload_limit,
            content_path,
            root_path,
        }
    }

    /// `uploaded / downloaded`, with the bytes present standing in for
    /// `downloaded` when nothing was downloaded here (a seeder).
    pub(crate) fn ratio(&self) -> f64 {
        let Some(status) = self.status.as_ref() else { return 0.0 };
        let downloaded = status.all_time_download.max(0);
        let basis = if downloaded == 0 { status.total_wanted_done.max(0) } else { downloaded };
        if basis == 0 { 0.0 } else { status.all_time_upload.max(0) as f64 / basis as f64 }
    }

    pub(crate) fn shared_summary(&self) -> Arc<TorrentSummary> {
        Arc::new(self.summary())
    }
}

/// Revaer's state for a libtorrent status.
pub(crate) fn derive_state(status: &StatusRecord) -> TorrentState {
    if !status.error.is_empty() {
        return TorrentState::Error;
    }
    if status.moving_storage {
        return TorrentState::Moving;
    }
    if status.paused {
        return if status.auto_managed { TorrentState::Queued } else { TorrentState::Paused };
    }
    match status.state {
        lt_state::DOWNLOADING_METADATA => TorrentState::Metadata,
        lt_state::FINISHED | lt_state::SEEDING => TorrentState::Seeding,
        lt_state::DOWNLOADING => TorrentState::Downloading,
        // checking_files, checking_resume_data and the old "allocating".
        _ => TorrentState::Checking,
    }
}

/// Whether `path` is acceptable as a save path or move target.
pub(crate) fn check_target(path: &Path) -> Result<(), &'static str> {
    if !path.is_absolute() {
        return Err("must be absolute");
    }
    if path.to_str().is_none() {
        return Err("must be valid UTF-8");
    }
    if path.as_os_str().len() > 4096 {
        return Err("longer than 4096 bytes");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn status(state: u8) -> StatusRecord {
        StatusRecord {
            info_hash: [1; 20],
            name: String::new(),
            save_path: String::new(),
            state,
            paused: false,
            auto_managed: true,
            sequential: false,
            has_metadata: true,
            is_finished: false,
            moving_storage: false,
            need_save_resume: false,
            error: String::new(),
            total_size: 1000,
            total_wanted: 800,
            total_wanted_done: 200,
            download_rate: 100,
            upload_rate: 50,
            all_time_download: 0,
            all_time_upload: 100,
            session_download: 0,
            session_upload: 0,
            num_peers: 2,
            num_seeds: 1,
            added_time: 0,
            completed_time: 0,
            seeding_secs: 0,
            last_activity: 0,
            private_torrent: false,
            queue_position: -1,
        }
    }

    #[test]
    fn state_derivation_covers_pause_queue_error_and_move() {
        assert_eq!(derive_state(&status(lt_state::DOWNLOADING)), TorrentState::Downloading);
        assert_eq!(derive_state(&status(lt_state::FINISHED)), TorrentState::Seeding);
        assert_eq!(derive_state(&status(7)), TorrentState::Checking);
        assert_eq!(derive_state(&status(1)), TorrentState::Checking);
        assert_eq!(derive_state(&status(lt_state::DOWNLOADING_METADATA)), TorrentState::Metadata);
        let queued = StatusRecord { paused: true, ..status(lt_state::DOWNLOADING) };
        assert_eq!(derive_state(&queued), TorrentState::Queued);
        let paused = StatusRecord { auto_managed: false, ..queued };
        assert_eq!(derive_state(&paused), TorrentState::Paused);
        let moving = StatusRecord { moving_storage: true, ..status(lt_state::SEEDING) };
        assert_eq!(derive_state(&moving), TorrentState::Moving);
        let failed = StatusRecord { error: "disk full".into(), ..status(lt_state::SEEDING) };
        assert_eq!(derive_state(&failed), TorrentState::Error);
    }

    #[test]
    fn summary_computes_progress_ratio_and_eta() {
        let meta = TorrentMeta::new(InfoHash::from_bytes([1; 20]), "n".into(), "/d".into());
        let mut record = TorrentRecord::new(meta, None);
        record.state = TorrentState::Downloading;
        record.status = Some(status(lt_state::DOWNLOADING));
        let summary = record.summary();
        assert!((summary.progress - 0.25).abs() < 1e-9);
        assert!((summary.ratio - 0.5).abs() < 1e-9, "uploaded / bytes_done when never downloaded");
        assert_eq!(summary.eta_secs, Some(6));
        assert_eq!(summary.size, 1000);
        assert_eq!(summary.name, "n");
        assert_eq!(record.content_path(), PathBuf::from("/d/n"));
    }

    #[test]
    fn the_content_and_root_paths_follow_the_layout() {
        let meta = TorrentMeta::new(InfoHash::from_bytes([1; 20]), "n".into(), "/d".into());
        let slot = |path: &str, pad| FileSlot { path: path.into(), size: 1, pad };
        let at = |layout: Vec<FileSlot>| TorrentRecord::new(meta.clone(), Some(layout)).paths();
        let some = |path: &str| Some(PathBuf::from(path));
        assert_eq!(
            at(vec![slot("n/a", false), slot("n/.pad/1", true), slot("n/b", false)]),
            ("/d/n".into(), some("/d/n"))
        );
        assert_eq!(at(vec![slot("f.mkv", false)]), ("/d/f.mkv".into(), None));
        assert_eq!(at(vec![slot("f/f.mkv", false)]), ("/d/f/f.mkv".into(), some("/d/f")));
        assert_eq!(at(vec![slot("a", false), slot("b", false)]), ("/d".into(), None));
        assert_eq!(at(vec![slot("x/a", false), slot("y/b", false)]), ("/d".into(), None));
        assert_eq!(TorrentRecord::new(meta.clone(), None).paths(), ("/d/n".into(), None));
    }

    #[test]
    fn targets_must_be_absolute() {
        assert!(check_target(Path::new("relative/dir")).is_err());
        assert!(check_target(Path::new("/abs/dir")).is_ok());
    }
}
