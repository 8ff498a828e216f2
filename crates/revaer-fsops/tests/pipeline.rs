//! The pipeline end to end on real folders: every transfer mode, the
//! library layout, cleanup, permissions, checksums, the allow-list and
//! journal behaviour (resume, no-op rerun).

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;

use common::{Lab, bytes, names, pipeline, run};
use revaer_domain::settings::{Category, TransferMode};
use revaer_fsops::{FsopsError, META_FILE, Meta, Step, StepOutcome};

fn show(lab: &Lab) -> revaer_fsops::JobSpec {
    lab.payload(
        1,
        "Show.S01.2019",
        &[
            ("e01.mkv", bytes(1, 70_000)),
            ("Season/e02.mkv", bytes(2, 50_001)),
            ("Sample/sample.mkv", bytes(3, 1000)),
            ("info.nfo", b"release notes".to_vec()),
        ],
    )
}

#[test]
fn default_policy_hard_links_a_clean_entry_and_reruns_as_a_no_op() {
    let lab = Lab::new();
    let spec = show(&lab);
    let pipeline = pipeline(lab.config());
    let first = run(&pipeline, 1, &spec, None);
    first.report.result.as_ref().expect("job succeeds");
    let dest = lab.library().join("Show.S01.2019");
    assert_eq!(first.report.destination(), Some(dest.clone()));
    assert_eq!(names(&dest), [META_FILE, "Season", "Season/e02.mkv", "e01.mkv"]);
    let src = fs::metadata(lab.downloads().join("Show.S01.2019/e01.mkv")).expect("source stays");
    let linked = fs::metadata(dest.join("e01.mkv")).expect("delivered");
    assert_eq!((src.dev(), src.ino()), (linked.dev(), linked.ino()), "a hard link, not a copy");
    assert_eq!(
        names(&lab.downloads().join("Show.S01.2019")).len(),
        6,
        "the download seeds on untouched"
    );
    assert!(!lab.library().join(".revaer-work").exists(), "work folder cleared");

    let outcomes: Vec<(Step, StepOutcome)> =
        first.steps.iter().map(|s| (s.step, s.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            (Step::Validate, StepOutcome::Done),
            (Step::Extract, StepOutcome::Skipped),
            (Step::Flatten, StepOutcome::Skipped),
            (Step::Transfer, StepOutcome::Done),
            (Step::Permissions, StepOutcome::Skipped),
            (Step::Cleanup, StepOutcome::Done),
            (Step::Checksum, StepOutcome::Skipped),
        ]
    );
    let on_disk = Meta::read_from(&dest).expect("readable").expect("journal written");
    assert_eq!(&on_disk, first.saved.last().expect("persisted"), "row and file agree");
    assert!(on_disk.completed_at.is_some());
    assert_eq!(on_disk.steps.len(), 7);
    assert_eq!(first.saved.len(), 14, "persisted before and after each step");

    let again = run(&pipeline, 1, &spec, Some(on_disk.clone()));
    again.report.result.expect("no-op succeeds");
    assert!(again.saved.is_empty() && again.steps.is_empty(), "a finished job does nothing");
    assert_eq!(again.report.meta, on_disk);
}

#[test]
fn copy_reflink_and_move_deliver_the_same_entry() {
    for mode in [TransferMode::Copy, TransferMode::Reflink, TransferMode::Move] {
        let lab = Lab::new();
        let spec = show(&lab);
        let mut config = lab.config();
        config.policy.transfer_mode = mode;
        let done = run(&pipeline(config), 1, &spec, None);
        done.report.result.as_ref().unwrap_or_else(|err| panic!("{mode:?}: {err}"));
        let dest = lab.library().join("Show.S01.2019");
        assert_eq!(
            fs::read(dest.join("Season/e02.mkv")).expect("delivered"),
            bytes(2, 50_001),
            "{mode:?}"
        );
        let src = lab.downloads().join("Show.S01.2019/e01.mkv");
        if mode == TransferMode::Move {
            assert!(
                !lab.downloads().join("Show.S01.2019").exists(),
                "move empties and removes the download folder"
            );
        } else {
            let (a, b) = (
                fs::metadata(&src).expect("kept"),
                fs::metadata(dest.join("e01.mkv")).expect("copy"),
            );
            assert_ne!(a.ino(), b.ino(), "{mode:?} makes a file of its own");
        }
        assert!(!names(&dest).iter().any(|n| n.contains(".revaer-part-")), "no part files left");
    }
}

