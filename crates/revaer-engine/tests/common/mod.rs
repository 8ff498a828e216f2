//! Helpers shared by the engine's integration tests: random payloads, real
//! engines on loopback and bounded waits.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::RngCore;
use revaer_domain::{EngineEvent, InfoHash, TorrentSummary};
use revaer_engine::metainfo::{self, CreateOptions};
use revaer_engine::{AddTorrentOptions, Engine, EngineConfig, SessionConfig, TorrentSource};
use tempfile::TempDir;
use tokio::sync::broadcast;

/// The longest any test waits for one thing to happen.
pub const WAIT: Duration = Duration::from_mins(1);

/// A payload of random files with odd sizes under `dir/name`.
pub struct Payload {
    pub root: PathBuf,
    pub files: Vec<(String, usize)>,
    pub metainfo: Vec<u8>,
    pub id: InfoHash,
}

impl Payload {
    /// Creates `files` (relative path, size) under `parent/name` and a
    /// v1+v2 `.torrent` for them with 16 KiB pieces.
    pub fn create(parent: &Path, name: &str, files: &[(&str, usize)]) -> Self {
        Self::create_with(parent, name, files, false)
    }

    pub fn create_with(parent: &Path, name: &str, files: &[(&str, usize)], v1_only: bool) -> Self {
        let root = parent.join(name);
        let mut rng = rand::rng();
        for (path, size) in files {
            let full = root.join(path);
            std::fs::create_dir_all(full.parent().expect("file has a parent")).expect("mkdir");
            let mut bytes = vec![0_u8; *size];
            rng.fill_bytes(&mut bytes);
            std::fs::write(&full, bytes).expect("write payload file");
        }
        let options = CreateOptions { piece_size: Some(16 * 1024), v1_only, trackers: vec![] };
        let metainfo = metainfo::create(&root, &options).expect("create torrent");
        let id = metainfo::Metainfo::parse(&metainfo).expect("parse torrent").id;
        let files = files.iter().map(|(path, size)| ((*path).to_owned(), *size)).collect();
        Self { root, files, metainfo, id }
    }

    pub fn total(&self) -> u64 {
        self.files.iter().map(|(_, size)| *size as u64).sum()
    }

    /// Asserts that `other_root` holds exactly the same bytes for `paths`.
    pub fn assert_same(&self, other_root: &Path, paths: &[&str]) {
        for path in paths {
            let want = std::fs::read(self.root.join(path)).expect("read source");
            let got = std::fs::read(other_root.join(path))
                .unwrap_or_else(|err| panic!("{path} missing in download: {err}"));
            assert!(want == got, "{path} differs ({} vs {} bytes)", want.len(), got.len());
        }
    }

    pub fn paths(&self) -> Vec<&str> {
        self.files.iter().map(|(path, _)| path.as_str()).collect()
    }
}

/// A real engine on 127.0.0.1 with its own temp directories.
pub struct Node {
    pub engine: Engine,
    pub dir: TempDir,
}

impl Node {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut EngineConfig)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = config(dir.path());
        adjust(&mut config);
        let engine = Engine::start(config).await.expect("engine starts");
        Self { engine, dir }
    }

    /// Starts an engine seeding `payload` from where it was generated, and
    /// waits until it has checked its data.
    pub async fn seeding(payload: &Payload) -> Self {
        let node = Self::start().await;
        let mut events = node.engine.subscribe();
        let options = AddTorrentOptions {
            save_path: Some(payload.root.parent().expect("parent").to_path_buf()),
            ..AddTorrentOptions::default()
        };
        let added = node
            .engine
            .add(TorrentSource::Metainfo(payload.metainfo.clone()), options)
            .await
            .expect("seeder adds");
        assert!(!added.is_duplicate());
        wait_event(&mut events, "seeder to check its data", completed(payload.id)).await;
        node
    }

    pub fn downloads(&self) -> PathBuf {
        self.dir.path().join("downloads")
    }

    pub fn peer(&self) -> std::net::SocketAddr {
        let port = self.engine.listen_port().expect("engine listens");
        std::net::SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Shuts down and checks that the worker is gone: later calls fail
    /// with `Stopped` and the published list is empty.
    pub async fn stop(self) -> TempDir {
        shutdown_checked(&self.engine).await;
        self.dir
    }
}

