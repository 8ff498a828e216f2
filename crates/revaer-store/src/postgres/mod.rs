//! PostgreSQL specifics: hearing changes committed by other instances
//! through `LISTEN/NOTIFY`.
//!
//! A change's transaction runs `NOTIFY revaer_settings_changed, '<rev>'`, which
//! PostgreSQL delivers at commit. The listener runs on its own connection
//! (application name `revaer-watcher`); when that connection drops, the
//! watcher is degraded, the revision is polled at once (nothing is lost),
//! and the listener reconnects with back-off (100 ms doubling to 5 s).

use std::sync::Weak;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use crate::watcher::Source;
use crate::{Inner, Store};

/// The notification channel.
pub(crate) const CHANNEL: &str = "revaer_settings_changed";
/// The listener connection's application name (visible in
/// `pg_stat_activity`).
pub(crate) const APPLICATION_NAME: &str = "revaer-watcher";
const SOURCE: &str = "settings listener";

async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let options: PgConnectOptions =
        url.parse::<PgConnectOptions>()?.application_name(APPLICATION_NAME);
    let options = options.disable_statement_logging();
    let pool = PgPoolOptions::new().max_connections(1).connect_with(options).await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// How long the listener waits for a notification before it checks that
/// its connection is still alive (a half-open connection would otherwise
/// hang without an error).
const PING_EVERY: Duration = Duration::from_secs(30);

async fn poll_now(store: &Store) {
    if let Err(err) = store.poll_revision().await {
        store.watcher().fail(Source::Poll, format!("revision poll failed: {err}"));
    }
}

pub(crate) async fn listen_loop(weak: Weak<Inner>, url: String) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let listener = connect(&url).await;
        let Some(store) = Store::upgrade(&weak) else { return };
        let mut listener = match listener {
            Ok(listener) => {
                backoff = Duration::from_millis(100);
                store.watcher().recover(Source::Listener);
                // Whatever was committed while we were not listening.
                poll_now(&store).await;
                listener
            }
            Err(err) => {
                store.watcher().fail(Source::Listener, format!("{SOURCE} cannot connect: {err}"));
                drop(store);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        drop(store);
        loop {
            let received = match tokio::time::timeout(PING_EVERY, listener.try_recv()).await {
                Ok(received) => received.map_err(|_| ()),
                // Quiet: make sure the connection is still there.
                Err(_) => match sqlx::query("SELECT 1").execute(&mut listener).await {
                    Ok(_) => continue,
                    Err(_) => Err(()),
                },
            };
            let Some(store) = Store::upgrade(&weak) else { return };
            if let Ok(Some(notification)) = received {
                let announced = notification.payload().parse::<i64>().unwrap_or(i64::MAX);
                if announced > store.watcher().last_revision() {
                    poll_now(&store).await;
                }
            } else {
                store
                    .watcher()
                    .fail(Source::Listener, format!("{SOURCE} connection lost; reconnecting"));
                poll_now(&store).await;
                break;
            }
        }
    }
}
