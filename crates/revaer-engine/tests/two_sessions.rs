//! Real transfers between two engines on 127.0.0.1: every test seeds a
//! generated payload from one libtorrent session and fetches it with
//! another, then compares bytes.

mod common;

use common::{FILES, Node, Payload, WAIT, completed, wait_event, wait_summary};
use revaer_domain::{EngineEvent, MagnetUri, SelectionRules, TorrentState};
use revaer_engine::metainfo::CreateOptions;
use revaer_engine::{AddTorrentOptions, EngineError, TorrentSource};

fn metainfo(payload: &Payload) -> TorrentSource {
    TorrentSource::Metainfo(payload.metainfo.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torrent_file_add_transfers_every_byte() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "multi", FILES);
    let seed = Node::seeding(&payload).await;
    let leech = Node::start().await;
    let mut events = leech.engine.subscribe();

    let added =
        leech.engine.add(metainfo(&payload), AddTorrentOptions::default()).await.expect("add");
    assert_eq!(added.summary().id, payload.id);
    assert_eq!(added.summary().name, "multi");
    leech.engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    let done = wait_event(&mut events, "download to complete", completed(payload.id)).await;
    let EngineEvent::Completed(revaer_domain::event::Completed { content_path, .. }) = done else {
        unreachable!()
    };
    assert_eq!(content_path, leech.downloads().join("multi"));
    payload.assert_same(&content_path, &payload.paths());

    let summary =
        wait_summary(&leech.engine, payload.id, "seeding", |s| s.state == TorrentState::Seeding)
            .await;
    assert_eq!(summary.bytes_done, payload.total());
    assert!((summary.progress - 1.0).abs() < f64::EPSILON);
    assert!(summary.completed_at.is_some());

    let detail = leech.engine.detail(payload.id).await.expect("detail");
    assert_eq!(detail.files.len(), FILES.len());
    assert!(detail.files.iter().all(|file| file.bytes_done == file.size));
    assert_eq!(detail.summary.content_path, content_path);

    // Adding it again changes nothing and says so.
    let again =
        leech.engine.add(metainfo(&payload), AddTorrentOptions::default()).await.expect("re-add");
    assert!(again.is_duplicate());
    assert_eq!(leech.engine.list().len(), 1);
    leech.stop().await;
    seed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn magnet_add_fetches_metadata_from_the_peer() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "via-magnet", FILES);
    let seed = Node::seeding(&payload).await;
    let leech = Node::start().await;
    let mut events = leech.engine.subscribe();

    let magnet = MagnetUri::parse(&format!("magnet:?xt=urn:btih:{}&dn=pending", payload.id))
        .expect("magnet");
    let added = leech
        .engine
        .add(TorrentSource::Magnet(magnet), AddTorrentOptions::default())
        .await
        .expect("add");
    assert_eq!(added.summary().name, "pending");
    let before = leech.engine.facets(payload.id).expect("facets from the add");
    assert!(before.extensions.is_empty(), "no files before the metadata");
    leech.engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    let meta = wait_event(&mut events, "metadata", |e| {
        matches!(e, EngineEvent::MetadataReceived(revaer_domain::event::MetadataReceived { .. }))
    })
    .await;
    let EngineEvent::MetadataReceived(revaer_domain::event::MetadataReceived {
        name, files, ..
    }) = meta
    else {
        unreachable!()
    };
    assert_eq!(name, "via-magnet");
    assert_eq!(files.len(), FILES.len());
    // The metadata brings the files' extensions for list filters.
    let after = leech.engine.facets(payload.id).expect("facets");
    let mut wanted: Vec<String> = FILES
        .iter()
        .filter_map(|(path, _)| path.rsplit_once('.').map(|(_, ext)| ext.to_lowercase()))
        .collect();
    wanted.sort();
    wanted.dedup();
    assert_eq!(after.extensions, wanted);
    wait_event(&mut events, "download to complete", completed(payload.id)).await;
    payload.assert_same(&leech.downloads().join("via-magnet"), &payload.paths());
    // The metadata was kept, so a restart needs no peer to know the files.
    assert!(leech.dir.path().join(format!("resume/{}.torrent", payload.id)).exists());
    leech.stop().await;
    seed.stop().await;
}

