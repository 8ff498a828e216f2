//! The worker's detail commands: peers, pieces, tracker edits and
//! edge-piece priority.

use std::net::{IpAddr, SocketAddr};

use revaer_domain::{
    InfoHash, PeerConnection, PeerEntry, PeerFlags, PeerSource, PieceMap, PieceState, TrackerEdit,
    TrackerSpec,
};

use super::Worker;
use super::commands::check_trackers;
use crate::error::{EngineError, Result};
use crate::ffi;
use crate::ffi::detail::PeerRecord;

/// Most trackers one torrent may have after an edit.
const MAX_TORRENT_TRACKERS: usize = 256;

impl Worker<'_> {
    pub(super) fn peers(&mut self, id: InfoHash) -> Result<Vec<PeerEntry>> {
        self.torrents.get(&id).ok_or(EngineError::NotFound { id })?;
        let records = ffi::detail::ffi::torrent_peers(self.session.pin_mut(), id.as_bytes())
            .map_err(EngineError::native("list peers"))?;
        Ok(records.into_iter().filter_map(peer_entry).collect())
    }

    pub(super) fn pieces(&mut self, id: InfoHash) -> Result<PieceMap> {
        self.torrents.get(&id).ok_or(EngineError::NotFound { id })?;
        let record = ffi::detail::ffi::torrent_pieces(self.session.pin_mut(), id.as_bytes())
            .map_err(EngineError::native("read pieces"))?;
        let states = record.states.iter().map(|state| match state {
            2 => PieceState::Have,
            1 => PieceState::Downloading,
            _ => PieceState::Missing,
        });
        Ok(PieceMap::new(u64::try_from(record.piece_size).unwrap_or(0), states))
    }

    /// Applies a tracker edit to the list libtorrent has now, and keeps
    /// the result as the torrent's exact list.
    pub(super) fn edit_trackers(&mut self, id: InfoHash, edit: &TrackerEdit) -> Result<()> {
        self.torrents.get(&id).ok_or(EngineError::NotFound { id })?;
        let current = ffi::torrent::ffi::torrent_trackers(self.session.pin_mut(), id.as_bytes())
            .map_err(EngineError::native("read trackers"))?
            .into_iter()
            .map(|record| TrackerSpec { url: record.url, tier: record.tier })
            .collect();
        let list = edited(current, edit)?;
        let specs: Vec<ffi::detail::TrackerSpec> = list
            .iter()
            .map(|t| ffi::detail::TrackerSpec { url: t.url.clone(), tier: t.tier })
            .collect();
        self.update_meta(
            id,
            |meta| meta.tracker_list = Some(list),
            |worker| {
                ffi::detail::ffi::replace_torrent_trackers(
                    worker.session.pin_mut(),
                    id.as_bytes(),
                    &specs,
                )
                .map_err(EngineError::native("replace trackers"))
            },
        )?;
        self.refresh_facets(id);
        self.request_save(id);
        Ok(())
    }

    pub(super) fn set_first_last(&mut self, id: InfoHash, enabled: bool) -> Result<()> {
        self.update_meta(
            id,
            |meta| meta.first_last_piece = enabled,
            |worker| {
                ffi::detail::ffi::set_edge_pieces(worker.session.pin_mut(), id.as_bytes(), enabled)
                    .map_err(EngineError::native("set edge-piece priority"))
            },
        )?;
        self.request_save(id);
        Ok(())
    }

    /// Raises the edge pieces again after the file priorities were set
    /// (which resets every piece's), when the torrent asks for it.
    pub(super) fn apply_edges(&mut self, id: InfoHash) {
        let wanted =
            self.torrents.get(&id).is_some_and(|r| r.meta.first_last_piece && r.layout.is_some());
        if !wanted {
            return;
        }
        if let Err(err) =
            ffi::detail::ffi::set_edge_pieces(self.session.pin_mut(), id.as_bytes(), true)
        {
            tracing::warn!(torrent = %id, error = %err.what(), "raising the edge pieces failed");
        }
    }
}

/// `current` after `edit`: replacements, removals, then additions.
fn edited(mut list: Vec<TrackerSpec>, edit: &TrackerEdit) -> Result<Vec<TrackerSpec>> {
    let conflict = |url: &str, reason| EngineError::TrackerConflict { url: url.to_owned(), reason };
    let urls: Vec<String> = edit
        .add
        .iter()
        .map(|t| t.url.clone())
        .chain(edit.replace.iter().map(|r| r.to.clone()))
        .collect();
    check_trackers(&urls)?;
    for replace in &edit.replace {
        if list.iter().any(|t| t.url == replace.to) {
            return Err(conflict(&replace.to, "is already a tracker of this torrent"));
        }
        let entry = list
            .iter_mut()
            .find(|t| t.url == replace.from)
            .ok_or_else(|| conflict(&replace.from, "is not a tracker of this torrent"))?;
        entry.url.clone_from(&replace.to);
    }
    for url in &edit.remove {
        let at = list
            .iter()
            .position(|t| &t.url == url)
            .ok_or_else(|| conflict(url, "is not a tracker of this torrent"))?;
        list.remove(at);
    }
    for spec in &edit.add {
        if !list.iter().any(|t| t.url == spec.url) {
            list.push(spec.clone());
        }
    }
    if list.len() > MAX_TORRENT_TRACKERS {
        return Err(EngineError::InvalidTracker {
            index: MAX_TORRENT_TRACKERS,
            reason: "a torrent has at most 256 trackers",
        });
    }
    // libtorrent tries tiers in order; keep each tier's trackers together.
    list.sort_by_key(|t| t.tier);
    Ok(list)
}

