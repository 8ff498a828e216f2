//! `app_profile`: who this instance is and how it is reached.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use super::{Check, Violation};

/// Whether the instance is being set up or in service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AppMode {
    /// Fresh install: only health and setup routes are served.
    #[default]
    Setup,
    /// Set up and serving.
    Active,
}

/// The application profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct AppProfile {
    /// A name for this instance (shown in health, logs and the UI).
    pub instance_name: String,
    /// Setup or active.
    pub mode: AppMode,
    /// Address the HTTP API binds to.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub bind_address: IpAddr,
    /// Port the HTTP API listens on.
    pub http_port: u16,
    /// Where to send telemetry (OTLP/HTTP), if anywhere.
    pub telemetry_endpoint: Option<String>,
    /// Feature flags by name.
    pub features: BTreeMap<String, bool>,
    /// JSON Pointers (from the settings root, e.g.
    /// `/engine_profile/listen_port`) that no changeset may change. The
    /// list itself can only grow.
    pub immutable_keys: Vec<String>,
}

impl Default for AppProfile {
    fn default() -> Self {
        Self {
            instance_name: "revaer".to_owned(),
            mode: AppMode::Setup,
            bind_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            http_port: 7070,
            telemetry_endpoint: None,
            features: BTreeMap::new(),
            immutable_keys: Vec::new(),
        }
    }
}

impl AppProfile {
    /// Every violation, with pointers under `/app_profile`.
    pub fn validate(&self) -> Vec<Violation> {
        let mut check = Check::new("/app_profile");
        let name = self.instance_name.trim();
        check.require(
            !name.is_empty() && name.len() <= 64 && !name.chars().any(char::is_control),
            "/instance_name",
            "must be 1 to 64 characters without control characters",
        );
        check.require(self.http_port != 0, "/http_port", "must be 1 to 65535");
        if let Some(endpoint) = &self.telemetry_endpoint {
            let scheme = endpoint.starts_with("http://") || endpoint.starts_with("https://");
            check.require(
                scheme && endpoint.len() <= 2048 && !endpoint.contains(char::is_whitespace),
                "/telemetry_endpoint",
                "must be an http:// or https:// URL",
            );
        }
        check.require(self.features.len() <= 64, "/features", "at most 64 feature flags");
        for name in self.features.keys() {
            let valid = !name.is_empty()
                && name.len() <= 64
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            let pointer = format!("/features/{}", super::categories::escape_pointer(name));
            check.require(valid, &pointer, "flag names are [A-Za-z0-9_-]{1,64}");
        }
        check.require(self.immutable_keys.len() <= 256, "/immutable_keys", "at most 256 keys");
        for (index, key) in self.immutable_keys.iter().enumerate() {
            let known = super::DOCUMENTS
                .iter()
                .any(|doc| key == &format!("/{doc}") || key.starts_with(&format!("/{doc}/")));
            check.require(
                known,
                &format!("/immutable_keys/{index}"),
                "must point into a settings document",
            );
        }
        check.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_its_pointer() {
        let profile = AppProfile {
            instance_name: " ".into(),
            http_port: 0,
            telemetry_endpoint: Some("ftp://x".into()),
            features: BTreeMap::from([("bad name".into(), true)]),
            immutable_keys: vec!["/nowhere".into()],
            ..AppProfile::default()
        };
        let pointers = profile.validate().into_iter().map(|v| v.pointer).collect::<Vec<_>>();
        assert_eq!(
            pointers,
            [
                "/app_profile/instance_name",
                "/app_profile/http_port",
                "/app_profile/telemetry_endpoint",
                "/app_profile/features/bad name",
                "/app_profile/immutable_keys/0",
            ]
        );
    }
}
