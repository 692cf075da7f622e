#include "runtime/udp.hpp"

#include <rte_ip.h>

#include <algorithm>
#include <cstring>

#include "runtime/engine.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace dpdkstack {

using namespace wire;

namespace {

constexpr uint32_t kEthLen = EthernetView::kHeaderLen;
constexpr uint32_t kHeaders = kEthLen + Ipv4View::kMinHeaderLen + UdpView::kHeaderLen;  // 42
constexpr size_t kMaxPayload = 65535 - Ipv4View::kMinHeaderLen - UdpView::kHeaderLen;   // 65,507

// Cuts a chain to its first `len` bytes (the bytes past a UDP length that
// the IP length still covered), freeing whole segments beyond.
void cut_chain(rte_mbuf* m, uint32_t len) {
  if (m->pkt_len <= len) return;
  m->pkt_len = len;
  rte_mbuf* seg = m;
  uint16_t segs = 1;
  while (len > seg->data_len && seg->next != nullptr) {
    len -= seg->data_len;
    seg = seg->next;
    ++segs;
  }
  seg->data_len = static_cast<uint16_t>(len);
  rte_pktmbuf_free(seg->next);  // null-safe
  seg->next = nullptr;
  m->nb_segs = segs;
}

}  // namespace

const char* udp_status_name(UdpStatus s) {
  switch (s) {
    case UdpStatus::kOk: return "ok";
    case UdpStatus::kBadHandle: return "bad_handle";
    case UdpStatus::kInvalid: return "invalid";
    case UdpStatus::kNotConnected: return "not_connected";
    case UdpStatus::kNotLocal: return "not_local";
    case UdpStatus::kAddressInUse: return "address_in_use";
    case UdpStatus::kNoEphemeralPort: return "no_ephemeral_port";
    case UdpStatus::kTableFull: return "table_full";
    case UdpStatus::kTooBig: return "too_big";
    case UdpStatus::kNoRoute: return "no_route";
    case UdpStatus::kNoMbuf: return "no_mbuf";
    case UdpStatus::kTxFull: return "tx_full";
  }
  return "?";
}

size_t UdpDatagram::copy_to(void* out, size_t n, size_t offset) const {
  if (m_ == nullptr || offset >= len_) return 0;
  n = std::min(n, len_ - offset);
  const void* p = rte_pktmbuf_read(m_, static_cast<uint32_t>(off_ + offset), static_cast<uint32_t>(n), out);
  if (p == nullptr) return 0;
  if (p != out) std::memcpy(out, p, n);
  return n;
}

rte_mbuf* UdpDatagram::take() {
  rte_mbuf* m = m_;
  if (m == nullptr) return nullptr;
  m_ = nullptr;
  rte_pktmbuf_adj(m, static_cast<uint16_t>(off_));  // the headers are in the first segment
  cut_chain(m, len_);
  m->ol_flags = 0;
  return m;
}

Udp::Udp(Engine& engine, const UdpTableConfig& cfg) : engine_(engine), table_(cfg) {}

UdpOpenResult Udp::open(UdpEndpoint local, UdpHandlers handlers, UdpOpenOptions opts) {
  if (!local.addr.is_unspecified() && !engine_.is_local(local.addr) && !local.addr.is_loopback())
    return {UdpStatus::kNotLocal};
  UdpBindOptions bo;
  bo.reuse_addr = opts.reuse_addr;
  auto r = table_.bind(local.addr, local.port, Record{std::move(handlers), std::move(opts.name), {}}, bo);
  switch (r.error) {
    case UdpSocketError::kOk: return {UdpStatus::kOk, r.handle, r.port};
    case UdpSocketError::kAddressInUse: return {UdpStatus::kAddressInUse};
    case UdpSocketError::kNoEphemeralPort: return {UdpStatus::kNoEphemeralPort};
    case UdpSocketError::kTableFull: return {UdpStatus::kTableFull};
    case UdpSocketError::kBadHandle:
    case UdpSocketError::kInvalid: break;
  }
  return {UdpStatus::kInvalid};
}

UdpStatus Udp::connect(UdpHandle h, UdpEndpoint remote) {
  switch (table_.connect(h, remote.addr, remote.port)) {
    case UdpSocketError::kOk: return UdpStatus::kOk;
    case UdpSocketError::kBadHandle: return UdpStatus::kBadHandle;
    default: return UdpStatus::kInvalid;
  }
}

