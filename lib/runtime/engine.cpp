#include "runtime/engine.hpp"

#include <rte_cycles.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_random.h>

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace dpdkstack {

using namespace wire;

namespace {

constexpr size_t kEthLen = EthernetView::kHeaderLen;
const MacAddr kAllHostsMac{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};  // 224.0.0.1

rte_mbuf* as_mbuf(void* p) { return static_cast<rte_mbuf*>(p); }

constexpr size_t kRecentErrors = 16;
// RFC 1812 4.3.2.3 / RFC 1122 3.2.2: how much of the offending datagram an
// error quotes: as much as fits in a 576-byte message.
constexpr size_t kMaxErrorLen = 576;

}  // namespace

#define TRACE(...)                                                  \
  do {                                                              \
    if (ctx_.trace != nullptr) [[unlikely]]                         \
      ctx_.trace->line(lcore_id_, __VA_ARGS__);                     \
  } while (0)

Engine::Engine(StackContext& ctx, unsigned index, unsigned lcore_id)
    : ctx_(ctx),
      index_(index),
      lcore_id_(lcore_id),
      arp_(ctx.arp),
      reasm_(ctx.ip.reassembly),
      pmtu_(ctx.ip.pmtu_timeout, ctx.ip.pmtu_max_entries),
      icmp_bucket_(ctx.ip.icmp_error_rate, ctx.ip.icmp_error_burst, ctx.tsc_hz),
      udp_(*this, [&] {
        UdpTableConfig u = ctx.udp;
        u.seed ^= rte_rand() + index;  // each engine its own ephemeral sequence
        return u;
      }()),
      tcp_(*this, ctx.tcp, ctx.isn_key[0], ctx.isn_key[1]) {
  txq_.resize(ctx_.ports.size());
  for (const auto& p : ctx_.ports) {
    if (p.nb_queues != 0) local_addrs_.push_back(p.address.addr);
    if (p.nb_queues != 0 && p.address.len < 31) broadcasts_.push_back(p.address.directed_broadcast());
    if (p.nb_queues == 0 || index_ >= p.nb_queues) continue;  // not configured, or not ours
    auto& t = txq_[p.port_id];
    t.owned = true;
    t.queue = static_cast<uint16_t>(index_);
    t.pkts = static_cast<rte_mbuf**>(rte_zmalloc_socket("txbacklog", sizeof(rte_mbuf*) * kTxBacklog, RTE_CACHE_LINE_SIZE,
                                                        static_cast<int>(rte_lcore_to_socket_id(lcore_id_))));
    if (t.pkts == nullptr) t.owned = false;
    if (t.owned) rxq_.emplace_back(p.port_id, t.queue);
  }
  for (const auto& s : ctx_.static_arp)
    arp_.add_static(s.port, s.ip, s.mac, [](void* p, const MacAddr&) { rte_pktmbuf_free(as_mbuf(p)); });  // none wait yet
  // RFC 5227 announcement: the engine owning queue 0 of a port says who we
  // are, once the link is up (the timer step checks until it is).
  for (auto [port, queue] : rxq_)
    if (queue == 0 && !ctx_.ports[port].l3) garp_pending_.push_back(port);
  timer_period_ = ctx_.tsc_hz / 1000;
  int socket = static_cast<int>(rte_lcore_to_socket_id(lcore_id_));
  pool_ = ctx_.pool_for(socket);
  for (auto* p : ctx_.indirect_pools)
    if (p != nullptr && (indirect_pool_ == nullptr || p->socket_id == socket)) indirect_pool_ = p;
  pieces_.reserve(ctx_.ip.reassembly.max_fragments);
  frag_released_.reserve(ctx_.ip.reassembly.max_fragments);
  frag_out_.resize(65536 / 8 + 1);  // the most fragments one datagram can make (8-byte pieces)
  recent_errors_.reserve(kRecentErrors);
  ident_ = static_cast<uint16_t>(rte_rdtsc() ^ (index_ << 12));
  icmp_handlers_[ipproto::kUdp] = [this](const IcmpErrorInfo& e) { udp_.icmp_error(e); };
  icmp_handlers_[ipproto::kTcp] = [this](const IcmpErrorInfo& e) { tcp_.icmp_error(e); };
}

Status Engine::init(const std::vector<Route>& routes) {
  auto rt = RouteTable::create("dpdkstack_rt" + std::to_string(index_), ctx_.ip.max_routes,
                               static_cast<int>(rte_lcore_to_socket_id(lcore_id_)));
  if (!rt) return rt.error();
  routes_ = std::move(*rt);
  for (const auto& r : routes) {
    auto st = routes_->add(r);
    if (!st) return st.error();
  }
  return tcp_.init(index_, static_cast<int>(rte_lcore_to_socket_id(lcore_id_)));
}

Engine::~Engine() {
  tcp_.clear();
  arp_.clear([](void* p) { rte_pktmbuf_free(as_mbuf(p)); });
  reasm_.clear([](rte_mbuf* p) { rte_pktmbuf_free(p); });
  for (; loop_len_ > 0; --loop_len_, loop_head_ = (loop_head_ + 1) % kLoopbackSize)
    rte_pktmbuf_free(loop_q_[loop_head_]);
  std::shared_ptr<ControlJob>* job = nullptr;
  while (control_q_.pop(job)) delete job;  // never run: their callers have given up
  for (auto& t : txq_) {
    if (t.pkts == nullptr) continue;
    // Whatever is still buffered never reached the wire; free it.
    for (uint16_t i = 0; i < t.len; ++i) rte_pktmbuf_free(t.pkts[i]);
    rte_free(t.pkts);
  }
}

void Engine::drop(rte_mbuf* m, DropReason r) {
  counters_.drop(r);
  TRACE("drop %.*s", static_cast<int>(drop_reason_name(r).size()), drop_reason_name(r).data());
  rte_pktmbuf_free(m);
}

void Engine::run(const std::function<void()>& control) {
  // net_tap arms a signal (F_SETSIG: a real-time one in DPDK 22.11, SIGIO
  // in older ones) on its queues' fds and counts the signals to skip empty
  // read()s. A process-directed signal lands on any thread that does not
  // block it; keep them off the polling thread (EAL's own threads take them),
  // where each would cost a kernel exit, a signal frame and a sigreturn per
  // packet. We use no real-time signal ourselves.
  sigset_t io;
  sigemptyset(&io);
  sigaddset(&io, SIGIO);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&io, sig);
  pthread_sigmask(SIG_BLOCK, &io, nullptr);
  running_.store(true, std::memory_order_release);
  uint64_t next_control = 0;
  while (!ctx_.stop.load(std::memory_order_relaxed)) {
    poll_once();
    if (control && now_ >= next_control) {
      control();
      next_control = now_ + timer_period_;
    }
  }
  flush_tx();
  running_.store(false, std::memory_order_release);
  run_control_jobs();  // what was queued before the flag went down
}

