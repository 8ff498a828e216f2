// Private to the bridge's .cc files: the only header that pulls in
// libtorrent. Never include it from include/ (that would make every
// cxx-generated translation unit compile libtorrent's headers).
#pragma once

#include <libtorrent/info_hash.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_handle.hpp>

#include <string>
#include <unordered_map>

#include "revaer-engine/include/revaer-engine/common.h"

namespace revaer {

struct SessionImpl {
  explicit SessionImpl(lt::session_params params) : session(std::move(params)) {}

  lt::session session;
  // Handles by Revaer's id, kept in step with adds and removes so that a
  // command never needs a find_torrent() round trip to the network thread.
  std::unordered_map<lt::sha1_hash, lt::torrent_handle> handles;
  // The reverse, so that alerts and statuses name the torrent by the id it
  // was added under (a v2 magnet that turns out hybrid keeps its id even
  // though libtorrent's best hash becomes the v1 one), without a call into
  // the handle.
  std::unordered_map<lt::torrent_handle, Hash> ids;
  // Handles removed from the session: their late alerts are dropped, except
  // the removal and deletion results, which name the id (and whether data
  // is being deleted).
  std::unordered_map<lt::torrent_handle, std::pair<Hash, bool>> removed;

  // The handle for a torrent; throws std::invalid_argument when unknown.
  lt::torrent_handle const& handle(Hash const& hash) const;
  // The id of a live torrent's handle, if it is one.
  bool id_of(lt::torrent_handle const& handle, Hash& out) const;
};

lt::sha1_hash to_sha1(Hash const& hash);
Hash to_hash(lt::sha1_hash const& hash);
// The identity Revaer uses: v1 if present, else the truncated v2 hash
// (libtorrent's get_best() prefers v2).
Hash best_hash(lt::info_hash_t const& hashes);
// libtorrent strings (paths, messages) may not be UTF-8.
rust::String lossy(std::string const& text);
rust::String lossy(char const* text);

}  // namespace revaer
