//! Trackers as a user sees them, through a real tracker (opentracker) on
//! loopback: the leecher finds its seeder only through the tracker.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{FILES, Node, Payload, Tracker, WAIT, completed, wait_event};
use revaer_domain::{InfoHash, TrackerEntry, TrackerStatus};
use revaer_engine::{AddTorrentOptions, Engine, EngineConfig, TorrentSource};

/// Listens on `127.0.0.1` and `::1`, as a default daemon listens on both
/// address families: libtorrent then announces once per endpoint, and the
/// IPv6 one cannot reach an IPv4 tracker.
fn dual_stack(config: &mut EngineConfig) {
    config.session.listen =
        vec![SocketAddr::from(([127, 0, 0, 1], 0)), "[::1]:0".parse().expect("address")];
}

async fn wait_tracker(engine: &Engine, id: InfoHash, what: &str) -> TrackerEntry {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(detail) = engine.detail(id).await
                && let Some(tracker) =
                    detail.trackers.into_iter().find(|t| t.status == TrackerStatus::Working)
            {
                return tracker;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let last = engine.detail(id).await.map(|d| d.trackers);
    found.unwrap_or_else(|_| panic!("timed out waiting for {what}: {last:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracker_that_answers_is_working_even_where_one_endpoint_cannot_reach_it() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create_with(source.path(), "tracked", FILES, true);
    let tracker = Tracker::start(&[payload.id]).await;
    let options = |save: Option<std::path::PathBuf>| AddTorrentOptions {
        save_path: save,
        trackers: vec![tracker.url.clone()],
        ..AddTorrentOptions::default()
    };

    let seeder = Node::start_with(dual_stack).await;
    let save = payload.root.parent().map(std::path::Path::to_path_buf);
    seeder
        .engine
        .add(TorrentSource::Metainfo(payload.metainfo.clone()), options(save))
        .await
        .expect("seed");
    // The seeder must have announced before the leecher does.
    let seen = wait_tracker(&seeder.engine, payload.id, "the seeder's announce").await;
    assert_eq!(seen.message, None, "{seen:?}");

    let leecher = Node::start_with(dual_stack).await;
    let mut events = leecher.engine.subscribe();
    leecher
        .engine
        .add(TorrentSource::Metainfo(payload.metainfo.clone()), options(None))
        .await
        .expect("leech");
    wait_event(&mut events, "the download found through the tracker", completed(payload.id)).await;
    payload.assert_same(&leecher.downloads().join("tracked"), &payload.paths());
    let working = wait_tracker(&leecher.engine, payload.id, "the leecher's announce").await;
    assert_eq!(working.url, tracker.url);
    assert!(working.seeds.is_some_and(|seeds| seeds >= 1), "the seeder counted: {working:?}");
    assert_eq!(working.message, None, "no other endpoint's message: {working:?}");
}
