// Session bridge: building the session and applying settings.
#include "revaer-engine/include/revaer-engine/session.h"

#include <libtorrent/address.hpp>
#include <libtorrent/alert.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/mmap_disk_io.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/settings_pack.hpp>

#include <cstring>
#include <stdexcept>

#include "revaer-engine/cpp/session_impl.h"
#include "revaer-engine/src/ffi/session.rs.h"

namespace revaer {

Session::Session(std::unique_ptr<SessionImpl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

lt::torrent_handle const& SessionImpl::handle(Hash const& hash) const {
  auto found = handles.find(to_sha1(hash));
  if (found == handles.end()) throw std::invalid_argument("unknown torrent");
  return found->second;
}

bool SessionImpl::id_of(lt::torrent_handle const& handle, Hash& out) const {
  auto found = ids.find(handle);
  if (found == ids.end()) return false;
  out = found->second;
  return true;
}

lt::sha1_hash to_sha1(Hash const& hash) {
  return lt::sha1_hash(reinterpret_cast<char const*>(hash.data()));
}

Hash to_hash(lt::sha1_hash const& hash) {
  Hash out{};
  std::memcpy(out.data(), hash.data(), out.size());
  return out;
}

Hash best_hash(lt::info_hash_t const& hashes) {
  // Not info_hash_t::get_best(), which prefers the truncated v2 hash:
  // Revaer names hybrid torrents by their v1 hash, as other clients do.
  return to_hash(hashes.has_v1() ? hashes.v1 : lt::sha1_hash(hashes.v2.data()));
}

rust::String lossy(std::string const& text) { return rust::String::lossy(text); }
rust::String lossy(char const* text) { return rust::String::lossy(text == nullptr ? "" : text); }

namespace {

using sp = lt::settings_pack;

void apply_encryption(sp& pack, Encryption policy) {
  switch (policy) {
    case Encryption::Required:
      pack.set_int(sp::out_enc_policy, sp::pe_forced);
      pack.set_int(sp::in_enc_policy, sp::pe_forced);
      pack.set_int(sp::allowed_enc_level, sp::pe_rc4);
      break;
    case Encryption::Disabled:
      pack.set_int(sp::out_enc_policy, sp::pe_disabled);
      pack.set_int(sp::in_enc_policy, sp::pe_disabled);
      pack.set_int(sp::allowed_enc_level, sp::pe_both);
      break;
    default:
      pack.set_int(sp::out_enc_policy, sp::pe_enabled);
      pack.set_int(sp::in_enc_policy, sp::pe_enabled);
      pack.set_int(sp::allowed_enc_level, sp::pe_both);
      break;
  }
}

sp to_pack(SessionSettings const& s) {
  sp pack;
  pack.set_str(sp::listen_interfaces, std::string(s.listen_interfaces));
  // A port that is taken is an error to report, not a reason to listen on
  // some other port that no router forwards to.
  pack.set_bool(sp::listen_system_port_fallback, false);
  pack.set_bool(sp::enable_dht, s.enable_dht);
  pack.set_str(sp::dht_bootstrap_nodes, std::string(s.dht_bootstrap_nodes));
  pack.set_bool(sp::enable_lsd, s.enable_lsd);
  pack.set_bool(sp::enable_upnp, s.enable_upnp);
  pack.set_bool(sp::enable_natpmp, s.enable_natpmp);
  pack.set_bool(sp::enable_outgoing_utp, s.enable_utp);
  pack.set_bool(sp::enable_incoming_utp, s.enable_utp);
  apply_encryption(pack, s.encryption);
  pack.set_int(sp::connections_limit, s.connections_limit);
  pack.set_int(sp::active_downloads, s.active_downloads);
  pack.set_int(sp::active_seeds, s.active_seeds);
  pack.set_int(sp::active_limit, s.active_limit);
  pack.set_int(sp::download_rate_limit, s.download_rate_limit);
  pack.set_int(sp::upload_rate_limit, s.upload_rate_limit);
  pack.set_bool(sp::allow_multiple_connections_per_ip, s.allow_multiple_connections_per_ip);
  pack.set_str(sp::peer_fingerprint, std::string(s.peer_fingerprint));
  pack.set_str(sp::user_agent, std::string(s.user_agent));
  pack.set_int(sp::stop_tracker_timeout, s.stop_tracker_timeout);
  // Tracker errors arrive through the error category; the tracker category
  // would add every announce and scrape reply to the queue.
  pack.set_int(sp::alert_mask, static_cast<int>(static_cast<std::uint32_t>(
                                   lt::alert_category::status | lt::alert_category::error |
                                   lt::alert_category::storage)));
  // Leave room for bursts of state updates with many torrents.
  pack.set_int(sp::alert_queue_size, 100000);
  return pack;
}

// Peer classes decide which peers the global rate caps apply to. By
// default libtorrent exempts local networks; operators testing on a LAN
// (and our loopback tests) usually want the caps to apply everywhere.
lt::ip_filter peer_class_filter(bool rate_limit_local_peers) {
  auto const global = 1u << static_cast<std::uint32_t>(lt::session::global_peer_class_id);
  auto const local = 1u << static_cast<std::uint32_t>(lt::session::local_peer_class_id);
  lt::ip_filter filter;
  filter.add_rule(lt::make_address("0.0.0.0"), lt::make_address("255.255.255.255"), global);
  filter.add_rule(lt::make_address("::"),
                  lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), global);
  if (!rate_limit_local_peers) {
    char const* ranges[][2] = {{"10.0.0.0", "10.255.255.255"},
                               {"172.16.0.0", "172.31.255.255"},
                               {"192.168.0.0", "192.168.255.255"},
                               {"169.254.0.0", "169.254.255.255"},
                               {"127.0.0.0", "127.255.255.255"},
                               {"::1", "::1"},
                               {"fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}};
    for (auto const& range : ranges) {
      filter.add_rule(lt::make_address(range[0]), lt::make_address(range[1]), local);
    }
  }
  return filter;
}

}  // namespace

std::unique_ptr<Session> new_session(SessionSettings const& settings, DiskIo disk_io) {
  lt::session_params params(to_pack(settings));
  params.disk_io_constructor =
      disk_io == DiskIo::Posix ? lt::posix_disk_io_constructor : lt::mmap_disk_io_constructor;
  auto impl = std::make_unique<SessionImpl>(std::move(params));
  impl->session.set_peer_class_filter(peer_class_filter(settings.rate_limit_local_peers));
  return std::make_unique<Session>(std::move(impl));
}

void apply_settings(Session& session, SessionSettings const& settings) {
  auto& ses = session.impl().session;
  ses.apply_settings(to_pack(settings));
  ses.set_peer_class_filter(peer_class_filter(settings.rate_limit_local_peers));
}

void post_updates(Session& session) {
  using th = lt::torrent_handle;
  session.impl().session.post_torrent_updates(th::query_name | th::query_save_path |
                                              th::query_torrent_file |
                                              th::query_accurate_download_counters);
}

void post_stats(Session& session) { session.impl().session.post_session_stats(); }

}  // namespace revaer
