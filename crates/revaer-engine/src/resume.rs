//! The resume directory: everything needed to bring every torrent back
//! after a restart or a crash.
//!
//! Per torrent (named by its hex id) there are up to three files, each
//! written atomically (temp file, fsync, rename, fsync of the directory):
//! - `<id>.meta.json`: Revaer's own record ([`TorrentMeta`]): where the
//!   torrent came from (the magnet, if any), save path, labels, user intent
//!   (paused, sequential, caps, selection). Written on add and whenever the
//!   user changes one of these, so it is always current.
//! - `<id>.torrent`: the metainfo, once known (immutable).
//! - `<id>.fastresume`: libtorrent's resume data (which pieces are present),
//!   rewritten as the download progresses.
//!
//! A crash can only lose fast-resume freshness (re-downloaded or rechecked
//! pieces), never a torrent: the metainfo and then the meta file are
//! written before the torrent is reported as added, and a missing or
//! corrupt fast-resume file means a recheck from the metainfo or magnet.
//! Removal first renames the meta file to `<id>.meta.removed` (the commit
//! point), so a crash half-way through a removal finishes it at the next
//! start instead of half-restoring the torrent. Torrents that cannot be
//! restored at all are moved to `rejected/` (and reported), so they are kept
//! for inspection without failing every start.
//!
//! One engine at a time: the directory is locked (`.lock`) while open.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use revaer_domain::{
    ContentLayout, InfoHash, RateLimit, SelectionRules, ShareLimits, TorrentLabels, TrackerSpec,
};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

const META_EXT: &str = "meta.json";
const METAINFO_EXT: &str = "torrent";
const RESUME_EXT: &str = "fastresume";
const TOMBSTONE_EXT: &str = "meta.removed";
const LOCK_FILE: &str = ".lock";
/// The download queue's order (ids, front first).
const QUEUE_FILE: &str = "queue.json";
const REJECTED_DIR: &str = "rejected";
/// Version of the meta file format.
const META_VERSION: u32 = 1;

/// Revaer's per-torrent record, persisted as `<id>.meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools, reason = "independent per-torrent switches")]
pub(crate) struct TorrentMeta {
    pub version: u32,
    pub id: InfoHash,
    pub name: String,
    /// The magnet the torrent was added from, to re-add it if everything
    /// else is lost.
    pub magnet: Option<String>,
    pub save_path: PathBuf,
    pub labels: TorrentLabels,
    pub paused: bool,
    pub sequential: bool,
    pub download_limit: RateLimit,
    pub upload_limit: RateLimit,
    pub selection: SelectionRules,
    /// libtorrent priorities per file once computed (empty before metadata).
    pub file_priorities: Vec<u8>,
    pub trackers: Vec<String>,
    pub added_at: DateTime<Utc>,
    /// Set when the torrent completes; cleared when it goes back to
    /// downloading, so that each completion is reported once.
    pub completed_at: Option<DateTime<Utc>>,
    /// Where a move in flight is taking the files; cleared when it ends.
    /// After a crash mid-move, the restore looks there first.
    #[serde(default)]
    pub moving_to: Option<PathBuf>,
    /// Files (by index) that were on disk before the torrent had its file
    /// list: kept when the torrent is removed with its data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopted: Vec<u32>,
    /// The torrent's own share limits.
    #[serde(default)]
    pub share_limits: ShareLimits,
    /// Running outside the session's queue.
    #[serde(default)]
    pub force_start: bool,
    /// The first and last pieces of each wanted file come first.
    #[serde(default)]
    pub first_last_piece: bool,
    /// The exact tracker list once it has been edited (`trackers` and the
    /// metainfo's no longer count then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracker_list: Option<Vec<TrackerSpec>>,
    /// Where the files go under the save path: the paths on disk are the
    /// metainfo's laid out so, at every restore as at the add.
    #[serde(default)]
    pub content_layout: ContentLayout,
}