bool Engine::call(std::function<void(Engine&)> fn, unsigned timeout_ms) {
  std::lock_guard<std::mutex> guard(callers_);
  if (rte_lcore_id() == lcore_id_ ||
      (!launched_.load(std::memory_order_acquire) && !running_.load(std::memory_order_acquire))) {
    fn(*this);
    return true;
  }
  auto job = std::make_shared<ControlJob>();
  job->fn = std::move(fn);
  auto* handle = new std::shared_ptr<ControlJob>(job);
  if (!control_q_.push(handle)) {
    delete handle;
    return false;
  }
  // The engine takes the job at its next timer step (within a millisecond):
  // spin for the first few milliseconds rather than sleep, since a short
  // sleep on an idle core can oversleep badly in a VM (seen here: a 1 ms
  // sleep lasting seconds); then sleep in 100 us steps up to the timeout.
  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t start = rte_rdtsc(), spin_until = start + hz / 200, deadline = start + hz / 1000 * timeout_ms;
  while (!job->done.load(std::memory_order_acquire)) {
    uint64_t now = rte_rdtsc();
    if (now >= deadline) return false;
    if (now < spin_until) rte_pause();
    else std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

void Engine::run_control_jobs() {
  std::shared_ptr<ControlJob>* handle = nullptr;
  while (control_q_.pop(handle)) {
    (*handle)->fn(*this);
    (*handle)->done.store(true, std::memory_order_release);
    delete handle;
  }
}

unsigned Engine::poll_once() {
  uint64_t start = rte_rdtsc();
  now_ = start;
  unsigned total = 0;
  rte_mbuf* pkts[kBurst];
  for (auto [port, queue] : rxq_) {
    uint16_t n = rte_eth_rx_burst(port, queue, pkts, kBurst);
    if (n == 0) continue;
    total += n;
    process_burst(port, pkts, n);
  }
  if (loop_len_ != 0) run_loopback();
  drain_mailboxes();
  if (now_ >= next_timer_) {
    run_timers(now_);
    next_timer_ = now_ + timer_period_;
  }
  tcp_.flush();
  flush_tx();
  uint64_t end = rte_rdtsc();
  ++counters_.loops;
  counters_.total_cycles += end - start;
  if (total != 0) {
    ++counters_.busy_loops;
    counters_.busy_cycles += end - start;
  }
  return total;
}

void Engine::process_burst(uint16_t port, rte_mbuf** pkts, uint16_t n) {
  constexpr uint16_t kPrefetch = 3;
  counters_.rx_packets += n;
  if (ctx_.ports[port].l3) [[unlikely]] {
    // A bare IP packet: give it the Ethernet header every layer expects
    // (to our MAC, so that it reads as unicast to us).
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      uint8_t version = m->data_len > 0 ? rte_pktmbuf_mtod(m, uint8_t*)[0] >> 4 : 0;
      auto* h = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, kEthLen));
      if (h == nullptr) {
        drop(m, DropReason::no_mbuf);
        pkts[i] = nullptr;
        continue;
      }
      EthernetRepr{ctx_.ports[port].mac, MacAddr{}, version == 4 ? ethertype::kIpv4 : uint16_t{0}}.emit(h);
    }
  }
  for (uint16_t i = 0; i < n && i < kPrefetch; ++i)
    if (pkts[i] != nullptr) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetch < n && pkts[i + kPrefetch] != nullptr) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetch], void*));
    if (pkts[i] != nullptr) [[likely]] eth_input(port, pkts[i]);
  }
}

void Engine::eth_input(uint16_t port, rte_mbuf* m) {
  const PortInfo& pi = ctx_.ports[port];
  if (m->nb_segs != 1) return drop(m, DropReason::eth_multisegment);
  auto eth = EthernetView::check(rte_pktmbuf_mtod(m, uint8_t*), m->data_len);
  if (!eth) {
    TRACE("eth  port%u rx %u bytes: shorter than a header", port, m->data_len);
    return drop(m, DropReason::eth_runt);
  }
  MacAddr dst = eth->dst();
  TRACE("eth  port%u rx %u bytes %s -> %s type 0x%04x", port, m->data_len, eth->src().to_string().c_str(),
        dst.to_string().c_str(), eth->ethertype());
  if (dst != pi.mac && !dst.is_broadcast() && dst != kAllHostsMac) return drop(m, DropReason::eth_not_for_us);
  switch (eth->ethertype()) {
    case ethertype::kArp: return arp_input(port, m);
    case ethertype::kIpv4: return ipv4_input(port, m);
    default: return drop(m, DropReason::eth_unknown_type);
  }
}

// RFC 826 "Packet Reception", with RFC 1122 2.3.2.1's advice against
// creating entries for every request overheard.
void Engine::arp_input(uint16_t port, rte_mbuf* m) {
  const PortInfo& pi = ctx_.ports[port];
  ++counters_.arp_in;
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  auto view = ArpView::check(frame + kEthLen, m->data_len - kEthLen);
  if (!view) return drop(m, DropReason::arp_truncated);
  ArpRepr req;
  ArpParseError why{};
  if (!ArpRepr::parse(*view, req, why))
    return drop(m, why == ArpParseError::kBadOp ? DropReason::arp_bad_op : DropReason::arp_unsupported);
  TRACE("arp  %s who-has %s tell %s (%s)", req.op == ArpOp::kRequest ? "request" : "reply",
        req.tpa.to_string().c_str(), req.spa.to_string().c_str(), req.sha.to_string().c_str());
  if (req.sha.is_multicast() || req.sha.is_zero() || req.sha == pi.mac || req.spa.is_broadcast() ||
      req.spa.is_multicast() || req.spa == pi.address.addr)
    return drop(m, DropReason::arp_bad_sender);

  bool for_us = req.tpa == pi.address.addr;
  // Merge: refresh an entry we have; create one only when we are the target.
  // A sender of 0.0.0.0 is an RFC 5227 probe: answer it, learn nothing.
  // Only on-link senders get an entry: an off-link sender could otherwise
  // fill the table with addresses we would never send to.
  if (!req.spa.is_unspecified()) arp_learned(port, req.spa, req.sha, for_us && pi.address.contains(req.spa), true);
  if (!for_us) return drop(m, DropReason::arp_not_for_us);
  if (req.op != ArpOp::kRequest) {
    ++counters_.arp_replies_in;
    TRACE("arp  reply consumed");
    rte_pktmbuf_free(m);
    return;
  }
  // Answer in place: the request's buffer becomes the reply.
  ArpRepr rep{ArpOp::kReply, pi.mac, pi.address.addr, req.sha, req.spa};
  rep.emit(frame + kEthLen);
  EthernetRepr{req.sha, pi.mac, ethertype::kArp}.emit(frame);
  rte_pktmbuf_trim(m, static_cast<uint16_t>(m->pkt_len - kEthLen - ArpView::kLen));
  ++counters_.arp_replies_sent;
  TRACE("arp  reply %s is-at %s", pi.address.addr.to_string().c_str(), pi.mac.to_string().c_str());
  send_frame(port, m);
}

void Engine::arp_learned(uint16_t port, Ipv4Addr ip, const MacAddr& mac, bool create, bool tell_replicas) {
  ArpUpdate result = arp_.update(port, ip, mac, now_, create, [&](void* p, const MacAddr& m) {
    rte_mbuf* pkt = as_mbuf(p);
    EthernetView::check(rte_pktmbuf_mtod(pkt, uint8_t*), pkt->data_len)->set_dst(m);
    TRACE("arp  %s resolved: sending a waiting packet", ip.to_string().c_str());
    link_output(port, pkt);
  });
  if (result != ArpUpdate::kShare || !tell_replicas || ctx_.mail == nullptr || ctx_.mail->size() < 2) return;
  TRACE("arp  learnt/confirmed %s is-at %s; telling %zu replicas", ip.to_string().c_str(), mac.to_string().c_str(),
        ctx_.mail->size() - 1);
  MailMessage msg;
  msg.kind = MailMessage::Kind::kArpUpdate;
  msg.port = port;
  msg.ip = ip;
  msg.mac = mac;
  tell_other_engines(msg);
}

void Engine::tell_other_engines(const MailMessage& msg) {
  for (size_t to = 0; to < ctx_.mail->size(); ++to) {
    if (to == index_) continue;
    if (!ctx_.mail->queue(index_, to).push(msg)) ++counters_.mailbox_full;
  }
}

