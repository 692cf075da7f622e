// One lcore's replica of the ARP cache (RFC 826, RFC 1122 2.3.2).
//
// Contract:
// - Sans-I/O: time comes in as `now` (any monotonic unit, TSC cycles in the
//   engine); packets to send and packets to free leave through the callbacks
//   the caller passes. The cache never touches a NIC, a clock or a mempool,
//   so it is tested to the last rule without DPDK running.
// - An entry is Incomplete (resolving, holding at most `pending_max` packets
//   that wait for it), Reachable (learnt, expires `entry_timeout` after the
//   last confirmation) or Static (from the config, never expires).
// - Resolving sends a request at once, then every `retry_interval`; after
//   `max_requests` unanswered requests the entry is removed and its waiting
//   packets are dropped (reason arp_resolve_failed).
// - The table is bounded by `max_entries`: a new entry that does not fit
//   evicts the Reachable entry closest to expiry (as the kernel's neighbour
//   GC would); when every entry is Incomplete or Static, the new address is
//   refused and its packet dropped (arp_pending_full). All entries
//   together hold at most `pending_total_max` packets, so that unresolvable
//   next hops cannot drain the mempool.
// - update() says whether other replicas must hear of it: on a change, and
//   on a plain refresh at most once per quarter of `entry_timeout`, so that
//   replicas whose own traffic never confirms an entry do not age it out.
// - Packets are opaque pointers (rte_mbuf* in the engine); ownership of a
//   packet passes to the cache when resolve() returns kQueued and back out
//   through on_ready/on_drop.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/types.hpp"

namespace dpdkstack {

struct ArpCacheConfig {
  uint64_t entry_timeout = 0;   // lifetime of a learnt entry
  uint64_t retry_interval = 0;  // between requests while resolving
  uint32_t max_requests = 3;    // requests before giving up
  uint32_t pending_max = 16;    // packets held per unresolved entry
  uint32_t max_entries = 4096;
  uint32_t pending_total_max = 1024;  // packets held by all entries together
};

enum class ArpState : uint8_t { kIncomplete, kReachable, kStatic };

constexpr const char* arp_state_name(ArpState s) {
  switch (s) {
    case ArpState::kIncomplete: return "incomplete";
    case ArpState::kReachable: return "reachable";
    case ArpState::kStatic: return "static";
  }
  return "?";
}

struct ArpEntry {
  uint16_t port = 0;
  Ipv4Addr ip;
  MacAddr mac;
  ArpState state = ArpState::kIncomplete;
  uint64_t expires = 0;     // Reachable: when it ages out
  uint64_t next_retry = 0;  // Incomplete: when the next request goes out
  uint32_t requests = 0;    // Incomplete: requests sent so far
  uint64_t shared_at = 0;   // when replicas last heard of this entry
  std::vector<void*> pending;
};

enum class ArpUpdate : uint8_t {
  kNone,       // nothing recorded (unknown and not created, static, or table full)
  kRefreshed,  // lifetime extended, same MAC, replicas need not hear of it
  kShare,      // new, changed, or a refresh replicas should hear of
};

enum class ArpResolve : uint8_t {
  kResolved,        // `mac` is filled; caller sends the packet now
  kQueued,          // packet held; a request may have been sent
  kDroppedFull,     // packet not taken: pending queue or table full
};

class ArpCache {
 public:
  explicit ArpCache(const ArpCacheConfig& cfg) : cfg_(cfg) {}

  static uint64_t key(uint16_t port, Ipv4Addr ip) { return (uint64_t{port} << 32) | ip.v; }

  const ArpEntry* find(uint16_t port, Ipv4Addr ip) const {
    auto it = table_.find(key(port, ip));
    return it == table_.end() ? nullptr : &it->second;
  }

  // Looks up the next hop for `pkt`. SendRequest(port, ip) is called when a
  // request must go out now.
  template <typename SendRequest>
  ArpResolve resolve(uint16_t port, Ipv4Addr ip, void* pkt, uint64_t now, MacAddr& mac,
                     SendRequest&& send_request) {
    auto it = table_.find(key(port, ip));
    if (it != table_.end() && it->second.state == ArpState::kReachable && now >= it->second.expires) {
      table_.erase(it);  // aged out between two ticks: resolve afresh
      it = table_.end();
    }
    if (it != table_.end() && it->second.state != ArpState::kIncomplete) {
      mac = it->second.mac;
      return ArpResolve::kResolved;
    }
    if (pending_total_ >= cfg_.pending_total_max) return ArpResolve::kDroppedFull;
    if (it == table_.end()) {
      if (!make_room()) return ArpResolve::kDroppedFull;
      ArpEntry e;
      e.port = port;
      e.ip = ip;
      e.state = ArpState::kIncomplete;
      e.requests = 1;
      e.next_retry = now + cfg_.retry_interval;
      e.pending.reserve(cfg_.pending_max);
      e.pending.push_back(pkt);
      ++pending_total_;
      table_.emplace(key(port, ip), std::move(e));
      send_request(port, ip);
      return ArpResolve::kQueued;
    }
    auto& e = it->second;
    if (e.pending.size() >= cfg_.pending_max) return ArpResolve::kDroppedFull;
    e.pending.push_back(pkt);
    ++pending_total_;
    return ArpResolve::kQueued;
  }