impl TorrentMeta {
    pub(crate) fn new(id: InfoHash, name: String, save_path: PathBuf) -> Self {
        Self {
            version: META_VERSION,
            id,
            name,
            magnet: None,
            save_path,
            labels: TorrentLabels::default(),
            paused: false,
            sequential: false,
            download_limit: RateLimit::UNLIMITED,
            upload_limit: RateLimit::UNLIMITED,
            selection: SelectionRules::default(),
            file_priorities: Vec::new(),
            trackers: Vec::new(),
            added_at: Utc::now(),
            completed_at: None,
            moving_to: None,
            adopted: Vec::new(),
            share_limits: ShareLimits::default(),
            force_start: false,
            first_last_piece: false,
            tracker_list: None,
            content_layout: ContentLayout::Original,
        }
    }
}

/// What the resume directory holds for one torrent.
#[derive(Debug)]
pub(crate) struct StoredTorrent {
    pub id: InfoHash,
    /// The meta record, or why it could not be read.
    pub meta: std::result::Result<TorrentMeta, String>,
    pub metainfo: Option<Vec<u8>>,
    pub resume: Option<Vec<u8>>,
}

/// The resume directory, locked for as long as this value lives.
#[derive(Debug)]
pub(crate) struct ResumeStore {
    dir: PathBuf,
    /// Holds the advisory lock on `.lock`.
    _lock: File,
}

