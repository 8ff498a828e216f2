//! Typed engine configuration and its translation to libtorrent settings.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use revaer_domain::{RateLimit, ShareLimits};

use crate::ffi::session::{DiskIo, Encryption, SessionSettings};

/// Peer-connection encryption policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncryptionPolicy {
    /// Accept and offer encryption, allow plaintext (the usual default).
    #[default]
    Enabled,
    /// Only RC4-encrypted connections; plaintext peers are refused.
    Required,
    /// Only plaintext connections.
    Disabled,
}

/// Which disk back-end libtorrent uses. Fixed for the life of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiskBackend {
    /// Memory-mapped files: libtorrent's default and its fastest with many
    /// torrents. Resident memory looks large because mapped file pages count
    /// towards it; they are page cache, not heap.
    #[default]
    Mmap,
    /// `pread`/`pwrite` on one thread: small, predictable resident memory.
    Posix,
}

/// Session settings that can change while the engine runs. Applying a new
/// value ([`crate::Engine::apply_settings`]) takes effect at once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent protocol toggles, as libtorrent has them"
)]
pub struct SessionConfig {
    /// Where to listen for peers, IPv4 and IPv6; port 0 picks an ephemeral
    /// port.
    pub listen: Vec<SocketAddr>,
    /// Distributed hash table (trackerless peer discovery).
    pub dht: bool,
    /// DHT bootstrap routers (`host:port`); empty uses none.
    pub dht_bootstrap_nodes: Vec<String>,
    /// Peer exchange between connected peers.
    pub pex: bool,
    /// Local service discovery (multicast on the LAN).
    pub lsd: bool,
    /// UPnP port mapping on the router.
    pub upnp: bool,
    /// NAT-PMP port mapping on the router.
    pub natpmp: bool,
    /// uTP (BitTorrent over UDP) as well as TCP. Off matters on loopback,
    /// where libtorrent's uTP tops out near 10 MB/s.
    pub utp: bool,
    /// Encryption policy for peer connections.
    pub encryption: EncryptionPolicy,
    /// Most peer connections across all torrents.
    pub connections_limit: u32,
    /// Most torrents downloading at once (queueing); `None` = no limit.
    pub active_downloads: Option<u32>,
    /// Most torrents seeding at once; `None` = no limit.
    pub active_seeds: Option<u32>,
    /// Most active torrents of any kind; `None` = no limit.
    pub active_limit: Option<u32>,
    /// Session-wide download cap.
    pub download_limit: RateLimit,
    /// Session-wide upload cap.
    pub upload_limit: RateLimit,
    /// Apply the session caps to peers on local networks too (libtorrent
    /// exempts them by default).
    pub rate_limit_local_peers: bool,
    /// Allow several connections from one IP address (needed when test
    /// peers share 127.0.0.1; off by default to resist connection floods).
    pub allow_multiple_connections_per_ip: bool,
    /// Directory torrents are saved to when an add names none.
    pub download_dir: PathBuf,
    /// Share limits above each torrent's own: global and per category.
    pub share: SharePolicy,
}

/// The share limits the engine enforces above each torrent's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharePolicy {
    /// For every torrent (`inherit` here means no limit).
    pub global: ShareLimits,
    /// Per category name.
    pub categories: BTreeMap<String, ShareLimits>,
}

impl SharePolicy {
    /// Whether any limit is set anywhere above the torrents.
    pub(crate) fn is_empty(&self) -> bool {
        self.global == ShareLimits::default()
            && self.categories.values().all(|limits| *limits == ShareLimits::default())
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            listen: vec![
                SocketAddr::from(([0, 0, 0, 0], 6881)),
                SocketAddr::from(([0_u16, 0, 0, 0, 0, 0, 0, 0], 6881)),
            ],
            dht: true,
            dht_bootstrap_nodes: vec![
                "dht.libtorrent.org:25401".to_owned(),
                "router.bittorrent.com:6881".to_owned(),
            ],
            pex: true,
            lsd: true,
            upnp: false,
            natpmp: false,
            utp: true,
            encryption: EncryptionPolicy::Enabled,
            connections_limit: 500,
            active_downloads: Some(5),
            active_seeds: Some(10),
            active_limit: Some(20),
            download_limit: RateLimit::UNLIMITED,
            upload_limit: RateLimit::UNLIMITED,
            rate_limit_local_peers: true,
            allow_multiple_connections_per_ip: false,
            download_dir: PathBuf::from("downloads"),
            share: SharePolicy::default(),
        }
    }
}

impl SessionConfig {
    /// A session for tests and benchmarks: listens on `127.0.0.1:0` only,
    /// with every discovery mechanism off, TCP only and no queueing limits.
    pub fn loopback(download_dir: PathBuf) -> Self {
        Self {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
            dht: false,
            dht_bootstrap_nodes: Vec::new(),
            pex: false,
            lsd: false,
            upnp: false,
            natpmp: false,
            utp: false,
            active_downloads: None,
            active_seeds: None,
            active_limit: None,
            allow_multiple_connections_per_ip: true,
            download_dir,
            ..Self::default()
        }
    }

