//! The qBittorrent facade with many torrents, over real HTTP on loopback,
//! against a real engine and a SQLite store:
//!
//! ```text
//! cargo run --release -p revaer-qbit --example qbit-bench -- --torrents 10000
//! ```
//!
//! Adds N paused magnets (random info-hashes, every tenth in category
//! `tv`), then times, over keep-alive requests with a Bearer key:
//! `torrents/info?category=tv`, `torrents/info?limit=100`,
//! `sync/maindata` in full (`rid=0`), incrementally with nothing changed,
//! and incrementally after 100 torrents changed category (the change made
//! untimed before each sample). Prints one JSON line of p50/p99 in ms
//! and the size of a full `sync/maindata` reply.
#![allow(clippy::print_stdout, clippy::expect_used, clippy::too_many_lines)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use rand::RngCore as _;
use revaer_domain::{InfoHash, MagnetUri, TorrentLabels};
use revaer_engine::{AddTorrentOptions, Engine, EngineConfig, SessionConfig, TorrentSource};
use revaer_qbit::{QbitConfig, QbitState};
use revaer_service::bus::EventBus;
use revaer_service::{Service, ServiceConfig};
use revaer_store::{NewApiKey, Store, StoreConfig};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One keep-alive HTTP/1.1 connection.
struct Client {
    reader: BufReader<TcpStream>,
    addr: SocketAddr,
    token: String,
}

impl Client {
    fn get(&mut self, path: &str) -> Result<String, BoxError> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
            self.addr, self.token
        );
        self.reader.get_mut().write_all(request.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        if !line.starts_with("HTTP/1.1 200") {
            return Err(format!("GET {path}: {line}").into());
        }
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
        Ok(String::from_utf8(body)?)
    }

    /// The `rid` of a `sync/maindata` answer.
    fn rid(body: &str) -> Result<u64, BoxError> {
        let json: serde_json::Value = serde_json::from_str(body)?;
        json["rid"].as_u64().ok_or_else(|| "no rid".into())
    }
}

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort_unstable();
    let at = |pct: usize| {
        let index = (samples.len() * pct / 100).min(samples.len().saturating_sub(1));
        samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    (at(50), at(99))
}

fn time(
    count: usize,
    mut request: impl FnMut() -> Result<(), BoxError>,
) -> Result<(f64, f64), BoxError> {
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let at = Instant::now();
        request()?;
        samples.push(at.elapsed());
    }
    Ok(percentiles(samples))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let mut torrents = 10_000_usize;
    while let Some(arg) = args.next() {
        if arg == "--torrents" {
            torrents = args.next().ok_or("--torrents N")?.parse()?;
        }
    }
    let dir = tempfile::tempdir()?;
    let config = EngineConfig::new(
        dir.path().join("resume"),
        SessionConfig::loopback(dir.path().join("downloads")),
    );
    let engine = Engine::start(config).await?;
    let store = Store::connect(&StoreConfig::sqlite(dir.path().join("revaer.db"))).await?;
    let key = NewApiKey {
        label: "bench".into(),
        rate_limit: None,
        expires_at: None,
        scopes: revaer_domain::Scopes::ADMIN,
        issued_by: None,
    };
    let token = store.issue_api_key(&key).await?.token.expose().to_owned();
    let service = Service::new(
        engine.clone(),
        store.clone(),
        EventBus::new(1024),
        ServiceConfig { active: true, ..ServiceConfig::default() },
    );
    service.keys().refresh(&store).await?;

    let added_at = Instant::now();
    let mut ids = Vec::with_capacity(torrents);
    for index in 0..torrents {
        let mut bytes = [0_u8; 20];
        rand::rng().fill_bytes(&mut bytes);
        let id = InfoHash::from_bytes(bytes);
        let magnet = MagnetUri::parse(&format!("magnet:?xt=urn:btih:{}", id.to_hex()))?;
        let category = (index % 10 == 0).then(|| "tv".to_owned());
        let options = AddTorrentOptions {
            paused: true,
            labels: TorrentLabels { category, tags: vec!["bench".into()] },
            ..AddTorrentOptions::default()
        };
        engine.add(TorrentSource::Magnet(magnet), options).await?;
        ids.push(id);
    }
    let add_secs = added_at.elapsed().as_secs_f64();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = revaer_qbit::router(QbitState::new(service.clone(), QbitConfig::default()));
    tokio::spawn(async move {
        let _ =
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });

    let measured = tokio::task::spawn_blocking({
        let engine = engine.clone();
        let handle = tokio::runtime::Handle::current();
        move || -> Result<serde_json::Value, BoxError> {
            let stream = TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(Duration::from_secs(30)))?;
            let mut client = Client { reader: BufReader::new(stream), addr, token };
            let category = time(50, || client.get("/api/v2/torrents/info?category=tv").map(drop))?;
            let limited = time(50, || client.get("/api/v2/torrents/info?limit=100").map(drop))?;
            let full = time(20, || client.get("/api/v2/sync/maindata?rid=0").map(drop))?;
            let whole = client.get("/api/v2/sync/maindata?rid=0")?;
            let full_bytes = whole.len();
            let mut rid = Client::rid(&whole)?;
            let quiet = time(50, || {
                rid = Client::rid(&client.get(&format!("/api/v2/sync/maindata?rid={rid}"))?)?;
                Ok(())
            })?;
            let mut samples = Vec::new();
            for round in 0..20_usize {
                let category = format!("round-{round}");
                for id in ids.iter().skip(round * 100).take(100) {
                    let labels = TorrentLabels { category: Some(category.clone()), tags: vec![] };
                    handle.block_on(engine.set_labels(*id, labels))?;
                }
                let at = Instant::now();
                let body = client.get(&format!("/api/v2/sync/maindata?rid={rid}"))?;
                samples.push(at.elapsed());
                let json: serde_json::Value = serde_json::from_str(&body)?;
                let changed = json["torrents"].as_object().map_or(0, serde_json::Map::len);
                if changed != 100 {
                    return Err(
                        format!("round {round}: {changed} torrents in the delta, not 100").into()
                    );
                }
                rid = Client::rid(&body)?;
            }
            let changed = percentiles(samples);
            Ok(serde_json::json!({
                "torrents": torrents,
                "add_s": 0.0,
                "info_category_p50_ms": category.0, "info_category_p99_ms": category.1,
                "info_limit100_p50_ms": limited.0, "info_limit100_p99_ms": limited.1,
                "maindata_full_p50_ms": full.0, "maindata_full_p99_ms": full.1,
                "maindata_full_bytes": full_bytes,
                "maindata_quiet_p50_ms": quiet.0, "maindata_quiet_p99_ms": quiet.1,
                "maindata_100_changed_p50_ms": changed.0, "maindata_100_changed_p99_ms": changed.1,
            }))
        }
    })
    .await??;
    let mut measured = measured;
    measured["add_s"] = serde_json::json!(add_secs);
    println!("{measured}");
    engine.shutdown().await?;
    store.close().await;
    Ok(())
}
