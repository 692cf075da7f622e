#include "runtime/tcp.hpp"

#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include <algorithm>
#include <cstring>

#include "runtime/engine.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"

namespace dpdkstack {

using namespace wire;
using tcp::Connection;

const char* tcp_status_name(TcpStatus s) {
  switch (s) {
    case TcpStatus::kOk: return "ok";
    case TcpStatus::kBadHandle: return "bad_handle";
    case TcpStatus::kInvalid: return "invalid";
    case TcpStatus::kNotLocal: return "not_local";
    case TcpStatus::kAddressInUse: return "address_in_use";
    case TcpStatus::kNoEphemeralPort: return "no_ephemeral_port";
    case TcpStatus::kTableFull: return "table_full";
    case TcpStatus::kNoRoute: return "no_route";
    case TcpStatus::kNoMemory: return "no_memory";
    case TcpStatus::kNotConnected: return "not_connected";
  }
  return "?";
}

namespace {
constexpr size_t kEthLen = EthernetView::kHeaderLen;
constexpr size_t kIpLen = Ipv4View::kMinHeaderLen;
}  // namespace

#define TRACE(...)                                                   \
  do {                                                               \
    if (engine_.ctx_.trace != nullptr) [[unlikely]]                  \
      engine_.ctx_.trace->line(engine_.lcore_id_, __VA_ARGS__);      \
  } while (0)

Tcp::Tcp(Engine& engine, const TcpConfig& cfg, uint64_t isn_k0, uint64_t isn_k1)
    : engine_(engine), cfg_(cfg), isn_(isn_k0, isn_k1) {}

Tcp::~Tcp() {
  clear();
  if (flows_ != nullptr) rte_hash_free(flows_);
}

Status Tcp::init(unsigned engine_index, int socket) {
  engine_index_ = engine_index;
  std::string name = "dpdkstack_tcp" + std::to_string(engine_index);
  rte_hash_parameters p{};
  p.name = name.c_str();
  p.entries = std::max<uint32_t>(cfg_.max_connections + cfg_.max_connections / 4, 64);
  p.key_len = sizeof(FlowKey);
  p.hash_func = rte_hash_crc;
  p.hash_func_init_val = 0;
  p.socket_id = socket;
  flows_ = rte_hash_create(&p);
  if (flows_ == nullptr)
    return Error{"$.tcp.max_connections: cannot create a connection table of " + std::to_string(p.entries) +
                 " entries (rte_hash_create: " + rte_strerror(rte_errno) + ")"};
  slots_.resize(cfg_.max_connections);
  free_.reserve(slots_.size());
  for (size_t i = slots_.size(); i > 0; --i) free_.push_back(static_cast<uint32_t>(i - 1));
  dirty_.reserve(1024);
  tsc_per_us_ = std::max<uint64_t>(engine_.ctx_.tsc_hz / 1000000, 1);
  wheel_ = tcp::TimerWheel(now_us());
  ephemeral_next_ = static_cast<uint16_t>(cfg_.ephemeral_first +
                                          rte_rand() % (uint32_t{cfg_.ephemeral_last} - cfg_.ephemeral_first + 1));
  return ok_status();
}

uint64_t Tcp::now_us() const {
  uint64_t t = engine_.now_ != 0 ? engine_.now_ : rte_rdtsc();
  return t / tsc_per_us_;
}

// ---- the table ---------------------------------------------------------------------------

int32_t Tcp::alloc_slot() {
  if (free_.empty()) {
    // Full: the oldest TIME-WAIT connection gives its place (Linux's
    // tcp_max_tw_buckets does the same in spirit: TIME-WAIT is a courtesy).
    while (!time_wait_.empty()) {
      uint32_t idx = time_wait_.front();
      time_wait_.pop_front();
      Slot& s = slots_[idx];
      if (s.used && s.conn && s.conn->state() == tcp::kTimeWait && !s.dirty) {
        free_slot(idx);
        ++engine_.counters_.tcp_tw_recycled;
        break;
      }
    }
    if (free_.empty()) return -1;
  }
  uint32_t idx = free_.back();
  Slot& s = slots_[idx];
  s.conn.reset(new (std::nothrow) Connection());
  if (!s.conn) return -1;
  free_.pop_back();
  s.used = true;
  s.app = s.queued = s.dirty = s.in_dispatch = s.half_open = false;
  s.pending = 0;
  s.listener = 0;
  s.wheel_deadline = 0;
  s.connect_deadline = 0;
  s.name.clear();
  s.handlers = {};
  ++live_;
  ++engine_.counters_.tcp_conn_allocs;
  return static_cast<int32_t>(idx);
}

void Tcp::free_slot(uint32_t idx) {
  Slot& s = slots_[idx];
  if (!s.used) return;
  if (s.conn) {
    flow_del(s.conn->tuple());
    if (s.conn->state() != tcp::kClosed) {
      // Released while not closed (table full, shutdown): the RFC 4022
      // gauges follow through a local abort that sends nothing.
      s.conn->abort();
    }
  }
  if (s.listener != 0 && s.listener <= listeners_.size()) {
    Listener& l = listeners_[s.listener - 1];
    if (s.queued) l.queue.erase(std::remove(l.queue.begin(), l.queue.end(), idx), l.queue.end());
    if (s.half_open && l.half_open > 0) --l.half_open;
  }
  s.half_open = false;
  s.conn.reset();
  s.handlers = {};
  s.used = false;
  s.app = s.queued = false;
  ++s.gen;
  if (s.gen == 0) s.gen = 1;
  free_.push_back(idx);
  --live_;
  ++engine_.counters_.tcp_conn_frees;
}

bool Tcp::flow_add(const tcp::Tuple& t, uint32_t idx) {
  FlowKey k{t.laddr.v, t.raddr.v, t.lport, t.rport};
  return rte_hash_add_key_data(flows_, &k, reinterpret_cast<void*>(uintptr_t{idx})) == 0;
}

void Tcp::flow_del(const tcp::Tuple& t) {
  FlowKey k{t.laddr.v, t.raddr.v, t.lport, t.rport};
  rte_hash_del_key(flows_, &k);
}

int32_t Tcp::flow_lookup(const tcp::Tuple& t) const {
  FlowKey k{t.laddr.v, t.raddr.v, t.lport, t.rport};
  void* data = nullptr;
  if (rte_hash_lookup_data(flows_, &k, &data) < 0) return -1;
  return static_cast<int32_t>(reinterpret_cast<uintptr_t>(data));
}

Tcp::Slot* Tcp::slot_of(TcpHandle h) {
  uint32_t idx = static_cast<uint32_t>(h & 0xffffffffu);
  uint32_t gen = static_cast<uint32_t>(h >> 32);
  if (h == kNoTcp || idx >= slots_.size()) return nullptr;
  Slot& s = slots_[idx];
  if (!s.used || s.gen != gen || !s.app || !s.conn) return nullptr;
  return &s;
}

const Tcp::Slot* Tcp::slot_of(TcpHandle h) const { return const_cast<Tcp*>(this)->slot_of(h); }

Tcp::Listener* Tcp::find_listener(Ipv4Addr dst, uint16_t port) {
  auto it = listen_ports_.find(port);
  if (it == listen_ports_.end()) return nullptr;
  Listener* wildcard = nullptr;
  for (uint32_t i : it->second) {
    Listener& l = listeners_[i];
    if (l.local.addr == dst) return &l;
    if (l.local.addr.is_unspecified()) wildcard = &l;
  }
  return wildcard;
}

// Per-connection settings: the MSS we announce follows the egress MTU
// (RFC 9293 3.7.1: MTU minus 40), and the path MTU when one is known.
tcp::Settings Tcp::settings_for(Ipv4Addr remote, uint32_t snd_buf, uint32_t rcv_buf) const {
  tcp::Settings s;
  const Engine& e = engine_;
  uint32_t mss = cfg_.mss;
  if (!e.is_local(remote) && !remote.is_loopback() && e.routes_) {
    if (const Route* r = e.routes_->lookup(remote); r != nullptr) {
      uint32_t mtu = e.ctx_.ports[r->port].mtu;
      if (e.pmtu_.size() != 0) {
        uint16_t path = e.pmtu_.mtu(remote, e.now_);
        if (path != 0 && path < mtu) mtu = path;
      }
      mss = std::min<uint32_t>(mss, mtu > 40 + 64 ? mtu - 40 : 64);
    }
  }
  s.mss = static_cast<uint16_t>(mss);
  constexpr uint32_t kMinBuf = 4096, kMaxBuf = 64u << 20;
  s.snd_buf = snd_buf == 0 ? cfg_.snd_buf : std::clamp(snd_buf, kMinBuf, kMaxBuf);
  s.rcv_buf = rcv_buf == 0 ? cfg_.rcv_buf : std::clamp(rcv_buf, kMinBuf, kMaxBuf);
  s.window_scaling = cfg_.window_scaling;
  s.timestamps = cfg_.timestamps;
  s.sack = cfg_.sack;
  s.nodelay = cfg_.nodelay;
  s.delack_us = uint64_t{cfg_.delayed_ack_ms} * 1000;
  s.rto_initial_us = uint64_t{cfg_.rto_initial_ms} * 1000;
  s.rto_min_us = uint64_t{cfg_.rto_min_ms} * 1000;
  s.rto_max_us = uint64_t{cfg_.rto_max_ms} * 1000;
  s.max_retries = cfg_.max_retries;
  s.syn_retries = cfg_.syn_retries;
  s.time_wait_us = uint64_t{cfg_.time_wait_ms} * 1000;
  s.fin_wait2_us = uint64_t{cfg_.fin_wait2_ms} * 1000;
  s.initial_cwnd_segments = cfg_.initial_cwnd;
  return s;
}

// ---- receive ---------------------------------------------------------------------------------

void Tcp::input(uint16_t port, rte_mbuf* m, uint32_t off, uint32_t len, Ipv4Addr src, Ipv4Addr dst,
                bool to_broadcast, bool steered) {
  Engine& e = engine_;
  ++e.counters_.tcp_in_segs;
  if (to_broadcast || dst.is_multicast()) return e.drop(m, DropReason::tcp_broadcast);
  std::array<uint8_t, TcpView::kMaxHeaderLen> hbuf;
  if (len < TcpView::kHeaderLen) {
    ++e.counters_.tcp_in_errs;
    return e.drop(m, DropReason::tcp_truncated);
  }
  const auto* h = static_cast<const uint8_t*>(rte_pktmbuf_read(m, off, TcpView::kHeaderLen, hbuf.data()));
  size_t doff = h == nullptr ? 0 : static_cast<size_t>(h[12] >> 4) * 4;
  if (h == nullptr || doff < TcpView::kHeaderLen || doff > len) {
    ++e.counters_.tcp_in_errs;
    return e.drop(m, h == nullptr ? DropReason::tcp_truncated : DropReason::tcp_bad_offset);
  }
  if (doff > TcpView::kHeaderLen)
    h = static_cast<const uint8_t*>(rte_pktmbuf_read(m, off, static_cast<uint32_t>(doff), hbuf.data()));
  // Checksum (RFC 9293 3.1): the NIC's verdict, else ours over the chain.
  uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
  bool ok = ck == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
    ok = false;
  } else if (!ok) {
    uint16_t raw = 0;
    if (m->nb_segs == 1) raw = rte_raw_cksum(rte_pktmbuf_mtod_offset(m, const uint8_t*, off), len);
    else if (rte_raw_cksum_mbuf(m, off, len, &raw) != 0) raw = 0;
    ok = transport_checksum_from_raw(src, dst, ipproto::kTcp, raw, len) == 0;
  }
  if (!ok) {
    ++e.counters_.tcp_in_errs;
    return e.drop(m, DropReason::tcp_bad_checksum);
  }
  TcpView v = TcpView::trusted(h);
  tcp::Segment seg;
  if (parse_tcp_options(v.options(), v.options_len(), seg.opts) != TcpOptionError::kNone) {
    ++e.counters_.tcp_in_errs;
    return e.drop(m, DropReason::tcp_bad_options);
  }
  seg.seq = v.seq();
  seg.ack = v.ack();
  seg.flags = v.flags();
  seg.wnd = v.window();
  if (seg.has(tcpflag::kSyn) && seg.has(tcpflag::kFin | tcpflag::kRst)) {
    ++e.counters_.tcp_in_errs;
    return e.drop(m, DropReason::tcp_bad_flags);
  }
  seg.len = static_cast<uint32_t>(len - doff);
  uint32_t data_off = off + static_cast<uint32_t>(doff);
  if (seg.len != 0) {
    if (data_off + seg.len <= m->data_len) {
      seg.data = rte_pktmbuf_mtod_offset(m, const uint8_t*, data_off);
    } else {  // a reassembled datagram: the payload spans mbufs
      scratch_.resize(seg.len);
      const void* p = rte_pktmbuf_read(m, data_off, seg.len, scratch_.data());
      seg.data = static_cast<const uint8_t*>(p);
    }
  }
  tcp::Tuple t{dst, v.dst_port(), src, v.src_port()};
  TRACE("tcp  %s:%u -> %s:%u seq %u ack %u flags 0x%02x win %u len %u", src.to_string().c_str(), t.rport,
        dst.to_string().c_str(), t.lport, seg.seq, seg.ack, seg.flags, seg.wnd, seg.len);
  uint64_t now = now_us();

