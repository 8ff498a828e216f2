//! Persistence: restarts, crashes (`kill -9`), corrupt resume data and
//! worker faults. Every torrent must come back; at most a few seconds of
//! progress may be lost.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Node, Payload, WAIT, completed, config, start_in, wait_event, wait_summary};
use revaer_domain::{EngineEvent, HealthStatus, RateLimit, TorrentState};
use revaer_engine::{AddTorrentOptions, Engine, TorrentSource};

/// Payload for the interrupted downloads: big enough to stop half-way.
const BIG: &[(&str, usize)] = &[("one.bin", 2_500_003), ("two/two.bin", 3_500_001)];
/// Download cap that makes the interrupted downloads last a few seconds.
const CAP: u64 = 1024 * 1024;
/// Piece size of the generated torrents.
const PIECE: u64 = 16 * 1024;

fn capped() -> AddTorrentOptions {
    AddTorrentOptions {
        download_limit: RateLimit::bytes_per_second(CAP),
        ..AddTorrentOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_download_resumes_without_refetching() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "big", BIG);
    let seed = Node::seeding(&payload).await;
    let dir = tempfile::tempdir().expect("tempdir");

    let first = start_in(dir.path()).await;
    let labels =
        revaer_domain::TorrentLabels { category: Some("tv".into()), tags: vec!["x".into()] };
    let options = AddTorrentOptions { labels: labels.clone(), sequential: true, ..capped() };
    first.add(TorrentSource::Metainfo(payload.metainfo.clone()), options).await.expect("add");
    first.connect_peer(payload.id, seed.peer()).await.expect("connect");
    let half = payload.total() * 2 / 5;
    let before =
        wait_summary(&first, payload.id, "40 % downloaded", |s| s.bytes_done >= half).await;
    common::shutdown_checked(&first).await;
    drop(first);

    let second = start_in(dir.path()).await;
    let restored = second.summary(payload.id).expect("torrent restored");
    assert_eq!(restored.labels, labels);
    let detail = second.detail(payload.id).await.expect("detail");
    assert!(detail.summary.sequential);
    assert_eq!(detail.summary.download_limit, RateLimit::bytes_per_second(CAP));
    let mut events = second.subscribe();
    second.set_limits(payload.id, RateLimit::UNLIMITED, RateLimit::UNLIMITED).await.expect("uncap");
    second.connect_peer(payload.id, seed.peer()).await.expect("connect");
    let resumed = wait_summary(&second, payload.id, "resume data loaded", |s| {
        s.state != TorrentState::Checking
    })
    .await;
    // Within one piece: a hybrid torrent's padding is counted differently
    // before and after a restart.
    assert!(
        resumed.bytes_done + PIECE >= before.bytes_done,
        "{} < {}",
        resumed.bytes_done,
        before.bytes_done
    );
    wait_event(&mut events, "completion after restart", completed(payload.id)).await;
    let last =
        wait_summary(&second, payload.id, "final counters", |s| s.state == TorrentState::Seeding)
            .await;
    payload.assert_same(&second_root(dir.path()), &payload.paths());
    let limit = payload.total() * 11 / 10;
    assert!(
        last.downloaded <= limit,
        "downloaded {} > 110 % of {}",
        last.downloaded,
        payload.total()
    );
    common::shutdown_checked(&second).await;
    seed.stop().await;
}

fn second_root(dir: &Path) -> std::path::PathBuf {
    dir.join("downloads/big")
}

