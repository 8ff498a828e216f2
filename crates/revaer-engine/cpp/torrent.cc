// Torrent bridge: add, command and query torrents; read and create metainfo.
#include "revaer-engine/include/revaer-engine/torrent.h"

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/announce_entry.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/write_resume_data.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "revaer-engine/cpp/session_impl.h"
#include "revaer-engine/src/ffi/torrent.rs.h"

namespace revaer {
namespace {

lt::span<char const> as_span(std::uint8_t const* data, std::size_t size) {
  return {reinterpret_cast<char const*>(data), static_cast<std::ptrdiff_t>(size)};
}

std::shared_ptr<lt::torrent_info> load_info(lt::span<char const> bytes) {
  lt::error_code ec;
  auto info = std::make_shared<lt::torrent_info>(bytes, ec, lt::from_span);
  if (ec) throw std::invalid_argument("invalid metainfo: " + ec.message());
  return info;
}

rust::Vec<std::uint8_t> to_vec(std::vector<char> const& bytes) {
  rust::Vec<std::uint8_t> out;
  out.reserve(bytes.size());
  for (char byte : bytes) out.push_back(static_cast<std::uint8_t>(byte));
  return out;
}

lt::add_torrent_params base_params(AddParams const& p) {
  lt::add_torrent_params atp;
  if (!p.resume.empty()) {
    lt::error_code ec;
    atp = lt::read_resume_data(as_span(p.resume.data(), p.resume.size()), ec);
    if (ec) throw std::runtime_error("invalid resume data: " + ec.message());
  }
  if (!p.metainfo.empty()) {
    atp.ti = load_info(as_span(p.metainfo.data(), p.metainfo.size()));
  } else if (!atp.ti && !atp.info_hashes.has_v1() && !atp.info_hashes.has_v2()) {
    if (p.magnet.empty()) throw std::invalid_argument("neither metainfo nor magnet given");
    lt::error_code ec;
    lt::parse_magnet_uri(std::string(p.magnet), atp, ec);
    if (ec) throw std::invalid_argument("invalid magnet: " + ec.message());
  }
  return atp;
}

void apply_options(lt::add_torrent_params& atp, AddParams const& p) {
  namespace tf = lt::torrent_flags;
  // An empty save path keeps the one from the resume data.
  if (!p.save_path.empty()) atp.save_path = std::string(p.save_path);
  atp.flags &= ~(tf::paused | tf::auto_managed | tf::sequential_download | tf::upload_mode |
                 tf::disable_pex | tf::seed_mode);
  // add_torrent() checks for duplicates itself; anything that slips past
  // is an error rather than a silent second handle on one torrent.
  atp.flags |= tf::update_subscribe | tf::duplicate_is_error;
  // Running torrents belong to the session's queue unless forced.
  if (p.paused) {
    atp.flags |= tf::paused;
  } else if (!p.forced) {
    atp.flags |= tf::auto_managed;
  }
  if (p.sequential) atp.flags |= tf::sequential_download;
  if (p.upload_mode) atp.flags |= tf::upload_mode;
  if (p.disable_pex) atp.flags |= tf::disable_pex;
  if (p.seed_mode) atp.flags |= tf::seed_mode;
  for (auto const& rename : p.renamed_files) {
    atp.renamed_files[lt::file_index_t(static_cast<int>(rename.index))] = std::string(rename.path);
  }
  if (!p.file_priorities.empty()) {
    atp.file_priorities.clear();
    for (auto prio : p.file_priorities) atp.file_priorities.emplace_back(prio);
  }
  atp.download_limit = p.download_limit > 0 ? p.download_limit : -1;
  atp.upload_limit = p.upload_limit > 0 ? p.upload_limit : -1;
  if (p.exact_trackers) {
    atp.trackers.clear();
    atp.tracker_tiers.clear();
    atp.flags |= tf::override_trackers;
  }
  for (std::size_t i = 0; i < p.trackers.size(); ++i) {
    std::string url(p.trackers[i]);
    if (std::find(atp.trackers.begin(), atp.trackers.end(), url) != atp.trackers.end()) continue;
    // tracker_tiers runs alongside trackers (resume data fills both).
    atp.tracker_tiers.resize(atp.trackers.size(), 0);
    atp.trackers.push_back(url);
    atp.tracker_tiers.push_back(i < p.tracker_tiers.size() ? p.tracker_tiers[i] : 0);
  }
}

}  // namespace

namespace {

// The id of a torrent already in the session under any of its hashes, if
// any: a hybrid torrent may have been added by its v1 hash, its v2 magnet
// or both.
bool existing_id(SessionImpl& impl, lt::info_hash_t const& hashes, Hash& out) {
  std::vector<lt::sha1_hash> keys;
  if (hashes.has_v1()) keys.push_back(hashes.v1);
  if (hashes.has_v2()) keys.emplace_back(hashes.v2.data());
  for (auto const& key : keys) {
    if (impl.handles.count(key) != 0) {
      out = to_hash(key);
      return true;
    }
    auto handle = impl.session.find_torrent(key);
    if (handle.is_valid() && impl.id_of(handle, out)) return true;
  }
  return false;
}

bool is_zero(Hash const& hash) {
  return std::all_of(hash.begin(), hash.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace

AddedTorrent add_torrent(Session& session, AddParams const& params) {
  auto& impl = session.impl();
  auto atp = base_params(params);
  auto const hashes = atp.ti ? atp.ti->info_hashes() : atp.info_hashes;
  std::string name = atp.ti ? atp.ti->name() : atp.name;
  Hash id{};
  if (existing_id(impl, hashes, id)) return AddedTorrent{id, lossy(name), true};
  id = is_zero(params.id) ? best_hash(hashes) : params.id;
  apply_options(atp, params);
  auto handle = impl.session.add_torrent(std::move(atp));
  impl.handles.emplace(to_sha1(id), handle);
  impl.ids.emplace(handle, id);
  return AddedTorrent{id, lossy(name), false};
}

void remove_torrent(Session& session, Hash const& hash, Deletion deletion) {
  auto& impl = session.impl();
  auto handle = impl.handle(hash);
  // Deleting the part file runs on the disk thread after the torrent's
  // queued writes, and reports back (torrent_deleted_alert) when done.
  lt::remove_flags_t flags{};
  if (deletion == Deletion::PartFile) flags = lt::session::delete_partfile;
  impl.session.remove_torrent(handle, flags);
  impl.handles.erase(to_sha1(hash));
  impl.ids.erase(handle);
  impl.removed[handle] = {hash, deletion != Deletion::Nothing};
}

void pause_torrent(Session& session, Hash const& hash) {
  auto const& handle = session.impl().handle(hash);
  handle.unset_flags(lt::torrent_flags::auto_managed | lt::torrent_flags::stop_when_ready);
  handle.pause();
}

void resume_torrent(Session& session, Hash const& hash) {
  auto const& handle = session.impl().handle(hash);
  // A start during a recheck of a stopped torrent wins over the stop the
  // recheck asked for once it is done.
  handle.unset_flags(lt::torrent_flags::stop_when_ready);
  handle.set_flags(lt::torrent_flags::auto_managed);
  handle.resume();
}

void reannounce_torrent(Session& session, Hash const& hash) {
  session.impl().handle(hash).force_reannounce(0, -1, lt::torrent_handle::ignore_min_interval);
}

void recheck_torrent(Session& session, Hash const& hash) {
  auto const& handle = session.impl().handle(hash);
  // Without metadata there is nothing to check (force_recheck would do
  // nothing, and the stop below would fire at once).
  if (!handle.torrent_file()) return;
  auto const flags = handle.flags();
  // Stopped by the user: paused and off the queue. (A torrent the queue
  // paused is auto-managed, and the queue runs its check.)
  bool const stopped =
      (flags & lt::torrent_flags::paused) && !(flags & lt::torrent_flags::auto_managed);
  handle.force_recheck();
  if (!stopped) return;
  // libtorrent checks a paused torrent only once it runs: run it for the
  // check alone; stop_when_ready pauses it again as soon as the check is
  // done. The flag goes on once the torrent is checking: set on a torrent
  // in a downloading or seeding state, it would stop it at once and be
  // spent.
  handle.set_flags(lt::torrent_flags::stop_when_ready);
  handle.resume();
}

void set_torrent_flag(Session& session, Hash const& hash, TorrentFlag flag, bool enabled) {
  lt::torrent_flags_t bits{};
  switch (flag) {
    case TorrentFlag::Sequential: bits = lt::torrent_flags::sequential_download; break;
    case TorrentFlag::UploadMode: bits = lt::torrent_flags::upload_mode; break;
    case TorrentFlag::DisablePex: bits = lt::torrent_flags::disable_pex; break;
    case TorrentFlag::AutoManaged: bits = lt::torrent_flags::auto_managed; break;
    default: throw std::invalid_argument("unknown torrent flag");
  }
  auto const& handle = session.impl().handle(hash);
  if (enabled) {
    handle.set_flags(bits);
  } else {
    handle.unset_flags(bits);
  }
}

void queue_torrent(Session& session, Hash const& hash, QueueMove to) {
  auto const& handle = session.impl().handle(hash);
  switch (to) {
    case QueueMove::Top: handle.queue_position_top(); break;
    case QueueMove::Bottom: handle.queue_position_bottom(); break;
    case QueueMove::Up: handle.queue_position_up(); break;
    case QueueMove::Down: handle.queue_position_down(); break;
    default: throw std::invalid_argument("unknown queue move");
  }
}

void set_torrent_limits(Session& session, Hash const& hash, std::int32_t download,
                        std::int32_t upload) {
  auto const& handle = session.impl().handle(hash);
  handle.set_download_limit(download > 0 ? download : -1);
  handle.set_upload_limit(upload > 0 ? upload : -1);
}

void set_file_priorities(Session& session, Hash const& hash,
                         rust::Vec<std::uint8_t> const& priorities) {
  std::vector<lt::download_priority_t> levels;
  levels.reserve(priorities.size());
  for (auto prio : priorities) levels.emplace_back(prio);
  session.impl().handle(hash).prioritize_files(levels);
}

void move_torrent_storage(Session& session, Hash const& hash, rust::Str path) {
  // Files already at the target would be adopted unchecked with
  // dont_replace; refuse instead, and let the caller pick another place.
  session.impl().handle(hash).move_storage(std::string(path), lt::move_flags_t::fail_if_exist);
}

void connect_torrent_peer(Session& session, Hash const& hash, rust::Str ip, std::uint16_t port) {
  lt::error_code ec;
  auto address = lt::make_address(std::string(ip), ec);
  if (ec) throw std::invalid_argument("invalid peer address: " + ec.message());
  session.impl().handle(hash).connect_peer(lt::tcp::endpoint(address, port));
}

void request_resume_data(Session& session, Hash const& hash) {
  // Unmodified torrents answer with save_resume_data_failed (not
  // modified): nothing to write, which keeps shutdown with thousands of
  // idle torrents short.
  session.impl().handle(hash).save_resume_data(lt::torrent_handle::flush_disk_cache |
                                               lt::torrent_handle::only_if_modified);
}

void rename_torrent_files(Session& session, Hash const& hash, rust::Slice<FileRename const> renames) {
  auto const& handle = session.impl().handle(hash);
  auto const info = handle.torrent_file();
  if (!info) throw std::invalid_argument("metadata not yet known");
  for (auto const& rename : renames) {
    lt::file_index_t const index(static_cast<int>(rename.index));
    if (index >= info->files().end_file()) throw std::out_of_range("no such file");
    handle.rename_file(index, std::string(rename.path));
  }
}

rust::Vec<FileRecord> torrent_files(Session& session, Hash const& hash) {
  auto const& handle = session.impl().handle(hash);
  rust::Vec<FileRecord> out;
  auto info = handle.torrent_file();
  if (!info) return out;
  auto const& files = info->files();
  auto const progress = handle.file_progress(lt::torrent_handle::piece_granularity);
  auto const priorities = handle.get_file_priorities();
  for (lt::file_index_t i : files.file_range()) {
    auto const index = static_cast<std::size_t>(static_cast<int>(i));
    auto const prio = index < priorities.size() ? static_cast<std::uint8_t>(priorities[index])
                                                : std::uint8_t{4};
    out.push_back(FileRecord{lossy(files.file_path(i)), files.file_size(i),
                             index < progress.size() ? progress[index] : 0, prio,
                             files.pad_file_at(i)});
  }
  return out;
}

namespace {

// One tracker as the user means it. libtorrent announces once per listen
// endpoint (and per info-hash of a hybrid torrent); an endpoint that cannot
// reach the tracker (an IPv6 socket and an IPv4-only tracker) fails with
// `announce_skipped` even when another endpoint's announce worked. So: working
// when any endpoint's last announce succeeded (with the counts of those that
// did), else updating when one is in flight, else the error of one that failed
// (a real failure before a skip), else not contacted.
TrackerRecord tracker_record(lt::announce_entry const& entry) {
  TrackerRecord record{lossy(entry.url), entry.tier, 0, rust::String(), -1, -1};
  bool working = false, updating = false, failed = false, skipped_only = true;
  int seeds = -1, leechers = -1, any_seeds = -1, any_leechers = -1;
  std::string ok_message, error_message;
  for (auto const& endpoint : entry.endpoints) {
    if (!endpoint.enabled) continue;
    for (auto const& ih : endpoint.info_hashes) {
      any_seeds = std::max(any_seeds, ih.scrape_complete);
      any_leechers = std::max(any_leechers, ih.scrape_incomplete);
      updating = updating || ih.updating;
      if (ih.last_error) {
        bool const skip = ih.last_error == lt::errors::announce_skipped;
        if (!failed || (skipped_only && !skip)) {
          error_message = ih.message.empty() ? ih.last_error.message() : ih.message;
          skipped_only = skip;
        }
        failed = true;
      } else if (ih.start_sent) {
        working = true;
        seeds = std::max(seeds, ih.scrape_complete);
        leechers = std::max(leechers, ih.scrape_incomplete);
        if (!ih.message.empty()) ok_message = ih.message;
      }
    }
  }
  if (working) {
    record.status = 2;
    record.message = lossy(ok_message);
    record.seeds = seeds;
    record.leechers = leechers;
    return record;
  }
  record.seeds = any_seeds;
  record.leechers = any_leechers;
  if (updating) {
    record.status = 1;
  } else if (failed) {
    record.status = 3;
    record.message = lossy(error_message);
  }
  return record;
}

}  // namespace

rust::Vec<TrackerRecord> torrent_trackers(Session& session, Hash const& hash) {
  rust::Vec<TrackerRecord> out;
  for (auto const& entry : session.impl().handle(hash).trackers()) out.push_back(tracker_record(entry));
  return out;
}

rust::Vec<std::uint8_t> torrent_metainfo(Session& session, Hash const& hash) {
  auto const& handle = session.impl().handle(hash);
  // With piece layers when libtorrent has them (v2), else the plain info.
  auto info = handle.torrent_file_with_hashes();
  if (!info) info = std::const_pointer_cast<lt::torrent_info>(handle.torrent_file());
  if (!info) throw std::invalid_argument("metadata not yet known");
  lt::add_torrent_params atp;
  atp.ti = std::move(info);
  return to_vec(lt::write_torrent_file_buf(atp, lt::write_flags::allow_missing_piece_layer));
}

MetainfoRecord parse_metainfo(rust::Slice<std::uint8_t const> bytes) {
  auto info = load_info(as_span(bytes.data(), bytes.size()));
  auto const& hashes = info->info_hashes();
  std::array<std::uint8_t, 32> v2{};
  if (hashes.has_v2()) std::memcpy(v2.data(), hashes.v2.data(), v2.size());
  MetainfoRecord record{best_hash(hashes), v2, lossy(info->name()), info->total_size(),
                        rust::Vec<FileRecord>()};
  auto const& files = info->files();
  for (lt::file_index_t i : files.file_range()) {
    record.files.push_back(
        FileRecord{lossy(files.file_path(i)), files.file_size(i), 0, 4, files.pad_file_at(i)});
  }
  return record;
}

rust::Vec<std::uint8_t> create_metainfo(rust::Str path, rust::Str parent, std::int32_t piece_size,
                                        bool v1_only, rust::Vec<rust::String> const& trackers) {
  lt::file_storage storage;
  lt::add_files(storage, std::string(path));
  if (storage.num_files() == 0) throw std::invalid_argument("no files to put in a torrent");
  lt::create_torrent creator(storage, piece_size,
                             v1_only ? lt::create_torrent::v1_only : lt::create_flags_t{});
  int tier = 0;
  for (auto const& tracker : trackers) creator.add_tracker(std::string(tracker), tier++);
  lt::set_piece_hashes(creator, std::string(parent));
  std::vector<char> out;
  lt::bencode(std::back_inserter(out), creator.generate());
  return to_vec(out);
}

}  // namespace revaer