  int32_t found = flow_lookup(t);
  if (found >= 0) {
    auto idx = static_cast<uint32_t>(found);
    Slot& s = slots_[idx];
    Connection& c = *s.conn;
    if (c.state() == tcp::kTimeWait && seg.has(tcpflag::kSyn) && !seg.has(tcpflag::kAck) &&
        c.time_wait_accepts_syn(seg) && !s.dirty) {
      // RFC 6191 / RFC 1122 4.2.2.13: a new incarnation of the tuple.
      free_slot(idx);
      ++e.counters_.tcp_tw_recycled;
    } else if (c.state() != tcp::kClosed) {
      c.on_segment(seg, now);
      after(idx);
      rte_pktmbuf_free(m);  // consumed (its payload is in the connection's ring)
      return;
    }
  }
  // Not ours: with several engines it may be a connection of the engine
  // RSS names (an active open there, whose answers the NIC or the kernel's
  // tap queues brought here). A SYN starts a connection where it lands.
  if (!steered && !(seg.has(tcpflag::kSyn) && !seg.has(tcpflag::kAck)) && steer(port, m, t)) return;
  if (Listener* l = find_listener(dst, t.lport); l != nullptr) {
    // RFC 9293 3.10.7.2, LISTEN.
    if (seg.has(tcpflag::kRst)) {  // first: an incoming RST is ignored
      rte_pktmbuf_free(m);
      return;
    }
    if (seg.has(tcpflag::kAck)) {  // second: any ACK is bad: <SEQ=SEG.ACK><CTL=RST>
      send_reset(t, seg.ack, 0, tcpflag::kRst);
      return e.drop(m, DropReason::tcp_no_socket);
    }
    if (!seg.has(tcpflag::kSyn)) {  // fourth: anything else, drop
      return e.drop(m, DropReason::tcp_no_socket);
    }
    // third: SYN.
    auto lid = static_cast<uint32_t>(l - listeners_.data());
    if (l->queue.size() >= l->opts.backlog || l->half_open >= l->opts.syn_backlog) {
      ++l->overflows;
      return e.drop(m, DropReason::tcp_listen_overflow);
    }
    int32_t got = alloc_slot();
    if (got < 0) return e.drop(m, DropReason::tcp_table_full);
    auto idx = static_cast<uint32_t>(got);
    Slot& s = slots_[idx];
    uint32_t iss = isn_.isn(t.laddr, t.lport, t.raddr, t.rport, now);
    if (!s.conn->open_passive(t, settings_for(t.raddr, l->opts.snd_buf, l->opts.rcv_buf), iss, seg, now,
                              &e.counters_) ||
        !flow_add(t, idx)) {
      free_slot(idx);
      return e.drop(m, DropReason::tcp_no_memory);
    }
    s.listener = lid + 1;
    s.name = l->opts.name;
    s.half_open = true;
    ++l->half_open;
    after(idx);
    rte_pktmbuf_free(m);
    return;
  }
  // RFC 9293 3.10.7.1, CLOSED: a reset unless the segment is one.
  if (!seg.has(tcpflag::kRst)) {
    if (seg.has(tcpflag::kAck)) send_reset(t, seg.ack, 0, tcpflag::kRst);
    else send_reset(t, 0, seg.seq + seg.seg_len(), tcpflag::kRst | tcpflag::kAck);
  }
  e.drop(m, DropReason::tcp_no_socket);
}