  // Records ip -> mac. `create` says whether a missing entry may be created
  // (RFC 826: only when we are the target); otherwise only an existing entry
  // is refreshed (the "merge" step). Packets that waited for this address go
  // to on_ready(pkt, mac). Static entries are never overwritten.
  template <typename OnReady>
  ArpUpdate update(uint16_t port, Ipv4Addr ip, const MacAddr& mac, uint64_t now, bool create,
                   OnReady&& on_ready) {
    auto it = table_.find(key(port, ip));
    if (it == table_.end()) {
      if (!create || !make_room()) return ArpUpdate::kNone;
      ArpEntry e;
      e.port = port;
      e.ip = ip;
      e.mac = mac;
      e.state = ArpState::kReachable;
      e.expires = now + cfg_.entry_timeout;
      e.shared_at = now;
      table_.emplace(key(port, ip), std::move(e));
      return ArpUpdate::kShare;
    }
    auto& e = it->second;
    if (e.state == ArpState::kStatic) return ArpUpdate::kNone;
    bool changed = e.state != ArpState::kReachable || e.mac != mac;
    e.mac = mac;
    e.state = ArpState::kReachable;
    e.expires = now + cfg_.entry_timeout;
    e.requests = 0;
    bool share = changed || now - e.shared_at >= cfg_.entry_timeout / 4;
    if (share) e.shared_at = now;
    // Release the waiting packets last and from a local list: on_ready may
    // re-enter the cache, which may move or evict `e`.
    std::vector<void*> ready;
    ready.swap(e.pending);
    pending_total_ -= ready.size();
    for (void* p : ready) on_ready(p, mac);
    return share ? ArpUpdate::kShare : ArpUpdate::kRefreshed;
  }

  // Installs a static entry (config, or an operator). Packets that were
  // waiting for this address leave through on_ready(pkt, mac).
  template <typename OnReady>
  void add_static(uint16_t port, Ipv4Addr ip, const MacAddr& mac, OnReady&& on_ready) {
    auto& e = table_[key(port, ip)];
    std::vector<void*> waiting;
    waiting.swap(e.pending);
    pending_total_ -= waiting.size();
    e = ArpEntry{};
    e.port = port;
    e.ip = ip;
    e.mac = mac;
    e.state = ArpState::kStatic;
    for (void* p : waiting) on_ready(p, mac);
  }

  // Drives retries and ageing. SendRequest(port, ip) for a retry;
  // OnDrop(pkt) for each packet whose entry gave up, called after the walk
  // (with the entries already gone), so that it may resolve() again: the
  // engine answers such packets with host unreachable, whose next hop can
  // be the very address that just failed.
  template <typename SendRequest, typename OnDrop>
  void tick(uint64_t now, SendRequest&& send_request, OnDrop&& on_drop) {
    std::vector<void*> gave_up;
    for (auto it = table_.begin(); it != table_.end();) {
      auto& e = it->second;
      if (e.state == ArpState::kReachable && now >= e.expires) {
        it = table_.erase(it);
        continue;
      }
      if (e.state == ArpState::kIncomplete && now >= e.next_retry) {
        if (e.requests >= cfg_.max_requests) {
          pending_total_ -= e.pending.size();
          gave_up.insert(gave_up.end(), e.pending.begin(), e.pending.end());
          it = table_.erase(it);
          continue;
        }
        ++e.requests;
        e.next_retry = now + cfg_.retry_interval;
        send_request(e.port, e.ip);
      }
      ++it;
    }
    for (void* p : gave_up) on_drop(p);
  }

  // Hands every held packet to on_drop and empties the table (shutdown).
  template <typename OnDrop>
  void clear(OnDrop&& on_drop) {
    for (auto& [k, e] : table_)
      for (void* p : e.pending) on_drop(p);
    table_.clear();
    pending_total_ = 0;
  }

  size_t size() const { return table_.size(); }
  size_t pending_total() const { return pending_total_; }
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [k, e] : table_) f(e);
  }
  const ArpCacheConfig& config() const { return cfg_; }

 private:
  // Makes room for one new entry; false when nothing may be evicted.
  bool make_room() {
    if (table_.size() < cfg_.max_entries) return true;
    auto victim = table_.end();
    for (auto it = table_.begin(); it != table_.end(); ++it)  // O(n), only when full
      if (it->second.state == ArpState::kReachable &&
          (victim == table_.end() || it->second.expires < victim->second.expires))
        victim = it;
    if (victim == table_.end()) return false;
    table_.erase(victim);  // Reachable entries hold no packets
    return true;
  }

  ArpCacheConfig cfg_;
  std::unordered_map<uint64_t, ArpEntry> table_;
  size_t pending_total_ = 0;
};

}  // namespace dpdkstack
