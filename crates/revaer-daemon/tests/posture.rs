//! The daemon as an operator deploys it: a private data directory and
//! database, a listen address that obeys `--bind` after setup and is
//! remembered by the instance, and a way back from frozen settings on the
//! host.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use common::{
    BIN, complete_setup, free_port, http, loopback_only, preseed, run_init, start_bound, terminate,
};
use revaer_store::{Store, StoreConfig};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or_default()
}

fn patch(addr: &str, bearer: &str, body: &str) -> (u16, String) {
    let headers = [("authorization", bearer), ("content-type", "application/json")];
    http(addr, "PATCH", "/v1/config", &headers, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_is_private_listens_where_told_and_can_be_unfrozen_from_the_host() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let key_file = dir.path().join("api-key");
    // Headless setup creates the data directory and the database privately.
    let init = run_init(&data, &key_file);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(mode(&data.join("revaer.db")), 0o600, "the database");
    let store = Store::connect(&StoreConfig::sqlite(data.join("revaer.db"))).await.expect("store");
    loopback_only(&store).await;
    store.close().await;
    let bearer = format!("Bearer {}", std::fs::read_to_string(&key_file).expect("key").trim());

    // Set up already, the daemon still listens where --bind says.
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let daemon = start_bound(&data, Some(&bind), &[]);
    assert_eq!(daemon.addr, bind, "--bind wins over the stored settings");
    for companion in ["revaer.db", "revaer.db-wal", "revaer.db-shm"] {
        let path = data.join(companion);
        assert!(!path.exists() || mode(&path) == 0o600, "{companion} is {:o}", mode(&path));
    }
    // An admin freezes the settings; from then on every change is refused.
    let freeze = r#"{"app_profile": {"immutable_keys": ["/app_profile", "/engine_profile", "/fs_policy", "/categories"]}}"#;
    assert_eq!(patch(&daemon.addr, &bearer, freeze).0, 200);
    let change = r#"{"engine_profile": {"download_limit_bps": 1000000}}"#;
    assert_eq!(patch(&daemon.addr, &bearer, change).0, 422);
    // The way back is on the host, and not while the daemon runs.
    let unlock = || Command::new(BIN).arg("--data-dir").arg(&data).arg("unlock-settings").output();
    let elsewhere = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path().join("typo"))
        .arg("unlock-settings")
        .output()
        .expect("runs");
    assert!(!elsewhere.status.success(), "a directory without a database is refused");
    assert!(!dir.path().join("typo").exists(), "and not created");
    let busy = unlock().expect("runs");
    assert!(!busy.status.success(), "refused while the daemon holds the data directory");
    terminate(daemon);
    let unlocked = unlock().expect("runs");
    assert!(unlocked.status.success(), "{}", String::from_utf8_lossy(&unlocked.stderr));
    let said = String::from_utf8_lossy(&unlocked.stdout);
    assert!(said.contains("lifted 4 immutable key(s)") && said.contains("/fs_policy"), "{said}");

    // Restarted without --bind, the instance comes back where it was told.
    let daemon = start_bound(&data, None, &[]);
    assert_eq!(daemon.addr, bind, "the instance remembers its address");
    let (status, body) = patch(&daemon.addr, &bearer, change);
    assert_eq!(status, 200, "settings change again: {body}");
    let (_, config) = http(&daemon.addr, "GET", "/v1/config", &[("authorization", &bearer)], "");
    let config: serde_json::Value = serde_json::from_str(&config).expect("json");
    assert_eq!(config["app_profile"]["http_port"], 7070, "the shared settings were not touched");
    terminate(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_writes_only_inside_its_storage_roots() {
    use revaer_domain::settings::Changeset;
    use revaer_store::ChangeContext;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let media = dir.path().join("media");
    preseed(&data).await;
    // Settings that name a folder outside the data directory…
    let store = Store::connect(&StoreConfig::sqlite(data.join("revaer.db"))).await.expect("store");
    let change = format!(r#"{{"engine_profile": {{"download_root": "{}"}}}}"#, media.display());
    let change = Changeset::parse(&change).expect("changeset");
    store.apply_changeset(&change, &ChangeContext::new("test")).await.expect("apply");
    store.close().await;
    // …stop a daemon that may not write there, with the pointer named.
    let refused = Command::new(BIN)
        .arg("--data-dir")
        .arg(&data)
        .args(["--bind", "127.0.0.1:0", "--peer-port", "0"])
        .env_remove("REVAER_STORAGE_ROOTS")
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("/engine_profile/download_root") && said.contains("--storage-root"),
        "{said}"
    );
    // A root that is not there (an unmounted disk) stops it too, and is
    // not created.
    let roots = format!("{}:{}", data.display(), media.display());
    let missing = Command::new(BIN)
        .arg("--data-dir")
        .arg(&data)
        .args(["--bind", "127.0.0.1:0", "--peer-port", "0"])
        .env("REVAER_STORAGE_ROOTS", &roots)
        .output()
        .expect("runs");
    assert!(!missing.status.success());
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(said.contains("storage root") && said.contains("mount"), "{said}");
    assert!(!media.exists(), "a missing root is not created");
    // Given both folders as roots, it starts, and refuses a save path in neither.
    std::fs::create_dir_all(&media).expect("mkdir");
    let daemon = start_bound(&data, Some("127.0.0.1:0"), &[("REVAER_STORAGE_ROOTS", &roots)]);
    let bearer = complete_setup(&daemon.addr, daemon.setup_token.as_deref().expect("token"));
    let headers = [("authorization", bearer.as_str()), ("content-type", "application/json")];
    let magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567";
    let add = |save: &Path| {
        format!(r#"{{"magnet": "{magnet}", "paused": true, "save_path": "{}"}}"#, save.display())
    };
    let (status, body) =
        http(&daemon.addr, "POST", "/v1/torrents", &headers, &add(&dir.path().join("other")));
    assert_eq!(status, 422, "{body}");
    let (status, body) =
        http(&daemon.addr, "POST", "/v1/torrents", &headers, &add(&media.join("tv")));
    assert_eq!(status, 201, "{body}");
    terminate(daemon);
}
