//! The stored settings mapped onto the engine and FsOps, and the loop that
//! applies every new revision without a restart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use revaer_domain::RateLimit;
use revaer_domain::ShareLimits;
use revaer_domain::settings::{AppMode, Categories, Encryption, EngineProfile, Settings};
use revaer_engine::config::SharePolicy;
use revaer_engine::{EncryptionPolicy, SessionConfig};
use revaer_fsops::{FsopsConfig, Pipeline, Toolbox};
use revaer_service::Service;
use revaer_store::SettingsUpdate;
use tokio::sync::broadcast;

use crate::orchestrator::Orchestrator;

/// A settings path, absolute against the data directory, with symbolic
/// links resolved.
pub fn resolve(data_dir: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    let joined = if path.is_absolute() { path.to_owned() } else { data_dir.join(path) };
    // Canonical, as client paths are: the engine compares save paths (to
    // keep a cross-seed's files), and one place must have one spelling.
    revaer_service::paths::resolve(&joined).unwrap_or(joined)
}

/// The engine's session settings from the stored profile, with the share
/// limits of the profile and of every category.
pub fn session_config(
    profile: &EngineProfile,
    categories: &Categories,
    data_dir: &Path,
    peer_port: Option<u16>,
) -> SessionConfig {
    let port = peer_port.unwrap_or(profile.listen_port);
    let listen = if profile.listen_interfaces.is_empty() {
        vec![SocketAddr::from(([0, 0, 0, 0], port)), SocketAddr::from(([0_u16; 8], port))]
    } else {
        profile.listen_interfaces.iter().map(|ip| SocketAddr::new(*ip, port)).collect()
    };
    SessionConfig {
        listen,
        dht: profile.dht,
        pex: profile.pex,
        lsd: profile.lsd,
        upnp: profile.upnp,
        natpmp: profile.natpmp,
        utp: profile.utp,
        encryption: match profile.encryption {
            Encryption::Enabled => EncryptionPolicy::Enabled,
            Encryption::Required => EncryptionPolicy::Required,
            Encryption::Disabled => EncryptionPolicy::Disabled,
        },
        connections_limit: profile.connections_limit,
        active_downloads: profile.active_downloads,
        active_seeds: profile.active_seeds,
        active_limit: profile.active_limit,
        download_limit: RateLimit::bytes_per_second(profile.download_limit_bps.unwrap_or(0)),
        upload_limit: RateLimit::bytes_per_second(profile.upload_limit_bps.unwrap_or(0)),
        download_dir: resolve(data_dir, &profile.download_root),
        share: SharePolicy {
            global: profile.share_limits,
            categories: categories
                .0
                .iter()
                .filter(|(_, category)| category.share_limits != ShareLimits::default())
                .map(|(name, category)| (name.clone(), category.share_limits))
                .collect(),
        },
        ..SessionConfig::default()
    }
}

/// FsOps settings from the stored policy and categories. Payloads may
/// come from the download folder or from any storage root in `roots` (a
/// save path a client chose), unless the policy lists roots of its own.
pub fn fsops_config(
    settings: &Settings,
    data_dir: &Path,
    download_dir: &Path,
    roots: &[PathBuf],
) -> FsopsConfig {
    let sources = std::iter::once(download_dir.to_owned()).chain(roots.iter().cloned()).collect();
    let mut config = FsopsConfig::new(data_dir, sources);
    config.policy = settings.fs_policy.clone();
    config.categories = settings.categories.clone();
    config
}

/// The FsOps pipeline for `settings`, with the tools found on `PATH`.
pub fn pipeline(
    settings: &Settings,
    data_dir: &Path,
    download_dir: &Path,
    roots: &[PathBuf],
) -> Pipeline {
    Pipeline::new(
        fsops_config(settings, data_dir, download_dir, roots),
        Toolbox::search(std::env::var_os("PATH").as_deref()),
    )
}

/// What a revision is applied to.
pub struct Reload {
    /// The settings' updates (subscribed before the first read).
    pub updates: broadcast::Receiver<SettingsUpdate>,
    /// The service (opened when another daemon completes setup).
    pub service: Service,
    /// The orchestrator (its pipeline follows the settings).
    pub orchestrator: Arc<Orchestrator>,
    /// The data directory relative paths resolve against.
    pub data_dir: PathBuf,
    /// The peer port from the command line, which wins over the settings.
    pub peer_port: Option<u16>,
}

/// Applies every new settings revision: the engine's session settings and
/// a new FsOps pipeline (the HTTP address needs a restart). Runs until the
/// store closes.
pub async fn reload(mut reload: Reload) {
    loop {
        let settings = match reload.updates.recv().await {
            Ok(update) => update.snapshot.settings.clone(),
            Err(broadcast::error::RecvError::Lagged(_)) => match reload.service.settings().await {
                Ok(snapshot) => snapshot.settings,
                Err(err) => {
                    tracing::warn!(error = %err, "could not reread the settings");
                    continue;
                }
            },
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let service = &reload.service;
        // Set up elsewhere (`revaerd init`, another instance): open the API.
        if settings.app_profile.mode == AppMode::Active && !service.is_active() {
            service.activate();
            if let Err(err) = service.keys().refresh(service.store()).await {
                tracing::warn!(error = %err, "could not load API keys");
            }
        }
        // Another daemon on the database (or an edit of it) may name paths
        // this daemon may not write in: those settings are not applied.
        if let Some(storage) = &service.config().storage {
            let outside = storage.violations(&settings);
            if !outside.is_empty() {
                let pointers: Vec<&str> = outside.iter().map(|p| p.pointer.as_str()).collect();
                tracing::error!(
                    ?pointers,
                    "new settings name paths outside this daemon's storage roots; not applied"
                );
                continue;
            }
        }
        let session = session_config(
            &settings.engine_profile,
            &settings.categories,
            &reload.data_dir,
            reload.peer_port,
        );
        if let Err(err) = service.engine().apply_settings(session.clone()).await {
            tracing::warn!(error = %err, "the engine refused the new settings");
        }
        let roots = service.config().storage.as_ref().map(|s| s.roots().to_vec());
        reload.orchestrator.set_pipeline(pipeline(
            &settings,
            &reload.data_dir,
            &session.download_dir,
            &roots.unwrap_or_default(),
        ));
        tracing::info!("settings applied");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_profile_maps_onto_the_session() {
        let profile = EngineProfile {
            listen_interfaces: vec!["127.0.0.1".parse().expect("ip")],
            encryption: Encryption::Required,
            download_limit_bps: Some(1000),
            ..EngineProfile::default()
        };
        let session =
            session_config(&profile, &Categories::default(), Path::new("/data"), Some(6999));
        assert_eq!(session.listen, [SocketAddr::from(([127, 0, 0, 1], 6999))]);
        assert_eq!(session.encryption, EncryptionPolicy::Required);
        assert_eq!(session.download_limit, RateLimit::bytes_per_second(1000));
        assert_eq!(session.download_dir, Path::new("/data").join(&profile.download_root));
        let all = session_config(
            &EngineProfile::default(),
            &Categories::default(),
            Path::new("/data"),
            None,
        );
        assert_eq!(all.listen.len(), 2, "IPv4 and IPv6 when no interface is named");
        assert!(all.listen.iter().all(|a| a.port() == EngineProfile::default().listen_port));
        assert_eq!(resolve(Path::new("/data"), "/abs"), Path::new("/abs"));
        assert_eq!(resolve(Path::new("/data"), "rel"), Path::new("/data/rel"));
    }
}