    pub(crate) fn to_ffi(&self) -> SessionSettings {
        let listen = self
            .listen
            .iter()
            .map(|addr| match addr {
                SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
                SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
            })
            .collect::<Vec<_>>()
            .join(",");
        let limit = |value: Option<u32>| value.map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX));
        SessionSettings {
            listen_interfaces: listen,
            enable_dht: self.dht,
            dht_bootstrap_nodes: self.dht_bootstrap_nodes.join(","),
            enable_lsd: self.lsd,
            enable_upnp: self.upnp,
            enable_natpmp: self.natpmp,
            enable_utp: self.utp,
            encryption: match self.encryption {
                EncryptionPolicy::Enabled => Encryption::Enabled,
                EncryptionPolicy::Required => Encryption::Required,
                EncryptionPolicy::Disabled => Encryption::Disabled,
            },
            connections_limit: limit(Some(self.connections_limit)),
            active_downloads: limit(self.active_downloads),
            active_seeds: limit(self.active_seeds),
            active_limit: limit(self.active_limit),
            download_rate_limit: self.download_limit.to_libtorrent(),
            upload_rate_limit: self.upload_limit.to_libtorrent(),
            rate_limit_local_peers: self.rate_limit_local_peers,
            allow_multiple_connections_per_ip: self.allow_multiple_connections_per_ip,
            peer_fingerprint: peer_fingerprint(env!("CARGO_PKG_VERSION")),
            user_agent: format!("Revaer/{}", env!("CARGO_PKG_VERSION")),
            stop_tracker_timeout: 2,
        }
    }
}

/// The Azureus-style peer-id prefix, `-RVxyz0-` for version x.y.z (each
/// part as one base-36 digit, as libtorrent's `generate_fingerprint` does).
fn peer_fingerprint(version: &str) -> String {
    let digit = |part: Option<&str>| {
        let value = part.and_then(|text| text.parse::<u32>().ok()).unwrap_or(0).min(35);
        char::from_digit(value, 36).map_or('0', |c| c.to_ascii_uppercase())
    };
    let mut parts = version.split('.');
    let (major, minor, patch) = (digit(parts.next()), digit(parts.next()), digit(parts.next()));
    format!("-RV{major}{minor}{patch}0-")
}

/// Everything the engine needs to start.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where fast-resume data and Revaer's per-torrent records live.
    pub resume_dir: PathBuf,
    /// Runtime-changeable session settings.
    pub session: SessionConfig,
    /// Disk back-end (fixed for the engine's life).
    pub disk: DiskBackend,
    /// Largest `.torrent` accepted, in bytes.
    pub max_metainfo_bytes: usize,
    /// How often torrents whose state changed get fresh resume data: the
    /// most progress a `kill -9` can lose.
    pub resume_save_interval: Duration,
    /// How often torrent status is refreshed (list view, progress events).
    pub status_interval: Duration,
    /// Capacity of the event channel; a subscriber that falls further
    /// behind loses the oldest events (and is told how many).
    pub event_capacity: usize,
}

impl EngineConfig {
    /// A configuration with defaults, keeping resume data in `resume_dir`.
    pub fn new(resume_dir: PathBuf, session: SessionConfig) -> Self {
        Self {
            resume_dir,
            session,
            disk: DiskBackend::default(),
            max_metainfo_bytes: 16 * 1024 * 1024,
            resume_save_interval: Duration::from_secs(3),
            status_interval: Duration::from_millis(250),
            event_capacity: 4096,
        }
    }

    pub(crate) fn disk_io(&self) -> DiskIo {
        match self.disk {
            DiskBackend::Mmap => DiskIo::Mmap,
            DiskBackend::Posix => DiskIo::Posix,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_and_user_agent_name_revaer() {
        assert_eq!(peer_fingerprint("0.1.0"), "-RV0100-");
        assert_eq!(peer_fingerprint("1.12.3"), "-RV1C30-");
        assert_eq!(peer_fingerprint("garbage"), "-RV0000-");
        let settings = SessionConfig::default().to_ffi();
        assert!(settings.user_agent.starts_with("Revaer/"));
        assert!(settings.peer_fingerprint.starts_with("-RV"));
    }

    #[test]
    fn listen_interfaces_and_limits_translate() {
        let mut config = SessionConfig::loopback(PathBuf::from("/tmp"));
        config.listen.push("[::1]:7000".parse().expect("addr"));
        config.active_downloads = Some(3);
        config.download_limit = RateLimit::bytes_per_second(1000);
        config.encryption = EncryptionPolicy::Required;
        let settings = config.to_ffi();
        assert_eq!(settings.listen_interfaces, "127.0.0.1:0,[::1]:7000");
        assert_eq!(settings.active_downloads, 3);
        assert_eq!(settings.active_seeds, -1);
        assert_eq!(settings.download_rate_limit, 1000);
        assert_eq!(settings.upload_rate_limit, 0);
        assert_eq!(settings.encryption, Encryption::Required);
        assert!(!settings.enable_utp && !settings.enable_dht);
    }
}
