//! A real qBittorrent client library (the Python `qbittorrent-api`
//! package, in the test environment's `.venv`) drives the daemon's
//! `/api/v2` through the binary.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{complete_setup, preseed, start_with_env, terminate};

fn python() -> PathBuf {
    let python = std::env::var_os("REVAER_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
        PathBuf::from,
    );
    assert!(python.exists(), "{} is missing: run ./scripts/dev.sh test", python.display());
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qbittorrent_api_adds_lists_categorises_tags_limits_and_deletes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    preseed(&data).await;
    let daemon = start_with_env(&data, &[]);
    let bearer = complete_setup(&daemon.addr, daemon.setup_token.as_deref().expect("token"));
    let key = bearer.strip_prefix("Bearer ").expect("a bearer token");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/qbit_client.py");
    let mut child = std::process::Command::new(python())
        .arg(&script)
        .arg(format!("http://{}", daemon.addr))
        .arg(key)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    let deadline = std::time::Instant::now() + Duration::from_mins(1);
    while child.try_wait().expect("wait").is_none() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if child.try_wait().expect("wait").is_none() {
        let _ = child.kill();
    }
    let output = child.wait_with_output().expect("output");
    let (out, err) =
        (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{out}\n{err}");
    assert_eq!(out.trim(), "ok");
    terminate(daemon);
}
