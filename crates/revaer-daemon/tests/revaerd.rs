//! The real `revaerd` binary: setup mode on first start, setup over HTTP
//! without a restart, SIGTERM, and `revaerd init`.

mod common;

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, complete_setup, http, open_events, preseed, run_init, start, terminate};
use revaer_store::{Store, StoreConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_is_setup_mode_and_setup_opens_the_api_without_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    preseed(&data).await;
    let daemon = start(&data);
    let token = daemon.setup_token.clone().expect("a setup token is printed");
    // A second daemon on the same data directory stops before it does
    // anything: no new setup token, the first one keeps working.
    a_second_daemon_stops_at_the_lock(&data, daemon.child.id());
    let (status, body) = http(&daemon.addr, "GET", "/health", &[], "");
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(&daemon.addr, "GET", "/v1/torrents", &[], "");
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("setup-required"));
    let bearer = complete_setup(&daemon.addr, &token);
    let (status, body) =
        http(&daemon.addr, "GET", "/v1/torrents", &[("authorization", &bearer)], "");
    assert_eq!(status, 200, "{body}");

    // A settings change reaches the running daemon through its watcher,
    // and the event stream.
    let mut events = open_events(&daemon.addr, &bearer);
    let (status, body) = http(
        &daemon.addr,
        "PATCH",
        "/v1/config",
        &[("authorization", &bearer), ("content-type", "application/json")],
        r#"{"engine_profile": {"download_limit_bps": 1000000}}"#,
    );
    assert_eq!(status, 200, "{body}");
    let revision = serde_json::from_str::<serde_json::Value>(&body).expect("json")["revision"]
        .as_i64()
        .expect("revision");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = http(&daemon.addr, "GET", "/health/full", &[], "");
        let health: serde_json::Value = serde_json::from_str(&body).expect("json");
        // Delivered to the watcher, and applied to the engine.
        if health["components"]["config_watcher"]["last_revision"].as_i64() == Some(revision)
            && health["components"]["engine"]["download_limit_bps"] == 1_000_000
        {
            assert!(health["components"]["fsops"]["status"].is_string(), "FsOps reports: {health}");
            // The revision the binary was built from, when built in a checkout.
            let head = Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).output();
            if let Some(head) = head.ok().filter(|o| o.status.success()) {
                let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
                assert_eq!(health["git_revision"], head.as_str(), "{health}");
            }
            break;
        }
        assert!(Instant::now() < deadline, "the watcher delivers the revision: {health}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut line = String::new();
    loop {
        assert!(Instant::now() < deadline, "the settings change is streamed");
        line.clear();
        assert!(events.read_line(&mut line).expect("stream line") > 0, "the stream ended");
        if line.trim() == "event: settings_changed" {
            break;
        }
    }
    // A local Prometheus scrapes without a key.
    let (status, body) = http(&daemon.addr, "GET", "/metrics", &[], "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("revaer_http_requests_total"), "{body}");
    assert!(body.contains("route=\"/v1/config\""), "{body}");
    terminate(daemon);

    // Set up now: `init` refuses and changes nothing.
    let out = dir.path().join("key");
    let init = run_init(&data, &out);
    assert!(!init.status.success());
    assert!(String::from_utf8_lossy(&init.stderr).contains("already set up"));
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_sets_up_headlessly_and_writes_a_private_key_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    preseed(&data).await;
    let out = dir.path().join("api-key");
    let init = run_init(&data, &out);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let key = std::fs::read_to_string(&out).expect("key file");
    assert!(key.trim().starts_with("rvk_"));
    assert_eq!(std::fs::metadata(&out).expect("meta").permissions().mode() & 0o777, 0o600);
    let store = Store::connect(&StoreConfig::sqlite(data.join("revaer.db"))).await.expect("store");
    assert!(store.verify_api_key(key.trim()).await.expect("verify").is_some(), "the key works");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_never_harms_an_existing_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    preseed(&data).await;
    // A world-readable file is replaced by a private one holding the token.
    let out = dir.path().join("api-key");
    std::fs::write(&out, "old").expect("old file");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let init = || run_init(&data, &out);
    assert!(init().status.success());
    let token = std::fs::read_to_string(&out).expect("key file");
    assert!(token.starts_with("rvk_"));
    assert_eq!(std::fs::metadata(&out).expect("meta").permissions().mode() & 0o777, 0o600);
    // A second run on the set-up instance leaves the key file as it was.
    let again = init();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already set up"));
    assert_eq!(std::fs::read_to_string(&out).expect("still there"), token, "the first key is kept");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("revaer-part"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left");
}

/// A second `revaerd` on a data directory in use exits, naming the holder,
/// without printing (or issuing) a setup token.
fn a_second_daemon_stops_at_the_lock(data: &std::path::Path, holder: u32) {
    let mut second = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["--bind", "127.0.0.1:0", "--peer-port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("a second revaerd runs");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = second.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            panic!("a second revaerd on the same data directory keeps running");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let output = second.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("another revaerd"), "{stderr}");
    assert!(stderr.contains(&holder.to_string()), "names the holder: {stderr}");
    assert!(output.stdout.is_empty(), "nothing printed, no token issued");
}