void Engine::drain_mailboxes() {
  if (ctx_.mail == nullptr) return;
  for (size_t from = 0; from < ctx_.mail->size(); ++from) {
    if (from == index_) continue;
    ctx_.mail->queue(from, index_).consume_all([&](const MailMessage& msg) {
      switch (msg.kind) {
        case MailMessage::Kind::kArpUpdate:
          // Only install on ports this engine can send on; others ignore it.
          if (msg.port < txq_.size() && txq_[msg.port].owned) arp_learned(msg.port, msg.ip, msg.mac, true, false);
          break;
        case MailMessage::Kind::kPmtuUpdate:
          pmtu_learned(msg.ip, msg.mtu, msg.datagram_len, false);
          break;
        case MailMessage::Kind::kTcpSegment: {
          ++counters_.steered_in;
          rte_mbuf* m = msg.pkt;
          Ipv4View ip = Ipv4View::trusted(rte_pktmbuf_mtod(m, uint8_t*) + kEthLen);
          auto off = static_cast<uint32_t>(ip.payload() - rte_pktmbuf_mtod(m, uint8_t*));
          tcp_.input(msg.port, m, off, static_cast<uint32_t>(ip.payload_len()), ip.src(), ip.dst(), false, true);
          break;
        }
        case MailMessage::Kind::kPacket: {
          ++counters_.steered_in;
          rte_mbuf* m = msg.pkt;
          Ipv4View ip = Ipv4View::trusted(rte_pktmbuf_mtod(m, uint8_t*) + kEthLen);
          ipv4_deliver(msg.port, m, ip, msg.broadcast);
          break;
        }
      }
    });
  }
}

bool Engine::is_local(Ipv4Addr a) const {
  for (Ipv4Addr l : local_addrs_)
    if (a == l) return true;
  return false;
}

// The address a datagram of ours to `dst` leaves from: the egress port's.
Ipv4Addr Engine::source_for(Ipv4Addr dst) const {
  if (is_local(dst)) return dst;
  if (const Route* r = routes_ ? routes_->lookup(dst) : nullptr; r != nullptr) return ctx_.ports[r->port].address.addr;
  return local_addrs_.empty() ? Ipv4Addr{} : local_addrs_.front();
}

// RFC 791 / RFC 1122 3.2.1 receive checks, each failure its own reason;
// then local delivery (weak host model, RFC 1122 3.3.4.2) or forwarding
// (RFC 1812 5.2).
void Engine::ipv4_input(uint16_t port, rte_mbuf* m) {
  ++counters_.ipv4_in;
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  // Our own datagram back from the loopback: built valid (and possibly a
  // chain, which the checks below, made for received frames, do not read).
  if (port == kLoopbackPort) return ipv4_deliver(port, m, Ipv4View::trusted(frame + kEthLen), false);
  uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  if (ck == RTE_MBUF_F_RX_IP_CKSUM_BAD) return drop(m, DropReason::ipv4_bad_checksum);
  Ipv4View ip;
  switch (Ipv4View::check(frame + kEthLen, m->data_len - kEthLen, ck != RTE_MBUF_F_RX_IP_CKSUM_GOOD, ip)) {
    case Ipv4Error::kNone: break;
    case Ipv4Error::kTruncated: return drop(m, DropReason::ipv4_truncated);
    case Ipv4Error::kBadVersion: return drop(m, DropReason::ipv4_bad_version);
    case Ipv4Error::kBadIhl: return drop(m, DropReason::ipv4_bad_ihl);
    case Ipv4Error::kBadTotalLength: return drop(m, DropReason::ipv4_bad_total_length);
    case Ipv4Error::kBadChecksum: return drop(m, DropReason::ipv4_bad_checksum);
  }
  // Ethernet pads short frames: the IP total length says where data ends.
  size_t want = kEthLen + ip.total_length();
  if (m->pkt_len > want) rte_pktmbuf_trim(m, static_cast<uint16_t>(m->pkt_len - want));
  TRACE("ipv4 %s -> %s proto %u len %u ttl %u id %u frag 0x%04x", ip.src().to_string().c_str(),
        ip.dst().to_string().c_str(), ip.protocol(), ip.total_length(), ip.ttl(), ip.ident(), ip.flags_frag());

  const PortInfo& pi = ctx_.ports[port];
  Ipv4Addr src = ip.src(), dst = ip.dst();
  // RFC 1122 3.2.1.3: never accept a source that cannot be a host's.
  if (src.is_broadcast() || src.is_multicast() || src.is_unspecified() || src.is_loopback() ||
      (src.v >> 28) == 0xf || is_local(src) || is_our_broadcast(src))
    return drop(m, DropReason::ipv4_bad_source);
  // Broadcast for us: the limited broadcast, the ingress network's directed
  // broadcast (a /31 or /32 has none), and the all-hosts group.
  bool to_broadcast = dst.is_broadcast() || (pi.address.len < 31 && dst == pi.address.directed_broadcast()) ||
                      dst == Ipv4Addr::from_octets(224, 0, 0, 1);
  // RFC 1122 3.3.6 / RFC 1812 5.3.4: a unicast datagram that came as a
  // link-layer broadcast or multicast is neither taken nor forwarded.
  if (!to_broadcast && (frame[0] & 1) != 0) return drop(m, DropReason::ipv4_link_broadcast);
  if (!to_broadcast && !is_local(dst)) return forward(port, m, ip);

  if (ip.is_fragment()) {
    m = reassemble(m, ip);
    if (m == nullptr) return;
    ip = Ipv4View::trusted(rte_pktmbuf_mtod(m, uint8_t*) + kEthLen);
    // The NIC hashed the fragments on addresses alone; the datagram belongs
    // to the lcore its whole tuple hashes to (DESIGN 2: steering).
    if (ctx_.mail != nullptr && ctx_.mail->size() > 1) {
      uint16_t sport = 0, dport = 0;
      if ((ip.protocol() == ipproto::kTcp || ip.protocol() == ipproto::kUdp) && ip.payload_len() >= 4) {
        sport = load_be16(ip.payload());
        dport = load_be16(ip.payload() + 2);
      }
      uint16_t owner = owner_queue(pi.rss_params, src, dst, ip.protocol(), sport, dport);
      if (owner != index_ && owner < ctx_.mail->size()) {
        MailMessage msg;
        msg.kind = MailMessage::Kind::kPacket;
        msg.port = port;
        msg.broadcast = to_broadcast;
        msg.pkt = m;
        if (!ctx_.mail->queue(index_, owner).push(msg)) return drop(m, DropReason::steer_queue_full);
        ++counters_.steered_out;
        TRACE("ipv4 reassembled datagram steered to engine %u", owner);
        return;
      }
    }
  }
  ipv4_deliver(port, m, ip, to_broadcast);
}

void Engine::ipv4_deliver(uint16_t port, rte_mbuf* m, Ipv4View ip, bool to_broadcast) {
  if (!filter_pass(FilterHook::kInput, m, ip, port, kNoPort)) return;
  ++counters_.ipv4_delivered;
  switch (ip.protocol()) {
    case ipproto::kIcmp: return icmp_input(port, m, ip, to_broadcast);
    case ipproto::kUdp: {
      auto off = static_cast<uint32_t>(ip.payload() - rte_pktmbuf_mtod(m, uint8_t*));
      return udp_.input(port, m, off, static_cast<uint32_t>(ip.payload_len()), ip.src(), ip.dst(), to_broadcast);
    }
    case ipproto::kTcp: {
      auto off = static_cast<uint32_t>(ip.payload() - rte_pktmbuf_mtod(m, uint8_t*));
      return tcp_.input(port, m, off, static_cast<uint32_t>(ip.payload_len()), ip.src(), ip.dst(), to_broadcast);
    }
    default:
      icmp_error(m, icmptype::kDestUnreachable, icmpcode::kProtocolUnreachable, 0, true);
      return drop(m, DropReason::ipv4_unknown_protocol);
  }
}