/// Revaer's peer flag bits, as `cpp/detail.cc` sets them.
mod bits {
    pub const INTERESTED: u32 = 1 << 0;
    pub const CHOKING_PEER: u32 = 1 << 1;
    pub const PEER_INTERESTED: u32 = 1 << 2;
    pub const CHOKED_BY_PEER: u32 = 1 << 3;
    pub const SNUBBED: u32 = 1 << 4;
    pub const SEED: u32 = 1 << 5;
    pub const OPTIMISTIC: u32 = 1 << 6;
    pub const INCOMING: u32 = 1 << 7;
    pub const ENCRYPTED: u32 = 1 << 8;
    pub const HANDSHAKE_ENCRYPTED: u32 = 1 << 9;
    pub const UTP: u32 = 1 << 10;
    pub const UPLOAD_ONLY: u32 = 1 << 11;
}

const SOURCES: [PeerSource; 6] = [
    PeerSource::Tracker,
    PeerSource::Dht,
    PeerSource::Pex,
    PeerSource::Lsd,
    PeerSource::ResumeData,
    PeerSource::Incoming,
];

fn peer_entry(record: PeerRecord) -> Option<PeerEntry> {
    let ip: IpAddr = record.ip.parse().ok()?;
    let on = |bit: u32| record.flags & bit != 0;
    let connection = match record.connection {
        1 => PeerConnection::WebSeed,
        2 => PeerConnection::HttpSeed,
        _ if on(bits::UTP) => PeerConnection::Utp,
        _ => PeerConnection::Tcp,
    };
    let flags = PeerFlags {
        interested: on(bits::INTERESTED),
        choked_by_peer: on(bits::CHOKED_BY_PEER),
        peer_interested: on(bits::PEER_INTERESTED),
        choking_peer: on(bits::CHOKING_PEER),
        snubbed: on(bits::SNUBBED),
        seed: on(bits::SEED),
        optimistic: on(bits::OPTIMISTIC),
        incoming: on(bits::INCOMING),
        encrypted: on(bits::ENCRYPTED),
        handshake_encrypted: on(bits::HANDSHAKE_ENCRYPTED),
        upload_only: on(bits::UPLOAD_ONLY),
    };
    let sources = SOURCES
        .iter()
        .enumerate()
        .filter(|(bit, _)| record.sources & (1 << bit) != 0)
        .map(|(_, source)| *source)
        .collect();
    let count = |value: i64| u64::try_from(value).unwrap_or(0);
    Some(PeerEntry {
        address: SocketAddr::new(ip, record.port),
        client: record.client,
        connection,
        progress: f64::from(record.progress_ppm.clamp(0, 1_000_000)) / 1_000_000.0,
        download_bps: count(record.download_rate.into()),
        upload_bps: count(record.upload_rate.into()),
        downloaded: count(record.total_download),
        uploaded: count(record.total_upload),
        flags,
        sources,
    })
}

#[cfg(test)]
mod tests {
    use revaer_domain::TrackerReplace;

    use super::*;

    fn spec(url: &str, tier: u8) -> TrackerSpec {
        TrackerSpec { url: url.to_owned(), tier }
    }

    #[test]
    fn tracker_edits_replace_remove_then_add_keeping_tiers() {
        let now = vec![spec("http://a/announce", 0), spec("http://b/announce", 1)];
        let edit = TrackerEdit {
            add: vec![spec("udp://c:1/announce", 0), spec("http://a2/announce", 2)],
            remove: vec!["http://b/announce".into()],
            replace: vec![TrackerReplace {
                from: "http://a/announce".into(),
                to: "http://a2/announce".into(),
            }],
        };
        let list = edited(now.clone(), &edit).expect("edit");
        assert_eq!(list, vec![spec("http://a2/announce", 0), spec("udp://c:1/announce", 0)]);

        let missing = TrackerEdit { remove: vec!["http://x/".into()], ..TrackerEdit::default() };
        assert!(matches!(edited(now.clone(), &missing), Err(EngineError::TrackerConflict { .. })));
        let taken = TrackerEdit {
            replace: vec![TrackerReplace {
                from: "http://a/announce".into(),
                to: "http://b/announce".into(),
            }],
            ..TrackerEdit::default()
        };
        assert!(matches!(edited(now.clone(), &taken), Err(EngineError::TrackerConflict { .. })));
        let junk = TrackerEdit { add: vec![spec("ftp://x/", 0)], ..TrackerEdit::default() };
        assert!(matches!(edited(now, &junk), Err(EngineError::InvalidTracker { .. })));
    }

    #[test]
    fn peer_bits_read_as_flags_and_sources() {
        let record = PeerRecord {
            ip: "::1".into(),
            port: 6881,
            client: "qBittorrent 5.0.5".into(),
            flags: bits::INTERESTED | bits::UTP | bits::INCOMING,
            sources: 0b10_0101,
            connection: 0,
            progress_ppm: 500_000,
            download_rate: 10,
            upload_rate: -1,
            total_download: 20,
            total_upload: 0,
        };
        let peer = peer_entry(record).expect("a peer");
        assert_eq!(peer.address.to_string(), "[::1]:6881");
        assert_eq!(peer.connection, PeerConnection::Utp);
        assert!(peer.flags.interested && peer.flags.incoming && !peer.flags.seed);
        assert_eq!(peer.sources, vec![PeerSource::Tracker, PeerSource::Pex, PeerSource::Incoming]);
        assert!((peer.progress - 0.5).abs() < 1e-9);
        assert_eq!((peer.download_bps, peer.upload_bps), (10, 0));
    }
}
