//! cross-seed's inject (as the research notes list it): every call a POST,
//! a multipart `torrents` part with `savepath`, `autoTMM`, `category`,
//! `tags`, `contentLayout`, `skip_checking`, `stopped`/`paused` and a
//! dummy `foo=bar` last; the reply ignored; `info?hashes=` polled until
//! the torrent is there. The data lies on disk without the torrent's top
//! folder, so it must be seeded at once from there, with nothing fetched;
//! then cross-seed's recheck path: stop, recheck, poll until stopped and
//! complete, start.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{Facade, Seeder};
use revaer_domain::{Scope, Scopes};

async fn row(facade: &Facade, sid: &str, hash: &str) -> serde_json::Value {
    // cross-seed POSTs everything: the parameters in the form body.
    let body = format!("hashes={hash}");
    facade.with(sid, Method::POST, "/api/v2/torrents/info", &body).await.json()[0].clone()
}

async fn poll(
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
        assert!(Instant::now() < deadline, "{what} in time: {row}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_torrent_seeds_data_without_its_folder_at_once_and_after_a_recheck() {
    let seeder = Seeder::start("Film.2024", &[("film.mkv", 400_000), ("film.nfo", 300)]).await;
    let facade = Facade::start().await;
    let hash = seeder.id.to_hex();
    let flat = facade.dir.path().join("library/Film");
    for (path, bytes) in &seeder.files {
        std::fs::create_dir_all(&flat).expect("mkdir");
        std::fs::write(flat.join(path), bytes).expect("the data cross-seed matched");
    }
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let savepath = flat.to_string_lossy().into_owned();
    let fields = [
        ("downloadPath", savepath.as_str()),
        ("savepath", savepath.as_str()),
        ("autoTMM", "false"),
        ("category", "cross-seed-link"),
        ("tags", "cross-seed"),
        ("contentLayout", "NoSubfolder"),
        ("skip_checking", "true"),
        ("stopped", "false"),
        ("paused", "false"),
        ("foo", "bar"),
    ];
    assert_eq!(
        facade.upload(&format!("SID={sid}"), "torrents", &seeder.metainfo, &fields).await.status,
        StatusCode::OK
    );

    let seeding = |row: &serde_json::Value| {
        row["progress"] == 1.0
            && ["uploading", "stalledUP"].contains(&row["state"].as_str().unwrap_or(""))
    };
    let injected = poll(&facade, &sid, &hash, "seeding at once", seeding).await;
    assert_eq!(injected["downloaded"], 0, "nothing fetched: {injected}");
    assert_eq!(injected["content_path"], savepath.as_str(), "the files lie in the save path");
    assert_eq!(injected["category"], "cross-seed-link");
    let files = facade
        .with(&sid, Method::POST, "/api/v2/torrents/files", &format!("hash={hash}"))
        .await
        .json();
    let mut names: Vec<&str> =
        files.as_array().expect("files").iter().filter_map(|f| f["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["film.mkv", "film.nfo"], "no top folder: {files}");

    // The recheck path: stop, recheck, poll until stopped and complete,
    // start. So that the poll sees a check that ran (and not the row from
    // before it), the first recheck finds a spoilt file and the second the
    // file mended.
    let call = |call: &'static str| {
        let body = format!("hashes={hash}");
        let facade = &facade;
        let sid = &sid;
        async move {
            let reply =
                facade.with(sid, Method::POST, &format!("/api/v2/torrents/{call}"), &body).await;
            assert_eq!(reply.status, StatusCode::OK, "{call}: {}", reply.text);
        }
    };
    call("stop").await;
    poll(&facade, &sid, &hash, "stopped", |row| row["state"] == "stoppedUP").await;
    let (film, bytes) = seeder.files.iter().find(|(path, _)| path == "film.mkv").expect("film");
    std::fs::write(flat.join(film), vec![0_u8; bytes.len()]).expect("spoil the film");
    call("recheck").await;
    let spoilt = |row: &serde_json::Value| {
        row["state"] == "stoppedDL" && row["progress"].as_f64().is_some_and(|p| p < 1.0)
    };
    poll(&facade, &sid, &hash, "the recheck of a spoilt file", spoilt).await;
    std::fs::write(flat.join(film), bytes).expect("mend the film");
    call("recheck").await;
    let checked = |row: &serde_json::Value| row["state"] == "stoppedUP" && row["progress"] == 1.0;
    poll(&facade, &sid, &hash, "the recheck", checked).await;
    let start =
        facade.with(&sid, Method::POST, "/api/v2/torrents/start", &format!("hashes={hash}")).await;
    assert_eq!(start.status, StatusCode::OK);
    poll(&facade, &sid, &hash, "seeding again", seeding).await;
    assert!(!flat.join("Film.2024").exists(), "nothing written under the top folder");
    facade.stop().await;
    seeder.stop().await;
}
