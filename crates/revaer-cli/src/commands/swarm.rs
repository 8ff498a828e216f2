//! `revaer peers` and `revaer pieces`: a torrent's swarm as the daemon sees
//! it now.

use revaer_api_models::PeerList;
use revaer_domain::InfoHash;
use revaer_domain::{PeerConnection, PieceMap, PieceState};

use crate::client::Client;
use crate::error::CliResult;
use crate::output::{Output, bytes, table};

/// Pieces drawn per line of `revaer pieces`.
const PIECES_PER_LINE: usize = 64;

/// `revaer peers`.
pub async fn peers(client: &Client, out: Output, id: InfoHash) -> CliResult<()> {
    let list: PeerList = client.get(&format!("/v1/torrents/{}/peers", id.to_hex())).await?;
    out.print(&list, peers_text);
    Ok(())
}

fn peers_text(list: &PeerList) -> String {
    let rows: Vec<Vec<String>> = list
        .peers
        .iter()
        .map(|peer| {
            let connection = match peer.connection {
                PeerConnection::Tcp => "tcp",
                PeerConnection::Utp => "utp",
                PeerConnection::WebSeed | PeerConnection::HttpSeed => "web",
            };
            vec![
                peer.address.to_string(),
                peer.client.clone(),
                connection.to_owned(),
                format!("{:.1}%", peer.progress * 100.0),
                format!("{}/s", bytes(peer.download_bps)),
                format!("{}/s", bytes(peer.upload_bps)),
                if peer.flags.incoming { "in" } else { "out" }.to_owned(),
            ]
        })
        .collect();
    table(&["PEER", "CLIENT", "VIA", "HAS", "DOWN", "UP", "DIR"], &rows)
}

/// `revaer pieces`.
pub async fn pieces(client: &Client, out: Output, id: InfoHash) -> CliResult<()> {
    let map: PieceMap = client.get(&format!("/v1/torrents/{}/pieces", id.to_hex())).await?;
    out.print(&map, pieces_text);
    Ok(())
}

fn pieces_text(map: &PieceMap) -> String {
    let glyphs: Vec<char> = map
        .pieces()
        .map(|piece| match piece {
            PieceState::Have => '#',
            PieceState::Downloading => '+',
            PieceState::Missing => '.',
        })
        .collect();
    let have = glyphs.iter().filter(|glyph| **glyph == '#').count();
    let mut text = format!("{} pieces of {}, {have} had\n", glyphs.len(), bytes(map.piece_size));
    for line in glyphs.chunks(PIECES_PER_LINE) {
        text.extend(line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_piece_map_draws_one_glyph_per_piece() {
        let map =
            PieceMap::new(16_384, [PieceState::Have, PieceState::Downloading, PieceState::Missing]);
        assert_eq!(pieces_text(&map), "3 pieces of 16.0 KiB, 1 had\n#+.\n");
    }
}
