// Two independent hosts in one process, joined by a simulated link the test
// controls: each host is its own StackContext with one Engine, its own
// net_ring port, mempool, routes and static ARP entry for the other, so
// neither sees the other's address as its own (one Stack with two ports
// would, and would loop the traffic back internally). The hosts need EAL
// running (the component tests' main starts it) but nothing of the shared
// RingStack: they coexist with it.
//
// Engine indices name process-wide DPDK objects ("dpdkstack_rt<i>",
// "dpdkstack_tcp<i>"), so a host takes the first index from 2 whose names
// are free, and its port gets index+1 queue pairs of which the engine owns
// (and polls) queue `index` only. No mailboxes: each host is a one-engine
// stack, so nothing is steered and active opens pick any ephemeral port.
// Memory: each host's routing table is an rte_lpm (64 MiB of tbl24), which
// ring_stack.hpp reserves room for in EAL's -m beside the shared stack.
//
// The link: every frame a host transmits is copied out of its TX ring (the
// mbuf freed at once into the sender's pool), then a seeded std::mt19937
// decides whether it is lost, duplicated or held back (delivered some ticks
// later, so that frames behind it overtake it: reordering). A tick is one
// TcpPair::step(): both engines polled once, frames moved both ways. A frame
// due is copied into an mbuf of the receiving host's pool and enqueued where
// its port receives. Each pool thus only ever holds its own host's packets,
// and leak checks are per host. The decisions are reproducible from the
// seed (the frames themselves also depend on the engines' timers, which
// read the TSC: RTOs fire in wall-clock time).
#pragma once

#include <rte_dev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_lpm.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "port/port.hpp"
#include "runtime/engine.hpp"
#include "runtime/trace.hpp"

namespace dpdkstack::tcptest {

using Bytes = std::vector<uint8_t>;

// The two hosts' addresses (one /24) and MACs.
inline constexpr Ipv4Addr kHostA = Ipv4Addr::from_octets(10, 0, 0, 1);
inline constexpr Ipv4Addr kHostB = Ipv4Addr::from_octets(10, 0, 0, 2);
inline const MacAddr kMacA{{0x02, 0, 0, 0x0a, 0, 0x01}};
inline const MacAddr kMacB{{0x02, 0, 0, 0x0a, 0, 0x02}};

// One host: a one-engine stack on its own net_ring port.
class Host {
 public:
  static constexpr unsigned kFirstIndex = 2;  // the shared RingStack's engines take 0 and 1
  static constexpr unsigned kMaxIndex = 15;   // net_ring takes at most 16 queue pairs
  static constexpr unsigned kRingSize = 4096;
  static constexpr unsigned kPoolSize = 2047;  // a window or two each way: the link holds copies, not mbufs

