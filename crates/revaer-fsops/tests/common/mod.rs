//! Shared test scaffolding: a lab of real folders (downloads, data with the
//! library), payload builders, a journal kept in memory like the daemon's
//! row, and tree snapshots to compare outcomes.
#![allow(dead_code, reason = "each test binary uses part of it")]

pub mod archives;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use revaer_domain::InfoHash;
use revaer_fsops::{FsopsConfig, Hooks, JobReport, JobSpec, Meta, Pipeline, StepReport, Toolbox};

/// Deterministic bytes (xorshift), so reruns compare equal.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// SHA-256 in lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    sha2::Sha256::digest(data).iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

pub fn id(n: u8) -> InfoHash {
    InfoHash::parse(&format!("{n:02x}").repeat(20)).expect("valid id")
}

/// Temp folders: `downloads/` (the engine's save path) and `data/` (the
/// base folder; the library is `data/library`).
pub struct Lab {
    _dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Lab {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let lab = Self::at(dir.path());
        Self { _dir: Some(dir), ..lab }
    }

    /// A lab in an existing folder (a child process's view of its parent's).
    pub fn at(path: &Path) -> Self {
        fs::create_dir_all(path.join("downloads")).expect("downloads");
        fs::create_dir_all(path.join("data")).expect("data");
        Self { _dir: None, path: path.to_owned() }
    }

    pub fn root(&self) -> &Path {
        &self.path
    }

    pub fn downloads(&self) -> PathBuf {
        self.path.join("downloads")
    }

    pub fn library(&self) -> PathBuf {
        self.path.join("data/library")
    }

    pub fn config(&self) -> FsopsConfig {
        FsopsConfig::new(self.path.join("data"), vec![self.downloads()])
    }

    /// Writes a multi-file payload `name/<rel>` and returns its spec.
    pub fn payload(&self, n: u8, name: &str, files: &[(&str, Vec<u8>)]) -> JobSpec {
        for (rel, data) in files {
            write(&self.downloads().join(name).join(rel), data);
        }
        JobSpec {
            torrent: id(n),
            name: name.to_owned(),
            save_path: self.downloads(),
            files: files.iter().map(|(rel, _)| format!("{name}/{rel}")).collect(),
            category: None,
            tags: Vec::new(),
            seeding: false,
        }
    }

    /// Adds an existing file under the payload folder to the spec.
    pub fn add_file(spec: &mut JobSpec, path: &Path) {
        let rel = path.strip_prefix(&spec.save_path).expect("under the save path");
        spec.files.push(rel.to_string_lossy().into_owned());
    }
}

pub fn write(path: &Path, data: &[u8]) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, data).expect("write");
}

/// What a run left: the report, every persisted journal and every step.
pub struct Run {
    pub report: JobReport,
    pub saved: Vec<Meta>,
    pub steps: Vec<StepReport>,
}

pub fn run(pipeline: &Pipeline, job: i64, spec: &JobSpec, previous: Option<Meta>) -> Run {
    let mut saved = Vec::new();
    let mut steps = Vec::new();
    let report = pipeline.run(
        job,
        spec,
        previous,
        Hooks {
            persist: &mut |meta| {
                saved.push(meta.clone());
                Ok(())
            },
            mover: None,
            on_step: &mut |step| steps.push(step.clone()),
            cancel: None,
        },
    );
    Run { report, saved, steps }
}

pub fn pipeline(config: FsopsConfig) -> Pipeline {
    Pipeline::new(config, Toolbox::search(std::env::var_os("PATH").as_deref()))
}

/// Every file and folder under `dir`: relative path → content (files) or
/// `None` (folders), plus the permission bits.
pub fn tree(dir: &Path) -> BTreeMap<String, (Option<Vec<u8>>, u32)> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(dir).expect("under").to_string_lossy().into_owned();
        let meta = fs::symlink_metadata(entry.path()).expect("metadata");
        let content = meta.is_file().then(|| fs::read(entry.path()).expect("read"));
        out.insert(rel, (content, meta.permissions().mode() & 0o7777));
    }
    out
}

/// The relative paths of `tree(dir)`.
pub fn names(dir: &Path) -> Vec<String> {
    tree(dir).into_keys().collect()
}
