//! API benchmark over real HTTP on loopback, against a real engine and a
//! SQLite store:
//!
//! ```text
//! cargo run --release -p revaer-api --example api-bench -- --torrents 10000 --subscribers 100
//! ```
//!
//! 1. The cost of an authenticated request against `/health`: `GET /health`
//!    and `GET /v1/torrents?limit=1` on an empty engine, with an unlimited
//!    key and with a rate-limited one (p50/p99 over keep-alive requests).
//! 2. Adds N paused magnets through `POST /v1/torrents` (random
//!    info-hashes, so nothing touches the network), then times
//!    `GET /v1/torrents?limit=100`, a filtered list (category + name), a
//!    tracker-filtered list, and paging through everything by cursor.
//! 3. Opens S event streams and measures fan-out: from an engine command
//!    (resume) to the moment every subscriber has its `state_changed`
//!    frame (libtorrent's alert cadence included), and from an event put
//!    straight onto the bus to the same moment.
//!
//! Prints one JSON line.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::too_many_lines)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use rand::RngCore as _;
use revaer_api::state::HttpConfig;
use revaer_api::{ApiState, router, serve};
use revaer_domain::event::StateChanged;
use revaer_domain::{Event, InfoHash, TorrentState};
use revaer_engine::{Engine, EngineConfig, SessionConfig};
use revaer_service::bus::EventBus;
use revaer_service::forward::{EventSources, forward_events};
use revaer_service::{Service, ServiceConfig};
use revaer_store::{KeyRateLimit, NewApiKey, Store, StoreConfig};
use tokio::sync::mpsc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One keep-alive HTTP/1.1 connection.
struct Client {
    reader: BufReader<TcpStream>,
    addr: SocketAddr,
}

impl Client {
    fn connect(addr: SocketAddr) -> Result<Self, BoxError> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Self { reader: BufReader::new(stream), addr })
    }

    /// Sends a request and reads the answer; returns the status and body.
    fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> Result<(u16, String), BoxError> {
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if let Some(token) = token {
            request.push_str("Authorization: Bearer ");
            request.push_str(token);
            request.push_str("\r\n");
        }
        if !body.is_empty() {
            request.push_str("Content-Type: application/json\r\n");
        }
        request.push_str("\r\n");
        request.push_str(body);
        self.reader.get_mut().write_all(request.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
        let mut length = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, String::from_utf8(body)?))
    }

    /// Times `count` requests; returns (p50, p99) in milliseconds.
    fn time(
        &mut self,
        count: usize,
        path: &str,
        token: Option<&str>,
    ) -> Result<(f64, f64), BoxError> {
        let mut samples = Vec::with_capacity(count);
        for _ in 0..count {
            let at = Instant::now();
            let (status, body) = self.send("GET", path, token, "")?;
            samples.push(at.elapsed());
            if status != 200 {
                return Err(format!("GET {path}: {status} {body}").into());
            }
        }
        Ok((percentile(&mut samples, 50), percentile(&mut samples, 99)))
    }
}

