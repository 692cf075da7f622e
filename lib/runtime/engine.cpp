#include "runtime/engine.hpp"

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack {

using namespace wire;

namespace {

constexpr size_t kEthLen = EthernetView::kHeaderLen;
const MacAddr kAllHostsMac{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};  // 224.0.0.1

rte_mbuf* as_mbuf(void* p) { return static_cast<rte_mbuf*>(p); }

// Called by rte_eth_tx_buffer_flush for packets the PMD did not take.
void on_tx_unsent(rte_mbuf** pkts, uint16_t unsent, void* userdata) {
  auto* c = static_cast<LcoreCounters*>(userdata);
  for (uint16_t i = 0; i < unsent; ++i) rte_pktmbuf_free(pkts[i]);
  c->drops[static_cast<size_t>(DropReason::tx_ring_full)] += unsent;
}

// RFC 1624 eqn. 3: update a checksum after a 16-bit word changed old -> new.
uint16_t cksum_adjust(uint16_t sum, uint16_t old_word, uint16_t new_word) {
  uint32_t s = static_cast<uint16_t>(~sum) + static_cast<uint32_t>(static_cast<uint16_t>(~old_word)) + new_word;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

}  // namespace

#define TRACE(...)                                                  \
  do {                                                              \
    if (ctx_.trace != nullptr) [[unlikely]]                         \
      ctx_.trace->line(lcore_id_, __VA_ARGS__);                     \
  } while (0)

Engine::Engine(StackContext& ctx, unsigned index, unsigned lcore_id)
    : ctx_(ctx), index_(index), lcore_id_(lcore_id), arp_(ctx.arp) {
  txq_.resize(ctx_.ports.size());
  for (const auto& p : ctx_.ports) {
    if (p.nb_queues != 0) local_addrs_.push_back(p.address.addr);
    if (p.nb_queues == 0 || index_ >= p.nb_queues) continue;  // not configured, or not ours
    auto& t = txq_[p.port_id];
    t.owned = true;
    t.queue = static_cast<uint16_t>(index_);
    t.buf = static_cast<rte_eth_dev_tx_buffer*>(
        rte_zmalloc_socket("txbuf", RTE_ETH_TX_BUFFER_SIZE(kBurst), 0, rte_socket_id()));
    if (t.buf != nullptr) {
      rte_eth_tx_buffer_init(t.buf, kBurst);
      rte_eth_tx_buffer_set_err_callback(t.buf, on_tx_unsent, &counters_);
    } else {
      t.owned = false;
    }
    if (t.owned) rxq_.emplace_back(p.port_id, t.queue);
  }
  for (const auto& s : ctx_.static_arp)
    arp_.add_static(s.port, s.ip, s.mac, [](void* p, const MacAddr&) { rte_pktmbuf_free(as_mbuf(p)); });  // none wait yet
  // RFC 5227 announcement: the engine owning queue 0 of a port says who we
  // are, once the link is up (the timer step checks until it is).
  for (auto [port, queue] : rxq_)
    if (queue == 0) garp_pending_.push_back(port);
  timer_period_ = ctx_.tsc_hz / 1000;
  pool_ = ctx_.pool_for(static_cast<int>(rte_lcore_to_socket_id(lcore_id_)));
}

Engine::~Engine() {
  arp_.clear([](void* p) { rte_pktmbuf_free(as_mbuf(p)); });
  for (auto& t : txq_) {
    if (t.buf == nullptr) continue;
    // Whatever is still buffered never reached the wire; free it.
    for (uint16_t i = 0; i < t.buf->length; ++i) rte_pktmbuf_free(t.buf->pkts[i]);
    rte_free(t.buf);
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
  uint64_t next_control = 0;
  while (!ctx_.stop.load(std::memory_order_relaxed)) {
    poll_once();
    if (control && now_ >= next_control) {
      control();
      next_control = now_ + timer_period_;
    }
  }
  flush_tx();
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
  drain_mailboxes();
  if (now_ >= next_timer_) {
    run_timers(now_);
    next_timer_ = now_ + timer_period_;
  }
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
  for (uint16_t i = 0; i < n && i < kPrefetch; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetch < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetch], void*));
    eth_input(port, pkts[i]);
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
    send_frame(port, pkt);
  });
  if (result != ArpUpdate::kShare || !tell_replicas || ctx_.mail == nullptr || ctx_.mail->size() < 2) return;
  TRACE("arp  learnt/confirmed %s is-at %s; telling %zu replicas", ip.to_string().c_str(), mac.to_string().c_str(),
        ctx_.mail->size() - 1);
  for (size_t to = 0; to < ctx_.mail->size(); ++to) {
    if (to == index_) continue;
    if (!ctx_.mail->queue(index_, to).push(MailMessage{MailMessage::Kind::kArpUpdate, port, ip, mac}))
      ++counters_.mailbox_full;
  }
}

