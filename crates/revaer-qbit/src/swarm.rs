//! `sync/torrentPeers` and `torrents/pieceStates`: a torrent's swarm.
//!
//! `torrentPeers` follows the same `rid` rules as `sync/maindata` (see
//! [`crate::rid`]), one state per client and torrent; peers are keyed
//! `ip:port`, and a delta carries a changed peer's changed fields and the
//! keys of the peers gone.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::{Extension, Json};
use revaer_domain::{InfoHash, PeerConnection, PeerEntry, PeerSource};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::params::Params;
use crate::reply::{Reply, service_error};
use crate::rid::{RidStates, changed, fields};
use crate::state::QbitState;
use crate::sync::Client;

/// One peer as qBittorrent lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerRow {
    ip: String,
    port: u16,
    client: String,
    peer_id_client: String,
    connection: &'static str,
    country: &'static str,
    country_code: &'static str,
    flags: String,
    flags_desc: String,
    progress: f64,
    /// What Revaer cannot tell without the peer's bitfield: the peer's
    /// progress stands in (`0` once this side has everything).
    relevance: f64,
    dl_speed: u64,
    up_speed: u64,
    downloaded: u64,
    uploaded: u64,
    files: &'static str,
}

/// qBittorrent's flag letters, each with the text it shows for it.
fn flags(peer: &PeerEntry) -> Vec<(char, &'static str)> {
    let f = &peer.flags;
    let from = |source| peer.sources.contains(&source);
    [
        (f.interested && !f.choked_by_peer, 'D', "Interested (local) and unchoked (peer)"),
        (f.interested && f.choked_by_peer, 'd', "Interested (local) and choked (peer)"),
        (f.peer_interested && !f.choking_peer, 'U', "Interested (peer) and unchoked (local)"),
        (f.peer_interested && f.choking_peer, 'u', "Interested (peer) and choked (local)"),
        (!f.interested && !f.choked_by_peer, 'K', "Not interested (local) and unchoked (peer)"),
        (!f.peer_interested && !f.choking_peer, '?', "Not interested (peer) and unchoked (local)"),
        (f.optimistic, 'O', "Optimistic unchoke"),
        (f.snubbed, 'S', "Peer snubbed"),
        (f.incoming, 'I', "Incoming connection"),
        (from(PeerSource::Dht), 'H', "Peer from DHT"),
        (from(PeerSource::Pex), 'X', "Peer from PEX"),
        (from(PeerSource::Lsd), 'L', "Peer from LSD"),
        (f.encrypted, 'E', "Encrypted traffic"),
        (f.handshake_encrypted, 'e', "Encrypted handshake"),
        (peer.connection == PeerConnection::Utp, 'P', "μTP"),
    ]
    .into_iter()
    .filter(|(on, _, _)| *on)
    .map(|(_, letter, text)| (letter, text))
    .collect()
}

impl PeerRow {
    /// The row of `peer`, for a torrent `complete` or not.
    pub fn of(peer: &PeerEntry, complete: bool) -> Self {
        let flags = flags(peer);
        Self {
            ip: peer.address.ip().to_string(),
            port: peer.address.port(),
            client: peer.client.clone(),
            peer_id_client: peer.client.clone(),
            connection: match peer.connection {
                PeerConnection::Tcp => "BT",
                PeerConnection::Utp => "μTP",
                PeerConnection::WebSeed | PeerConnection::HttpSeed => "Web",
            },
            country: "",
            country_code: "",
            flags: flags.iter().map(|(letter, _)| letter.to_string()).collect::<Vec<_>>().join(" "),
            flags_desc: flags
                .iter()
                .map(|(letter, text)| format!("{letter} = {text}"))
                .collect::<Vec<_>>()
                .join("\n"),
            progress: peer.progress,
            relevance: if complete { 0.0 } else { peer.progress },
            dl_speed: peer.download_bps,
            up_speed: peer.upload_bps,
            downloaded: peer.downloaded,
            uploaded: peer.uploaded,
            files: "",
        }
    }
}

/// A torrent's peers, as one client was sent them.
pub type PeerSnapshot = BTreeMap<String, Map<String, Value>>;

/// Every client's `torrentPeers` state, per torrent.
pub type PeerSyncs = RidStates<(Client, InfoHash), PeerSnapshot>;

/// A `sync/torrentPeers` reply.
#[derive(Debug, Clone, Serialize)]
pub struct TorrentPeers {
    rid: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    full_update: bool,
    show_flags: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    peers: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peers_removed: Option<Vec<String>>,
}

