//! Rechecks of stopped torrents, as libtorrent's flags make them tricky: a
//! magnet still without metadata has nothing to check and stays stopped;
//! a start during a stopped torrent's check is a start (the stop asked for
//! once the check is done no longer holds).

mod common;

use std::time::{Duration, Instant};

use common::{Payload, config, wait_summary};
use revaer_domain::{InfoHash, MagnetUri, TorrentState, TorrentSummary};
use revaer_engine::{AddTorrentOptions, Engine, TorrentSource};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_magnet_without_metadata_stays_stopped_through_a_recheck() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::start(config(dir.path())).await.expect("engine");
    let id = InfoHash::from_bytes([7; 20]);
    let magnet = MagnetUri::parse(&format!("magnet:?xt=urn:btih:{}", id.to_hex())).expect("magnet");
    let options = AddTorrentOptions { paused: true, ..AddTorrentOptions::default() };
    engine.add(TorrentSource::Magnet(magnet), options).await.expect("add");
    let paused = |s: &TorrentSummary| s.state == TorrentState::Paused;
    wait_summary(&engine, id, "paused", paused).await;
    engine.recheck(id).await.expect("recheck");
    // Long enough for the status cadence to show a resumed torrent.
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        let state = engine.summary(id).map(|s| s.state);
        assert_eq!(state, Some(TorrentState::Paused), "a recheck does not start a magnet");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::timeout(common::WAIT, engine.shutdown()).await.expect("in time").expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_during_a_stopped_torrents_check_leaves_it_running() {
    let source = tempfile::tempdir().expect("tempdir");
    // Large enough that the check is still running when the start comes.
    let payload = Payload::create_with(source.path(), "Big", &[("big.bin", 96 << 20)], true);
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::start(config(dir.path())).await.expect("engine");
    let options = AddTorrentOptions {
        save_path: Some(source.path().to_path_buf()),
        paused: true,
        ..AddTorrentOptions::default()
    };
    engine.add(TorrentSource::Metainfo(payload.metainfo.clone()), options).await.expect("add");
    let paused = |s: &TorrentSummary| s.state == TorrentState::Paused;
    wait_summary(&engine, payload.id, "paused", paused).await;
    engine.recheck(payload.id).await.expect("recheck");
    engine.resume(payload.id).await.expect("resume");
    let seeding =
        |s: &TorrentSummary| s.state == TorrentState::Seeding && (s.progress - 1.0).abs() < 1e-9;
    wait_summary(&engine, payload.id, "seeding once checked", seeding).await;
    // And it stays so (the check's stop, had it held, comes right after).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let state = engine.summary(payload.id).map(|s| s.state);
    assert_eq!(state, Some(TorrentState::Seeding));
    tokio::time::timeout(common::WAIT, engine.shutdown()).await.expect("in time").expect("stop");
}