void Engine::drain_mailboxes() {
  if (ctx_.mail == nullptr) return;
  for (size_t from = 0; from < ctx_.mail->size(); ++from) {
    if (from == index_) continue;
    ctx_.mail->queue(from, index_).consume_all([&](const MailMessage& msg) {
      if (msg.kind == MailMessage::Kind::kArpUpdate) {
        // Only install on ports this engine can send on; others ignore it.
        if (msg.port < txq_.size() && txq_[msg.port].owned) arp_learned(msg.port, msg.ip, msg.mac, true, false);
      }
    });
  }
}

// RFC 791 / RFC 1122 3.2.1 receive checks, each failure its own reason.
void Engine::ipv4_input(uint16_t port, rte_mbuf* m) {
  const PortInfo& pi = ctx_.ports[port];
  ++counters_.ipv4_in;
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
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
  TRACE("ipv4 %s -> %s proto %u len %u ttl %u", ip.src().to_string().c_str(), ip.dst().to_string().c_str(),
        ip.protocol(), ip.total_length(), ip.ttl());

  Ipv4Addr src = ip.src(), dst = ip.dst();
  // RFC 1122 3.2.1.3: never accept a source that cannot be a host's.
  if (src.is_broadcast() || src.is_multicast() || src.is_unspecified() || src.is_loopback() ||
      (src.v >> 28) == 0xf || src == pi.address.addr || src == pi.address.directed_broadcast())
    return drop(m, DropReason::ipv4_bad_source);
  bool to_broadcast = dst.is_broadcast() || dst == pi.address.directed_broadcast() ||
                      dst == Ipv4Addr::from_octets(224, 0, 0, 1);
  // RFC 1122 3.3.6: a unicast datagram that came as a link-layer broadcast
  // or multicast is discarded (the group bit of the MAC is set for both).
  if (!to_broadcast && (frame[0] & 1) != 0)
    return drop(m, DropReason::ipv4_link_broadcast);
  bool local = to_broadcast;
  // Weak host model (RFC 1122 3.3.4.2): any of our addresses, on any port.
  for (Ipv4Addr a : local_addrs_) local = local || dst == a;
  if (!local) return drop(m, DropReason::ipv4_not_for_us);
  if (ip.is_fragment()) return drop(m, DropReason::ipv4_fragment);
  switch (ip.protocol()) {
    case ipproto::kIcmp: return icmp_input(port, m, ip, to_broadcast);
    default: return drop(m, DropReason::ipv4_unknown_protocol);
  }
}

// RFC 792 echo: the request's buffer becomes the reply (RFC 1122 3.2.2.6:
// same identifier, sequence and data).
void Engine::icmp_input(uint16_t port, rte_mbuf* m, Ipv4View ip, bool to_broadcast) {
  IcmpView icmp;
  switch (IcmpView::check(ip.payload(), ip.payload_len(), true, icmp)) {
    case IcmpError::kNone: break;
    case IcmpError::kTruncated: return drop(m, DropReason::icmp_truncated);
    case IcmpError::kBadChecksum: return drop(m, DropReason::icmp_bad_checksum);
  }
  TRACE("icmp type %u code %u len %zu", icmp.type(), icmp.code(), icmp.len());
  if (icmp.type() != icmptype::kEchoRequest) return drop(m, DropReason::icmp_unhandled_type);
  if (to_broadcast) return drop(m, DropReason::icmp_broadcast_echo);

  uint16_t old_word = load_be16(icmp.data() - IcmpView::kHeaderLen);  // type, code
  icmp.set_type(icmptype::kEchoReply);
  uint16_t new_word = load_be16(icmp.data() - IcmpView::kHeaderLen);
  uint8_t* ck = icmp.data() - IcmpView::kHeaderLen + 2;
  store_be16(ck, cksum_adjust(load_be16(ck), old_word, new_word));

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
    (void)Ipv4View::check(frame + kEthLen, m->data_len - kEthLen, false, ip);
  }
  Ipv4Addr peer = ip.src();
  ip.set_src(ip.dst());
  ip.set_dst(peer);
  ip.set_ttl(64);
  ++counters_.icmp_echo_replies;
  TRACE("icmp echo reply to %s id %u seq %u", peer.to_string().c_str(), icmp.echo_ident(), icmp.echo_seq());
  const PortInfo& pi = ctx_.ports[port];
  if (!pi.address.contains(peer)) return drop(m, DropReason::ipv4_no_route);
  ipv4_output(port, m, ip, peer);
}