// RFC 1122 4.2.3.9, RFC 5927: frag needed lowers the MSS (RFC 1191); a
// port or protocol unreachable about our SYN ends the attempt; the rest
// are soft errors.
void Tcp::icmp_error(const IcmpErrorInfo& err) {
  tcp::Tuple t{err.src, load_be16(err.l4.data()), err.dst, load_be16(err.l4.data() + 2)};
  int32_t found = flow_lookup(t);
  if (found < 0) return;
  auto idx = static_cast<uint32_t>(found);
  Connection& c = *slots_[idx].conn;
  uint32_t seq = load_be32(err.l4.data() + 4);
  const auto info = c.info(0);
  // RFC 5927 4.1: the quoted sequence number must be one in flight.
  if (!(tcp::seq_le(info.snd_una, seq) && tcp::seq_lt(seq, info.snd_max))) return;
  if (err.type == icmptype::kDestUnreachable && err.code == icmpcode::kFragNeeded) {
    c.on_path_mtu(err.next_hop_mtu);
  } else if (err.type == icmptype::kDestUnreachable &&
             (err.code == icmpcode::kPortUnreachable || err.code == icmpcode::kProtocolUnreachable) &&
             c.state() == tcp::kSynSent) {
    c.give_up(tcp::CloseReason::kRefused);
  } else {
    return;
  }
  after(idx);
}

