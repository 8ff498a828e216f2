//! The API's contract, checked from outside: an API fuzzer (schemathesis,
//! in the test environment's `.venv`) generates requests from the OpenAPI
//! document and sends them to the real `revaerd` binary. What the document
//! allows must be accepted, what it forbids refused, and every answer must
//! be one the document states (status, media type, body schema, the event
//! stream's frames). `scripts/api-contract.toml` lists, with reasons, the
//! few refusals no schema can state.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{loopback_only, run_init, start, terminate};
use revaer_domain::settings::Changeset;
use revaer_store::{ChangeContext, Store, StoreConfig};

/// Examples per operation and phase: enough to reach every parameter.
const EXAMPLES: &str = "100";
/// The longest the fuzzer may run.
const LIMIT: Duration = Duration::from_mins(5);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fuzzer of the test environment (`./scripts/dev.sh test` makes it).
fn schemathesis() -> PathBuf {
    let tool = std::env::var_os("REVAER_PYTHON").map_or_else(
        || workspace().join(".venv/bin/schemathesis"),
        |python| Path::new(&python).with_file_name("schemathesis"),
    );
    assert!(
        tool.exists(),
        "{} is missing: run ./scripts/dev.sh test (or `just venv`)",
        tool.display()
    );
    tool
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Loopback only, on a port of its own, set up with a key in `key`.
async fn set_up(data: &Path, key: &Path) {
    std::fs::create_dir_all(data).expect("data dir");
    let store = Store::connect(&StoreConfig::sqlite(data.join("revaer.db"))).await.expect("store");
    loopback_only(&store).await;
    let port = Changeset::parse(&format!(r#"{{"app_profile": {{"http_port": {}}}}}"#, free_port()))
        .expect("changeset");
    store.apply_changeset(&port, &ChangeContext::new("test")).await.expect("apply");
    store.close().await;
    let init = run_init(data, key);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_the_document_allows_are_taken_and_the_rest_refused() {
    let tool = schemathesis();
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, key) = (dir.path().join("data"), dir.path().join("key"));
    set_up(&data, &key).await;
    let document = dir.path().join("openapi.json");
    std::fs::write(&document, revaer_api::openapi::document()).expect("document");
    let daemon = start(&data);
    let token = std::fs::read_to_string(&key).expect("key").trim().to_owned();
    // Its report goes to a file: a pipe nobody reads while it runs fills up.
    let log = dir.path().join("report.txt");
    let file = std::fs::File::create(&log).expect("report file");
    let mut fuzzer = Command::new(tool)
        .arg("--config-file")
        .arg(workspace().join("scripts/api-contract.toml"))
        .arg("run")
        .arg(&document)
        .args(["--url", &format!("http://{}", daemon.addr)])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all", "--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", EXAMPLES, "--workers", "1", "--seed", "20261203"])
        .args(["--no-color", "--request-timeout", "30"])
        .current_dir(dir.path())
        .stdout(file.try_clone().expect("report file"))
        .stderr(file)
        .spawn()
        .expect("the fuzzer runs");
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = fuzzer.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = fuzzer.kill();
            let _ = fuzzer.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let report = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        status.is_some_and(|s| s.success()),
        "the API and its document disagree (or the fuzzer ran out of time):\n{report}"
    );
    // Every documented operation was exercised, but the event stream (see
    // the configuration).
    let doc: serde_json::Value =
        serde_json::from_str(revaer_api::openapi::document()).expect("JSON");
    let operations: usize = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| item.as_object().map_or(0, serde_json::Map::len))
        .sum();
    let tested = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("Tested: "))
        .and_then(|n| n.trim().parse::<usize>().ok());
    assert_eq!(tested, Some(operations - 1), "{report}");
    terminate(daemon);
}
