//! A torrent's peers and pieces, as the engine reports them.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// How a peer is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PeerConnection {
    /// BitTorrent over TCP.
    Tcp,
    /// BitTorrent over uTP (UDP).
    Utp,
    /// A web seed (BEP 19, `url-list`).
    WebSeed,
    /// An HTTP seed (BEP 17, `httpseeds`).
    HttpSeed,
}

/// Where the engine learnt of a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PeerSource {
    /// A tracker's announce reply.
    Tracker,
    /// The DHT.
    Dht,
    /// Peer exchange.
    Pex,
    /// Local service discovery.
    Lsd,
    /// The torrent's saved state.
    ResumeData,
    /// It connected to us.
    Incoming,
}

/// The state of one peer connection, in BitTorrent's terms: "interested"
/// means one side wants pieces the other has; "choked" means one side
/// refuses to send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[allow(clippy::struct_excessive_bools, reason = "independent flags of one connection")]
pub struct PeerFlags {
    /// We want pieces the peer has.
    pub interested: bool,
    /// The peer refuses to send to us.
    pub choked_by_peer: bool,
    /// The peer wants pieces we have.
    pub peer_interested: bool,
    /// We refuse to send to the peer.
    pub choking_peer: bool,
    /// The peer stopped sending what it was asked for.
    pub snubbed: bool,
    /// The peer has every piece.
    pub seed: bool,
    /// We unchoked it on trial (optimistic unchoke).
    pub optimistic: bool,
    /// It connected to us (rather than we to it).
    pub incoming: bool,
    /// The connection is encrypted (RC4).
    pub encrypted: bool,
    /// Only the handshake was encrypted.
    pub handshake_encrypted: bool,
    /// The peer only uploads (it wants nothing).
    pub upload_only: bool,
}

/// One connected peer of a torrent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeerEntry {
    /// The peer's address (`ip:port`, IPv6 as `[ip]:port`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "192.0.2.7:51413"))]
    pub address: SocketAddr,
    /// The client it says it is (from its peer id or handshake).
    pub client: String,
    /// How it is connected.
    pub connection: PeerConnection,
    /// Fraction of the torrent it has, 0 to 1.
    pub progress: f64,
    /// Payload bytes per second from it.
    pub download_bps: u64,
    /// Payload bytes per second to it.
    pub upload_bps: u64,
    /// Bytes received from it on this connection.
    pub downloaded: u64,
    /// Bytes sent to it on this connection.
    pub uploaded: u64,
    /// The connection's state.
    pub flags: PeerFlags,
    /// Where the engine learnt of it.
    pub sources: Vec<PeerSource>,
}

/// What the engine has of one piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceState {
    /// Not downloaded.
    Missing,
    /// Being downloaded now.
    Downloading,
    /// Downloaded and verified.
    Have,
}

impl PieceState {
    /// The piece's digit in a [`PieceMap`]: `0`, `1` or `2`.
    #[must_use]
    pub const fn digit(self) -> char {
        match self {
            Self::Missing => '0',
            Self::Downloading => '1',
            Self::Have => '2',
        }
    }
}

/// Every piece of a torrent, one digit each in piece order: `0` missing,
/// `1` being downloaded, `2` have (the numbers qBittorrent's
/// `pieceStates` uses). Empty until the metadata is known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PieceMap {
    /// Bytes per piece (the last may be shorter); 0 before the metadata.
    pub piece_size: u64,
    /// One digit per piece.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[012]*$", example = "2221000"))]
    pub states: String,
}

impl PieceMap {
    /// The map of `states`.
    #[must_use]
    pub fn new(piece_size: u64, states: impl IntoIterator<Item = PieceState>) -> Self {
        Self { piece_size, states: states.into_iter().map(PieceState::digit).collect() }
    }

    /// Each piece's state (a digit other than `1` or `2` reads as missing).
    pub fn pieces(&self) -> impl Iterator<Item = PieceState> + '_ {
        self.states.chars().map(|digit| match digit {
            '2' => PieceState::Have,
            '1' => PieceState::Downloading,
            _ => PieceState::Missing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piece_maps_round_trip_their_digits() {
        let pieces = [PieceState::Have, PieceState::Downloading, PieceState::Missing];
        let map = PieceMap::new(16_384, pieces);
        assert_eq!(map.states, "210");
        assert_eq!(map.pieces().collect::<Vec<_>>(), pieces);
        let json = serde_json::to_value(&map).ok();
        assert_eq!(json, Some(serde_json::json!({"piece_size": 16_384, "states": "210"})));
    }
}
