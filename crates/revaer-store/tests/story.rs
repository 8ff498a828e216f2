//! One story, told on both backends: a fresh install is set up, configured,
//! gets keys and torrents, post-processes one, and a second instance sees
//! all of it.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::{TestDb, WAIT};
use revaer_domain::settings::{AppMode, Changeset, TransferMode};
use revaer_domain::{InfoHash, Scope, Scopes};
use revaer_store::{
    ChangeContext, FsJobStatus, FsJobUpdate, NewApiKey, NewFsJob, TorrentRow, TorrentSourceRow,
};
use serde_json::json;

fn new_key(label: &str, scopes: Scopes) -> NewApiKey {
    NewApiKey { label: label.into(), rate_limit: None, expires_at: None, scopes, issued_by: None }
}

async fn full_story(db: &TestDb) {
    let store = &db.store;
    let mut updates = store.subscribe();

    // Fresh: setup mode, one token.
    assert_eq!(store.settings().await.expect("read").settings.app_profile.mode, AppMode::Setup);
    let token = store.issue_setup_token(Duration::from_mins(15)).await.expect("token");
    let initial: Changeset = serde_json::from_value(json!({
        "fs_policy": {"transfer_mode": "copy"},
        "categories": {"movies": {"library_path": "Movies/{name} ({year})"}}
    }))
    .expect("changeset");
    let admin = new_key("admin", Scopes::ADMIN);
    let (snapshot, key) = store
        .complete_setup(token.expose(), &initial, &admin, &ChangeContext::new("setup"))
        .await
        .expect("setup");
    assert_eq!(snapshot.revision, 1);
    assert_eq!(snapshot.settings.fs_policy.transfer_mode, TransferMode::Copy);
    let update =
        tokio::time::timeout(WAIT, updates.recv()).await.expect("in time").expect("delivered");
    assert_eq!(update.revision, 1);

    // Operate: a key for an automation tool, a torrent, a job.
    let verified =
        store.verify_api_key(key.token.expose()).await.expect("verify").expect("admin key");
    let control = Scopes::of(&[Scope::Control]);
    let sonarr = store.issue_api_key(&new_key("sonarr", control)).await.expect("issue");
    let change: Changeset =
        serde_json::from_value(json!({"engine_profile": {"upload_limit_bps": 500_000}}))
            .expect("cs");
    let context = ChangeContext::new(verified.key_id.clone()).because("evening").if_revision(1);
    assert_eq!(store.apply_changeset(&change, &context).await.expect("apply").revision, 2);
    let id = InfoHash::from_bytes([0xab; 20]);
    let torrent = TorrentRow {
        info_hash: id,
        name: "Film".into(),
        category: Some("movies".into()),
        tags: vec!["4k".into()],
        save_path: "downloads".into(),
        source: TorrentSourceRow::Magnet(format!("magnet:?xt=urn:btih:{id}")),
        // Times are kept to the millisecond.
        added_at: chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis())
            .expect("now"),
        completed_at: None,
        trace_id: None,
        instance: Some("story".into()),
    };
    store.upsert_torrent(&torrent).await.expect("torrent");
    let job = store
        .create_fs_job(&NewFsJob {
            info_hash: id,
            source_path: "downloads/Film".into(),
            trace_id: None,
        })
        .await
        .expect("job")
        .expect("new");
    let done = FsJobUpdate {
        status: Some(FsJobStatus::Done),
        destination: Some("library/Movies/Film".into()),
        ..FsJobUpdate::default()
    };
    let claimed =
        store.claim_fs_job("runner", Duration::from_mins(1)).await.expect("claim").expect("due");
    assert_eq!(claimed.id, job.id);
    store.update_fs_job(job.id, "runner", &done).await.expect("job done");

    // A second instance on the same database sees everything.
    let other = db.another().await;
    let seen = other.settings().await.expect("read");
    assert_eq!((seen.revision, seen.settings.engine_profile.upload_limit_bps), (2, Some(500_000)));
    assert_eq!(other.list_api_keys().await.expect("keys").len(), 2);
    let seen = other.verify_api_key(sonarr.token.expose()).await.expect("verify");
    assert_eq!(seen.map(|k| k.scopes), Some(control), "scopes are stored with the key");
    assert_eq!(other.torrents().await.expect("torrents"), [torrent]);
    assert_eq!(other.fs_jobs_for(id).await.expect("jobs")[0].status, FsJobStatus::Done);
    let history = other.settings_history(10).await.expect("history");
    assert_eq!(
        history.iter().map(|h| h.actor.as_str()).collect::<Vec<_>>(),
        [verified.key_id.as_str(), "setup"]
    );
    other.close().await;
}

on_both_backends!(full_story);
