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
//! The accept loop, the timer and graceful shutdown are `axum-server`'s;
//! only the cap (an acceptor holding a semaphore permit per connection) is
//! written here.

use std::future::{Future, Ready, ready};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum_server::accept::Accept;
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

/// Serves `router` on `listener` until `shutdown` resolves, then gives the
/// requests in flight [`ListenerLimits::drain`] to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ListenerLimits,
) -> io::Result<()> {
    let handle = axum_server::Handle::<SocketAddr>::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(limits.drain));
    });
    let router =
        router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(limits.body_timeout));
    let mut server = axum_server::Server::from_listener(listener)
        .acceptor(Capped::new(limits.max_connections))
        .handle(handle)
        .http1_only()
        .accept_error_handler(|peer, err| {
            tracing::debug!(peer = ?peer, error = %err, "connection refused");
        });
    server
        .http_builder()
        .http1()
        .header_read_timeout(limits.head_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    server.serve(router.into_make_service_with_connect_info::<SocketAddr>()).await
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