// RFC 791 reassembly (with RFC 1858's tiny-fragment rule for TCP); the
// table decides, this turns its verdict into mbufs: one chain whose first
// segment holds the first fragment's headers, the others only data.
rte_mbuf* Engine::reassemble(rte_mbuf* m, Ipv4View ip) {
  FragKey key{ip.src(), ip.dst(), ip.ident(), ip.protocol()};
  FragInfo info{ip.frag_offset_bytes(), static_cast<uint32_t>(ip.payload_len()), ip.more_fragments()};
  if (ip.protocol() == ipproto::kTcp && (info.offset == 8 || (info.offset == 0 && info.len < 20))) {
    drop(m, DropReason::frag_tiny);
    return nullptr;
  }
  pieces_.clear();
  frag_released_.clear();
  FragResult r = reasm_.add(key, info, m, now_, pieces_, [&](rte_mbuf* h) { frag_released_.push_back(h); });
  TRACE("frag id %u offset %u len %u%s: %s", key.id, info.offset, info.len, info.more ? " MF" : "",
        frag_result_name(r));
  DropReason why = DropReason::frag_inconsistent;
  switch (r) {
    case FragResult::kHeld: ++counters_.frags_in; return nullptr;
    case FragResult::kComplete: ++counters_.frags_in; break;
    case FragResult::kDuplicate: why = DropReason::frag_duplicate; break;
    case FragResult::kOverlap: why = DropReason::frag_overlap; break;
    case FragResult::kTooBig: why = DropReason::frag_too_big; break;
    case FragResult::kInconsistent: why = DropReason::frag_inconsistent; break;
    case FragResult::kTooManyFragments: why = DropReason::frag_too_many; break;
    case FragResult::kTableFull: why = DropReason::frag_table_full; break;
  }
  if (r != FragResult::kComplete) {
    drop(m, why);
    for (rte_mbuf* h : frag_released_) drop(h, why);
    return nullptr;
  }
  rte_mbuf* head = pieces_.front().handle;
  Ipv4View hip = Ipv4View::trusted(rte_pktmbuf_mtod(head, uint8_t*) + kEthLen);
  const FragInfo& last = pieces_.back().info;
  size_t total = hip.header_len() + last.offset + last.len;
  if (total > 0xffff) {  // the table bounds data at 65515 bytes; a long first header can still pass 65535
    for (auto& p : pieces_) drop(p.handle, DropReason::frag_too_big);
    return nullptr;
  }
  rte_mbuf* tail = rte_pktmbuf_lastseg(head);
  for (size_t k = 1; k < pieces_.size(); ++k) {
    rte_mbuf* f = pieces_[k].handle;
    size_t hl = size_t{rte_pktmbuf_mtod(f, uint8_t*)[kEthLen] & 0x0fu} * 4;
    rte_pktmbuf_adj(f, static_cast<uint16_t>(kEthLen + hl));
    tail->next = f;
    head->nb_segs = static_cast<uint16_t>(head->nb_segs + f->nb_segs);
    head->pkt_len += f->pkt_len;
    tail = rte_pktmbuf_lastseg(f);
  }
  // The NIC's L4 checksum verdict, if any, was about the first fragment alone.
  head->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
  hip.set_total_length(static_cast<uint16_t>(total));
  hip.set_flags_frag(hip.flags_frag() & Ipv4View::kFlagDf);
  hip.fill_checksum();
  ++counters_.reasm_ok;
  counters_.reasm_fragments += pieces_.size();
  TRACE("frag datagram id %u complete: %zu bytes in %zu fragments", key.id, total, pieces_.size());
  return head;
}

// RFC 1812 5.2-5.3: checks, TTL, route, MTU, then out through ARP.
void Engine::forward(uint16_t in_port, rte_mbuf* m, Ipv4View ip) {
  if (!ctx_.ip.forwarding) return drop(m, DropReason::ipv4_forwarding_disabled);
  Ipv4Addr dst = ip.dst();
  // RFC 1812 4.2.2.11 / 5.3.7: addresses that are never forwarded.
  if ((dst.v >> 24) == 0 || dst.is_loopback() || dst.is_multicast() || (dst.v >> 28) == 0xf || dst.is_broadcast())
    return drop(m, DropReason::ipv4_not_forwardable);
  if (ip.ttl() <= 1) {
    icmp_error(m, icmptype::kTimeExceeded, icmpcode::kTtlExceeded, 0, false);
    return drop(m, DropReason::ipv4_ttl_exceeded);
  }
  const Route* r = routes_->lookup(dst);
  if (r == nullptr) {
    icmp_error(m, icmptype::kDestUnreachable, icmpcode::kNetUnreachable, 0, false);
    return drop(m, DropReason::ipv4_no_route);
  }
  // RFC 2644: directed broadcasts (of any of our networks) are not forwarded.
  if (is_our_broadcast(dst)) return drop(m, DropReason::ipv4_not_forwardable);
  if (!filter_pass(FilterHook::kForward, m, ip, in_port, r->port)) return;
  const PortInfo& out = ctx_.ports[r->port];
  if (ip.total_length() > out.mtu && ip.dont_fragment()) {
    icmp_error(m, icmptype::kDestUnreachable, icmpcode::kFragNeeded, out.mtu, false);
    return drop(m, DropReason::ipv4_frag_needed);
  }
  ip.decrement_ttl();
  ++counters_.ipv4_forwarded;
  if (in_port < kMaxCountedPorts) ++counters_.fwd_rx[in_port];
  if (r->port < kMaxCountedPorts) ++counters_.fwd_tx[r->port];
  TRACE("ipv4 forward %s via %s port%u", dst.to_string().c_str(),
        r->gateway.is_unspecified() ? "on-link" : r->gateway.to_string().c_str(), r->port);
  m->ol_flags = 0;
  neigh_output(r->port, m, r->gateway.is_unspecified() ? dst : r->gateway);
}

