//! Scale benchmark: one engine with many paused torrents.
//!
//! ```text
//! cargo run --release -p revaer-engine --example list-bench -- --torrents 10000
//! ```
//!
//! Adds N paused magnets (random info-hashes, so nothing touches the
//! network), then times: the adds, `Engine::list` (p50/p99 over 200 calls),
//! one `Engine::detail` round trip to the worker, shutdown, and a restart
//! that restores all N from the resume directory. Prints one JSON line.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use rand::RngCore;
use revaer_domain::{InfoHash, MagnetUri};
use revaer_engine::{AddTorrentOptions, Engine, EngineConfig, SessionConfig, TorrentSource};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn percentile(samples: &mut [Duration], pct: usize) -> f64 {
    samples.sort_unstable();
    let index = (samples.len() * pct / 100).min(samples.len() - 1);
    samples[index].as_secs_f64() * 1e3
}

fn config(dir: &std::path::Path) -> EngineConfig {
    EngineConfig::new(dir.join("resume"), SessionConfig::loopback(dir.join("downloads")))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut count = 10_000_usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--torrents" => count = args.next().ok_or("--torrents needs a value")?.parse()?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    let engine = Engine::start(config(dir.path())).await?;
    let mut rng = rand::rng();
    let started = Instant::now();
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let mut bytes = [0_u8; 20];
        rng.fill_bytes(&mut bytes);
        let id = InfoHash::from_bytes(bytes);
        let magnet = MagnetUri::parse(&format!("magnet:?xt=urn:btih:{id}&dn=bench"))?;
        let options = AddTorrentOptions { paused: true, ..AddTorrentOptions::default() };
        engine.add(TorrentSource::Magnet(magnet), options).await?;
        ids.push(id);
    }
    let add_seconds = started.elapsed().as_secs_f64();

    let mut list = Vec::new();
    for _ in 0..200 {
        let at = Instant::now();
        let all = engine.list();
        list.push(at.elapsed());
        assert_eq!(all.len(), count);
    }
    let mut detail = Vec::new();
    for id in ids.iter().take(200) {
        let at = Instant::now();
        engine.detail(*id).await?;
        detail.push(at.elapsed());
    }
    let at = Instant::now();
    engine.shutdown().await?;
    let shutdown_seconds = at.elapsed().as_secs_f64();
    let at = Instant::now();
    let restarted = Engine::start(config(dir.path())).await?;
    let restore_seconds = at.elapsed().as_secs_f64();
    let restored = restarted.list().len();
    restarted.shutdown().await?;
    println!(
        "{{\"torrents\":{count},\"add_per_s\":{:.0},\"list_p50_ms\":{:.2},\"list_p99_ms\":{:.2},\
         \"detail_p50_ms\":{:.3},\"shutdown_s\":{shutdown_seconds:.2},\"restore_s\":{restore_seconds:.2},\
         \"restored\":{restored}}}",
        count as f64 / add_seconds,
        percentile(&mut list, 50),
        percentile(&mut list, 99),
        percentile(&mut detail, 50),
    );
    Ok(())
}
