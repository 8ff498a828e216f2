//! Session bridge: create the libtorrent session and apply settings.

#[cxx::bridge(namespace = "revaer")]
pub(crate) mod ffi {
    /// libtorrent's peer-connection encryption policy.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Encryption {
        /// Prefer plaintext, accept encrypted peers.
        Enabled,
        /// Only encrypted (RC4) connections.
        Required,
        /// Only plaintext connections.
        Disabled,
    }

    /// Which disk back-end the session uses.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum DiskIo {
        /// Memory-mapped files (libtorrent's default, multi-threaded).
        Mmap,
        /// Plain `pread`/`pwrite` (single-threaded, small resident memory).
        Posix,
    }

    /// Every session setting Revaer controls, applied field by field.
    #[derive(Debug, Clone)]
    struct SessionSettings {
        listen_interfaces: String,
        enable_dht: bool,
        dht_bootstrap_nodes: String,
        enable_lsd: bool,
        enable_upnp: bool,
        enable_natpmp: bool,
        enable_utp: bool,
        encryption: Encryption,
        connections_limit: i32,
        active_downloads: i32,
        active_seeds: i32,
        active_limit: i32,
        download_rate_limit: i32,
        upload_rate_limit: i32,
        rate_limit_local_peers: bool,
        allow_multiple_connections_per_ip: bool,
        peer_fingerprint: String,
        user_agent: String,
        stop_tracker_timeout: i32,
    }

    unsafe extern "C++" {
        include!("revaer-engine/include/revaer-engine/session.h");

        /// The libtorrent session (pimpl; no libtorrent header leaks).
        type Session;

        /// Starts a session with the given settings and disk back-end.
        fn new_session(settings: &SessionSettings, disk_io: DiskIo) -> Result<UniquePtr<Session>>;
        /// Applies settings to a running session.
        fn apply_settings(session: Pin<&mut Session>, settings: &SessionSettings) -> Result<()>;
        /// Asks for a `state_update_alert` with every torrent whose status
        /// changed since the last call.
        fn post_updates(session: Pin<&mut Session>) -> Result<()>;
        /// Asks for a `session_stats_alert` (read for the DHT node count,
        /// summed over the session's DHT nodes).
        fn post_stats(session: Pin<&mut Session>) -> Result<()>;
    }
}

pub(crate) use ffi::{DiskIo, Encryption, Session, SessionSettings};
