// Session bridge: create the session, apply settings, post status updates.
#pragma once

#include "revaer-engine/include/revaer-engine/common.h"

namespace revaer {

struct SessionSettings;
enum class DiskIo : std::uint8_t;

std::unique_ptr<Session> new_session(SessionSettings const& settings, DiskIo disk_io);
void apply_settings(Session& session, SessionSettings const& settings);
void post_updates(Session& session);
void post_stats(Session& session);

}  // namespace revaer
