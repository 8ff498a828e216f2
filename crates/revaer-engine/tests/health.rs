//! Faults surface as typed torrent errors and engine health: a listen
//! address that cannot be bound, a save path that cannot be written, a tracker that fails.

mod common;

use std::net::SocketAddr;

use common::{FILES, Node, Payload, wait_event, wait_summary};
use revaer_domain::{EngineEvent, HealthStatus, TorrentState, TrackerStatus};
use revaer_engine::{AddTorrentOptions, Engine, TorrentSource};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_listen_address_fails_health_until_a_good_one_is_set() {
    // 192.0.2.1 (TEST-NET-1) is never a local address: binding it fails.
    let port = 6999;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = common::config(dir.path());
    config.session.listen = vec![SocketAddr::from(([192, 0, 2, 1], port))];
    let engine = Engine::start(config.clone()).await.expect("starts without listening");
    let health = engine.health();
    assert_eq!(health.status.status, HealthStatus::Failing, "{health:?}");
    assert!(health.status.reason.as_deref().is_some_and(|r| r.contains("192.0.2.1")), "{health:?}");
    assert_eq!(engine.listen_port(), None);

    let mut events = engine.subscribe();
    config.session.listen = vec![SocketAddr::from(([127, 0, 0, 1], 0))];
    engine.apply_settings(config.session).await.expect("apply");
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
    assert!(engine.listen_port().is_some_and(|p| p != port));
    common::shutdown_checked(&engine).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_save_path_is_a_torrent_error_and_degrades_health() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "blocked", FILES);
    let seed = Node::seeding(&payload).await;

    // A regular file where a directory should be: no user, not even root,
    // can create the torrent's folder under it.
    let node = Node::start().await;
    let blocker = node.dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").expect("write");
    let mut events = node.engine.subscribe();
    let options =
        AddTorrentOptions { save_path: Some(blocker.join("sub")), ..AddTorrentOptions::default() };
    node.engine.add(TorrentSource::Metainfo(payload.metainfo.clone()), options).await.expect("add");
    node.engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    let error = wait_event(&mut events, "torrent error", |e| {
        matches!(e, EngineEvent::TorrentError(revaer_domain::event::TorrentError { .. }))
    })
    .await;
    assert!(
        matches!(error, EngineEvent::TorrentError(revaer_domain::event::TorrentError { torrent, .. }) if torrent == payload.id)
    );
    wait_event(&mut events, "degraded", |e| {
        matches!(
            e,
            EngineEvent::Health(revaer_domain::event::EngineHealthChanged {
                status: HealthStatus::Degraded,
                ..
            })
        )
    })
    .await;
    let summary =
        wait_summary(&node.engine, payload.id, "error state", |s| s.state == TorrentState::Error)
            .await;
    let detail = node.engine.detail(payload.id).await.expect("detail");
    assert!(detail.error.is_some(), "{detail:?}");

    // Removing the broken torrent clears the fault.
    node.engine.remove(summary.id, false).await.expect("remove");
    wait_event(&mut events, "recovered", |e| {
        matches!(
            e,
            EngineEvent::Health(revaer_domain::event::EngineHealthChanged {
                status: HealthStatus::Ok,
                ..
            })
        )
    })
    .await;
    node.stop().await;
    seed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_tracker_is_reported() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://127.0.0.1:{}/announce", closed.local_addr().expect("addr").port());
    drop(closed);
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "tracked", FILES);
    let node = Node::start().await;
    let mut events = node.engine.subscribe();
    let options = AddTorrentOptions { trackers: vec![url.clone()], ..AddTorrentOptions::default() };
    node.engine.add(TorrentSource::Metainfo(payload.metainfo.clone()), options).await.expect("add");
    let event = wait_event(&mut events, "tracker error", |e| {
        matches!(e, EngineEvent::TrackerError(revaer_domain::event::TrackerError { .. }))
    })
    .await;
    assert!(
        matches!(event, EngineEvent::TrackerError(revaer_domain::event::TrackerError { url: ref got, .. }) if *got == url),
        "{event:?}"
    );
    let detail = node.engine.detail(payload.id).await.expect("detail");
    let tracker = detail.trackers.iter().find(|t| t.url == url).expect("tracker listed");
    assert_eq!(tracker.status, TrackerStatus::Error, "{tracker:?}");
    assert!(tracker.message.is_some());
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dht_reports_its_node_count_while_it_runs() {
    // The DHT on loopback with no bootstrap nodes: it runs, touches no
    // network, and reports an empty routing table.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = common::config(dir.path());
    assert!(config.session.dht_bootstrap_nodes.is_empty());
    config.session.dht = true;
    let engine = Engine::start(config.clone()).await.expect("engine");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while engine.health().dht_nodes.is_none() {
        assert!(std::time::Instant::now() < deadline, "a DHT report in time");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Switched off: no count.
    config.session.dht = false;
    engine.apply_settings(config.session).await.expect("apply");
    assert_eq!(engine.health().dht_nodes, None);
    // Nor later, from a report that was already queued.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(engine.health().dht_nodes, None);
    common::shutdown_checked(&engine).await;
}