UdpStatus Udp::close(UdpHandle h) {
  if (table_.get(h) == nullptr) return UdpStatus::kBadHandle;
  if (h == dispatching_) {  // its handler is running: release the record afterwards
    close_after_dispatch_ = true;
    return UdpStatus::kOk;
  }
  table_.close(h);
  return UdpStatus::kOk;
}

const UdpSocketStats* Udp::stats(UdpHandle h) const {
  const Record* r = table_.get(h);
  return r == nullptr ? nullptr : &r->stats;
}

void Udp::count_drop(UdpHandle h) {
  if (Record* r = table_.get(h)) ++r->stats.app_dropped;
}

void Udp::snapshot(std::vector<UdpSocketSnapshot>& out, unsigned engine_index) const {
  table_.for_each([&](UdpHandle h, const UdpSocketInfo& info, const Record& r) {
    if (h == dispatching_ && close_after_dispatch_) return;
    out.push_back(UdpSocketSnapshot{engine_index, h, info, r.name, r.stats});
  });
}

UdpStatus Udp::refuse(Record* r, UdpStatus s, rte_mbuf* payload) {
  LcoreCounters& c = engine_.counters_;
  if (s == UdpStatus::kTxFull) {
    ++c.udp_send_tx_full;
    if (r != nullptr) ++r->stats.tx_full;
  } else {
    ++c.udp_send_refused;
    if (r != nullptr) ++r->stats.tx_refused;
  }
  if (payload != nullptr) engine_.drop(payload, DropReason::udp_send_failed);
  return s;
}

rte_mbuf* Udp::alloc_payload(size_t len) {
  rte_mempool* pool = engine_.pool_;
  rte_mbuf* head = rte_pktmbuf_alloc(pool);
  if (head == nullptr) return nullptr;
  size_t left = len;
  rte_mbuf* seg = head;
  while (true) {
    size_t take = std::min<size_t>(left, rte_pktmbuf_tailroom(seg));
    rte_pktmbuf_append(seg, static_cast<uint16_t>(take));
    if (seg != head) {
      head->pkt_len += static_cast<uint32_t>(take);
      ++head->nb_segs;
    }
    left -= take;
    if (left == 0) return head;
    rte_mbuf* next = rte_pktmbuf_alloc(pool);
    if (next == nullptr) {
      rte_pktmbuf_free(head);
      return nullptr;
    }
    next->data_off = 0;  // later segments carry no headers: all their room is data
    seg->next = next;
    seg = next;
  }
}

UdpStatus Udp::send(UdpHandle h, const void* data, size_t len) {
  const UdpSocketInfo* si = table_.info(h);
  if (si == nullptr) return refuse(nullptr, UdpStatus::kBadHandle, nullptr);
  if (!si->connected()) return refuse(table_.get(h), UdpStatus::kNotConnected, nullptr);
  return send_to(h, si->remote, data, len);
}

UdpStatus Udp::send_to(UdpHandle h, UdpEndpoint to, const void* data, size_t len) {
  Record* r = table_.get(h);
  SendPlan plan;
  if (UdpStatus st = prepare(h, r, to, len, {}, plan); st != UdpStatus::kOk) return refuse(r, st, nullptr);
  rte_mbuf* m = alloc_payload(len);
  if (m == nullptr) {
    engine_.counters_.drop(DropReason::no_mbuf);
    return refuse(r, UdpStatus::kNoMbuf, nullptr);
  }
  const auto* src = static_cast<const uint8_t*>(data);
  for (rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
    std::memcpy(rte_pktmbuf_mtod(seg, uint8_t*), src, seg->data_len);
    src += seg->data_len;
  }
  return emit(r, plan, m);
}

UdpStatus Udp::send_mbuf_to(UdpHandle h, UdpEndpoint to, rte_mbuf* m, Ipv4Addr src) {
  Record* r = table_.get(h);
  SendPlan plan;
  if (UdpStatus st = prepare(h, r, to, m->pkt_len, src, plan); st != UdpStatus::kOk) return refuse(r, st, m);
  return emit(r, plan, m);
}

UdpStatus Udp::echo(UdpHandle h, UdpDatagram& d) {
  Record* r = table_.get(h);
  if (d.m_ == nullptr) return refuse(r, UdpStatus::kInvalid, nullptr);
  SendPlan plan;
  if (UdpStatus st = prepare(h, r, d.from, d.len_, d.to.addr, plan); st != UdpStatus::kOk)
    return refuse(r, st, d.take());
  // Same endpoints swapped, same length, same payload: the same sum.
  uint16_t sum = plan.from == d.to ? d.checksum_ : 0;
  return emit(r, plan, d.take(), sum);
}