/// A second filesystem: `/dev/shm` is a tmpfs on Linux; when it is not a
/// different device here, the copy path is forced by configuration.
#[test]
fn across_filesystems_links_and_moves_fall_back_to_verified_copies() {
    for mode in [TransferMode::Hardlink, TransferMode::Move] {
        let lab = Lab::new();
        let shm = tempfile::tempdir_in("/dev/shm").ok();
        let other_fs = shm.as_ref().filter(|dir| {
            fs::metadata(dir.path()).expect("shm").dev()
                != fs::metadata(lab.root()).expect("lab").dev()
        });
        let mut config = lab.config();
        let save_path = if let Some(dir) = other_fs {
            dir.path().to_owned()
        } else {
            config.force_copy = true;
            lab.downloads()
        };
        config.download_roots = vec![save_path.clone()];
        config.policy.transfer_mode = mode;
        common::write(&save_path.join("Film/film.mkv"), &bytes(9, 300_000));
        let spec = revaer_fsops::JobSpec {
            save_path: save_path.clone(),
            files: vec!["Film/film.mkv".into()],
            ..show(&lab)
        };
        let done = run(&pipeline(config), 1, &spec, None);
        done.report.result.as_ref().unwrap_or_else(|err| panic!("{mode:?}: {err}"));
        let dest = lab.library().join("Show.S01.2019/film.mkv");
        assert_eq!(fs::read(&dest).expect("delivered"), bytes(9, 300_000));
        let transfer = done.steps.iter().find(|s| s.step == Step::Transfer).expect("ran");
        assert_eq!(transfer.bytes, 300_000, "{mode:?} copied the bytes");
        assert_eq!(save_path.join("Film/film.mkv").exists(), mode == TransferMode::Hardlink);
    }
}

#[test]
fn categories_place_entries_and_collisions_resolve_deterministically() {
    let lab = Lab::new();
    let mut config = lab.config();
    config.categories.0.insert(
        "tv".to_owned(),
        Category { library_path: "{category}/{name} ({year})".to_owned(), ..Category::default() },
    );
    let mut spec = show(&lab);
    spec.category = Some("tv".to_owned());
    // Someone else's folder holds the first name.
    let taken = lab.library().join("tv/Show.S01.2019 (2019)");
    common::write(&taken.join("theirs.txt"), b"not ours");
    let pipeline = pipeline(config);
    let done = run(&pipeline, 1, &spec, None);
    done.report.result.as_ref().expect("ok");
    let dest = lab.library().join("tv/Show.S01.2019 (2019) (2)");
    assert_eq!(done.report.destination(), Some(dest.clone()));
    assert_eq!(names(&taken), ["theirs.txt"], "the other entry is untouched");
    // A later job for the same torrent finds its own folder again.
    let later = run(&pipeline, 2, &spec, None);
    later.report.result.as_ref().expect("ok");
    assert_eq!(later.report.destination(), Some(dest));
    assert_eq!(
        Meta::read_from(&later.report.destination().expect("dest")).expect("ok").expect("some").job,
        2
    );
}

#[test]
fn sources_and_destinations_outside_the_allow_list_are_refused_untouched() {
    let lab = Lab::new();
    let spec = show(&lab);
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let mut config = lab.config();
    config.policy.allowed_roots = vec![elsewhere.path().to_string_lossy().into_owned()];
    let refused = run(&pipeline(config), 1, &spec, None);
    assert!(matches!(refused.report.result, Err(FsopsError::OutsideAllowedRoots { .. })));
    assert!(!refused.report.result.as_ref().expect_err("refused").is_retryable());
    assert!(names(&lab.library()).is_empty(), "nothing written");

    // Names that climb out, from the torrent itself.
    let mut climbing = show(&lab);
    climbing.files.push("Show.S01.2019/../../etc/passwd".into());
    let refused = run(&pipeline(lab.config()), 1, &climbing, None);
    assert!(matches!(refused.report.result, Err(FsopsError::UnsafeName { .. })));

    // A symlink in the payload pointing out of the allowed roots.
    let mut linked = show(&lab);
    std::os::unix::fs::symlink("/etc/hostname", lab.downloads().join("Show.S01.2019/link.mkv"))
        .expect("symlink");
    linked.files.push("Show.S01.2019/link.mkv".into());
    let refused = run(&pipeline(lab.config()), 1, &linked, None);
    assert!(
        matches!(refused.report.result, Err(FsopsError::UnsafeName { .. })),
        "{:?}",
        refused.report.result
    );
    assert!(names(&lab.library()).is_empty(), "still nothing written");
    let record = refused.report.meta.last(Step::Validate).expect("recorded");
    assert_eq!(record.outcome, StepOutcome::Failed);
    assert!(record.detail.as_deref().is_some_and(|d| d.contains("symbolic link")));
}

