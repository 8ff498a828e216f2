// Alert bridge: drain libtorrent's alert queue into plain records.
#include "revaer-engine/include/revaer-engine/alert.h"

#include <libtorrent/alert_types.hpp>
#include <libtorrent/session_stats.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <libtorrent/write_resume_data.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

#include "revaer-engine/cpp/session_impl.h"
#include "revaer-engine/src/ffi/alert.rs.h"

namespace revaer {
namespace {

AlertRecord record(AlertKind kind, Hash const& hash) {
  return AlertRecord{kind, hash, rust::String(), rust::String(), rust::Vec<std::uint8_t>(), 0,
                     false, 0};
}

std::string endpoint_text(lt::address const& address, int port, lt::socket_type_t type) {
  auto host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  auto text = host + ":" + std::to_string(port);
  return text + (type == lt::socket_type_t::utp ? " (utp)" : " (tcp)");
}

// Unix seconds of a libtorrent time point (its clock is steady; the
// offset is taken once, so a time point always maps to the same second).
// A time point at the clock's epoch means never: 0.
std::int64_t unix_seconds(lt::time_point when) {
  if (when.time_since_epoch().count() == 0) return 0;
  static auto const offset = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch() -
      lt::clock_type::now().time_since_epoch());
  auto const secs = std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch());
  return (secs + offset).count();
}

StatusRecord to_status(Hash const& id, lt::torrent_status const& st) {
  namespace tf = lt::torrent_flags;
  std::int64_t total_size = 0;
  bool is_private = false;
  if (auto info = st.torrent_file.lock()) {
    total_size = info->total_size();
    is_private = info->priv();
  }
  return StatusRecord{
      id,
      lossy(st.name),
      lossy(st.save_path),
      static_cast<std::uint8_t>(st.state),
      bool(st.flags & tf::paused),
      bool(st.flags & tf::auto_managed),
      bool(st.flags & tf::sequential_download),
      st.has_metadata,
      st.is_finished,
      st.moving_storage,
      st.need_save_resume,
      st.errc ? lossy(st.errc.message()) : rust::String(),
      total_size,
      st.total_wanted,
      st.total_wanted_done,
      st.download_rate,
      st.upload_rate,
      st.all_time_download,
      st.all_time_upload,
      st.total_payload_download,
      st.total_payload_upload,
      st.num_peers,
      st.num_seeds,
      static_cast<std::int64_t>(st.added_time),
      static_cast<std::int64_t>(st.completed_time),
      static_cast<std::int64_t>(st.seeding_duration.count()),
      std::max(unix_seconds(st.last_upload), unix_seconds(st.last_download)),
      is_private,
      static_cast<std::int32_t>(st.queue_position),
  };
}

// Alerts about removed torrents: the removal and deletion results name
// the id; anything else from a removed torrent (a late resume save, say)
// is dropped.
bool translate_removal(SessionImpl& impl, lt::alert const* alert, rust::Vec<AlertRecord>& out) {
  using namespace lt;
  // alert_cast only matches exact types; torrent_alert is a base class.
  auto const* torrent = dynamic_cast<torrent_alert const*>(alert);
  if (torrent == nullptr) return false;
  auto found = impl.removed.find(torrent->handle);
  if (found == impl.removed.end()) return false;
  auto const [id, deleting] = found->second;
  if (alert_cast<torrent_removed_alert>(alert) != nullptr) {
    if (!deleting) impl.removed.erase(found);
  } else if (alert_cast<torrent_deleted_alert>(alert) != nullptr) {
    out.push_back(record(AlertKind::Deleted, id));
    impl.removed.erase(found);
  } else if (auto const* a = alert_cast<torrent_delete_failed_alert>(alert)) {
    // A magnet removed before its metadata has no files: libtorrent
    // reports that as a failure without an error.
    auto r = record(a->error ? AlertKind::DeleteFailed : AlertKind::Deleted, id);
    r.message = lossy(a->error.message());
    out.push_back(std::move(r));
    impl.removed.erase(found);
  }
  return true;
}

