//! Share limits enforced by the engine, with real bytes uploaded between
//! two engines on loopback.

mod common;

use common::{FILES, Node, Payload, WAIT, completed, config, wait_event, wait_summary};
use revaer_domain::event::{Removed, ShareLimitReached};
use revaer_domain::share::{Limit, Ratio, ShareAction, ShareLimitKind, ShareLimits};
use revaer_domain::{EngineEvent, TorrentLabels, TorrentState};
use revaer_engine::{AddTorrentOptions, Engine, TorrentSource};

fn reached(event: &EngineEvent) -> Option<ShareLimitReached> {
    match event {
        EngineEvent::ShareLimitReached(reached) => Some(reached.clone()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeder_stops_at_its_ratio_and_stays_stopped_after_a_restart() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "shared", FILES);
    let seed_dir = tempfile::tempdir().expect("tempdir");
    let seeder = Engine::start(config(seed_dir.path())).await.expect("seeder starts");
    let mut seen = seeder.subscribe();
    let limits = ShareLimits {
        ratio: Limit::At(Ratio::new(1.0).expect("ratio")),
        action: Some(ShareAction::Stop),
        ..ShareLimits::default()
    };
    let options = AddTorrentOptions {
        save_path: payload.root.parent().map(std::path::Path::to_path_buf),
        share_limits: limits,
        ..AddTorrentOptions::default()
    };
    seeder.add(TorrentSource::Metainfo(payload.metainfo.clone()), options).await.expect("seed");
    wait_event(&mut seen, "the seeder to check its data", completed(payload.id)).await;
    let seeding =
        wait_summary(&seeder, payload.id, "seeding", |s| s.state == TorrentState::Seeding).await;
    assert_eq!(seeding.share_limits, limits);

    let leecher = Node::start().await;
    let mut events = leecher.engine.subscribe();
    let plain = AddTorrentOptions::default();
    leecher
        .engine
        .add(TorrentSource::Metainfo(payload.metainfo.clone()), plain)
        .await
        .expect("add");
    let port = seeder.listen_port().expect("seeder listens");
    leecher.engine.connect_peer(payload.id, ([127, 0, 0, 1], port).into()).await.expect("connect");
    wait_event(&mut events, "the download", completed(payload.id)).await;

    let event = wait_event(&mut seen, "the ratio limit", |e| reached(e).is_some()).await;
    let reached = reached(&event).expect("share limit event");
    assert_eq!(
        (reached.torrent, reached.limit, reached.action),
        (payload.id, ShareLimitKind::Ratio, ShareAction::Stop)
    );
    let stopped =
        wait_summary(&seeder, payload.id, "stopped", |s| s.state == TorrentState::Paused).await;
    assert!(stopped.ratio >= 0.999, "stopped at its ratio: {}", stopped.ratio);
    assert!(stopped.last_activity_at.is_some(), "it uploaded: {stopped:?}");

    tokio::time::timeout(WAIT, seeder.shutdown()).await.expect("in time").expect("shutdown");
    drop(seeder);
    let again = Engine::start(config(seed_dir.path())).await.expect("seeder restarts");
    let back = wait_summary(&again, payload.id, "restored", |_| true).await;
    assert_eq!(back.share_limits, limits, "the limits survive a restart");
    assert_eq!(back.state, TorrentState::Paused, "and it stays stopped");
    tokio::time::timeout(WAIT, again.shutdown()).await.expect("in time").expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_category_limit_set_while_running_removes_its_seeders_only() {
    let source = tempfile::tempdir().expect("tempdir");
    let kept = Payload::create(source.path(), "kept", FILES);
    let gone = Payload::create(source.path(), "gone", FILES);
    let node = Node::start().await;
    let mut events = node.engine.subscribe();
    for (payload, category) in [(&kept, "keep"), (&gone, "done")] {
        let options = AddTorrentOptions {
            save_path: payload.root.parent().map(std::path::Path::to_path_buf),
            labels: TorrentLabels { category: Some(category.into()), tags: vec![] },
            ..AddTorrentOptions::default()
        };
        let source = TorrentSource::Metainfo(payload.metainfo.clone());
        node.engine.add(source, options).await.expect("seed");
        wait_summary(&node.engine, payload.id, "seeding", |s| s.state == TorrentState::Seeding)
            .await;
    }

    let mut settings = node.engine.settings();
    let now = ShareLimits {
        seeding_time_secs: Limit::At(0),
        action: Some(ShareAction::Remove),
        ..ShareLimits::default()
    };
    settings.share.categories.insert("done".into(), now);
    node.engine.apply_settings(settings).await.expect("apply");

    let event = wait_event(&mut events, "the seeding-time limit", |e| reached(e).is_some()).await;
    let reached = reached(&event).expect("share limit event");
    assert_eq!(
        (reached.torrent, reached.limit, reached.action),
        (gone.id, ShareLimitKind::SeedingTime, ShareAction::Remove)
    );
    wait_event(&mut events, "its removal", |e| {
        matches!(e, EngineEvent::Removed(Removed { torrent, data_deleted: false }) if *torrent == gone.id)
    })
    .await;
    assert!(node.engine.summary(gone.id).is_none());
    assert!(gone.root.join("a.bin").exists(), "its files stay");
    let other = node.engine.summary(kept.id).expect("the other category's torrent stays");
    assert_eq!(other.state, TorrentState::Seeding);
}