  // `extra_json`: more top-level members of the host's config (e.g. a
  // "tcp" object); the port and the static ARP entry for `peer` are given.
  static std::unique_ptr<Host> create(const std::string& tag, Ipv4Addr self, const MacAddr& mac, Ipv4Addr peer,
                                      const MacAddr& peer_mac, const std::string& extra_json) {
    std::unique_ptr<Host> h(new Host());
    h->tag_ = tag + std::to_string(serial()++);
    std::string json = R"({"ports": [{"address": ")" + self.to_string() + R"(/24", "mac": ")" + mac.to_string() +
                       R"(", "rx_desc": 64, "tx_desc": 64}], "arp": {"static": [{"port": 0, "ip": ")" +
                       peer.to_string() + R"(", "mac": ")" + peer_mac.to_string() + R"("}]}, "ip": {"max_routes": 16})" +
                       (extra_json.empty() ? "" : ", ") + extra_json + "}";
    auto cfg = parse_config(json);
    if (!cfg) return fail(cfg.error().message + "\nin " + json);

    // The first engine index whose route table and connection table names are free.
    unsigned index = kFirstIndex;
    for (; index <= kMaxIndex; ++index) {
      std::string i = std::to_string(index);
      if (rte_lpm_find_existing(("dpdkstack_rt" + i).c_str()) == nullptr &&
          rte_hash_find_existing(("dpdkstack_tcp" + i).c_str()) == nullptr)
        break;
    }
    if (index > kMaxIndex) return fail("no free engine index");
    h->index_ = index;
    unsigned queues = index + 1;

    for (unsigned q = 0; q < queues; ++q) {
      std::string s = h->tag_ + "_" + std::to_string(q);
      h->rx_.push_back(rte_ring_create(("tpr" + s).c_str(), kRingSize, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
      if (h->rx_.back() == nullptr) return fail("cannot create ring tpr" + s);
      h->tx_.push_back(rte_ring_create(("tpt" + s).c_str(), kRingSize, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
      if (h->tx_.back() == nullptr) return fail("cannot create ring tpt" + s);
    }
    h->dev_name_ = "tp" + h->tag_;  // the vdev is "net_ring_" + this
    int id = rte_eth_from_rings(h->dev_name_.c_str(), h->rx_.data(), queues, h->tx_.data(), queues, SOCKET_ID_ANY);
    if (id < 0) return fail("cannot create ring port " + h->dev_name_);
    h->port_id_ = static_cast<uint16_t>(id);
    h->port_made_ = true;

    int socket = static_cast<int>(rte_lcore_to_socket_id(rte_get_main_lcore()));
    if (socket < 0 || socket >= RTE_MAX_NUMA_NODES) socket = 0;
    h->pool_ = rte_pktmbuf_pool_create(("tpp" + h->tag_).c_str(), kPoolSize, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (h->pool_ == nullptr) return fail("cannot create the mempool of " + h->tag_);

    auto& ctx = h->ctx_;
    auto info = setup_port(h->port_id_, cfg->ports[0], "$.ports[0]", static_cast<uint16_t>(queues), h->pool_);
    if (!info) return fail(info.error().message);
    h->port_up_ = true;
    ctx.ports.resize(RTE_MAX_ETHPORTS);
    ctx.ports[h->port_id_] = *info;

    // As Stack::create fills it, for one port and one engine.
    ctx.tsc_hz = rte_get_tsc_hz();
    ctx.arp.entry_timeout = uint64_t{cfg->arp.entry_timeout_s} * ctx.tsc_hz;
    ctx.arp.retry_interval = uint64_t{cfg->arp.retry_interval_ms} * ctx.tsc_hz / 1000;
    ctx.arp.max_requests = cfg->arp.max_requests;
    ctx.arp.pending_max = cfg->arp.pending_max;
    ctx.arp.max_entries = cfg->arp.max_entries;
    ctx.arp.pending_total_max = cfg->arp.pending_total_max;
    for (auto st : cfg->arp.statics) {
      st.port = h->port_id_;
      ctx.static_arp.push_back(st);
    }
    ctx.ip.forwarding = cfg->ip.forwarding;
    ctx.ip.default_ttl = cfg->ip.default_ttl;
    ctx.ip.max_routes = cfg->ip.max_routes;
    ctx.ip.reassembly.max_flows = cfg->ip.reassembly_max_flows;
    ctx.ip.reassembly.max_fragments = cfg->ip.reassembly_max_fragments;
    ctx.ip.reassembly.max_total_fragments = cfg->ip.reassembly_max_total_fragments;
    ctx.ip.reassembly.timeout = uint64_t{cfg->ip.reassembly_timeout_ms} * ctx.tsc_hz / 1000;
    ctx.ip.reassembly.hash_seed = rte_rand();
    ctx.ip.pmtu_timeout = uint64_t{cfg->ip.pmtu_timeout_s} * ctx.tsc_hz;
    ctx.ip.pmtu_max_entries = cfg->ip.pmtu_max_entries;
    ctx.ip.icmp_error_rate = cfg->icmp.error_rate;
    ctx.ip.icmp_error_burst = cfg->icmp.error_burst;
    ctx.udp.max_sockets = cfg->udp.max_sockets;
    ctx.udp.ephemeral_first = cfg->udp.ephemeral_first;
    ctx.udp.ephemeral_last = cfg->udp.ephemeral_last;
    ctx.udp.seed = rte_rand();
    ctx.tcp = cfg->tcp;
    ctx.isn_key = {rte_rand(), rte_rand()};
    ctx.pools.assign(RTE_MAX_NUMA_NODES, nullptr);
    ctx.pools[static_cast<size_t>(socket)] = h->pool_;
    ctx.indirect_pools.assign(RTE_MAX_NUMA_NODES, nullptr);  // segments never need fragmenting here
    ctx.mail = nullptr;
    // DPDKSTACK_TCP_TRACE=PREFIX: each host's packet trace (runtime/trace.hpp)
    // in PREFIX<tag>.txt, e.g. /tmp/tcp-a0.txt, for looking into a failure.
    if (const char* prefix = std::getenv("DPDKSTACK_TCP_TRACE"); prefix != nullptr && *prefix != '\0') {
      if (FILE* f = std::fopen((prefix + h->tag_ + ".txt").c_str(), "w"); f != nullptr) {
        h->trace_ = std::make_unique<Trace>(f);
        ctx.trace = h->trace_.get();
      }
    }

    h->engine_ = std::make_unique<Engine>(ctx, index, rte_get_main_lcore());
    const Ipv4Prefix& net = info->address;
    Route connected{Ipv4Prefix{net.network(), net.len}, h->port_id_, Ipv4Addr{}, RouteKind::kConnected};
    if (auto st = h->engine_->init({connected}); !st) return fail(st.error().message);
    return h;
  }

  ~Host() { (void)stop(); }
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Destroys the engine (which frees what it holds), empties the rings and
  // returns the mbufs of this host's pool still in use: 0 unless something
  // leaked. Then closes the port and frees the rings and the pool.
  unsigned stop() {
    if (stopped_) return 0;
    stopped_ = true;
    engine_.reset();
    for (auto* r : rx_) free_ring(r);
    for (auto* r : tx_) free_ring(r);
    unsigned leaked = pool_ != nullptr ? rte_mempool_in_use_count(pool_) : 0;
    if (port_up_) shutdown_port(port_id_);
    if (port_made_) rte_eal_hotplug_remove("vdev", ("net_ring_" + dev_name_).c_str());  // rte_eth_from_rings' device name
    for (auto* r : rx_) rte_ring_free(r);
    for (auto* r : tx_) rte_ring_free(r);
    rx_.clear();
    tx_.clear();
    if (pool_ != nullptr && leaked == 0) rte_mempool_free(pool_);  // a leaky pool stays (its mbufs may be anywhere)
    pool_ = nullptr;
    return leaked;
  }

  Engine& engine() { return *engine_; }
  Tcp& tcp() { return engine_->tcp(); }
  const LcoreCounters& counters() const { return engine_->counters(); }
  rte_mempool* pool() { return pool_; }
  unsigned in_use() const { return rte_mempool_in_use_count(pool_); }
  unsigned index() const { return index_; }
  uint16_t port_id() const { return port_id_; }
  // Where the engine's port receives, and what it sent (its own queue).
  rte_ring* rx() { return rx_[index_]; }
  rte_ring* tx() { return tx_[index_]; }

  // Queues a frame with these bytes where the port receives; false when no
  // mbuf or the ring is full.
  bool inject(const uint8_t* data, size_t len) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) return false;
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(len));
    if (p == nullptr) {
      rte_pktmbuf_free(m);
      return false;
    }
    std::memcpy(p, data, len);
    if (rte_ring_enqueue(rx(), m) == 0) return true;
    rte_pktmbuf_free(m);
    return false;
  }

  // Every frame the port sent since the last call, copied out (mbufs freed).
  void take_sent(std::vector<Bytes>& out) {
    void* p = nullptr;
    while (rte_ring_dequeue(tx(), &p) == 0) {
      auto* m = static_cast<rte_mbuf*>(p);
      Bytes b(m->pkt_len);
      const void* d = rte_pktmbuf_read(m, 0, m->pkt_len, b.data());
      if (d != nullptr && d != b.data()) std::memcpy(b.data(), d, m->pkt_len);
      rte_pktmbuf_free(m);
      out.push_back(std::move(b));
    }
  }

 private:
  Host() = default;
  static unsigned& serial() {
    static unsigned n = 0;
    return n;
  }
  static std::unique_ptr<Host> fail(const std::string& why) {
    std::fprintf(stderr, "tcp-pair: %s\n", why.c_str());
    return nullptr;
  }
  static void free_ring(rte_ring* r) {
    void* m = nullptr;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }

  std::string tag_, dev_name_;
  unsigned index_ = 0;
  uint16_t port_id_ = 0;
  bool port_made_ = false, port_up_ = false, stopped_ = false;
  std::vector<rte_ring*> rx_, tx_;
  rte_mempool* pool_ = nullptr;
  std::unique_ptr<Trace> trace_;
  StackContext ctx_;
  std::unique_ptr<Engine> engine_;
};

