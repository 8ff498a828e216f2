//! The exact HTTP exchanges of `revaer` against a mock server: what each
//! command sends (path, query, headers, body), what it prints and how it
//! exits, for answers, problems, timeouts and an event stream that repeats
//! itself, breaks mid-event and asks for a resync.

use std::process::{Command, Output};
use std::time::Duration;

use httpmock::prelude::*;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_revaer");
const KEY: &str = "rvk_testkey_secretpart";
const ID: &str = "0123456789abcdef0123456789abcdef01234567";

fn revaer(server: &MockServer, args: &[&str]) -> Output {
    Command::new(BIN)
        .env_remove("REVAER_API_KEY")
        .env_remove("REVAER_TELEMETRY_ENDPOINT")
        .args(["--api-url", &server.base_url(), "--api-key", KEY, "--timeout", "5"])
        .args(args)
        .output()
        .expect("revaer runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("an exit code")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn summary() -> Value {
    json!({
        "id": ID, "name": "Some.Show.S01E01", "state": "downloading", "progress": 0.425,
        "bytes_done": 446_693_376_u64, "bytes_wanted": 1_051_041_792_u64, "size": 1_051_041_792_u64,
        "download_bps": 5_242_880, "upload_bps": 65_536, "downloaded": 446_693_376_u64,
        "uploaded": 1_048_576, "ratio": 0.02, "eta_secs": 115, "peers": 12, "seeds": 9,
        "save_path": "/srv/downloads", "category": "tv", "tags": ["hd"],
        "added_at": "2026-11-29T10:00:00Z", "completed_at": null
    })
}

#[test]
fn ls_sends_filters_key_and_trace_headers_and_prints_a_table() {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method(GET)
            .path("/v1/torrents")
            .query_param("limit", "100")
            .query_param("state", "downloading,seeding")
            .query_param("tag", "hd")
            .header("authorization", format!("Bearer {KEY}"))
            .header_exists("x-request-id")
            .header_matches("traceparent", "^00-[0-9a-f]{32}-[0-9a-f]{16}-01$");
        then.status(200).json_body(json!({"items": [summary()], "next_cursor": "b3BhcXVl"}));
    });
    let output = revaer(
        &server,
        &["--output", "table", "ls", "--state", "downloading,seeding", "--tag", "hd"],
    );
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    mock.assert();
    insta::assert_snapshot!("ls_table", text(&output.stdout));
    let json = revaer(&server, &["ls", "--state", "downloading,seeding", "--tag", "hd"]);
    let page: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    insta::assert_json_snapshot!("ls_json", page);
}

#[test]
fn add_sends_the_request_the_api_takes() {
    let server = MockServer::start();
    let magnet = format!("magnet:?xt=urn:btih:{ID}&dn=x");
    let mock = server.mock(|when, then| {
        when.method(POST).path("/v1/torrents").header("content-type", "application/json").json_body(json!({
            "magnet": magnet, "category": "tv", "tags": ["hd", "new"], "paused": true,
            "sequential": false, "first_last_piece": false, "selection": {"include": ["*.mkv"], "exclude": [], "skip_fluff": true, "priorities": []},
            "download_bps": 5_242_880, "content_layout": "no_subfolder", "skip_checking": true
        }));
        then.status(201).json_body(summary());
    });
    let output = revaer(
        &server,
        &[
            "add",
            &magnet,
            "--category",
            "tv",
            "--tag",
            "hd",
            "--tag",
            "new",
            "--paused",
            "--include",
            "*.mkv",
            "--skip-fluff",
            "--download-limit",
            "5MiB/s",
            "--content-layout",
            "no-subfolder",
            "--skip-checking",
        ],
    );
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    mock.assert();
}

