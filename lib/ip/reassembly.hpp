// One lcore's IPv4 reassembly table (RFC 791 section 3.2 "reassembly",
// RFC 1122 3.3.2, RFC 815's hole idea kept simple by refusing overlaps).
//
// Contract:
// - Sans-I/O: time comes in as `now` (any monotonic unit, TSC cycles in the
//   engine); fragments the table gives up leave through the caller's
//   callbacks. It never touches a NIC, a clock or a mempool, and never
//   dereferences a handle (rte_mbuf* in the engine, an int in the tests), so
//   it is tested to the last rule without DPDK running.
// - Ownership: a fragment passes to the table only when add() returns kHeld
//   or kComplete. On kComplete `out` holds every fragment of the datagram,
//   this one included, in offset order, and all of them belong to the caller
//   again. Every other result means "not taken: the caller frees it". Held
//   fragments the table gives up (a datagram dropped, expired or cleared) go
//   to on_drop exactly once.
// - A datagram is identified by (source, destination, protocol,
//   identification) (RFC 791). It completes when the offset-0 fragment and a
//   last fragment (MF clear) are held and the fragments cover [0, end) with
//   no gap, whatever the arrival order.
// - Hostile shapes drop the whole datagram: any overlap that is not an exact
//   duplicate (teardrop), an end past 65515 bytes (ping of death), and
//   inconsistent ends or lengths. Exact duplicates are ignored. See
//   FragResult for each rule; the engine counts each result under its name.
// - Bounded: at most max_flows datagrams, max_fragments fragments each and
//   max_total_fragments in the table; all storage (flow slots, fragment
//   nodes, hash index) is allocated in the constructor, none per fragment.
// - Expiry: a datagram lives `timeout` from the arrival of its first fragment
//   (later fragments do not extend it). tick() reports it (with its offset-0
//   fragment, if held, for an ICMP time exceeded code 1, RFC 792) and drops
//   it. tick() costs O(1) when nothing is due.
//
// Why not rte_ip_frag: Debian's DPDK 22.11 is built with
// RTE_LIBRTE_IP_FRAG_MAX_FRAG=8, so rte_ipv4_frag_reassemble_packet can never
// rebuild a datagram of more than 8 fragments (ping -s 65507 at MTU 1500 is
// 45), and it detects duplicates and overlaps only by summing lengths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/types.hpp"

namespace dpdkstack {

// 65535 (the largest total length) minus the smallest header (20 bytes).
inline constexpr uint32_t kMaxDatagramPayload = 65515;

struct ReassemblyConfig {
  uint32_t max_flows = 1024;            // datagrams under reassembly at once (per table = per lcore)
  uint32_t max_fragments = 128;         // fragments held for one datagram
  uint32_t max_total_fragments = 8192;  // fragments held by the whole table
  uint64_t timeout = 0;                 // caller's time unit (TSC cycles in the engine), counted from
                                        // the arrival of a datagram's first fragment
  // Secret mixed into the flow hash so that senders cannot aim their
  // (source, id) pairs at one bucket: the engine should pass rte_rand().
  // 0 works (tests) but is predictable.
  uint64_t hash_seed = 0;
};

// RFC 791: source, destination, protocol, identification.
struct FragKey {
  Ipv4Addr src, dst;
  uint16_t id = 0;
  uint8_t protocol = 0;
  friend bool operator==(const FragKey&, const FragKey&) = default;
};

struct FragKeyHash {
  uint64_t seed = 0;
  size_t operator()(const FragKey& k) const {
    uint64_t x = ((uint64_t{k.src.v} << 32) | k.dst.v) ^ seed;
    x *= 0x9e3779b97f4a7c15ull;
    x ^= (uint64_t{k.id} << 8) | k.protocol;
    // murmur3's 64-bit finaliser: every input bit reaches every output bit.
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return static_cast<size_t>(x);
  }
};

struct FragInfo {
  uint32_t offset = 0;  // bytes (fragment offset field * 8)
  uint32_t len = 0;     // payload bytes carried by this fragment
  bool more = false;    // MF
};

enum class FragResult : uint8_t {
  kHeld,             // fragment taken and held; datagram not complete
  kComplete,         // datagram complete: `out` holds every fragment (this one included) in offset order;
                     // ownership of all passes to caller; flow removed
  kDuplicate,        // exact same (offset,len,MF) already held: NOT taken, caller frees it; the datagram goes on
  kOverlap,          // overlaps held data without being an exact duplicate (teardrop shapes): NOT taken;
                     // the whole datagram is dropped (held fragments to on_drop), flow removed
  kTooBig,           // offset+len > 65515 (ping of death): NOT taken; whole datagram dropped as above
  kInconsistent,     // len==0; offset not a multiple of 8; offset 0 with MF clear (not a fragment); MF set with
                     // len not a multiple of 8; same (offset,len) as a held fragment but a different MF; a second
                     // last fragment with a different end; data past a known end; a last fragment ending before
                     // data already held: NOT taken; whole datagram dropped
  kTooManyFragments, // the datagram would exceed max_fragments: NOT taken; whole datagram dropped
  kTableFull,        // a new datagram when max_flows flows exist, or max_total_fragments fragments are held:
                     // NOT taken; nothing else changes
};

constexpr const char* frag_result_name(FragResult r) {
  switch (r) {
    case FragResult::kHeld: return "held";
    case FragResult::kComplete: return "complete";
    case FragResult::kDuplicate: return "duplicate";
    case FragResult::kOverlap: return "overlap";
    case FragResult::kTooBig: return "too_big";
    case FragResult::kInconsistent: return "inconsistent";
    case FragResult::kTooManyFragments: return "too_many_fragments";
    case FragResult::kTableFull: return "table_full";
  }
  return "?";
}

// Handle: opaque and copyable (rte_mbuf* in the engine); Handle{} means
// "none". The table stores and returns handles, nothing more.
template <typename Handle>
class Reassembler {
 public:
  struct Piece {
    Handle handle;
    FragInfo info;
  };

