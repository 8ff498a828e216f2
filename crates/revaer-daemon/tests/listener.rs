//! The listener against hostile clients, through the binary: trickled
//! headers, half-sent requests held open, idle kept-alive connections and
//! slow bodies are cut, past the connection cap new connections are
//! closed, and a normal client is served all along.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{complete_setup, http, preseed, start_with_env, terminate};

/// Whether the server closed `stream` within `within` (a read sees the end
/// or a reset; bytes of an answer before it are skipped).
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0_u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).expect("timeout");
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// A loopback-only daemon with a data directory in `dir`.
async fn daemon_in(dir: &std::path::Path, env: &[(&str, &str)]) -> common::Daemon {
    let data = dir.join("data");
    preseed(&data).await;
    start_with_env(&data, env)
}

fn half_request(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").expect("send");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_cut_while_others_are_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 300 from one address: more than one address may hold by default.
    let env = [
        ("REVAER_HTTP_HEAD_TIMEOUT", "2"),
        ("REVAER_HTTP_BODY_TIMEOUT", "2"),
        ("REVAER_MAX_CONNECTIONS_PER_ADDRESS", "1024"),
    ];
    let daemon = daemon_in(dir.path(), &env).await;
    let addr = daemon.addr.clone();

    // Headers trickled a byte a second are cut at the head timeout.
    let mut trickle = TcpStream::connect(&addr).expect("connect");
    let started = Instant::now();
    let mut cut = false;
    for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaa\r\n" {
        if trickle.write_all(&[*byte]).is_err() {
            cut = true;
            break;
        }
        if closed_within(&mut trickle, Duration::from_secs(1)) {
            cut = true;
            break;
        }
    }
    assert!(cut, "trickled headers are cut");
    assert!(started.elapsed() < Duration::from_secs(6), "cut after {:?}", started.elapsed());

    // 300 half-sent requests held open: a normal client is served while
    // they are, and all of them are cut.
    let mut held: Vec<TcpStream> = (0..300).map(|_| half_request(&addr)).collect();
    let (status, _) = http(&addr, "GET", "/health", &[], "");
    assert_eq!(status, 200, "served beside 300 slow connections");
    let all_cut = held.iter_mut().all(|s| closed_within(s, Duration::from_secs(5)));
    assert!(all_cut, "every half-sent request is cut");

    // A kept-alive connection left idle after its answer is closed.
    let mut idle = TcpStream::connect(&addr).expect("connect");
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
    let mut answer = [0_u8; 12];
    idle.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    idle.read_exact(&mut answer).expect("answer");
    assert_eq!(&answer, b"HTTP/1.1 200");
    assert!(closed_within(&mut idle, Duration::from_secs(5)), "an idle connection is closed");

    // A body that never arrives in full is refused, and the connection
    // closed, at the body timeout.
    let mut slow_body = TcpStream::connect(&addr).expect("connect");
    slow_body
        .write_all(b"POST /v1/setup/complete HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .expect("send");
    assert!(closed_within(&mut slow_body, Duration::from_secs(6)), "a slow body is cut");
    terminate(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_is_refused_at_its_deadline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let daemon = daemon_in(dir.path(), &[("REVAER_HTTP_BODY_TIMEOUT", "3")]).await;
    let addr = daemon.addr.clone();
    let bearer = complete_setup(&addr, daemon.setup_token.as_deref().expect("setup token"));
    let mut stream = TcpStream::connect(&addr).expect("connect");
    let head = format!(
        "PATCH /v1/config HTTP/1.1\r\nHost: x\r\nAuthorization: {bearer}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("send the head");
    // A byte every half second: never a gap near the deadline, and the
    // body never complete.
    let started = Instant::now();
    stream.set_read_timeout(Some(Duration::from_millis(500))).expect("timeout");
    let mut answer = Vec::new();
    for _ in 0..40 {
        let mut buf = [0_u8; 4096];
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        if stream.write_all(b" ").is_err() {
            break;
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request-timeout"), "a Problem: {answer}");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(8), "refused after {elapsed:?}");
    terminate(daemon);
}

/// A connection to `addr` from the loopback address `from` (127.0.0.0/8
/// is all loopback on Linux), with a small receive buffer.
async fn connect_from(from: &str, addr: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("buffer");
    socket.bind(format!("{from}:0").parse().expect("address")).expect("bind");
    let stream = socket.connect(addr.parse().expect("address")).await.expect("connect");
    let stream = stream.into_std().expect("std stream");
    stream.set_nonblocking(false).expect("blocking");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_take_every_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [("REVAER_MAX_CONNECTIONS_PER_ADDRESS", "4"), ("REVAER_HTTP_HEAD_TIMEOUT", "30")];
    let daemon = daemon_in(dir.path(), &env).await;
    let addr = daemon.addr.clone();
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = connect_from("127.0.0.1", &addr).await;
        stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").expect("send");
        held.push(stream);
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut fifth = connect_from("127.0.0.1", &addr).await;
    let _ = fifth.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(closed_within(&mut fifth, Duration::from_secs(2)), "the fifth is closed at once");
    // Another address is served while the first holds its four.
    let mut other = connect_from("127.0.0.2", &addr).await;
    other.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("send");
    let mut answer = String::new();
    other.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    other.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A closed connection gives its place back.
    drop(held.pop());
    std::thread::sleep(Duration::from_millis(300));
    let mut again = connect_from("127.0.0.1", &addr).await;
    again.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("send");
    let mut answer = String::new();
    again.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    again.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    terminate(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_nothing_is_cut_at_the_write_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [("REVAER_HTTP_WRITE_TIMEOUT", "2"), ("REVAER_HTTP_HEAD_TIMEOUT", "60")];
    let daemon = daemon_in(dir.path(), &env).await;
    let addr = daemon.addr.clone();
    // 100 pipelined requests for the 140 kB document: far more than the
    // socket buffers hold, so the server waits on the client.
    let mut stream = connect_from("127.0.0.1", &addr).await;
    let requests = "GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(100);
    stream.write_all(requests.as_bytes()).expect("send");
    std::thread::sleep(Duration::from_secs(5));
    // Reading now finds the end well before 100 answers.
    let mut read = 0_usize;
    let mut buf = vec![0_u8; 64 * 1024];
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break true,
            Ok(n) => read += n,
        }
        if read > 100 * 140_000 {
            break false;
        }
    };
    assert!(closed, "cut while waiting on the client");
    assert!(read < 50 * 140_000, "cut early: {read} bytes read");
    let (status, _) = http(&addr, "GET", "/health", &[], "");
    assert_eq!(status, 200);
    terminate(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_new_connections_are_closed_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [("REVAER_MAX_CONNECTIONS", "16"), ("REVAER_HTTP_HEAD_TIMEOUT", "3")];
    let daemon = daemon_in(dir.path(), &env).await;
    let addr = daemon.addr.clone();
    let mut held: Vec<TcpStream> = (0..16).map(|_| half_request(&addr)).collect();
    // Give the server a moment to take every one of them.
    std::thread::sleep(Duration::from_millis(300));
    let mut refused = TcpStream::connect(&addr).expect("the kernel still accepts");
    let _ = refused.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(closed_within(&mut refused, Duration::from_secs(1)), "closed at once past the cap");
    // Once the slow ones are cut, clients are served again.
    assert!(held.iter_mut().all(|s| closed_within(s, Duration::from_secs(6))));
    let (status, _) = http(&addr, "GET", "/health", &[], "");
    assert_eq!(status, 200);
    let bearer = complete_setup(&addr, daemon.setup_token.as_deref().expect("setup token"));
    let (_, metrics) = http(&addr, "GET", "/metrics", &[], "");
    assert!(metrics.contains("revaer_http_connections_refused_total"), "counted: {metrics}");
    // An event stream is a response in progress, not an idle connection:
    // it outlives the head timeout.
    let mut events = common::open_events(&addr, &bearer).into_inner();
    assert!(!closed_within(&mut events, Duration::from_secs(4)), "the stream stays open");
    terminate(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_certificate_the_listener_speaks_https_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let env = [
        ("REVAER_TLS_CERT", cert.to_str().expect("utf-8")),
        ("REVAER_TLS_KEY", key.to_str().expect("utf-8")),
    ];
    let daemon = daemon_in(dir.path(), &env).await;
    let curl = |url: String, extra: &[&str]| {
        std::process::Command::new("curl")
            .args(["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(extra)
            .arg(url)
            .output()
            .expect("curl runs")
    };
    let https = curl(
        format!("https://{}/health", daemon.addr),
        &["--cacert", cert.to_str().expect("utf-8")],
    );
    assert_eq!(
        String::from_utf8_lossy(&https.stdout),
        "200",
        "{}",
        String::from_utf8_lossy(&https.stderr)
    );
    let plain = curl(format!("http://{}/health", daemon.addr), &[]);
    assert_ne!(String::from_utf8_lossy(&plain.stdout), "200", "no plain HTTP on a TLS listener");
    let untrusted = curl(format!("https://{}/health", daemon.addr), &[]);
    assert!(!untrusted.status.success(), "the certificate is what it is");
    terminate(daemon);
}