// ---- events, timers, output --------------------------------------------------------------------

void Tcp::mark_dirty(uint32_t idx) {
  Slot& s = slots_[idx];
  if (s.dirty) return;
  s.dirty = true;
  dirty_.push_back(idx);
}

void Tcp::after(uint32_t idx) {
  deliver(idx);
  if (slots_[idx].used) mark_dirty(idx);
}

void Tcp::deliver(uint32_t idx) {
  Slot& s = slots_[idx];
  if (!s.used || s.in_dispatch) return;
  Connection& c = *s.conn;
  s.pending |= c.take_events();
  if ((s.pending & tcp::event::kConnected) && s.listener != 0 && !s.app && !s.queued) {
    // A passive open completed: into the listener's accept queue.
    s.pending &= static_cast<uint8_t>(~tcp::event::kConnected);
    Listener& l = listeners_[s.listener - 1];
    if (s.half_open && l.half_open > 0) --l.half_open;
    s.half_open = false;
    if (!l.used) {
      c.abort();
    } else {
      l.queue.push_back(idx);
      s.queued = true;
      if (l.opts.on_acceptable) {
        s.in_dispatch = true;
        l.opts.on_acceptable(s.listener);
        s.in_dispatch = false;
      }
    }
  }
  if (s.app && s.pending != 0) {
    TcpHandle h = handle_of(idx);
    uint8_t ev = std::exchange(s.pending, uint8_t{0});
    s.in_dispatch = true;
    if ((ev & tcp::event::kConnected) && s.app && s.handlers.on_connected) s.handlers.on_connected(h);
    if ((ev & tcp::event::kReadable) && s.app && s.handlers.on_readable) s.handlers.on_readable(h);
    if ((ev & tcp::event::kWritable) && s.app && s.handlers.on_writable) s.handlers.on_writable(h);
    if ((ev & tcp::event::kClosed) && s.app) {
      s.app = false;  // the handle is dead from here on
      if (s.handlers.on_closed) s.handlers.on_closed(h, c.close_reason());
    }
    s.in_dispatch = false;
  }
}

