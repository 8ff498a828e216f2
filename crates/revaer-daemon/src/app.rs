//! The composition root: opens the store, maps the stored settings onto
//! the engine and FsOps, starts the engine, the orchestrator and the API,
//! and stops them in order on SIGINT/SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use revaer_api::auth::KeyCache;
use revaer_api::events::EventBus;
use revaer_api::state::{ApiLimits, HealthProbe};
use revaer_api::{ApiState, router, serve};
use revaer_domain::settings::{AppMode, Changeset, Encryption, EngineProfile, Settings};
use revaer_domain::{EngineEvent, FsopsEvent, RateLimit};
use revaer_engine::{EncryptionPolicy, Engine, EngineConfig, SessionConfig};
use revaer_fsops::{FsopsConfig, Pipeline, Toolbox};
use revaer_store::{ChangeContext, NewApiKey, SettingsUpdate, Store, StoreConfig, StoreError};
use tokio::net::TcpListener;
use tokio::sync::broadcast;

use crate::config::{Cli, Command};
use crate::orchestrator::{Orchestrator, OrchestratorConfig};

/// How often API keys are reloaded (a revoked key stops working within it).
const KEY_REFRESH: Duration = Duration::from_millis(500);
/// How often component health is compared (changes become events).
const HEALTH_WATCH: Duration = Duration::from_secs(2);
/// How long a setup token printed at start-up stays valid.
const SETUP_TOKEN_TTL: Duration = Duration::from_hours(24);
/// How long requests in flight get to finish after a shutdown signal.
const HTTP_DRAIN: Duration = Duration::from_secs(10);
/// How long shutdown waits for running FsOps jobs to reach a safe point.
const FSOPS_STOP: Duration = Duration::from_secs(30);
/// The git revision the binary was built from (see `build.rs`).
const GIT_REVISION: &str = match option_env!("REVAER_GIT_REVISION") {
    Some(revision) => revision,
    None => "unknown",
};
/// The data directory's lock file.
const LOCK_FILE: &str = "revaerd.lock";

/// Logs to stderr: JSON when stderr is not a terminal, text otherwise;
/// `RUST_LOG` filters (default `info`).
pub fn init_logging() {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        builder.init();
    } else {
        builder.json().init();
    }
}

/// Runs the daemon (or `init`) until a shutdown signal.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    std::fs::create_dir_all(&cli.data_dir)
        .with_context(|| format!("create the data directory {}", cli.data_dir.display()))?;
    let data_dir = cli.data_dir.canonicalize().context("resolve the data directory")?;
    let store_config = match &cli.database_url {
        Some(url) => StoreConfig::url(url.clone()),
        None => StoreConfig::sqlite(data_dir.join("revaer.db")),
    };
    let lock = match cli.command {
        Some(Command::Init { .. }) => None,
        None => Some(lock_data_dir(&data_dir)?),
    };
    let store = Store::connect(&store_config).await.context("open the database")?;
    if let Some(Command::Init { api_key_out }) = &cli.command {
        let result = init(&store, api_key_out).await;
        store.close().await;
        return result;
    }
    let result = daemon(&cli, &data_dir, &store).await;
    store.close().await;
    drop(lock);
    result
}

/// Takes the data directory's lock, held for the life of the daemon: a
/// second daemon on the same directory stops here, before it opens the
/// store, issues a setup token or starts an engine on the same resume
/// files. The lock file names the holder's process id for operators.
/// (`revaerd init` does not lock: it only touches the store, atomically.)
fn lock_data_dir(dir: &Path) -> anyhow::Result<std::fs::File> {
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = std::io::Read::read_to_string(&mut file, &mut holder);
            bail!(
                "another revaerd (process {}) uses the data directory {}",
                holder.trim(),
                dir.display()
            );
        }
        Err(std::fs::TryLockError::Error(err)) => {
            return Err(err).with_context(|| format!("lock {}", path.display()));
        }
    }
    file.set_len(0)
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .with_context(|| format!("write {}", path.display()))?;
    Ok(file)
}