pub fn config(dir: &Path) -> EngineConfig {
    let mut config =
        EngineConfig::new(dir.join("resume"), SessionConfig::loopback(dir.join("downloads")));
    config.resume_save_interval = Duration::from_millis(500);
    config
}

pub async fn start_in(dir: &Path) -> Engine {
    Engine::start(config(dir)).await.expect("engine starts")
}

pub async fn shutdown_checked(engine: &Engine) {
    tokio::time::timeout(WAIT, engine.shutdown())
        .await
        .expect("shutdown in time")
        .expect("shutdown");
    assert!(engine.list().is_empty(), "published list cleared after shutdown");
    let after = engine.pause(InfoHash::from_bytes([0; 20])).await;
    assert!(matches!(after, Err(revaer_engine::EngineError::Stopped)), "{after:?}");
}

/// Waits (bounded) for an event matching `pred`.
pub async fn wait_event(
    events: &mut broadcast::Receiver<EngineEvent>,
    what: &str,
    pred: impl Fn(&EngineEvent) -> bool,
) -> EngineEvent {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(event) if pred(&event) => {
                    if std::env::var_os("REVAER_TEST_TRACE").is_some() {
                        eprintln!("{:?} match: {event:?}", std::time::Instant::now());
                    }
                    return event;
                }
                Ok(event) if std::env::var_os("REVAER_TEST_TRACE").is_some() => {
                    eprintln!("event: {event:?}");
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("events closed before {what}"),
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Waits (bounded) until the engine's summary of `id` satisfies `pred`.
pub async fn wait_summary(
    engine: &Engine,
    id: InfoHash,
    what: &str,
    pred: impl Fn(&TorrentSummary) -> bool,
) -> TorrentSummary {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(summary) = engine.summary(id).filter(|s| pred(s)) {
                return (*summary).clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", engine.summary(id)))
}

pub fn completed(id: InfoHash) -> impl Fn(&EngineEvent) -> bool {
    move |event| matches!(event, EngineEvent::Completed(revaer_domain::event::Completed { torrent, .. }) if *torrent == id)
}

/// A standard multi-file payload with odd sizes.
pub const FILES: &[(&str, usize)] =
    &[("a.bin", 700_001), ("sub/b.bin", 1_234_567), ("sub/deeper/c.txt", 33), ("d.bin", 65_536)];

/// A real tracker on loopback: Debian's `opentracker` (HTTP only, on an
/// ephemeral port), which serves only the info-hashes it was started with.
pub struct Tracker {
    child: std::process::Child,
    _dir: TempDir,
    /// The announce URL.
    pub url: String,
}

impl Tracker {
    /// Starts opentracker for `hashes` (v1 hashes) and waits until it
    /// accepts connections.
    pub async fn start(hashes: &[InfoHash]) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        // Run as root, opentracker chroots here and drops to `nobody`.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let list: String = hashes.iter().map(|id| id.to_hex() + "\n").collect();
        std::fs::write(dir.path().join("whitelist.txt"), list).expect("whitelist");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|probe| probe.local_addr())
            .expect("free port")
            .port();
        let child = std::process::Command::new("opentracker")
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-w", "whitelist.txt", "-d"])
            .arg(dir.path())
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("opentracker runs (scripts/dev.sh test installs it)");
        let tracker = Self { child, _dir: dir, url: format!("http://127.0.0.1:{port}/announce") };
        tokio::time::timeout(WAIT, async {
            while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("opentracker listens");
        tracker
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}
