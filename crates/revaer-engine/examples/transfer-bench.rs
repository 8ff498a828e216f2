//! Transfer benchmark: two engines on loopback, or one engine fetching from
//! an outside peer.
//!
//! ```text
//! # seed and fetch a generated payload between two engines (default 256 MiB)
//! cargo run --release -p revaer-engine --example transfer-bench -- --size 1GiB
//! # fetch a torrent from another client, to compare against it
//! cargo run --release -p revaer-engine --example transfer-bench -- \
//!     --torrent FILE --peer 127.0.0.1:6881 --out DIR
//! ```
//!
//! Options: `--size N[KiB|MiB|GiB]`, `--files N` (the payload is split into
//! N files of slightly different sizes), `--piece-size N[KiB|MiB]`,
//! `--disk mmap|posix`, `--utp` (uTP as well as TCP), `--keep` (keep the
//! temp directory). Prints one JSON line: bytes, seconds, MB/s (10^6 B).
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::RngCore;
use revaer_domain::EngineEvent;
use revaer_engine::metainfo::{self, CreateOptions, Metainfo};
use revaer_engine::{
    AddTorrentOptions, DiskBackend, Engine, EngineConfig, SessionConfig, TorrentSource,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug)]
struct Args {
    size: u64,
    files: u64,
    piece_size: u32,
    disk: DiskBackend,
    utp: bool,
    keep: bool,
    torrent: Option<PathBuf>,
    peer: Option<std::net::SocketAddr>,
    out: Option<PathBuf>,
}

fn parse_size(text: &str) -> Result<u64, BoxError> {
    let lower = text.to_ascii_lowercase();
    let (digits, unit) =
        lower.split_at(lower.find(|c: char| !c.is_ascii_digit()).unwrap_or(lower.len()));
    let unit = match unit {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?}").into()),
    };
    Ok(digits.parse::<u64>()? * unit)
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        size: 256 << 20,
        files: 1,
        piece_size: 1 << 20,
        disk: DiskBackend::Mmap,
        utp: false,
        keep: false,
        torrent: None,
        peer: None,
        out: None,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--size" => args.size = parse_size(&value()?)?,
            "--files" => args.files = value()?.parse::<u64>()?.max(1),
            "--piece-size" => args.piece_size = u32::try_from(parse_size(&value()?)?)?,
            "--disk" => {
                args.disk = match value()?.as_str() {
                    "posix" => DiskBackend::Posix,
                    "mmap" => DiskBackend::Mmap,
                    other => return Err(format!("unknown disk back-end {other:?}").into()),
                }
            }
            "--utp" => args.utp = true,
            "--keep" => args.keep = true,
            "--torrent" => args.torrent = Some(value()?.into()),
            "--peer" => args.peer = Some(value()?.parse()?),
            "--out" => args.out = Some(value()?.into()),
            "--help" | "-h" => {
                println!("see the comment at the top of examples/transfer-bench.rs");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    Ok(args)
}

fn engine_config(dir: &Path, args: &Args) -> EngineConfig {
    let mut session = SessionConfig::loopback(dir.join("downloads"));
    session.utp = args.utp;
    let mut config = EngineConfig::new(dir.join("resume"), session);
    config.disk = args.disk;
    config
}

fn write_payload(root: &Path, args: &Args) -> Result<(), BoxError> {
    std::fs::create_dir_all(root)?;
    let mut rng = rand::rng();
    let mut buffer = vec![0_u8; 1 << 20];
    let per_file = args.size / args.files;
    for index in 0..args.files {
        // Odd sizes: the last file takes the remainder.
        let size = if index + 1 == args.files { args.size - per_file * index } else { per_file };
        let mut file = std::io::BufWriter::new(std::fs::File::create(
            root.join(format!("part-{index:03}.bin")),
        )?);
        let mut left = size;
        while left > 0 {
            let chunk = left.min(buffer.len() as u64) as usize;
            rng.fill_bytes(&mut buffer[..chunk]);
            file.write_all(&buffer[..chunk])?;
            left -= chunk as u64;
        }
        file.flush()?;
    }
    Ok(())
}

/// Adds the torrent to `engine`, connects to `peer` and times completion.
async fn fetch(
    engine: &Engine,
    metainfo: Vec<u8>,
    peer: std::net::SocketAddr,
) -> Result<Duration, BoxError> {
    let id = Metainfo::parse(&metainfo)?.id;
    let mut events = engine.subscribe();
    let started = Instant::now();
    engine.add(TorrentSource::Metainfo(metainfo), AddTorrentOptions::default()).await?;
    engine.connect_peer(id, peer).await?;
    tokio::time::timeout(Duration::from_hours(1), async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::Completed(revaer_domain::event::Completed { torrent, .. }))
                    if torrent == id =>
                {
                    return Ok(started.elapsed());
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(err) => return Err(BoxError::from(err)),
            }
        }
    })
    .await?
}

fn report(mode: &str, bytes: u64, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    println!(
        "{{\"mode\":\"{mode}\",\"bytes\":{bytes},\"seconds\":{seconds:.3},\"mb_per_s\":{:.1}}}",
        bytes as f64 / seconds / 1e6
    );
}

async fn loopback(args: &Args, dir: &Path) -> Result<(), BoxError> {
    let source = dir.join("source");
    write_payload(&source.join("payload"), args)?;
    let options =
        CreateOptions { piece_size: Some(args.piece_size), v1_only: true, trackers: vec![] };
    let root = source.join("payload");
    let metainfo = tokio::task::spawn_blocking(move || metainfo::create(&root, &options)).await??;
    let id = Metainfo::parse(&metainfo)?.id;
    // Write the fresh payload back now, so writeback does not compete with
    // the transfer.
    std::process::Command::new("sync").status()?;

    let seeder = Engine::start(engine_config(&dir.join("seeder"), args)).await?;
    let mut seeder_events = seeder.subscribe();
    let seed_options =
        AddTorrentOptions { save_path: Some(source.clone()), ..AddTorrentOptions::default() };
    seeder.add(TorrentSource::Metainfo(metainfo.clone()), seed_options).await?;
    loop {
        if let EngineEvent::Completed(revaer_domain::event::Completed { torrent, .. }) =
            seeder_events.recv().await?
            && torrent == id
        {
            break;
        }
    }
    let port = seeder.listen_port().ok_or("seeder is not listening")?;
    let leecher = Engine::start(engine_config(&dir.join("leecher"), args)).await?;
    let elapsed =
        fetch(&leecher, metainfo, std::net::SocketAddr::from(([127, 0, 0, 1], port))).await?;
    report("loopback", args.size, elapsed);
    leecher.shutdown().await?;
    seeder.shutdown().await?;
    Ok(())
}

async fn from_peer(args: &Args, torrent: &Path, dir: &Path) -> Result<(), BoxError> {
    let peer = args.peer.ok_or("--torrent needs --peer HOST:PORT")?;
    let metainfo = std::fs::read(torrent)?;
    let size = Metainfo::parse(&metainfo)?.total_size;
    let engine = Engine::start(engine_config(dir, args)).await?;
    let elapsed = fetch(&engine, metainfo, peer).await?;
    report("from-peer", size, elapsed);
    engine.shutdown().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let temp = tempfile::tempdir()?;
    let dir = args.out.clone().unwrap_or_else(|| temp.path().to_path_buf());
    match &args.torrent {
        Some(torrent) => from_peer(&args, torrent, &dir).await?,
        None => loopback(&args, &dir).await?,
    }
    if args.keep {
        eprintln!("kept {}", temp.keep().display());
    }
    Ok(())
}
