//! Hostile archives: names that climb out, absolute names, links that point
//! out (and files written through them), and decompression bombs. Nothing
//! may land outside the work folder, whichever reader runs.

mod common;

use std::fs;
use std::path::Path;

use common::archives::{self, Entry};
use common::{Lab, bytes, names, pipeline, run};
use revaer_fsops::{ExtractLimits, FsopsError, Step, StepOutcome};

fn job_with(lab: &Lab, name: &str, archive: &Path) -> revaer_fsops::JobSpec {
    let mut spec = lab.payload(3, name, &[("keep.mkv", bytes(5, 100))]);
    Lab::add_file(&mut spec, archive);
    spec
}

/// Every path under the lab (the work folder included) that mentions `what`.
fn anywhere(lab: &Lab, what: &str) -> Vec<String> {
    names(lab.root()).into_iter().filter(|n| n.contains(what)).collect()
}

#[test]
fn climbing_and_absolute_names_refuse_the_archive() {
    for (kind, entries) in [
        (
            "zip-dotdot",
            vec![
                Entry::File("ok.txt", b"ok".to_vec()),
                Entry::File("../../escaped.txt", b"x".to_vec()),
            ],
        ),
        ("zip-abs", vec![Entry::File("/tmp/revaer-abs-escape.txt", b"x".to_vec())]),
        ("tar-dotdot", vec![Entry::File("a/../../../escaped.txt", b"x".to_vec())]),
    ] {
        let lab = Lab::new();
        let dir = lab.downloads().join(kind);
        fs::create_dir_all(&dir).expect("dir");
        let archive = if kind.starts_with("zip") {
            let path = dir.join("evil.zip");
            archives::zip(&path, &entries);
            path
        } else {
            let path = dir.join("evil.tar");
            archives::tar(&path, &entries);
            path
        };
        let failed = run(&pipeline(lab.config()), 1, &job_with(&lab, kind, &archive), None);
        let err = failed.report.result.as_ref().expect_err("refused");
        assert!(matches!(err, FsopsError::ArchiveUnsafe { .. }), "{kind}: {err}");
        assert!(!err.is_retryable(), "{kind}: a hostile archive stays hostile");
        assert!(anywhere(&lab, "escaped").is_empty(), "{kind}: {:?}", anywhere(&lab, "escaped"));
        assert!(!Path::new("/tmp/revaer-abs-escape.txt").exists());
        assert!(!lab.library().join(kind).exists(), "{kind}: nothing delivered");
    }
}

#[test]
fn rar_with_climbing_names_is_refused_before_unar_runs() {
    let lab = Lab::new();
    let dir = lab.downloads().join("rar");
    fs::create_dir_all(&dir).expect("dir");
    let archive = dir.join("evil.rar");
    archives::rar(&archive, &[("ok.txt", b"ok"), ("../../escaped.txt", b"x")]);
    let failed = run(&pipeline(lab.config()), 1, &job_with(&lab, "rar", &archive), None);
    assert!(
        matches!(failed.report.result, Err(FsopsError::ArchiveUnsafe { .. })),
        "{:?}",
        failed.report.result
    );
    assert!(names(lab.root()).iter().all(|n| !n.contains("escaped")));
}

#[test]
fn links_are_never_created_so_nothing_is_written_through_them() {
    let lab = Lab::new();
    let outside = tempfile::tempdir().expect("outside");
    let target: &'static str =
        Box::leak(outside.path().to_string_lossy().into_owned().into_boxed_str());
    for kind in ["zip", "tar"] {
        let dir = lab.downloads().join(kind);
        fs::create_dir_all(&dir).expect("dir");
        let entries = vec![
            Entry::Symlink("evil", target),
            Entry::File("evil/planted.dat", b"through the link".to_vec()),
            Entry::File("movie.mkv", bytes(8, 500)),
        ];
        let archive = dir.join(format!("links.{kind}"));
        if kind == "zip" {
            archives::zip(&archive, &entries);
        } else {
            archives::tar(&archive, &entries);
        }
        let done = run(&pipeline(lab.config()), 1, &job_with(&lab, kind, &archive), None);
        done.report.result.as_ref().unwrap_or_else(|err| panic!("{kind}: {err}"));
        assert!(names(outside.path()).is_empty(), "{kind}: nothing written outside");
        let dest = lab.library().join(kind);
        assert!(
            !fs::symlink_metadata(dest.join("evil")).expect("a folder").file_type().is_symlink()
        );
        assert_eq!(
            fs::read(dest.join("evil/planted.dat")).expect("stays inside"),
            b"through the link"
        );
        let detail =
            done.report.meta.last(Step::Extract).and_then(|r| r.detail.clone()).unwrap_or_default();
        assert!(detail.contains("1 link(s) not created"), "{kind}: {detail}");
    }
}

