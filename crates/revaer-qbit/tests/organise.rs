//! Categories, tags and rate caps through the facade, with a `control`
//! key (what Sonarr and autobrr are given).

mod common;

use axum::http::{Method, StatusCode};
use common::Facade;
use revaer_domain::{InfoHash, Scope, Scopes};

const HASH: &str = "89abcdef0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn categories_are_created_edited_listed_and_removed() {
    let facade = Facade::start().await;
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let tv = facade.dir.path().join("tv");
    let form = format!("category=tv&savePath={}", tv.display());
    let created = facade.with(&sid, Method::POST, "/api/v2/torrents/createCategory", &form).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let again = facade.with(&sid, Method::POST, "/api/v2/torrents/createCategory", &form).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "it exists");
    let empty =
        facade.with(&sid, Method::POST, "/api/v2/torrents/createCategory", "category=").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let outside = facade
        .with(&sid, Method::POST, "/api/v2/torrents/createCategory", "category=x&savePath=/etc")
        .await;
    assert_eq!(
        outside.status,
        StatusCode::BAD_REQUEST,
        "outside the storage roots: {}",
        outside.text
    );
    let listed = facade.with(&sid, Method::GET, "/api/v2/torrents/categories", "").await.json();
    assert_eq!(listed["tv"]["name"], "tv");
    assert_eq!(listed["tv"]["savePath"], tv.display().to_string());
    assert!(listed.get("x").is_none(), "nothing was made of the refused one");
    let missing = facade
        .with(&sid, Method::POST, "/api/v2/torrents/editCategory", "category=movies&savePath=")
        .await;
    assert_eq!(missing.status, StatusCode::CONFLICT);
    let edited = facade
        .with(&sid, Method::POST, "/api/v2/torrents/editCategory", "category=tv&savePath=")
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    let listed = facade.with(&sid, Method::GET, "/api/v2/torrents/categories", "").await.json();
    assert_eq!(listed["tv"]["savePath"], "");
    let removed = facade
        .with(&sid, Method::POST, "/api/v2/torrents/removeCategories", "categories=tv%0Anone")
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    let listed = facade.with(&sid, Method::GET, "/api/v2/torrents/categories", "").await.json();
    assert_eq!(listed, serde_json::json!({}));
    // An operator's category with FsOps settings is not a control key's
    // to change or remove.
    let rich = revaer_domain::settings::Changeset::parse(
        r#"{"categories": {"films": {"library_path": "Films/{name}"}}}"#,
    )
    .expect("changeset");
    let admin = revaer_service::Caller::system("test");
    facade.service.change_settings(&admin, &rich, "test", None).await.expect("an admin change");
    for (path, form) in [
        ("/api/v2/torrents/editCategory", "category=films&savePath="),
        ("/api/v2/torrents/removeCategories", "categories=films"),
    ] {
        let refused = facade.with(&sid, Method::POST, path, form).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}: {}", refused.text);
    }
    let listed = facade.with(&sid, Method::GET, "/api/v2/torrents/categories", "").await.json();
    assert!(listed.get("films").is_some(), "still there");
    facade.stop().await;
}

