//! The real `revaerd` binary, driven over HTTP/1.1 on loopback.
#![allow(dead_code, reason = "each test binary uses part of it")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use revaer_domain::settings::Changeset;
use revaer_store::{ChangeContext, Store, StoreConfig};

pub const BIN: &str = env!("CARGO_BIN_EXE_revaerd");

/// Loopback only, no DHT or port mapping: what a test daemon may do.
pub async fn preseed(data: &Path) {
    std::fs::create_dir_all(data).expect("data dir");
    let store = Store::connect(&StoreConfig::sqlite(data.join("revaer.db"))).await.expect("store");
    loopback_only(&store).await;
    store.close().await;
}

/// Loopback only, no DHT or port mapping, on any store.
pub async fn loopback_only(store: &Store) {
    let changeset = Changeset::parse(
        r#"{"engine_profile": {"listen_interfaces": ["127.0.0.1"], "dht": false, "lsd": false,
            "upnp": false, "natpmp": false}}"#,
    )
    .expect("changeset");
    store.apply_changeset(&changeset, &ChangeContext::new("test")).await.expect("apply");
}

pub struct Daemon {
    pub child: Child,
    pub addr: String,
    pub setup_token: Option<String>,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // A failed test never leaves a daemon behind.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn start(data: &Path) -> Daemon {
    start_with_env(data, &[])
}

/// Starts `revaerd` with extra environment variables.
pub fn start_with_env(data: &Path, env: &[(&str, &str)]) -> Daemon {
    start_bound(data, Some("127.0.0.1:0"), env)
}

/// A port free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Starts `revaerd` with `--bind` when given (else the address it resolves
/// itself) and extra environment variables.
pub fn start_bound(data: &Path, bind: Option<&str>, env: &[(&str, &str)]) -> Daemon {
    let mut command = Command::new(BIN);
    command.args(["--data-dir"]).arg(data).args(["--peer-port", "0"]);
    if let Some(bind) = bind {
        command.args(["--bind", bind]);
    }
    let child = command
        .env_remove("REVAER_BIND")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("revaerd starts");
    let mut daemon = Daemon { child, addr: String::new(), setup_token: None };
    // Lines are read on a thread, so that a daemon that never prints its
    // address fails the test at the deadline instead of hanging it.
    let stdout = daemon.child.stdout.take().expect("stdout");
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_mins(1);
    while daemon.addr.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).expect("revaerd prints its address in time");
        if let Some(token) = line.split("(shown once): ").nth(1) {
            daemon.setup_token = Some(token.trim().to_owned());
        }
        let listening = line.strip_prefix("revaerd: listening on ");
        if let Some(addr) = listening.and_then(|l| l.split_once("://")).map(|(_, addr)| addr) {
            addr.trim().clone_into(&mut daemon.addr);
        }
    }
    daemon
}

/// One HTTP/1.1 request; returns the status and the body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(name);
        request.push_str(": ");
        request.push_str(value);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// Opens `/v1/events` and skips the response head.
pub fn open_events(addr: &str, bearer: &str) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let request =
        format!("GET /v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {bearer}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    assert!(line.contains(" 200 "), "{line}");
    while line != "\r\n" {
        line.clear();
        reader.read_line(&mut line).expect("header");
    }
    reader
}

/// `revaerd init --api-key-out OUT` on a data directory.
pub fn run_init(data: &Path, out: &Path) -> std::process::Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["init", "--api-key-out"])
        .arg(out)
        .output()
        .expect("init runs")
}

pub fn terminate(mut daemon: Daemon) {
    let pid = nix_pid(&daemon.child);
    let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_mins(1);
    loop {
        if let Some(status) = daemon.child.try_wait().expect("wait") {
            assert!(status.success(), "a clean exit on SIGTERM: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "revaerd stops in time");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn nix_pid(child: &Child) -> String {
    child.id().to_string()
}

/// Completes setup over HTTP with the daemon's printed token; returns the
/// first key as an `Authorization` value (`Bearer rvk_…`).
pub fn complete_setup(addr: &str, token: &str) -> String {
    let (status, body) = http(
        addr,
        "POST",
        "/v1/setup/complete",
        &[("content-type", "application/json"), ("x-revaer-setup-token", token)],
        "{}",
    );
    assert_eq!(status, 201, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).expect("json");
    format!("Bearer {}", reply["api_key"]["token"].as_str().expect("key"))
}
