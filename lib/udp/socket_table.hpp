// One lcore's UDP socket table (RFC 768, RFC 1122 4.1, BSD/Linux bind
// rules).
//
// Contract:
// - Sans-I/O: the table maps local and remote endpoints to sockets and
//   nothing more. It never touches a NIC, a clock or a mempool and makes no
//   DPDK call, so it is tested to the last rule without EAL. It does not
//   check that a bound address is one of ours (the engine does).
// - A socket is named by a UdpHandle: slot index in the low 16 bits, the
//   slot's generation (1..65535) in the high 16 bits. close() bumps the
//   generation, so a stale handle is refused by every call (kBadHandle,
//   nullptr) until its slot has been reused 65535 times; free slots are
//   reused oldest-freed first to make that rarer still. kNoUdpSocket (0) is
//   never a valid handle. Each socket carries a user value T (the engine's
//   callback record and counters), moved in at bind and destroyed at close.
// - bind(addr, port, value): addr 0.0.0.0 is the wildcard, port 0 picks an
//   ephemeral port. Errors, checked in this order: kTableFull (max_sockets
//   live), kNoEphemeralPort, kAddressInUse.
//   * One socket per local endpoint: an exact addr:port already bound is
//     kAddressInUse, always (connected or not; there is no SO_REUSEPORT).
//   * A wildcard overlaps every address on its port, so wildcard vs specific
//     on one port is kAddressInUse either way round, unless BOTH sockets
//     were bound with reuse_addr (BSD SO_REUSEADDR: lets a wildcard and
//     specific sockets share a port; unlike Linux it never allows exact
//     duplicates). Two different specific addresses on one port are fine.
//   * Ephemeral: the range [ephemeral_first, ephemeral_last] (a first of 0
//     counts as 1; first > last is an empty range) is scanned from a
//     rotating cursor, which starts at a position drawn from `seed` and
//     moves past each port handed out. A port qualifies when NO socket uses
//     it (whatever its address, so an ephemeral port is never shared) and
//     the bind's `acceptable` predicate, if any, says yes: the hook by which
//     the multi-core work keeps only ports whose RSS hash returns to this
//     lcore. A port is free again as soon as its last socket is closed.
// - connect(h, addr, port) sets the remote; 0.0.0.0:0 disconnects; exactly
//   one of the two zero is kInvalid. It never changes the bind, and since
//   local endpoints are unique it cannot conflict with anything.
// - lookup(dst, dst_port, src, src_port): the one socket a datagram goes to,
//   most specific first: a connected socket whose remote is exactly src:port
//   scores 2, a specific local address 1, both add up. A connected socket
//   whose remote differs is not a candidate at all, so the datagram falls
//   through to a less specific socket on the port (a wildcard one), as in
//   Linux's compute_score, or to none (ICMP port unreachable is the
//   caller's). Broadcast and multicast destinations reach only a wildcard
//   socket. No allocation, no callback.
// - No allocation after the constructor except inside T's own constructors
//   and a std::function the caller passes to bind (control path).
//
// Data structure: a slot pool of max_sockets (capped at kUdpMaxSockets) and
// an array of 65536 per-port chain heads (256 KiB per lcore), each chain
// singly linked through the slots. lookup indexes the port directly and
// walks its chain; the bind rules keep a chain to at most one wildcard
// socket, or one socket per local address of the host, so the walk is O(1)
// for any real host (a few addresses) and touches no hash. An
// unordered_map keyed by endpoint would need two probes per datagram (exact,
// then wildcard) and a rehash-free sizing; the flat array needs neither.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "core/types.hpp"