// What the link does to frames, one direction. Probabilities per frame.
struct LinkModel {
  double loss = 0;         // dropped
  double duplicate = 0;    // delivered twice (the copy with its own delay)
  double reorder = 0;      // held back 1..max_hold ticks more than the others
  unsigned delay = 1;      // ticks every frame takes (>= 1: the next step at the earliest)
  unsigned max_hold = 8;
};

struct LinkStats {
  uint64_t frames = 0;      // sent into the link
  uint64_t lost = 0;
  uint64_t duplicated = 0;
  uint64_t held = 0;        // reordered
  uint64_t delivered = 0;   // copies handed to the receiver (duplicates included)
  uint64_t refused = 0;     // the receiver had no mbuf or no ring room (lost too)
};

// One direction of the link.
class Link {
 public:
  Link(Host& from, Host& to, const LinkModel& m, uint32_t seed) : from_(from), to_(to), m_(m), rng_(seed) {}

  // Frames this returns true for are lost too, besides the model's losses
  // (for losses at chosen places): `n` counts the frames sent into this
  // direction, from 0.
  std::function<bool(uint64_t n, const Bytes& frame)> drop_if;

  // Takes what `from` sent (at tick `now`) and delivers to `to` what is due.
  void step(uint64_t now) {
    scratch_.clear();
    from_.take_sent(scratch_);
    for (auto& f : scratch_) {
      uint64_t n = stats_.frames++;
      if (chance(m_.loss) || (drop_if && drop_if(n, f))) {
        ++stats_.lost;
        continue;
      }
      bool dup = chance(m_.duplicate);
      if (dup) {
        ++stats_.duplicated;
        queue(f, now);
      }
      queue(std::move(f), now);
    }
    // Due frames in the order they were queued: a held frame is overtaken
    // by those queued after it with a shorter delay.
    for (auto it = q_.begin(); it != q_.end();) {
      if (it->due > now) {
        ++it;
        continue;
      }
      if (to_.inject(it->bytes.data(), it->bytes.size())) ++stats_.delivered;
      else ++stats_.refused;
      it = q_.erase(it);
    }
  }