void translate_session(lt::alert const* alert, rust::Vec<AlertRecord>& out) {
  using namespace lt;
  if (auto const* a = alert_cast<listen_failed_alert>(alert)) {
    auto r = record(AlertKind::ListenFailed, Hash{});
    r.message = lossy(a->error.message());
    r.detail = lossy(endpoint_text(a->address, a->port, a->socket_type));
    r.tcp = a->socket_type == lt::socket_type_t::tcp;
    out.push_back(std::move(r));
  } else if (auto const* a = alert_cast<listen_succeeded_alert>(alert)) {
    auto r = record(AlertKind::ListenSucceeded, Hash{});
    r.detail = lossy(endpoint_text(a->address, a->port, a->socket_type));
    r.port = static_cast<std::uint16_t>(a->port);
    r.tcp = a->socket_type == lt::socket_type_t::tcp;
    out.push_back(std::move(r));
  } else if (auto const* a = alert_cast<alerts_dropped_alert>(alert)) {
    auto r = record(AlertKind::Lost, Hash{});
    r.message = lossy(a->message());
    out.push_back(std::move(r));
  } else if (auto const* a = alert_cast<session_stats_alert>(alert)) {
    // The counter sums every DHT node of the session (one per listen
    // socket), unlike a dht_stats_alert, which describes one.
    static int const dht_nodes = lt::find_metric_idx("dht.dht_nodes");
    auto const counters = a->counters();
    if (dht_nodes >= 0 && dht_nodes < counters.size()) {
      auto r = record(AlertKind::DhtStats, Hash{});
      r.count = static_cast<std::uint64_t>(std::max<std::int64_t>(counters[dht_nodes], 0));
      out.push_back(std::move(r));
    }
  }
}

// Translates one alert about a live torrent; others are dropped.
void translate_torrent(Hash const& id, lt::alert const* alert, rust::Vec<AlertRecord>& out) {
  using namespace lt;
  auto push = [&](AlertKind kind, std::string message, std::string detail) {
    auto r = record(kind, id);
    r.message = lossy(message);
    r.detail = lossy(detail);
    out.push_back(std::move(r));
  };
  if (alert_cast<metadata_received_alert>(alert) != nullptr) {
    push(AlertKind::MetadataReceived, {}, {});
  } else if (auto const* a = alert_cast<tracker_error_alert>(alert)) {
    // An endpoint that cannot reach the tracker (another address family) is
    // not a tracker failure; the endpoints that can reach it report theirs.
    if (a->error == lt::errors::announce_skipped) return;
    std::string reason = a->failure_reason();
    push(AlertKind::TrackerError, reason.empty() ? a->error.message() : reason, a->tracker_url());
  } else if (auto const* a = alert_cast<torrent_error_alert>(alert)) {
    push(AlertKind::TorrentError, a->error.message(), a->filename());
  } else if (auto const* a = alert_cast<file_error_alert>(alert)) {
    push(AlertKind::FileError, a->error.message(), a->filename());
  } else if (auto const* a = alert_cast<save_resume_data_alert>(alert)) {
    auto r = record(AlertKind::ResumeSaved, id);
    auto const bytes = write_resume_data_buf(a->params);
    r.data.reserve(bytes.size());
    for (char byte : bytes) r.data.push_back(static_cast<std::uint8_t>(byte));
    out.push_back(std::move(r));
  } else if (auto const* a = alert_cast<save_resume_data_failed_alert>(alert)) {
    push(AlertKind::ResumeFailed, a->error.message(), {});
  } else if (alert_cast<file_prio_alert>(alert) != nullptr ||
             alert_cast<torrent_checked_alert>(alert) != nullptr) {
    push(AlertKind::PrioritiesReset, {}, {});
  } else if (auto const* a = alert_cast<storage_moved_alert>(alert)) {
    push(AlertKind::StorageMoved, {}, a->storage_path());
  } else if (auto const* a = alert_cast<storage_moved_failed_alert>(alert)) {
    push(AlertKind::StorageMoveFailed, a->error.message(), a->file_path());
  }
}

void translate(SessionImpl& impl, lt::alert const* alert, AlertBatch& batch) {
  if (auto const* update = lt::alert_cast<lt::state_update_alert>(alert)) {
    Hash id{};
    for (auto const& status : update->status) {
      if (impl.id_of(status.handle, id)) batch.statuses.push_back(to_status(id, status));
    }
    return;
  }
  if (translate_removal(impl, alert, batch.alerts)) return;
  if (auto const* torrent = dynamic_cast<lt::torrent_alert const*>(alert)) {
    Hash id{};
    if (impl.id_of(torrent->handle, id)) translate_torrent(id, alert, batch.alerts);
    return;
  }
  translate_session(alert, batch.alerts);
}

}  // namespace

bool wait_for_alert(Session& session, std::uint32_t max_ms) {
  return session.impl().session.wait_for_alert(std::chrono::milliseconds(max_ms)) != nullptr;
}

void pop_alerts(Session& session, AlertBatch& batch) {
  batch.alerts.clear();
  batch.statuses.clear();
  auto& impl = session.impl();
  std::vector<lt::alert*> alerts;
  impl.session.pop_alerts(&alerts);
  for (lt::alert const* alert : alerts) {
    // One unreadable alert must not cost the rest of the batch.
    try {
      translate(impl, alert, batch);
    } catch (std::exception const& err) {
      auto r = record(AlertKind::Lost, Hash{});
      r.message = lossy(std::string("unreadable alert: ") + err.what());
      batch.alerts.push_back(std::move(r));
    }
  }
}

}  // namespace revaer
