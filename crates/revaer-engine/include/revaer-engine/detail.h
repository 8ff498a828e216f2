// Detail bridge: a torrent's peers and pieces, its tracker list and its
// edge-piece priorities.
#pragma once

#include "revaer-engine/include/revaer-engine/common.h"

namespace revaer {

struct PeerRecord;
struct PieceRecord;
struct TrackerSpec;

rust::Vec<PeerRecord> torrent_peers(Session& session, Hash const& hash);
PieceRecord torrent_pieces(Session& session, Hash const& hash);
void replace_torrent_trackers(Session& session, Hash const& hash,
                              rust::Vec<TrackerSpec> const& trackers);
void set_edge_pieces(Session& session, Hash const& hash, bool enabled);

}  // namespace revaer