namespace dpdkstack {

using UdpHandle = uint32_t;
inline constexpr UdpHandle kNoUdpSocket = 0;
inline constexpr uint32_t kUdpMaxSockets = 65536;  // 16-bit slot index in a handle

struct UdpTableConfig {
  uint32_t max_sockets = 4096;  // capped at kUdpMaxSockets
  uint16_t ephemeral_first = 49152;
  uint16_t ephemeral_last = 65535;
  // Starting point of the ephemeral cursor: the engine should pass
  // rte_rand() so that port choice is not predictable; 0 works (tests).
  uint64_t seed = 0;
};

struct UdpBindOptions {
  bool reuse_addr = false;  // see Contract: wildcard and specific may share a port when both set it
  // Ephemeral binds only (port 0): a candidate port is taken only when this
  // returns true. Empty means any port of the range.
  std::function<bool(uint16_t)> acceptable;
};

enum class UdpSocketError : uint8_t {
  kOk,
  kAddressInUse,     // bind: the local endpoint overlaps a bound one
  kNoEphemeralPort,  // bind with port 0: no free, acceptable port in the range
  kTableFull,        // bind: max_sockets sockets live
  kBadHandle,        // stale, closed or never issued
  kInvalid,          // connect: exactly one of remote addr and port is zero
};

constexpr const char* udp_socket_error_name(UdpSocketError e) {
  switch (e) {
    case UdpSocketError::kOk: return "ok";
    case UdpSocketError::kAddressInUse: return "address_in_use";
    case UdpSocketError::kNoEphemeralPort: return "no_ephemeral_port";
    case UdpSocketError::kTableFull: return "table_full";
    case UdpSocketError::kBadHandle: return "bad_handle";
    case UdpSocketError::kInvalid: return "invalid";
  }
  return "?";
}

struct UdpEndpoint {
  Ipv4Addr addr;      // 0.0.0.0: wildcard (local) or none (remote)
  uint16_t port = 0;  // 0: none (remote)
  friend constexpr bool operator==(const UdpEndpoint&, const UdpEndpoint&) = default;
};

struct UdpSocketInfo {
  UdpEndpoint local;
  UdpEndpoint remote;  // 0.0.0.0:0 when not connected
  bool reuse_addr = false;
  bool connected() const { return remote.port != 0; }
};

// bind()'s outcome: on kOk, `handle` names the new socket and `port` is its
// local port (the chosen one for an ephemeral bind).
struct UdpBindResult {
  UdpSocketError error = UdpSocketError::kOk;
  UdpHandle handle = kNoUdpSocket;
  uint16_t port = 0;
  bool ok() const { return error == UdpSocketError::kOk; }
  explicit operator bool() const { return ok(); }
};

template <typename T>
class UdpSocketTable {
 public:
  explicit UdpSocketTable(const UdpTableConfig& cfg)
      : cfg_(cfg), slots_(cfg.max_sockets < kUdpMaxSockets ? cfg.max_sockets : kUdpMaxSockets),
        port_head_(65536, kNone) {
    const uint32_t n = static_cast<uint32_t>(slots_.size());
    for (uint32_t i = 0; i < n; ++i) slots_[i].next = i + 1 < n ? i + 1 : kNone;
    free_head_ = n > 0 ? 0 : kNone;
    free_tail_ = n > 0 ? n - 1 : kNone;
    eph_first_ = cfg.ephemeral_first == 0 ? 1 : cfg.ephemeral_first;
    eph_count_ = cfg.ephemeral_last >= eph_first_ ? uint32_t{cfg.ephemeral_last} - eph_first_ + 1 : 0;
    cursor_ = eph_count_ > 0 ? static_cast<uint32_t>(mix(cfg.seed) % eph_count_) : 0;
  }

  UdpBindResult bind(Ipv4Addr local_addr, uint16_t local_port, T value, const UdpBindOptions& opts = {}) {
    if (free_head_ == kNone) return {UdpSocketError::kTableFull};
    if (local_port == 0) {
      std::optional<uint16_t> p = pick_ephemeral(opts);
      if (!p) return {UdpSocketError::kNoEphemeralPort};
      local_port = *p;
    } else if (conflicts(local_addr, local_port, opts.reuse_addr)) {
      return {UdpSocketError::kAddressInUse};
    }
    uint32_t i = free_head_;
    Slot& s = slots_[i];
    free_head_ = s.next;
    if (free_head_ == kNone) free_tail_ = kNone;
    s.info = UdpSocketInfo{UdpEndpoint{local_addr, local_port}, UdpEndpoint{}, opts.reuse_addr};
    s.value.emplace(std::move(value));
    s.next = port_head_[local_port];
    port_head_[local_port] = i;
    ++size_;
    return {UdpSocketError::kOk, handle_of(i), local_port};
  }

  UdpSocketError connect(UdpHandle h, Ipv4Addr remote_addr, uint16_t remote_port) {
    Slot* s = slot(h);
    if (s == nullptr) return UdpSocketError::kBadHandle;
    if (remote_addr.is_unspecified() != (remote_port == 0)) return UdpSocketError::kInvalid;
    s->info.remote = UdpEndpoint{remote_addr, remote_port};
    return UdpSocketError::kOk;
  }

  UdpSocketError disconnect(UdpHandle h) { return connect(h, Ipv4Addr{}, 0); }