#[test]
fn problems_and_failures_map_to_exit_codes() {
    let server = MockServer::start();
    let problem = |status: u16, pointer: Option<&str>| {
        let mut body = json!({"type": "https://revaer.dev/problems/x", "title": "Something", "status": status,
            "detail": "what went wrong", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"});
        if let Some(pointer) = pointer {
            body["invalid_params"] = json!([{"pointer": pointer, "message": "is wrong"}]);
        }
        body
    };
    for (path, status, pointer, expected) in [
        ("/v1/torrents/0000000000000000000000000000000000000001", 404, None, 4),
        ("/v1/torrents/0000000000000000000000000000000000000002", 401, None, 3),
        ("/v1/torrents/0000000000000000000000000000000000000003", 429, None, 5),
        ("/v1/torrents/0000000000000000000000000000000000000004", 409, None, 2),
        ("/v1/torrents/0000000000000000000000000000000000000005", 400, Some("/path/id"), 2),
        ("/v1/torrents/0000000000000000000000000000000000000006", 503, None, 10),
    ] {
        server.mock(|when, then| {
            when.method(GET).path(path);
            then.status(status)
                .header("content-type", "application/problem+json")
                .header("retry-after", "7")
                .json_body(problem(status, pointer));
        });
        let id = path.rsplit('/').next().expect("id");
        let output = revaer(&server, &["status", id]);
        assert_eq!(code(&output), expected, "{status}");
        // JSON mode: the problem document itself on stderr.
        let printed: Value = serde_json::from_slice(&output.stderr).expect("problem JSON");
        assert_eq!(printed["status"], status);
    }
    // For people: a summary with pointers and the trace id.
    let output = revaer(
        &server,
        &["--output", "table", "status", "0000000000000000000000000000000000000005"],
    );
    insta::assert_snapshot!("problem_summary", text(&output.stderr));
    // Not a problem document (a proxy's page): still a clear error.
    server.mock(|when, then| {
        when.method(GET).path("/health");
        then.status(502).header("content-type", "text/html").body("<html>bad gateway</html>");
    });
    let output = revaer(&server, &["--output", "table", "health"]);
    assert_eq!(code(&output), 10);
    assert!(text(&output.stderr).contains("502"), "{}", text(&output.stderr));
}

#[test]
fn a_slow_server_times_out_with_exit_10() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/v1/transfer");
        then.status(200).delay(Duration::from_secs(4)).json_body(json!({}));
    });
    let output = Command::new(BIN)
        .env_remove("REVAER_TELEMETRY_ENDPOINT")
        .args([
            "--api-url",
            &server.base_url(),
            "--api-key",
            KEY,
            "--timeout",
            "1",
            "--output",
            "table",
            "transfer",
        ])
        .output()
        .expect("runs");
    assert_eq!(code(&output), 10);
    assert!(text(&output.stderr).contains("timed out"), "{}", text(&output.stderr));
}

fn frame(id: u64, kind: &str) -> String {
    let data = json!({"id": id, "type": kind, "ts": "2026-11-29T10:00:00Z", "torrent": ID, "data": {"n": id}});
    format!("id: {id}\nevent: {kind}\ndata: {data}\n\n")
}

#[test]
fn tail_resumes_after_drops_never_prints_twice_and_reports_a_resync() {
    let server = MockServer::start();
    // First connection: 10, 11, 11 again, then 12 cut off mid-event.
    let first = server.mock(|when, then| {
        when.method(GET).path("/v1/events").header_missing("last-event-id");
        let body = format!(
            ": revaer events\nretry: 3000\n\n{}{}{}id: 12\nevent: progress\ndata: {{\"id\":12,",
            frame(10, "progress"),
            frame(11, "progress"),
            frame(11, "progress")
        );
        then.status(200).header("content-type", "text/event-stream").body(body);
    });
    // Resumed after 11: 12 (again, whole this time) and 13.
    let second = server.mock(|when, then| {
        when.method(GET).path("/v1/events").header("last-event-id", "11");
        then.status(200).header("content-type", "text/event-stream").body(format!(
            "{}{}",
            frame(12, "progress"),
            frame(13, "completed")
        ));
    });
    // Resumed after 13: the server lost track, a resync, then 21.
    let third = server.mock(|when, then| {
        when.method(GET).path("/v1/events").header("last-event-id", "13");
        let resync = "id: 20\nevent: resync\ndata: {\"id\":20,\"type\":\"resync\",\"reason\":\"events were missed\",\"next_id\":21}\n\n";
        then.status(200).header("content-type", "text/event-stream").body(format!("{resync}{}", frame(21, "progress")));
    });
    // After 21: the key was revoked; the tail ends with exit 3.
    let revoked = server.mock(|when, then| {
        when.method(GET).path("/v1/events").header("last-event-id", "21");
        then.status(401).header("content-type", "application/problem+json")
            .json_body(json!({"type": "https://revaer.dev/problems/unauthorized", "title": "Authentication required", "status": 401}));
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let resume = dir.path().join("last-event-id");
    let mut child = Command::new(BIN)
        .env_remove("REVAER_TELEMETRY_ENDPOINT")
        .args(["--api-url", &server.base_url(), "--api-key", KEY, "tail", "--resume-file"])
        .arg(&resume)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    // Bounded: a tail that never stops fails the test instead of hanging it.
    let deadline = std::time::Instant::now() + Duration::from_mins(1);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    assert_eq!(code(&output), 3, "{}", text(&output.stderr));
    let ids: Vec<u64> = text(&output.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).expect("JSON line")["id"].as_u64().expect("id")
        })
        .collect();
    assert_eq!(ids, [10, 11, 12, 13, 20, 21], "each once, the resync in its place");
    assert!(text(&output.stdout).contains("\"resync\""));
    assert_eq!(std::fs::read_to_string(&resume).expect("resume file").trim(), "21");
    for mock in [&first, &second, &third, &revoked] {
        mock.assert();
    }
}

