//! Serving until a signal, and the signals.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use revaer_api::{ApiState, router, serve};
use tokio::net::TcpListener;

/// How long requests in flight get to finish after a shutdown signal.
const HTTP_DRAIN: Duration = Duration::from_secs(10);

/// Announces the address (and the setup token), serves until SIGINT or
/// SIGTERM, then gives requests in flight [`HTTP_DRAIN`] to finish.
pub async fn serve_until_signal(
    listener: TcpListener,
    state: ApiState,
    setup_token: Option<&revaer_store::SecretToken>,
) -> anyhow::Result<()> {
    let local: SocketAddr = listener.local_addr().context("read the listen address")?;
    let mut out = std::io::stdout().lock();
    if let Some(token) = setup_token {
        writeln!(out, "revaerd: setup required; setup token (shown once): {}", token.expose())?;
    }
    writeln!(out, "revaerd: listening on http://{local}")?;
    out.flush()?;
    drop(out);
    let (signalled, mut signal) = tokio::sync::watch::channel(false);
    let bus = state.service.bus().clone();
    let shutdown = async move {
        shutdown_signal().await;
        // Event streams never finish on their own: end them, so that the
        // graceful shutdown only waits for ordinary requests.
        bus.close();
        signalled.send_replace(true);
    };
    let http = serve(listener, router(state), shutdown);
    tokio::pin!(http);
    tokio::select! {
        result = &mut http => return result.context("serve HTTP"),
        _ = signal.wait_for(|s| *s) => {}
    }
    if let Ok(result) = tokio::time::timeout(HTTP_DRAIN, http).await {
        return result.context("serve HTTP");
    }
    tracing::warn!("requests still in flight after {} s; closing them", HTTP_DRAIN.as_secs());
    Ok(())
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