  // Frees the slot and, with the last socket on it, the port.
  UdpSocketError close(UdpHandle h) {
    Slot* s = slot(h);
    if (s == nullptr) return UdpSocketError::kBadHandle;
    const uint32_t i = index_of(h);
    uint32_t* link = &port_head_[s->info.local.port];
    while (*link != i) link = &slots_[*link].next;
    *link = s->next;
    s->value.reset();
    s->info = UdpSocketInfo{};
    s->generation = s->generation == 0xffff ? 1 : static_cast<uint16_t>(s->generation + 1);
    s->next = kNone;
    if (free_tail_ == kNone) {
      free_head_ = i;
    } else {
      slots_[free_tail_].next = i;
    }
    free_tail_ = i;
    --size_;
    return UdpSocketError::kOk;
  }

  // Fast path: the socket a datagram dst:dst_port <- src:src_port goes to,
  // or kNoUdpSocket.
  UdpHandle lookup(Ipv4Addr dst_addr, uint16_t dst_port, Ipv4Addr src_addr, uint16_t src_port) const {
    uint32_t best = kNone;
    int best_score = -1;
    for (uint32_t i = port_head_[dst_port]; i != kNone; i = slots_[i].next) {
      const UdpSocketInfo& s = slots_[i].info;
      int score = 0;
      if (!s.local.addr.is_unspecified()) {
        if (s.local.addr != dst_addr) continue;
        score += 1;
      }
      if (s.connected()) {
        if (s.remote.addr != src_addr || s.remote.port != src_port) continue;
        score += 2;
      }
      if (score > best_score) {
        best = i;
        best_score = score;
      }
    }
    return best == kNone ? kNoUdpSocket : handle_of(best);
  }

  T* get(UdpHandle h) {
    Slot* s = slot(h);
    return s == nullptr ? nullptr : &*s->value;
  }
  const T* get(UdpHandle h) const {
    const Slot* s = slot(h);
    return s == nullptr ? nullptr : &*s->value;
  }
  const UdpSocketInfo* info(UdpHandle h) const {
    const Slot* s = slot(h);
    return s == nullptr ? nullptr : &s->info;
  }

  // For the console, in slot order: f(UdpHandle, const UdpSocketInfo&, const T&).
  template <typename F>
  void for_each(F&& f) const {
    for (uint32_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].value) f(handle_of(i), slots_[i].info, *slots_[i].value);
  }

  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }
  const UdpTableConfig& config() const { return cfg_; }

 private:
  static constexpr uint32_t kNone = ~uint32_t{0};

  struct Slot {
    UdpSocketInfo info;
    std::optional<T> value;  // engaged while the socket is live
    uint16_t generation = 1;
    uint32_t next = kNone;  // live: next socket on the same port; free: next free slot
  };

  static uint64_t mix(uint64_t x) {  // splitmix64's finaliser
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }

  static uint32_t index_of(UdpHandle h) { return h & 0xffff; }
  UdpHandle handle_of(uint32_t i) const { return (uint32_t{slots_[i].generation} << 16) | i; }

  Slot* slot(UdpHandle h) {
    return const_cast<Slot*>(static_cast<const UdpSocketTable*>(this)->slot(h));
  }
  const Slot* slot(UdpHandle h) const {
    const uint32_t i = index_of(h);
    if (i >= slots_.size()) return nullptr;
    const Slot& s = slots_[i];
    if (!s.value || s.generation != (h >> 16)) return nullptr;
    return &s;
  }

  bool conflicts(Ipv4Addr addr, uint16_t port, bool reuse_addr) const {
    for (uint32_t i = port_head_[port]; i != kNone; i = slots_[i].next) {
      const UdpSocketInfo& s = slots_[i].info;
      if (s.local.addr == addr) return true;  // exact duplicate, wildcard twice included
      if ((s.local.addr.is_unspecified() || addr.is_unspecified()) && !(reuse_addr && s.reuse_addr)) return true;
    }
    return false;
  }

  std::optional<uint16_t> pick_ephemeral(const UdpBindOptions& opts) {
    for (uint32_t n = 0; n < eph_count_; ++n) {
      const uint32_t off = (cursor_ + n) % eph_count_;
      const uint16_t port = static_cast<uint16_t>(eph_first_ + off);
      if (port_head_[port] != kNone) continue;
      if (opts.acceptable && !opts.acceptable(port)) continue;
      cursor_ = (off + 1) % eph_count_;
      return port;
    }
    return std::nullopt;
  }

  UdpTableConfig cfg_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> port_head_;  // 65536 chain heads, kNone when no socket uses the port
  uint32_t free_head_ = kNone;       // free slots, oldest-freed first
  uint32_t free_tail_ = kNone;
  uint16_t eph_first_ = 0;
  uint32_t eph_count_ = 0;
  uint32_t cursor_ = 0;  // offset into the ephemeral range where the next scan starts
  size_t size_ = 0;
};

}  // namespace dpdkstack
