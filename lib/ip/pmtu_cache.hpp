// The path MTU cache (RFC 1191): per destination, the smallest MTU a router
// reported on the way with ICMP "fragmentation needed".
//
// Contract: sans-I/O (time is `now` in the caller's unit). lower() records
// a report: the MTU only goes down (RFC 1191 section 3: a report of a larger
// MTU is ignored until the entry expires after `timeout`); below 68 is
// raised to 68 (RFC 791's minimum). A report with no MTU (old routers send
// 0, RFC 1191 section 5) takes the plateau below the datagram's length.
// mtu() returns the cached value or 0 when there is none or it expired.
// At most `max_entries` entries: a new one evicts an expired entry or, when
// none is, the one that expires first.
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "core/types.hpp"

namespace dpdkstack {

class PmtuCache {
 public:
  static constexpr uint16_t kMinMtu = 68;

  PmtuCache(uint64_t timeout, uint32_t max_entries) : timeout_(timeout), max_entries_(max_entries) {
    map_.reserve(max_entries);
  }

  // RFC 1191 section 7's table: the largest plateau strictly below `len`.
  static uint16_t plateau_below(uint32_t len) {
    static constexpr uint16_t kPlateaus[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, kMinMtu};
    for (uint16_t p : kPlateaus)
      if (p < len) return p;
    return kMinMtu;
  }

  // Returns true when the cache changed (a new or lower MTU).
  bool lower(Ipv4Addr dst, uint16_t reported_mtu, uint32_t datagram_len, uint64_t now) {
    uint16_t mtu = reported_mtu;
    if (mtu == 0 || mtu >= datagram_len) mtu = plateau_below(datagram_len);
    mtu = std::max(mtu, kMinMtu);
    auto it = map_.find(dst.v);
    if (it != map_.end()) {
      if (it->second.expires > now && it->second.mtu <= mtu) return false;
      it->second = Entry{mtu, now + timeout_};
      return true;
    }
    if (map_.size() >= max_entries_ && !evict(now)) return false;
    map_.emplace(dst.v, Entry{mtu, now + timeout_});
    return true;
  }

  uint16_t mtu(Ipv4Addr dst, uint64_t now) const {
    auto it = map_.find(dst.v);
    if (it == map_.end() || it->second.expires <= now) return 0;
    return it->second.mtu;
  }

  size_t size() const { return map_.size(); }
  template <typename F>
  void for_each(F&& f) const {  // f(Ipv4Addr, mtu, expires)
    for (const auto& [k, e] : map_) f(Ipv4Addr(k), e.mtu, e.expires);
  }

 private:
  struct Entry {
    uint16_t mtu;
    uint64_t expires;
  };
  bool evict(uint64_t now) {
    if (map_.empty()) return false;
    auto victim = map_.begin();
    for (auto it = map_.begin(); it != map_.end(); ++it) {
      if (it->second.expires <= now) {
        map_.erase(it);
        return true;
      }
      if (it->second.expires < victim->second.expires) victim = it;
    }
    map_.erase(victim);
    return true;
  }

  uint64_t timeout_;
  uint32_t max_entries_;
  std::unordered_map<uint32_t, Entry> map_;
};

}  // namespace dpdkstack