#[test]
fn permissions_checksums_and_cleanup_rules_apply() {
    let lab = Lab::new();
    let spec = show(&lab);
    let mut config = lab.config();
    config.policy.transfer_mode = TransferMode::Copy;
    config.policy.chmod_file = Some("0640".into());
    config.policy.chmod_dir = Some("0750".into());
    // Files are never handed to the superuser: as root, hand them to nobody.
    let me = (nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw());
    let (uid, gid) = if me.0 == 0 { (65_534, 65_534) } else { me };
    config.policy.chown = Some(uid.to_string());
    config.policy.chgrp = Some(gid.to_string());
    config.policy.checksum = true;
    config.policy.cleanup_drop = vec!["@fluff".into(), "e02.*".into()];
    config.policy.cleanup_keep = vec!["info.nfo".into()];
    let done = run(&pipeline(config.clone()), 1, &spec, None);
    done.report.result.as_ref().expect("ok");
    let dest = lab.library().join("Show.S01.2019");
    assert_eq!(
        names(&dest),
        [META_FILE, "e01.mkv", "info.nfo"],
        "drops applied, keep wins, emptied folder gone"
    );
    let mode =
        |rel: &str| fs::metadata(dest.join(rel)).expect("exists").permissions().mode() & 0o7777;
    assert_eq!((mode("e01.mkv"), mode("info.nfo")), (0o640, 0o640));
    assert_eq!(fs::metadata(&dest).expect("dir").permissions().mode() & 0o7777, 0o750);
    let meta = Meta::read_from(&dest).expect("ok").expect("journal");
    let expected = common::sha256_hex(&bytes(1, 70_000));
    assert_eq!(meta.checksums.get("e01.mkv"), Some(&expected));
    assert_eq!(meta.checksums.len(), 2);

    let mut unknown = config;
    unknown.policy.chown = Some("no-such-user-revaer".into());
    let failed =
        run(&pipeline(unknown), 2, &lab.payload(2, "Other", &[("a.mkv", bytes(4, 10))]), None);
    assert!(matches!(failed.report.result, Err(FsopsError::UnknownOwner { .. })));
    assert_eq!(
        failed.report.meta.last(Step::Permissions).map(|r| r.outcome),
        Some(StepOutcome::Failed)
    );
}

#[test]
fn a_failed_step_resumes_where_it_stopped() {
    let lab = Lab::new();
    let spec = show(&lab);
    let mut config = lab.config();
    config.policy.chown = Some("no-such-user-revaer".into());
    let failed = run(&pipeline(config), 1, &spec, None);
    assert!(failed.report.result.is_err());
    // The operator fixes the owner; the job resumes at permissions.
    let fixed = lab.config();
    let resumed = run(&pipeline(fixed), 1, &spec, Some(failed.report.meta.clone()));
    resumed.report.result.as_ref().expect("ok");
    let ran: Vec<Step> = resumed.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        ran,
        [Step::Permissions, Step::Cleanup, Step::Checksum],
        "earlier steps are not redone"
    );
}

#[test]
fn single_file_torrents_land_in_a_folder_named_without_the_extension() {
    let lab = Lab::new();
    common::write(&lab.downloads().join("Proof.2005.1080p.mkv"), &bytes(7, 90_000));
    let spec = revaer_fsops::JobSpec {
        torrent: common::id(9),
        name: "Proof.2005.1080p.mkv".into(),
        save_path: lab.downloads(),
        files: vec!["Proof.2005.1080p.mkv".into()],
        category: None,
        tags: Vec::new(),
        seeding: false,
    };
    let done = run(&pipeline(lab.config()), 1, &spec, None);
    done.report.result.as_ref().expect("ok");
    let dest = lab.library().join("Proof.2005.1080p");
    // Named like fluff ("proof"), but it is the film: it is delivered.
    assert_eq!(names(&dest), [META_FILE, "Proof.2005.1080p.mkv"]);
}