impl ResumeStore {
    /// Opens (creating if needed) the directory and removes temp files left
    /// by a crash mid-write.
    pub(crate) fn open(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir).map_err(EngineError::io("create resume directory", dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock =
            File::create(&lock_path).map_err(EngineError::io("create lock file", &lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(EngineError::ResumeDirInUse { path: dir.to_path_buf() });
            }
            Err(fs::TryLockError::Error(err)) => {
                return Err(EngineError::io("lock resume directory", lock_path)(err));
            }
        }
        let entries = fs::read_dir(dir).map_err(EngineError::io("read resume directory", dir))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "tmp") {
                fs::remove_file(&path).map_err(EngineError::io("remove stale temp file", &path))?;
            }
        }
        Ok(Self { dir: dir.to_path_buf(), _lock: lock })
    }

    fn path(&self, id: InfoHash, ext: &str) -> PathBuf {
        self.dir.join(format!("{id}.{ext}"))
    }

    pub(crate) fn write_meta(&self, meta: &TorrentMeta) -> Result<()> {
        let path = self.path(meta.id, META_EXT);
        let bytes = serde_json::to_vec_pretty(meta).map_err(|err| EngineError::Io {
            op: "encode torrent record",
            path: path.clone(),
            source: err.into(),
        })?;
        write_atomic(&path, &bytes)
    }

    /// Records the download queue's order (front first).
    pub(crate) fn write_queue(&self, order: &[InfoHash]) -> Result<()> {
        let path = self.dir.join(QUEUE_FILE);
        let bytes = serde_json::to_vec(order).map_err(|err| EngineError::Io {
            op: "encode the queue",
            path: path.clone(),
            source: err.into(),
        })?;
        write_atomic(&path, &bytes)
    }

    /// The recorded queue order; empty when there is none, or it cannot be
    /// read (the order is lost, not the torrents).
    fn read_queue(&self) -> Vec<InfoHash> {
        let path = self.dir.join(QUEUE_FILE);
        let Ok(bytes) = fs::read(&path) else { return Vec::new() };
        serde_json::from_slice(&bytes).unwrap_or_else(|err| {
            tracing::warn!(path = %path.display(), error = %err, "unreadable queue order ignored");
            Vec::new()
        })
    }

    pub(crate) fn write_metainfo(&self, id: InfoHash, bytes: &[u8]) -> Result<()> {
        let path = self.path(id, METAINFO_EXT);
        if path.exists() { Ok(()) } else { write_atomic(&path, bytes) }
    }

    pub(crate) fn write_resume(&self, id: InfoHash, bytes: &[u8]) -> Result<()> {
        write_atomic(&self.path(id, RESUME_EXT), bytes)
    }

    /// Deletes every file of a torrent. Renaming the record to a tombstone
    /// commits the removal; the rest is finished at the next start if a
    /// crash interrupts it.
    pub(crate) fn remove(&self, id: InfoHash) -> Result<()> {
        let tombstone = self.path(id, TOMBSTONE_EXT);
        match fs::rename(self.path(id, META_EXT), &tombstone) {
            Ok(()) => sync_dir(&self.dir)?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(EngineError::io("mark torrent removed", tombstone)(err)),
        }
        self.finish_removal(id)
    }

    fn finish_removal(&self, id: InfoHash) -> Result<()> {
        for ext in [RESUME_EXT, METAINFO_EXT, TOMBSTONE_EXT] {
            let path = self.path(id, ext);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(EngineError::io("remove resume file", path)(err)),
            }
        }
        sync_dir(&self.dir)
    }

    /// Moves a torrent that cannot be restored out of the way, into
    /// `rejected/`, keeping its files for inspection.
    pub(crate) fn quarantine(&self, id: InfoHash) -> Result<PathBuf> {
        let rejected = self.dir.join(REJECTED_DIR);
        fs::create_dir_all(&rejected).map_err(EngineError::io("create", &rejected))?;
        for ext in [RESUME_EXT, METAINFO_EXT, META_EXT] {
            let path = self.path(id, ext);
            let target = rejected.join(format!("{id}.{ext}"));
            match fs::rename(&path, &target) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(EngineError::io("quarantine resume file", path)(err)),
            }
        }
        sync_dir(&self.dir)?;
        Ok(rejected)
    }

    /// Everything stored, one entry per torrent id (from any of its files),
    /// in the recorded queue order, then in id order (added in this order,
    /// the torrents take their queue places again).
    pub(crate) fn load_all(&self) -> Result<Vec<StoredTorrent>> {
        let entries =
            fs::read_dir(&self.dir).map_err(EngineError::io("read resume directory", &self.dir))?;
        let mut ids = entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name();
                let (stem, _) = name.to_str()?.split_once('.')?;
                InfoHash::parse(stem).ok().filter(|_| stem.len() == 40)
            })
            .collect::<Vec<_>>();
        ids.sort_unstable();
        ids.dedup();
        let rank: std::collections::HashMap<InfoHash, usize> =
            self.read_queue().into_iter().enumerate().map(|(at, id)| (id, at)).collect();
        ids.sort_by_key(|id| rank.get(id).copied().unwrap_or(usize::MAX));
        let mut stored = Vec::with_capacity(ids.len());
        for id in ids {
            if self.path(id, TOMBSTONE_EXT).exists() {
                self.finish_removal(id)?;
            } else {
                stored.push(self.load(id));
            }
        }
        Ok(stored)
    }

    fn load(&self, id: InfoHash) -> StoredTorrent {
        let read = |ext| fs::read(self.path(id, ext)).ok().filter(|bytes| !bytes.is_empty());
        let meta = match fs::read(self.path(id, META_EXT)) {
            Ok(bytes) => serde_json::from_slice::<TorrentMeta>(&bytes)
                .map_err(|err| format!("unreadable torrent record: {err}"))
                .and_then(|meta| {
                    if meta.id == id {
                        Ok(meta)
                    } else {
                        Err("record names another torrent".into())
                    }
                }),
            Err(err) => Err(format!("missing torrent record: {err}")),
        };
        StoredTorrent { id, meta, metainfo: read(METAINFO_EXT), resume: read(RESUME_EXT) }
    }
}