void Tcp::schedule(uint32_t idx) {
  Slot& s = slots_[idx];
  uint64_t d = s.conn->next_deadline();
  if (s.connect_deadline != 0 && (d == 0 || s.connect_deadline < d)) d = s.connect_deadline;
  if (d == 0) return;
  if (s.wheel_deadline != 0 && s.wheel_deadline <= d) return;  // an earlier entry stands; it re-files
  s.wheel_deadline = d;
  wheel_.schedule(idx, s.gen, d);
}

void Tcp::run_timers() {
  uint64_t now = now_us();
  wheel_.advance(now, [&](uint32_t idx, uint32_t gen, uint64_t deadline) {
    Slot& s = slots_[idx];
    if (!s.used || s.gen != gen || s.wheel_deadline != deadline) return;  // stale entry
    s.wheel_deadline = 0;
    Connection& c = *s.conn;
    if (s.connect_deadline != 0 && now >= s.connect_deadline) {
      s.connect_deadline = 0;
      if (c.state() == tcp::kSynSent) c.give_up(tcp::CloseReason::kTimeout);
    }
    auto before = c.state();
    c.on_timer(now);
    if (before != tcp::kTimeWait && c.state() == tcp::kTimeWait) time_wait_.push_back(idx);
    after(idx);
    if (s.used && !s.dirty) schedule(idx);
  });
  // TIME-WAIT bookkeeping: forget entries of connections gone since.
  while (!time_wait_.empty()) {
    Slot& s = slots_[time_wait_.front()];
    if (s.used && s.conn && s.conn->state() == tcp::kTimeWait) break;
    time_wait_.pop_front();
  }
}

void Tcp::flush() {
  if (dirty_.empty()) return;
  // Handlers may mark more connections (or the same one again): bounded,
  // what is left waits for the next loop.
  size_t limit = dirty_.size() * 4 + 64;
  size_t i = 0;
  for (; i < dirty_.size() && i < limit; ++i) {
    uint32_t idx = dirty_[i];
    Slot& s = slots_[idx];
    if (!s.used) continue;
    s.dirty = false;
    auto before = s.conn->state();
    transmit(idx);
    deliver(idx);
    if (!s.used) continue;
    Connection& c = *s.conn;
    if (before != tcp::kTimeWait && c.state() == tcp::kTimeWait) time_wait_.push_back(idx);
    if (c.state() == tcp::kClosed && !s.app && !s.dirty) {
      free_slot(idx);
      continue;
    }
    if (!s.dirty) schedule(idx);
  }
  dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<long>(i));
}

void Tcp::transmit(uint32_t idx) {
  Slot& s = slots_[idx];
  Connection& c = *s.conn;
  Engine& e = engine_;
  const tcp::Tuple& t = c.tuple();
  bool local = e.is_local(t.raddr) || t.raddr.is_loopback();
  uint16_t port = 0;
  if (!local) {
    const Route* r = e.routes_->lookup(t.raddr);
    if (r != nullptr) port = r->port;
    else local = true;  // no route: ip_send drops and counts it; the RTO keeps trying
  }
  uint64_t now = now_us();
  tcp::OutSegment seg;
  for (unsigned n = 0; n < 256; ++n) {
    if (!local && e.tx_room(port) == 0) {
      mark_dirty(idx);  // the NIC is behind: the rest next loop
      return;
    }
    if (!c.poll(now, seg)) return;
    emit(t, seg, &c);
  }
  mark_dirty(idx);  // a big window's worth: continue next loop (fairness)
}

