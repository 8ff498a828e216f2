//! The composition root: opens the store, maps the stored settings onto
//! the engine and FsOps, starts the engine, the event bus, the
//! orchestrator, the service layer and the API with their background
//! loops, and stops them in order on SIGINT/SIGTERM.
//!
//! # Layout
//! - here: [`run`] and the order things start and stop in.
//! - `lock.rs`: the data directory's lock.
//! - `logging.rs`: the log subscriber.
//! - `settings.rs`: settings → engine and FsOps, and the reload loop.
//! - `init.rs`: `revaerd init`; `unlock.rs`: `revaerd unlock-settings`.
//! - `listen.rs`: where the API listens; `files.rs`: private files and
//!   directories.
//! - `shutdown.rs`: serving until a signal.

mod files;
mod init;
mod listen;
mod lock;
mod logging;
mod settings;
mod shutdown;
mod unlock;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use revaer_api::ApiState;
use revaer_api::server::{ListenerLimits, Tls};
use revaer_api::state::{ApiLimits, HttpConfig};
use revaer_domain::settings::{AppMode, Settings};
use revaer_engine::{Engine, EngineConfig};
use revaer_service::bus::EventBus;
use revaer_service::forward::{EventSources, forward_events};
use revaer_service::paths::StorageRoots;
use revaer_service::{HealthProbe, Service, ServiceConfig, health, keys};
use revaer_store::{Store, StoreConfig};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use logging::init_logging;
pub use settings::{fsops_config, session_config};

use crate::config::{Cli, Command};
use crate::orchestrator::{Orchestrator, OrchestratorConfig};

/// How often API keys are reloaded (a revoked key stops working within it).
const KEY_REFRESH: Duration = Duration::from_millis(500);
/// How often component health is compared (changes become events).
const HEALTH_WATCH: Duration = Duration::from_secs(2);
/// How long a setup token printed at start-up stays valid.
const SETUP_TOKEN_TTL: Duration = Duration::from_hours(24);
/// The SQLite database in the data directory (without `DATABASE_URL`).
const DATABASE_FILE: &str = "revaer.db";
/// How long shutdown waits for running FsOps jobs to reach a safe point.
const FSOPS_STOP: Duration = Duration::from_secs(30);
/// Events kept for replay.
const EVENT_RING: usize = 4096;
/// The git revision the binary was built from (see `build.rs`).
const GIT_REVISION: &str = match option_env!("REVAER_GIT_REVISION") {
    Some(revision) => revision,
    None => "unknown",
};

/// Runs the daemon (or `init`) until a shutdown signal.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // Lifting immutable keys acts on an existing instance: never on a
    // mistyped directory, which would be created empty.
    if matches!(cli.command, Some(Command::UnlockSettings))
        && cli.database_url.is_none()
        && !cli.data_dir.join(DATABASE_FILE).exists()
    {
        anyhow::bail!("no database in {}; nothing was changed", cli.data_dir.display());
    }
    files::create_private_dir(&cli.data_dir)
        .with_context(|| format!("create the data directory {}", cli.data_dir.display()))?;
    let data_dir = cli.data_dir.canonicalize().context("resolve the data directory")?;
    let store_config = match &cli.database_url {
        Some(url) => StoreConfig::url(url.clone()),
        None => StoreConfig::sqlite(data_dir.join(DATABASE_FILE)),
    };
    let lock = match cli.command {
        Some(Command::Init { .. }) => None,
        Some(Command::UnlockSettings) | None => Some(lock::lock_data_dir(&data_dir)?),
    };
    let store = Store::connect(&store_config).await.context("open the database")?;
    let result = match &cli.command {
        Some(Command::Init { api_key_out }) => init::init(&store, api_key_out).await,
        Some(Command::UnlockSettings) => unlock::unlock(&store).await,
        None => daemon(&cli, &data_dir, &store).await,
    };
    store.close().await;
    drop(lock);
    result
}

/// What runs while the daemon serves.
struct Running {
    engine: Engine,
    orchestrator: Arc<Orchestrator>,
    service: Service,
    /// The background loops, aborted at shutdown.
    tasks: Vec<JoinHandle<()>>,
}

