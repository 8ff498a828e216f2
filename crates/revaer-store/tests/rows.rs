//! Runtime rows (torrents and FsOps jobs) on both backends.

mod common;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::TestDb;
use revaer_domain::InfoHash;
use revaer_store::{
    FsJobCounts, FsJobStatus, FsJobUpdate, NewFsJob, StoreError, TorrentRow, TorrentSourceRow,
};
use serde_json::json;

fn torrent(byte: u8, source: TorrentSourceRow) -> TorrentRow {
    TorrentRow {
        info_hash: InfoHash::from_bytes([byte; 20]),
        name: format!("t{byte}"),
        category: Some("tv".into()),
        tags: vec!["a".into(), "b".into()],
        save_path: "/data/downloads".into(),
        source,
        added_at: Utc.timestamp_millis_opt(1_700_000_000_123).single().expect("time"),
        completed_at: None,
        trace_id: Some(format!("trace-{byte}")),
        instance: Some("host:0001".into()),
    }
}

async fn torrents_keep_their_source(db: &TestDb) {
    let magnet = torrent(1, TorrentSourceRow::Magnet("magnet:?xt=urn:btih:0101".into()));
    let metainfo = torrent(2, TorrentSourceRow::Metainfo(vec![b'd', 0, 255, b'e']));
    db.store.upsert_torrent(&magnet).await.expect("insert");
    db.store.upsert_torrent(&metainfo).await.expect("insert");
    assert_eq!(db.store.torrent(magnet.info_hash).await.expect("read"), Some(magnet.clone()));
    assert_eq!(db.store.torrents().await.expect("list"), [magnet.clone(), metainfo.clone()]);

    let renamed = TorrentRow {
        name: "renamed".into(),
        trace_id: Some("later".into()),
        instance: Some("host:0002".into()),
        ..magnet.clone()
    };
    db.store.upsert_torrent(&renamed).await.expect("update");
    let row = db.store.torrent(magnet.info_hash).await.expect("read").expect("row");
    assert_eq!(row.name, "renamed");
    assert_eq!(row.instance.as_deref(), Some("host:0002"), "the holder is the last writer");
    // A source once recorded stays: a later magnet link does not replace a
    // .torrent, nor the first magnet.
    let relinked = TorrentRow {
        source: TorrentSourceRow::Magnet("magnet:?xt=urn:btih:0202&dn=later".into()),
        ..metainfo.clone()
    };
    db.store.upsert_torrent(&relinked).await.expect("update");
    let kept = db.store.torrent(metainfo.info_hash).await.expect("read").expect("row");
    assert_eq!(kept.source, metainfo.source);
    // Removal on behalf of a daemon that does not hold the torrent: nothing.
    assert!(!db.store.remove_torrent_held_by(magnet.info_hash, "host:0001").await.expect("rm"));
    assert!(db.store.torrent(magnet.info_hash).await.expect("read").is_some());
    assert_eq!(row.trace_id.as_deref(), Some("trace-1"), "the adding request's trace id stays");
    let done = Utc.timestamp_millis_opt(1_700_000_100_000).single().expect("time");
    db.store.set_torrent_completed(metainfo.info_hash, Some(done)).await.expect("complete");
    assert_eq!(
        db.store.torrent(metainfo.info_hash).await.expect("read").expect("row").completed_at,
        Some(done)
    );
    let unknown = InfoHash::from_bytes([9; 20]);
    assert!(matches!(
        db.store.set_torrent_completed(unknown, None).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(db.store.remove_torrent_held_by(magnet.info_hash, "host:0002").await.expect("rm"));
    assert!(!db.store.remove_torrent(magnet.info_hash).await.expect("remove twice"));
    assert_eq!(db.store.torrent(magnet.info_hash).await.expect("read"), None);
}

async fn fs_jobs_move_through_their_states(db: &TestDb) {
    let lease = Duration::from_mins(1);
    let row = torrent(3, TorrentSourceRow::Magnet("magnet:?xt=urn:btih:0303".into()));
    db.store.upsert_torrent(&row).await.expect("insert");
    let new = NewFsJob {
        info_hash: row.info_hash,
        source_path: "/data/downloads/t3".into(),
        trace_id: Some("abc".into()),
    };
    let job = db.store.create_fs_job(&new).await.expect("create").expect("new");
    assert_eq!(
        (job.status, job.attempts, job.journal.clone()),
        (FsJobStatus::Pending, 0, json!([]))
    );
    assert_eq!(db.store.create_fs_job(&new).await.expect("create"), None, "one active job");

    // One runner claims it; nobody else can while the lease holds.
    let claimed = db.store.claim_fs_job("runner-a", lease).await.expect("claim").expect("due");
    assert_eq!(
        (claimed.id, claimed.status, claimed.owner.as_deref(), claimed.attempts),
        (job.id, FsJobStatus::Running, Some("runner-a"), 1),
        "a claim counts the attempt"
    );
    assert_eq!(db.store.claim_fs_job("runner-b", lease).await.expect("claim"), None);
    let stolen = db.store.update_fs_job(job.id, "runner-b", &FsJobUpdate::default()).await;
    assert!(matches!(stolen, Err(StoreError::NotOwner { .. })), "{stolen:?}");
    db.store.renew_fs_job_lease(job.id, "runner-a", lease).await.expect("renew");

    // A failure goes back to pending with a retry time, releasing the lease.
    let later = Utc::now() + chrono::Duration::hours(1);
    let failed = db
        .store
        .update_fs_job(
            job.id,
            "runner-a",
            &FsJobUpdate {
                status: Some(FsJobStatus::Pending),
                attempts: Some(1),
                last_error: Some(Some("disk full".into())),
                next_attempt_at: Some(Some(later)),
                journal: Some(json!([{"step": "extract", "outcome": "failed"}])),
                ..FsJobUpdate::default()
            },
        )
        .await
        .expect("update");
    assert_eq!((failed.last_error.as_deref(), failed.owner.as_deref()), (Some("disk full"), None));
    assert_eq!(
        db.store.claim_fs_job("runner-b", lease).await.expect("claim"),
        None,
        "not before its retry time"
    );
    assert_eq!(db.store.fs_jobs_for(row.info_hash).await.expect("jobs").len(), 1);
    db.store.remove_torrent(row.info_hash).await.expect("remove");
    assert!(
        db.store.fs_jobs_for(row.info_hash).await.expect("jobs").is_empty(),
        "jobs go with the torrent"
    );
}

async fn daemons_claim_jobs_only_for_torrents_they_hold(db: &TestDb) {
    let lease = Duration::from_mins(1);
    let theirs = torrent(40, TorrentSourceRow::Magnet("magnet:?xt=urn:btih:4040".into()));
    db.store.upsert_torrent(&theirs).await.expect("insert");
    let new = NewFsJob { info_hash: theirs.info_hash, source_path: "/t40".into(), trace_id: None };
    let job = db.store.create_fs_job(&new).await.expect("job").expect("new");
    let elsewhere = db.store.claim_fs_job_held_by("host:other#1", "host:other", lease).await;
    assert_eq!(elsewhere.expect("claim"), None, "held by host:0001, not host:other");
    let holder = db.store.claim_fs_job_held_by("host:0001#1", "host:0001", lease).await;
    assert_eq!(holder.expect("claim").map(|j| j.id), Some(job.id));
}

async fn a_dead_runners_job_is_taken_over(db: &TestDb) {
    // A runner that dies leaves an expired lease: another takes over.
    let lease = Duration::from_mins(1);
    let other = torrent(33, TorrentSourceRow::Magnet("magnet:?xt=urn:btih:3333".into()));
    db.store.upsert_torrent(&other).await.expect("insert");
    let second = NewFsJob {
        info_hash: other.info_hash,
        source_path: "/data/downloads/t33".into(),
        trace_id: None,
    };
    db.store.create_fs_job(&second).await.expect("second job").expect("new");
    let doomed =
        db.store.claim_fs_job("runner-a", Duration::ZERO).await.expect("claim").expect("due");
    let taken =
        db.store.claim_fs_job("runner-b", lease).await.expect("claim").expect("expired lease");
    assert_eq!((taken.id, taken.owner.as_deref()), (doomed.id, Some("runner-b")));
    assert_eq!(taken.attempts, 2, "the dead runner's attempt counts");
    let done = db
        .store
        .update_fs_job(
            taken.id,
            "runner-b",
            &FsJobUpdate {
                status: Some(FsJobStatus::Done),
                destination: Some("/data/library/tv/t3".into()),
                ..FsJobUpdate::default()
            },
        )
        .await
        .expect("done");
    assert_eq!((done.status, done.owner, done.lease_until), (FsJobStatus::Done, None, None));
    assert_eq!(db.store.fs_jobs_for(other.info_hash).await.expect("jobs").len(), 1);
    assert!(matches!(db.store.fs_job(9999).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(
        db.store.update_fs_job(9999, "x", &FsJobUpdate::default()).await,
        Err(StoreError::NotFound { .. })
    ));

    // A job for an unknown torrent is refused by the foreign key.
    let orphan = NewFsJob {
        info_hash: InfoHash::from_bytes([8; 20]),
        source_path: "/x".into(),
        trace_id: None,
    };
    assert!(db.store.create_fs_job(&orphan).await.is_err());
}

async fn concurrent_claims_give_each_job_to_one_runner(db: &TestDb) {
    // Six torrents, a job each (one active job per torrent).
    for byte in 40..46 {
        let row = torrent(byte, TorrentSourceRow::Magnet(format!("magnet:?xt=urn:btih:{byte}")));
        db.store.upsert_torrent(&row).await.expect("insert");
        let new = NewFsJob { info_hash: row.info_hash, source_path: "/d/t".into(), trace_id: None };
        db.store.create_fs_job(&new).await.expect("job").expect("new");
    }
    let mut claims = Vec::new();
    for runner in 0..4 {
        let store = db.store.clone();
        claims.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for _ in 0..20 {
                if let Some(job) = store
                    .claim_fs_job(&format!("r{runner}"), Duration::from_mins(1))
                    .await
                    .expect("claim")
                {
                    mine.push(job.id);
                }
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for claim in claims {
        all.extend(claim.await.expect("join"));
    }
    all.sort_unstable();
    let before = all.len();
    all.dedup();
    assert_eq!((before, all.len()), (6, 6), "six jobs, each claimed once");
}

async fn failed_jobs_are_counted_and_requeued(db: &TestDb) {
    let row = torrent(5, TorrentSourceRow::Magnet("magnet:?xt=urn:btih:0505".into()));
    db.store.upsert_torrent(&row).await.expect("insert");
    let new = NewFsJob { info_hash: row.info_hash, source_path: "/d/t5".into(), trace_id: None };
    assert_eq!(db.store.fs_job_counts().await.expect("counts"), FsJobCounts::default());
    let first = db.store.create_fs_job(&new).await.expect("job").expect("new");
    let claimed = db.store.claim_fs_job("r#1", Duration::from_mins(1)).await.expect("claim");
    assert_eq!(claimed.map(|job| job.id), Some(first.id));
    let counts = db.store.fs_job_counts().await.expect("counts");
    assert_eq!((counts.pending, counts.running, counts.failed), (0, 1, 0));
    assert!(!db.store.requeue_fs_job(first.id).await.expect("requeue"), "only failed jobs");
    let update = FsJobUpdate {
        status: Some(FsJobStatus::Failed),
        last_error: Some(Some("disk full".into())),
        ..FsJobUpdate::default()
    };
    db.store.update_fs_job(first.id, "r#1", &update).await.expect("fail");
    assert_eq!(db.store.fs_job_counts().await.expect("counts").failed, 1);
    assert!(db.store.requeue_fs_job(first.id).await.expect("requeue"));
    let again = db.store.fs_job(first.id).await.expect("job");
    assert_eq!((again.status, again.attempts), (FsJobStatus::Pending, 0));
    assert_eq!(again.last_error.as_deref(), Some("disk full"), "the last error stays visible");
    let counts = db.store.fs_job_counts().await.expect("counts");
    assert_eq!((counts.pending, counts.failed), (1, 0));

    // It fails again; a new job for the torrent supersedes it.
    db.store.claim_fs_job("r#2", Duration::from_mins(1)).await.expect("claim").expect("due");
    db.store.update_fs_job(first.id, "r#2", &update).await.expect("fail");
    let second = db.store.create_fs_job(&new).await.expect("job").expect("new");
    assert_eq!(db.store.fs_job_counts().await.expect("counts").failed, 0, "superseded");
    assert!(
        !db.store.requeue_fs_job(first.id).await.expect("requeue"),
        "not while another job of the torrent is active"
    );

    // An instance that restarts under its name takes its running jobs back.
    let held = db.store.claim_fs_job("r#3", Duration::from_hours(1)).await.expect("claim");
    assert_eq!(held.map(|job| job.id), Some(second.id));
    assert_eq!(db.store.release_fs_jobs("other").await.expect("release"), 0);
    assert_eq!(db.store.release_fs_jobs("").await.expect("release"), 0);
    assert_eq!(db.store.release_fs_jobs("r").await.expect("release"), 1);
    assert_eq!(db.store.fs_job_counts().await.expect("counts").running, 0);
    assert!(db.store.claim_fs_job("s#1", Duration::from_mins(1)).await.expect("claim").is_some());
}

on_both_backends!(
    failed_jobs_are_counted_and_requeued,
    torrents_keep_their_source,
    a_dead_runners_job_is_taken_over,
    daemons_claim_jobs_only_for_torrents_they_hold,
    fs_jobs_move_through_their_states,
    concurrent_claims_give_each_job_to_one_runner,
);
