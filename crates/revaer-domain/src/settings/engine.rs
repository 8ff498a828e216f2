//! `engine_profile`: the BitTorrent session.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::{Check, Violation};

/// Peer-connection encryption policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Encryption {
    /// Offer and accept encryption; allow plaintext.
    #[default]
    Enabled,
    /// Encrypted connections only.
    Required,
    /// Plaintext only.
    Disabled,
}

/// The BitTorrent session profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
#[allow(clippy::struct_excessive_bools, reason = "independent protocol toggles")]
pub struct EngineProfile {
    /// Peer listen port; 0 picks an ephemeral one.
    pub listen_port: u16,
    /// Addresses to listen on (IPv4 and IPv6).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub listen_interfaces: Vec<IpAddr>,
    /// Distributed hash table.
    pub dht: bool,
    /// Peer exchange.
    pub pex: bool,
    /// Local service discovery.
    pub lsd: bool,
    /// UPnP port mapping.
    pub upnp: bool,
    /// NAT-PMP port mapping.
    pub natpmp: bool,
    /// uTP as well as TCP.
    pub utp: bool,
    /// Encryption policy.
    pub encryption: Encryption,
    /// Most peer connections in all.
    pub connections_limit: u32,
    /// Most torrents downloading at once (`null`: no limit).
    pub active_downloads: Option<u32>,
    /// Most torrents seeding at once (`null`: no limit).
    pub active_seeds: Option<u32>,
    /// Most active torrents (`null`: no limit).
    pub active_limit: Option<u32>,
    /// Session download cap in bytes/s (`null`: unlimited).
    pub download_limit_bps: Option<u64>,
    /// Session upload cap in bytes/s (`null`: unlimited).
    pub upload_limit_bps: Option<u64>,
    /// New torrents download in order unless told otherwise.
    pub sequential_default: bool,
    /// Where torrents are saved (relative: under the data directory).
    pub download_root: String,
    /// Where resume data lives (relative: under the data directory).
    pub resume_dir: String,
    /// Share limits for every torrent (each overridable per category and
    /// per torrent; `inherit` here means no limit).
    pub share_limits: crate::share::ShareLimits,
}

impl Default for EngineProfile {
    fn default() -> Self {
        Self {
            listen_port: 6881,
            listen_interfaces: vec![
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            ],
            dht: true,
            pex: true,
            lsd: true,
            upnp: false,
            natpmp: false,
            utp: true,
            encryption: Encryption::Enabled,
            connections_limit: 500,
            active_downloads: Some(5),
            active_seeds: Some(10),
            active_limit: Some(20),
            download_limit_bps: None,
            upload_limit_bps: None,
            sequential_default: false,
            download_root: "downloads".to_owned(),
            resume_dir: "resume".to_owned(),
            share_limits: crate::share::ShareLimits::default(),
        }
    }
}

impl EngineProfile {
    /// Every violation, with pointers under `/engine_profile`.
    pub fn validate(&self) -> Vec<Violation> {
        let mut check = Check::new("/engine_profile");
        check.require(
            !self.listen_interfaces.is_empty(),
            "/listen_interfaces",
            "at least one address",
        );
        check.require(
            self.listen_interfaces.len() <= 16,
            "/listen_interfaces",
            "at most 16 addresses",
        );
        check.require(
            (1..=65_535).contains(&self.connections_limit),
            "/connections_limit",
            "must be 1 to 65535",
        );
        for (field, value) in [
            ("active_downloads", self.active_downloads),
            ("active_seeds", self.active_seeds),
            ("active_limit", self.active_limit),
        ] {
            check.require(
                value.is_none_or(|n| n <= 100_000),
                &format!("/{field}"),
                "must be at most 100000 (or null for no limit)",
            );
        }
        let max = u64::try_from(i32::MAX).unwrap_or(u64::MAX);
        for (field, value) in [
            ("download_limit_bps", self.download_limit_bps),
            ("upload_limit_bps", self.upload_limit_bps),
        ] {
            check.require(
                value.is_none_or(|bps| bps <= max),
                &format!("/{field}"),
                format!("must be at most {max} bytes/s (or null for unlimited)"),
            );
        }
        check.path(&self.download_root, "/download_root");
        check.path(&self.resume_dir, "/resume_dir");
        check.extend(self.share_limits.validate("/engine_profile/share_limits"));
        check.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_its_pointer() {
        let profile = EngineProfile {
            listen_interfaces: Vec::new(),
            connections_limit: 0,
            active_seeds: Some(1_000_000),
            upload_limit_bps: Some(u64::MAX),
            download_root: String::new(),
            resume_dir: "a\0b".into(),
            ..EngineProfile::default()
        };
        let pointers = profile.validate().into_iter().map(|v| v.pointer).collect::<Vec<_>>();
        assert_eq!(
            pointers,
            [
                "/engine_profile/listen_interfaces",
                "/engine_profile/connections_limit",
                "/engine_profile/active_seeds",
                "/engine_profile/upload_limit_bps",
                "/engine_profile/download_root",
                "/engine_profile/resume_dir",
            ]
        );
    }
}
