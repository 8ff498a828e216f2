//! The listener: HTTP/1.1 on a TCP socket with every connection bounded.
//!
//! - **Head timeout**: a connection must deliver a request's whole head
//!   within [`ListenerLimits::head_timeout`] of the moment the server waits
//!   for it — after accepting, and after each response on a kept-alive
//!   connection (hyper's header-read timer runs from then), so the one
//!   bound cuts both trickled headers and idle keep-alive connections.
//! - **Body timeout**: a request body must arrive within
//!   [`ListenerLimits::body_timeout`].
//! - **Head size**: at most [`MAX_HEAD_BYTES`] of request head is buffered.
//! - **Connection cap**: at most [`ListenerLimits::max_connections`] at
//!   once; past it, new connections are closed as soon as they are
//!   accepted, so that the descriptors the engine and the database need
//!   are never all taken by clients.
//!
//! With a certificate and key ([`Tls`]), the same listener speaks HTTPS
//! (rustls, TLS 1.2 and 1.3; the handshake bounded by the head timeout).
//!
//! The accept loop, the timer, TLS and graceful shutdown are
//! `axum-server`'s; only the cap (an acceptor holding a semaphore permit
//! per connection) is written here.

use std::future::{Future, Ready, ready};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum_server::accept::Accept;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Largest request head (request line and headers) buffered, in bytes.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How the listener bounds its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerLimits {
    /// Time to deliver a request's head, counted from when the server
    /// waits for it (also the idle time allowed between kept-alive
    /// requests).
    pub head_timeout: Duration,
    /// Time to deliver a request's body.
    pub body_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// How long requests in flight get to finish at shutdown.
    pub drain: Duration,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        Self {
            head_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_mins(1),
            max_connections: 1024,
            drain: Duration::from_secs(10),
        }
    }
}

/// A certificate chain and its private key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// The certificate chain, leaf first.
    pub cert: std::path::PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: std::path::PathBuf,
}

/// Serves `router` on `listener` until `shutdown` resolves, then gives the
/// requests in flight [`ListenerLimits::drain`] to finish; over TLS when
/// `tls` is given.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ListenerLimits,
    tls: Option<&Tls>,
) -> io::Result<()> {
    let handle = axum_server::Handle::<SocketAddr>::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(limits.drain));
    });
    let router =
        router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(limits.body_timeout));
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let capped = Capped::new(limits.max_connections);
    let Some(tls) = tls else {
        let mut server =
            axum_server::Server::from_listener(listener).acceptor(capped).handle(handle);
        bound(server.http_builder(), limits);
        return server.http1_only().accept_error_handler(refused).serve(service).await;
    };
    // One crypto provider for the process (the first install wins).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let loaded = RustlsConfig::from_pem_file(&tls.cert, &tls.key).await?;
    // HTTP/1.1 is what is served: offer nothing else in ALPN.
    let mut inner = (*loaded.get_inner()).clone();
    inner.alpn_protocols = vec![b"http/1.1".to_vec()];
    let config = RustlsConfig::from_config(Arc::new(inner));
    let acceptor =
        RustlsAcceptor::new(config).handshake_timeout(limits.head_timeout).acceptor(capped);
    let mut server = axum_server::Server::from_listener(listener).acceptor(acceptor).handle(handle);
    bound(server.http_builder(), limits);
    server.http1_only().accept_error_handler(refused).serve(service).await
}

/// HTTP/1.1 with the head bounded in time and size.
fn bound(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limits: ListenerLimits,
) {
    builder
        .http1()
        .header_read_timeout(limits.head_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
}

fn refused(peer: Option<&SocketAddr>, err: &io::Error) {
    tracing::debug!(peer = ?peer, error = %err, "connection refused");
}

/// Admits a connection only while a slot is free; the slot is held by the
/// stream and freed when the connection closes.
#[derive(Debug, Clone)]
struct Capped {
    slots: Arc<Semaphore>,
}

impl Capped {
    fn new(max: usize) -> Self {
        Self { slots: Arc::new(Semaphore::new(max.max(1))) }
    }
}

impl<S> Accept<TcpStream, S> for Capped {
    type Stream = Slotted;
    type Service = S;
    type Future = Ready<io::Result<(Slotted, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
            metrics::counter!(revaer_telemetry::names::HTTP_CONNECTIONS_REFUSED_TOTAL).increment(1);
            return ready(Err(io::Error::other("the connection limit is reached")));
        };
        ready(Ok((Slotted { stream, _slot: slot }, service)))
    }
}

/// A connection holding its slot.
#[derive(Debug)]
struct Slotted {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Slotted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Slotted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
