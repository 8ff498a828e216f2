//! Component health, as reported by the engine, FsOps, the store and the API.

use serde::{Deserialize, Serialize};

/// How well a component works.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Working as intended.
    #[default]
    Ok,
    /// Working, but something needs attention (see the reason).
    Degraded,
    /// Not working.
    Failing,
}

/// The health of one component with the reason when it is not `ok`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentHealth {
    /// Overall status.
    pub status: HealthStatus,
    /// Why the status is not `ok`.
    pub reason: Option<String>,
}

impl ComponentHealth {
    /// A healthy component.
    pub const fn ok() -> Self {
        Self { status: HealthStatus::Ok, reason: None }
    }

    /// A degraded component and why.
    pub fn degraded(reason: impl Into<String>) -> Self {
        Self { status: HealthStatus::Degraded, reason: Some(reason.into()) }
    }

    /// A failing component and why.
    pub fn failing(reason: impl Into<String>) -> Self {
        Self { status: HealthStatus::Failing, reason: Some(reason.into()) }
    }
}

/// The parts of the daemon whose health is reported (`/health/full`) and
/// whose changes are published (`health_changed` events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// The store.
    Database,
    /// The BitTorrent engine.
    Engine,
    /// The settings watcher.
    ConfigWatcher,
    /// Post-processing.
    Fsops,
    /// Per-key rate limits.
    RateLimiter,
}

impl Component {
    /// The snake_case name used on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Database => "database",
            Self::Engine => "engine",
            Self::ConfigWatcher => "config_watcher",
            Self::Fsops => "fsops",
            Self::RateLimiter => "rate_limiter",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_order_by_severity() {
        assert!(HealthStatus::Ok < HealthStatus::Degraded);
        assert!(HealthStatus::Degraded < HealthStatus::Failing);
        assert_eq!(ComponentHealth::default(), ComponentHealth::ok());
        assert_eq!(ComponentHealth::failing("x").reason.as_deref(), Some("x"));
        assert_eq!(ComponentHealth::degraded("y").status, HealthStatus::Degraded);
        for component in [Component::ConfigWatcher, Component::RateLimiter, Component::Fsops] {
            let json = serde_json::to_value(component).expect("serialize");
            assert_eq!(json, component.as_str());
        }
    }
}