  explicit Reassembler(const ReassemblyConfig& cfg)
      : cfg_(cfg),
        hash_{cfg.hash_seed},
        flows_(cfg.max_flows),
        nodes_(cfg.max_total_fragments),
        index_(index_capacity(cfg.max_flows), kNone) {
    index_mask_ = static_cast<uint32_t>(index_.size() - 1);
    for (uint32_t i = 0; i < cfg_.max_flows; ++i) flows_[i].next = i + 1 < cfg_.max_flows ? i + 1 : kNone;
    free_flow_ = cfg_.max_flows > 0 ? 0 : kNone;
    for (uint32_t i = 0; i < cfg_.max_total_fragments; ++i)
      nodes_[i].next = i + 1 < cfg_.max_total_fragments ? i + 1 : kNone;
    free_node_ = cfg_.max_total_fragments > 0 ? 0 : kNone;
  }

  // Offers one fragment. `out` is cleared on every call and filled only on
  // kComplete. on_drop(Handle) receives every held fragment of a datagram
  // this call gives up (never `h` itself: a fragment not taken stays the
  // caller's). The checks run in this order: the fragment alone (zero
  // length, alignment, MF length, too big), exact duplicate, overlap, ends,
  // the per-datagram limit, the table limits.
  template <typename OnDrop>
  FragResult add(const FragKey& key, const FragInfo& info, Handle h, uint64_t now, std::vector<Piece>& out,
                 OnDrop&& on_drop) {
    out.clear();
    uint32_t slot = find(key);
    FragResult bad = check_alone(info);
    if (bad != FragResult::kHeld) {
      if (slot != kNone) drop_flow(slot, on_drop);
      return bad;
    }
    const uint32_t end = info.offset + info.len;  // <= kMaxDatagramPayload after check_alone

    if (slot == kNone) {
      if (flow_count_ >= cfg_.max_flows || fragment_count_ >= cfg_.max_total_fragments) return FragResult::kTableFull;
      if (cfg_.max_fragments == 0) return FragResult::kTooManyFragments;
      slot = new_flow(key, now);
      Flow& f = flows_[slot];
      uint32_t n = new_node(h, info);
      f.head = f.tail = n;
      f.count = 1;
      f.bytes = info.len;
      if (!info.more) {
        f.has_last = true;
        f.end = end;
      }
      return FragResult::kHeld;  // one fragment never completes: offset 0 with MF clear was refused
    }

    Flow& f = flows_[slot];
    // Neighbours in the offset-sorted list: prev starts before us, next at or
    // after us. Appending (in-order arrival) and prepending (reverse) are O(1).
    uint32_t prev = kNone;
    uint32_t next = kNone;
    if (nodes_[f.tail].info.offset < info.offset) {
      prev = f.tail;
    } else if (nodes_[f.head].info.offset >= info.offset) {
      next = f.head;
    } else {
      prev = f.head;
      while (nodes_[nodes_[prev].next].info.offset < info.offset) prev = nodes_[prev].next;
      next = nodes_[prev].next;
    }

    if (next != kNone && nodes_[next].info.offset == info.offset && nodes_[next].info.len == info.len) {
      if (nodes_[next].info.more == info.more) return FragResult::kDuplicate;
      drop_flow(slot, on_drop);  // same bytes, one says last and one says more
      return FragResult::kInconsistent;
    }
    if ((prev != kNone && node_end(prev) > info.offset) || (next != kNone && nodes_[next].info.offset < end)) {
      drop_flow(slot, on_drop);
      return FragResult::kOverlap;
    }
    const uint32_t held_end = node_end(f.tail);
    bool consistent = info.more ? !(f.has_last && end > f.end)          // data past a known end
                                : (f.has_last ? end == f.end            // a second, different end
                                              : end >= held_end);       // last ending before held data
    if (!consistent) {
      drop_flow(slot, on_drop);
      return FragResult::kInconsistent;
    }
    if (f.count >= cfg_.max_fragments) {
      drop_flow(slot, on_drop);
      return FragResult::kTooManyFragments;
    }
    if (fragment_count_ >= cfg_.max_total_fragments) return FragResult::kTableFull;

    uint32_t n = new_node(h, info);
    nodes_[n].next = next;
    if (prev == kNone) {
      f.head = n;
    } else {
      nodes_[prev].next = n;
    }
    if (next == kNone) f.tail = n;
    ++f.count;
    f.bytes += info.len;
    if (!info.more) {
      f.has_last = true;
      f.end = end;
    }
    // No overlaps are ever held, so the held bytes cover [0, end) exactly
    // when they add up to end.
    if (!f.has_last || f.bytes != f.end) return FragResult::kHeld;

    out.reserve(f.count);
    uint32_t head = f.head;
    remove_flow(slot);
    for (uint32_t i = head; i != kNone;) {
      out.push_back(Piece{nodes_[i].handle, nodes_[i].info});
      uint32_t nx = nodes_[i].next;
      free_node(i);
      i = nx;
    }
    return FragResult::kComplete;
  }

