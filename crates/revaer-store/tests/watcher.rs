//! The settings watcher: local delivery, delivery across instances, and on
//! PostgreSQL, delivery through NOTIFY after the listener's connection is
//! killed.

mod common;

use std::time::Duration;

use common::{TestDb, WAIT};
use revaer_domain::HealthStatus;
use revaer_domain::settings::Changeset;
use revaer_store::{ChangeContext, SettingsUpdate, Store, StoreConfig};
use serde_json::json;
use sqlx::Connection;
use tokio::sync::broadcast;

fn port(port: u16) -> Changeset {
    serde_json::from_value(json!({"app_profile": {"http_port": port}})).expect("changeset")
}

async fn next(updates: &mut broadcast::Receiver<SettingsUpdate>, what: &str) -> SettingsUpdate {
    tokio::time::timeout(WAIT, updates.recv())
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .expect("watcher channel open")
}

/// Waits (bounded) until `check` holds for the store's watcher status.
async fn until(store: &Store, what: &str, check: impl Fn(&revaer_store::WatcherStatus) -> bool) {
    tokio::time::timeout(WAIT, async {
        while !check(&store.watcher_status()) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", store.watcher_status()));
}

async fn local_changes_arrive_in_order(db: &TestDb) {
    let mut updates = db.store.subscribe();
    for value in [8001, 8002, 8003] {
        db.store.apply_changeset(&port(value), &ChangeContext::new("t")).await.expect("apply");
    }
    for (revision, value) in [(1, 8001), (2, 8002), (3, 8003)] {
        let update = next(&mut updates, "local change").await;
        assert_eq!(update.revision, revision);
        assert_eq!(update.snapshot.settings.app_profile.http_port, value);
        assert!(update.latency < WAIT);
    }
    let status = db.store.watcher_status();
    assert_eq!((status.last_revision, status.deliveries), (3, 3));
    assert!(status.last_latency.is_some());
}

async fn changes_from_another_instance_arrive(db: &TestDb) {
    let other = db.another().await;
    let mut updates = other.subscribe();
    db.store.apply_changeset(&port(9001), &ChangeContext::new("a")).await.expect("apply");
    let update = next(&mut updates, "change from the other instance").await;
    assert_eq!(update.revision, 1);
    assert_eq!(update.snapshot.settings.app_profile.http_port, 9001);
    other.close().await;
}

on_both_backends!(local_changes_arrive_in_order, changes_from_another_instance_arrive);

/// With polling effectively off, only NOTIFY (and the catch-up poll after a
/// reconnect) can deliver: kill the listener's connection, change the
/// settings while it is down, and the change must still arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_listener_survives_pg_terminate_backend() {
    let db = TestDb::postgres().await;
    let config = StoreConfig { poll_interval: Duration::from_hours(1), ..db.config.clone() };
    let listener = Store::connect(&config).await.expect("listening instance");
    let mut updates = listener.subscribe();

    db.store.apply_changeset(&port(7001), &ChangeContext::new("a")).await.expect("apply");
    assert_eq!(next(&mut updates, "notified change").await.revision, 1);

    let database = config.url.rsplit('/').next().expect("db name").to_owned();
    let mut admin =
        sqlx::postgres::PgConnection::connect(&common::admin_url()).await.expect("admin");
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'revaer-watcher' AND datname = $1",
    )
    .bind(&database)
    .fetch_all(&mut admin)
    .await
    .expect("terminate listeners");
    assert!(!killed.is_empty(), "found the listener connections");
    db.store
        .apply_changeset(&port(7002), &ChangeContext::new("a"))
        .await
        .expect("apply while down");

    let update = next(&mut updates, "change made while the listener was down").await;
    assert_eq!(update.revision, 2);
    assert_eq!(update.snapshot.settings.app_profile.http_port, 7002);
    until(&listener, "the lost connection to be counted", |status| status.failures >= 1).await;
    until(&listener, "recovery", |status| status.health.status == HealthStatus::Ok).await;

    // And notifications flow again on the new connection.
    db.store.apply_changeset(&port(7003), &ChangeContext::new("a")).await.expect("apply after");
    assert_eq!(next(&mut updates, "change after reconnecting").await.revision, 3);
    listener.close().await;
    admin.close().await.ok();
}
