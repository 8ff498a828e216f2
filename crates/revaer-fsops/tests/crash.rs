//! Crash and resume: a child process runs a job and dies (`abort`, or a
//! SIGKILL from the parent mid-copy) at a step boundary; a rerun from the
//! journal it left must reach exactly what an uninterrupted run reaches: the
//! same files with the same contents and modes in the library, the same
//! leftovers in the download, no part files, no work folder.

mod common;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::archives::{self, Entry};
use common::{Lab, bytes, tree};
use revaer_domain::settings::TransferMode;
const SIGABRT: i32 = 6;

use revaer_fsops::{FsopsConfig, Hooks, JobSpec, META_FILE, Meta, Step, StepOutcome};

const LAB_VAR: &str = "REVAER_FSOPS_CRASH_LAB";
const AT_VAR: &str = "REVAER_FSOPS_CRASH_AT";
const ROW: &str = "row.json";
/// The file a kill interrupts mid-copy.
const BIG: usize = 48 << 20;

/// A payload that makes every step work: an archive, a nested layout,
/// fluff to drop, modes and checksums; moved, so sources disappear.
fn scenario(lab: &Lab, big: usize, mode: TransferMode) -> (FsopsConfig, JobSpec) {
    let files = [
        ("Pack/extra.mkv", bytes(31, 100_000)),
        ("Pack/Sample/sample.mkv", bytes(32, 500)),
        ("Pack/notes.txt", b"notes".to_vec()),
    ];
    lab.payload(4, "Pack.2020", &files);
    archives::zip(
        &lab.downloads().join("Pack.2020/Pack/movie.zip"),
        &[Entry::File("movie.mkv", bytes(33, 300_000)), Entry::File("movie.nfo", b"nfo".to_vec())],
    );
    if big > 0 {
        common::write(&lab.downloads().join("Pack.2020/Pack/big.bin"), &bytes(34, big));
    }
    job(lab, big, mode)
}

/// The scenario's configuration and torrent, without writing the payload.
fn job(lab: &Lab, big: usize, mode: TransferMode) -> (FsopsConfig, JobSpec) {
    let mut files: Vec<String> =
        ["Pack/extra.mkv", "Pack/Sample/sample.mkv", "Pack/notes.txt", "Pack/movie.zip"]
            .iter()
            .map(|rel| format!("Pack.2020/{rel}"))
            .collect();
    if big > 0 {
        files.push("Pack.2020/Pack/big.bin".into());
    }
    let spec = JobSpec {
        torrent: common::id(4),
        name: "Pack.2020".into(),
        save_path: lab.downloads(),
        files,
        category: None,
        tags: Vec::new(),
        seeding: false,
    };
    let mut config = lab.config();
    config.policy.transfer_mode = mode;
    config.policy.chmod_file = Some("0640".into());
    config.policy.checksum = true;
    // Every byte is copied (and verified) so that a copy is long enough to
    // be caught in the middle.
    config.force_copy = big > 0;
    (config, spec)
}