#[tokio::test]
async fn tags_and_caps_change_on_the_torrents() {
    let facade = Facade::start().await;
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let add = format!("urls=magnet%3A%3Fxt%3Durn%3Abtih%3A{HASH}&stopped=true&tags=old");
    assert_eq!(facade.with(&sid, Method::POST, "/api/v2/torrents/add", &add).await.text, "Ok.");
    let id = InfoHash::parse(HASH).expect("hash");
    let tags = || facade.engine.summary(id).expect("there").labels.tags.clone();
    let post = |path: &'static str, body: String| {
        let sid = sid.clone();
        let facade = &facade;
        async move { facade.with(&sid, Method::POST, path, &body).await }
    };
    post("/api/v2/torrents/addTags", format!("hashes={HASH}&tags=a,b,old")).await;
    assert_eq!(tags(), ["old", "a", "b"]);
    post("/api/v2/torrents/removeTags", format!("hashes={HASH}&tags=a")).await;
    assert_eq!(tags(), ["old", "b"]);
    post("/api/v2/torrents/deleteTags", "tags=old".to_owned()).await;
    assert_eq!(tags(), ["b"]);
    let listed = facade.with(&sid, Method::GET, "/api/v2/torrents/tags", "").await.json();
    assert_eq!(listed, serde_json::json!(["b"]));
    post("/api/v2/torrents/removeTags", format!("hashes={HASH}")).await;
    assert!(tags().is_empty(), "no tags named: all of them");

    let set = post("/api/v2/torrents/setDownloadLimit", format!("hashes={HASH}&limit=65536")).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    post("/api/v2/torrents/setUploadLimit", format!("hashes={HASH}&limit=32768")).await;
    let down = facade
        .with(&sid, Method::GET, &format!("/api/v2/torrents/downloadLimit?hashes={HASH}"), "")
        .await
        .json();
    assert_eq!(down[HASH], 65_536);
    let up = facade
        .with(&sid, Method::GET, &format!("/api/v2/torrents/uploadLimit?hashes={HASH}"), "")
        .await
        .json();
    assert_eq!(up[HASH], 32_768);
    post("/api/v2/torrents/setDownloadLimit", format!("hashes={HASH}&limit=0")).await;
    let down = facade
        .with(&sid, Method::GET, &format!("/api/v2/torrents/downloadLimit?hashes={HASH}"), "")
        .await
        .json();
    assert_eq!(down[HASH], 0, "0 lifts the cap");

    // Global caps are saved in the settings.
    let global = post("/api/v2/transfer/setUploadLimit", "limit=1048576".to_owned()).await;
    assert_eq!(global.status, StatusCode::OK, "{}", global.text);
    let read = facade.with(&sid, Method::GET, "/api/v2/transfer/uploadLimit", "").await;
    assert_eq!(read.text, "1048576");
    let settings = facade.service.settings().await.expect("settings");
    assert_eq!(settings.settings.engine_profile.upload_limit_bps, Some(1_048_576));
    facade.stop().await;
}

#[tokio::test]
async fn automatic_management_puts_a_torrent_where_its_category_says() {
    let facade = Facade::start().await;
    let sid = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let tv = facade.dir.path().join("library/tv");
    let form = format!("category=tv&savePath={}", tv.display());
    let made = facade.with(&sid, Method::POST, "/api/v2/torrents/createCategory", &form).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let made =
        facade.with(&sid, Method::POST, "/api/v2/torrents/createCategory", "category=anime").await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let elsewhere = facade.dir.path().join("elsewhere");
    let downloads = facade.engine.settings().download_dir;
    for (hash, form, want) in [
        // Automatic: the category's path, whatever savepath says.
        ("1", format!("category=tv&autoTMM=true&savepath={}", elsewhere.display()), tv.clone()),
        // A category without one: a folder named after it.
        ("2", "category=anime&autoTMM=true".to_owned(), downloads.join("anime")),
        // Manual (qBittorrent's default): savepath, else the download folder.
        (
            "3",
            format!("category=tv&autoTMM=false&savepath={}", elsewhere.display()),
            elsewhere.clone(),
        ),
        ("4", "category=tv".to_owned(), downloads.clone()),
    ] {
        let hash = hash.repeat(40);
        let body = format!("urls=magnet:?xt=urn:btih:{hash}&stopped=true&{form}");
        let added = facade.with(&sid, Method::POST, "/api/v2/torrents/add", &body).await;
        assert_eq!(added.text, "Ok.", "{form}");
        let path = format!("/api/v2/torrents/info?hashes={hash}");
        let row = facade.with(&sid, Method::GET, &path, "").await.json()[0].clone();
        assert_eq!(row["save_path"], want.display().to_string(), "{form}");
    }
    facade.stop().await;
}