/// One test, two roles: run normally it is the parent, which re-runs this
/// same test binary as a child leecher (selected by environment) and kills
/// it with SIGKILL half-way through the download.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_download_loses_nothing() {
    if let Some(dir) = std::env::var_os("REVAER_KILL9_CHILD_DIR") {
        return child_leecher(Path::new(&dir)).await;
    }
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "big", BIG);
    let seed = Node::seeding(&payload).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("t.torrent"), &payload.metainfo).expect("write torrent");
    std::fs::write(dir.path().join("peer"), seed.peer().to_string()).expect("write peer");

    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["kill_9_mid_download_loses_nothing", "--exact", "--nocapture"])
        .env("REVAER_KILL9_CHILD_DIR", dir.path())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn child leecher");
    // The child reports its verified bytes after every progress event;
    // kill it once it has half.
    let report = dir.path().join("progress");
    let half = payload.total() / 2;
    let reported = tokio::time::timeout(WAIT, async {
        loop {
            let done =
                std::fs::read_to_string(&report).ok().and_then(|text| text.parse::<u64>().ok());
            if let Some(done) = done.filter(|done| *done >= half) {
                return done;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("child fetches half the payload");
    child.kill().expect("SIGKILL");
    child.wait().expect("reap child");
    assert!(reported < payload.total(), "child finished before it was killed");

    let engine = start_in(dir.path()).await;
    let restored = wait_summary(&engine, payload.id, "torrent restored and checked", |s| {
        s.state != TorrentState::Checking
    })
    .await;
    // A crash may cost the progress since the last resume save (every
    // 500 ms here): a few seconds at most.
    let lost = reported.saturating_sub(restored.bytes_done);
    assert!(lost <= 3 * CAP, "kill -9 lost {lost} bytes of {reported}");
    let mut events = engine.subscribe();
    engine.set_limits(payload.id, RateLimit::UNLIMITED, RateLimit::UNLIMITED).await.expect("uncap");
    engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    wait_event(&mut events, "completion after kill -9", completed(payload.id)).await;
    payload.assert_same(&dir.path().join("downloads/big"), &payload.paths());
    common::shutdown_checked(&engine).await;
    seed.stop().await;
}

async fn child_leecher(dir: &Path) {
    let engine = Engine::start(config(dir)).await.expect("child engine");
    let metainfo = std::fs::read(dir.join("t.torrent")).expect("torrent");
    let peer = std::fs::read_to_string(dir.join("peer")).expect("peer").parse().expect("addr");
    let mut events = engine.subscribe();
    let added = engine.add(TorrentSource::Metainfo(metainfo), capped()).await.expect("child add");
    engine.connect_peer(added.summary().id, peer).await.expect("child connect");
    // Bounded: the parent kills us long before this.
    let _ = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(EngineEvent::Progress(revaer_domain::event::Progress {
                bytes_done, ..
            })) = events.recv().await
            {
                let tmp = dir.join("progress.tmp");
                std::fs::write(&tmp, bytes_done.to_string()).expect("write progress");
                std::fs::rename(&tmp, dir.join("progress")).expect("publish progress");
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_resume_data_is_reported_and_rechecked() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "kept", common::FILES);
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = start_in(dir.path()).await;
    let mut events = engine.subscribe();
    let options = AddTorrentOptions {
        save_path: Some(source.path().to_path_buf()),
        ..AddTorrentOptions::default()
    };
    engine.add(TorrentSource::Metainfo(payload.metainfo.clone()), options).await.expect("add");
    wait_event(&mut events, "complete", completed(payload.id)).await;
    common::shutdown_checked(&engine).await;

    let resume = dir.path().join(format!("resume/{}.fastresume", payload.id));
    let bytes = std::fs::read(&resume).expect("resume written at shutdown");
    std::fs::write(&resume, &bytes[..bytes.len() / 2]).expect("truncate");
    let engine = start_in(dir.path()).await;
    let mut events = engine.subscribe();
    let rejected = wait_event(&mut events, "rejection", |e| {
        matches!(e, EngineEvent::ResumeRejected(revaer_domain::event::ResumeRejected { .. }))
    })
    .await;
    assert!(
        matches!(rejected, EngineEvent::ResumeRejected(revaer_domain::event::ResumeRejected { torrent, .. }) if torrent == payload.id)
    );
    let summary =
        wait_summary(&engine, payload.id, "recheck to seed", |s| s.state == TorrentState::Seeding)
            .await;
    assert_eq!(summary.bytes_done, payload.total());
    assert_eq!(summary.save_path, source.path());
    common::shutdown_checked(&engine).await;

    // A garbled record: still restored (from the resume data), reported.
    let record = dir.path().join(format!("resume/{}.meta.json", payload.id));
    std::fs::write(&record, b"{ not json").expect("garble");
    let engine = start_in(dir.path()).await;
    let mut events = engine.subscribe();
    wait_event(&mut events, "record rejection", |e| {
        matches!(e, EngineEvent::ResumeRejected(revaer_domain::event::ResumeRejected { .. }))
    })
    .await;
    let summary =
        wait_summary(&engine, payload.id, "seeding again", |s| s.state == TorrentState::Seeding)
            .await;
    assert_eq!(summary.save_path, source.path(), "save path recovered from the resume data");
    common::shutdown_checked(&engine).await;
    let again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).expect("record")).expect("json");
    assert_eq!(again["save_path"], source.path().to_str().expect("utf-8"), "record rewritten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_fault_restarts_and_rebuilds_from_resume_dir() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "sturdy", common::FILES);
    let node = Node::seeding(&payload).await;
    let mut events = node.engine.subscribe();
    let mut settings = node.engine.settings();
    settings.upload_limit = RateLimit::bytes_per_second(123_456);
    node.engine.apply_settings(settings.clone()).await.expect("apply");
    node.engine.inject_worker_panic();
    let failing = wait_event(&mut events, "failing health", |e| {
        matches!(
            e,
            EngineEvent::Health(revaer_domain::event::EngineHealthChanged {
                status: HealthStatus::Failing,
                ..
            })
        )
    })
    .await;
    assert!(format!("{failing:?}").contains("fault injected"));
    wait_event(&mut events, "recovery", |e| {
        matches!(
            e,
            EngineEvent::Health(revaer_domain::event::EngineHealthChanged {
                status: HealthStatus::Ok,
                ..
            })
        )
    })
    .await;
    assert_eq!(node.engine.health().worker_restarts, 1);
    assert_eq!(node.engine.settings(), settings, "run-time settings survive the restart");
    let summary = wait_summary(&node.engine, payload.id, "seeding again", |s| {
        s.state == TorrentState::Seeding
    })
    .await;
    assert_eq!(summary.bytes_done, payload.total());
    tokio::time::timeout(Duration::from_secs(5), node.engine.pause(payload.id))
        .await
        .expect("answers")
        .expect("commands work after the restart");
    node.stop().await;
}