void Engine::icmp_input(uint16_t port, rte_mbuf* m, Ipv4View ip, bool to_broadcast) {
  uint8_t* p = ip.payload();
  size_t len = ip.payload_len();
  size_t off = static_cast<size_t>(p - rte_pktmbuf_mtod(m, uint8_t*));
  IcmpView icmp;
  if (len < IcmpView::kHeaderLen || m->data_len < off + IcmpView::kHeaderLen) return drop(m, DropReason::icmp_truncated);
  if (m->nb_segs == 1) {
    if (IcmpView::check(p, len, true, icmp) != IcmpError::kNone) return drop(m, DropReason::icmp_bad_checksum);
  } else {  // a reassembled datagram: sum over the chain
    uint16_t sum = 0;
    if (rte_raw_cksum_mbuf(m, static_cast<uint32_t>(off), static_cast<uint32_t>(len), &sum) != 0 || sum != 0xffff)
      return drop(m, DropReason::icmp_bad_checksum);
    (void)IcmpView::check(p, len, false, icmp);
  }
  TRACE("icmp type %u code %u len %zu", icmp.type(), icmp.code(), icmp.len());
  switch (icmp.type()) {
    case icmptype::kEchoRequest: break;
    case icmptype::kEchoReply: {
      uint16_t id = ctx_.ping.ident.load(std::memory_order_relaxed);
      if (id == 0 || icmp.code() != 0 || icmp.echo_ident() != id) return drop(m, DropReason::icmp_unhandled_type);
      size_t slot = icmp.echo_seq() % PingBoard::kSlots;
      if (ctx_.ping.sent_tsc[slot].load(std::memory_order_relaxed) != 0 &&
          ctx_.ping.reply_tsc[slot].load(std::memory_order_relaxed) == 0) {
        ctx_.ping.reply_bytes[slot].store(static_cast<uint32_t>(len), std::memory_order_relaxed);
        ctx_.ping.reply_ttl[slot].store(ip.ttl(), std::memory_order_relaxed);
        ctx_.ping.reply_tsc[slot].store(now_, std::memory_order_release);
      }
      ++counters_.icmp_echo_replies_in;
      rte_pktmbuf_free(m);  // consumed by the console's ping
      return;
    }
    default:
      if (icmptype::is_error(icmp.type())) return icmp_error_input(m, ip, p, len);
      return drop(m, DropReason::icmp_unhandled_type);
  }
  if (to_broadcast) return drop(m, DropReason::icmp_broadcast_echo);

  // RFC 792 echo: the request's buffer becomes the reply (RFC 1122 3.2.2.6:
  // same identifier, sequence and data).
  uint16_t old_word = load_be16(p);  // type, code
  icmp.set_type(icmptype::kEchoReply);
  uint16_t new_word = load_be16(p);
  store_be16(p + 2, checksum_adjust(load_be16(p + 2), old_word, new_word));

  // RFC 1122 3.2.2.6 asks that a source route in the request be reversed in
  // the reply. Until IP options are handled, the reply carries none: a reply
  // without the option is better than one that follows the route forwards.
  if (ip.header_len() > Ipv4View::kMinHeaderLen) {
    size_t opt = ip.header_len() - Ipv4View::kMinHeaderLen;
    uint16_t total = static_cast<uint16_t>(ip.total_length() - opt);
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    std::memmove(frame + opt, frame, kEthLen + Ipv4View::kMinHeaderLen);
    rte_pktmbuf_adj(m, static_cast<uint16_t>(opt));
    frame = rte_pktmbuf_mtod(m, uint8_t*);
    frame[kEthLen] = 0x45;
    store_be16(frame + kEthLen + 2, total);
    ip = Ipv4View::trusted(frame + kEthLen);
  }
  Ipv4Addr peer = ip.src();
  ip.set_src(ip.dst());
  ip.set_dst(peer);
  ip.set_ttl(ctx_.ip.default_ttl);
  ip.set_flags_frag(0);  // the reply may be fragmented on its way back
  ++counters_.icmp_echo_replies;
  TRACE("icmp echo reply to %s id %u seq %u", peer.to_string().c_str(), icmp.echo_ident(), icmp.echo_seq());
  (void)port;
  m->ol_flags = 0;
  ip_send(m);
}

// RFC 1122 3.2.2.1: an error is handed to the protocol of the datagram it
// quotes; frag needed (RFC 1191) lowers the path MTU first.
void Engine::icmp_error_input(rte_mbuf* m, Ipv4View ip, uint8_t* icmp, size_t icmp_len) {
  std::array<uint8_t, 60 + 8> buf;
  size_t off = static_cast<size_t>(icmp - rte_pktmbuf_mtod(m, uint8_t*)) + IcmpView::kHeaderLen;
  size_t avail = std::min(icmp_len - IcmpView::kHeaderLen, buf.size());
  const auto* q = static_cast<const uint8_t*>(rte_pktmbuf_read(m, static_cast<uint32_t>(off), static_cast<uint32_t>(avail), buf.data()));
  if (q == nullptr || avail < Ipv4View::kMinHeaderLen + 8) return drop(m, DropReason::icmp_bad_quote);
  if (q != buf.data()) std::memcpy(buf.data(), q, avail);
  size_t qhl = size_t{buf[0] & 0x0fu} * 4;
  if ((buf[0] >> 4) != 4 || qhl < Ipv4View::kMinHeaderLen || avail < qhl + 8) return drop(m, DropReason::icmp_bad_quote);
  IcmpErrorInfo e;
  e.type = icmp[0];
  e.code = icmp[1];
  e.next_hop_mtu = load_be16(icmp + 6);
  e.reporter = ip.src();
  e.src = Ipv4Addr(load_be32(buf.data() + 12));
  e.dst = Ipv4Addr(load_be32(buf.data() + 16));
  e.protocol = buf[9];
  std::memcpy(e.l4.data(), buf.data() + qhl, 8);
  if (!is_local(e.src)) return drop(m, DropReason::icmp_bad_quote);  // about a datagram we never sent
  TRACE("icmp error type %u code %u from %s about %s -> %s proto %u", e.type, e.code, e.reporter.to_string().c_str(),
        e.src.to_string().c_str(), e.dst.to_string().c_str(), e.protocol);
  if (e.type == icmptype::kDestUnreachable && e.code == icmpcode::kFragNeeded)
    pmtu_learned(e.dst, e.next_hop_mtu, load_be16(buf.data() + 2), true);
  if (recent_errors_.size() == kRecentErrors) recent_errors_.erase(recent_errors_.begin());
  recent_errors_.push_back(e);
  if (icmp_handlers_[e.protocol]) icmp_handlers_[e.protocol](e);
  ++counters_.icmp_errors_in;
  rte_pktmbuf_free(m);  // consumed
}

void Engine::pmtu_learned(Ipv4Addr dst, uint16_t mtu, uint32_t datagram_len, bool tell_replicas) {
  if (!pmtu_.lower(dst, mtu, datagram_len, now_)) return;
  ++counters_.pmtu_updates;
  TRACE("pmtu %s now %u", dst.to_string().c_str(), pmtu_.mtu(dst, now_));
  if (!tell_replicas || ctx_.mail == nullptr || ctx_.mail->size() < 2) return;
  MailMessage msg;
  msg.kind = MailMessage::Kind::kPmtuUpdate;
  msg.ip = dst;
  msg.mtu = mtu;
  msg.datagram_len = datagram_len;
  tell_other_engines(msg);
}

void Engine::icmp_error(rte_mbuf* orig, uint8_t type, uint8_t code, uint16_t mtu, bool local) {
  uint8_t* frame = rte_pktmbuf_mtod(orig, uint8_t*);
  Ipv4View o;
  if (Ipv4View::check(frame + kEthLen, orig->pkt_len - kEthLen, false, o) != Ipv4Error::kNone) return;
  Ipv4Addr src = o.src(), dst = o.dst();
  // RFC 1122 3.2.2 / RFC 1812 4.3.2.7: never about a non-first fragment,
  // an IP broadcast or multicast, a source that is not one host, or an ICMP
  // error. (A unicast datagram that came as a link-layer broadcast never
  // gets here: ipv4_input drops it first, RFC 1122 3.3.6.)
  if (o.frag_offset_bytes() != 0) return;
  if (dst.is_broadcast() || dst.is_multicast() || is_our_broadcast(dst)) return;
  if (src.is_unspecified() || src.is_broadcast() || src.is_multicast() || (src.v >> 28) == 0xf ||
      is_our_broadcast(src) || (src.is_loopback() && !is_local(dst) && !dst.is_loopback()))
    return;
  if (o.protocol() == ipproto::kIcmp) {
    size_t at = kEthLen + o.header_len();
    if (o.payload_len() == 0 || orig->data_len <= at || icmptype::is_error(frame[at])) return;
  }
  if (!icmp_bucket_.take(now_)) {
    ++counters_.icmp_errors_rate_limited;
    return;
  }
  size_t quote = std::min<size_t>(o.total_length(), kMaxErrorLen - Ipv4View::kMinHeaderLen - IcmpView::kHeaderLen);
  uint8_t* icmp = nullptr;
  rte_mbuf* m = alloc_datagram(IcmpView::kHeaderLen + quote, &icmp);
  if (m == nullptr) return;
  uint8_t* at = icmp + IcmpView::kHeaderLen;
  const void* q = rte_pktmbuf_read(orig, kEthLen, static_cast<uint32_t>(quote), at);
  if (q != at) std::memcpy(at, q, quote);
  IcmpErrorRepr{type, code, mtu}.emit(icmp, quote);
  ++counters_.icmp_errors_sent;
  TRACE("icmp error type %u code %u to %s", type, code, src.to_string().c_str());
  // From the address the datagram was sent to when it was for us, else from
  // the port facing its source (RFC 1812 4.3.2.4).
  send_datagram(m, local && is_local(dst) ? dst : source_for(src), src, ipproto::kIcmp,
                0xc0 /* RFC 1812 4.3.2.5: internetwork control precedence */);
}