#[test]
fn dropped_clutter_does_not_keep_a_folder_from_collapsing() {
    let lab = Lab::new();
    let spec = lab.payload(
        5,
        "Show.S02",
        &[
            ("Season 02/e01.mkv", bytes(1, 30_000)),
            ("Season 02/e02.mkv", bytes(2, 30_000)),
            ("readme.txt", b"clutter".to_vec()),
        ],
    );
    let done = run(&pipeline(lab.config()), 1, &spec, None);
    done.report.result.as_ref().expect("ok");
    assert_eq!(names(&lab.library().join("Show.S02")), [META_FILE, "e01.mkv", "e02.mkv"]);
}

#[test]
fn reserved_and_clashing_names_are_delivered_under_free_names() {
    let lab = Lab::new();
    let spec = lab.payload(
        6,
        "Odd",
        &[
            (".revaer.meta", b"theirs".to_vec()),
            ("_.revaer.meta", b"also theirs".to_vec()),
            ("a.mkv", bytes(3, 9)),
        ],
    );
    let done = run(&pipeline(lab.config()), 1, &spec, None);
    done.report.result.as_ref().expect("ok");
    let dest = lab.library().join("Odd");
    assert_eq!(names(&dest), [META_FILE, "_.revaer (2).meta", "_.revaer.meta", "a.mkv"]);
    let delivered: Vec<Vec<u8>> = ["_.revaer.meta", "_.revaer (2).meta"]
        .iter()
        .map(|n| fs::read(dest.join(n)).expect("file"))
        .collect();
    assert!(
        delivered.contains(&b"theirs".to_vec()) && delivered.contains(&b"also theirs".to_vec())
    );
    assert!(Meta::read_from(&dest).expect("ok").is_some(), "the journal is intact");
}

#[test]
fn rules_that_drop_everything_fail_the_job_and_leave_no_folder() {
    let lab = Lab::new();
    let spec = show(&lab);
    let mut config = lab.config();
    config.policy.transfer_mode = TransferMode::Move;
    config.policy.cleanup_drop = vec!["*".into()];
    let failed = run(&pipeline(config), 1, &spec, None);
    assert!(matches!(failed.report.result, Err(FsopsError::NothingToDeliver)));
    assert!(!lab.library().join("Show.S01.2019").exists(), "the claimed folder is released");
    assert_eq!(
        names(&lab.downloads().join("Show.S01.2019")).len(),
        6,
        "nothing deleted from the download"
    );
}

#[test]
fn two_torrents_with_one_name_never_share_a_folder() {
    let lab = Lab::new();
    let mut first = show(&lab);
    let rar = lab.downloads().join("Show.S01.2019/extras.rar");
    common::archives::rar(&rar, &[("bonus.mkv", &bytes(8, 1000))]);
    Lab::add_file(&mut first, &rar);
    let mut second = first.clone();
    second.torrent = common::id(2);
    // The first job claims its folder, then waits for a retry: no RAR tool.
    let without_tools = revaer_fsops::Pipeline::new(lab.config(), revaer_fsops::Toolbox::default());
    let a = run(&without_tools, 1, &first, None);
    assert!(matches!(a.report.result, Err(FsopsError::ToolMissing { .. })));
    let b = run(&pipeline(lab.config()), 2, &second, None);
    b.report.result.as_ref().expect("ok");
    assert_eq!(a.report.destination(), Some(lab.library().join("Show.S01.2019")));
    assert_eq!(b.report.destination(), Some(lab.library().join("Show.S01.2019 (2)")));
    // The first resumes into its own folder once the tool is there.
    let resumed = run(&pipeline(lab.config()), 1, &first, Some(a.report.meta.clone()));
    resumed.report.result.as_ref().expect("ok");
    let owner =
        |dir: &str| Meta::read_from(&lab.library().join(dir)).expect("ok").map(|m| m.torrent);
    assert_eq!(owner("Show.S01.2019"), Some(first.torrent));
    assert_eq!(owner("Show.S01.2019 (2)"), Some(second.torrent));
    assert!(lab.library().join("Show.S01.2019/bonus.mkv").exists());
}

const UNPRIVILEGED_LAB: &str = "REVAER_FSOPS_UNPRIVILEGED_LAB";