  // Expires datagrams whose first fragment arrived >= timeout ago, oldest
  // first. For each: on_expire(const FragKey&, Handle first_or_none, bool
  // first_seen) FIRST (first_or_none is the held offset-0 fragment, still
  // the table's: quote it, do not free or keep it), THEN on_drop(h) for every
  // held fragment, the offset-0 one included.
  template <typename OnExpire, typename OnDrop>
  void tick(uint64_t now, OnExpire&& on_expire, OnDrop&& on_drop) {
    while (age_head_ != kNone && due(flows_[age_head_], now)) {
      uint32_t slot = age_head_;
      const FragKey key = flows_[slot].key;
      uint32_t head = flows_[slot].head;
      bool first_seen = nodes_[head].info.offset == 0;
      // Out of every structure before any callback, so that a callback that
      // re-enters the table finds it consistent; the nodes stay ours until
      // released below.
      remove_flow(slot);
      on_expire(key, first_seen ? nodes_[head].handle : Handle{}, first_seen);
      release_nodes(head, on_drop);
    }
  }

  // Hands every held fragment to on_drop and empties the table (shutdown).
  template <typename OnDrop>
  void clear(OnDrop&& on_drop) {
    while (age_head_ != kNone) drop_flow(age_head_, on_drop);
  }

  size_t flows() const { return flow_count_; }
  size_t fragments() const { return fragment_count_; }  // held in total
  const ReassemblyConfig& config() const { return cfg_; }

  // For the console, oldest first: f(const FragKey& key, size_t fragments,
  // size_t bytes, bool first_seen, uint64_t created), where bytes is the
  // payload held, first_seen says the offset-0 fragment is held and created
  // is the arrival time of the first fragment (the age basis).
  template <typename F>
  void for_each(F&& f) const {
    for (uint32_t s = age_head_; s != kNone; s = flows_[s].age_next) {
      const Flow& fl = flows_[s];
      f(fl.key, size_t{fl.count}, size_t{fl.bytes}, nodes_[fl.head].info.offset == 0, fl.created);
    }
  }

 private:
  static constexpr uint32_t kNone = ~uint32_t{0};

  // Fragment nodes live in one pool of max_total_fragments, linked per flow
  // in offset order; free nodes are linked through `next` too.
  struct Node {
    Handle handle{};
    FragInfo info;
    uint32_t next = kNone;
  };

  // Flow slots live in one pool of max_flows. Live flows are linked in
  // creation order (age_prev/age_next): the timeout is the same for every
  // flow, so that list is also expiry order, tick() only looks at its head,
  // and a flow that completes or is dropped early unlinks itself in O(1).
  // Free slots are linked through `next`.
  struct Flow {
    FragKey key;
    uint64_t created = 0;
    uint32_t head = kNone;  // lowest offset
    uint32_t tail = kNone;  // highest offset
    uint32_t count = 0;     // fragments held
    uint32_t bytes = 0;     // payload held (no overlaps, so bytes covered)
    uint32_t end = 0;       // datagram payload length, once has_last
    bool has_last = false;
    uint32_t age_prev = kNone;
    uint32_t age_next = kNone;
    uint32_t next = kNone;  // free list
  };

