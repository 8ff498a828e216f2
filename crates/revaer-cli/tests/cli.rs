//! The real `revaer` binary against a real API (the router over a loopback
//! libtorrent engine and a SQLite store, served on 127.0.0.1): commands,
//! output and exit codes.

use std::process::{Command, Output};

use revaer_api::state::HttpConfig;
use revaer_api::{ApiState, router, serve};
use revaer_domain::event::{Completed, Progress};
use revaer_domain::{Event, InfoHash};
use revaer_engine::{Engine, EngineConfig, SessionConfig};
use revaer_service::bus::EventBus;
use revaer_service::forward::{EventSources, forward_events};
use revaer_service::{Service, ServiceConfig};
use revaer_store::{NewApiKey, Store, StoreConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_revaer");
const MAGNET: &str = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=cli-test";
const ID: &str = "0123456789abcdef0123456789abcdef01234567";

struct Daemon {
    url: String,
    token: String,
    events: EventBus,
    engine: Engine,
    store: Store,
    _dir: tempfile::TempDir,
}

/// A loopback engine keeping its files under `dir`.
async fn loopback_engine(dir: &std::path::Path) -> Engine {
    let config =
        EngineConfig::new(dir.join("resume"), SessionConfig::loopback(dir.join("downloads")));
    Engine::start(config).await.expect("engine")
}

async fn daemon() -> Daemon {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = loopback_engine(dir.path()).await;
    let store =
        Store::connect(&StoreConfig::sqlite(dir.path().join("revaer.db"))).await.expect("store");
    let key = NewApiKey {
        label: "cli".into(),
        rate_limit: None,
        expires_at: None,
        scopes: revaer_domain::Scopes::ADMIN,
        issued_by: None,
    };
    let token = store.issue_api_key(&key).await.expect("key").token.expose().to_owned();
    // What the daemon does: engine events onto the bus, keys refreshed.
    let events = EventBus::new(4096);
    tokio::spawn(forward_events(events.clone(), EventSources::engine(engine.subscribe())));
    let service = service(&engine, &store, &events).await;
    tokio::spawn(revaer_service::keys::refresh_keys(
        service.clone(),
        std::time::Duration::from_millis(100),
    ));
    let state = ApiState::new(service, HttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(serve(listener, router(state), std::future::pending()));
    Daemon { url, token, events, engine, store, _dir: dir }
}

/// A service over `engine` and `store` publishing on `bus`.
async fn service(engine: &Engine, store: &Store, bus: &EventBus) -> Service {
    let service =
        Service::new(engine.clone(), store.clone(), bus.clone(), ServiceConfig::default());
    service.keys().refresh(store).await.expect("keys");
    service
}

/// A progress event (`n` bytes done) about the test magnet's torrent.
fn progress(n: u64) -> Event {
    Event::Progress(Progress {
        torrent: ID.parse().expect("hash"),
        progress: 0.5,
        bytes_done: n,
        bytes_wanted: 2 * n,
        download_bps: 1,
        upload_bps: 0,
        eta_secs: Some(n),
    })
}

impl Daemon {
    /// Runs `revaer` with the URL and key (JSON output: not a terminal).
    async fn run(&self, args: &[&str]) -> Output {
        self.run_as(Some(&self.token), args).await
    }

    async fn run_as(&self, token: Option<&str>, args: &[&str]) -> Output {
        let mut command = Command::new(BIN);
        command.env_remove("REVAER_API_KEY").env_remove("REVAER_TELEMETRY_ENDPOINT").args([
            "--api-url",
            &self.url,
            "--timeout",
            "20",
        ]);
        if let Some(token) = token {
            command.args(["--api-key", token]);
        }
        command.args(args);
        tokio::task::spawn_blocking(move || command.output().expect("revaer runs"))
            .await
            .expect("join")
    }

    async fn stop(self) {
        self.engine.shutdown().await.expect("engine stops");
        self.store.close().await;
    }
}

/// Waits for `child` to exit, killing it (and failing) after `limit`.
async fn exit_within(
    mut child: std::process::Child,
    limit: std::time::Duration,
    what: &'static str,
) -> std::process::ExitStatus {
    tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("{what}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    })
    .await
    .expect("join")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("an exit code")
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!("stdout is JSON ({err}): {}", String::from_utf8_lossy(&output.stdout))
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torrents_are_added_listed_inspected_and_acted_on() {
    let d = daemon().await;
    let added = d.run(&["add", MAGNET, "--paused", "--category", "tv", "--tag", "hd"]).await;
    assert_eq!(code(&added), 0, "{}", stderr(&added));
    assert_eq!(stdout_json(&added)["id"], ID);

    let listed = d.run(&["ls", "--category", "tv", "--tag", "hd"]).await;
    assert_eq!(code(&listed), 0, "{}", stderr(&listed));
    assert_eq!(stdout_json(&listed)["items"][0]["id"], ID);
    let all = d.run(&["ls", "--all"]).await;
    assert_eq!(stdout_json(&all)["next_cursor"], Value::Null);
    let table = d.run(&["--output", "table", "ls"]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("ID") && text.contains("cli-test"), "{text}");

    let status = d.run(&["status", ID]).await;
    assert_eq!(code(&status), 0, "{}", stderr(&status));
    assert_eq!(stdout_json(&status)["category"], "tv");
    assert!(stdout_json(&status)["fsops"].is_null());
    let table = d.run(&["--output", "table", "status", ID]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("cli-test") && text.contains("post-processing: not yet"), "{text}");

    for args in [
        vec!["action", "resume", ID],
        vec!["action", "rate", ID, "--download", "5MiB/s", "--upload", "unlimited"],
        vec!["action", "sequential", "on", ID],
        vec!["action", "first-last", "on", ID],
        vec!["action", "trackers", ID, "--add", "http://t.example/announce", "--tier", "2"],
        vec!["action", "pause", "--all-matching", "--category", "tv"],
    ] {
        let done = d.run(&args).await;
        assert_eq!(code(&done), 0, "{args:?}: {}", stderr(&done));
    }
    let detail = d.engine.detail(ID.parse().expect("hash")).await.expect("detail");
    assert_eq!(detail.summary.download_limit.get(), Some(5 * 1024 * 1024));
    assert!(detail.summary.sequential && detail.summary.first_last_piece);
    let added = detail.trackers.iter().find(|t| t.url == "http://t.example/announce");
    assert_eq!(added.map(|t| t.tier), Some(2), "{:?}", detail.trackers);
    let conflict = d.run(&["action", "trackers", ID, "--remove", "http://absent/"]).await;
    assert_ne!(code(&conflict), 0, "removing a tracker that is not there fails");
    let peers = d.run(&["--output", "table", "peers", ID]).await;
    assert_eq!(code(&peers), 0, "{}", stderr(&peers));
    assert!(String::from_utf8_lossy(&peers.stdout).starts_with("PEER"));
    let pieces = d.run(&["pieces", ID]).await;
    assert_eq!(stdout_json(&pieces)["states"], "", "no metadata, no pieces");

    let removed = d.run(&["action", "remove", ID, "--delete-data"]).await;
    assert_eq!(code(&removed), 0, "{}", stderr(&removed));
    assert!(d.engine.list().is_empty());
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_with_their_codes_and_problems() {
    let d = daemon().await;
    // 401 → 3, the problem document on stderr (JSON output).
    let anonymous = d.run_as(None, &["ls"]).await;
    assert_eq!(code(&anonymous), 3);
    let problem: Value = serde_json::from_str(stderr(&anonymous).trim()).expect("problem JSON");
    assert_eq!(problem["status"], 401);
    assert!(problem["trace_id"].is_string());
    // For people: a summary with the trace id.
    let summary = d.run_as(Some("rvk_nope_nope"), &["--output", "table", "ls"]).await;
    assert_eq!(code(&summary), 3);
    assert!(stderr(&summary).contains("trace id:"), "{}", stderr(&summary));
    // 404 → 4.
    assert_eq!(code(&d.run(&["status", ID]).await), 4);
    // Checked here, nothing sent → 2.
    for args in [
        vec!["status", "nothex"],
        vec!["action", "rate", ID, "--download", "warp 9"],
        vec!["select", ID, "--include", "["],
        vec!["add", "magnet:?xt=urn:btih:zz"],
        vec!["config", "set", "dht=false"],
        vec!["action", "pause"],
        vec!["action", "remove", "--all-matching"],
        vec!["action", "pause", "--category", "tv"],
        vec!["select", ID],
        // Typed flags: refused by the parser, with the values it takes.
        vec!["ls", "--sort", "colour"],
        vec!["ls", "--state", "downloading,flying"],
        vec!["tail", "--type", "explosion"],
        vec!["action", "sequential", "maybe", ID],
        vec!["action", "trackers", ID, "--replace", "no-equals-sign"],
        vec!["keys", "issue", "--label", "x", "--expires-at", "tomorrow"],
    ] {
        let refused = d.run(&args).await;
        assert_eq!(code(&refused), 2, "{args:?}: {}", stderr(&refused));
    }
    // Not a URL: 2, not a network failure.
    let mut command = Command::new(BIN);
    command.args(["--api-url", "localhost:7070", "--api-key", "rvk_x_y", "ls"]);
    let bad_url =
        tokio::task::spawn_blocking(move || command.output().expect("runs")).await.expect("join");
    assert_eq!(code(&bad_url), 2, "{}", stderr(&bad_url));
    // A 422 from the server → 2, with the pointer shown.
    let invalid =
        d.run(&["--output", "table", "config", "set", "engine_profile.connections_limit=0"]).await;
    assert_eq!(code(&invalid), 2);
    assert!(stderr(&invalid).contains("/engine_profile/connections_limit"), "{}", stderr(&invalid));
    // A stale revision (412) → 2.
    let stale =
        d.run(&["config", "set", "engine_profile.dht=false", "--if-revision", "99999"]).await;
    assert_eq!(code(&stale), 2, "{}", stderr(&stale));
    // 429 → 5.
    let issued = d
        .run(&["keys", "issue", "--label", "tight", "--burst", "1", "--per-seconds", "3600"])
        .await;
    assert_eq!(code(&issued), 0, "{}", stderr(&issued));
    let tight = stdout_json(&issued)["token"].as_str().expect("token").to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(code(&d.run_as(Some(&tight), &["ls"]).await), 0);
    assert_eq!(code(&d.run_as(Some(&tight), &["ls"]).await), 5);
    // Nobody listening → 10.
    let mut command = Command::new(BIN);
    command.args(["--api-url", "http://127.0.0.1:9", "--timeout", "5", "health"]);
    let unreachable =
        tokio::task::spawn_blocking(move || command.output().expect("runs")).await.expect("join");
    assert_eq!(code(&unreachable), 10);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_keys_transfer_and_health() {
    let d = daemon().await;
    let health = d.run(&["health", "--full"]).await;
    assert_eq!(code(&health), 0, "{}", stderr(&health));
    assert_eq!(stdout_json(&health)["components"]["database"]["backend"], "SQLite");
    let table = d.run(&["--output", "table", "health", "--full"]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("ok") && text.contains("config_watcher"), "{text}");
    let live = d.run_as(None, &["health"]).await;
    assert_eq!(code(&live), 0, "liveness needs no key");
    let changed = d
        .run(&["config", "set", "engine_profile.dht=false", "engine_profile.active_downloads=4"])
        .await;
    assert_eq!(code(&changed), 0, "{}", stderr(&changed));
    let snapshot = stdout_json(&changed);
    assert_eq!(snapshot["engine_profile"]["active_downloads"], 4);
    let revision = snapshot["revision"].as_i64().expect("revision").to_string();
    let again =
        d.run(&["config", "set", "engine_profile.pex=false", "--if-revision", &revision]).await;
    assert_eq!(code(&again), 0, "{}", stderr(&again));

    let caps = d.run(&["transfer", "--download", "1MiB/s"]).await;
    assert_eq!(code(&caps), 0, "{}", stderr(&caps));
    assert_eq!(stdout_json(&caps)["download_limit_bps"], 1024 * 1024);

    let issued = d.run(&["keys", "issue", "--label", "sonarr"]).await;
    let key_id = stdout_json(&issued)["key_id"].as_str().expect("key id").to_owned();
    let listed = d.run(&["keys", "list"]).await;
    assert!(
        stdout_json(&listed)
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["key_id"] == key_id.as_str())
    );
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("rvk_"), "no secret listed");
    // A key issued without scopes reads; acting needs `control`.
    let reader = stdout_json(&d.run(&["keys", "issue", "--label", "dashboard"]).await);
    assert_eq!(reader["scopes"], serde_json::json!(["read"]));
    let reader = reader["token"].as_str().expect("token").to_owned();
    assert_eq!(code(&d.run_as(Some(&reader), &["ls"]).await), 0);
    let refused = d.run_as(Some(&reader), &["transfer", "--download", "1MiB/s"]).await;
    assert_eq!(code(&refused), 3, "{}", stderr(&refused));
    assert!(stderr(&refused).contains("control"), "the missing scope is named");
    assert_eq!(code(&d.run(&["keys", "rotate", &key_id]).await), 0);
    assert_eq!(code(&d.run(&["keys", "revoke", &key_id]).await), 0);
    assert_eq!(code(&d.run(&["keys", "revoke", "nosuchkey"]).await), 4);
    // Verbose output never shows the key.
    let verbose = d.run(&["-v", "ls"]).await;
    assert!(stderr(&verbose).contains("> GET"), "{}", stderr(&verbose));
    assert!(!stderr(&verbose).contains(&d.token), "the key is masked");
    d.stop().await;
}

/// A running `revaer tail`, its stdout lines read on a thread.
struct Tail {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Tail {
    fn start(d: &Daemon, resume: &std::path::Path) -> Self {
        use std::io::BufRead as _;
        let mut child = Command::new(BIN)
            .env_remove("REVAER_API_KEY")
            .env_remove("REVAER_TELEMETRY_ENDPOINT")
            // The key refresh's own guard-rail events are not these tests'.
            .args(["--api-url", &d.url, "--api-key", &d.token, "tail"])
            .args(["--type", "progress", "--type", "completed", "--resume-file"])
            .arg(resume)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("tail starts");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, lines }
    }

    /// The next printed event, as JSON.
    fn next(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("tail prints in time");
        serde_json::from_str(&line).expect("one JSON object per line")
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Publishes an event on the daemon's bus once `tail` is listening.
async fn publish_when_subscribed(d: &Daemon, n: u64) -> u64 {
    // The stream is open once the bus has a subscriber.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while d.events.subscribers() == 0 {
        assert!(std::time::Instant::now() < deadline, "tail subscribes in time");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    d.events.publish(progress(n))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_resumes_where_it_stopped_without_printing_twice() {
    let d = daemon().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let resume = dir.path().join("state/last-event-id");
    let tail = Tail::start(&d, &resume);
    let first = publish_when_subscribed(&d, 1).await;
    let second = d.events.publish(progress(2));
    assert_eq!(tail.next()["id"], first);
    assert_eq!(tail.next()["id"], second);
    tail.stop();
    assert_eq!(std::fs::read_to_string(&resume).expect("resume file").trim(), second.to_string());

    // Missed while stopped: replayed on the next start, nothing twice.
    let third = d.events.publish(progress(3));
    let torrent: InfoHash = ID.parse().expect("hash");
    let done = Completed { torrent, name: "cli-test".into(), content_path: "/x".into() };
    let fourth = d.events.publish(Event::Completed(done));
    let tail = Tail::start(&d, &resume);
    assert_eq!(tail.next()["id"], third);
    assert_eq!(tail.next()["id"], fourth);
    tail.stop();

    // An id the daemon no longer knows: a resync first.
    std::fs::write(&resume, "1\n").expect("stale id");
    let tail = Tail::start(&d, &resume);
    let resync = tail.next();
    assert_eq!(resync["type"], "resync");
    let fifth = publish_when_subscribed(&d, 5).await;
    assert_eq!(tail.next()["id"], fifth);
    tail.stop();
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_follow_ends_when_the_torrent_is_removed() {
    let d = daemon().await;
    // Removed while followed: exit 4.
    let added = d.run(&["add", MAGNET, "--paused"]).await;
    assert_eq!(code(&added), 0, "{}", stderr(&added));
    let follower = Command::new(BIN)
        .env_remove("REVAER_API_KEY")
        .env_remove("REVAER_TELEMETRY_ENDPOINT")
        .args(["--api-url", &d.url, "--api-key", &d.token, "status", ID, "--follow"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("follow starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while d.events.subscribers() == 0 {
        assert!(std::time::Instant::now() < deadline, "follow subscribes in time");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    d.engine.remove(ID.parse().expect("hash"), false).await.expect("remove");
    let status = exit_within(
        follower,
        std::time::Duration::from_secs(20),
        "follow did not end after the removal",
    )
    .await;
    assert_eq!(status.code(), Some(4));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_follow_shows_progress_with_an_eta_until_completion() {
    use revaer_engine::metainfo::{self, CreateOptions};
    use revaer_engine::{AddTorrentOptions, TorrentSource};
    let d = daemon().await;
    // Seeded by a second engine on loopback: exit 0 when it completes.
    let seed = tempfile::tempdir().expect("tempdir");
    let root = seed.path().join("files/follow-me");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join("data.bin"), vec![7_u8; 1_500_000]).expect("payload");
    let options = CreateOptions { piece_size: Some(16 * 1024), v1_only: true, trackers: vec![] };
    let torrent = metainfo::create(&root, &options).expect("torrent");
    let id = metainfo::Metainfo::parse(&torrent).expect("parse").id;
    let seeder = loopback_engine(seed.path()).await;
    // Capped, so that the download takes a few seconds and reports progress.
    let add = AddTorrentOptions {
        save_path: Some(seed.path().join("files")),
        upload_limit: revaer_domain::RateLimit::bytes_per_second(400_000),
        ..Default::default()
    };
    seeder.add(TorrentSource::Metainfo(torrent.clone()), add).await.expect("seeds");
    let file = seed.path().join("follow-me.torrent");
    std::fs::write(&file, &torrent).expect("torrent file");
    let added = d.run(&["add", file.to_str().expect("utf-8")]).await;
    assert_eq!(code(&added), 0, "{}", stderr(&added));
    let port = d.engine.listen_port().expect("listening");
    seeder
        .connect_peer(id, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .expect("connect");
    // Bounded: a follow that never ends fails the test instead of hanging it.
    let mut command = Command::new(BIN);
    command
        .env_remove("REVAER_API_KEY")
        .env_remove("REVAER_TELEMETRY_ENDPOINT")
        .args(["--api-url", &d.url, "--api-key", &d.token, "--output", "table"])
        .args(["status", &id.to_hex(), "--follow"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("follow starts");
    let watched = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_mins(1);
        while child.try_wait().expect("wait").is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.wait_with_output().expect("output")
    })
    .await
    .expect("join");
    assert_eq!(code(&watched), 0, "{}", stderr(&watched));
    assert!(String::from_utf8_lossy(&watched.stdout).contains("completed"));
    // The bar (a line each on a pipe) shows a real ETA while it downloads.
    let bars = stderr(&watched);
    let etas: Vec<&str> = bars
        .lines()
        .filter_map(|line| line.split("eta ").nth(1))
        .filter(|eta| eta.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(!etas.is_empty(), "an ETA while downloading: {bars}");
    seeder.shutdown().await.expect("seeder stops");
    d.stop().await;
}

#[test]
fn completions_and_the_man_page_come_from_the_definitions() {
    for (shell, marker) in
        [("bash", "_revaer()"), ("zsh", "#compdef revaer"), ("fish", "complete -c revaer")]
    {
        let output = Command::new(BIN).args(["completions", shell]).output().expect("runs");
        assert_eq!(code(&output), 0, "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(script.contains(marker) && script.contains("tail"), "{shell}: {script}");
    }
    let man = Command::new(BIN).arg("man").output().expect("runs");
    assert_eq!(code(&man), 0);
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(page.contains(".TH revaer") && page.contains("Exit codes"), "{page}");
    let bad = Command::new(BIN).args(["completions", "tcsh"]).output().expect("runs");
    assert_eq!(code(&bad), 2, "clap's own usage errors exit 2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_honours_retry_after_once() {
    let d = daemon().await;
    let issued =
        d.run(&["keys", "issue", "--label", "slow", "--burst", "1", "--per-seconds", "2"]).await;
    let slow = stdout_json(&issued)["token"].as_str().expect("token").to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(code(&d.run_as(Some(&slow), &["ls"]).await), 0);
    assert_eq!(code(&d.run_as(Some(&slow), &["ls"]).await), 5, "limited without --retry");
    let retried = d.run_as(Some(&slow), &["--retry", "ls"]).await;
    assert_eq!(code(&retried), 0, "{}", stderr(&retried));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_command_emits_one_telemetry_event_without_secrets() {
    use std::io::{BufRead as _, Read as _, Write as _};
    let d = daemon().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}/events", listener.local_addr().expect("addr"));
    let (sender, bodies) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1) {
            let Ok(stream) = stream else { return };
            let mut reader = std::io::BufReader::new(stream);
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ =
                reader.get_mut().write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
            let _ = sender.send(body);
        }
    });
    let mut command = Command::new(BIN);
    command.env("REVAER_TELEMETRY_ENDPOINT", &endpoint).args([
        "--api-url",
        &d.url,
        "--api-key",
        &d.token,
        "ls",
    ]);
    let output =
        tokio::task::spawn_blocking(move || command.output().expect("runs")).await.expect("join");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let body = bodies.recv_timeout(std::time::Duration::from_secs(10)).expect("an event");
    let event: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(event["command"], "ls");
    assert_eq!(event["outcome"], "ok");
    assert_eq!(event["exit_code"], 0);
    assert_eq!(event["trace_id"].as_str().map(str::len), Some(32));
    assert!(!String::from_utf8_lossy(&body).contains(&d.token), "no secret");
    // An endpoint that is not there costs at most a moment and fails nothing.
    let mut command = Command::new(BIN);
    command.env("REVAER_TELEMETRY_ENDPOINT", "http://127.0.0.1:9/none").args([
        "--api-url",
        &d.url,
        "--api-key",
        &d.token,
        "ls",
    ]);
    let started = std::time::Instant::now();
    let output =
        tokio::task::spawn_blocking(move || command.output().expect("runs")).await.expect("join");
    assert_eq!(code(&output), 0);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    d.stop().await;
}

/// Serves a fresh API (a new event bus: the ids of a new run) for `engine`
/// and `store` on `addr` until `stop` fires.
async fn serve_api(
    engine: &Engine,
    store: &Store,
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> (EventBus, tokio::task::JoinHandle<()>) {
    let events = EventBus::new(4096);
    let state = ApiState::new(service(engine, store, &events).await, HttpConfig::default());
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let closing = events.clone();
    let shutdown = async move {
        let _ = stop.await;
        closing.close();
    };
    let task = tokio::spawn(async move {
        let _ = serve(listener, router(state), shutdown).await;
    });
    (events, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_carries_on_across_a_daemon_restart() {
    let d = daemon().await;
    // A second API on its own port, restarted below on the same port.
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (bus, server) = serve_api(&d.engine, &d.store, port, stopped).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let resume = dir.path().join("last-event-id");
    let mut child = Command::new(BIN)
        .env_remove("REVAER_API_KEY")
        .env_remove("REVAER_TELEMETRY_ENDPOINT")
        .args([
            "--api-url",
            &format!("http://{port}"),
            "--api-key",
            &d.token,
            "tail",
            "--resume-file",
        ])
        .arg(&resume)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tail starts");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    let next = || -> Value {
        let line = lines.recv_timeout(std::time::Duration::from_secs(20)).expect("a line in time");
        serde_json::from_str(&line).expect("JSON line")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while bus.subscribers() == 0 {
        assert!(std::time::Instant::now() < deadline, "tail subscribes in time");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before = bus.publish(progress(1));
    assert_eq!(next()["id"], before);

    // Restart: the stream ends, the tail reconnects with its last id, the
    // new run does not know it and says so, and events flow again.
    let _ = stop.send(());
    server.await.expect("server stopped");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let (bus, server) = serve_api(&d.engine, &d.store, port, stopped).await;
    let resync = next();
    assert_eq!(resync["type"], "resync", "{resync}");
    let after = bus.publish(progress(2));
    assert!(after > before, "ids grow across restarts");
    assert_eq!(next()["id"], after);
    let _ = child.kill();
    let _ = child.wait();
    let _ = stop.send(());
    server.await.expect("server stopped");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_stops_when_its_reader_goes_and_does_not_count_the_lost_event() {
    use std::io::BufRead as _;
    let d = daemon().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let resume = dir.path().join("last-event-id");
    let mut child = Command::new(BIN)
        .env_remove("REVAER_API_KEY")
        .env_remove("REVAER_TELEMETRY_ENDPOINT")
        .args(["--api-url", &d.url, "--api-key", &d.token, "tail", "--type", "progress"])
        .arg("--resume-file")
        .arg(&resume)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tail starts");
    let stdout = child.stdout.take().expect("stdout");
    let first = publish_when_subscribed(&d, 1).await;
    // Read one line, like `| head -1`, then close the pipe.
    let read = tokio::task::spawn_blocking(move || {
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("a line");
        line
    });
    let Ok(line) = tokio::time::timeout(std::time::Duration::from_secs(20), read).await else {
        let _ = child.kill();
        panic!("tail printed nothing in time");
    };
    let line = line.expect("join");
    assert!(line.contains(&first.to_string()), "{line}");
    // Published until the tail notices (a process starting elsewhere may
    // hold the pipe open for a moment).
    let bus = d.events.clone();
    let latest = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(first));
    let newest = std::sync::Arc::clone(&latest);
    let publisher = tokio::spawn(async move {
        for n in 2..200 {
            let id = bus.publish(progress(n));
            newest.store(id, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    let status = exit_within(
        child,
        std::time::Duration::from_secs(20),
        "tail kept running with nobody reading",
    )
    .await;
    publisher.abort();
    assert_eq!(status.code(), Some(0));
    let kept: u64 =
        std::fs::read_to_string(&resume).expect("resume file").trim().parse().expect("id");
    let last = latest.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        kept >= first && kept < last,
        "the unprinted event is not counted: {kept} of {first}..{last}"
    );
    d.stop().await;
}