bool Tcp::emit(const tcp::Tuple& t, const tcp::OutSegment& seg, const Connection* c) {
  Engine& e = engine_;
  TcpRepr r{t.lport, t.rport, seg.seq, seg.ack, seg.flags, seg.wnd, seg.opts};
  size_t hl = r.header_len();
  size_t l4 = hl + seg.len;
  uint8_t* p = nullptr;
  rte_mbuf* m = e.alloc_datagram(l4, &p);
  if (m == nullptr) return false;  // counted no_mbuf; the segment is lost, TCP recovers it
  r.emit(p);
  if (seg.len != 0 && c != nullptr) c->copy_payload(seg, p + hl);
  bool local = e.is_local(t.raddr) || t.raddr.is_loopback();
  const Route* rt = local ? nullptr : e.routes_->lookup(t.raddr);
  if (rt != nullptr && e.ctx_.ports[rt->port].tx_tcp_cksum) {
    store_be16(p + 16, pseudo_header_checksum(t.laddr, t.raddr, ipproto::kTcp, l4));
    m->l2_len = kEthLen;
    m->l3_len = kIpLen;
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
  } else {
    store_be16(p + 16, transport_checksum(t.laddr, t.raddr, ipproto::kTcp, p, l4));
  }
  if (seg.retransmit) ++e.counters_.tcp_retrans_segs;
  else ++e.counters_.tcp_out_segs;
  if (seg.flags & tcpflag::kRst) ++e.counters_.tcp_out_rsts;
  TRACE("tcp  %s:%u -> %s:%u seq %u ack %u flags 0x%02x win %u len %u%s", t.laddr.to_string().c_str(), t.lport,
        t.raddr.to_string().c_str(), t.rport, seg.seq, seg.ack, seg.flags, seg.wnd, seg.len,
        seg.retransmit ? " (retransmission)" : "");
  // DF: path MTU discovery (RFC 1191) for our segments, as Linux does.
  e.send_datagram(m, t.laddr, t.raddr, ipproto::kTcp, 0, true);
  return true;
}

void Tcp::send_reset(const tcp::Tuple& t, uint32_t seq, uint32_t ack, uint8_t flags) {
  tcp::OutSegment seg;
  seg.seq = seq;
  seg.ack = ack;
  seg.flags = flags;
  emit(t, seg, nullptr);
}

// ---- the application API ------------------------------------------------------------------------

TcpListenResult Tcp::listen(TcpEndpoint local, TcpListenOptions opts) {
  if (local.port == 0) return {TcpStatus::kInvalid, kNoListener};
  if (!local.addr.is_unspecified() && !engine_.is_local(local.addr)) return {TcpStatus::kNotLocal, kNoListener};
  if (auto it = listen_ports_.find(local.port); it != listen_ports_.end())
    for (uint32_t i : it->second) {
      const Listener& l = listeners_[i];
      if (l.local.addr == local.addr || l.local.addr.is_unspecified() || local.addr.is_unspecified())
        return {TcpStatus::kAddressInUse, kNoListener};
    }
  size_t i = 0;
  while (i < listeners_.size() && listeners_[i].used) ++i;
  if (i == listeners_.size()) listeners_.emplace_back();
  Listener& l = listeners_[i];
  l = Listener{};
  l.used = true;
  l.local = local;
  if (opts.backlog == 0) opts.backlog = 1;
  if (opts.syn_backlog == 0) opts.syn_backlog = 1;
  l.opts = std::move(opts);
  listen_ports_[local.port].push_back(static_cast<uint32_t>(i));
  return {TcpStatus::kOk, static_cast<TcpListener>(i + 1)};
}

TcpStatus Tcp::close_listener(TcpListener id) {
  if (id == kNoListener || id > listeners_.size() || !listeners_[id - 1].used) return TcpStatus::kBadHandle;
  Listener& l = listeners_[id - 1];
  l.used = false;
  auto& v = listen_ports_[l.local.port];
  v.erase(std::remove(v.begin(), v.end(), id - 1), v.end());
  if (v.empty()) listen_ports_.erase(l.local.port);
  // Connections nobody accepted are reset (as closing a listening socket does).
  for (uint32_t idx : l.queue) {
    Slot& s = slots_[idx];
    s.queued = false;
    if (s.used) {
      s.conn->abort();
      mark_dirty(idx);
    }
  }
  l.queue.clear();
  for (uint32_t idx = 0; idx < slots_.size(); ++idx) {
    Slot& s = slots_[idx];
    if (!s.used || s.listener != id) continue;
    if (!s.app && s.conn->state() == tcp::kSynReceived) {
      s.conn->abort();
      mark_dirty(idx);
    }
    s.listener = 0;  // the index may serve another listener later
    s.half_open = false;
  }
  l.half_open = 0;
  return TcpStatus::kOk;
}

