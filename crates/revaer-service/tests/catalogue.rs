//! The torrent catalogue on both backends: brought in line with a real
//! engine at start, then kept from the bus's events by its one writer,
//! never touching rows another daemon holds.

use chrono::Utc;
use revaer_domain::event::{Completed, MetadataReceived, Removed, StorageMoved, TorrentAdded};
use revaer_domain::{Event, InfoHash, MagnetUri, StreamEvent, TorrentLabels};
use revaer_engine::{AddTorrentOptions, Engine, EngineConfig, SessionConfig, TorrentSource};
use revaer_service::catalogue::Catalogue;
use revaer_store::testing::TestDb;
use revaer_store::{NewFsJob, TorrentRow, TorrentSourceRow};

const ME: &str = "host:aaaa";
const OTHER: &str = "host:bbbb";

fn id(byte: u8) -> InfoHash {
    InfoHash::from_bytes([byte; 20])
}

fn envelope(event: Event, trace_id: Option<&str>) -> StreamEvent {
    StreamEvent {
        id: 1,
        ts: Utc::now(),
        torrent: event.torrent(),
        trace_id: trace_id.map(str::to_owned),
        event,
    }
}

fn row(byte: u8, instance: &str) -> TorrentRow {
    TorrentRow {
        info_hash: id(byte),
        name: format!("t{byte}"),
        category: None,
        tags: Vec::new(),
        save_path: "/srv".into(),
        source: TorrentSourceRow::Magnet(format!("magnet:?xt=urn:btih:{}", id(byte).to_hex())),
        added_at: Utc::now(),
        completed_at: None,
        trace_id: None,
        instance: Some(instance.into()),
    }
}

async fn the_catalogue_follows_the_engine_and_its_events(db: &TestDb) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = EngineConfig::new(
        dir.path().join("resume"),
        SessionConfig::loopback(dir.path().join("downloads")),
    );
    let engine = Engine::start(config).await.expect("engine");
    let magnet = MagnetUri::parse(&format!("magnet:?xt=urn:btih:{}&dn=held", id(1).to_hex()))
        .expect("magnet");
    let options = AddTorrentOptions {
        paused: true,
        labels: TorrentLabels { category: Some("tv".into()), tags: vec!["hd".into()] },
        ..AddTorrentOptions::default()
    };
    engine.add(TorrentSource::Magnet(magnet), options).await.expect("add");
    // Rows from before: one this daemon no longer holds, one another holds.
    db.store.upsert_torrent(&row(2, ME)).await.expect("row");
    db.store.upsert_torrent(&row(3, OTHER)).await.expect("row");
    let catalogue = Catalogue::new(db.store.clone(), ME);
    catalogue.reconcile(&engine).await.expect("reconcile");
    let held = db.store.torrent(id(1)).await.expect("read").expect("a row for what it holds");
    assert_eq!((held.name.as_str(), held.instance.as_deref()), ("held", Some(ME)));
    assert_eq!(
        (held.category.as_deref(), held.tags.as_slice()),
        (Some("tv"), ["hd".to_owned()].as_slice())
    );
    assert!(
        matches!(&held.source, TorrentSourceRow::Magnet(link) if link.contains(&id(1).to_hex())),
        "a link that finds it again: {:?}",
        held.source
    );
    assert!(db.store.torrent(id(2)).await.expect("read").is_none(), "no longer held: gone");
    assert!(db.store.torrent(id(3)).await.expect("read").is_some(), "another daemon's: kept");

    // Events: added (with the add's trace), named, moved, completed.
    let added = TorrentAdded {
        torrent: id(4),
        name: id(4).to_hex(),
        labels: TorrentLabels::default(),
        save_path: "/srv/downloads".into(),
        added_at: Some(Utc::now()),
        restored: false,
    };
    catalogue
        .apply(&envelope(Event::TorrentAdded(added.clone()), Some("trace-4")))
        .await
        .expect("added");
    let named = MetadataReceived { torrent: id(4), name: "Film".into(), files: Vec::new() };
    catalogue.apply(&envelope(Event::MetadataReceived(named), None)).await.expect("named");
    let moved = StorageMoved { torrent: id(4), save_path: "/srv/library".into() };
    catalogue.apply(&envelope(Event::StorageMoved(moved), None)).await.expect("moved");
    let done =
        Completed { torrent: id(4), name: "Film".into(), content_path: "/srv/library/Film".into() };
    catalogue.apply(&envelope(Event::Completed(done), None)).await.expect("completed");
    // A restore later keeps the first add's trace and the completion.
    let restored = TorrentAdded {
        restored: true,
        name: "Film".into(),
        save_path: "/srv/library".into(),
        ..added
    };
    catalogue.apply(&envelope(Event::TorrentAdded(restored), None)).await.expect("restored");
    let film = db.store.torrent(id(4)).await.expect("read").expect("catalogued");
    assert_eq!((film.name.as_str(), film.save_path.as_str()), ("Film", "/srv/library"));
    assert_eq!(film.trace_id.as_deref(), Some("trace-4"));
    assert!(film.completed_at.is_some());

    // Removals: this daemon's row and its jobs go; another daemon's stays.
    let job =
        NewFsJob { info_hash: id(4), source_path: "/srv/library/Film".into(), trace_id: None };
    db.store.create_fs_job(&job).await.expect("job").expect("new");
    for torrent in [id(4), id(3)] {
        let removed = Removed { torrent, data_deleted: false };
        catalogue.apply(&envelope(Event::Removed(removed), None)).await.expect("removed");
    }
    assert!(db.store.torrent(id(4)).await.expect("read").is_none());
    assert!(db.store.fs_jobs_for(id(4)).await.expect("jobs").is_empty());
    assert!(db.store.torrent(id(3)).await.expect("read").is_some(), "held by another daemon");
    // Events about torrents it has no row for change nothing.
    let stray = MetadataReceived { torrent: id(9), name: "x".into(), files: Vec::new() };
    catalogue.apply(&envelope(Event::MetadataReceived(stray), None)).await.expect("ignored");
    let stray = Completed { torrent: id(9), name: "x".into(), content_path: "/x".into() };
    catalogue.apply(&envelope(Event::Completed(stray), None)).await.expect("ignored");
    assert!(db.store.torrent(id(9)).await.expect("read").is_none());
    engine.shutdown().await.expect("engine stops");
}

mod the_catalogue_follows_the_engine_and_its_events {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let db = super::TestDb::sqlite().await;
        super::the_catalogue_follows_the_engine_and_its_events(&db).await;
        db.store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let db = super::TestDb::postgres().await;
        super::the_catalogue_follows_the_engine_and_its_events(&db).await;
        db.store.close().await;
    }
}