/// Writes `bytes` to `path` so that a reader sees either the old content or
/// the new, never a mix: temp file, fsync, rename, fsync of the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let write = || -> std::io::Result<()> {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().map_err(EngineError::io("write", &tmp))?;
    fs::rename(&tmp, path).map_err(EngineError::io("rename into place", path))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|dir| dir.sync_all()).map_err(EngineError::io("sync directory", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(byte: u8) -> InfoHash {
        InfoHash::from_bytes([byte; 20])
    }

    #[test]
    fn round_trips_all_three_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ResumeStore::open(dir.path()).expect("open");
        let mut meta = TorrentMeta::new(id(1), "one".into(), "/data".into());
        meta.labels.tags = vec!["a".into()];
        store.write_meta(&meta).expect("meta");
        store.write_metainfo(id(1), b"d4:infod4:name1:xee").expect("metainfo");
        store.write_metainfo(id(1), b"ignored: metainfo is immutable").expect("metainfo again");
        store.write_resume(id(1), b"resume").expect("resume");
        store.write_resume(id(2), b"orphan").expect("orphan resume");

        let all = store.load_all().expect("load");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].meta.as_ref().expect("meta"), &meta);
        assert_eq!(all[0].metainfo.as_deref(), Some(&b"d4:infod4:name1:xee"[..]));
        assert_eq!(all[0].resume.as_deref(), Some(&b"resume"[..]));
        assert!(all[1].meta.as_ref().is_err_and(|err| err.contains("missing")));

        store.remove(id(1)).expect("remove");
        store.remove(id(1)).expect("remove twice is fine");
        assert_eq!(store.load_all().expect("load").len(), 1);
    }

    #[test]
    fn an_interrupted_removal_is_finished_not_restored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ResumeStore::open(dir.path()).expect("open");
        store.write_meta(&TorrentMeta::new(id(6), "six".into(), "/d".into())).expect("meta");
        store.write_resume(id(6), b"resume").expect("resume");
        // The commit point of a removal, then a crash.
        let hex = id(6).to_hex();
        fs::rename(
            dir.path().join(format!("{hex}.meta.json")),
            dir.path().join(format!("{hex}.meta.removed")),
        )
        .expect("tombstone");
        assert!(store.load_all().expect("load").is_empty());
        let left = fs::read_dir(dir.path())
            .expect("read")
            .flatten()
            .map(|e| e.file_name())
            .collect::<Vec<_>>();
        assert_eq!(left, [std::ffi::OsString::from(".lock")]);
    }

    #[test]
    fn one_engine_per_directory_and_quarantine() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ResumeStore::open(dir.path()).expect("open");
        assert!(matches!(ResumeStore::open(dir.path()), Err(EngineError::ResumeDirInUse { .. })));
        store.write_meta(&TorrentMeta::new(id(7), "seven".into(), "/d".into())).expect("meta");
        let rejected = store.quarantine(id(7)).expect("quarantine");
        assert!(rejected.join(format!("{}.meta.json", id(7))).exists());
        assert!(store.load_all().expect("load").is_empty());
        drop(store);
        ResumeStore::open(dir.path()).expect("lock released on drop");
    }

    #[test]
    fn corrupt_meta_and_stale_temp_files_are_handled() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hex = id(3).to_hex();
        fs::write(dir.path().join(format!("{hex}.meta.json")), b"{\"version\": 1, \"id\":")
            .expect("w");
        fs::write(dir.path().join(format!("{hex}.fastresume.tmp")), b"half").expect("w");
        fs::write(dir.path().join("notes.txt"), b"not ours").expect("w");
        let store = ResumeStore::open(dir.path()).expect("open");
        assert!(!dir.path().join(format!("{hex}.fastresume.tmp")).exists());
        let all = store.load_all().expect("load");
        assert_eq!(all.len(), 1);
        assert!(all[0].meta.as_ref().is_err_and(|err| err.contains("unreadable")));
    }

    #[test]
    fn meta_for_another_id_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ResumeStore::open(dir.path()).expect("open");
        let meta = TorrentMeta::new(id(4), "x".into(), "/d".into());
        let bytes = serde_json::to_vec(&meta).expect("json");
        fs::write(dir.path().join(format!("{}.meta.json", id(5))), bytes).expect("w");
        let all = store.load_all().expect("load");
        assert!(all[0].meta.as_ref().is_err_and(|err| err.contains("another")));
    }
}
