//! Settings on both backends: defaults, changesets, validation, immutable
//! keys, stale revisions, history, concurrency and re-running migrations.

mod common;

use common::TestDb;
use revaer_domain::settings::{Changeset, Settings};
use revaer_store::{ChangeContext, StoreError};
use serde_json::json;

fn changeset(value: serde_json::Value) -> Changeset {
    serde_json::from_value(value).expect("changeset")
}

fn pointers(err: StoreError) -> Vec<String> {
    match err {
        StoreError::InvalidSettings(revaer_domain::settings::ChangesetError::Invalid {
            violations,
        }) => violations.into_iter().map(|v| v.pointer).collect(),
        other => panic!("expected invalid settings, got {other:?}"),
    }
}

async fn defaults_on_a_fresh_database(db: &TestDb) {
    let snapshot = db.store.settings().await.expect("snapshot");
    assert_eq!(snapshot.revision, 0);
    assert_eq!(snapshot.settings, Settings::default());
    assert!(db.store.settings_history(10).await.expect("history").is_empty());
    assert_eq!(db.store.watcher_status().health.status, revaer_domain::HealthStatus::Ok);
    assert!(db.store.ping().await.is_ok());
}

async fn a_change_is_one_revision_with_history(db: &TestDb) {
    let context = ChangeContext::new("alice").because("quieter");
    let change = changeset(json!({
        "engine_profile": {"dht": false, "download_limit_bps": 1_000_000},
        "categories": {"tv": {"library_path": "TV/{name}"}}
    }));
    let snapshot = db.store.apply_changeset(&change, &context).await.expect("apply");
    assert_eq!(snapshot.revision, 1);
    assert!(!snapshot.settings.engine_profile.dht);
    let read = db.store.settings().await.expect("read back");
    assert_eq!(read, snapshot);
    let history = db.store.settings_history(10).await.expect("history");
    assert_eq!(history.len(), 1);
    let entry = &history[0];
    assert_eq!(
        (entry.revision, entry.actor.as_str(), entry.reason.as_deref()),
        (1, "alice", Some("quieter"))
    );
    assert_eq!(entry.old["engine_profile"]["dht"], json!(true));
    assert_eq!(entry.new["engine_profile"]["dht"], json!(false));
    assert_eq!(entry.new["categories"]["tv"]["library_path"], json!("TV/{name}"));
    assert!(entry.old.get("fs_policy").is_none(), "only changed documents are recorded");

    // A changeset that changes nothing makes no revision.
    let same =
        db.store.apply_changeset(&change, &ChangeContext::new("alice")).await.expect("no-op");
    assert_eq!(same.revision, 1);
    assert_eq!(db.store.settings_history(10).await.expect("history").len(), 1);
    // Removing a category and clearing a cap.
    let cleared = db
        .store
        .apply_changeset(
            &changeset(
                json!({"categories": {"tv": null}, "engine_profile": {"download_limit_bps": null}}),
            ),
            &ChangeContext::new("bob"),
        )
        .await
        .expect("clear");
    assert_eq!(cleared.revision, 2);
    assert!(cleared.settings.categories.0.is_empty());
    assert_eq!(cleared.settings.engine_profile.download_limit_bps, None);
}

async fn every_violation_is_reported_and_nothing_written(db: &TestDb) {
    let err = db
        .store
        .apply_changeset(
            &changeset(json!({
                "app_profile": {"instance_name": "", "http_port": 0},
                "engine_profile": {"connections_limit": 0},
                "fs_policy": {"chmod_file": "999", "cleanup_drop": ["ok/**", "a["]},
                "categories": {"tv": {"library_path": "/etc/{name}"}}
            })),
            &ChangeContext::new("mallory"),
        )
        .await
        .expect_err("invalid");
    assert_eq!(
        pointers(err),
        [
            "/app_profile/instance_name",
            "/app_profile/http_port",
            "/engine_profile/connections_limit",
            "/fs_policy/chmod_file",
            "/fs_policy/cleanup_drop/1",
            "/categories/tv/library_path",
        ]
    );
    let unknown = db
        .store
        .apply_changeset(
            &changeset(json!({"engine_profile": {"dth": true}})),
            &ChangeContext::new("m"),
        )
        .await
        .expect_err("unknown field");
    assert_eq!(pointers(unknown), ["/engine_profile/dth"]);
    assert_eq!(db.store.settings().await.expect("read").revision, 0, "nothing committed");
    assert!(db.store.settings_history(10).await.expect("history").is_empty());
}

