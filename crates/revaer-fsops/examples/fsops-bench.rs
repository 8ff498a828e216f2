//! FsOps throughput on this machine: one job per scenario on a generated
//! payload in a temporary folder (page cache warm, same filesystem).
//!
//! ```sh
//! cargo run --release -p revaer-fsops --example fsops-bench -- --size 1GiB --files 2000
//! ```
//!
//! Prints one JSON line per scenario: `copy` (one large file, copied and
//! synced), `hardlink` (many small files), `extract` (a tar of the large
//! file through libarchive, then delivered), `checksum` (hard links plus a
//! SHA-256 of every byte).
#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use revaer_domain::InfoHash;
use revaer_domain::settings::TransferMode;
use revaer_fsops::{FsopsConfig, Hooks, JobSpec, Pipeline, Toolbox};

fn parse_size(text: &str) -> Option<u64> {
    let (digits, unit) =
        text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = digits.parse().ok()?;
    let factor = match unit {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

fn fill(path: &Path, size: u64) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut block = vec![0u8; 1 << 20];
    let mut file = std::fs::File::create(path).expect("create");
    let mut left = size;
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        let n = left.min(block.len() as u64) as usize;
        std::io::Write::write_all(&mut file, &block[..n]).expect("write");
        left -= n as u64;
    }
}

fn job(
    root: &Path,
    n: u8,
    name: &str,
    files: Vec<String>,
    mode: TransferMode,
    checksum: bool,
) -> f64 {
    let mut config = FsopsConfig::new(root.join(format!("data{n}")), vec![root.join("downloads")]);
    config.policy.transfer_mode = mode;
    config.policy.checksum = checksum;
    config.policy.cleanup_drop = Vec::new();
    let pipeline = Pipeline::new(config, Toolbox::search(std::env::var_os("PATH").as_deref()));
    let spec = JobSpec {
        torrent: InfoHash::from_bytes([n; 20]),
        name: name.to_owned(),
        save_path: root.join("downloads"),
        files,
        category: None,
        tags: Vec::new(),
        seeding: false,
    };
    let clock = Instant::now();
    let report = pipeline.run(
        1,
        &spec,
        None,
        Hooks { persist: &mut |_| Ok(()), mover: None, on_step: &mut |_| {}, cancel: None },
    );
    report.result.expect("job succeeds");
    clock.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let size = value("--size").and_then(|s| parse_size(s)).unwrap_or(1 << 30);
    let count: usize = value("--files").and_then(|s| s.parse().ok()).unwrap_or(2000);
    let dir = tempfile::tempdir_in(value("--dir").map_or("/tmp", String::as_str)).expect("tempdir");
    let root = dir.path();

    fill(&root.join("downloads/Big/big.bin"), size);
    let seconds = job(root, 1, "Big", vec!["Big/big.bin".into()], TransferMode::Copy, false);
    println!(
        "{{\"scenario\":\"copy\",\"bytes\":{size},\"seconds\":{seconds:.3},\"mb_per_s\":{:.1}}}",
        size as f64 / seconds / 1e6
    );

    let small: Vec<String> = (0..count).map(|i| format!("Many/d{}/f{i}.bin", i % 50)).collect();
    for rel in &small {
        fill(&root.join("downloads").join(rel), 4096);
    }
    let seconds = job(root, 2, "Many", small, TransferMode::Hardlink, false);
    println!(
        "{{\"scenario\":\"hardlink\",\"files\":{count},\"seconds\":{seconds:.3},\"files_per_s\":{:.0}}}",
        count as f64 / seconds
    );

    std::fs::create_dir_all(root.join("downloads/Packed")).expect("mkdir");
    let status = Command::new("tar")
        .arg("-C")
        .arg(root.join("downloads/Big"))
        .arg("-cf")
        .arg(root.join("downloads/Packed/big.tar"))
        .arg("big.bin")
        .status()
        .ok();
    assert!(status.is_some_and(|s| s.success()), "tar builds the archive");
    let seconds =
        job(root, 3, "Packed", vec!["Packed/big.tar".into()], TransferMode::Hardlink, false);
    println!(
        "{{\"scenario\":\"extract\",\"bytes\":{size},\"seconds\":{seconds:.3},\"mb_per_s\":{:.1}}}",
        size as f64 / seconds / 1e6
    );

    let seconds = job(root, 4, "Big", vec!["Big/big.bin".into()], TransferMode::Hardlink, true);
    println!(
        "{{\"scenario\":\"checksum\",\"bytes\":{size},\"seconds\":{seconds:.3},\"mb_per_s\":{:.1}}}",
        size as f64 / seconds / 1e6
    );
}