fn save_row(lab: &Path, meta: &Meta) {
    let tmp = lab.join("row.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(meta).expect("json")).expect("write row");
    std::fs::rename(&tmp, lab.join(ROW)).expect("rename row");
}

fn load_row(lab: &Path) -> Option<Meta> {
    std::fs::read(lab.join(ROW))
        .ok()
        .map(|bytes| serde_json::from_slice(&bytes).expect("row parses"))
}

/// Runs the job, saving the row as the daemon would, and aborts at `at`
/// (`step:before` after recording the start, `step:after` after the work
/// but before recording it).
fn child(lab_path: &Path, at: &str) {
    let lab = Lab::at(lab_path);
    let big = if at == "kill" { BIG } else { 0 };
    let (mode, at) = at.split_once('/').unwrap_or(("move", at));
    let mode = if mode == "copy" { TransferMode::Copy } else { TransferMode::Move };
    let (config, spec) = job(&lab, big, mode);
    let (step, phase) = at.split_once(':').unwrap_or((at, ""));
    let pipeline = common::pipeline(config);
    let _ = pipeline.run(
        1,
        &spec,
        load_row(lab_path),
        Hooks {
            persist: &mut |meta| {
                let last = meta.steps.last().expect("a step");
                let hit = last.step.as_str() == step;
                if hit && phase == "after" && last.outcome != StepOutcome::Started {
                    std::process::abort();
                }
                save_row(lab_path, meta);
                if hit && phase == "before" && last.outcome == StepOutcome::Started {
                    std::process::abort();
                }
                Ok(())
            },
            mover: None,
            on_step: &mut |_| {},
            cancel: None,
        },
    );
}

fn spawn_child(lab: &Path, at: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args(["crash_child_entry", "--exact", "--nocapture"])
        .env(LAB_VAR, lab)
        .env(AT_VAR, at)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child")
}

/// The child's entry point: does nothing unless the parent set the variables.
#[test]
fn crash_child_entry() {
    if let (Some(lab), Some(at)) = (std::env::var_os(LAB_VAR), std::env::var(AT_VAR).ok()) {
        child(Path::new(&lab), &at);
        panic!("the child should have died at {at}");
    }
}

type Tree = BTreeMap<String, (Option<Vec<u8>>, u32)>;

/// Library and download trees (the journal compared apart: it has times).
fn outcome(lab: &Lab) -> (Tree, Tree, Meta) {
    let dest = lab.library().join("Pack.2020");
    let meta = Meta::read_from(&dest).expect("readable").expect("journal");
    let mut library = tree(&lab.library());
    library.remove(&format!("Pack.2020/{META_FILE}"));
    (library, tree(&lab.downloads()), meta)
}

fn finish(lab: &Lab, big: usize, mode: TransferMode) -> (Tree, Tree, Meta) {
    let (config, spec) = job(lab, big, mode);
    let resumed = common::run(&common::pipeline(config), 1, &spec, load_row(lab.root()));
    resumed.report.result.as_ref().expect("the rerun finishes the job");
    outcome(lab)
}

fn reference(big: usize, mode: TransferMode) -> (Tree, Tree, Meta) {
    let lab = Lab::new();
    let (config, spec) = scenario(&lab, big, mode);
    let done = common::run(&common::pipeline(config), 1, &spec, None);
    done.report.result.as_ref().expect("uninterrupted run");
    outcome(&lab)
}

fn assert_same(at: &str, got: &(Tree, Tree, Meta), want: &(Tree, Tree, Meta)) {
    assert_eq!(
        got.0.keys().collect::<Vec<_>>(),
        want.0.keys().collect::<Vec<_>>(),
        "{at}: library names"
    );
    assert!(got.0 == want.0, "{at}: library contents or modes differ");
    assert_eq!(
        got.1.keys().collect::<Vec<_>>(),
        want.1.keys().collect::<Vec<_>>(),
        "{at}: download leftovers"
    );
    assert_eq!(got.2.checksums, want.2.checksums, "{at}: checksums");
    assert!(got.2.completed_at.is_some(), "{at}: journal complete");
    assert!(
        got.2
            .steps
            .iter()
            .filter(|r| r.step == Step::Checksum)
            .all(|r| r.outcome != StepOutcome::Failed)
    );
}

#[test]
fn a_crash_at_every_step_boundary_resumes_to_the_same_result() {
    for (name, mode) in [("move", TransferMode::Move), ("copy", TransferMode::Copy)] {
        let want = reference(0, mode);
        assert!(want.0.keys().any(|k| k.ends_with("movie.mkv")), "the scenario extracts");
        let original = {
            let lab = Lab::new();
            scenario(&lab, 0, mode);
            tree(&lab.downloads())
        };
        if mode == TransferMode::Move {
            assert!(want.1.keys().all(|k| !k.contains("Pack/")), "a move consumes the download");
        } else {
            assert!(want.1 == original, "a copy leaves the download as it was");
        }
        for step in Step::ALL {
            for phase in ["before", "after"] {
                let at = format!("{name}/{step}:{phase}");
                let lab = Lab::new();
                scenario(&lab, 0, mode);
                let status = spawn_child(lab.root(), &at).wait().expect("child ends");
                assert_eq!(status.signal(), Some(SIGABRT), "{at}: the child died at the boundary");
                assert!(load_row(lab.root()).is_some(), "{at}: a journal was left");
                let got = finish(&lab, 0, mode);
                assert_same(&at, &got, &want);
                if mode == TransferMode::Copy {
                    assert!(tree(&lab.downloads()) == original, "{at}: the download is untouched");
                }
            }
        }
    }
}

#[test]
fn a_kill_in_the_middle_of_a_copy_leaves_no_half_file_and_resumes() {
    let want = reference(BIG, TransferMode::Move);
    let lab = Lab::new();
    scenario(&lab, BIG, TransferMode::Move);
    let mut child = spawn_child(lab.root(), "kill");
    let part = revaer_fsops::part_file_for(&lab.library().join("Pack.2020/big.bin"));
    // Caught in flight: the part of big.bin exists and is not yet whole.
    let in_flight = || std::fs::metadata(&part).is_ok_and(|m| m.len() > 0 && m.len() < BIG as u64);
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut caught = false;
    while Instant::now() < deadline {
        if in_flight() {
            child.kill().expect("SIGKILL");
            caught = true;
            break;
        }
        if child.try_wait().expect("poll").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    child.wait().expect("reaped");
    assert!(caught, "the copy was caught in flight");
    assert!(
        !lab.library().join("Pack.2020/big.bin").exists(),
        "no final name before the copy is complete"
    );
    let got = finish(&lab, BIG, TransferMode::Move);
    assert_same("kill", &got, &want);
    assert!(!part.exists());
}