/// What takes a client from `old` to `new` (everything when `old` is
/// `None`).
pub fn peer_delta(old: Option<&PeerSnapshot>, new: &PeerSnapshot, rid: u64) -> TorrentPeers {
    let full = old.is_none();
    let empty = PeerSnapshot::new();
    let base = old.unwrap_or(&empty);
    let peers: Map<String, Value> = new
        .iter()
        .filter_map(|(key, row)| {
            let fields = match base.get(key) {
                Some(before) => changed(before, row.clone()),
                None => row.clone(),
            };
            (!fields.is_empty()).then(|| (key.clone(), Value::Object(fields)))
        })
        .collect();
    let removed: Vec<String> = base.keys().filter(|key| !new.contains_key(*key)).cloned().collect();
    TorrentPeers {
        rid,
        full_update: full,
        show_flags: true,
        peers: (full || !peers.is_empty()).then_some(peers),
        peers_removed: (!removed.is_empty()).then_some(removed),
    }
}

/// `sync/torrentPeers?hash=&rid=` (`404` for an unknown torrent).
pub async fn torrent_peers(
    State(state): State<QbitState>,
    Extension(client): Extension<Client>,
    params: Params,
) -> Reply<Json<TorrentPeers>> {
    let id = params.hash()?;
    let rid = params.int("rid").and_then(|rid| u64::try_from(rid).ok()).unwrap_or(0);
    let peers = state.service.peers(id).await.map_err(service_error)?;
    let complete = state.service.engine().summary(id).is_some_and(|t| t.progress >= 1.0);
    let now: PeerSnapshot = peers
        .iter()
        .map(|peer| (peer.address.to_string(), fields(&PeerRow::of(peer, complete))))
        .collect();
    Ok(Json(state.peer_syncs.reply(&(client, id), rid, now, peer_delta)))
}

/// `torrents/pieceStates?hash=`: one number a piece, `0` missing, `1`
/// downloading, `2` had (`404` for an unknown torrent).
pub async fn piece_states(State(state): State<QbitState>, params: Params) -> Reply<Json<Vec<u8>>> {
    let id = params.hash()?;
    let map = state.service.pieces(id).await.map_err(service_error)?;
    Ok(Json(map.states.bytes().map(|digit| digit.saturating_sub(b'0')).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use revaer_domain::PeerFlags;

    fn peer(port: u16, rate: u64) -> PeerEntry {
        PeerEntry {
            address: std::net::SocketAddr::from(([192, 0, 2, 7], port)),
            client: "qBittorrent 5.0.0".into(),
            connection: PeerConnection::Utp,
            progress: 0.5,
            download_bps: rate,
            upload_bps: 0,
            downloaded: 10,
            uploaded: 0,
            flags: PeerFlags {
                interested: true,
                peer_interested: true,
                choking_peer: true,
                incoming: true,
                ..PeerFlags::default()
            },
            sources: vec![PeerSource::Dht],
        }
    }

    fn snapshot(peers: &[PeerEntry]) -> PeerSnapshot {
        peers.iter().map(|p| (p.address.to_string(), fields(&PeerRow::of(p, false)))).collect()
    }

    #[test]
    fn flags_use_qbittorrents_letters() {
        let row = PeerRow::of(&peer(1, 0), false);
        assert_eq!(row.flags, "D u I H P");
        assert_eq!(row.connection, "μTP");
        assert!(row.flags_desc.starts_with("D = Interested (local) and unchoked (peer)\n"));
    }

    #[test]
    fn deltas_carry_changed_fields_and_removed_keys() {
        let full = peer_delta(None, &snapshot(&[peer(1, 0), peer(2, 0)]), 5);
        let json = serde_json::to_value(&full).expect("json");
        assert_eq!(json["full_update"], true);
        assert_eq!(json["peers"]["192.0.2.7:1"]["port"], 1);
        let before = snapshot(&[peer(1, 0), peer(2, 0)]);
        let delta = peer_delta(Some(&before), &snapshot(&[peer(1, 300)]), 6);
        let json = serde_json::to_value(&delta).expect("json");
        assert!(json.get("full_update").is_none());
        assert_eq!(json["peers"]["192.0.2.7:1"], serde_json::json!({"dl_speed": 300}));
        assert_eq!(json["peers_removed"], serde_json::json!(["192.0.2.7:2"]));
        let quiet = peer_delta(Some(&before), &before, 7);
        let json = serde_json::to_value(&quiet).expect("json");
        assert_eq!(json, serde_json::json!({"rid": 7, "show_flags": true}));
    }
}
