// One lcore's IPv4 routing table: longest-prefix match on rte_lpm.
//
// Contract:
// - Each engine owns one RouteTable and is the only thread that touches it
//   (rte_lpm takes no locks: one writer, and no readers on other threads
//   while it writes). Changes reach the engines as messages.
// - A Route maps a network prefix (host bits zero, length 0..32) to a DPDK
//   port and a gateway; gateway 0.0.0.0 means on-link: the destination itself
//   is the next hop. Connected routes (one per port network) are added at
//   start and cannot be deleted; static routes come from the
//   config or the console.
// - At most `max_routes` routes, the default route 0.0.0.0/0 included. A
//   prefix is present at most once: add() of a present prefix is refused,
//   never a silent replace.
// - rte_lpm keeps a 24-bit next hop per rule: here it is the index of a slot
//   in an array of Route, reused through a free list. rte_lpm cannot hold a
//   depth-0 rule, so 0.0.0.0/0 lives outside it and is what lookup() returns
//   when the LPM misses.
// - lookup() is the fast path: no allocation, no exception, no lock. The
//   pointer it returns stays valid until the next add()/del() on this table.
// - Memory (EAL, on `socket_id`): 64 MiB for rte_lpm's tbl24 whatever
//   max_routes is, 1 KiB per tbl8 group (max(256, max_routes), at most
//   65536; each /24 holding routes longer than /24 takes one), 8 bytes per
//   rule; the slot array is on the ordinary heap.
// - add()/del()/create() are control-path calls that return a Status whose
//   message names the prefix and what was wrong. The table needs EAL memory
//   (rte_lpm allocates with rte_zmalloc), so create() only after EAL init.
#pragma once

#include <rte_lpm.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/types.hpp"

namespace dpdkstack {

enum class RouteKind : uint8_t { kConnected, kStatic };

constexpr const char* route_kind_name(RouteKind k) {
  switch (k) {
    case RouteKind::kConnected: return "connected";
    case RouteKind::kStatic: return "static";
  }
  return "?";
}

struct Route {
  Ipv4Prefix prefix;     // network, host bits zero
  uint16_t port = 0;     // DPDK port id
  Ipv4Addr gateway;      // 0.0.0.0: on-link, the destination is the next hop
  RouteKind kind = RouteKind::kStatic;
};

class RouteTable {
 public:
  // `name` must be unique in the process (rte_lpm names are global), e.g.
  // "rt<engine index>"; 1..31 characters. max_routes in 1..2^24.
  static Result<std::unique_ptr<RouteTable>> create(const std::string& name, uint32_t max_routes,
                                                    int socket_id);
  ~RouteTable();  // rte_lpm_free
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Errors: host bits set or length > 32, prefix already present, table
  // full (max_routes), rte_lpm failure (out of tbl8 groups).
  Status add(const Route& r);
  // Errors: no such route; a connected route ("is a connected route").
  Status del(Ipv4Prefix prefix);

  // Longest-prefix match for `dst`; nullptr when no route, not even a
  // default route, covers it.
  const Route* lookup(Ipv4Addr dst) const {
    uint32_t slot = 0;
    if (rte_lpm_lookup(lpm_, dst.v, &slot) == 0) return &slots_[slot];  // rte_lpm: host order
    return default_slot_ == kNoSlot ? nullptr : &slots_[default_slot_];
  }

  // Every route, longest prefix first, then by address.
  std::vector<Route> routes() const;
  size_t size() const { return size_; }
  uint32_t max_routes() const { return max_routes_; }
  const std::string& name() const { return name_; }

 private:
  static constexpr uint32_t kNoSlot = ~uint32_t{0};

  RouteTable(std::string name, uint32_t max_routes, rte_lpm* lpm);
  uint32_t find_slot(Ipv4Prefix prefix) const;  // kNoSlot when absent

  std::string name_;
  uint32_t max_routes_ = 0;
  rte_lpm* lpm_ = nullptr;
  std::vector<Route> slots_;      // indexed by rte_lpm next hop
  std::vector<uint8_t> in_use_;   // per slot
  std::vector<uint32_t> free_;    // free slot indices, popped from the back
  uint32_t default_slot_ = kNoSlot;  // 0.0.0.0/0, outside the LPM
  size_t size_ = 0;
};

}  // namespace dpdkstack
