//! A torrent's detail as a user inspects and edits it: the peers on each
//! side of a real transfer on loopback, the piece map filling in with the
//! edge pieces first, and tracker edits that survive a restart.

mod common;

use std::time::Duration;

use common::{Node, Payload, WAIT, completed, config, wait_event};
use revaer_domain::{
    InfoHash, PieceMap, PieceState, RateLimit, TrackerEdit, TrackerReplace, TrackerSpec,
};
use revaer_engine::metainfo::{self, CreateOptions};
use revaer_engine::{AddTorrentOptions, Engine, EngineError, TorrentSource};

/// One 3 MB file: 184 pieces of 16 KiB, two of them the first 1 % and two
/// the last.
const BIG: &[(&str, usize)] = &[("big.bin", 3_000_000)];

fn have(map: &PieceMap) -> usize {
    map.pieces().filter(|p| *p == PieceState::Have).count()
}

async fn wait_pieces(engine: &Engine, id: InfoHash, at_least: usize) -> PieceMap {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            let map = engine.pieces(id).await.expect("pieces");
            if have(&map) >= at_least {
                return map;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("timed out waiting for {at_least} pieces"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_list_each_other_and_the_edge_pieces_come_first() {
    let source = tempfile::tempdir().expect("tempdir");
    let payload = Payload::create_with(source.path(), "edges", BIG, true);
    let seeder = Node::seeding(&payload).await;
    let full = seeder.engine.pieces(payload.id).await.expect("seeder pieces");
    assert_eq!((full.piece_size, full.states.len()), (16_384, 184));
    assert!(full.pieces().all(|p| p == PieceState::Have), "a seed has every piece");

    let leecher = Node::start().await;
    let mut events = leecher.engine.subscribe();
    let options = AddTorrentOptions {
        first_last_piece: true,
        // Slow enough to look at the transfer while it runs (about 10 s).
        download_limit: RateLimit::bytes_per_second(300_000),
        ..AddTorrentOptions::default()
    };
    let source = TorrentSource::Metainfo(payload.metainfo.clone());
    let added = leecher.engine.add(source, options).await.expect("add");
    assert!(added.summary().first_last_piece);
    leecher.engine.connect_peer(payload.id, seeder.peer()).await.expect("connect");

    let map = wait_pieces(&leecher.engine, payload.id, 55).await;
    let pieces: Vec<PieceState> = map.pieces().collect();
    assert!(have(&map) < 184, "still downloading: {}", map.states);
    for edge in [0, 1, 182, 183] {
        assert_eq!(pieces[edge], PieceState::Have, "edge piece {edge} first: {}", map.states);
    }
    let peers = leecher.engine.peers(payload.id).await.expect("leecher's peers");
    let seed = peers.iter().find(|p| p.address == seeder.peer()).expect("the seeder listed");
    assert!(seed.flags.seed && seed.flags.interested && !seed.flags.incoming, "{seed:?}");
    assert!(seed.downloaded > 0 && (seed.progress - 1.0).abs() < 1e-9, "{seed:?}");
    assert!(!seed.client.is_empty(), "{seed:?}");
    let theirs = seeder.engine.peers(payload.id).await.expect("seeder's peers");
    let leech = theirs.first().expect("the leecher listed");
    assert!(leech.flags.incoming && leech.flags.peer_interested && !leech.flags.seed, "{leech:?}");
    assert!(leech.uploaded > 0 && leech.progress < 1.0, "{leech:?}");

    wait_event(&mut events, "completion", completed(payload.id)).await;
    payload.assert_same(&leecher.downloads().join("edges"), &payload.paths());
    leecher.engine.set_first_last_piece(payload.id, false).await.expect("off");
    assert!(!leecher.engine.summary(payload.id).expect("summary").first_last_piece);
    drop(leecher.stop().await);
    drop(seeder.stop().await);
}

fn urls(list: &[revaer_domain::TrackerEntry]) -> Vec<(String, u8)> {
    list.iter().map(|t| (t.url.clone(), t.tier)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracker_edits_replace_even_the_metainfos_own_and_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("seed/tracked");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join("a.bin"), vec![7_u8; 40_000]).expect("payload");
    let own = "http://127.0.0.1:9/announce".to_owned();
    let options = CreateOptions { trackers: vec![own.clone()], ..CreateOptions::default() };
    let bytes = metainfo::create(&root, &options).expect("create");
    let id = metainfo::Metainfo::parse(&bytes).expect("parse").id;

    let engine = Engine::start(config(dir.path())).await.expect("engine");
    let extra = "udp://127.0.0.1:10/announce".to_owned();
    let add = AddTorrentOptions { trackers: vec![extra.clone()], ..AddTorrentOptions::default() };
    engine.add(TorrentSource::Metainfo(bytes), add).await.expect("add");
    let mut before = urls(&engine.detail(id).await.expect("detail").trackers);
    before.sort();
    assert_eq!(before, vec![(own.clone(), 0), (extra.clone(), 0)]);

    let backup = "https://127.0.0.1:11/announce".to_owned();
    let renamed = "http://localhost:9/announce".to_owned();
    let edit = TrackerEdit {
        add: vec![TrackerSpec { url: backup.clone(), tier: 1 }],
        remove: vec![extra.clone()],
        replace: vec![TrackerReplace { from: own.clone(), to: renamed.clone() }],
    };
    engine.edit_trackers(id, edit).await.expect("edit");
    let want = vec![(renamed.clone(), 0), (backup.clone(), 1)];
    assert_eq!(urls(&engine.detail(id).await.expect("detail").trackers), want);

    let gone = TrackerEdit { remove: vec![extra.clone()], ..TrackerEdit::default() };
    let refused = engine.edit_trackers(id, gone).await;
    assert!(matches!(refused, Err(EngineError::TrackerConflict { .. })), "{refused:?}");
    let junk = TrackerEdit {
        add: vec![TrackerSpec { url: "gopher://x/".into(), tier: 0 }],
        ..TrackerEdit::default()
    };
    let refused = engine.edit_trackers(id, junk).await;
    assert!(matches!(refused, Err(EngineError::InvalidTracker { .. })), "{refused:?}");
    assert_eq!(urls(&engine.detail(id).await.expect("detail").trackers), want, "nothing changed");
    engine.set_first_last_piece(id, true).await.expect("edges");

    tokio::time::timeout(WAIT, engine.shutdown()).await.expect("in time").expect("shutdown");
    drop(engine);
    let engine = Engine::start(config(dir.path())).await.expect("restart");
    let detail = engine.detail(id).await.expect("restored");
    assert_eq!(urls(&detail.trackers), want, "the edited list, not the metainfo's");
    assert!(detail.summary.first_last_piece, "edge pieces survive a restart");
    let unknown = engine.peers(InfoHash::from_bytes([9; 20])).await;
    assert!(matches!(unknown, Err(EngineError::NotFound { .. })), "{unknown:?}");
    tokio::time::timeout(WAIT, engine.shutdown()).await.expect("in time").expect("shutdown");
}