rte_mbuf* Engine::alloc_datagram(size_t l4_len, uint8_t** l4) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    counters_.drop(DropReason::no_mbuf);
    return nullptr;
  }
  constexpr size_t kHdr = kEthLen + Ipv4View::kMinHeaderLen;
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(kHdr + l4_len)));
  if (p == nullptr) {  // more than one mbuf's data room
    drop(m, DropReason::no_mbuf);
    return nullptr;
  }
  *l4 = p + kHdr;
  return m;
}

void Engine::send_datagram(rte_mbuf* m, Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, uint8_t tos, bool df) {
  Ipv4Repr r;
  r.src = src;
  r.dst = dst;
  r.protocol = protocol;
  r.ttl = ctx_.ip.default_ttl;
  r.tos = tos;
  r.ident = ident_++;
  r.dont_fragment = df;
  r.payload_len = static_cast<uint16_t>(m->pkt_len - kEthLen - Ipv4View::kMinHeaderLen);
  r.emit(rte_pktmbuf_mtod(m, uint8_t*) + kEthLen, false);
  ip_send(m);
}

bool Engine::send_echo_request(Ipv4Addr dst, uint16_t ident, uint16_t seq, uint16_t data_len) {
  uint8_t* icmp = nullptr;
  rte_mbuf* m = alloc_datagram(IcmpView::kHeaderLen + data_len, &icmp);
  if (m == nullptr) return false;
  for (uint16_t i = 0; i < data_len; ++i) icmp[IcmpView::kHeaderLen + i] = static_cast<uint8_t>(i);
  IcmpEchoRepr{true, ident, seq}.emit(icmp, data_len);
  now_ = rte_rdtsc();
  send_datagram(m, source_for(dst), dst, ipproto::kIcmp);
  return true;
}

void Engine::set_filter(std::shared_ptr<const FilterTable> table) {
  filter_ = std::move(table);
  filter_counts_.clear();
  filter_buckets_.clear();
  filter_active_ = {};
  if (filter_ != nullptr) {
    const FilterConfig& cfg = filter_->config();
    filter_counts_.resize(cfg.rules.size());
    filter_buckets_.reserve(cfg.rules.size());
    for (const auto& r : cfg.rules)
      filter_buckets_.emplace_back(r.action == FilterAction::kRateLimit ? r.rate_pps : 0, r.rate_burst, ctx_.tsc_hz);
    for (size_t h = 0; h < kFilterHooks; ++h)
      filter_active_[h] = filter_->has_rules(static_cast<FilterHook>(h)) || cfg.policy[h] == FilterAction::kDrop;
  }
  ++counters_.filter_tables_loaded;
}

// The filter hook (filter/rule.hpp): the key from the headers, rte_acl's
// verdict, the rules' counters, then the action.
bool Engine::run_filter(FilterHook hook, rte_mbuf* m, Ipv4View ip, uint16_t in_port, uint16_t out_port) {
  const FilterTable& t = *filter_;
  FilterResult res;
  if (t.has_rules(hook)) {
    FilterKey k;
    k.proto = ip.protocol();
    k.in_port = in_port < 0xff ? static_cast<uint8_t>(in_port) : 0xff;
    k.out_port = out_port < 0xff ? static_cast<uint8_t>(out_port) : 0xff;
    std::memcpy(&k.src, ip.data() + 12, 4);
    std::memcpy(&k.dst, ip.data() + 16, 4);
    if (ip.frag_offset_bytes() == 0) {  // a non-first fragment has no transport header: ports 0
      const uint8_t* l4 = ip.payload();
      size_t in_seg = static_cast<size_t>(rte_pktmbuf_mtod(m, uint8_t*) + m->data_len - l4);
      size_t avail = std::min(ip.payload_len(), in_seg);
      if ((k.proto == ipproto::kTcp || k.proto == ipproto::kUdp) && avail >= 4) {
        std::memcpy(&k.sport, l4, 2);
        std::memcpy(&k.dport, l4 + 2, 2);
        if (k.proto == ipproto::kTcp && avail >= 14) k.tcp_flags = l4[13];
      } else if (k.proto == ipproto::kIcmp && avail >= 2) {
        k.sport = rte_cpu_to_be_16(l4[0]);
        k.dport = rte_cpu_to_be_16(l4[1]);
      }
    }
    res = t.classify(hook, k);
  }
  uint32_t bytes = ip.total_length();
  for (uint8_t i = 0; i < res.n_counts; ++i) {
    auto& c = filter_counts_[res.counts[i]];
    ++c.packets;
    c.bytes += bytes;
  }
  FilterAction act = t.config().policy[static_cast<size_t>(hook)];
  if (res.rule >= 0) {
    auto& c = filter_counts_[static_cast<size_t>(res.rule)];
    ++c.packets;
    c.bytes += bytes;
    act = t.config().rules[static_cast<size_t>(res.rule)].action;
  }
  switch (act) {
    case FilterAction::kAccept:
    case FilterAction::kCount:  // never terminal
      return true;
    case FilterAction::kDrop:
      TRACE("filter %s: drop (%s)", std::string(filter_hook_name(hook)).c_str(),
            res.rule >= 0 ? ("rule " + std::to_string(res.rule)).c_str() : "policy");
      drop(m, res.rule >= 0 ? DropReason::filter_drop : DropReason::filter_policy);
      return false;
    case FilterAction::kReject:
      TRACE("filter %s: reject (rule %d)", std::string(filter_hook_name(hook)).c_str(), res.rule);
      filter_reject(hook, m, ip, t.config().rules[static_cast<size_t>(res.rule)].reject_with);
      drop(m, DropReason::filter_reject);
      return false;
    case FilterAction::kRateLimit:
      if (filter_buckets_[static_cast<size_t>(res.rule)].take(now_)) return true;
      ++filter_counts_[static_cast<size_t>(res.rule)].rate_dropped;
      drop(m, DropReason::filter_rate_limited);
      return false;
  }
  return true;
}

// Reject: the sender learns at once. Our own datagrams (output hook) are
// only dropped: there is no one on the wire to tell.
void Engine::filter_reject(FilterHook hook, rte_mbuf* m, Ipv4View ip, RejectWith how) {
  if (hook == FilterHook::kOutput) return;
  bool tcp = ip.protocol() == ipproto::kTcp;
  if (how == RejectWith::kTcpReset || (how == RejectWith::kAuto && tcp)) {
    if (tcp) send_tcp_reset(m, ip);
    return;
  }
  uint8_t code = how == RejectWith::kIcmpAdminProhibited ? icmpcode::kAdminProhibited : icmpcode::kPortUnreachable;
  icmp_error(m, icmptype::kDestUnreachable, code, 0, hook == FilterHook::kInput);
}