async fn immutable_keys_cannot_be_changed_or_unlocked(db: &TestDb) {
    let lock = changeset(
        json!({"app_profile": {"immutable_keys": ["/engine_profile/listen_port", "/fs_policy"]}}),
    );
    db.store.apply_changeset(&lock, &ChangeContext::new("ops")).await.expect("lock");
    let attempts = [
        (json!({"engine_profile": {"listen_port": 7000}}), vec!["/engine_profile/listen_port"]),
        (json!({"fs_policy": {"checksum": true}}), vec!["/fs_policy"]),
        (
            json!({"app_profile": {"immutable_keys": []}, "engine_profile": {"listen_port": 7000}}),
            vec!["/app_profile/immutable_keys", "/engine_profile/listen_port"],
        ),
        (
            json!({"app_profile": {"immutable_keys": ["/fs_policy"]}}),
            vec!["/app_profile/immutable_keys"],
        ),
    ];
    for (attempt, expected) in attempts {
        let err = db
            .store
            .apply_changeset(&changeset(attempt), &ChangeContext::new("x"))
            .await
            .expect_err("locked");
        assert_eq!(pointers(err), expected);
    }
    let free = changeset(json!({"engine_profile": {"dht": false}}));
    let applied = db.store.apply_changeset(&free, &ChangeContext::new("x")).await;
    assert_eq!(applied.expect("other keys change").revision, 2);
    // The host-side way back lifts them all, as one recorded revision.
    let mut updates = db.store.subscribe();
    let host = ChangeContext::new("revaerd unlock-settings").because("host");
    let lifted = db.store.lift_immutable_keys(&host).await.expect("lift");
    assert_eq!(lifted, ["/engine_profile/listen_port", "/fs_policy"]);
    let update = tokio::time::timeout(common::WAIT, updates.recv()).await.expect("in time");
    assert_eq!(update.expect("delivered").revision, 3, "running daemons hear of it");
    let history = db.store.settings_history(1).await.expect("history");
    assert_eq!((history[0].revision, history[0].actor.as_str()), (3, "revaerd unlock-settings"));
    let port = changeset(json!({"engine_profile": {"listen_port": 7000}}));
    db.store.apply_changeset(&port, &ChangeContext::new("x")).await.expect("changes again");
    assert!(db.store.lift_immutable_keys(&host).await.expect("again").is_empty(), "nothing left");
}

async fn a_stale_revision_is_refused(db: &TestDb) {
    let base = db.store.settings().await.expect("read").revision;
    let first = changeset(json!({"engine_profile": {"pex": false}}));
    let second = changeset(json!({"engine_profile": {"lsd": false}}));
    db.store
        .apply_changeset(&first, &ChangeContext::new("a").if_revision(base))
        .await
        .expect("first");
    let err = db.store.apply_changeset(&second, &ChangeContext::new("b").if_revision(base)).await;
    assert!(
        matches!(err, Err(StoreError::StaleRevision { expected, current }) if expected == base && current == base + 1),
        "{err:?}"
    );
    let snapshot = db.store.settings().await.expect("read");
    assert!(snapshot.settings.engine_profile.lsd, "the stale change was not applied");
}

async fn concurrent_changes_are_serialised(db: &TestDb) {
    let mut tasks = Vec::new();
    for port in 0..8_u16 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let change = changeset(json!({"app_profile": {"http_port": 8000 + port}}));
            store.apply_changeset(&change, &ChangeContext::new(format!("writer-{port}"))).await
        }));
    }
    let mut revisions = Vec::new();
    for task in tasks {
        revisions.push(task.await.expect("join").expect("apply").revision);
    }
    revisions.sort_unstable();
    assert_eq!(revisions, (1..=8).collect::<Vec<i64>>());
    let history = db.store.settings_history(100).await.expect("history");
    assert_eq!(history.len(), 8);
    let last = db.store.settings().await.expect("read");
    assert_eq!(last.revision, 8);
    assert_eq!(
        history[0].new["app_profile"]["http_port"],
        json!(last.settings.app_profile.http_port)
    );
}

async fn migrations_rerun_on_an_existing_database(db: &TestDb) {
    let change = changeset(json!({"app_profile": {"instance_name": "kept"}}));
    db.store.apply_changeset(&change, &ChangeContext::new("a")).await.expect("apply");
    let again = db.another().await;
    let snapshot = again.settings().await.expect("read through a fresh connect");
    assert_eq!(snapshot.settings.app_profile.instance_name, "kept");
    assert_eq!(snapshot.revision, 1);
    again.close().await;
}

on_both_backends!(
    defaults_on_a_fresh_database,
    a_change_is_one_revision_with_history,
    every_violation_is_reported_and_nothing_written,
    immutable_keys_cannot_be_changed_or_unlocked,
    a_stale_revision_is_refused,
    concurrent_changes_are_serialised,
    migrations_rerun_on_an_existing_database,
);
