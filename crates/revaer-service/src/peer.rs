//! Who is asking: the client's address, for every protocol on the
//! listener. It is the TCP peer's, unless that peer is a proxy the
//! operator trusts (`--trusted-proxy`), in which case it is the address
//! the proxy forwarded: the right-most address in `X-Forwarded-For` that
//! is not itself a trusted proxy (unknown, and so remote, when the proxy
//! names none or an unreadable one).

use std::net::IpAddr;

use ipnet::IpNet;

/// Most forwarded addresses read from one request.
const MAX_HOPS: usize = 32;

/// The client of a connection from `peer` that carried the
/// `X-Forwarded-For` header values `forwarded` (in order), with `proxies`
/// trusted. `None`: the client is unknown.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded: impl IntoIterator<Item = &'a str>,
    proxies: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer.to_canonical();
    if !trusted(peer, proxies) {
        return Some(peer);
    }
    let hops: Vec<&str> =
        forwarded.into_iter().flat_map(|value| value.split(',')).map(str::trim).collect();
    // Right to left: each hop was added by the one after it; the first
    // that is not a trusted proxy is the client. A proxy that names no
    // client, or a hop that does not parse, leaves the client unknown —
    // never the proxy's own (loopback) address.
    let mut client = None;
    for hop in hops.iter().rev().take(MAX_HOPS) {
        let ip = hop.parse::<IpAddr>().ok()?.to_canonical();
        client = Some(ip);
        if !trusted(ip, proxies) {
            break;
        }
    }
    client
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}
