// Alert bridge: drain libtorrent's alert queue into plain records.
#pragma once

#include "revaer-engine/include/revaer-engine/common.h"

namespace revaer {

struct AlertBatch;

bool wait_for_alert(Session& session, std::uint32_t max_ms);
void pop_alerts(Session& session, AlertBatch& batch);

}  // namespace revaer
