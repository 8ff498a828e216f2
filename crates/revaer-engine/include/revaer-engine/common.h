// Shared declarations for the Revaer libtorrent bridge.
//
// This header is included by the cxx-generated code of every bridge, so it
// must stay free of libtorrent and Boost headers: it only forward-declares
// what the bridges pass around. The libtorrent-facing definitions live in
// cpp/session_impl.h, which only the cpp/*.cc translation units include.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "rust/cxx.h"

namespace revaer {

// A torrent identity crossing the bridge: v1 info-hash, or truncated v2.
using Hash = std::array<std::uint8_t, 20>;

struct SessionImpl;

// The libtorrent session behind a pimpl, so that the generated bridge code
// never compiles libtorrent headers.
class Session {
 public:
  explicit Session(std::unique_ptr<SessionImpl> impl);
  ~Session();
  Session(Session const&) = delete;
  Session& operator=(Session const&) = delete;

  SessionImpl& impl() { return *impl_; }

 private:
  std::unique_ptr<SessionImpl> impl_;
};

}  // namespace revaer
