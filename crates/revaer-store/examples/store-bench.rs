//! Costs of the store's hot reads, on SQLite or PostgreSQL.
//!
//! ```text
//! cargo run --release -p revaer-store --example store-bench                 # SQLite in a temp dir
//! cargo run --release -p revaer-store --example store-bench -- postgres://user:pw@127.0.0.1/db
//! ```
//!
//! Times, over many calls each: verifying an API key in memory
//! (`ApiKeyDigest::verify`), verifying one against the database
//! (`Store::verify_api_key`), reading a settings snapshot, and applying a
//! one-field changeset. Prints one JSON line with p50/p99 in microseconds.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use revaer_store::{ChangeContext, NewApiKey, Store, StoreConfig};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort_unstable();
    let at = |pct: usize| {
        samples[(samples.len() * pct / 100).min(samples.len() - 1)].as_secs_f64() * 1e6
    };
    (at(50), at(99))
}

async fn time<F, Fut>(calls: usize, mut call: F) -> Result<(f64, f64), BoxError>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), BoxError>>,
{
    let mut samples = Vec::with_capacity(calls);
    for index in 0..calls {
        let started = Instant::now();
        call(index).await?;
        samples.push(started.elapsed());
    }
    Ok(percentiles(samples))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let temp = tempfile::tempdir()?;
    let config = match std::env::args().nth(1) {
        Some(url) => StoreConfig::url(url),
        None => StoreConfig::sqlite(temp.path().join("bench.db")),
    };
    let store = Store::connect(&config).await?;
    let issued = store
        .issue_api_key(&NewApiKey {
            label: "bench".into(),
            rate_limit: None,
            expires_at: None,
            scopes: revaer_domain::Scopes::ADMIN,
            issued_by: None,
        })
        .await?;
    let token = issued.token.expose().to_owned();
    let digests = store.api_key_digests().await?;
    let digest = digests.iter().find(|d| d.key.key_id == issued.key.key_id).ok_or("digest")?;

    let mut memory = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        let started = Instant::now();
        let ok = digest.verify(std::hint::black_box(&token));
        memory.push(started.elapsed());
        assert!(ok);
    }
    let memory = percentiles(memory);
    let database = time(2000, |_| async {
        store.verify_api_key(&token).await?.ok_or("key does not verify")?;
        Ok(())
    })
    .await?;
    let snapshot = time(2000, |_| async {
        store.settings().await?;
        Ok(())
    })
    .await?;
    let change = time(200, |index| {
        let store = store.clone();
        async move {
            let port = 8000 + u16::try_from(index % 1000)?;
            let changeset =
                serde_json::from_value(serde_json::json!({"app_profile": {"http_port": port}}))?;
            store.apply_changeset(&changeset, &ChangeContext::new("bench")).await?;
            Ok(())
        }
    })
    .await?;
    println!(
        "{{\"backend\":\"{}\",\"verify_memory_us\":[{:.2},{:.2}],\"verify_db_us\":[{:.0},{:.0}],\
         \"snapshot_us\":[{:.0},{:.0}],\"change_us\":[{:.0},{:.0}]}}",
        store.backend().name(),
        memory.0,
        memory.1,
        database.0,
        database.1,
        snapshot.0,
        snapshot.1,
        change.0,
        change.1
    );
    store.close().await;
    Ok(())
}