TcpHandle Tcp::accept(TcpListener id) {
  if (id == kNoListener || id > listeners_.size() || !listeners_[id - 1].used) return kNoTcp;
  Listener& l = listeners_[id - 1];
  while (!l.queue.empty()) {
    uint32_t idx = l.queue.front();
    l.queue.erase(l.queue.begin());
    Slot& s = slots_[idx];
    if (!s.used || !s.queued) continue;
    s.queued = false;
    if (s.conn->state() == tcp::kClosed) {  // reset while it waited
      mark_dirty(idx);
      continue;
    }
    s.app = true;
    ++l.accepted;
    // What happened while it waited is told once handlers are set.
    if (s.conn->readable() != 0 || s.conn->at_eof()) s.pending |= tcp::event::kReadable;
    s.pending |= tcp::event::kWritable;
    return handle_of(idx);
  }
  return kNoTcp;
}

bool Tcp::steer(uint16_t port, rte_mbuf* m, const tcp::Tuple& t) {
  Engine& e = engine_;
  if (e.ctx_.mail == nullptr || e.ctx_.mail->size() < 2 || port >= e.ctx_.ports.size()) return false;
  uint16_t owner = owner_queue(e.ctx_.ports[port].rss_params, t.raddr, t.laddr, ipproto::kTcp, t.rport, t.lport);
  if (owner == engine_index_ || owner >= e.ctx_.mail->size()) return false;
  MailMessage msg;
  msg.kind = MailMessage::Kind::kTcpSegment;
  msg.port = port;
  msg.pkt = m;
  if (!e.ctx_.mail->queue(engine_index_, owner).push(msg)) {
    e.drop(m, DropReason::steer_queue_full);
    return true;
  }
  ++e.counters_.steered_out;
  return true;
}

bool Tcp::pick_port(Ipv4Addr laddr, Ipv4Addr raddr, uint16_t rport, uint16_t& out) {
  const Engine& e = engine_;
  const RssParams* rss = nullptr;
  size_t engines = e.ctx_.mail != nullptr ? e.ctx_.mail->size() : 1;
  if (engines > 1 && !e.is_local(raddr))
    if (const Route* r = e.routes_->lookup(raddr); r != nullptr) rss = &e.ctx_.ports[r->port].rss_params;
  uint32_t range = uint32_t{cfg_.ephemeral_last} - cfg_.ephemeral_first + 1;
  for (uint32_t n = 0; n < range; ++n) {
    uint16_t p = ephemeral_next_;
    ephemeral_next_ = p >= cfg_.ephemeral_last ? cfg_.ephemeral_first : static_cast<uint16_t>(p + 1);
    if (flow_lookup({laddr, p, raddr, rport}) >= 0) continue;
    if (listen_ports_.count(p) != 0) continue;
    // The answer's tuple is (remote -> local): it must hash back to us.
    if (rss != nullptr && owner_queue(*rss, raddr, laddr, ipproto::kTcp, rport, p) != engine_index_) continue;
    out = p;
    return true;
  }
  return false;
}

TcpConnectResult Tcp::connect(TcpEndpoint remote, TcpHandlers handlers, TcpConnectOptions opts) {
  Engine& e = engine_;
  if (remote.port == 0 || remote.addr.is_unspecified() || remote.addr.is_broadcast() || remote.addr.is_multicast())
    return {TcpStatus::kInvalid, kNoTcp};
  bool local = e.is_local(remote.addr) || remote.addr.is_loopback();
  if (!local && e.routes_->lookup(remote.addr) == nullptr) return {TcpStatus::kNoRoute, kNoTcp};
  Ipv4Addr laddr = opts.local_addr;
  if (laddr.is_unspecified()) laddr = e.source_for(remote.addr);
  else if (!e.is_local(laddr)) return {TcpStatus::kNotLocal, kNoTcp};
  if (remote.addr.is_loopback() && opts.local_addr.is_unspecified()) laddr = Ipv4Addr::from_octets(127, 0, 0, 1);
  uint16_t lport = opts.local_port;
  if (lport == 0 && !pick_port(laddr, remote.addr, remote.port, lport)) return {TcpStatus::kNoEphemeralPort, kNoTcp};
  tcp::Tuple t{laddr, lport, remote.addr, remote.port};
  if (flow_lookup(t) >= 0) return {TcpStatus::kAddressInUse, kNoTcp};
  int32_t got = alloc_slot();
  if (got < 0) return {TcpStatus::kTableFull, kNoTcp};
  auto idx = static_cast<uint32_t>(got);
  Slot& s = slots_[idx];
  uint64_t now = now_us();
  uint32_t iss = isn_.isn(t.laddr, t.lport, t.raddr, t.rport, now);
  if (!s.conn->open_active(t, settings_for(remote.addr, opts.snd_buf, opts.rcv_buf), iss, now, &e.counters_) ||
      !flow_add(t, idx)) {
    free_slot(idx);
    return {TcpStatus::kNoMemory, kNoTcp};
  }
  s.app = true;
  s.handlers = std::move(handlers);
  s.name = std::move(opts.name);
  if (opts.timeout_ms != 0) s.connect_deadline = now + uint64_t{opts.timeout_ms} * 1000;
  mark_dirty(idx);
  return {TcpStatus::kOk, handle_of(idx)};
}

