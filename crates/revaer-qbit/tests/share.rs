//! Share limits through the facade, as *arr tools use them: a limit set
//! with `setShareLimits` (or on add) is enforced by Revaer, and the torrent
//! then shows `stoppedUP`, which is when Sonarr and Radarr remove it.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{Facade, Seeder};
use revaer_domain::{Scope, Scopes};

async fn row(facade: &Facade, sid: &str, hash: &str) -> serde_json::Value {
    let path = format!("/api/v2/torrents/info?hashes={hash}");
    facade.with(sid, Method::GET, &path, "").await.json()[0].clone()
}

async fn wait_row(
    facade: &Facade,
    sid: &str,
    hash: &str,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let row = row(facade, sid, hash).await;
        if done(&row) {
            return row;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {row}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeding_time_limit_stops_the_torrent_as_stopped_up() {
    let seeder = Seeder::start("Film.2026", &[("film.mkv", 200_000)]).await;
    let facade = Facade::start().await;
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let hash = seeder.id.to_hex();
    let fields = [("ratioLimit", "-1"), ("seedingTimeLimit", "junk")];
    assert_eq!(
        facade.upload(&format!("SID={sid}"), "torrents", &seeder.metainfo, &fields).await.text,
        "Ok."
    );
    let added = row(&facade, &sid, &hash).await;
    assert_eq!(added["ratio_limit"], -1.0, "no ratio limit for this one: {added}");
    assert_eq!(added["seeding_time_limit"], -2, "junk defers to the global limit");
    assert_eq!(added["max_seeding_time"], -1, "and there is none");
    assert_eq!(added["share_limit_action"], "Default");

    facade.engine.connect_peer(seeder.id, seeder.peer()).await.expect("connect to the seeder");
    wait_row(&facade, &sid, &hash, "the download", |r| r["progress"] == 1.0).await;
    let path = "/api/v2/torrents/setShareLimits";
    let bad =
        facade.with(&sid, Method::POST, path, &format!("hashes={hash}&ratioLimit=lots")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // As Sonarr sends it: the first three parameters only.
    let form =
        format!("hashes={hash}&ratioLimit=-2&seedingTimeLimit=0&inactiveSeedingTimeLimit=-2");
    let set = facade.with(&sid, Method::POST, path, &form).await;
    assert_eq!((set.status, set.text.as_str()), (StatusCode::OK, ""));
    let stopped =
        wait_row(&facade, &sid, &hash, "the limit's action", |r| r["state"] == "stoppedUP").await;
    assert_eq!(stopped["seeding_time_limit"], 0);
    assert_eq!(stopped["max_seeding_time"], 0);
    assert_eq!(stopped["ratio_limit"], -2.0);
    facade.stop().await;
    seeder.stop().await;
}
