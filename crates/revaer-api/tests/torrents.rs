//! `/v1/torrents` through the real router over a real engine and store.

mod common;

use axum::http::Method;
use common::{Api, payload};
use serde_json::json;

const MAGNET_A: &str = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=alpha";

#[tokio::test]
async fn every_route_needs_a_key() {
    let api = Api::start().await;
    let id = "0123456789abcdef0123456789abcdef01234567";
    let routes = [
        (Method::GET, "/v1/torrents".to_owned()),
        (Method::POST, "/v1/torrents".to_owned()),
        (Method::GET, format!("/v1/torrents/{id}")),
        (Method::DELETE, format!("/v1/torrents/{id}")),
        (Method::POST, format!("/v1/torrents/{id}/action")),
        (Method::POST, format!("/v1/torrents/{id}/select")),
    ];
    for (method, uri) in routes {
        for token in [None, Some("rvk_nope"), Some("garbage")] {
            let reply = api.send(method.clone(), &uri, token, Some(json!({}))).await;
            reply.problem(401);
            assert_eq!(
                reply.headers.get("www-authenticate").and_then(|v| v.to_str().ok()),
                Some("Bearer")
            );
        }
    }
    // The other header works too.
    let request = axum::http::Request::builder()
        .uri("/v1/torrents")
        .header("x-revaer-api-key", &api.token)
        .body(axum::body::Body::empty())
        .expect("request");
    assert_eq!(api.raw(request).await.status, 200);
    api.stop().await;
}