async fn daemon(cli: &Cli, data_dir: &Path, store: &Store) -> anyhow::Result<()> {
    // Subscribed before reading, so that no revision falls in between.
    let updates = store.subscribe();
    let snapshot = store.settings().await.context("read the settings")?;
    let settings = &snapshot.settings;
    // Cheap checks first: the HTTP port is taken before any torrent runs.
    let active = settings.app_profile.mode == AppMode::Active;
    let addr = if active {
        SocketAddr::new(settings.app_profile.bind_address, settings.app_profile.http_port)
    } else {
        cli.bind
    };
    let listener = TcpListener::bind(addr).await.with_context(|| format!("listen on {addr}"))?;
    let local = listener.local_addr().context("read the listen address")?;
    let keys = KeyCache::default();
    keys.refresh(store).await.context("load API keys")?;
    let instance = cli.instance.clone().unwrap_or_else(|| default_instance(data_dir));
    // A restarted daemon's new token replaces its old one; daemons sharing
    // the database keep theirs.
    let setup_token = if active {
        None
    } else {
        let token = store.issue_setup_token_for(SETUP_TOKEN_TTL, &instance).await;
        Some(token.context("issue a setup token")?)
    };

    let session = session_config(&settings.engine_profile, data_dir, cli.peer_port);
    let resume_dir = resolve(data_dir, &settings.engine_profile.resume_dir);
    let engine_config = EngineConfig {
        max_metainfo_bytes: cli.max_torrent_bytes as usize,
        ..EngineConfig::new(resume_dir, session.clone())
    };
    let engine = Engine::start(engine_config).await.context("start the engine")?;
    let pipeline = Pipeline::new(
        fsops_config(settings, data_dir, &session.download_dir),
        Toolbox::search(std::env::var_os("PATH").as_deref()),
    );
    let orchestrator = Arc::new(
        Orchestrator::start(
            store.clone(),
            engine.clone(),
            pipeline,
            OrchestratorConfig { instance, ..OrchestratorConfig::default() },
        )
        .await,
    );
    let probe_target = Arc::clone(&orchestrator);
    let fsops_health: HealthProbe = Arc::new(move || {
        let orchestrator = Arc::clone(&probe_target);
        Box::pin(async move { orchestrator.health().await })
    });
    let limits = ApiLimits::for_torrent_files(cli.max_torrent_bytes as usize);
    let mut state = ApiState::new(engine.clone(), store.clone(), keys, limits, active)
        .with_fsops_health(fsops_health)
        .with_git_revision(GIT_REVISION)
        .with_remote_setup(cli.setup_allow_remote);
    // One registry for the process: every crate records through `metrics`.
    match metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
        Ok(handle) => state = state.with_metrics(handle, cli.metrics_require_key),
        Err(err) => tracing::warn!(error = %err, "metrics are off: no registry"),
    }
    let refresher = state.spawn_key_refresh(KEY_REFRESH);
    let health_watch = state.spawn_health_watch(HEALTH_WATCH);
    let reloader = tokio::spawn(reload(
        updates,
        store.clone(),
        state.clone(),
        Arc::clone(&orchestrator),
        data_dir.to_owned(),
        cli.peer_port,
    ));
    let forwarder = tokio::spawn(forward_events(
        state.events().clone(),
        engine.subscribe(),
        orchestrator.subscribe(),
        store.subscribe(),
    ));

    let served = serve_until_signal(listener, state, local, setup_token.as_ref()).await;
    tracing::info!("shutting down");
    if tokio::time::timeout(FSOPS_STOP, orchestrator.shutdown()).await.is_err() {
        tracing::warn!("FsOps jobs did not stop in time; they resume on the next start");
    }
    refresher.abort();
    health_watch.abort();
    reloader.abort();
    forwarder.abort();
    engine.shutdown().await.context("stop the engine")?;
    if let Err(err) = store.flush_key_uses().await {
        tracing::warn!(error = %err, "could not record API key use");
    }
    served
}

