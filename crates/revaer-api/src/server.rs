//! The listener: HTTP/1.1 on a TCP socket with every connection bounded.
//!
//! - **Head timeout**: a connection must deliver a request's whole head
//!   within [`ListenerLimits::head_timeout`] of the moment the server waits
//!   for it — after accepting, and after each response on a kept-alive
//!   connection (hyper's header-read timer runs from then), so the one
//!   bound cuts both trickled headers and idle keep-alive connections.
//! - **Body deadline**: a request body must arrive whole within
//!   [`ListenerLimits::body_timeout`] of the request's start, however it
//!   trickles in ([`crate::deadline`]); past it the request fails with
//!   `408` and the connection is closed.
//! - **Head size**: at most [`MAX_HEAD_BYTES`] of request head is buffered.
//! - **Write stall**: an answer may wait at most
//!   [`ListenerLimits::write_timeout`] on a client that reads none of it.
//! - **Connection cap**: at most [`ListenerLimits::max_connections`] at
//!   once, and [`ListenerLimits::max_per_address`] from one address
//!   (trusted proxies aside); past it, new connections are closed as soon
//!   as they are accepted, so that the descriptors the engine and the
//!   database need are never all taken by clients, nor every connection
//!   by one client.
//!
//! With a certificate and key ([`Tls`]), the same listener speaks HTTPS
//! (rustls, TLS 1.2 and 1.3; the handshake bounded by the head timeout).
//!
//! The accept loop, the timer, TLS and graceful shutdown are
//! `axum-server`'s; only the caps (an acceptor holding a semaphore permit
//! and an address count per connection) and the write stall (a timer on a
//! write that waits) are written here: hyper bounds neither.

use std::collections::HashMap;
use std::future::{Future, Ready, ready};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerLimits {
    /// Time to deliver a request's head, counted from when the server
    /// waits for it (also the idle time allowed between kept-alive
    /// requests).
    pub head_timeout: Duration,
    /// Time to deliver a request's whole body, from the request's start.
    pub body_timeout: Duration,
    /// Time an answer may wait on a client that reads nothing of it.
    pub write_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one client: one IPv4 address, or
    /// one IPv6 /64.
    pub max_per_address: usize,
    /// Addresses the per-address bound does not apply to (trusted reverse
    /// proxies, whose connections carry many clients).
    pub unbounded: Vec<ipnet::IpNet>,
    /// How long requests in flight get to finish at shutdown.
    pub drain: Duration,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        Self {
            head_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_mins(1),
            write_timeout: Duration::from_mins(1),
            max_connections: 1024,
            max_per_address: 256,
            unbounded: Vec::new(),
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
    let drain = limits.drain;
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(drain));
    });
    let deadline = limits.body_timeout;
    let router =
        router.layer(axum::middleware::map_request(
            move |request: axum::extract::Request| async move {
                crate::deadline::bound(request, deadline)
            },
        ));
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let capped = Capped::new(&limits);
    let Some(tls) = tls else {
        let mut server =
            axum_server::Server::from_listener(listener).acceptor(capped).handle(handle);
        bound(server.http_builder(), &limits);
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
    bound(server.http_builder(), &limits);
    server.http1_only().accept_error_handler(refused).serve(service).await
}

/// HTTP/1.1 with the head bounded in time and size.
fn bound(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limits: &ListenerLimits,
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

/// Admits a connection only while a slot is free, overall and for its
/// address; the slots are held by the stream and freed when the
/// connection closes.
#[derive(Debug, Clone)]
struct Capped {
    slots: Arc<Semaphore>,
    per_address: Arc<PerAddress>,
    write_timeout: Duration,
}

/// Connections open per client address.
#[derive(Debug)]
struct PerAddress {
    max: usize,
    unbounded: Vec<ipnet::IpNet>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl Capped {
    fn new(limits: &ListenerLimits) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            per_address: Arc::new(PerAddress {
                max: limits.max_per_address.max(1),
                unbounded: limits.unbounded.clone(),
                open: Mutex::new(HashMap::new()),
            }),
            write_timeout: limits.write_timeout,
        }
    }
}

impl<S> Accept<TcpStream, S> for Capped {
    type Stream = Slotted;
    type Service = S;
    type Future = Ready<io::Result<(Slotted, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let refuse = |why: &str| {
            metrics::counter!(revaer_telemetry::names::HTTP_CONNECTIONS_REFUSED_TOTAL).increment(1);
            ready(Err(io::Error::other(why.to_owned())))
        };
        let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
            return refuse("the connection limit is reached");
        };
        let address = match stream.peer_addr() {
            Ok(peer) => AddressSlot::take(&self.per_address, peer.ip()),
            Err(err) => return ready(Err(err)),
        };
        let Some(address) = address else {
            return refuse("the connection limit of this address is reached");
        };
        let stalled = Stall { limit: self.write_timeout, timer: None };
        ready(Ok((Slotted { stream, stalled, _slot: slot, _address: address }, service)))
    }
}

/// A connection's place in its address's count (none for an address the
/// bound does not apply to).
#[derive(Debug)]
struct AddressSlot(Option<(Arc<PerAddress>, IpAddr)>);

impl AddressSlot {
    fn take(per_address: &Arc<PerAddress>, ip: IpAddr) -> Option<Self> {
        let ip = ip.to_canonical();
        if per_address.unbounded.iter().any(|net| net.contains(&ip)) {
            return Some(Self(None));
        }
        let ip = client_of(ip);
        let mut open = per_address.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(ip).or_default();
        if *count >= per_address.max {
            return None;
        }
        *count += 1;
        Some(Self(Some((Arc::clone(per_address), ip))))
    }
}

/// The unit one client is counted by: an IPv4 address, or an IPv6 /64
/// (one host usually holds a whole /64, and could otherwise take a new
/// address for every connection).
fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1_u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(network))
        }
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let Some((per_address, ip)) = self.0.take() else { return };
        let mut open = per_address.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&ip);
            }
        }
    }
}

/// How long a write has waited on a client that reads nothing.
#[derive(Debug)]
struct Stall {
    limit: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Stall {
    /// Passes on a write's result; a write still waiting past the limit
    /// (the client reads nothing) fails the connection instead.
    fn check<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.timer = None;
            return polled;
        }
        let limit = self.limit;
        let timer = self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing of the answer in time",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A connection holding its slots.
#[derive(Debug)]
struct Slotted {
    stream: TcpStream,
    stalled: Stall,
    _slot: OwnedSemaphorePermit,
    _address: AddressSlot,
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
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.stalled.check(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.stalled.check(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_flush(cx);
        this.stalled.check(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_an_ipv4_address_or_an_ipv6_slash_64() {
        let ip = |text: &str| text.parse::<IpAddr>().expect("address");
        assert_eq!(client_of(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_of(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_of(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_ne!(client_of(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        let limits = ListenerLimits { max_per_address: 1, ..ListenerLimits::default() };
        let capped = Capped::new(&limits);
        let first = AddressSlot::take(&capped.per_address, ip("2001:db8:1:2::1"));
        assert!(first.is_some());
        assert!(
            AddressSlot::take(&capped.per_address, ip("2001:db8:1:2::2")).is_none(),
            "same /64"
        );
        drop(first);
        assert!(AddressSlot::take(&capped.per_address, ip("2001:db8:1:2::2")).is_some(), "freed");
    }
}