/// The selection below keeps the movie and skips everything else.
fn assert_only_movie(payload: &Payload, root: &std::path::Path) {
    payload.assert_same(root, &["movie.mkv"]);
    for skipped in ["Sample/movie-sample.mkv", "extras/interview.mkv", "notes.nfo"] {
        assert!(!root.join(skipped).exists(), "{skipped} was written under {}", root.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excluded_files_are_not_written() {
    let source = tempfile::tempdir().expect("tempdir");
    let files: &[(&str, usize)] = &[
        ("movie.mkv", 900_001),
        ("Sample/movie-sample.mkv", 300_007),
        ("extras/interview.mkv", 250_003),
        ("notes.nfo", 1_001),
    ];
    let payload = Payload::create(source.path(), "film", files);
    let seed = Node::seeding(&payload).await;

    // A .torrent add with the selection known up front...
    let leech = Node::start().await;
    let mut events = leech.engine.subscribe();
    let selection = SelectionRules {
        exclude: vec!["*.nfo".into()],
        skip_fluff: true,
        ..SelectionRules::default()
    };
    let options = AddTorrentOptions {
        selection: selection.compile().expect("rules compile"),
        ..AddTorrentOptions::default()
    };
    leech.engine.add(metainfo(&payload), options).await.expect("add");
    leech.engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    wait_event(&mut events, "selected files to complete", completed(payload.id)).await;
    assert_only_movie(&payload, &leech.downloads().join("film"));
    let summary = leech.engine.summary(payload.id).expect("summary");
    assert!(summary.bytes_wanted < payload.total());

    // ...and a magnet add, where it is applied when the metadata arrives.
    let other = Node::start().await;
    let mut other_events = other.engine.subscribe();
    let magnet = MagnetUri::parse(&format!("magnet:?xt=urn:btih:{}", payload.id)).expect("magnet");
    let options = AddTorrentOptions {
        selection: selection.compile().expect("rules compile"),
        ..AddTorrentOptions::default()
    };
    other.engine.add(TorrentSource::Magnet(magnet), options).await.expect("add magnet");
    other.engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    wait_event(&mut other_events, "magnet selection to complete", completed(payload.id)).await;
    assert_only_movie(&payload, &other.downloads().join("film"));
    other.stop().await;
    leech.stop().await;
    seed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_remove_with_and_without_data() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "pausable", FILES);
    let seed = Node::seeding(&payload).await;
    let leech = Node::start().await;
    let mut events = leech.engine.subscribe();

    let options = AddTorrentOptions { paused: true, ..AddTorrentOptions::default() };
    let added = leech.engine.add(metainfo(&payload), options).await.expect("add paused");
    assert_eq!(added.summary().state, TorrentState::Paused);
    leech.engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    wait_summary(&leech.engine, payload.id, "paused after checking", |s| {
        s.state == TorrentState::Paused
    })
    .await;
    assert_eq!(leech.engine.summary(payload.id).expect("summary").bytes_done, 0);

    leech.engine.resume(payload.id).await.expect("resume");
    leech.engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    wait_event(&mut events, "download to complete", completed(payload.id)).await;
    leech.engine.pause(payload.id).await.expect("pause");
    wait_summary(&leech.engine, payload.id, "paused", |s| s.state == TorrentState::Paused).await;

    // Remove without data: the files stay.
    let root = leech.downloads().join("pausable");
    leech.engine.remove(payload.id, false).await.expect("remove");
    assert!(leech.engine.summary(payload.id).is_none());
    assert!(matches!(
        leech.engine.pause(payload.id).await,
        Err(EngineError::NotFound { id }) if id == payload.id
    ));
    payload.assert_same(&root, &payload.paths());
    assert!(!leech.dir.path().join(format!("resume/{}.meta.json", payload.id)).exists());

    // Re-add over the existing data (it checks as complete), then remove
    // with data: the files were there before it, so they stay.
    leech.engine.add(metainfo(&payload), AddTorrentOptions::default()).await.expect("re-add");
    wait_event(&mut events, "re-added torrent to check complete", completed(payload.id)).await;
    leech.engine.remove(payload.id, true).await.expect("remove with data");
    payload.assert_same(&root, &payload.paths());

    // Downloaded afresh, its own files go with it.
    std::fs::remove_dir_all(&root).expect("clear the downloads");
    leech.engine.add(metainfo(&payload), AddTorrentOptions::default()).await.expect("add again");
    leech.engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    wait_event(&mut events, "the fresh download to complete", completed(payload.id)).await;
    leech.engine.remove(payload.id, true).await.expect("remove with data");
    for path in payload.paths() {
        assert!(!root.join(path).exists(), "{path} survived remove with data");
    }
    let removed = wait_event(&mut events, "removed", |e| {
        matches!(e, EngineEvent::Removed(revaer_domain::event::Removed { .. }))
    })
    .await;
    assert!(
        matches!(
            removed,
            EngineEvent::Removed(revaer_domain::event::Removed { data_deleted: true, .. })
        ),
        "{removed:?}"
    );
    assert!(!root.exists(), "the torrent's folder goes with its files");
    leech.stop().await;
    seed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_typed_errors() {
    let node = Node::start().await;
    let garbage = node
        .engine
        .add(TorrentSource::Metainfo(b"d8:announce3:foo".to_vec()), AddTorrentOptions::default())
        .await;
    assert!(matches!(garbage, Err(EngineError::InvalidMetainfo { .. })), "{garbage:?}");
    let huge = node
        .engine
        .add(TorrentSource::Metainfo(vec![b'd'; 17 * 1024 * 1024]), AddTorrentOptions::default())
        .await;
    assert!(matches!(huge, Err(EngineError::MetainfoTooLarge { .. })), "{huge:?}");
    assert!(MagnetUri::parse("magnet:?xt=urn:btih:not-a-hash").is_err());

    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "p", FILES);
    let relative = AddTorrentOptions {
        save_path: Some("relative/dir".into()),
        ..AddTorrentOptions::default()
    };
    let refused = node.engine.add(metainfo(&payload), relative).await;
    assert!(matches!(refused, Err(EngineError::InvalidPath { .. })), "{refused:?}");
    // Rules reach the engine compiled; an index past the file list is
    // what only the engine, knowing the files, can refuse.
    let rules = SelectionRules {
        priorities: vec![revaer_domain::PriorityOverride {
            index: 99,
            priority: revaer_domain::FilePriority::High,
        }],
        ..SelectionRules::default()
    };
    let past_the_end = AddTorrentOptions {
        selection: rules.compile().expect("rules compile"),
        ..AddTorrentOptions::default()
    };
    let refused = node.engine.add(metainfo(&payload), past_the_end).await;
    assert!(matches!(refused, Err(EngineError::InvalidSelection { .. })), "{refused:?}");
    assert!(node.engine.list().is_empty(), "nothing was added by refused requests");
    let unknown = revaer_domain::InfoHash::from_bytes([9; 20]);
    assert!(matches!(node.engine.detail(unknown).await, Err(EngineError::NotFound { .. })));
    assert!(matches!(node.engine.remove(unknown, true).await, Err(EngineError::NotFound { .. })));
    assert!(
        tokio::time::timeout(WAIT, node.engine.recheck(unknown)).await.expect("answers").is_err()
    );
    node.stop().await;
}

/// Average download rate, bytes/s, from the first verified piece to the
/// last progress report before completion. libtorrent's rate limiter lets data in in bursts of up to a
/// couple of seconds, so only a whole-transfer average is a fair measure.
async fn average_rate(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    id: revaer_domain::InfoHash,
    total: u64,
) -> f64 {
    use std::time::Instant;
    let first = wait_event(events, "first piece", |e| {
        matches!(e, EngineEvent::Progress(revaer_domain::event::Progress { torrent, bytes_done, .. }) if *torrent == id && *bytes_done > 0)
    })
    .await;
    let started = Instant::now();
    let EngineEvent::Progress(revaer_domain::event::Progress { bytes_done: first_bytes, .. }) =
        first
    else {
        unreachable!()
    };
    // Both ends are read from progress events, which arrive with the same
    // status cadence: its delay cancels out (the completion event alone
    // would add it to the elapsed time only).
    let mut last = (started, first_bytes);
    let is_done = completed(id);
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = tokio::time::timeout(left, events.recv()).await.expect("completion in time");
        match event {
            Ok(EngineEvent::Progress(revaer_domain::event::Progress {
                torrent,
                bytes_done,
                ..
            })) if torrent == id => {
                last = (Instant::now(), bytes_done);
            }
            Ok(event) if is_done(&event) => break,
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => panic!("events closed"),
        }
    }
    if last.1 <= first_bytes {
        return (total - first_bytes) as f64 / started.elapsed().as_secs_f64();
    }
    (last.1 - first_bytes) as f64 / last.0.duration_since(started).as_secs_f64()
}

/// Fetches a 6 MiB payload under `cap`, set per torrent or session-wide at
/// run time, and checks the average rate within ±25 %.
async fn assert_cap_holds(session_wide: bool) {
    use revaer_domain::RateLimit;
    let cap = 1024 * 1024;
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "capped", &[("big.bin", 6 * 1024 * 1024 + 3)]);
    let seed = Node::seeding(&payload).await;
    let leech = Node::start().await;
    let mut events = leech.engine.subscribe();
    let mut options = AddTorrentOptions::default();
    if session_wide {
        let mut session = common::config(leech.dir.path()).session;
        session.download_limit = RateLimit::bytes_per_second(cap);
        leech.engine.apply_settings(session).await.expect("apply settings");
    } else {
        options.download_limit = RateLimit::bytes_per_second(cap);
    }
    leech.engine.add(metainfo(&payload), options).await.expect("add");
    leech.engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    let rate = average_rate(&mut events, payload.id, payload.total()).await;
    let ratio = rate / cap as f64;
    let scope = if session_wide { "session" } else { "torrent" };
    assert!((0.75..=1.25).contains(&ratio), "{scope} cap {cap} B/s, measured {rate:.0} B/s");
    let detail = leech.engine.detail(payload.id).await.expect("detail");
    let expected =
        if session_wide { RateLimit::UNLIMITED } else { RateLimit::bytes_per_second(cap) };
    assert_eq!(detail.summary.download_limit, expected);
    leech.stop().await;
    seed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_torrent_cap_holds_within_a_quarter() {
    assert_cap_holds(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cap_set_at_run_time_holds_within_a_quarter() {
    assert_cap_holds(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_storage_keeps_seeding_from_the_new_place() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "mover", FILES);
    let seed = Node::seeding(&payload).await;
    let mut events = seed.engine.subscribe();
    let target = tempfile::tempdir().expect("tempdir");
    seed.engine.move_storage(payload.id, target.path().to_path_buf()).await.expect("move");
    let moved = wait_event(&mut events, "moved", |e| {
        matches!(e, EngineEvent::StorageMoved(revaer_domain::event::StorageMoved { .. }))
    })
    .await;
    assert!(
        matches!(moved, EngineEvent::StorageMoved(revaer_domain::event::StorageMoved { ref save_path, .. }) if save_path == target.path())
    );
    assert!(!payload.root.join("a.bin").exists(), "old copy removed");
    assert!(target.path().join("mover/a.bin").exists());
    assert_eq!(seed.engine.summary(payload.id).expect("summary").save_path, target.path());
    let relative = seed.engine.move_storage(payload.id, "nowhere".into()).await;
    assert!(matches!(relative, Err(EngineError::InvalidPath { .. })), "{relative:?}");

    // A new peer downloads everything from the moved copy.
    let leech = Node::start().await;
    let mut leech_events = leech.engine.subscribe();
    leech.engine.add(metainfo(&payload), AddTorrentOptions::default()).await.expect("add");
    leech.engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    wait_event(&mut leech_events, "download from moved seed", completed(payload.id)).await;
    let moved_copy = Payload { root: target.path().join("mover"), ..payload };
    moved_copy.assert_same(&leech.downloads().join("mover"), &moved_copy.paths());
    leech.stop().await;
    seed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_listening_and_run_time_selection_and_recheck() {
    use std::net::SocketAddr;
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "six", FILES);
    // A seeder listening on IPv4 and IPv6 loopback.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = common::config(dir.path());
    config.session.listen =
        vec![SocketAddr::from(([127, 0, 0, 1], 0)), "[::1]:0".parse().expect("v6 addr")];
    let seed = revaer_engine::Engine::start(config).await.expect("dual-stack engine");
    let mut seed_events = seed.subscribe();
    let options = AddTorrentOptions {
        save_path: Some(source.path().to_path_buf()),
        ..AddTorrentOptions::default()
    };
    seed.add(metainfo(&payload), options).await.expect("seed");
    wait_event(&mut seed_events, "seeder ready", completed(payload.id)).await;
    let v6 = seed
        .health()
        .listen_endpoints
        .iter()
        .filter_map(|endpoint| endpoint.strip_suffix(" (tcp)"))
        .filter_map(|endpoint| endpoint.parse::<SocketAddr>().ok())
        .find(SocketAddr::is_ipv6)
        .expect("an IPv6 TCP listen socket");

    // A paused leecher gets its selection after the add, then fetches over
    // IPv6.
    let leech = Node::start_with(|config| {
        config.session.listen.push("[::1]:0".parse().expect("v6 addr"));
    })
    .await;
    let mut events = leech.engine.subscribe();
    let paused = AddTorrentOptions { paused: true, ..AddTorrentOptions::default() };
    leech.engine.add(metainfo(&payload), paused).await.expect("add");
    let bad = SelectionRules {
        priorities: vec![revaer_domain::PriorityOverride {
            index: 99,
            priority: revaer_domain::FilePriority::High,
        }],
        ..SelectionRules::default()
    };
    let bad = bad.compile().expect("globs compile; the index is checked against the files");
    let refused = leech.engine.select(payload.id, bad).await;
    assert!(matches!(refused, Err(EngineError::InvalidSelection { .. })), "{refused:?}");
    let rules = SelectionRules { exclude: vec!["sub/**".into()], ..SelectionRules::default() };
    let files =
        leech.engine.select(payload.id, rules.compile().expect("valid")).await.expect("select");
    let skipped = files.iter().filter(|f| !f.priority.is_wanted()).count();
    assert_eq!(skipped, 2, "{files:?}");
    leech.engine.resume(payload.id).await.expect("resume");
    leech.engine.connect_peer(payload.id, v6).await.expect("connect over IPv6");
    wait_event(&mut events, "selected files", completed(payload.id)).await;
    let root = leech.downloads().join("six");
    payload.assert_same(&root, &["a.bin", "d.bin"]);
    assert!(!root.join("sub/b.bin").exists());

    // A recheck finds a corrupted piece, which is fetched again.
    let file = root.join("a.bin");
    let mut bytes = std::fs::read(&file).expect("read");
    bytes[1000] ^= 0xff;
    std::fs::write(&file, &bytes).expect("corrupt");
    leech.engine.recheck(payload.id).await.expect("recheck");
    let want = std::fs::read(payload.root.join("a.bin")).expect("source");
    tokio::time::timeout(WAIT, async {
        while std::fs::read(&file).ok().as_ref() != Some(&want) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the corrupted piece is repaired");
    leech.stop().await;
    common::shutdown_checked(&seed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_magnet_for_a_hybrid_torrent_keeps_its_id() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "hybrid", FILES);
    let v2 = revaer_engine::metainfo::Metainfo::parse(&payload.metainfo).expect("parse").v2;
    let v2 = v2.map(|hash| hash.map(|b| format!("{b:02x}")).concat()).expect("hybrid");
    let seed = Node::seeding(&payload).await;
    let leech = Node::start().await;
    let mut events = leech.engine.subscribe();
    let magnet = MagnetUri::parse(&format!("magnet:?xt=urn:btmh:1220{v2}")).expect("v2 magnet");
    let id = magnet.info_hash();
    assert_ne!(id, payload.id, "the v2 magnet names the truncated v2 hash");
    leech
        .engine
        .add(TorrentSource::Magnet(magnet), AddTorrentOptions::default())
        .await
        .expect("add");
    // The metadata shows it is hybrid; it stays under the id it was added by.
    // The one peer is named by hand (no tracker, no DHT). Under load the
    // first connection sometimes never led anywhere (seen twice in full
    // runs, not reproduced alone), and nothing else would find the peer:
    // it is named again every few seconds until the download is done.
    let deadline = std::time::Instant::now() + WAIT;
    while leech
        .engine
        .summary(id)
        .is_none_or(|t| t.bytes_wanted == 0 || t.bytes_done < t.bytes_wanted)
    {
        assert!(std::time::Instant::now() < deadline, "completion under the v2 id in time");
        leech.engine.connect_peer(id, seed.peer()).await.expect("connect");
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(3),
            wait_event(&mut events, "completion under the v2 id", completed(id)),
        )
        .await;
    }
    payload.assert_same(&leech.downloads().join("hybrid"), &payload.paths());
    assert_eq!(leech.engine.list().len(), 1);
    assert!(leech.engine.summary(id).is_some());
    // Its .torrent (v1 hash first) is the same torrent, not a second one.
    let again =
        leech.engine.add(metainfo(&payload), AddTorrentOptions::default()).await.expect("add");
    assert!(again.is_duplicate(), "{again:?}");
    assert_eq!(again.summary().id, id);
    assert_eq!(leech.engine.list().len(), 1);
    // And it comes back under the same id after a restart.
    let dir = leech.stop().await;
    let engine = common::start_in(dir.path()).await;
    let restored =
        wait_summary(&engine, id, "restored as seeding", |s| s.state == TorrentState::Seeding)
            .await;
    assert_eq!(restored.bytes_done, payload.total());
    common::shutdown_checked(&engine).await;
    seed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_magnet_with_data_before_its_metadata_succeeds() {
    let node = Node::start().await;
    let magnet = MagnetUri::parse(
        "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=../../etc",
    )
    .expect("magnet");
    let id = magnet.info_hash();
    node.engine
        .add(TorrentSource::Magnet(magnet), AddTorrentOptions::default())
        .await
        .expect("add");
    let detail = node.engine.detail(id).await.expect("detail");
    assert!(
        detail.summary.content_path.starts_with(node.downloads()),
        "{:?}",
        detail.summary.content_path
    );
    assert!(!detail.summary.content_path.to_string_lossy().contains(".."));
    let trackers =
        AddTorrentOptions { trackers: vec!["gopher://x".into()], ..AddTorrentOptions::default() };
    let other = MagnetUri::parse("magnet:?xt=urn:btih:d12fe1c06bba254a9dc9f519b335aa7c1367a88a")
        .expect("m");
    let refused = node.engine.add(TorrentSource::Magnet(other), trackers).await;
    assert!(matches!(refused, Err(EngineError::InvalidTracker { index: 0, .. })), "{refused:?}");
    tokio::time::timeout(WAIT, node.engine.remove(id, true))
        .await
        .expect("answered")
        .expect("nothing to delete is a success");
    assert!(node.engine.list().is_empty());
    node.stop().await;
}

/// A cross-seed (another torrent over the same files at the same place)
/// keeps its files when the torrent that downloaded them is removed with
/// its data; the deletion waits for libtorrent to finish with the torrent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_with_data_keeps_what_a_cross_seed_names() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create(source.path(), "shared", FILES);
    let seed = Node::seeding(&payload).await;
    let leech = Node::start().await;
    let mut events = leech.engine.subscribe();
    leech.engine.add(metainfo(&payload), AddTorrentOptions::default()).await.expect("add");
    leech.engine.connect_peer(payload.id, seed.peer()).await.expect("connect");
    wait_event(&mut events, "download to complete", completed(payload.id)).await;

    // The same files as a v1-only torrent (another info-hash), added over
    // them: it checks complete from what the first one wrote.
    let options = CreateOptions { piece_size: Some(32 * 1024), v1_only: true, trackers: vec![] };
    let bytes = revaer_engine::metainfo::create(&payload.root, &options).expect("cross-seed");
    let cross = revaer_engine::metainfo::Metainfo::parse(&bytes).expect("parse").id;
    assert_ne!(cross, payload.id);
    let source = TorrentSource::Metainfo(bytes);
    leech.engine.add(source, AddTorrentOptions::default()).await.expect("add the cross-seed");
    wait_event(&mut events, "cross-seed to check complete", completed(cross)).await;

    let root = leech.downloads().join("shared");
    leech.engine.remove(payload.id, true).await.expect("remove with data");
    payload.assert_same(&root, &payload.paths());
    let cross_seed = leech.engine.summary(cross).expect("the cross-seed stays");
    assert_eq!(cross_seed.bytes_done, payload.total(), "and still has every byte");

    // Removed last, with its data, it takes what nobody else names: here
    // nothing, since every file was there before it.
    leech.engine.remove(cross, true).await.expect("remove the cross-seed with data");
    payload.assert_same(&root, &payload.paths());
    leech.stop().await;
    seed.stop().await;
}