#[tokio::test]
async fn a_revoked_key_stops_working_on_the_next_refresh() {
    let api = Api::start().await;
    assert_eq!(api.call(Method::GET, "/v1/torrents", None).await.status, 200);
    let key_id = revaer_store::token_key_id(&api.token).expect("shape").to_owned();
    api.store.revoke_api_key(&key_id).await.expect("revoke");
    let refresher = tokio::spawn(revaer_service::keys::refresh_keys(
        api.service.clone(),
        std::time::Duration::from_millis(100),
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if api.call(Method::GET, "/v1/torrents", None).await.status == 401 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "revocation seen within a second");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    refresher.abort();
    api.stop().await;
}

#[tokio::test]
async fn add_list_inspect_act_and_remove() {
    let api = Api::start().await;
    let metainfo = payload(api.dir.path(), "Show.S01");
    let added = api
        .call(
            Method::POST,
            "/v1/torrents",
            Some(json!({
                "metainfo": metainfo, "category": "tv", "tags": ["hd"], "paused": true
            })),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.json);
    let id = added.json["id"].as_str().expect("id").to_owned();
    assert_eq!(added.json["name"], "Show.S01");
    let again = api.call(Method::POST, "/v1/torrents", Some(json!({"metainfo": metainfo}))).await;
    assert_eq!(
        (again.status.as_u16(), again.json["id"].as_str()),
        (200, Some(id.as_str())),
        "a duplicate"
    );
    let magnet = api
        .call(Method::POST, "/v1/torrents", Some(json!({"magnet": MAGNET_A, "paused": true})))
        .await;
    assert_eq!(magnet.status, 201);
    // The API answers from the engine; the catalogue is written from
    // events, elsewhere (the daemon's orchestrator).
    let hash = revaer_domain::InfoHash::parse(&id).expect("id");
    assert!(api.store.torrent(hash).await.expect("read").is_none());

    let list = api.call(Method::GET, "/v1/torrents?category=tv", None).await;
    assert_eq!(list.status, 200);
    let items = list.json["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(list.json["next_cursor"], serde_json::Value::Null);
    let by_file = api.call(Method::GET, "/v1/torrents?extension=srt", None).await;
    assert_eq!(
        by_file.json["items"].as_array().map(Vec::len),
        Some(1),
        "only the one with an .srt"
    );
    let by_tracker = api.call(Method::GET, "/v1/torrents?tracker=EXAMPLE.org", None).await;
    assert_eq!(by_tracker.json["items"][0]["id"].as_str(), Some(id.as_str()));

    let detail = api.call(Method::GET, &format!("/v1/torrents/{id}"), None).await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.json["files"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail.json["fsops"], serde_json::Value::Null, "no post-processing yet");
    assert!(detail.json["trackers"][0]["url"].as_str().is_some_and(|u| u.contains("example.org")));

    for action in [
        json!({"type": "resume"}),
        json!({"type": "pause"}),
        json!({"type": "sequential", "enable": true}),
        json!({"type": "rate", "download_bps": 100_000, "upload_bps": null}),
        json!({"type": "reannounce"}),
    ] {
        let reply = api
            .call(Method::POST, &format!("/v1/torrents/{id}/action"), Some(action.clone()))
            .await;
        assert_eq!(reply.status, 204, "{action}: {}", reply.json);
    }
    let detail = api.call(Method::GET, &format!("/v1/torrents/{id}"), None).await;
    assert_eq!(detail.json["sequential"], true);
    assert_eq!(detail.json["download_limit"], 100_000);
    let limits = json!({"type": "share_limits", "limits": {"ratio": 2.5, "seeding_time_secs": "unlimited", "action": "remove"}});
    let set = api.call(Method::POST, &format!("/v1/torrents/{id}/action"), Some(limits)).await;
    assert_eq!(set.status, 204, "{}", set.json);
    let detail = api.call(Method::GET, &format!("/v1/torrents/{id}"), None).await;
    assert_eq!(
        detail.json["share_limits"],
        json!({"ratio": 2.5, "seeding_time_secs": "unlimited", "inactive_time_secs": "inherit", "action": "remove"})
    );
    let too_long = json!({"type": "share_limits", "limits": {"inactive_time_secs": 40_000_000}});
    let refused =
        api.call(Method::POST, &format!("/v1/torrents/{id}/action"), Some(too_long)).await;
    assert_eq!(refused.problem(400), ["/limits/inactive_time_secs"]);
    let selected = api
        .call(
            Method::POST,
            &format!("/v1/torrents/{id}/select"),
            Some(json!({"exclude": ["**/*.srt"]})),
        )
        .await;
    assert_eq!(selected.status, 200, "{}", selected.json);
    let priorities: Vec<&str> = selected.json["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["priority"].as_str())
        .collect();
    assert!(priorities.contains(&"skip"));

    let removed =
        api.call(Method::DELETE, &format!("/v1/torrents/{id}?delete_data=false"), None).await;
    assert_eq!(removed.status, 204, "{}", removed.json);
    api.call(Method::GET, &format!("/v1/torrents/{id}"), None).await.problem(404);
    api.call(Method::POST, &format!("/v1/torrents/{id}/action"), Some(json!({"type": "pause"})))
        .await
        .problem(404);
    api.stop().await;
}

#[tokio::test]
async fn pages_follow_cursors_to_the_end() {
    let api = Api::start().await;
    for n in 1..=7u8 {
        let magnet = format!("magnet:?xt=urn:btih:{}&dn=t{n}", format!("{n:02x}").repeat(20));
        let reply = api
            .call(Method::POST, "/v1/torrents", Some(json!({"magnet": magnet, "paused": true})))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.json);
    }
    let mut seen = Vec::new();
    let mut uri = "/v1/torrents?limit=3&sort=name".to_owned();
    for _ in 0..10 {
        let page = api.call(Method::GET, &uri, None).await;
        assert_eq!(page.status, 200, "{}", page.json);
        seen.extend(
            page.json["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|t| t["name"].as_str().map(str::to_owned)),
        );
        match page.json["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/v1/torrents?limit=3&sort=name&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["t1", "t2", "t3", "t4", "t5", "t6", "t7"]);
    api.stop().await;
}

#[tokio::test]
async fn invalid_lists_and_adds_get_a_problem_with_pointers() {
    let api = Api::start().await;
    let pointers = api
        .call(Method::GET, "/v1/torrents?limit=0&sort=colour&state=flying", None)
        .await
        .problem(400);
    assert_eq!(pointers, ["/query/limit", "/query/sort", "/query/state"]);
    let cursor = api.call(Method::GET, "/v1/torrents?cursor=abc", None).await.problem(400);
    assert_eq!(cursor, ["/query/cursor"]);
    let zeros = format!("magnet:?xt=urn:btih:{}", "0".repeat(40));
    let zero =
        api.call(Method::POST, "/v1/torrents", Some(json!({"magnet": zeros}))).await.problem(400);
    assert_eq!(zero, ["/magnet"], "refused before libtorrent sees it");
    let bad_add = api
        .call(
            Method::POST,
            "/v1/torrents",
            Some(json!({
                "magnet": "magnet:?xt=urn:btih:zz", "save_path": "relative", "tags": [""]
            })),
        )
        .await
        .problem(400);
    assert_eq!(bad_add, ["/magnet", "/save_path", "/tags/0"]);
    let wrong_type = api
        .call(Method::POST, "/v1/torrents", Some(json!({"magnet": MAGNET_A, "tags": "hd"})))
        .await
        .problem(400);
    assert_eq!(wrong_type, ["/tags"]);
    let unknown = api
        .call(Method::POST, "/v1/torrents", Some(json!({"magnet": MAGNET_A, "colour": 1})))
        .await;
    unknown.problem(400);
    let garbage = api
        .call(Method::POST, "/v1/torrents", Some(json!({"metainfo": "AAAA"})))
        .await
        .problem(400);
    assert_eq!(garbage, ["/metainfo"], "the engine's refusal keeps its pointer");
    // File indices are checked once the files are known: the pointer is
    // into the body's `selection`.
    let metainfo = payload(api.dir.path(), "indexed");
    let selection = json!({"priorities": [{"index": 99, "priority": "high"}]});
    let bad_index = api
        .call(
            Method::POST,
            "/v1/torrents",
            Some(json!({"metainfo": metainfo, "selection": selection})),
        )
        .await
        .problem(400);
    assert_eq!(bad_index, ["/selection/priorities/0/index"]);
    api.stop().await;
}

#[tokio::test]
async fn invalid_commands_on_a_torrent_get_a_problem_with_pointers() {
    let api = Api::start().await;
    let id = "0123456789abcdef0123456789abcdef01234567";
    let action = api
        .call(Method::POST, &format!("/v1/torrents/{id}/action"), Some(json!({"type": "explode"})))
        .await;
    action.problem(400);
    let moved = api
        .call(
            Method::POST,
            &format!("/v1/torrents/{id}/action"),
            Some(json!({"type": "move", "save_path": "x"})),
        )
        .await
        .problem(400);
    assert_eq!(moved, ["/save_path"]);
    let select = api
        .call(Method::POST, &format!("/v1/torrents/{id}/select"), Some(json!({"include": ["["]})))
        .await
        .problem(400);
    assert_eq!(select, ["/include/0"]);
    // Rules are bounded: 64 globs a list, 256 bytes a glob.
    let uri = format!("/v1/torrents/{id}/select");
    let select = |rules: serde_json::Value| api.call(Method::POST, &uri, Some(rules));
    let many: Vec<String> = (0..65).map(|n| format!("*.{n}")).collect();
    assert_eq!(select(json!({"exclude": many})).await.problem(400), ["/exclude"]);
    let long = format!("{}*", "a".repeat(256));
    assert_eq!(select(json!({"include": ["*.mkv", long]})).await.problem(400), ["/include/1"]);
    let not_hex = api.call(Method::GET, "/v1/torrents/nothex", None).await.problem(400);
    assert_eq!(not_hex, ["/path/id"]);
    let delete = api
        .call(Method::DELETE, &format!("/v1/torrents/{id}?delete_data=maybe"), None)
        .await
        .problem(400);
    assert_eq!(delete, ["/query/delete_data"]);
    // Not JSON at all, and not declared as JSON.
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/torrents")
        .header("authorization", format!("Bearer {}", api.token))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{not json"))
        .expect("request");
    api.raw(request).await.problem(400);
    api.stop().await;
}

#[tokio::test]
async fn bodies_in_other_media_types_are_refused() {
    let api = Api::start().await;
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/torrents")
        .header("authorization", format!("Bearer {}", api.token))
        .body(axum::body::Body::from("magnet=x"))
        .expect("request");
    let unsupported = api.raw(request).await;
    unsupported.problem(415);
    assert_eq!(unsupported.json["type"], "https://revaer.dev/problems/unsupported-media-type");
    // Media types are case-insensitive and take parameters.
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/keys")
        .header("authorization", format!("Bearer {}", api.token))
        .header("content-type", "Application/JSON; charset=utf-8")
        .body(axum::body::Body::from(r#"{"label": "cased"}"#))
        .expect("request");
    assert_eq!(api.raw(request).await.status, 201);
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/keys")
        .header("authorization", format!("Bearer {}", api.token))
        .header("content-type", "application/jsonx")
        .body(axum::body::Body::from(r#"{"label": "x"}"#))
        .expect("request");
    api.raw(request).await.problem(415);
    api.stop().await;
}

#[tokio::test]
async fn oversized_bodies_unknown_routes_and_methods_are_problems_too() {
    let limits =
        revaer_api::state::ApiLimits { json_body: 8192, small_body: 1024, torrent_file: 1024 };
    let api = Api::start_with(limits).await;
    let big =
        api.call(Method::POST, "/v1/torrents", Some(json!({"magnet": "x".repeat(16_384)}))).await;
    big.problem(413);
    // Adds may be larger than other bodies: this one is read (and refused
    // for what it says), where a settings change of the same size is not.
    let add = api.call(Method::POST, "/v1/torrents", Some(json!({"magnet": "x".repeat(4096)})));
    add.await.problem(400);
    let patch = json!({"app_profile": {"instance_name": "x".repeat(4096)}});
    api.call(Method::PATCH, "/v1/config", Some(patch)).await.problem(413);
    let action = json!({"type": "pause", "padding": "x".repeat(4096)});
    let id = "0123456789abcdef0123456789abcdef01234567";
    api.call(Method::POST, &format!("/v1/torrents/{id}/action"), Some(action)).await.problem(413);
    api.call(Method::GET, "/v2/nothing", None).await.problem(404);
    api.call(Method::PUT, "/v1/torrents", None).await.problem(405);
    api.stop().await;
}

#[tokio::test]
async fn health_answers_without_a_key() {
    let api = Api::start().await;
    let live = api.send(Method::GET, "/health", None, None).await;
    assert_eq!((live.status.as_u16(), live.json["status"].as_str()), (200, Some("ok")));
    let full = api.send(Method::GET, "/health/full", None, None).await;
    assert_eq!(full.status, 200, "{}", full.json);
    assert_eq!(full.json["status"], "ok");
    assert_eq!(full.json["components"]["database"]["backend"], "SQLite");
    assert!(full.json["components"]["database"]["revision"].is_number());
    assert_eq!(full.json["components"]["engine"]["status"], "ok");
    assert!(full.json["components"]["engine"]["torrents_by_state"].is_object());
    assert!(full.json["git_revision"].as_str().is_some_and(|r| !r.is_empty()));
    assert!(full.json["version"].is_string());
    // Remote clients need a key for the full report (not for liveness).
    let remote = |token: Option<&str>, uri: &str| {
        let mut request = axum::http::Request::builder().uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let mut request = request.body(axum::body::Body::empty()).expect("request");
        request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [192, 0, 2, 7],
            40_000,
        ))));
        request
    };
    api.raw(remote(None, "/health/full")).await.problem(401);
    assert_eq!(api.raw(remote(Some(&api.token), "/health/full")).await.status, 200);
    assert_eq!(api.raw(remote(None, "/health")).await.status, 200);
    api.stop().await;
}

#[tokio::test]
async fn trackers_edge_pieces_peers_and_pieces_of_one_torrent() {
    let api = Api::start().await;
    let metainfo = payload(api.dir.path(), "Edges");
    let body = json!({"metainfo": metainfo, "paused": true, "first_last_piece": true});
    let added = api.call(Method::POST, "/v1/torrents", Some(body)).await;
    assert_eq!(added.status, 201, "{}", added.json);
    assert_eq!(added.json["first_last_piece"], true);
    let id = added.json["id"].as_str().expect("id").to_owned();
    let uri = format!("/v1/torrents/{id}/action");
    let act = |action: serde_json::Value| api.call(Method::POST, &uri, Some(action));
    let own = "udp://tracker.example.org:6969/announce";
    let edit = json!({"type": "trackers",
        "add": [{"url": "http://backup.example.org/announce", "tier": 1}],
        "replace": [{"from": own, "to": "https://tracker.example.org/announce"}]});
    assert_eq!(act(edit).await.status, 204);
    let detail = api.call(Method::GET, &format!("/v1/torrents/{id}"), None).await;
    let urls: Vec<(&str, i64)> = detail.json["trackers"]
        .as_array()
        .expect("trackers")
        .iter()
        .filter_map(|t| Some((t["url"].as_str()?, t["tier"].as_i64()?)))
        .collect();
    assert_eq!(
        urls,
        [("https://tracker.example.org/announce", 0), ("http://backup.example.org/announce", 1)]
    );
    let gone = act(json!({"type": "trackers", "remove": [own]})).await;
    gone.problem(409);
    let junk = json!({"type": "trackers", "add": [{"url": "ftp://x"}], "remove": ["a"]});
    assert_eq!(act(junk).await.problem(400), ["/add/0/url"]);
    assert_eq!(act(json!({"type": "trackers"})).await.problem(400), ["/add"]);

    assert_eq!(act(json!({"type": "first_last_piece", "enable": false})).await.status, 204);
    let detail = api.call(Method::GET, &format!("/v1/torrents/{id}"), None).await;
    assert_eq!(detail.json["first_last_piece"], false);

    let pieces = api.call(Method::GET, &format!("/v1/torrents/{id}/pieces"), None).await;
    assert_eq!(pieces.status, 200, "{}", pieces.json);
    assert_eq!(pieces.json["piece_size"], 16_384);
    // 41 000 bytes in 16 KiB pieces: three, none had.
    assert_eq!(pieces.json["states"], "000");
    let peers = api.call(Method::GET, &format!("/v1/torrents/{id}/peers"), None).await;
    assert_eq!((peers.status.as_u16(), &peers.json), (200, &json!({"peers": []})));
    let unknown = "0123456789abcdef0123456789abcdef01234567";
    api.call(Method::GET, &format!("/v1/torrents/{unknown}/peers"), None).await.problem(404);
    api.call(Method::GET, &format!("/v1/torrents/{unknown}/pieces"), None).await.problem(404);
    api.stop().await;
}

#[tokio::test]
async fn a_torrent_laid_out_without_its_folder_seeds_unchecked_from_where_its_files_lie() {
    let api = Api::start().await;
    let metainfo = payload(api.dir.path(), "Laid");
    // The files are in `Laid/`: with no top folder, that is the save path.
    let save_path = api.dir.path().join("Laid");
    let junk = json!({"metainfo": metainfo, "content_layout": "flat"});
    let refused = api.call(Method::POST, "/v1/torrents", Some(junk)).await;
    assert_eq!(refused.problem(400), ["/content_layout"]);
    let body = json!({"metainfo": metainfo, "save_path": save_path,
        "content_layout": "no_subfolder", "skip_checking": true});
    let added = api.call(Method::POST, "/v1/torrents", Some(body)).await;
    assert_eq!(added.status, 201, "{}", added.json);
    assert_eq!(added.json["content_path"], save_path.to_str().expect("utf-8"));
    let id = added.json["id"].as_str().expect("id").to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let detail = loop {
        let detail = api.call(Method::GET, &format!("/v1/torrents/{id}"), None).await;
        if detail.json["state"] == "seeding" {
            break detail;
        }
        assert!(std::time::Instant::now() < deadline, "seeds at once: {}", detail.json);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(detail.json["progress"], 1.0);
    let paths: Vec<&str> = detail.json["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(paths, ["a.mkv", "sub/b.srt"], "no top folder");
    api.stop().await;
}
