//! The download queue: with one download slot, torrents wait their turn;
//! moving one to the front gives it the slot, and a force-started one runs
//! outside the queue, also after a restart.

mod common;

use common::{WAIT, config, wait_summary};
use revaer_domain::{InfoHash, MagnetUri, TorrentState};
use revaer_engine::{AddTorrentOptions, Engine, EngineConfig, QueueMove, TorrentSource};

fn one_slot(dir: &std::path::Path) -> EngineConfig {
    let mut config = config(dir);
    config.session.active_downloads = Some(1);
    config.session.active_limit = Some(10);
    config
}

/// Magnets nobody seeds: they stay in the queue, waiting for metadata.
async fn add_magnets(engine: &Engine, count: u8) -> Vec<InfoHash> {
    let mut ids = Vec::new();
    for n in 0..count {
        let hex = format!("{:02x}", n + 1).repeat(20);
        let magnet = MagnetUri::parse(&format!("magnet:?xt=urn:btih:{hex}")).expect("magnet");
        let added = engine.add(TorrentSource::Magnet(magnet), AddTorrentOptions::default()).await;
        ids.push(added.expect("add").summary().id);
    }
    ids
}

fn running(state: TorrentState) -> bool {
    state == TorrentState::Metadata
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_of_the_queue_runs_and_a_forced_torrent_runs_anyway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::start(one_slot(dir.path())).await.expect("engine");
    let ids = add_magnets(&engine, 3).await;
    for (at, id) in ids.iter().enumerate() {
        let place = u32::try_from(at).expect("small");
        let want = if at == 0 { TorrentState::Metadata } else { TorrentState::Queued };
        wait_summary(&engine, *id, "its place", |s| {
            s.queue_position == Some(place) && s.state == want
        })
        .await;
    }

    engine.queue(ids[2], QueueMove::Top).await.expect("to the top");
    wait_summary(&engine, ids[2], "the slot", |s| s.queue_position == Some(0) && running(s.state))
        .await;
    wait_summary(&engine, ids[0], "waiting", |s| s.state == TorrentState::Queued).await;
    engine.queue(ids[0], QueueMove::Down).await.expect("one down");
    wait_summary(&engine, ids[0], "last", |s| s.queue_position == Some(2)).await;
    engine.queue(ids[0], QueueMove::Up).await.expect("one up");
    wait_summary(&engine, ids[0], "second again", |s| s.queue_position == Some(1)).await;

    engine.set_force_start(ids[1], true).await.expect("force");
    let forced = wait_summary(&engine, ids[1], "forced", |s| running(s.state)).await;
    assert!(forced.force_start);
    assert!(running(engine.summary(ids[2]).expect("front").state), "the front keeps its slot");

    tokio::time::timeout(WAIT, engine.shutdown()).await.expect("in time").expect("shutdown");
    drop(engine);
    let engine = Engine::start(one_slot(dir.path())).await.expect("engine restarts");
    let back = wait_summary(&engine, ids[1], "restored forced", |s| running(s.state)).await;
    assert!(back.force_start, "force-start survives a restart");
    for (id, place) in [(ids[2], 0), (ids[0], 1), (ids[1], 2)] {
        wait_summary(&engine, id, "the same place", |s| s.queue_position == Some(place)).await;
    }
    engine.set_force_start(ids[1], false).await.expect("back to the queue");
    let queued = wait_summary(&engine, ids[1], "unforced", |s| !s.force_start).await;
    assert!(!queued.force_start);
    engine.pause(ids[0]).await.expect("pause");
    assert!(!engine.summary(ids[0]).expect("paused").force_start);
    tokio::time::timeout(WAIT, engine.shutdown()).await.expect("in time").expect("shutdown");
}
