//! FsOps end to end: a real torrent moves between two libtorrent sessions
//! on 127.0.0.1, completes, and the orchestrator turns it into a library
//! entry (jobs in a real SQLite store, the real pipeline, the engine moving
//! seeding torrents). Also retries with back-off, permanent failure and
//! recovery, and restarts.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use revaer_daemon::orchestrator::{Orchestrator, OrchestratorConfig};
use revaer_domain::event::{EventSource, EventsDropped};
use revaer_domain::settings::{Category, TransferMode};
use revaer_domain::{FsopsEvent, HealthStatus, InfoHash, TorrentLabels, TorrentState};
use revaer_engine::metainfo::{self, CreateOptions};
use revaer_engine::{AddTorrentOptions, Engine, EngineConfig, SessionConfig, TorrentSource};
use revaer_fsops::{FsopsConfig, META_FILE, Meta, Pipeline, Toolbox};
use revaer_service::bus::EventBus;
use revaer_service::forward::{EventSources, forward_events};
use revaer_store::{FsJobStatus, NewFsJob, Store, StoreConfig};
use tokio::sync::broadcast;

const WAIT: Duration = Duration::from_mins(1);
const FILES: &[(&str, usize)] = &[
    ("e01.mkv", 400_001),
    ("Season/e02.mkv", 250_000),
    ("Sample/sample.mkv", 5_000),
    ("info.nfo", 100),
];

fn bytes(seed: u64, len: usize) -> Vec<u8> {
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

async fn engine(dir: &Path) -> Engine {
    let config =
        EngineConfig::new(dir.join("resume"), SessionConfig::loopback(dir.join("downloads")));
    Engine::start(config).await.expect("engine starts")
}

/// A seeder with a payload, a leecher, a store and FsOps settings.
struct Rig {
    dir: tempfile::TempDir,
    seeder: Engine,
    leecher: Engine,
    store: Store,
    /// The leecher's events, as the daemon forwards them.
    bus: EventBus,
    metainfo: Vec<u8>,
    id: InfoHash,
    name: String,
}

impl Rig {
    async fn new(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let payload = dir.path().join("seed/files").join(name);
        for (i, (rel, size)) in FILES.iter().enumerate() {
            let path = payload.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, bytes(i as u64 + 1, *size)).expect("write");
        }
        let options =
            CreateOptions { piece_size: Some(16 * 1024), v1_only: false, trackers: vec![] };
        let metainfo = metainfo::create(&payload, &options).expect("torrent");
        let id = metainfo::Metainfo::parse(&metainfo).expect("parse").id;
        let seeder = engine(&dir.path().join("seed")).await;
        let mut seeder_events = seeder.subscribe();
        let add = AddTorrentOptions {
            save_path: Some(dir.path().join("seed/files")),
            ..AddTorrentOptions::default()
        };
        seeder.add(TorrentSource::Metainfo(metainfo.clone()), add).await.expect("seeder adds");
        wait_engine(&mut seeder_events, id).await;
        let leecher = engine(&dir.path().join("leech")).await;
        let bus = EventBus::new(1024);
        tokio::spawn(forward_events(bus.clone(), EventSources::engine(leecher.subscribe())));
        let store = Store::connect(&StoreConfig::sqlite(dir.path().join("revaer.db")))
            .await
            .expect("store");
        Self { dir, seeder, leecher, store, bus, metainfo, id, name: name.to_owned() }
    }

    fn fsops(&self) -> FsopsConfig {
        let mut config = FsopsConfig::new(
            self.dir.path().join("data"),
            vec![self.dir.path().join("leech/downloads")],
        );
        config.categories.0.insert(
            "tv".to_owned(),
            Category { library_path: "{category}/{name}".to_owned(), ..Category::default() },
        );
        config
    }

    fn library(&self) -> PathBuf {
        self.dir.path().join("data/library")
    }

    fn downloaded(&self, rel: &str) -> PathBuf {
        self.dir.path().join("leech/downloads").join(&self.name).join(rel)
    }

    async fn orchestrator(&self, fsops: FsopsConfig, config: OrchestratorConfig) -> Orchestrator {
        self.orchestrator_on(&self.bus, fsops, config).await
    }

    /// An orchestrator following `bus` instead of the leecher's.
    async fn orchestrator_on(
        &self,
        bus: &EventBus,
        fsops: FsopsConfig,
        config: OrchestratorConfig,
    ) -> Orchestrator {
        let tools = Toolbox::search(std::env::var_os("PATH").as_deref());
        Orchestrator::start(
            self.store.clone(),
            self.leecher.clone(),
            Pipeline::new(fsops, tools),
            config,
            bus.subscribe(None).live,
        )
        .await
    }

    /// Adds the torrent to the leecher as `tv` and connects it to the seeder.
    async fn download(&self) {
        let mut done = self.leecher.subscribe();
        let options = AddTorrentOptions {
            labels: TorrentLabels { category: Some("tv".into()), tags: vec!["hd".into()] },
            ..AddTorrentOptions::default()
        };
        self.leecher
            .add(TorrentSource::Metainfo(self.metainfo.clone()), options)
            .await
            .expect("leecher adds");
        let port = self.seeder.listen_port().expect("seeder listens");
        self.leecher.connect_peer(self.id, ([127, 0, 0, 1], port).into()).await.expect("connect");
        wait_engine(&mut done, self.id).await;
    }

    async fn stop(self, orchestrator: Orchestrator) {
        tokio::time::timeout(WAIT, orchestrator.shutdown()).await.expect("orchestrator stops");
        self.leecher.shutdown().await.expect("leecher stops");
        self.seeder.shutdown().await.expect("seeder stops");
        self.store.close().await;
    }
}

