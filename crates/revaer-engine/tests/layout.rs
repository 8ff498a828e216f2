//! Content layouts and seeding without a check, as cross-seed uses them:
//! data already on disk without the torrent's top folder is seeded at
//! once and served to a real peer; a magnet's single file lands in a
//! folder of its own; both keep their layout across a restart; a stopped
//! torrent's recheck runs and leaves it stopped.

mod common;

use std::path::Path;

use common::{FILES, Node, Payload, completed, config, wait_event, wait_summary};
use revaer_domain::{ContentLayout, MagnetUri, TorrentState};
use revaer_engine::metainfo::{self, CreateOptions};
use revaer_engine::{AddTorrentOptions, Engine, TorrentSource};

fn paths(detail: &revaer_domain::TorrentDetail) -> Vec<String> {
    let mut paths: Vec<String> = detail.files.iter().map(|f| f.path.clone()).collect();
    paths.sort();
    paths
}

fn copy_flat(payload: &Payload, to: &Path) {
    for path in payload.paths() {
        let target = to.join(path);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(payload.root.join(path), target).expect("copy");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_without_its_folder_is_seeded_unchecked_served_and_kept_after_a_restart() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create_with(source.path(), "Show", FILES, false);
    let dir = tempfile::tempdir().expect("tempdir");
    let flat = dir.path().join("library");
    copy_flat(&payload, &flat);

    let engine = Engine::start(config(dir.path())).await.expect("engine");
    let options = AddTorrentOptions {
        save_path: Some(flat.clone()),
        content_layout: ContentLayout::NoSubfolder,
        skip_checking: true,
        ..AddTorrentOptions::default()
    };
    engine.add(TorrentSource::Metainfo(payload.metainfo.clone()), options).await.expect("add");
    let seeding = |s: &revaer_domain::TorrentSummary| {
        s.state == TorrentState::Seeding && (s.progress - 1.0).abs() < 1e-9
    };
    wait_summary(&engine, payload.id, "seeding at once", seeding).await;
    let detail = engine.detail(payload.id).await.expect("detail");
    let mut want: Vec<String> = payload.paths().into_iter().map(str::to_owned).collect();
    want.sort();
    assert_eq!(paths(&detail), want, "no top folder");
    assert_eq!(detail.summary.content_path, flat, "the files lie in the save path");

    // A real peer gets the right bytes: they were read where they lie.
    let leecher = Node::start().await;
    let mut events = leecher.engine.subscribe();
    let source = TorrentSource::Metainfo(payload.metainfo.clone());
    leecher.engine.add(source, AddTorrentOptions::default()).await.expect("leecher adds");
    let port = engine.listen_port().expect("listens");
    let seeder = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    leecher.engine.connect_peer(payload.id, seeder).await.expect("connect");
    wait_event(&mut events, "the leecher's completion", completed(payload.id)).await;
    payload.assert_same(&leecher.downloads().join("Show"), &payload.paths());
    drop(leecher.stop().await);

    tokio::time::timeout(common::WAIT, engine.shutdown()).await.expect("in time").expect("stop");
    drop(engine);
    let engine = Engine::start(config(dir.path())).await.expect("restart");
    wait_summary(&engine, payload.id, "seeding after a restart", seeding).await;
    let detail = engine.detail(payload.id).await.expect("restored");
    assert_eq!(paths(&detail), want, "still without the top folder");
    assert!(!flat.join("Show").exists(), "nothing was downloaded again");
    // A stopped torrent's check runs, where the files lie, and leaves it
    // stopped: with one file spoilt, it finds all but that file's pieces.
    engine.pause(payload.id).await.expect("pause");
    std::fs::write(flat.join("a.bin"), vec![0_u8; 700_001]).expect("spoil a file");
    engine.recheck(payload.id).await.expect("recheck");
    let checked = |s: &revaer_domain::TorrentSummary| {
        s.state == TorrentState::Paused && s.progress > 0.5 && s.progress < 0.9
    };
    wait_summary(&engine, payload.id, "a stopped torrent's check", checked).await;
    tokio::time::timeout(common::WAIT, engine.shutdown()).await.expect("in time").expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_magnets_single_file_gets_a_folder_when_its_metadata_arrives() {
    let source = tempfile::tempdir().expect("tempdir");
    let file = source.path().join("movie.2024.mkv");
    std::fs::write(&file, (0..300_001_u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>())
        .expect("payload");
    let options = CreateOptions { piece_size: Some(16 * 1024), v1_only: true, trackers: vec![] };
    let metainfo = metainfo::create(&file, &options).expect("create");
    let id = metainfo::Metainfo::parse(&metainfo).expect("parse").id;
    let payload = Payload { root: file, files: vec![], metainfo, id };
    let seeder = Node::seeding(&payload).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::start(config(dir.path())).await.expect("engine");
    let mut events = engine.subscribe();
    let magnet =
        MagnetUri::parse(&format!("magnet:?xt=urn:btih:{}", payload.id.to_hex())).expect("magnet");
    let options = AddTorrentOptions {
        content_layout: ContentLayout::Subfolder,
        ..AddTorrentOptions::default()
    };
    engine.add(TorrentSource::Magnet(magnet), options).await.expect("add");
    engine.connect_peer(payload.id, seeder.peer()).await.expect("connect");
    wait_event(&mut events, "completion", completed(payload.id)).await;
    let downloads = dir.path().join("downloads");
    let file = downloads.join("movie.2024/movie.2024.mkv");
    let want = std::fs::read(&payload.root).expect("source");
    assert!(std::fs::read(&file).is_ok_and(|got| got == want), "{} holds the file", file.display());
    let detail = engine.detail(payload.id).await.expect("detail");
    assert_eq!(paths(&detail), ["movie.2024/movie.2024.mkv"]);
    assert_eq!(detail.summary.content_path, file);
    drop(seeder.stop().await);

    tokio::time::timeout(common::WAIT, engine.shutdown()).await.expect("in time").expect("stop");
    drop(engine);
    let engine = Engine::start(config(dir.path())).await.expect("restart");
    let done = |s: &revaer_domain::TorrentSummary| (s.progress - 1.0).abs() < 1e-9;
    wait_summary(&engine, payload.id, "complete after a restart", done).await;
    let detail = engine.detail(payload.id).await.expect("restored");
    assert_eq!(paths(&detail), ["movie.2024/movie.2024.mkv"], "the layout survives");
    assert!(!downloads.join("movie.2024.mkv").exists(), "nothing at the metainfo's path");
    tokio::time::timeout(common::WAIT, engine.shutdown()).await.expect("in time").expect("stop");
}
