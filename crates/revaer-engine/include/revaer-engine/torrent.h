// Torrent bridge: add, command and query torrents; read and create metainfo.
#pragma once

#include "revaer-engine/include/revaer-engine/common.h"

namespace revaer {

struct AddParams;
struct AddedTorrent;
struct FileRecord;
struct FileRename;
struct MetainfoRecord;
struct TrackerRecord;
enum class TorrentFlag : std::uint8_t;
enum class Deletion : std::uint8_t;
enum class QueueMove : std::uint8_t;

AddedTorrent add_torrent(Session& session, AddParams const& params);
void remove_torrent(Session& session, Hash const& hash, Deletion deletion);
void pause_torrent(Session& session, Hash const& hash);
void resume_torrent(Session& session, Hash const& hash);
void reannounce_torrent(Session& session, Hash const& hash);
void recheck_torrent(Session& session, Hash const& hash);
void set_torrent_flag(Session& session, Hash const& hash, TorrentFlag flag, bool enabled);
void queue_torrent(Session& session, Hash const& hash, QueueMove to);
void set_torrent_limits(Session& session, Hash const& hash, std::int32_t download, std::int32_t upload);
void set_file_priorities(Session& session, Hash const& hash, rust::Vec<std::uint8_t> const& priorities);
void move_torrent_storage(Session& session, Hash const& hash, rust::Str path);
void connect_torrent_peer(Session& session, Hash const& hash, rust::Str ip, std::uint16_t port);
void request_resume_data(Session& session, Hash const& hash);
void rename_torrent_files(Session& session, Hash const& hash, rust::Slice<FileRename const> renames);
rust::Vec<FileRecord> torrent_files(Session& session, Hash const& hash);
rust::Vec<TrackerRecord> torrent_trackers(Session& session, Hash const& hash);
rust::Vec<std::uint8_t> torrent_metainfo(Session& session, Hash const& hash);

MetainfoRecord parse_metainfo(rust::Slice<std::uint8_t const> bytes);
rust::Vec<std::uint8_t> create_metainfo(rust::Str path, rust::Str parent, std::int32_t piece_size,
                                        bool v1_only, rust::Vec<rust::String> const& trackers);

}  // namespace revaer