fn percentile(samples: &mut [Duration], pct: usize) -> f64 {
    samples.sort_unstable();
    let index = (samples.len() * pct / 100).min(samples.len().saturating_sub(1));
    samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// What a subscriber reports: its index, the torrent of a `state_changed`
/// frame (empty once its stream is open), and when.
type Report = (usize, String, Instant);

/// Opens `/v1/events` and reports when the stream is open, then every
/// `state_changed` frame's torrent and arrival time.
fn subscribe(index: usize, addr: SocketAddr, token: &str, report: mpsc::UnboundedSender<Report>) {
    let stream = TcpStream::connect(addr).expect("connect");
    let request = format!(
        "GET /v1/events?type=state_changed HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    let mut reader = BufReader::new(stream);
    reader.get_mut().write_all(request.as_bytes()).expect("send");
    std::thread::spawn(move || {
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line.starts_with("HTTP/1.1 200")
                && report.send((index, String::new(), Instant::now())).is_err()
            {
                return;
            }
            if let Some(data) = line.strip_prefix("data: ") {
                let at = Instant::now();
                let value: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
                let torrent = value["torrent"].as_str().unwrap_or_default().to_owned();
                if report.send((index, torrent, at)).is_err() {
                    return;
                }
            }
        }
    });
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let (mut count, mut subscribers) = (10_000_usize, 100_usize);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or("a flag needs a value")?;
        match flag.as_str() {
            "--torrents" => count = value.parse()?,
            "--subscribers" => subscribers = value.parse()?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    let engine = Engine::start(EngineConfig::new(
        dir.path().join("resume"),
        SessionConfig::loopback(dir.path().join("downloads")),
    ))
    .await?;
    let store = Store::connect(&StoreConfig::sqlite(dir.path().join("revaer.db"))).await?;
    let new_key = |rate_limit| NewApiKey {
        label: "bench".into(),
        rate_limit,
        expires_at: None,
        scopes: revaer_domain::Scopes::ADMIN,
        issued_by: None,
    };
    let token = store.issue_api_key(&new_key(None)).await?.token.expose().to_owned();
    let limited = KeyRateLimit { burst: 100_000, per_seconds: 1 };
    let limited = store.issue_api_key(&new_key(Some(limited))).await?.token.expose().to_owned();
    // What the daemon does: engine events onto the bus.
    let direct = EventBus::new(4096);
    tokio::spawn(forward_events(direct.clone(), EventSources::engine(engine.subscribe())));
    let service =
        Service::new(engine.clone(), store.clone(), direct.clone(), ServiceConfig::default());
    service.keys().refresh(&store).await?;
    let state = ApiState::new(service, HttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(serve(listener, router(state), std::future::pending()));

    let client_token = token.clone();
    let (result, ids) = tokio::task::spawn_blocking(move || -> Result<(String, Vec<InfoHash>), BoxError> {
        let mut client = Client::connect(addr)?;
        // 1. Authentication's cost.
        let health = client.time(2000, "/health", None)?;
        let authed = client.time(2000, "/v1/torrents?limit=1", Some(&client_token))?;
        let limited = client.time(2000, "/v1/torrents?limit=1", Some(&limited))?;

        // 2. Adds, then lists.
        let mut rng = rand::rng();
        let started = Instant::now();
        let mut ids = Vec::with_capacity(count);
        for n in 0..count {
            let mut bytes = [0_u8; 20];
            rng.fill_bytes(&mut bytes);
            let id = InfoHash::from_bytes(bytes);
            let category = if n % 2 == 0 { "tv" } else { "movies" };
            let tracker = if n % 10 == 0 { "tracker.example.org" } else { "other.example.net" };
            let body = format!(
                r#"{{"magnet": "magnet:?xt=urn:btih:{id}&dn=bench-{n}&tr=udp%3A%2F%2F{tracker}%3A6969", "paused": true, "category": "{category}"}}"#
            );
            let (status, answer) = client.send("POST", "/v1/torrents", Some(&client_token), &body)?;
            if status != 201 {
                return Err(format!("add: {status} {answer}").into());
            }
            ids.push(id);
        }
        let adds_per_s = count as f64 / started.elapsed().as_secs_f64();
        let list = client.time(300, "/v1/torrents?limit=100", Some(&client_token))?;
        let filtered =
            client.time(300, "/v1/torrents?limit=100&category=tv&name=bench-1", Some(&client_token))?;
        let by_tracker =
            client.time(100, "/v1/torrents?limit=100&tracker=tracker.example", Some(&client_token))?;
        let started = Instant::now();
        let (mut pages, mut seen, mut cursor) = (0, 0, None::<String>);
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/torrents?limit=1000&cursor={c}"),
                None => "/v1/torrents?limit=1000".to_owned(),
            };
            let (_, body) = client.send("GET", &path, Some(&client_token), "")?;
            let page: serde_json::Value = serde_json::from_str(&body)?;
            pages += 1;
            seen += page["items"].as_array().map_or(0, Vec::len);
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let page_all_ms = started.elapsed().as_secs_f64() * 1e3;
        if seen != count {
            return Err(format!("paged {seen} of {count}").into());
        }
        let summary = format!(
            "\"torrents\":{count},\"health_p50_ms\":{:.3},\"health_p99_ms\":{:.3},\
             \"authed_p50_ms\":{:.3},\"authed_p99_ms\":{:.3},\"rate_limited_key_p50_ms\":{:.3},\
             \"adds_per_s\":{adds_per_s:.0},\"list100_p50_ms\":{:.2},\"list100_p99_ms\":{:.2},\
             \"filtered_p50_ms\":{:.2},\"filtered_p99_ms\":{:.2},\"tracker_filter_p50_ms\":{:.2},\
             \"page_all_1000_ms\":{page_all_ms:.1},\"pages\":{pages}",
            health.0, health.1, authed.0, authed.1, limited.0, list.0, list.1, filtered.0,
            filtered.1, by_tracker.0,
        );
        ids.truncate(60);
        Ok((summary, ids))
    })
    .await??;
    // 3. Fan-out.
    let (report, mut reports) = mpsc::unbounded_channel();
    for index in 0..subscribers {
        subscribe(index, addr, &token, report.clone());
    }
    let mut open = std::collections::HashSet::new();
    while open.len() < subscribers {
        match tokio::time::timeout(Duration::from_secs(10), reports.recv()).await {
            Ok(Some((index, torrent, _))) if torrent.is_empty() => {
                open.insert(index);
            }
            Ok(Some(_)) => {}
            _ => return Err(format!("{} of {subscribers} streams opened", open.len()).into()),
        }
    }
    let mut fanout = Vec::new();
    for (round, id) in ids.iter().enumerate() {
        while reports.try_recv().is_ok() {}
        let at = Instant::now();
        engine.resume(*id).await?;
        let wanted = id.to_hex();
        let mut got = std::collections::HashSet::new();
        let mut last = at;
        let deadline = at + Duration::from_secs(10);
        while got.len() < subscribers {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, reports.recv()).await {
                // The first frame about it on each stream.
                Ok(Some((index, torrent, when))) if torrent == wanted => {
                    if got.insert(index) {
                        last = last.max(when);
                    }
                }
                Ok(Some(_)) => {}
                _ => {
                    let count = got.len();
                    return Err(format!("round {round}: {count} of {subscribers} got it").into());
                }
            }
        }
        fanout.push(last - at);
        engine.pause(*id).await?;
        // Let the pause's own state change go by.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The bus alone: an event published straight onto it (after the last
    // pause's own frames have gone by).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut bus_fanout = Vec::new();
    for id in &ids {
        while reports.try_recv().is_ok() {}
        let at = Instant::now();
        let from = TorrentState::Paused;
        direct.publish(Event::StateChanged(StateChanged { torrent: *id, from, to: from }));
        // Engine events about this torrent are long over: its frames now
        // come from this publish only.
        let (wanted, mut got, mut last) = (id.to_hex(), std::collections::HashSet::new(), at);
        while got.len() < subscribers {
            match tokio::time::timeout(Duration::from_secs(10), reports.recv()).await {
                Ok(Some((index, torrent, when))) if torrent == wanted => {
                    if got.insert(index) {
                        last = last.max(when);
                    }
                }
                Ok(Some(_)) => {}
                _ => return Err(format!("bus: {} of {subscribers} got it", got.len()).into()),
            }
        }
        bus_fanout.push(last - at);
    }
    println!(
        "{{{result},\"subscribers\":{subscribers},\"engine_fanout_p50_ms\":{:.2},\"engine_fanout_p99_ms\":{:.2},\"bus_fanout_p50_ms\":{:.2},\"bus_fanout_p99_ms\":{:.2}}}",
        percentile(&mut fanout, 50),
        percentile(&mut fanout, 99),
        percentile(&mut bus_fanout, 50),
        percentile(&mut bus_fanout, 99)
    );
    engine.shutdown().await?;
    store.close().await;
    Ok(())
}
