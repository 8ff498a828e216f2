//! Runtime rows (torrents and FsOps jobs) on both backends.

mod common;

use chrono::{TimeZone, Utc};
use common::TestDb;
use revaer_domain::InfoHash;
use revaer_store::{FsJobStatus, FsJobUpdate, NewFsJob, StoreError, TorrentRow, TorrentSourceRow};
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
    }
}

async fn torrents_keep_their_source(db: &TestDb) {
    let magnet = torrent(1, TorrentSourceRow::Magnet("magnet:?xt=urn:btih:0101".into()));
    let metainfo = torrent(2, TorrentSourceRow::Metainfo(vec![b'd', 0, 255, b'e']));
    db.store.upsert_torrent(&magnet).await.expect("insert");
    db.store.upsert_torrent(&metainfo).await.expect("insert");
    assert_eq!(db.store.torrent(magnet.info_hash).await.expect("read"), Some(magnet.clone()));
    assert_eq!(db.store.torrents().await.expect("list"), [magnet.clone(), metainfo.clone()]);

    let renamed = TorrentRow { name: "renamed".into(), ..magnet.clone() };
    db.store.upsert_torrent(&renamed).await.expect("update");
    assert_eq!(
        db.store.torrent(magnet.info_hash).await.expect("read").expect("row").name,
        "renamed"
    );
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
    assert!(db.store.remove_torrent(magnet.info_hash).await.expect("remove"));
    assert!(!db.store.remove_torrent(magnet.info_hash).await.expect("remove twice"));
    assert_eq!(db.store.torrent(magnet.info_hash).await.expect("read"), None);
}

async fn fs_jobs_move_through_their_states(db: &TestDb) {
    let row = torrent(3, TorrentSourceRow::Magnet("magnet:?xt=urn:btih:0303".into()));
    db.store.upsert_torrent(&row).await.expect("insert");
    let new = NewFsJob {
        info_hash: row.info_hash,
        source_path: "/data/downloads/t3".into(),
        trace_id: Some("abc".into()),
    };
    let job = db.store.create_fs_job(&new).await.expect("create");
    assert_eq!(
        (job.status, job.attempts, job.journal.clone()),
        (FsJobStatus::Pending, 0, json!([]))
    );
    assert_eq!(db.store.due_fs_jobs(10).await.expect("due").len(), 1);

    let later = Utc::now() + chrono::Duration::hours(1);
    let failed = db
        .store
        .update_fs_job(
            job.id,
            &FsJobUpdate {
                attempts: Some(1),
                last_error: Some(Some("disk full".into())),
                next_attempt_at: Some(Some(later)),
                journal: Some(json!([{"step": "extract", "outcome": "failed"}])),
                ..FsJobUpdate::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(failed.last_error.as_deref(), Some("disk full"));
    assert!(db.store.due_fs_jobs(10).await.expect("due").is_empty(), "not before its retry time");

    let done = db
        .store
        .update_fs_job(
            job.id,
            &FsJobUpdate {
                status: Some(FsJobStatus::Done),
                destination: Some("/data/library/tv/t3".into()),
                last_error: Some(None),
                next_attempt_at: Some(None),
                ..FsJobUpdate::default()
            },
        )
        .await
        .expect("done");
    assert_eq!(done.status, FsJobStatus::Done);
    assert_eq!(done.last_error, None);
    assert_eq!(done.attempts, 1, "untouched fields keep their values");
    assert_eq!(done.trace_id.as_deref(), Some("abc"));
    assert_eq!(db.store.fs_jobs_for(row.info_hash).await.expect("jobs").len(), 1);
    assert!(matches!(db.store.fs_job(9999).await, Err(StoreError::NotFound { .. })));

    // A job for an unknown torrent is refused by the foreign key.
    let orphan = NewFsJob {
        info_hash: InfoHash::from_bytes([8; 20]),
        source_path: "/x".into(),
        trace_id: None,
    };
    assert!(db.store.create_fs_job(&orphan).await.is_err());
    db.store.remove_torrent(row.info_hash).await.expect("remove");
    assert!(
        db.store.fs_jobs_for(row.info_hash).await.expect("jobs").is_empty(),
        "jobs go with the torrent"
    );
}

on_both_backends!(torrents_keep_their_source, fs_jobs_move_through_their_states);