#[test]
fn a_failing_daemon_still_shows_its_health_report() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/health/full");
        then.status(503).json_body(json!({
            "status": "failing", "version": "0.1.0", "git_revision": "abc",
            "components": {
                "database": {"status": "failing", "reason": "connection refused", "backend": "PostgreSQL", "latency_ms": 1.0, "revision": null},
                "engine": {"status": "ok", "reason": null, "listen_endpoints": [], "torrents": 0, "torrents_by_state": {}, "dht": false, "dht_nodes": null, "worker_restarts": 0, "download_limit_bps": null, "upload_limit_bps": null},
                "config_watcher": {"status": "ok", "reason": null, "last_revision": 1, "last_latency_ms": null, "deliveries": 0, "failures": 0},
                "fsops": null,
                "rate_limiter": {"status": "ok", "reason": null, "throttled": 0, "breaches": 0, "unlimited_keys": 0}
            }
        }));
    });
    let output = revaer(&server, &["--output", "table", "health", "--full"]);
    assert_eq!(code(&output), 10);
    let report = text(&output.stdout);
    assert!(report.contains("connection refused"), "the failing component is shown: {report}");
    assert!(text(&output.stderr).is_empty(), "reported once: {}", text(&output.stderr));
}

#[test]
fn bulk_actions_report_each_failure_once() {
    let server = MockServer::start();
    let ok = "0000000000000000000000000000000000000001";
    let gone = "0000000000000000000000000000000000000002";
    let pause_ok = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/v1/torrents/{ok}/action"))
            .json_body(json!({"type": "pause"}));
        then.status(204);
    });
    server.mock(|when, then| {
        when.method(POST).path(format!("/v1/torrents/{gone}/action"));
        then.status(404).header("content-type", "application/problem+json")
            .json_body(json!({"type": "https://revaer.dev/problems/not-found", "title": "Not found", "status": 404}));
    });
    let output = revaer(&server, &["action", "pause", gone, ok]);
    assert_eq!(code(&output), 4, "the first failure's code");
    pause_ok.assert();
    let problems: Vec<Value> =
        text(&output.stderr).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(problems.len(), 1, "each failure once: {}", text(&output.stderr));
    let single = revaer(&server, &["action", "pause", gone]);
    assert_eq!(code(&single), 4);
    assert_eq!(text(&single.stderr).lines().count(), 1, "printed once");
}

fn problem_404() -> Value {
    json!({"type": "https://revaer.dev/problems/not-found", "title": "Not found", "status": 404})
}

