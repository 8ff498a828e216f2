//! Torrent bridge: add, command and query torrents; read and create metainfo.

#[cxx::bridge(namespace = "revaer")]
pub(crate) mod ffi {
    /// A flag on a torrent that can be switched on and off.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum TorrentFlag {
        /// Download pieces in order.
        Sequential,
        /// Do not request pieces (metadata still flows).
        UploadMode,
        /// Do not exchange peers with PEX.
        DisablePex,
        /// Started and stopped by the session's queue (off: forced).
        AutoManaged,
    }

    /// A move in the download queue.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum QueueMove {
        /// To the front.
        Top,
        /// To the back.
        Bottom,
        /// One place towards the front.
        Up,
        /// One place towards the back.
        Down,
    }

    /// What a removal deletes besides the torrent itself. libtorrent
    /// never deletes a torrent's files: the engine does, keeping those that
    /// are not the torrent's alone.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Deletion {
        /// Nothing on disk.
        Nothing,
        /// Only libtorrent's part file (reported with
        /// `torrent_deleted_alert` once the torrent's queued writes are
        /// done).
        PartFile,
    }

    /// How to add a torrent. Exactly one of `magnet` and `metainfo` is
    /// expected; `resume` (libtorrent fast-resume data) is optional. `id`
    /// (all zero for "compute it") fixes the id a restored torrent keeps.
    #[derive(Debug)]
    struct AddParams {
        id: [u8; 20],
        magnet: String,
        metainfo: Vec<u8>,
        resume: Vec<u8>,
        save_path: String,
        paused: bool,
        /// Running outside the queue (force-started).
        forced: bool,
        sequential: bool,
        upload_mode: bool,
        disable_pex: bool,
        file_priorities: Vec<u8>,
        download_limit: i32,
        upload_limit: i32,
        trackers: Vec<String>,
        /// The tier of each of `trackers` (0 when shorter).
        tracker_tiers: Vec<u8>,
        /// `trackers` is the whole list: the metainfo's and the resume
        /// data's are ignored.
        exact_trackers: bool,
        /// Files named otherwise than the metainfo names them.
        renamed_files: Vec<FileRename>,
        /// Trust the files on disk: seed without checking them (each piece
        /// is checked when first sent).
        seed_mode: bool,
    }

    /// A file's new path, relative to the save path.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct FileRename {
        index: u32,
        path: String,
    }

    /// What `add_torrent` did.
    #[derive(Debug)]
    struct AddedTorrent {
        info_hash: [u8; 20],
        name: String,
        duplicate: bool,
    }

    /// One file, as libtorrent lists it.
    #[derive(Debug)]
    struct FileRecord {
        path: String,
        size: i64,
        bytes_done: i64,
        priority: u8,
        /// Alignment padding (hybrid and v2 torrents); never shown.
        pad: bool,
    }

    /// A parsed `.torrent`.
    #[derive(Debug)]
    struct MetainfoRecord {
        info_hash: [u8; 20],
        /// The full SHA-256 info-hash (zero for a v1-only torrent).
        info_hash_v2: [u8; 32],
        name: String,
        total_size: i64,
        files: Vec<FileRecord>,
    }

    /// One tracker and its last announce.
    #[derive(Debug)]
    struct TrackerRecord {
        url: String,
        tier: u8,
        /// 0 not contacted, 1 updating, 2 working, 3 error.
        status: u8,
        message: String,
        seeds: i32,
        leechers: i32,
    }

    unsafe extern "C++" {
        include!("revaer-engine/include/revaer-engine/torrent.h");

        type Session = crate::ffi::session::ffi::Session;

        fn add_torrent(session: Pin<&mut Session>, params: &AddParams) -> Result<AddedTorrent>;
        fn remove_torrent(
            session: Pin<&mut Session>,
            hash: &[u8; 20],
            deletion: Deletion,
        ) -> Result<()>;
        fn pause_torrent(session: Pin<&mut Session>, hash: &[u8; 20]) -> Result<()>;
        fn resume_torrent(session: Pin<&mut Session>, hash: &[u8; 20]) -> Result<()>;
        fn reannounce_torrent(session: Pin<&mut Session>, hash: &[u8; 20]) -> Result<()>;
        fn recheck_torrent(session: Pin<&mut Session>, hash: &[u8; 20]) -> Result<()>;
        fn set_torrent_flag(
            session: Pin<&mut Session>,
            hash: &[u8; 20],
            flag: TorrentFlag,
            enabled: bool,
        ) -> Result<()>;
        fn queue_torrent(session: Pin<&mut Session>, hash: &[u8; 20], to: QueueMove) -> Result<()>;
        fn set_torrent_limits(
            session: Pin<&mut Session>,
            hash: &[u8; 20],
            download: i32,
            upload: i32,
        ) -> Result<()>;
        fn set_file_priorities(
            session: Pin<&mut Session>,
            hash: &[u8; 20],
            priorities: &Vec<u8>,
        ) -> Result<()>;
        fn move_torrent_storage(
            session: Pin<&mut Session>,
            hash: &[u8; 20],
            path: &str,
        ) -> Result<()>;
        fn connect_torrent_peer(
            session: Pin<&mut Session>,
            hash: &[u8; 20],
            ip: &str,
            port: u16,
        ) -> Result<()>;
        fn request_resume_data(session: Pin<&mut Session>, hash: &[u8; 20]) -> Result<()>;
        fn rename_torrent_files(
            session: Pin<&mut Session>,
            hash: &[u8; 20],
            renames: &[FileRename],
        ) -> Result<()>;
        fn torrent_files(session: Pin<&mut Session>, hash: &[u8; 20]) -> Result<Vec<FileRecord>>;
        fn torrent_trackers(
            session: Pin<&mut Session>,
            hash: &[u8; 20],
        ) -> Result<Vec<TrackerRecord>>;
        fn torrent_metainfo(session: Pin<&mut Session>, hash: &[u8; 20]) -> Result<Vec<u8>>;

        fn parse_metainfo(bytes: &[u8]) -> Result<MetainfoRecord>;
        fn create_metainfo(
            path: &str,
            parent: &str,
            piece_size: i32,
            v1_only: bool,
            trackers: &Vec<String>,
        ) -> Result<Vec<u8>>;
    }
}

pub(crate) use ffi::{AddParams, FileRecord, FileRename, QueueMove, TorrentFlag, TrackerRecord};
