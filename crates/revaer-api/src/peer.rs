//! Who is asking: the client's address. It is the TCP peer's, unless that
//! peer is a proxy the operator trusts (`--trusted-proxy`), in which case
//! it is the address the proxy forwarded: the right-most address in
//! `X-Forwarded-For` that is not itself a trusted proxy (unknown, and so
//! remote, when the proxy names none or an unreadable one). Loopback
//! exemptions and the setup gate look at this address, so that a reverse
//! proxy on the same host does not make every client a loopback client.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};

use crate::state::HttpConfig;

/// The client's address (`None` when the connection's peer is unknown,
/// or a trusted proxy does not name it): see
/// [`revaer_service::peer::client_ip`].
pub fn client_ip(request: &Request, http: &HttpConfig) -> Option<IpAddr> {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>()?.0.ip();
    let forwarded = request.headers().get_all("x-forwarded-for");
    let values = forwarded.iter().filter_map(|value| value.to_str().ok());
    revaer_service::peer::client_ip(peer, values, &http.trusted_proxies)
}

/// Whether the client is on loopback (IPv4, IPv6, or IPv4 mapped into
/// IPv6); an unknown client is not.
pub fn is_loopback(request: &Request, http: &HttpConfig) -> bool {
    client_ip(request, http).is_some_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: &[&str]) -> Request {
        let mut builder = Request::builder();
        for value in forwarded {
            builder = builder.header("x-forwarded-for", *value);
        }
        let mut request = builder.body(axum::body::Body::empty()).expect("request");
        let peer: SocketAddr = peer.parse().expect("addr");
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    }

    fn config(proxies: &[&str]) -> HttpConfig {
        let trusted_proxies = proxies.iter().map(|p| p.parse().expect("cidr")).collect();
        HttpConfig { trusted_proxies, ..HttpConfig::default() }
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let ip = |peer, forwarded: &[&str], proxies: &[&str]| {
            client_ip(&request(peer, forwarded), &config(proxies)).map(|ip| ip.to_string())
        };
        let some = |s: &str| Some(s.to_owned());
        // Untrusted peers are who they are, whatever they forward.
        assert_eq!(ip("127.0.0.1:1", &["203.0.113.9"], &[]), some("127.0.0.1"));
        assert_eq!(ip("198.51.100.1:1", &["127.0.0.1"], &["127.0.0.0/8"]), some("198.51.100.1"));
        // A trusted proxy on loopback forwards a remote client: not loopback.
        assert_eq!(ip("127.0.0.1:1", &["203.0.113.9"], &["127.0.0.0/8"]), some("203.0.113.9"));
        // A client-made first hop is ignored: the right-most untrusted hop wins.
        let chain = ["127.0.0.1, 203.0.113.9", "10.0.0.2"];
        assert_eq!(ip("127.0.0.1:1", &chain, &["127.0.0.0/8", "10.0.0.0/8"]), some("203.0.113.9"));
        // The right-most untrusted hop counts, junk left of it does not…
        assert_eq!(
            ip("127.0.0.1:1", &["nonsense, 203.0.113.9"], &["127.0.0.1/32"]),
            some("203.0.113.9")
        );
        // …but junk, or no header, from a trusted proxy is an unknown client.
        assert_eq!(ip("127.0.0.1:1", &["nonsense"], &["127.0.0.1/32"]), None);
        assert_eq!(ip("127.0.0.1:1", &["203.0.113.9:4000"], &["127.0.0.1/32"]), None);
        assert_eq!(ip("127.0.0.1:1", &[], &["127.0.0.1/32"]), None);
        // Only proxies in the chain: the left-most is the client.
        assert_eq!(ip("127.0.0.1:1", &["127.0.0.2"], &["127.0.0.0/8"]), some("127.0.0.2"));
        // IPv4 mapped into IPv6 is the IPv4 address.
        assert_eq!(ip("[::ffff:127.0.0.1]:1", &[], &[]), some("127.0.0.1"));
        let bare = Request::builder().body(axum::body::Body::empty()).expect("request");
        assert!(!is_loopback(&bare, &HttpConfig::default()), "an unknown peer is remote");
    }
}