async fn daemon(cli: &Cli, data_dir: &Path, store: &Store) -> anyhow::Result<()> {
    // Subscribed before reading, so that no revision falls in between.
    let updates = store.subscribe();
    let snapshot = store.settings().await.context("read the settings")?;
    let settings = &snapshot.settings;
    let active = settings.app_profile.mode == AppMode::Active;
    // Cheap checks first: the HTTP port is taken before any torrent runs.
    let listen = listen::resolve(cli.bind, data_dir, &settings.app_profile)?;
    let addr = listen.addr;
    for file in [&cli.tls_cert, &cli.tls_key].into_iter().flatten() {
        std::fs::File::open(file).with_context(|| format!("read {}", file.display()))?;
    }
    let listener = TcpListener::bind(addr).await.with_context(|| format!("listen on {addr}"))?;
    if listen.record {
        listen::record(data_dir, addr)?;
    }
    tracing::info!(%addr, source = listen.source, "HTTP address");
    let instance = cli.instance.clone().unwrap_or_else(|| default_instance(data_dir));
    // A restarted daemon's new token replaces its old one; daemons sharing
    // the database keep theirs.
    let setup_token = if active {
        None
    } else {
        let token = store.issue_setup_token_for(SETUP_TOKEN_TTL, &instance).await;
        Some(token.context("issue a setup token")?)
    };
    let mut running = start(cli, data_dir, store, settings, instance).await?;
    running.tasks.push(tokio::spawn(settings::reload(settings::Reload {
        updates,
        service: running.service.clone(),
        orchestrator: Arc::clone(&running.orchestrator),
        data_dir: data_dir.to_owned(),
        peer_port: cli.peer_port,
    })));
    let state = ApiState::new(running.service.clone(), http_config(cli));
    let limits = ListenerLimits {
        max_connections: cli.max_connections as usize,
        head_timeout: Duration::from_secs(cli.http_head_timeout),
        body_timeout: Duration::from_secs(cli.http_body_timeout),
        write_timeout: Duration::from_secs(cli.http_write_timeout),
        max_per_address: cli.max_connections_per_address as usize,
        unbounded: cli.trusted_proxies.clone(),
        ..ListenerLimits::default()
    };
    let tls = cli.tls_cert.clone().zip(cli.tls_key.clone()).map(|(cert, key)| Tls { cert, key });
    let served = shutdown::serve_until_signal(
        listener,
        state,
        limits,
        tls,
        setup_token.as_ref(),
        !cli.no_qbit_api,
    )
    .await;
    stop(running, store).await?;
    served
}

/// Starts the engine, the bus and its forwarder, the orchestrator and the
/// service with its background loops.
async fn start(
    cli: &Cli,
    data_dir: &Path,
    store: &Store,
    settings: &Settings,
    instance: String,
) -> anyhow::Result<Running> {
    let resume_dir = settings::resolve(data_dir, &settings.engine_profile.resume_dir);
    let own: Vec<std::path::PathBuf> = store
        .config()
        .local_files()
        .into_iter()
        .chain([listen::LISTEN_FILE, lock::LOCK_FILE].map(|name| data_dir.join(name)))
        .chain([resume_dir.clone()])
        .collect();
    let storage = storage_roots(cli, data_dir, settings, &own)?;
    let session =
        session_config(&settings.engine_profile, &settings.categories, data_dir, cli.peer_port);
    let engine_config = EngineConfig {
        max_metainfo_bytes: cli.max_torrent_bytes as usize,
        ..EngineConfig::new(resume_dir, session.clone())
    };
    let engine = Engine::start(engine_config).await.context("start the engine")?;
    // The engine's first subscription holds its start-up events (restored
    // torrents): the forwarder takes it, and runs before the orchestrator
    // reconciles (a large library's restore events must not wait for that
    // in the engine's channel). The orchestrator's bus subscription comes
    // first, so that it misses nothing forwarded.
    let bus = EventBus::new(EVENT_RING);
    let follower = bus.subscribe(None).live;
    let sources = EventSources {
        engine: Some(engine.subscribe()),
        settings: Some(store.subscribe()),
        fsops: None,
    };
    let forwarder = tokio::spawn(forward_events(bus.clone(), sources));
    let orchestrator = Arc::new(
        Orchestrator::start(
            store.clone(),
            engine.clone(),
            settings::pipeline(settings, data_dir, &session.download_dir, storage.roots()),
            OrchestratorConfig { instance, ..OrchestratorConfig::default() },
            follower,
        )
        .await,
    );
    let fsops = EventSources::fsops(orchestrator.subscribe());
    let fsops_forwarder = tokio::spawn(forward_events(bus.clone(), fsops));
    let config = ServiceConfig {
        active: settings.app_profile.mode == AppMode::Active,
        max_metainfo_bytes: cli.max_torrent_bytes as usize,
        git_revision: GIT_REVISION,
        fsops_health: Some(fsops_probe(&orchestrator)),
        storage: Some(storage),
    };
    let service = Service::new(engine.clone(), store.clone(), bus, config);
    service.keys().refresh(store).await.context("load API keys")?;
    let tasks = vec![
        forwarder,
        fsops_forwarder,
        tokio::spawn(keys::refresh_keys(service.clone(), KEY_REFRESH)),
        tokio::spawn(health::watch_health(service.clone(), HEALTH_WATCH)),
    ];
    Ok(Running { engine, orchestrator, service, tasks })
}