#[test]
fn decompression_bombs_stop_at_the_limits() {
    let lab = Lab::new();
    let dir = lab.downloads().join("bomb");
    fs::create_dir_all(&dir).expect("dir");
    // 64 MiB of zeros compress to ~64 KiB: a ratio near 1000.
    let tar = dir.join("bomb.tar");
    archives::tar(&tar, &[Entry::File("zeros.bin", vec![0u8; 64 << 20])]);
    let bomb = archives::compress(&tar, "gzip", ".gz");
    let mut config = lab.config();
    config.limits = ExtractLimits { max_ratio: 100, ..ExtractLimits::default() };
    let failed = run(&pipeline(config), 1, &job_with(&lab, "bomb", &bomb), None);
    let err = failed.report.result.as_ref().expect_err("bomb refused");
    assert!(matches!(err, FsopsError::ArchiveTooLarge { .. }), "{err}");
    assert_eq!(
        failed.report.meta.last(Step::Extract).map(|r| r.outcome),
        Some(StepOutcome::Failed)
    );
    assert!(!lab.library().join("bomb").exists());

    // An absolute cap and an entry cap, whatever the ratio.
    let many = dir.join("many.zip");
    let entries: Vec<Entry> = (0..50)
        .map(|i| Entry::File(Box::leak(format!("f{i}.txt").into_boxed_str()), vec![b'x'; 10]))
        .collect();
    archives::zip(&many, &entries);
    let mut config = lab.config();
    config.limits = ExtractLimits { max_entries: 20, ..ExtractLimits::default() };
    let spec = revaer_fsops::JobSpec {
        files: vec!["bomb/keep.mkv".into(), "bomb/many.zip".into()],
        ..job_with(&lab, "bomb", &bomb)
    };
    let failed = run(&pipeline(config), 2, &spec, None);
    assert!(
        matches!(failed.report.result, Err(FsopsError::ArchiveTooLarge { ref reason, .. }) if reason.contains("entries"))
    );
}

#[test]
fn rar_bombs_are_refused_from_their_listing() {
    let lab = Lab::new();
    let dir = lab.downloads().join("rarbomb");
    fs::create_dir_all(&dir).expect("dir");
    let archive = dir.join("big.rar");
    archives::rar(&archive, &[("big.bin", &vec![7u8; 3 << 20])]);
    let mut config = lab.config();
    config.limits = ExtractLimits { max_bytes: 1 << 20, ..ExtractLimits::default() };
    let failed = run(&pipeline(config), 1, &job_with(&lab, "rarbomb", &archive), None);
    assert!(
        matches!(failed.report.result, Err(FsopsError::ArchiveTooLarge { .. })),
        "{:?}",
        failed.report.result
    );
}

#[test]
fn rar_archives_with_links_are_refused_before_unar_creates_them() {
    let lab = Lab::new();
    let outside = tempfile::tempdir().expect("outside");
    let dir = lab.downloads().join("rarlink");
    fs::create_dir_all(&dir).expect("dir");
    let archive = dir.join("links.rar");
    let target = outside.path().to_string_lossy().into_owned();
    archives::rar_with_link(
        &archive,
        "evil",
        &target,
        &[("evil/planted.dat", b"through the link")],
    );
    let failed = run(&pipeline(lab.config()), 1, &job_with(&lab, "rarlink", &archive), None);
    let err = failed.report.result.as_ref().expect_err("refused");
    assert!(matches!(err, FsopsError::ArchiveUnsafe { reason: "is a link", .. }), "{err}");
    assert!(!err.is_retryable());
    assert!(names(outside.path()).is_empty(), "nothing written through the link");
    assert!(anywhere(&lab, "planted").is_empty());
}

#[test]
fn the_absolute_cap_holds_whatever_the_ratio() {
    let lab = Lab::new();
    let dir = lab.downloads().join("cap");
    fs::create_dir_all(&dir).expect("dir");
    // Random bytes: a ratio of about 1, far below the ratio limit.
    let tar = dir.join("big.tar");
    archives::tar(&tar, &[Entry::File("big.bin", bytes(6, 300_000))]);
    let mut config = lab.config();
    config.limits = ExtractLimits { max_bytes: 100_000, ..ExtractLimits::default() };
    let failed = run(&pipeline(config), 1, &job_with(&lab, "cap", &tar), None);
    assert!(
        matches!(failed.report.result, Err(FsopsError::ArchiveTooLarge { ref reason, .. }) if reason.contains("100000")),
        "{:?}",
        failed.report.result
    );
    assert!(anywhere(&lab, "big.bin").is_empty(), "the partial output is removed");
}
