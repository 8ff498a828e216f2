//! Extraction of every supported archive kind, built by the test (stored
//! zip/tar/RAR writers, the 7z program, gzip/xz/zstd), and the missing-tool
//! degradation.

mod common;

use std::fs;
use std::path::Path;

use common::archives::{self, Entry, Volumes};
use common::{Lab, bytes, names, pipeline, run};
use revaer_fsops::{FsopsError, META_FILE, Step, StepOutcome, Toolbox};

fn payload_dir(lab: &Lab, name: &str) -> std::path::PathBuf {
    let dir = lab.downloads().join(name);
    fs::create_dir_all(&dir).expect("payload dir");
    dir
}

/// A payload holding `archive_files` (already written) and a text file.
fn spec_with(lab: &Lab, name: &str, archive_files: &[&Path]) -> revaer_fsops::JobSpec {
    let mut spec = lab.payload(7, name, &[("readme.md", b"hello".to_vec())]);
    for file in archive_files {
        Lab::add_file(&mut spec, file);
    }
    spec
}

/// Writes an archive into a folder and returns its path.
type Builder = fn(&Path) -> std::path::PathBuf;

fn movie_entries() -> Vec<Entry> {
    vec![
        Entry::Dir("Movie"),
        Entry::File("Movie/movie.mkv", bytes(11, 200_000)),
        Entry::File("Movie/subs/en.srt", bytes(12, 3_000)),
    ]
}

fn assert_movie_delivered(lab: &Lab, name: &str) {
    let dest = lab.library().join(name);
    assert_eq!(
        names(&dest),
        [META_FILE, "Movie", "Movie/movie.mkv", "Movie/subs", "Movie/subs/en.srt", "readme.md"],
        "{name}: archives are replaced by their contents"
    );
    assert_eq!(fs::read(dest.join("Movie/movie.mkv")).expect("extracted"), bytes(11, 200_000));
    assert_eq!(fs::read(dest.join("Movie/subs/en.srt")).expect("extracted"), bytes(12, 3_000));
}

#[test]
fn zip_tar_and_compressed_tars_extract_in_process() {
    let lab = Lab::new();
    let cases: [(&str, Builder); 5] = [
        ("zip", |dir| {
            let path = dir.join("movie.zip");
            archives::zip(&path, &movie_entries());
            path
        }),
        ("tar", |dir| {
            let path = dir.join("movie.tar");
            archives::tar(&path, &movie_entries());
            path
        }),
        ("tgz", |dir| {
            let path = dir.join("movie.tar");
            archives::tar(&path, &movie_entries());
            archives::compress(&path, "gzip", ".gz")
        }),
        ("txz", |dir| {
            let path = dir.join("movie.tar");
            archives::tar(&path, &movie_entries());
            archives::compress(&path, "xz", ".xz")
        }),
        ("tzst", |dir| {
            let path = dir.join("movie.tar");
            archives::tar(&path, &movie_entries());
            let out = archives::compress(&path, "zstd", ".zst");
            fs::remove_file(&path).expect("zstd keeps its input");
            out
        }),
    ];
    for (name, build) in cases {
        let archive = build(&payload_dir(&lab, name));
        let spec = spec_with(&lab, name, &[&archive]);
        let done = run(&pipeline(lab.config()), 1, &spec, None);
        done.report.result.as_ref().unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_movie_delivered(&lab, name);
        assert!(archive.exists(), "{name}: the download keeps its archive to seed");
    }
}

/// `tar -C dir -cf x.tar .` starts with a `./` entry: the archive's root,
/// not a hostile name.
#[test]
fn tars_made_from_a_folder_with_dot_entries_extract() {
    let lab = Lab::new();
    let staging = tempfile::tempdir().expect("tempdir");
    common::write(&staging.path().join("Movie/movie.mkv"), &bytes(11, 200_000));
    common::write(&staging.path().join("Movie/subs/en.srt"), &bytes(12, 3_000));
    let archive = payload_dir(&lab, "dots").join("movie.tar");
    let status = std::process::Command::new("tar")
        .arg("-C")
        .arg(staging.path())
        .arg("-cf")
        .arg(&archive)
        .arg(".")
        .status()
        .expect("tar runs");
    assert!(status.success());
    let done = run(&pipeline(lab.config()), 1, &spec_with(&lab, "dots", &[&archive]), None);
    done.report.result.as_ref().expect("a ./ entry is fine");
    assert_movie_delivered(&lab, "dots");
}