/// Runs a job that asks for `daemon` as owner without the privilege to
/// change owners (as `nobody` in a child when the tests run as root).
fn chown_without_privilege(lab_root: &std::path::Path) -> revaer_fsops::JobReport {
    let lab = Lab::at(lab_root);
    let spec = lab.payload(8, "Mine", &[("a.mkv", bytes(9, 1000))]);
    let mut config = lab.config();
    config.policy.transfer_mode = TransferMode::Copy;
    // Another user than the one running: only a privileged process may.
    config.policy.chown = Some("daemon".into());
    config.policy.chmod_file = Some("0604".into());
    run(&pipeline(config), 1, &spec, None).report
}

#[test]
fn owners_are_skipped_with_a_warning_when_not_privileged() {
    if let Some(lab) = std::env::var_os(UNPRIVILEGED_LAB) {
        // The child, as nobody: report through the exit code.
        let report = chown_without_privilege(std::path::Path::new(&lab));
        let detail =
            report.meta.last(Step::Permissions).and_then(|r| r.detail.clone()).unwrap_or_default();
        let ok = report.result.is_ok() && detail.contains("not privileged");
        std::process::exit(i32::from(!ok));
    }
    let lab = Lab::new();
    if nix::unistd::getuid().is_root() {
        for entry in walkdir::WalkDir::new(lab.root()) {
            let path = entry.expect("walk").into_path();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o777)).expect("open up the lab");
        }
        let nobody =
            nix::unistd::User::from_name("nobody").expect("lookup").expect("nobody exists");
        let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "owners_are_skipped_with_a_warning_when_not_privileged",
                "--exact",
                "--nocapture",
            ])
            .env(UNPRIVILEGED_LAB, lab.root())
            .uid(nobody.uid.as_raw())
            .gid(nobody.gid.as_raw())
            .status()
            .expect("child runs");
        assert!(status.success(), "as nobody: the job succeeds and says owners were not changed");
        let mode =
            fs::metadata(lab.library().join("Mine/a.mkv")).expect("delivered").permissions().mode();
        assert_eq!(mode & 0o7777, 0o604, "modes still applied");
    } else {
        let report = chown_without_privilege(lab.root());
        report.result.as_ref().expect("the job succeeds");
        let detail =
            report.meta.last(Step::Permissions).and_then(|r| r.detail.clone()).unwrap_or_default();
        assert!(detail.contains("not privileged"), "{detail}");
    }
}

#[test]
fn a_cancelled_job_stops_at_a_safe_point_and_resumes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let lab = Lab::new();
    let spec =
        lab.payload(10, "Big", &[("big.bin", bytes(10, 64 << 20)), ("small.mkv", bytes(11, 10))]);
    let mut config = lab.config();
    config.policy.transfer_mode = TransferMode::Copy;
    let pipeline = pipeline(config);
    let cancel = AtomicBool::new(false);
    let part = revaer_fsops::part_file_for(&lab.library().join("Big/big.bin"));
    let mut saved = Vec::new();
    let report = std::thread::scope(|scope| {
        // Stop as soon as the big copy is under way.
        scope.spawn(|| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_mins(1);
            while std::time::Instant::now() < deadline && !cancel.load(Ordering::Relaxed) {
                if fs::metadata(&part).is_ok_and(|m| m.len() > 0) {
                    cancel.store(true, Ordering::Relaxed);
                }
                std::thread::yield_now();
            }
        });
        let report = pipeline.run(
            1,
            &spec,
            None,
            revaer_fsops::Hooks {
                persist: &mut |meta| {
                    saved.push(meta.clone());
                    Ok(())
                },
                mover: None,
                on_step: &mut |_| {},
                cancel: Some(&cancel),
            },
        );
        cancel.store(true, Ordering::Relaxed);
        report
    });
    assert!(matches!(report.result, Err(FsopsError::Cancelled)), "{:?}", report.result);
    assert!(!part.exists(), "the interrupted copy leaves no part file");
    assert!(!lab.library().join("Big/big.bin").exists());
    let resumed = run(&pipeline, 1, &spec, saved.last().cloned());
    resumed.report.result.as_ref().expect("resumes");
    assert_eq!(fs::read(lab.library().join("Big/big.bin")).expect("copied"), bytes(10, 64 << 20));
    assert_eq!(
        resumed.steps.first().map(|s| s.step),
        Some(Step::Transfer),
        "resumed at the transfer"
    );
}