#[test]
fn select_config_and_transfer_send_what_the_api_takes() {
    let server = MockServer::start();
    let select = server.mock(|when, then| {
        when.method(POST).path(format!("/v1/torrents/{ID}/select")).json_body(json!({
            "include": ["*.mkv"], "exclude": ["*sample*"], "skip_fluff": true,
            "priorities": [{"index": 0, "priority": "high"}]
        }));
        then.status(200).json_body(json!({"files": []}));
    });
    let config = server.mock(|when, then| {
        when.method(PATCH)
            .path("/v1/config")
            .header("if-match", "\"7\"")
            .json_body(json!({"engine_profile": {"dht": false, "active_downloads": 4}}));
        then.status(200).json_body(json!({
            "revision": 8, "app_profile": {}, "engine_profile": {}, "fs_policy": {}, "categories": {}
        }));
    });
    let limits = server.mock(|when, then| {
        when.method(POST)
            .path("/v1/transfer/limits")
            .json_body(json!({"download_bps": 1_000_000, "upload_bps": null}));
        then.status(200).json_body(json!({
            "download_bps": 0, "upload_bps": 0, "downloaded": 0, "uploaded": 0, "peers": 0,
            "torrents": 0, "download_limit_bps": 1_000_000, "upload_limit_bps": null
        }));
    });
    for (args, expected) in [
        (
            vec![
                "select",
                ID,
                "--include",
                "*.mkv",
                "--exclude",
                "*sample*",
                "--skip-fluff",
                "--priority",
                "0=high",
            ],
            0,
        ),
        (
            vec![
                "config",
                "set",
                "engine_profile.dht=false",
                "engine_profile.active_downloads=4",
                "--if-revision",
                "7",
            ],
            0,
        ),
        (vec!["transfer", "--download", "1M", "--upload", "unlimited"], 0),
    ] {
        let output = revaer(&server, &args);
        assert_eq!(code(&output), expected, "{args:?}: {}", text(&output.stderr));
    }
    for mock in [&select, &config, &limits] {
        mock.assert();
    }
}

#[test]
fn keys_and_setup_send_what_the_api_takes() {
    let server = MockServer::start();
    let key = json!({"key_id": "abc123", "label": "sonarr", "rate_limit": {"burst": 30, "per_seconds": 10},
        "created_at": "2026-11-29T10:00:00Z", "last_used_at": null, "expires_at": null, "revoked_at": null,
        "enabled": true, "scopes": ["read", "control"], "token": "rvk_abc123_secret"});
    let issue = server.mock(|when, then| {
        when.method(POST).path("/v1/keys").json_body(json!({
            "label": "sonarr", "rate_limit": {"burst": 30, "per_seconds": 10}, "expires_at": null,
            "scopes": ["read", "control"]
        }));
        then.status(201).json_body(key.clone());
    });
    let rotate = server.mock(|when, then| {
        when.method(POST).path("/v1/keys/abc123/rotate");
        then.status(200).json_body(key.clone());
    });
    let revoke = server.mock(|when, then| {
        when.method(DELETE).path("/v1/keys/abc123");
        then.status(204);
    });
    let revoke_missing = server.mock(|when, then| {
        when.method(DELETE).path("/v1/keys/zzz");
        then.status(404)
            .header("content-type", "application/problem+json")
            .json_body(problem_404());
    });
    let setup = server.mock(|when, then| {
        when.method(POST)
            .path("/v1/setup/complete")
            .header("x-revaer-setup-token", "rvs_token")
            .json_body(json!({"api_key_label": "ops"}));
        then.status(201)
            .json_body(json!({"revision": 2, "api_key": {"key_id": "k1", "token": "rvk_k1_s"}}));
    });
    for (args, expected) in [
        (
            vec![
                "keys",
                "issue",
                "--label",
                "sonarr",
                "--burst",
                "30",
                "--per-seconds",
                "10",
                "--scope",
                "read,control",
            ],
            0,
        ),
        (vec!["keys", "issue", "--label", "x", "--scope", "root"], 2),
        (vec!["keys", "rotate", "abc123"], 0),
        (vec!["keys", "revoke", "abc123"], 0),
        (vec!["keys", "revoke", "zzz"], 4),
        (vec!["setup", "complete", "--token", "rvs_token", "--label", "ops"], 0),
    ] {
        let output = revaer(&server, &args);
        assert_eq!(code(&output), expected, "{args:?}: {}", text(&output.stderr));
    }
    for mock in [&issue, &rotate, &revoke, &revoke_missing, &setup] {
        mock.assert();
    }
    // A new token is printed even when quiet: it cannot be shown again.
    let quiet = revaer(&server, &["-q", "keys", "rotate", "abc123"]);
    assert!(text(&quiet.stdout).contains("rvk_abc123_secret"));
}