// Everything that can refuse a send, before any mbuf is touched: the
// handle, the destination, the size, the route and the room in the TX
// backlog for every frame the datagram will make; and the source address.
UdpStatus Udp::prepare(UdpHandle h, const Record* r, UdpEndpoint to, size_t len, Ipv4Addr src, SendPlan& plan) const {
  const UdpSocketInfo* si = table_.info(h);
  if (r == nullptr || si == nullptr) return UdpStatus::kBadHandle;
  if (to.port == 0 || to.addr.is_unspecified()) return UdpStatus::kInvalid;
  if (len > kMaxPayload) return UdpStatus::kTooBig;
  const Engine& e = engine_;
  plan.to = to;
  plan.from = si->local;
  plan.len = len;
  if (e.is_local(to.addr) || to.addr.is_loopback()) {
    if (plan.from.addr.is_unspecified())
      plan.from.addr = e.is_local(to.addr) ? to.addr : Ipv4Addr::from_octets(127, 0, 0, 1);
    return UdpStatus::kOk;
  }
  const Route* rt = e.routes_->lookup(to.addr);
  if (rt == nullptr) return UdpStatus::kNoRoute;
  const PortInfo& pi = e.ctx_.ports[rt->port];
  size_t mtu = pi.mtu;
  if (e.pmtu_.size() != 0) {
    uint16_t path = e.pmtu_.mtu(to.addr, e.now_);
    if (path != 0 && path < mtu) mtu = path;
  }
  size_t ip_len = Ipv4View::kMinHeaderLen + UdpView::kHeaderLen + len;
  size_t frames = 1;
  if (ip_len > mtu) {
    size_t per = (mtu - Ipv4View::kMinHeaderLen) & ~size_t{7};
    frames = (ip_len - Ipv4View::kMinHeaderLen + per - 1) / per;
  }
  if (e.tx_room(rt->port) < frames) return UdpStatus::kTxFull;
  plan.offload = frames == 1 && pi.tx_udp_cksum;
  if (plan.from.addr.is_unspecified())
    plan.from.addr = (!src.is_unspecified() && e.is_local(src)) ? src : pi.address.addr;
  return UdpStatus::kOk;
}

// RFC 768 output: headers in the payload's headroom (or a header mbuf in
// front), the checksum by the NIC when it can and the datagram goes out in
// one frame, else here; then IPv4 output (route, ARP, fragmentation).
UdpStatus Udp::emit(Record* r, const SendPlan& plan, rte_mbuf* m, uint16_t known_checksum) {
  Engine& e = engine_;
  const Ipv4Addr from = plan.from.addr, to = plan.to.addr;
  const size_t len = plan.len;
  rte_mbuf* d = m;
  if (RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 && rte_pktmbuf_headroom(m) >= kHeaders) {
    rte_pktmbuf_prepend(m, kHeaders);
  } else {  // shared or no headroom: the headers go in a mbuf of their own
    d = rte_pktmbuf_alloc(e.pool_);
    if (d == nullptr) {
      e.counters_.drop(DropReason::no_mbuf);
      return refuse(r, UdpStatus::kNoMbuf, m);
    }
    rte_pktmbuf_append(d, kHeaders);
    if (rte_pktmbuf_chain(d, m) != 0) {
      rte_pktmbuf_free(d);
      return refuse(r, UdpStatus::kTooBig, m);  // too many segments
    }
  }
  d->ol_flags = 0;
  uint8_t* udp = rte_pktmbuf_mtod_offset(d, uint8_t*, kEthLen + Ipv4View::kMinHeaderLen);
  UdpRepr ur{plan.from.port, plan.to.port, static_cast<uint16_t>(len)};
  size_t udp_len = UdpView::kHeaderLen + len;
  if (known_checksum != 0) {
    ur.emit(udp, from, to, false);
    store_be16(udp + 6, known_checksum);
  } else if (plan.offload) {
    ur.emit(udp, from, to, false);
    store_be16(udp + 6, pseudo_header_checksum(from, to, ipproto::kUdp, udp_len));
    d->l2_len = kEthLen;
    d->l3_len = Ipv4View::kMinHeaderLen;
    d->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
  } else if (d->nb_segs == 1) {
    ur.emit(udp, from, to, true);
  } else {
    ur.emit(udp, from, to, false);
    uint16_t raw = 0;
    rte_raw_cksum_mbuf(d, kEthLen + Ipv4View::kMinHeaderLen, static_cast<uint32_t>(udp_len), &raw);
    uint16_t c = transport_checksum_from_raw(from, to, ipproto::kUdp, raw, udp_len);
    store_be16(udp + 6, c == 0 ? 0xffff : c);
  }
  ++r->stats.tx_datagrams;
  r->stats.tx_bytes += len;
  ++e.counters_.udp_sent;
  e.send_datagram(d, from, to, ipproto::kUdp);
  return UdpStatus::kOk;
}

