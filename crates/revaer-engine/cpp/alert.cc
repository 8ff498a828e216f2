// Alert bridge: drain libtorrent's alert queue into plain records.
#include "revaer-engine/include/revaer-engine/alert.h"

#include <libtorrent/alert_types.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <libtorrent/write_resume_data.hpp>

#include <chrono>
#include <vector>

#include "revaer-engine/cpp/session_impl.h"
#include "revaer-engine/src/ffi/alert.rs.h"

namespace revaer {
namespace {

AlertRecord record(AlertKind kind, Hash const& hash) {
  return AlertRecord{kind, hash, rust::String(), rust::String(), rust::Vec<std::uint8_t>(), 0,
                     false};
}

AlertRecord torrent_record(AlertKind kind, lt::torrent_alert const& alert) {
  return record(kind, best_hash(alert.handle.info_hashes()));
}

std::string endpoint_text(lt::address const& address, int port, lt::socket_type_t type) {
  auto host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  auto text = host + ":" + std::to_string(port);
  return text + (type == lt::socket_type_t::utp ? " (utp)" : " (tcp)");
}

StatusRecord to_status(lt::torrent_status const& st) {
  namespace tf = lt::torrent_flags;
  std::int64_t total_size = 0;
  if (auto info = st.torrent_file.lock()) total_size = info->total_size();
  return StatusRecord{
      best_hash(st.info_hashes),
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
  };
}

// Translates one alert Revaer cares about; others are dropped.
void translate(lt::alert const* alert, rust::Vec<AlertRecord>& out) {
  using namespace lt;
  if (auto const* a = alert_cast<metadata_received_alert>(alert)) {
    out.push_back(torrent_record(AlertKind::MetadataReceived, *a));
  } else if (auto const* a = alert_cast<torrent_removed_alert>(alert)) {
    out.push_back(record(AlertKind::Removed, best_hash(a->info_hashes)));
  } else if (auto const* a = alert_cast<torrent_deleted_alert>(alert)) {
    out.push_back(record(AlertKind::Deleted, best_hash(a->info_hashes)));
  } else if (auto const* a = alert_cast<torrent_delete_failed_alert>(alert)) {
    auto r = record(AlertKind::DeleteFailed, best_hash(a->info_hashes));
    r.message = lossy(a->error.message());
    out.push_back(std::move(r));
  } else if (auto const* a = alert_cast<tracker_error_alert>(alert)) {
    auto r = torrent_record(AlertKind::TrackerError, *a);
    std::string reason = a->failure_reason();
    r.message = lossy(reason.empty() ? a->error.message() : reason);
    r.detail = lossy(a->tracker_url());
    out.push_back(std::move(r));
  } else if (auto const* a = alert_cast<torrent_error_alert>(alert)) {
    auto r = torrent_record(AlertKind::TorrentError, *a);
    r.message = lossy(a->error.message());
    r.detail = lossy(a->filename());
    out.push_back(std::move(r));
  } else if (auto const* a = alert_cast<file_error_alert>(alert)) {
    auto r = torrent_record(AlertKind::FileError, *a);
    r.message = lossy(a->error.message());
    r.detail = lossy(a->filename());
    out.push_back(std::move(r));
  } else if (auto const* a = alert_cast<listen_failed_alert>(alert)) {
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
  } else if (auto const* a = alert_cast<save_resume_data_alert>(alert)) {
    auto r = torrent_record(AlertKind::ResumeSaved, *a);
    auto const bytes = write_resume_data_buf(a->params);
    r.data.reserve(bytes.size());
    for (char byte : bytes) r.data.push_back(static_cast<std::uint8_t>(byte));
    out.push_back(std::move(r));
  } else if (auto const* a = alert_cast<save_resume_data_failed_alert>(alert)) {
    auto r = torrent_record(AlertKind::ResumeFailed, *a);
    r.message = lossy(a->error.message());
    out.push_back(std::move(r));
  } else if (auto const* a = alert_cast<storage_moved_alert>(alert)) {
    auto r = torrent_record(AlertKind::StorageMoved, *a);
    r.detail = lossy(a->storage_path());
    out.push_back(std::move(r));
  } else if (auto const* a = alert_cast<storage_moved_failed_alert>(alert)) {
    auto r = torrent_record(AlertKind::StorageMoveFailed, *a);
    r.message = lossy(a->error.message());
    r.detail = lossy(a->file_path());
    out.push_back(std::move(r));
  }
}

}  // namespace

bool wait_for_alert(Session& session, std::uint32_t max_ms) {
  return session.impl().session.wait_for_alert(std::chrono::milliseconds(max_ms)) != nullptr;
}

void pop_alerts(Session& session, AlertBatch& batch) {
  batch.alerts.clear();
  batch.statuses.clear();
  std::vector<lt::alert*> alerts;
  session.impl().session.pop_alerts(&alerts);
  for (lt::alert const* alert : alerts) {
    if (auto const* update = lt::alert_cast<lt::state_update_alert>(alert)) {
      for (auto const& status : update->status) batch.statuses.push_back(to_status(status));
    } else {
      translate(alert, batch.alerts);
    }
  }
}

}  // namespace revaer
