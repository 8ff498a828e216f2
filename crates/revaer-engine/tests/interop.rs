//! Interoperability with a mainstream client: aria2 seeds, the engine
//! fetches over 127.0.0.1. `aria2c` must be installed (`.ci/run` installs
//! it with the other test packages).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{FILES, Node, Payload, WAIT, completed};
use revaer_domain::EngineEvent;
use revaer_engine::{AddTorrentOptions, TorrentSource};

/// Kills the child process when the test ends, however it ends.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_from_an_aria2_seeder() {
    let source = tempfile::tempdir().expect("tempdir");
    // aria2 speaks BitTorrent v1 only.
    let payload = Payload::create_with(source.path(), "from-aria2", FILES, true);
    let torrent = source.path().join("t.torrent");
    std::fs::write(&torrent, &payload.metainfo).expect("write torrent");
    let port = free_port();
    let aria2 = Command::new("aria2c")
        .arg(format!("--dir={}", source.path().display()))
        .args(["--check-integrity=true", "--bt-seed-unverified=false", "--seed-ratio=0.0"])
        .args(["--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false"])
        .args(["--enable-peer-exchange=false", "--disable-ipv6=true", "--quiet=true"])
        .arg(format!("--listen-port={port}"))
        .arg(&torrent)
        .stdout(Stdio::null())
        .spawn()
        .expect("aria2c is installed (apt-get install aria2)");
    let _reaper = Reaper(aria2);

    let node = Node::start().await;
    let mut events = node.engine.subscribe();
    node.engine
        .add(TorrentSource::Metainfo(payload.metainfo.clone()), AddTorrentOptions::default())
        .await
        .expect("add");
    let peer = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    // aria2 verifies its copy before it accepts peers: dial until it answers.
    let done = tokio::time::timeout(WAIT, async {
        loop {
            node.engine.connect_peer(payload.id, peer).await.expect("connect");
            let wait = tokio::time::timeout(Duration::from_millis(500), async {
                loop {
                    match events.recv().await {
                        Ok(event) if completed(payload.id)(&event) => return event,
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(err) => panic!("events: {err}"),
                    }
                }
            });
            if let Ok(event) = wait.await {
                return event;
            }
        }
    })
    .await
    .expect("download from aria2 completes");
    assert!(matches!(done, EngineEvent::Completed(revaer_domain::event::Completed { .. })));
    payload.assert_same(&node.downloads().join("from-aria2"), &payload.paths());
    node.stop().await;
}