// RFC 9293 3.10.7.1 (what a CLOSED port answers): to a segment with ACK,
// <SEQ=SEG.ACK><CTL=RST>; else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
// Never to a RST, never to a broadcast or multicast, never about a
// non-first fragment. From the address the segment was sent to (as Linux's
// REJECT --reject-with tcp-reset does, also when forwarding).
void Engine::send_tcp_reset(rte_mbuf* m, Ipv4View ip) {
  constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
  Ipv4Addr src = ip.src(), dst = ip.dst();
  if (ip.frag_offset_bytes() != 0 || dst.is_broadcast() || dst.is_multicast() || is_our_broadcast(dst)) return;
  const uint8_t* tcp = ip.payload();
  size_t in_seg = static_cast<size_t>(rte_pktmbuf_mtod(m, uint8_t*) + m->data_len - tcp);
  if (ip.payload_len() < 20 || in_seg < 20) return;
  uint8_t flags = tcp[13];
  size_t doff = static_cast<size_t>(tcp[12] >> 4) * 4;
  if ((flags & kRst) != 0 || doff < 20 || doff > ip.payload_len()) return;
  uint32_t seg_len = static_cast<uint32_t>(ip.payload_len() - doff) + ((flags & kSyn) ? 1 : 0) + ((flags & kFin) ? 1 : 0);
  uint8_t* out = nullptr;
  rte_mbuf* r = alloc_datagram(20, &out);
  if (r == nullptr) return;
  std::memcpy(out, tcp + 2, 2);  // source port: the segment's destination
  std::memcpy(out + 2, tcp, 2);
  if (flags & kAck) {
    std::memcpy(out + 4, tcp + 8, 4);  // SEQ = SEG.ACK
    store_be32(out + 8, 0);
    out[13] = kRst;
  } else {
    store_be32(out + 4, 0);
    store_be32(out + 8, load_be32(tcp + 4) + seg_len);  // ACK = SEG.SEQ + SEG.LEN
    out[13] = kRst | kAck;
  }
  out[12] = 5 << 4;
  store_be16(out + 14, 0);  // window
  store_be16(out + 16, 0);  // checksum
  store_be16(out + 18, 0);  // urgent pointer
  store_be16(out + 16, transport_checksum(dst, src, ipproto::kTcp, out, 20));
  ++counters_.filter_resets_sent;
  TRACE("filter tcp reset to %s", src.to_string().c_str());
  send_datagram(r, dst, src, ipproto::kTcp);
}

void Engine::fill_ip_checksum(uint16_t port, rte_mbuf* m, Ipv4View ip) {
  if (port != kLoopbackPort && ctx_.ports[port].tx_ip_cksum) {
    ip.set_checksum(0);
    m->l2_len = kEthLen;
    m->l3_len = ip.header_len();
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
  } else {
    ip.fill_checksum();
  }
}

void Engine::ip_send(rte_mbuf* m) {
  Ipv4View ip = Ipv4View::trusted(rte_pktmbuf_mtod(m, uint8_t*) + kEthLen);
  Ipv4Addr dst = ip.dst();
  if (is_local(dst) || dst.is_loopback()) {
    if (!filter_pass(FilterHook::kOutput, m, ip, kNoPort, kLoopbackPort)) return;
    ip.fill_checksum();
    return loopback(m);
  }
  const Route* r = routes_->lookup(dst);
  if (r == nullptr) return drop(m, DropReason::ipv4_no_route);
  if (!filter_pass(FilterHook::kOutput, m, ip, kNoPort, r->port)) return;
  if (ip.dont_fragment()) {
    uint16_t mtu = ctx_.ports[r->port].mtu;
    uint16_t path = pmtu_.size() != 0 ? pmtu_.mtu(dst, now_) : 0;
    if (path != 0 && path < mtu) mtu = path;
    if (ip.total_length() > mtu) return drop(m, DropReason::ipv4_mtu_exceeded);
  }
  fill_ip_checksum(r->port, m, ip);
  neigh_output(r->port, m, r->gateway.is_unspecified() ? dst : r->gateway);
}

// The internal loopback (netstack's loopback link): our datagrams to our
// own addresses never touch a NIC; they come back in through ipv4_input on
// the next loop, bounded by kLoopbackSize.
void Engine::loopback(rte_mbuf* m) {
  if (loop_len_ == kLoopbackSize) return drop(m, DropReason::loopback_full);
  m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  loop_q_[(loop_head_ + loop_len_) % kLoopbackSize] = m;
  ++loop_len_;
  ++counters_.loopback_packets;
}

void Engine::run_loopback() {
  // Only what is queued now: what these packets answer waits for the next loop.
  for (size_t n = loop_len_; n > 0; --n) {
    rte_mbuf* m = loop_q_[loop_head_];
    loop_head_ = (loop_head_ + 1) % kLoopbackSize;
    --loop_len_;
    ipv4_input(kLoopbackPort, m);
  }
}

void Engine::neigh_output(uint16_t port, rte_mbuf* m, Ipv4Addr next_hop) {
  const PortInfo& pi = ctx_.ports[port];
  if (pi.l3) return link_output(port, m);  // no link layer, no ARP
  auto eth = EthernetView::check(rte_pktmbuf_mtod(m, uint8_t*), m->data_len);
  eth->set_src(pi.mac);
  eth->set_ethertype(ethertype::kIpv4);
  if (next_hop.is_broadcast() || next_hop == pi.address.directed_broadcast()) {
    eth->set_dst(MacAddr::broadcast());
    return link_output(port, m);
  }
  MacAddr mac;
  switch (arp_.resolve(port, next_hop, m, now_, mac, [&](uint16_t p, Ipv4Addr a) { send_arp_request(p, a); })) {
    case ArpResolve::kResolved:
      eth->set_dst(mac);
      return link_output(port, m);
    case ArpResolve::kQueued:
      TRACE("arp  %s unresolved: packet waits", next_hop.to_string().c_str());
      return;
    case ArpResolve::kDroppedFull:
      return drop(m, DropReason::arp_pending_full);
  }
}

// RFC 1191: our own datagrams honour the path MTU; forwarded ones the link's.
void Engine::link_output(uint16_t port, rte_mbuf* m) {
  const PortInfo& pi = ctx_.ports[port];
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  Ipv4View ip = Ipv4View::trusted(frame + kEthLen);
  uint16_t mtu = pi.mtu;
  if (pmtu_.size() != 0 && is_local(ip.src())) {  // no hash lookup while the cache is empty
    uint16_t path = pmtu_.mtu(ip.dst(), now_);
    if (path != 0 && path < mtu) mtu = path;
  }
  if (m->pkt_len - kEthLen <= mtu) return send_frame(port, m);
  if (ip.dont_fragment()) return drop(m, DropReason::ipv4_mtu_exceeded);  // the path MTU fell while ARP resolved
  // RFC 791 fragmentation with DPDK's fragmenter: each fragment is a new
  // header mbuf plus indirect mbufs over the datagram's data (no copy).
  std::array<uint8_t, kEthLen> eth;
  std::memcpy(eth.data(), frame, kEthLen);
  size_t hl = ip.header_len();
  uint16_t frag_mtu = static_cast<uint16_t>(hl + ((mtu - hl) & ~size_t{7}));
  rte_pktmbuf_adj(m, kEthLen);
  m->ol_flags &= ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
  int n = rte_ipv4_fragment_packet(m, frag_out_.data(), static_cast<uint16_t>(frag_out_.size()), frag_mtu, pool_,
                                   indirect_pool_);
  rte_pktmbuf_free(m);  // the fragments hold their own references to its data
  if (n < 0) {
    counters_.drop(DropReason::no_mbuf);
    return;
  }
  counters_.frags_out += static_cast<uint64_t>(n);
  TRACE("ipv4 fragmented into %d at mtu %u", n, mtu);
  for (int k = 0; k < n; ++k) {
    rte_mbuf* f = frag_out_[static_cast<size_t>(k)];
    auto* h = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(f, kEthLen));
    if (h == nullptr) {
      drop(f, DropReason::no_mbuf);
      continue;
    }
    std::memcpy(h, eth.data(), kEthLen);
    f->ol_flags &= ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
    Ipv4View fv = Ipv4View::trusted(h + kEthLen);
    fill_ip_checksum(port, f, fv);
    send_frame(port, f);
  }
}