/// Announces the address (and the setup token), serves until SIGINT or
/// SIGTERM, then gives requests in flight [`HTTP_DRAIN`] to finish.
async fn serve_until_signal(
    listener: TcpListener,
    state: ApiState,
    local: SocketAddr,
    setup_token: Option<&revaer_store::SecretToken>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if let Some(token) = setup_token {
        writeln!(out, "revaerd: setup required; setup token (shown once): {}", token.expose())?;
    }
    writeln!(out, "revaerd: listening on http://{local}")?;
    out.flush()?;
    drop(out);
    let (signalled, mut signal) = tokio::sync::watch::channel(false);
    let closing = state.clone();
    let shutdown = async move {
        shutdown_signal().await;
        // Event streams never finish on their own: end them, so that the
        // graceful shutdown only waits for ordinary requests.
        closing.begin_shutdown();
        signalled.send_replace(true);
    };
    let http = serve(listener, router(state), shutdown);
    tokio::pin!(http);
    tokio::select! {
        result = &mut http => return result.context("serve HTTP"),
        _ = signal.wait_for(|s| *s) => {}
    }
    if let Ok(result) = tokio::time::timeout(HTTP_DRAIN, http).await {
        return result.context("serve HTTP");
    }
    tracing::warn!("requests still in flight after {} s; closing them", HTTP_DRAIN.as_secs());
    Ok(())
}

/// Applies every new settings revision: the engine's session settings and a
/// new FsOps pipeline (the HTTP address needs a restart).
async fn reload(
    mut updates: broadcast::Receiver<SettingsUpdate>,
    store: Store,
    state: ApiState,
    orchestrator: Arc<Orchestrator>,
    data_dir: PathBuf,
    peer_port: Option<u16>,
) {
    loop {
        let settings = match updates.recv().await {
            Ok(update) => update.snapshot.settings.clone(),
            Err(broadcast::error::RecvError::Lagged(_)) => match store.settings().await {
                Ok(snapshot) => snapshot.settings,
                Err(err) => {
                    tracing::warn!(error = %err, "could not reread the settings");
                    continue;
                }
            },
            Err(broadcast::error::RecvError::Closed) => return,
        };
        // Set up elsewhere (`revaerd init`, another instance): open the API.
        if settings.app_profile.mode == AppMode::Active && !state.is_active() {
            state.activate();
            if let Err(err) = state.keys().refresh(&store).await {
                tracing::warn!(error = %err, "could not load API keys");
            }
        }
        let session = session_config(&settings.engine_profile, &data_dir, peer_port);
        if let Err(err) = state.engine().apply_settings(session.clone()).await {
            tracing::warn!(error = %err, "the engine refused the new settings");
        }
        orchestrator.set_pipeline(Pipeline::new(
            fsops_config(&settings, &data_dir, &session.download_dir),
            Toolbox::search(std::env::var_os("PATH").as_deref()),
        ));
        tracing::info!("settings applied");
    }
}