TcpStatus Tcp::set_handlers(TcpHandle h, TcpHandlers handlers) {
  Slot* s = slot_of(h);
  if (s == nullptr) return TcpStatus::kBadHandle;
  s->handlers = std::move(handlers);
  mark_dirty(static_cast<uint32_t>(h & 0xffffffffu));  // pending events are delivered at the flush
  return TcpStatus::kOk;
}

size_t Tcp::send(TcpHandle h, const void* data, size_t len) {
  Slot* s = slot_of(h);
  if (s == nullptr) return 0;
  size_t n = s->conn->send(data, len);
  if (n != 0) mark_dirty(static_cast<uint32_t>(h & 0xffffffffu));
  return n;
}

size_t Tcp::recv(TcpHandle h, void* out, size_t len) {
  Slot* s = slot_of(h);
  if (s == nullptr) return 0;
  size_t n = s->conn->recv(out, len);
  if (n != 0) mark_dirty(static_cast<uint32_t>(h & 0xffffffffu));  // maybe a window update
  return n;
}

std::array<tcp::ByteRing::Span, 2> Tcp::read_spans(TcpHandle h) const {
  const Slot* s = slot_of(h);
  if (s == nullptr) return {};
  return s->conn->readable_spans();
}

void Tcp::consume(TcpHandle h, size_t n) {
  Slot* s = slot_of(h);
  if (s == nullptr || n == 0) return;
  s->conn->consume(n);
  mark_dirty(static_cast<uint32_t>(h & 0xffffffffu));
}

size_t Tcp::readable(TcpHandle h) const {
  const Slot* s = slot_of(h);
  return s == nullptr ? 0 : s->conn->readable();
}

size_t Tcp::send_space(TcpHandle h) const {
  const Slot* s = slot_of(h);
  return s == nullptr ? 0 : s->conn->send_space();
}

bool Tcp::at_eof(TcpHandle h) const {
  const Slot* s = slot_of(h);
  return s == nullptr || s->conn->at_eof();
}

TcpStatus Tcp::shutdown(TcpHandle h) {
  Slot* s = slot_of(h);
  if (s == nullptr) return TcpStatus::kBadHandle;
  s->conn->shutdown_write();
  mark_dirty(static_cast<uint32_t>(h & 0xffffffffu));
  return TcpStatus::kOk;
}

TcpStatus Tcp::close(TcpHandle h) {
  Slot* s = slot_of(h);
  if (s == nullptr) return TcpStatus::kBadHandle;
  s->app = false;
  s->pending = 0;
  s->conn->close(now_us());
  mark_dirty(static_cast<uint32_t>(h & 0xffffffffu));
  return TcpStatus::kOk;
}

TcpStatus Tcp::abort(TcpHandle h) {
  Slot* s = slot_of(h);
  if (s == nullptr) return TcpStatus::kBadHandle;
  s->app = false;
  s->pending = 0;
  s->conn->abort();
  mark_dirty(static_cast<uint32_t>(h & 0xffffffffu));
  return TcpStatus::kOk;
}

TcpStatus Tcp::set_nodelay(TcpHandle h, bool on) {
  Slot* s = slot_of(h);
  if (s == nullptr) return TcpStatus::kBadHandle;
  s->conn->set_nodelay(on);
  return TcpStatus::kOk;
}

const Connection* Tcp::connection(TcpHandle h) const {
  const Slot* s = slot_of(h);
  return s == nullptr ? nullptr : s->conn.get();
}

bool Tcp::endpoints(TcpHandle h, TcpEndpoint& local, TcpEndpoint& remote) const {
  const Slot* s = slot_of(h);
  if (s == nullptr) return false;
  const auto& t = s->conn->tuple();
  local = {t.laddr, t.lport};
  remote = {t.raddr, t.rport};
  return true;
}

void Tcp::snapshot(std::vector<TcpConnSnapshot>& conns, std::vector<TcpListenerSnapshot>& listeners,
                   unsigned engine_index) const {
  uint64_t now = now_us();
  for (const Slot& s : slots_) {
    if (!s.used || !s.conn) continue;
    conns.push_back({engine_index, s.name, s.conn->info(now), s.app});
  }
  for (const Listener& l : listeners_) {
    if (!l.used) continue;
    listeners.push_back({engine_index, l.opts.name, l.local, static_cast<uint32_t>(l.queue.size()), l.half_open,
                         l.opts.backlog, l.accepted, l.overflows});
  }
}

void Tcp::clear() {
  for (uint32_t idx = 0; idx < slots_.size(); ++idx)
    if (slots_[idx].used) free_slot(idx);
  dirty_.clear();
  time_wait_.clear();
  listeners_.clear();
  listen_ports_.clear();
}

}  // namespace dpdkstack