#[test]
fn seven_zip_extracts_in_process() {
    let lab = Lab::new();
    let staging = tempfile::tempdir().expect("tempdir");
    common::write(&staging.path().join("Movie/movie.mkv"), &bytes(11, 200_000));
    common::write(&staging.path().join("Movie/subs/en.srt"), &bytes(12, 3_000));
    let archive = payload_dir(&lab, "sevenz").join("movie.7z");
    archives::sevenz(&archive, staging.path());
    let done = run(&pipeline(lab.config()), 1, &spec_with(&lab, "sevenz", &[&archive]), None);
    done.report.result.as_ref().expect("7z extracts");
    assert_movie_delivered(&lab, "sevenz");
}

#[test]
fn rar_files_and_multi_volume_sets_extract_with_unar() {
    let lab = Lab::new();
    let data = bytes(21, 250_000);
    // A single-volume archive.
    let single = payload_dir(&lab, "single").join("movie.rar");
    archives::rar(
        &single,
        &[("Movie/movie.mkv", &bytes(11, 200_000)), ("Movie/subs/en.srt", &bytes(12, 3_000))],
    );
    let done = run(&pipeline(lab.config()), 1, &spec_with(&lab, "single", &[&single]), None);
    done.report.result.as_ref().expect("rar extracts");
    assert_movie_delivered(&lab, "single");
    // `.partNN.rar` and `.rar` + `.rNN` sets.
    for (name, naming) in [("parts", Volumes::Parts), ("old", Volumes::Old)] {
        let volumes = archives::rar_volumes(
            &payload_dir(&lab, name),
            "film",
            "film.mkv",
            &data,
            60_000,
            naming,
        );
        assert_eq!(volumes.len(), 5);
        let refs: Vec<&Path> = volumes.iter().map(std::path::PathBuf::as_path).collect();
        let done = run(&pipeline(lab.config()), 1, &spec_with(&lab, name, &refs), None);
        done.report.result.as_ref().unwrap_or_else(|err| panic!("{name}: {err}"));
        let dest = lab.library().join(name);
        assert_eq!(
            names(&dest),
            [META_FILE, "film.mkv", "readme.md"],
            "{name}: no volume delivered"
        );
        assert_eq!(fs::read(dest.join("film.mkv")).expect("extracted"), data, "{name}");
    }
}

#[test]
fn a_missing_rar_tool_fails_rar_jobs_cleanly_and_degrades_health() {
    let lab = Lab::new();
    let nothing = tempfile::tempdir().expect("tempdir");
    let tools = Toolbox::search(Some(nothing.path().as_os_str()));
    assert_eq!(tools.health(true).status, revaer_domain::HealthStatus::Degraded);
    let pipeline = revaer_fsops::Pipeline::new(lab.config(), tools);
    let rar = payload_dir(&lab, "rar").join("movie.rar");
    archives::rar(&rar, &[("movie.mkv", &bytes(1, 1000))]);
    let failed = run(&pipeline, 1, &spec_with(&lab, "rar", &[&rar]), None);
    let err = failed.report.result.as_ref().expect_err("no unar");
    assert!(matches!(err, FsopsError::ToolMissing { tool: "unar", .. }), "{err}");
    assert!(err.is_retryable(), "installing the tool fixes it");
    assert!(
        err.to_string().contains("apt") || err.to_string().contains("package"),
        "says how to fix it: {err}"
    );
    assert_eq!(
        failed.report.meta.last(Step::Extract).map(|r| r.outcome),
        Some(StepOutcome::Failed)
    );
    // Retryable: the claimed folder waits for the retry, holding only the
    // journal; when the job fails for good it is released.
    assert_eq!(names(&lab.library().join("rar")), [META_FILE], "nothing delivered half-way");
    assert!(revaer_fsops::plan::release(&failed.report.meta));
    assert!(!lab.library().join("rar").exists());
    // The same pipeline still handles everything else.
    let zip = payload_dir(&lab, "zip").join("movie.zip");
    archives::zip(&zip, &movie_entries());
    let done = run(&pipeline, 2, &spec_with(&lab, "zip", &[&zip]), None);
    done.report.result.as_ref().expect("zip needs no external tool");
    assert_movie_delivered(&lab, "zip");
}

#[test]
fn extraction_can_be_switched_off_per_category() {
    let lab = Lab::new();
    let zip = payload_dir(&lab, "raw").join("movie.zip");
    archives::zip(&zip, &movie_entries());
    let mut config = lab.config();
    config.categories.0.insert(
        "raw".to_owned(),
        revaer_domain::settings::Category {
            library_path: "{name}".to_owned(),
            overrides: revaer_domain::settings::FsOverrides {
                extract: Some(false),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let mut spec = spec_with(&lab, "raw", &[&zip]);
    spec.category = Some("raw".to_owned());
    let done = run(&pipeline(config), 1, &spec, None);
    done.report.result.as_ref().expect("ok");
    assert_eq!(names(&lab.library().join("raw")), [META_FILE, "movie.zip", "readme.md"]);
}
