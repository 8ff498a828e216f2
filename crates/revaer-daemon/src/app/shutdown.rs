//! Serving until a signal, and the signals.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use revaer_api::server::{ListenerLimits, Tls, serve};
use revaer_api::{ApiState, router};
use revaer_qbit::{QbitConfig, QbitState};
use tokio::net::TcpListener;

/// Announces the address (and the setup token), serves until SIGINT or
/// SIGTERM, then gives requests in flight the listener's drain time to
/// finish.
pub async fn serve_until_signal(
    listener: TcpListener,
    state: ApiState,
    limits: ListenerLimits,
    tls: Option<Tls>,
    setup_token: Option<&revaer_store::SecretToken>,
    qbit_api: bool,
) -> anyhow::Result<()> {
    let local: SocketAddr = listener.local_addr().context("read the listen address")?;
    let mut out = std::io::stdout().lock();
    if let Some(token) = setup_token {
        writeln!(out, "revaerd: setup required; setup token (shown once): {}", token.expose())?;
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    writeln!(out, "revaerd: listening on {scheme}://{local}")?;
    out.flush()?;
    drop(out);
    let bus = state.service.bus().clone();
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!(drain_secs = limits.drain.as_secs(), "stopping the listener");
        // Event streams never finish on their own: end them, so that the
        // graceful shutdown only waits for ordinary requests.
        bus.close();
    };
    let mut app = router(state.clone());
    if qbit_api {
        let config = QbitConfig { trusted_proxies: state.http.trusted_proxies.clone() };
        app = app.merge(revaer_qbit::router(QbitState::new(state.service.clone(), config)));
    }
    serve(listener, app, shutdown, limits, tls.as_ref()).await.context("serve HTTP")
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