/// The storage roots (`--storage-root`, else the data directory), and the
/// stored settings checked against them: a daemon never starts writing
/// where it would refuse a client.
/// `own` are the daemon's own files: no client path may be in or above them.
fn storage_roots(
    cli: &Cli,
    data_dir: &Path,
    settings: &Settings,
    own: &[std::path::PathBuf],
) -> anyhow::Result<StorageRoots> {
    let roots = if cli.storage_roots.is_empty() {
        vec![data_dir.to_owned()]
    } else {
        cli.storage_roots.clone()
    };
    let storage =
        StorageRoots::new(data_dir, &roots).context("prepare the storage roots")?.protecting(own);
    let outside = storage.violations(settings);
    if !outside.is_empty() {
        let listed: Vec<String> =
            outside.iter().map(|p| format!("{}: {}", p.pointer, p.message)).collect();
        anyhow::bail!(
            "the settings name paths outside the storage roots ({}); start with --storage-root \
             for each folder the daemon may write in, or change the settings",
            listed.join("; ")
        );
    }
    tracing::info!(roots = ?storage.roots(), "storage roots");
    Ok(storage)
}

/// FsOps health, asked of the orchestrator.
fn fsops_probe(orchestrator: &Arc<Orchestrator>) -> HealthProbe {
    let orchestrator = Arc::clone(orchestrator);
    Arc::new(move || {
        let orchestrator = Arc::clone(&orchestrator);
        Box::pin(async move { orchestrator.health().await })
    })
}

/// The HTTP settings from the flags, with the process's one metrics
/// registry (every crate records through `metrics`).
fn http_config(cli: &Cli) -> HttpConfig {
    let metrics = match metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder() {
        Ok(handle) => Some(handle),
        Err(err) => {
            tracing::warn!(error = %err, "metrics are off: no registry");
            None
        }
    };
    HttpConfig {
        limits: ApiLimits::for_torrent_files(cli.max_torrent_bytes as usize),
        metrics,
        metrics_need_key: cli.metrics_require_key,
        remote_setup: cli.setup_allow_remote,
        loopback_exempt: !cli.no_loopback_exemptions,
        trusted_proxies: cli.trusted_proxies.clone(),
    }
}

/// Stops in order: FsOps jobs at a safe point, then the loops (aborted
/// together), the engine (saving resume data), the batched key uses.
async fn stop(running: Running, store: &Store) -> anyhow::Result<()> {
    tracing::info!("shutting down");
    if tokio::time::timeout(FSOPS_STOP, running.orchestrator.shutdown()).await.is_err() {
        tracing::warn!("FsOps jobs did not stop in time; they resume on the next start");
    }
    for task in &running.tasks {
        task.abort();
    }
    running.engine.shutdown().await.context("stop the engine")?;
    drop(running.service);
    if let Err(err) = store.flush_key_uses().await {
        tracing::warn!(error = %err, "could not record API key use");
    }
    Ok(())
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
}
