//! Detail bridge: a torrent's peers and pieces, its tracker list and its
//! edge-piece priorities.

#[cxx::bridge(namespace = "revaer")]
pub(crate) mod ffi {
    /// One connected peer. `flags` and `sources` are Revaer's bits (see
    /// the `PEER_*` and `SOURCE_*` constants of `crate::peers`), not
    /// libtorrent's, so that a libtorrent upgrade cannot shift them.
    #[derive(Debug, Clone)]
    struct PeerRecord {
        ip: String,
        port: u16,
        client: String,
        flags: u32,
        sources: u8,
        /// 0 BitTorrent, 1 web seed (BEP 19), 2 HTTP seed (BEP 17).
        connection: u8,
        /// Parts per million of the torrent the peer has.
        progress_ppm: i32,
        download_rate: i32,
        upload_rate: i32,
        total_download: i64,
        total_upload: i64,
    }

    /// A torrent's pieces: one byte each, 0 missing, 1 being downloaded,
    /// 2 have (empty, with a 0 size, before the metadata).
    #[derive(Debug, Clone, Default)]
    struct PieceRecord {
        piece_size: i32,
        states: Vec<u8>,
    }

    /// One tracker in a replacement list.
    #[derive(Debug, Clone)]
    struct TrackerSpec {
        url: String,
        tier: u8,
    }

    unsafe extern "C++" {
        include!("revaer-engine/include/revaer-engine/detail.h");

        type Session = crate::ffi::session::ffi::Session;

        /// The torrent's connected peers (handshake done).
        fn torrent_peers(session: Pin<&mut Session>, hash: &[u8; 20]) -> Result<Vec<PeerRecord>>;
        /// Every piece's state.
        fn torrent_pieces(session: Pin<&mut Session>, hash: &[u8; 20]) -> Result<PieceRecord>;
        /// Replaces the torrent's trackers with `trackers`, in order.
        fn replace_torrent_trackers(
            session: Pin<&mut Session>,
            hash: &[u8; 20],
            trackers: &Vec<TrackerSpec>,
        ) -> Result<()>;
        /// Raises the first and last pieces of every wanted file to the top
        /// priority (`enabled`), or sets every piece back to its file's
        /// priority. Nothing happens before the metadata.
        fn set_edge_pieces(
            session: Pin<&mut Session>,
            hash: &[u8; 20],
            enabled: bool,
        ) -> Result<()>;
    }
}

pub(crate) use ffi::{PeerRecord, TrackerSpec};