fn quick() -> OrchestratorConfig {
    OrchestratorConfig {
        workers: 1,
        poll: Duration::from_millis(100),
        retry_base: Duration::from_millis(100),
        max_attempts: 2,
        ..OrchestratorConfig::default()
    }
}

async fn wait_engine(events: &mut broadcast::Receiver<revaer_domain::EngineEvent>, id: InfoHash) {
    tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(revaer_domain::EngineEvent::Completed(done)) if done.torrent == id => {
                    return;
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("engine events closed"),
            }
        }
    })
    .await
    .expect("the torrent completes in time");
}

/// FsOps events until (and including) the first that `done` accepts.
async fn wait_fsops(
    events: &mut broadcast::Receiver<FsopsEvent>,
    done: impl Fn(&FsopsEvent) -> bool,
) -> Vec<FsopsEvent> {
    let mut seen = Vec::new();
    tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    let stop = done(&event);
                    seen.push(event);
                    if stop {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("FsOps events closed"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("FsOps finished in time; saw {seen:?}"));
    seen
}

fn completed(event: &FsopsEvent) -> bool {
    matches!(event, FsopsEvent::Completed(revaer_domain::event::FsopsCompleted { .. }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_torrent_lands_in_the_library_and_keeps_seeding() {
    let rig = Rig::new("Show.S01").await;
    // As the API notes the trace of the request that adds a torrent.
    rig.bus.note_trace(rig.id, "trace-add".into());
    let orchestrator = rig.orchestrator(rig.fsops(), quick()).await;
    let mut events = orchestrator.subscribe();
    rig.download().await;
    let seen = wait_fsops(&mut events, completed).await;
    assert!(
        seen.iter().all(|e| match e {
            FsopsEvent::Started(revaer_domain::event::FsopsStarted { trace_id, .. })
            | FsopsEvent::Step(revaer_domain::event::FsopsStep { trace_id, .. })
            | FsopsEvent::Completed(revaer_domain::event::FsopsCompleted { trace_id, .. }) =>
                trace_id.as_deref() == Some("trace-add"),
            _ => true,
        }),
        "every event carries the adding request's trace id: {seen:?}"
    );
    let steps: Vec<&str> = seen
        .iter()
        .filter_map(|e| {
            if let FsopsEvent::Step(revaer_domain::event::FsopsStep { step, .. }) = e {
                Some(step.as_str())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        steps,
        ["validate", "extract", "flatten", "transfer", "permissions", "cleanup", "checksum"]
    );
    assert!(matches!(
        seen.first(),
        Some(FsopsEvent::Started(revaer_domain::event::FsopsStarted { attempt: 1, .. }))
    ));

    let dest = rig.library().join("tv/Show.S01");
    assert_eq!(std::fs::read(dest.join("e01.mkv")).expect("delivered"), bytes(1, 400_001));
    assert_eq!(std::fs::read(dest.join("Season/e02.mkv")).expect("delivered"), bytes(2, 250_000));
    assert!(!dest.join("Sample").exists() && !dest.join("info.nfo").exists(), "fluff dropped");
    let (library, download) = (
        std::fs::metadata(dest.join("e01.mkv")).expect("lib"),
        std::fs::metadata(rig.downloaded("e01.mkv")).expect("dl"),
    );
    assert_eq!(library.ino(), download.ino(), "hard-linked: no second copy");
    assert!(dest.join(META_FILE).exists());

    let jobs = rig.store.fs_jobs_for(rig.id).await.expect("jobs");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, FsJobStatus::Done);
    assert_eq!(jobs[0].destination.as_deref(), Some(dest.to_string_lossy().as_ref()));
    let journal = Meta::from_value(&jobs[0].journal).expect("journal in the row");
    assert!(journal.completed_at.is_some());
    let summary = rig.leecher.summary(rig.id).expect("still in the engine");
    assert_eq!(summary.state, TorrentState::Seeding, "seeding on from the download");
    assert_eq!(orchestrator.health().await.status, HealthStatus::Ok);
    // A second completion (after a recheck, say) re-delivers into the same folder.
    assert!(orchestrator.enqueue(rig.id, None).await.expect("enqueue").is_some());
    wait_fsops(&mut events, completed).await;
    assert_eq!(rig.store.fs_jobs_for(rig.id).await.expect("jobs").len(), 2);
    assert!(!rig.library().join("tv/Show.S01 (2)").exists(), "same torrent, same folder");
    // The catalogue: one row, written from the engine's events alone.
    let row = rig.store.torrent(rig.id).await.expect("read").expect("catalogued");
    assert_eq!(row.instance.as_deref(), Some("revaerd"));
    assert_eq!(row.trace_id.as_deref(), Some("trace-add"));
    assert_eq!(
        (row.category.as_deref(), row.tags.as_slice()),
        (Some("tv"), ["hd".to_owned()].as_slice())
    );
    assert!(row.completed_at.is_some());
    // Removed from the engine: the row and its jobs go with it.
    rig.leecher.remove(rig.id, false).await.expect("remove");
    let deadline = std::time::Instant::now() + WAIT;
    while rig.store.torrent(rig.id).await.expect("read").is_some() {
        assert!(std::time::Instant::now() < deadline, "the catalogue forgets a removed torrent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rig.store.fs_jobs_for(rig.id).await.expect("jobs").is_empty());
    rig.stop(orchestrator).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_mode_moves_the_seeding_torrent_through_the_engine() {
    let rig = Rig::new("Movie.2020").await;
    let mut fsops = rig.fsops();
    fsops.policy.transfer_mode = TransferMode::Move;
    let orchestrator = rig.orchestrator(fsops, quick()).await;
    let mut events = orchestrator.subscribe();
    rig.download().await;
    wait_fsops(&mut events, completed).await;
    let dest = rig.library().join("tv/Movie.2020");
    // The destination is named like the torrent's folder: the engine moves
    // the torrent beside it, so its files land in the destination itself.
    assert_eq!(std::fs::read(dest.join("e01.mkv")).expect("moved"), bytes(1, 400_001));
    assert!(dest.join("Sample/sample.mkv").exists(), "a seeding torrent keeps all its files");
    assert!(dest.join(META_FILE).exists());
    assert!(!rig.downloaded("e01.mkv").exists(), "gone from the download folder");
    // The published snapshot catches up with the move within a status tick.
    let summary = tokio::time::timeout(WAIT, async {
        loop {
            let summary = rig.leecher.summary(rig.id).expect("still in the engine");
            if summary.state == TorrentState::Seeding {
                return summary;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("seeding again after the move");
    assert_eq!(summary.save_path, rig.library().join("tv"), "the engine seeds from the library");
    // A second delivery finds the torrent in place: no move, no failure.
    assert!(orchestrator.enqueue(rig.id, None).await.expect("enqueue").is_some());
    wait_fsops(&mut events, completed).await;
    assert_eq!(rig.store.fs_jobs_for(rig.id).await.expect("jobs")[1].status, FsJobStatus::Done);
    rig.stop(orchestrator).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeding_torrent_moved_under_another_name_keeps_its_folder() {
    let rig = Rig::new("Film.2020").await;
    let mut fsops = rig.fsops();
    fsops.policy.transfer_mode = TransferMode::Move;
    fsops.categories.0.insert(
        "tv".to_owned(),
        Category { library_path: "{category}/{name} ({year})".to_owned(), ..Category::default() },
    );
    let orchestrator = rig.orchestrator(fsops, quick()).await;
    let mut events = orchestrator.subscribe();
    rig.download().await;
    wait_fsops(&mut events, completed).await;
    let dest = rig.library().join("tv/Film.2020 (2020)");
    assert_eq!(std::fs::read(dest.join("Film.2020/e01.mkv")).expect("moved"), bytes(1, 400_001));
    assert!(dest.join(META_FILE).exists());
    rig.stop(orchestrator).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_retry_with_back_off_then_fail_for_good_and_recover_after_a_fix() {
    let rig = Rig::new("Broken").await;
    // The library root is a file: every attempt fails with an IO error.
    std::fs::create_dir_all(rig.dir.path().join("data")).expect("data");
    std::fs::write(rig.library(), b"in the way").expect("blocker");
    let orchestrator = rig.orchestrator(rig.fsops(), quick()).await;
    let mut events = orchestrator.subscribe();
    rig.download().await;
    let seen = wait_fsops(&mut events, |e| {
        matches!(e, FsopsEvent::Failed(revaer_domain::event::FsopsFailed { retry_at: None, .. }))
    })
    .await;
    let failures: Vec<bool> = seen
        .iter()
        .filter_map(|e| {
            if let FsopsEvent::Failed(revaer_domain::event::FsopsFailed { retry_at, .. }) = e {
                Some(retry_at.is_some())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(failures, [true, false], "retried once after a back-off, then failed for good");
    let job = rig.store.fs_jobs_for(rig.id).await.expect("jobs").remove(0);
    assert_eq!((job.status, job.attempts), (FsJobStatus::Failed, 2));
    assert!(
        job.last_error.as_deref().is_some_and(|e| e.contains("library")),
        "{:?}",
        job.last_error
    );
    let health = orchestrator.health().await;
    assert_eq!(health.status, HealthStatus::Degraded);
    assert!(health.reason.is_some_and(|r| r.contains("failed for good")));

    std::fs::remove_file(rig.library()).expect("operator clears the way");
    assert!(orchestrator.retry(rig.id).await.expect("retry"));
    wait_fsops(&mut events, completed).await;
    assert!(rig.library().join("tv/Broken/e01.mkv").exists());
    assert_eq!(orchestrator.health().await.status, HealthStatus::Ok, "recovered");
    rig.stop(orchestrator).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_pick_up_missed_completions_and_jobs_left_running() {
    let rig = Rig::new("Late").await;
    rig.download().await;
    // Completed while no orchestrator ran: reconciled at start.
    let orchestrator = rig.orchestrator(rig.fsops(), quick()).await;
    let mut events = orchestrator.subscribe();
    let seen = wait_fsops(&mut events, completed).await;
    assert!(seen.iter().any(completed));
    orchestrator.shutdown().await;

    // A job this instance held when it died resumes at once on restart,
    // not after its hour-long lease.
    let job = rig
        .store
        .create_fs_job(&NewFsJob {
            info_hash: rig.id,
            source_path: String::new(),
            trace_id: Some("trace-1".into()),
        })
        .await
        .expect("job")
        .expect("no other job is active");
    let held =
        rig.store.claim_fs_job("revaerd#dead", Duration::from_hours(1)).await.expect("claim");
    assert_eq!(held.map(|j| j.id), Some(job.id));
    let orchestrator = rig.orchestrator(rig.fsops(), quick()).await;
    let mut events = orchestrator.subscribe();
    let seen = wait_fsops(&mut events, completed).await;
    assert!(
        seen.iter().all(|e| match e {
            FsopsEvent::Started(revaer_domain::event::FsopsStarted { trace_id, .. })
            | FsopsEvent::Completed(revaer_domain::event::FsopsCompleted { trace_id, .. }) =>
                trace_id.as_deref() == Some("trace-1"),
            _ => true,
        }),
        "events carry the trace id: {seen:?}"
    );
    assert_eq!(rig.store.fs_job(job.id).await.expect("job").status, FsJobStatus::Done);
    rig.stop(orchestrator).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_engine_events_are_caught_up_and_a_missing_row_is_written_first() {
    let rig = Rig::new("Lost").await;
    // A bus that hears nothing from the engine: the completion is lost.
    let quiet = EventBus::new(16);
    let orchestrator = rig.orchestrator_on(&quiet, rig.fsops(), quick()).await;
    let mut events = orchestrator.subscribe();
    rig.download().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rig.store.fs_jobs_for(rig.id).await.expect("jobs").is_empty(), "nothing heard");
    // The forwarder says engine events were dropped: caught up from the
    // engine's list.
    let dropped = EventsDropped { source: EventSource::Engine, missed: 1 };
    quiet.publish(revaer_domain::Event::EventsDropped(dropped));
    wait_fsops(&mut events, completed).await;
    assert_eq!(rig.store.fs_jobs_for(rig.id).await.expect("jobs").len(), 1);
    // A row that was never written (its event's write failed): the job's
    // enqueue writes it first, through the catalogue.
    assert!(rig.store.remove_torrent(rig.id).await.expect("remove"));
    assert!(orchestrator.enqueue(rig.id, None).await.expect("enqueue").is_some());
    let row = rig.store.torrent(rig.id).await.expect("read").expect("written again");
    assert_eq!(row.instance.as_deref(), Some("revaerd"));
    wait_fsops(&mut events, completed).await;
    rig.stop(orchestrator).await;
}