  size_t in_flight() const { return q_.size(); }
  const LinkStats& stats() const { return stats_; }
  void set_model(const LinkModel& m) { m_ = m; }

 private:
  struct Frame {
    uint64_t due;
    Bytes bytes;
  };
  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  void queue(Bytes f, uint64_t now) {
    uint64_t due = now + std::max(m_.delay, 1u);
    if (chance(m_.reorder)) {
      ++stats_.held;
      due += std::uniform_int_distribution<unsigned>(1, std::max(m_.max_hold, 1u))(rng_);
    }
    q_.push_back({due, std::move(f)});
  }

  Host& from_;
  Host& to_;
  LinkModel m_;
  std::mt19937 rng_;
  std::deque<Frame> q_;
  std::vector<Bytes> scratch_;
  LinkStats stats_;
};

// Host A (10.0.0.1) and host B (10.0.0.2) and the link between them.
class TcpPair {
 public:
  // `extra_json`: more top-level config members for both hosts (e.g. "tcp").
  // The two directions draw from generators seeded `seed` and `seed + 1`.
  static std::unique_ptr<TcpPair> create(const std::string& extra_json, const LinkModel& model, uint32_t seed) {
    std::unique_ptr<TcpPair> p(new TcpPair());
    p->a_ = Host::create("a", kHostA, kMacA, kHostB, kMacB, extra_json);
    if (!p->a_) return nullptr;
    p->b_ = Host::create("b", kHostB, kMacB, kHostA, kMacA, extra_json);
    if (!p->b_) return nullptr;
    p->ab_ = std::make_unique<Link>(*p->a_, *p->b_, model, seed);
    p->ba_ = std::make_unique<Link>(*p->b_, *p->a_, model, seed + 1);
    return p;
  }

  Host& a() { return *a_; }
  Host& b() { return *b_; }
  Link& a_to_b() { return *ab_; }
  Link& b_to_a() { return *ba_; }
  uint64_t ticks() const { return tick_; }

  // One tick: both engines polled once, then frames moved both ways.
  void step() {
    ++tick_;
    a_->engine().poll_once();
    b_->engine().poll_once();
    ab_->step(tick_);
    ba_->step(tick_);
  }

  // Steps until done() or the wall-clock budget is spent; returns done().
  // done() is asked every `every` steps.
  template <typename Done>
  bool run_until(Done done, std::chrono::milliseconds budget, unsigned every = 64) {
    auto end = std::chrono::steady_clock::now() + budget;
    while (!done()) {
      for (unsigned i = 0; i < every; ++i) step();
      if (std::chrono::steady_clock::now() >= end) return done();
    }
    return true;
  }

  // Lets the link run dry (nothing in flight, nothing sent), then stops
  // both hosts; returns the mbufs still in use in each pool (A's, B's).
  std::pair<unsigned, unsigned> stop() {
    for (int i = 0; i < 100 && (ab_->in_flight() != 0 || ba_->in_flight() != 0); ++i) step();
    ab_.reset();
    ba_.reset();
    unsigned la = a_->stop(), lb = b_->stop();
    return {la, lb};
  }

 private:
  TcpPair() = default;
  std::unique_ptr<Host> a_, b_;
  std::unique_ptr<Link> ab_, ba_;
  uint64_t tick_ = 0;
};

}  // namespace dpdkstack::tcptest
