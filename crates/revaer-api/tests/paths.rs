//! Paths a client names stay inside the storage roots, and removing a
//! torrent with its data deletes only what the torrent wrote.

mod common;

use axum::http::Method;
use common::Api;
use revaer_engine::metainfo::{self, CreateOptions};
use serde_json::{Value, json};

/// A single-file `.torrent` of `bytes` named `name`, base64-encoded.
fn single_file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> String {
    let source = dir.join("attacker");
    std::fs::create_dir_all(&source).expect("mkdir");
    std::fs::write(source.join(name), bytes).expect("write");
    let options = CreateOptions { piece_size: Some(16 * 1024), v1_only: true, trackers: vec![] };
    let torrent = metainfo::create(&source.join(name), &options).expect("torrent");
    data_encoding::BASE64.encode(&torrent)
}

#[tokio::test]
async fn removing_with_data_never_deletes_a_file_that_was_there_before() {
    let api = Api::start().await;
    let unrelated = api.dir.path().join("unrelated");
    std::fs::create_dir_all(&unrelated).expect("mkdir");
    std::fs::write(unrelated.join("important.txt"), "precious").expect("write");
    let metainfo = single_file(api.dir.path(), "important.txt", &vec![0x41; 40_000]);
    let add = json!({"metainfo": metainfo, "paused": true, "save_path": unrelated});
    let added = api.call(Method::POST, "/v1/torrents", Some(add)).await;
    assert_eq!(added.status, 201, "{}", added.json);
    let id = added.json["id"].as_str().expect("id").to_owned();
    let removed =
        api.call(Method::DELETE, &format!("/v1/torrents/{id}?delete_data=true"), None).await;
    assert_eq!(removed.status, 204, "{}", removed.json);
    let kept = std::fs::read_to_string(unrelated.join("important.txt")).expect("still there");
    assert_eq!(kept, "precious");

    // A torrent that wrote its own files has them deleted.
    let fresh = api.dir.path().join("fresh");
    let metainfo = single_file(api.dir.path(), "own.bin", &vec![0x42; 40_000]);
    let add = json!({"metainfo": metainfo, "paused": true, "save_path": fresh});
    let added = api.call(Method::POST, "/v1/torrents", Some(add)).await;
    let id = added.json["id"].as_str().expect("id").to_owned();
    std::fs::create_dir_all(&fresh).expect("mkdir");
    std::fs::write(fresh.join("own.bin"), [0x42; 100]).expect("as if downloaded");
    let removed =
        api.call(Method::DELETE, &format!("/v1/torrents/{id}?delete_data=true"), None).await;
    assert_eq!(removed.status, 204, "{}", removed.json);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fresh.join("own.bin").exists() {
        assert!(std::time::Instant::now() < deadline, "its own file is deleted");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    api.stop().await;
}

#[tokio::test]
async fn paths_outside_the_storage_roots_are_refused_with_a_pointer() {
    let api = Api::start().await;
    let outside = tempfile::tempdir().expect("another folder");
    let link = api.dir.path().join("link-out");
    std::os::unix::fs::symlink(outside.path(), &link).expect("symlink");
    let metainfo = common::payload(api.dir.path(), "show");
    for save_path in
        [outside.path().to_owned(), link.join("deeper"), std::path::PathBuf::from("/etc")]
    {
        let add = json!({"metainfo": metainfo, "paused": true, "save_path": save_path});
        let refused = api.call(Method::POST, "/v1/torrents", Some(add)).await;
        assert_eq!(refused.status, 422, "{}: {}", save_path.display(), refused.json);
        assert_eq!(refused.json["type"], "https://revaer.dev/problems/path-outside-roots");
        assert_eq!(refused.json["invalid_params"][0]["pointer"], "/save_path");
    }
    assert_eq!(api.call(Method::GET, "/v1/torrents", None).await.json["items"], json!([]));
    // Moves too.
    let add = json!({"metainfo": metainfo, "paused": true});
    let id = api.call(Method::POST, "/v1/torrents", Some(add)).await.json["id"].clone();
    let id = id.as_str().expect("id");
    let moved = json!({"type": "move", "save_path": outside.path()});
    let refused = api.call(Method::POST, &format!("/v1/torrents/{id}/action"), Some(moved)).await;
    assert_eq!(refused.problem(422), ["/save_path"]);
    // And every path in the settings.
    let outside = outside.path().display().to_string();
    let changes: [(Value, &str); 5] = [
        (json!({"fs_policy": {"allowed_roots": [outside]}}), "/fs_policy/allowed_roots/0"),
        (json!({"fs_policy": {"library_root": outside}}), "/fs_policy/library_root"),
        (json!({"engine_profile": {"download_root": outside}}), "/engine_profile/download_root"),
        (
            json!({"engine_profile": {"resume_dir": "../../elsewhere"}}),
            "/engine_profile/resume_dir",
        ),
        (json!({"categories": {"tv": {"save_path": outside}}}), "/categories/tv/save_path"),
    ];
    for (change, pointer) in changes {
        let refused = api.call(Method::PATCH, "/v1/config", Some(change.clone())).await;
        assert_eq!(refused.problem(422), [pointer], "{change}");
    }
    // Special bits, root owners and the filesystem root are refused too.
    let changes: [(Value, &str); 3] = [
        (json!({"fs_policy": {"chmod_file": "4755"}}), "/fs_policy/chmod_file"),
        (json!({"fs_policy": {"chown": "0"}}), "/fs_policy/chown"),
        (json!({"fs_policy": {"allowed_roots": ["/"]}}), "/fs_policy/allowed_roots/0"),
    ];
    for (change, pointer) in changes {
        let refused = api.call(Method::PATCH, "/v1/config", Some(change.clone())).await;
        assert!(refused.problem(422).contains(&pointer.to_owned()), "{change}: {}", refused.json);
    }
    // Inside the roots, the same changes go through.
    // The daemon's own files are out of reach: neither a save path above
    // them nor one inside them.
    for own in [api.dir.path().to_owned(), api.dir.path().join("resume")] {
        let add = json!({"metainfo": metainfo, "paused": true, "save_path": own});
        let refused = api.call(Method::POST, "/v1/torrents", Some(add)).await;
        assert_eq!(refused.problem(422), ["/save_path"], "{}", own.display());
    }
    let above = json!({"fs_policy": {"allowed_roots": [api.dir.path()]}});
    assert_eq!(
        api.call(Method::PATCH, "/v1/config", Some(above)).await.problem(422),
        ["/fs_policy/allowed_roots/0"]
    );
    let inside = api.dir.path().join("library").display().to_string();
    let media = api.dir.path().join("media");
    let fine = json!({"fs_policy": {"library_root": inside, "allowed_roots": [media]}});
    assert_eq!(api.call(Method::PATCH, "/v1/config", Some(fine)).await.status, 200);
    api.stop().await;
}
