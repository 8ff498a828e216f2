//! Alert bridge: drain libtorrent's alert queue into plain records.

#[cxx::bridge(namespace = "revaer")]
pub(crate) mod ffi {
    /// The alerts Revaer acts on.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum AlertKind {
        MetadataReceived,
        Removed,
        Deleted,
        DeleteFailed,
        TrackerError,
        TorrentError,
        FileError,
        ListenFailed,
        ListenSucceeded,
        ResumeSaved,
        ResumeFailed,
        StorageMoved,
        StorageMoveFailed,
        /// libtorrent has just recomputed the piece priorities from the
        /// file priorities: new file priorities took effect, or the
        /// torrent's data was checked.
        PrioritiesReset,
        /// Session statistics (asked for every few seconds while the DHT
        /// runs): `count` is the DHT nodes of every routing table.
        DhtStats,
        /// libtorrent dropped alerts (queue full) or one could not be read:
        /// replies waiting for an alert may never get one.
        Lost,
    }

    /// One alert, flattened. `message` is the human text; `detail` is the
    /// URL, path or endpoint the alert is about; `data` is resume data for
    /// `ResumeSaved`; `port`/`tcp` describe a listen socket; `count` is
    /// the DHT node count of `DhtStats`.
    #[derive(Debug)]
    struct AlertRecord {
        kind: AlertKind,
        info_hash: [u8; 20],
        message: String,
        detail: String,
        data: Vec<u8>,
        port: u16,
        tcp: bool,
        count: u64,
    }

    /// One torrent's status from a `state_update_alert`.
    #[derive(Debug, Clone)]
    struct StatusRecord {
        info_hash: [u8; 20],
        name: String,
        save_path: String,
        /// libtorrent `torrent_status::state_t`.
        state: u8,
        paused: bool,
        auto_managed: bool,
        sequential: bool,
        has_metadata: bool,
        is_finished: bool,
        moving_storage: bool,
        need_save_resume: bool,
        error: String,
        total_size: i64,
        total_wanted: i64,
        total_wanted_done: i64,
        download_rate: i64,
        upload_rate: i64,
        all_time_download: i64,
        all_time_upload: i64,
        session_download: i64,
        session_upload: i64,
        num_peers: i32,
        num_seeds: i32,
        added_time: i64,
        completed_time: i64,
        /// Seconds seeded in all (libtorrent keeps it in the resume data).
        seeding_secs: i64,
        /// Unix time of the last payload up or down; 0 when never.
        last_activity: i64,
        /// The metadata's private flag.
        private_torrent: bool,
        /// Place in the download queue (0 first); -1 when not queued
        /// (finished torrents).
        queue_position: i32,
    }

    /// Everything one poll produced.
    #[derive(Debug, Default)]
    struct AlertBatch {
        alerts: Vec<AlertRecord>,
        statuses: Vec<StatusRecord>,
    }

    unsafe extern "C++" {
        include!("revaer-engine/include/revaer-engine/alert.h");

        type Session = crate::ffi::session::ffi::Session;

        /// Blocks up to `max_ms` for an alert; true if one is waiting.
        fn wait_for_alert(session: Pin<&mut Session>, max_ms: u32) -> Result<bool>;
        /// Moves every pending alert into `batch` (which is cleared first).
        fn pop_alerts(session: Pin<&mut Session>, batch: &mut AlertBatch) -> Result<()>;
    }
}

pub(crate) use ffi::{AlertBatch, AlertKind, AlertRecord, StatusRecord};