void Engine::send_frame(uint16_t port, rte_mbuf* m) {
  auto& t = txq_[port];
  if (!t.owned) [[unlikely]] return drop(m, DropReason::tx_no_queue);
  const PortInfo& pi = ctx_.ports[port];
  if (pi.l3) {
    rte_pktmbuf_adj(m, kEthLen);  // a tun port takes the bare IP packet
    m->l2_len = 0;
  } else if (m->pkt_len < EthernetView::kMinFrameLen) {
    // IEEE 802.3 minimum frame: pad with zeros (the FCS is the NIC's). A
    // chain is made one segment first: its tail may share another buffer.
    if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) return drop(m, DropReason::no_mbuf);
    uint16_t pad = static_cast<uint16_t>(EthernetView::kMinFrameLen - m->pkt_len);
    char* p = rte_pktmbuf_append(m, pad);
    if (p == nullptr) return drop(m, DropReason::no_mbuf);
    std::memset(p, 0, pad);
  }
  if (m->nb_segs > 1 && (!pi.tx_multi_seg || (pi.tx_max_segs != 0 && m->nb_segs > pi.tx_max_segs)) &&
      rte_pktmbuf_linearize(m) != 0)
    return drop(m, DropReason::no_mbuf);
  TRACE("eth  port%u tx %u bytes", port, m->pkt_len);
  if (t.len == kTxBacklog) [[unlikely]] {
    flush_queue(port, t);
    if (t.len == kTxBacklog) return drop(m, DropReason::tx_ring_full);
  }
  t.pkts[t.len++] = m;
  if (t.len % kBurst == 0) flush_queue(port, t);  // a burst's worth: hand it over now
}

void Engine::flush_queue(uint16_t port, TxQueue& t) {
  uint16_t sent = rte_eth_tx_burst(port, t.queue, t.pkts, t.len);
  counters_.tx_packets += sent;
  if (sent != 0 && sent < t.len) std::memmove(t.pkts, t.pkts + sent, sizeof(rte_mbuf*) * (t.len - sent));
  t.len = static_cast<uint16_t>(t.len - sent);
}

void Engine::arp_gave_up(rte_mbuf* m) {
  icmp_error(m, icmptype::kDestUnreachable, icmpcode::kHostUnreachable, 0, false);
  drop(m, DropReason::arp_resolve_failed);
}

void Engine::flush_tx() {
  for (auto [port, queue] : rxq_) {  // the ports we own a queue pair on
    auto& t = txq_[port];
    if (t.len != 0) flush_queue(port, t);
  }
}

// Broadcasts an ARP request from us for `target` (RFC 826); with target =
// our own address it is the RFC 5227 announcement (gratuitous ARP).
void Engine::broadcast_arp_request(uint16_t port, Ipv4Addr target) {
  const PortInfo& pi = ctx_.ports[port];
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    counters_.drop(DropReason::no_mbuf);
    return;
  }
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kEthLen + ArpView::kLen));
  if (p == nullptr) return drop(m, DropReason::no_mbuf);  // data room below 42 bytes: cannot happen
  EthernetRepr{MacAddr::broadcast(), pi.mac, ethertype::kArp}.emit(p);
  ArpRepr{ArpOp::kRequest, pi.mac, pi.address.addr, MacAddr{}, target}.emit(p + kEthLen);
  ++counters_.arp_requests_sent;
  send_frame(port, m);
}

void Engine::send_arp_request(uint16_t port, Ipv4Addr target) {
  TRACE("arp  request who-has %s", target.to_string().c_str());
  broadcast_arp_request(port, target);
}

void Engine::send_gratuitous_arp(uint16_t port) {
  const PortInfo& pi = ctx_.ports[port];
  TRACE("arp  gratuitous %s is-at %s on port%u", pi.address.addr.to_string().c_str(), pi.mac.to_string().c_str(),
        port);
  broadcast_arp_request(port, pi.address.addr);
}

void Engine::run_timers(uint64_t now) {
  if (!garp_pending_.empty() && now >= next_link_check_) [[unlikely]] {
    next_link_check_ = now + ctx_.tsc_hz / 10;
    for (size_t i = 0; i < garp_pending_.size();) {
      rte_eth_link link{};
      if (rte_eth_link_get_nowait(garp_pending_[i], &link) == 0 && link.link_status == RTE_ETH_LINK_UP) {
        send_gratuitous_arp(garp_pending_[i]);
        garp_pending_.erase(garp_pending_.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
  }
  arp_.tick(
      now, [&](uint16_t p, Ipv4Addr a) { send_arp_request(p, a); },
      [&](void* p) { arp_gave_up(as_mbuf(p)); });
  reasm_.tick(
      now,
      [&](const FragKey&, rte_mbuf* first, bool first_seen) {
        // RFC 792 / RFC 1122 3.3.2: time exceeded in reassembly, only when
        // the first fragment (which the error quotes) arrived.
        if (first_seen && first != nullptr)
          icmp_error(first, icmptype::kTimeExceeded, icmpcode::kReassemblyExceeded, 0, true);
      },
      [&](rte_mbuf* h) { drop(h, DropReason::frag_timeout); });
  tcp_.run_timers();
  run_control_jobs();
  uint64_t clear = clear_req_.load(std::memory_order_acquire);
  if (clear != clear_done_) {
    clear_done_ = clear;
    auto loops = counters_.loops;
    counters_ = LcoreCounters{};
    counters_.loops = loops;  // loops/s stays meaningful across a clear
  }
}

void Engine::fill_snapshot(std::vector<ArpSnapshotEntry>& out, uint64_t now) const {
  out.clear();
  arp_.for_each([&](const ArpEntry& e) {
    ArpSnapshotEntry s;
    s.port = e.port;
    s.ip = e.ip;
    s.mac = e.mac;
    s.state = e.state;
    s.pending = static_cast<uint32_t>(e.pending.size());
    if (e.state == ArpState::kReachable && e.expires > now && ctx_.tsc_hz != 0)
      s.expires_in_ms = (e.expires - now) * 1000 / ctx_.tsc_hz;
    out.push_back(s);
  });
}

std::vector<ArpSnapshotEntry> Engine::arp_snapshot(unsigned timeout_ms) {
  if (ctx_.stop.load(std::memory_order_relaxed)) return {};  // engines are leaving
  auto out = std::make_shared<std::vector<ArpSnapshotEntry>>();
  if (!call([out](Engine& e) { e.fill_snapshot(*out, rte_rdtsc()); }, timeout_ms)) return {};
  return std::move(*out);
}

}  // namespace dpdkstack

