//! Two `revaerd` daemons on one PostgreSQL database, side by side on one
//! host: they share setup, keys and settings, each applies a change within
//! two seconds, each listens on its own peer port, and each comes back on
//! its own HTTP address after a restart.

mod common;

use std::time::{Duration, Instant};

use common::{complete_setup, free_port, http, loopback_only, start_bound, terminate};
use revaer_store::testing::TestDb;
use serde_json::Value;

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// Polls `probe` every 50 ms until it holds; panics after `within`.
fn within(what: &str, within: Duration, mut probe: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !probe() {
        assert!(start.elapsed() < within, "{what} within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_share_one_postgres_database() {
    let db = TestDb::postgres().await;
    loopback_only(&db.store).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [("DATABASE_URL", db.config.url.as_str())];
    let (bind_a, bind_b) =
        (format!("127.0.0.1:{}", free_port()), format!("127.0.0.1:{}", free_port()));
    let (data_a, data_b) = (dir.path().join("a"), dir.path().join("b"));
    let a = start_bound(&data_a, Some(&bind_a), &env);
    let b = start_bound(&data_b, Some(&bind_b), &env);
    let token = a.setup_token.clone().expect("a issues a setup token");

    // Set up through A; B opens too, without a restart.
    let bearer = complete_setup(&a.addr, &token);
    let auth = [("authorization", bearer.as_str()), ("content-type", "application/json")];
    within("B opens with the key issued through A", Duration::from_secs(5), || {
        http(&b.addr, "GET", "/v1/torrents", &auth, "").0 == 200
    });

    // A key issued on B works on A; a change made on A is applied by B.
    let (status, body) = http(&b.addr, "POST", "/v1/keys", &auth, r#"{"label": "from-b"}"#);
    assert_eq!(status, 201, "{body}");
    let other = format!("Bearer {}", json(&body)["token"].as_str().expect("token"));
    within("A accepts B's key", Duration::from_secs(2), || {
        http(&a.addr, "GET", "/v1/transfer", &[("authorization", other.as_str())], "").0 == 200
    });
    let (status, body) =
        http(&a.addr, "POST", "/v1/transfer/limits", &auth, r#"{"download_bps": 3000000}"#);
    assert_eq!(status, 200, "{body}");
    let applied = within("B applies A's change", Duration::from_secs(2), || {
        let (_, body) = http(&b.addr, "GET", "/v1/transfer", &auth, "");
        json(&body)["download_limit_bps"] == 3_000_000
    });
    eprintln!("B applied the change after {applied:?}");

    // Each has its own peer port.
    let port = |addr: &str| {
        let (_, body) = http(addr, "GET", "/health/full", &[], "");
        json(&body)["components"]["engine"]["listen_endpoints"][0].as_str().map(str::to_owned)
    };
    let (port_a, port_b) = (port(&a.addr), port(&b.addr));
    assert!(port_a.is_some() && port_a != port_b, "{port_a:?} vs {port_b:?}");
    terminate(a);
    terminate(b);

    // Restarted without flags, each comes back on its own address.
    let a = start_bound(&data_a, None, &env);
    let b = start_bound(&data_b, None, &env);
    assert_eq!((a.addr.as_str(), b.addr.as_str()), (bind_a.as_str(), bind_b.as_str()));
    for daemon in [&a, &b] {
        assert_eq!(http(&daemon.addr, "GET", "/v1/torrents", &auth, "").0, 200);
    }
    terminate(a);
    terminate(b);
}