void Engine::ipv4_output(uint16_t port, rte_mbuf* m, Ipv4View ip, Ipv4Addr next_hop) {
  const PortInfo& pi = ctx_.ports[port];
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  if (ip.total_length() > pi.mtu) return drop(m, DropReason::ipv4_mtu_exceeded);
  if (pi.tx_ip_cksum) {
    ip.set_checksum(0);
    m->l2_len = kEthLen;
    m->l3_len = ip.header_len();
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
  } else {
    ip.fill_checksum();
  }
  auto eth = EthernetView::check(frame, m->data_len);
  eth->set_src(pi.mac);
  eth->set_ethertype(ethertype::kIpv4);
  if (next_hop.is_broadcast() || next_hop == pi.address.directed_broadcast()) {
    eth->set_dst(MacAddr::broadcast());
    return send_frame(port, m);
  }
  MacAddr mac;
  switch (arp_.resolve(port, next_hop, m, now_, mac, [&](uint16_t p, Ipv4Addr a) { send_arp_request(p, a); })) {
    case ArpResolve::kResolved:
      eth->set_dst(mac);
      return send_frame(port, m);
    case ArpResolve::kQueued:
      TRACE("arp  %s unresolved: packet waits", next_hop.to_string().c_str());
      return;
    case ArpResolve::kDroppedFull:
      return drop(m, DropReason::arp_pending_full);
  }
}

void Engine::send_frame(uint16_t port, rte_mbuf* m) {
  auto& t = txq_[port];
  if (!t.owned) [[unlikely]] return drop(m, DropReason::tx_no_queue);
  // IEEE 802.3 minimum frame: pad with zeros (the FCS is the NIC's).
  if (m->pkt_len < EthernetView::kMinFrameLen) {
    uint16_t pad = static_cast<uint16_t>(EthernetView::kMinFrameLen - m->pkt_len);
    char* p = rte_pktmbuf_append(m, pad);
    if (p == nullptr) return drop(m, DropReason::no_mbuf);
    std::memset(p, 0, pad);
  }
  TRACE("eth  port%u tx %u bytes", port, m->pkt_len);
  // A full buffer is flushed here; what it sent counts now.
  counters_.tx_packets += rte_eth_tx_buffer(port, t.queue, t.buf, m);
}

void Engine::flush_tx() {
  for (auto [port, queue] : rxq_) {  // the ports we own a queue pair on
    auto& t = txq_[port];
    if (t.buf->length == 0) continue;
    counters_.tx_packets += rte_eth_tx_buffer_flush(port, queue, t.buf);
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
      [&](void* p) { drop(as_mbuf(p), DropReason::arp_resolve_failed); });
  uint64_t req = snap_req_.load(std::memory_order_acquire);
  if (req != snap_done_.load(std::memory_order_relaxed)) {
    fill_snapshot(snap_, now);
    snap_done_.store(req, std::memory_order_release);
  }
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
  std::vector<ArpSnapshotEntry> out;
  if (rte_lcore_id() == lcore_id_) {  // asked from inside our own loop
    fill_snapshot(out, rte_rdtsc());
    return out;
  }
  if (ctx_.stop.load(std::memory_order_relaxed)) return out;  // engines are leaving
  std::lock_guard<std::mutex> guard(snap_readers_);
  uint64_t req = snap_req_.fetch_add(1, std::memory_order_acq_rel) + 1;
  for (unsigned waited = 0; snap_done_.load(std::memory_order_acquire) < req; ++waited) {
    if (waited >= timeout_ms * 10 || ctx_.stop.load(std::memory_order_relaxed)) return out;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  out = snap_;
  return out;
}

}  // namespace dpdkstack