  static FragResult check_alone(const FragInfo& info) {
    if (info.len == 0 || info.offset % 8 != 0) return FragResult::kInconsistent;
    if (info.offset == 0 && !info.more) return FragResult::kInconsistent;  // a whole datagram, not a fragment
    if (info.more && info.len % 8 != 0) return FragResult::kInconsistent;  // RFC 791: only the last may be ragged
    if (uint64_t{info.offset} + info.len > kMaxDatagramPayload) return FragResult::kTooBig;
    return FragResult::kHeld;
  }

  // Open addressing, power-of-two size at least twice max_flows, so a probe
  // sequence always meets an empty bucket and stays short.
  static size_t index_capacity(uint32_t max_flows) {
    size_t c = 2;
    while (c < 2 * size_t{max_flows}) c *= 2;
    return c;
  }

  bool due(const Flow& f, uint64_t now) const { return now >= f.created && now - f.created >= cfg_.timeout; }
  uint32_t node_end(uint32_t n) const { return nodes_[n].info.offset + nodes_[n].info.len; }
  uint32_t bucket(const FragKey& k) const { return static_cast<uint32_t>(hash_(k)) & index_mask_; }

  uint32_t find(const FragKey& k) const {
    for (uint32_t b = bucket(k);; b = (b + 1) & index_mask_) {
      uint32_t s = index_[b];
      if (s == kNone) return kNone;
      if (flows_[s].key == k) return s;
    }
  }

  uint32_t new_flow(const FragKey& key, uint64_t now) {
    uint32_t s = free_flow_;
    free_flow_ = flows_[s].next;
    Flow& f = flows_[s];
    f = Flow{};
    f.key = key;
    f.created = now;
    f.age_prev = age_tail_;
    if (age_tail_ == kNone) {
      age_head_ = s;
    } else {
      flows_[age_tail_].age_next = s;
    }
    age_tail_ = s;
    uint32_t b = bucket(key);
    while (index_[b] != kNone) b = (b + 1) & index_mask_;
    index_[b] = s;
    ++flow_count_;
    return s;
  }

  // Unlinks a flow from the index and the age list and frees its slot; its
  // fragment nodes are left to the caller.
  void remove_flow(uint32_t s) {
    Flow& f = flows_[s];
    uint32_t b = bucket(f.key);
    while (index_[b] != s) b = (b + 1) & index_mask_;
    // Backward-shift deletion (no tombstones): pull later members of the
    // probe run into the hole when their home bucket allows it.
    for (uint32_t j = (b + 1) & index_mask_; index_[j] != kNone; j = (j + 1) & index_mask_) {
      uint32_t home = bucket(flows_[index_[j]].key);
      // Movable when home is not cyclically inside (b, j].
      if (((j - home) & index_mask_) >= ((j - b) & index_mask_)) {
        index_[b] = index_[j];
        b = j;
      }
    }
    index_[b] = kNone;
    if (f.age_prev == kNone) {
      age_head_ = f.age_next;
    } else {
      flows_[f.age_prev].age_next = f.age_next;
    }
    if (f.age_next == kNone) {
      age_tail_ = f.age_prev;
    } else {
      flows_[f.age_next].age_prev = f.age_prev;
    }
    f.next = free_flow_;
    free_flow_ = s;
    --flow_count_;
  }

  template <typename OnDrop>
  void drop_flow(uint32_t s, OnDrop& on_drop) {
    uint32_t head = flows_[s].head;
    remove_flow(s);
    release_nodes(head, on_drop);
  }

  // Each node is back in the pool before its handle goes to on_drop, so a
  // re-entrant add() may reuse it; the rest of the chain is not free yet.
  template <typename OnDrop>
  void release_nodes(uint32_t head, OnDrop& on_drop) {
    for (uint32_t i = head; i != kNone;) {
      Handle h = nodes_[i].handle;
      uint32_t nx = nodes_[i].next;
      free_node(i);
      on_drop(h);
      i = nx;
    }
  }

  uint32_t new_node(Handle h, const FragInfo& info) {
    uint32_t n = free_node_;
    free_node_ = nodes_[n].next;
    nodes_[n].handle = h;
    nodes_[n].info = info;
    nodes_[n].next = kNone;
    ++fragment_count_;
    return n;
  }

  void free_node(uint32_t n) {
    nodes_[n].handle = Handle{};
    nodes_[n].next = free_node_;
    free_node_ = n;
    --fragment_count_;
  }

  ReassemblyConfig cfg_;
  FragKeyHash hash_;
  std::vector<Flow> flows_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> index_;  // flow slot, or kNone
  uint32_t index_mask_ = 0;
  uint32_t free_flow_ = kNone;
  uint32_t free_node_ = kNone;
  uint32_t age_head_ = kNone;  // oldest live flow
  uint32_t age_tail_ = kNone;  // newest live flow
  size_t flow_count_ = 0;
  size_t fragment_count_ = 0;
};

}  // namespace dpdkstack
