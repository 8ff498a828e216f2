// Detail bridge: a torrent's peers and pieces, its tracker list and its
// edge-piece priorities.
#include "revaer-engine/include/revaer-engine/detail.h"

#include <libtorrent/announce_entry.hpp>
#include <libtorrent/peer_info.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "revaer-engine/cpp/session_impl.h"
#include "revaer-engine/src/ffi/detail.rs.h"

namespace revaer {
namespace {

// Revaer's peer flag bits (crate::peers mirrors them).
std::uint32_t peer_flags(lt::peer_info const& peer) {
  using pi = lt::peer_info;
  std::pair<lt::peer_flags_t, std::uint32_t> const bits[] = {
      {pi::interesting, 1u << 0},        {pi::choked, 1u << 1},
      {pi::remote_interested, 1u << 2},  {pi::remote_choked, 1u << 3},
      {pi::snubbed, 1u << 4},            {pi::seed, 1u << 5},
      {pi::optimistic_unchoke, 1u << 6}, {pi::rc4_encrypted, 1u << 8},
      {pi::plaintext_encrypted, 1u << 9}, {pi::utp_socket, 1u << 10},
      {pi::upload_only, 1u << 11},
  };
  std::uint32_t out = 0;
  for (auto const& [flag, bit] : bits) {
    if (peer.flags & flag) out |= bit;
  }
  if (!(peer.flags & pi::outgoing_connection)) out |= 1u << 7;  // incoming
  return out;
}

std::uint8_t peer_sources(lt::peer_info const& peer) {
  using pi = lt::peer_info;
  std::pair<lt::peer_source_flags_t, std::uint8_t> const bits[] = {
      {pi::tracker, 1u << 0}, {pi::dht, 1u << 1},         {pi::pex, 1u << 2},
      {pi::lsd, 1u << 3},     {pi::resume_data, 1u << 4}, {pi::incoming, 1u << 5},
  };
  std::uint8_t out = 0;
  for (auto const& [flag, bit] : bits) {
    if (peer.source & flag) out = static_cast<std::uint8_t>(out | bit);
  }
  return out;
}

std::uint8_t connection_of(lt::peer_info const& peer) {
  if (peer.connection_type == lt::peer_info::web_seed) return 1;
  if (peer.connection_type == lt::peer_info::http_seed) return 2;
  return 0;
}

}  // namespace

rust::Vec<PeerRecord> torrent_peers(Session& session, Hash const& hash) {
  std::vector<lt::peer_info> peers;
  session.impl().handle(hash).get_peer_info(peers);
  rust::Vec<PeerRecord> out;
  out.reserve(peers.size());
  for (auto const& peer : peers) {
    // Half-open connections are not peers yet.
    if (peer.flags & (lt::peer_info::connecting | lt::peer_info::handshake)) continue;
    out.push_back(PeerRecord{lossy(peer.ip.address().to_string()), peer.ip.port(),
                             lossy(peer.client), peer_flags(peer), peer_sources(peer),
                             connection_of(peer), peer.progress_ppm, peer.payload_down_speed,
                             peer.payload_up_speed, peer.total_download, peer.total_upload});
  }
  return out;
}

PieceRecord torrent_pieces(Session& session, Hash const& hash) {
  auto const& handle = session.impl().handle(hash);
  auto const status = handle.status(lt::torrent_handle::query_pieces);
  PieceRecord out{0, rust::Vec<std::uint8_t>()};
  auto info = handle.torrent_file();
  if (!status.has_metadata || !info) return out;
  out.piece_size = info->piece_length();
  out.states.reserve(static_cast<std::size_t>(info->num_pieces()));
  // A seed's bitfield may be empty (libtorrent drops it once complete).
  bool const all = status.is_seeding;
  for (int i = 0; i < info->num_pieces(); ++i) {
    bool const have =
        all || (i < status.pieces.size() && status.pieces.get_bit(lt::piece_index_t(i)));
    out.states.push_back(have ? 2 : 0);
  }
  for (auto const& partial : handle.get_download_queue()) {
    auto const index = static_cast<std::size_t>(static_cast<int>(partial.piece_index));
    if (index < out.states.size() && out.states[index] == 0) out.states[index] = 1;
  }
  return out;
}

void replace_torrent_trackers(Session& session, Hash const& hash,
                              rust::Vec<TrackerSpec> const& trackers) {
  std::vector<lt::announce_entry> entries;
  entries.reserve(trackers.size());
  for (auto const& spec : trackers) {
    lt::announce_entry entry(std::string(spec.url));
    entry.tier = spec.tier;
    entries.push_back(std::move(entry));
  }
  session.impl().handle(hash).replace_trackers(entries);
}

void set_edge_pieces(Session& session, Hash const& hash, bool enabled) {
  auto const& handle = session.impl().handle(hash);
  auto info = handle.torrent_file();
  if (!info) return;
  auto const files = handle.get_file_priorities();
  auto const& storage = info->files();
  // Each piece at the highest priority of the files it holds, as libtorrent
  // derives them. prioritize_files() is not used to reset: it recomputes
  // piece priorities only once the disk thread answers, which would undo
  // the raise below (file_prio_alert and torrent_checked_alert make the
  // worker raise them again).
  std::vector<lt::download_priority_t> pieces(
      static_cast<std::size_t>(storage.num_pieces()), lt::dont_download);
  auto const file_priority = [&](lt::file_index_t i) {
    auto const index = static_cast<std::size_t>(static_cast<int>(i));
    return index < files.size() ? files[index] : lt::default_priority;
  };
  for (lt::file_index_t i : storage.file_range()) {
    std::int64_t const size = storage.file_size(i);
    if (storage.pad_file_at(i) || size == 0) continue;
    auto const first = static_cast<int>(storage.map_file(i, 0, 1).piece);
    auto const last = static_cast<int>(storage.map_file(i, size - 1, 1).piece);
    for (int p = first; p <= last; ++p) {
      auto& slot = pieces[static_cast<std::size_t>(p)];
      slot = std::max(slot, file_priority(i));
    }
  }
  std::int64_t const piece = storage.piece_length();
  for (lt::file_index_t i : storage.file_range()) {
    std::int64_t const size = storage.file_size(i);
    if (!enabled || storage.pad_file_at(i) || size == 0) continue;
    if (file_priority(i) == lt::dont_download) continue;
    // As qBittorrent does: the pieces of the first and the last 1 % of the
    // file, at least one piece each.
    int const span = static_cast<int>(std::max<std::int64_t>(1, (size / 100 + piece - 1) / piece));
    auto const first = static_cast<int>(storage.map_file(i, 0, 1).piece);
    auto const last = static_cast<int>(storage.map_file(i, size - 1, 1).piece);
    for (int p = first; p < first + span && p <= last; ++p) {
      pieces[static_cast<std::size_t>(p)] = lt::top_priority;
    }
    for (int p = std::max(first, last - span + 1); p <= last; ++p) {
      pieces[static_cast<std::size_t>(p)] = lt::top_priority;
    }
  }
  handle.prioritize_pieces(pieces);
}

}  // namespace revaer