bool Udp::checksum_ok(const rte_mbuf* m, uint32_t off, uint32_t len, Ipv4Addr src, Ipv4Addr dst) const {
  uint16_t raw = 0;
  if (m->nb_segs == 1) {
    raw = rte_raw_cksum(rte_pktmbuf_mtod_offset(m, const uint8_t*, off), len);
  } else if (rte_raw_cksum_mbuf(m, off, len, &raw) != 0) {
    return false;
  }
  return transport_checksum_from_raw(src, dst, ipproto::kUdp, raw, len) == 0;
}

// RFC 768 / RFC 1122 4.1.3: check, find the socket, hand over; no socket:
// port unreachable (RFC 1122 4.1.3.1), never for a broadcast (3.2.2).
void Udp::input(uint16_t port, rte_mbuf* m, uint32_t off, uint32_t len, Ipv4Addr src, Ipv4Addr dst,
                bool to_broadcast) {
  Engine& e = engine_;
  ++e.counters_.udp_in;
  std::array<uint8_t, UdpView::kHeaderLen> buf;
  const auto* u = len < UdpView::kHeaderLen
                      ? nullptr
                      : static_cast<const uint8_t*>(rte_pktmbuf_read(m, off, UdpView::kHeaderLen, buf.data()));
  if (u == nullptr) return e.drop(m, DropReason::udp_truncated);
  uint32_t ulen = load_be16(u + 4);
  if (ulen < UdpView::kHeaderLen || ulen > len) return e.drop(m, DropReason::udp_bad_length);
  uint16_t sport = load_be16(u), dport = load_be16(u + 2);
  if (load_be16(u + 6) != 0) {  // zero: the sender computed none (RFC 768)
    uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD || (ck != RTE_MBUF_F_RX_L4_CKSUM_GOOD && !checksum_ok(m, off, ulen, src, dst)))
      return e.drop(m, DropReason::udp_bad_checksum);
  }
  UdpHandle h = table_.lookup(dst, dport, src, sport);
  Record* r = table_.get(h);  // null for kNoUdpSocket
  if (r == nullptr) {
    if (!to_broadcast) e.icmp_error(m, icmptype::kDestUnreachable, icmpcode::kPortUnreachable, 0, true);
    return e.drop(m, DropReason::udp_no_socket);
  }
  ++r->stats.rx_datagrams;
  r->stats.rx_bytes += ulen - UdpView::kHeaderLen;
  ++e.counters_.udp_delivered;
  if (!r->handlers.on_datagram) {
    rte_pktmbuf_free(m);  // consumed: nobody listens for the data
    return;
  }
  UdpDatagram d;
  d.from = {src, sport};
  d.to = {dst, dport};
  d.port = port;
  d.m_ = m;
  d.off_ = off + UdpView::kHeaderLen;
  d.len_ = ulen - UdpView::kHeaderLen;
  d.checksum_ = load_be16(u + 6);
  dispatching_ = h;
  close_after_dispatch_ = false;
  r->handlers.on_datagram(h, d);
  dispatching_ = kNoUdpSocket;
  if (d.m_ != nullptr) rte_pktmbuf_free(d.m_);  // consumed
  if (close_after_dispatch_) table_.close(h);
}

// RFC 1122 4.1.3.3: ICMP errors go to the socket that sent the datagram.
void Udp::icmp_error(const IcmpErrorInfo& err) {
  uint16_t sport = load_be16(err.l4.data()), dport = load_be16(err.l4.data() + 2);
  UdpHandle h = table_.lookup(err.src, sport, err.dst, dport);
  Record* r = table_.get(h);
  if (r == nullptr) return;
  ++r->stats.icmp_errors;
  ++engine_.counters_.udp_icmp_errors;
  if (!r->handlers.on_error) return;
  dispatching_ = h;
  close_after_dispatch_ = false;
  r->handlers.on_error(h, err);
  dispatching_ = kNoUdpSocket;
  if (close_after_dispatch_) table_.close(h);
}

}  // namespace dpdkstack