/// Puts every engine, FsOps and settings event on the API's event bus.
async fn forward_events(
    bus: EventBus,
    mut engine: broadcast::Receiver<EngineEvent>,
    mut fsops: broadcast::Receiver<FsopsEvent>,
    mut settings: broadcast::Receiver<SettingsUpdate>,
) {
    fn payload(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(mut map) => {
                map.remove("type");
                serde_json::Value::Object(map)
            }
            other => other,
        }
    }
    loop {
        tokio::select! {
            event = engine.recv() => match event {
                Ok(event) => {
                    let data = payload(serde_json::to_value(&event).unwrap_or_default());
                    bus.publish(event.kind(), event.torrent(), data, None);
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    bus.publish("events_dropped", None, serde_json::json!({"source": "engine", "missed": missed}), None);
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            event = fsops.recv() => match event {
                Ok(event) => {
                    let value = serde_json::to_value(&event).unwrap_or_default();
                    let trace = value.get("trace_id").and_then(|t| t.as_str()).map(str::to_owned);
                    bus.publish(event.kind(), Some(event.torrent()), payload(value), trace);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            update = settings.recv() => match update {
                Ok(update) => {
                    bus.publish("settings_changed", None, serde_json::json!({"revision": update.revision}), None);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// `revaerd init`: completes setup and writes the first key's token.
async fn init(store: &Store, out: &Path) -> anyhow::Result<()> {
    // Nothing is touched, not even the output file, on an instance that is
    // already set up.
    let settings = store.settings().await.context("read the settings")?;
    if settings.settings.app_profile.mode == AppMode::Active {
        bail!("this instance is already set up; nothing was changed");
    }
    // The token goes to a new private file next to the target, renamed into
    // place once written: an existing file keeps its content until then, a
    // symlink at the target is replaced rather than followed, and the mode
    // is 0600 whatever was there.
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let part = dir.join(format!(".{name}.revaer-part"));
    let _ = std::fs::remove_file(&part);
    let mut file = create_private(&part)?;
    let token = match store.issue_setup_token(Duration::from_mins(5)).await {
        Ok(token) => token,
        Err(err) => {
            let _ = std::fs::remove_file(&part);
            if matches!(err, StoreError::AlreadySetUp) {
                bail!("this instance is already set up; nothing was changed");
            }
            return Err(err).context("issue a setup token");
        }
    };
    let key = NewApiKey { label: "revaerd init".into(), rate_limit: None, expires_at: None };
    let context = ChangeContext::new("revaerd init").because("headless setup");
    let completed =
        store.complete_setup(token.expose(), &Changeset::default(), &key, &context).await;
    let (snapshot, issued) = match completed {
        Ok(done) => done,
        Err(err) => {
            let _ = std::fs::remove_file(&part);
            return Err(err).context("complete setup");
        }
    };
    let written = file
        .write_all(issued.token.expose().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&part, out));
    if let Err(err) = written {
        // Set up already: the token must not be lost.
        let _ = std::fs::remove_file(&part);
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "revaerd: could not write {}: {err}", out.display());
        let _ = writeln!(
            stderr,
            "revaerd: the first API key's token (shown once): {}",
            issued.token.expose()
        );
        bail!("setup completed, but the key file could not be written; the token is printed above");
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "revaerd: set up (settings revision {}); the first API key ({}) is in {}",
        snapshot.revision,
        issued.key.key_id,
        out.display()
    )?;
    Ok(())
}

fn create_private(path: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("create {}", path.display()))
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// `host:xxxxxxxx`: the host name and a hash of the data directory, so that
/// two daemons on one host (or one database) never share a name, and a
/// restarted daemon keeps its own.
pub fn default_instance(data_dir: &Path) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "revaerd".to_owned());
    let hash = data_dir.to_string_lossy().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{host}:{:08x}", hash & 0xffff_ffff)
}

/// A settings path, absolute against the data directory.
fn resolve(data_dir: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() { path.to_owned() } else { data_dir.join(path) }
}

/// The engine's session settings from the stored profile.
pub fn session_config(
    profile: &EngineProfile,
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
        ..SessionConfig::default()
    }
}

/// FsOps settings from the stored policy and categories.
pub fn fsops_config(settings: &Settings, data_dir: &Path, download_dir: &Path) -> FsopsConfig {
    let mut config = FsopsConfig::new(data_dir, vec![download_dir.to_owned()]);
    config.policy = settings.fs_policy.clone();
    config.categories = settings.categories.clone();
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_instances_differ_by_data_directory_and_stay_stable() {
        let a = default_instance(Path::new("/srv/a"));
        assert_eq!(a, default_instance(Path::new("/srv/a")));
        assert_ne!(a, default_instance(Path::new("/srv/b")));
        assert!(!a.contains('#'), "owners are `<instance>#<claim>`");
    }

    #[test]
    fn the_engine_profile_maps_onto_the_session() {
        let profile = EngineProfile {
            listen_interfaces: vec!["127.0.0.1".parse().expect("ip")],
            encryption: Encryption::Required,
            download_limit_bps: Some(1000),
            ..EngineProfile::default()
        };
        let session = session_config(&profile, Path::new("/data"), Some(6999));
        assert_eq!(session.listen, [SocketAddr::from(([127, 0, 0, 1], 6999))]);
        assert_eq!(session.encryption, EncryptionPolicy::Required);
        assert_eq!(session.download_limit, RateLimit::bytes_per_second(1000));
        assert_eq!(session.download_dir, Path::new("/data").join(&profile.download_root));
        let all = session_config(&EngineProfile::default(), Path::new("/data"), None);
        assert_eq!(all.listen.len(), 2, "IPv4 and IPv6 when no interface is named");
        assert!(all.listen.iter().all(|a| a.port() == EngineProfile::default().listen_port));
    }
}
