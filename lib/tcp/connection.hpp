// One TCP connection (RFC 9293), sans-I/O.
//
// Contract:
// - No DPDK call, no clock, no RNG: segments come in as values
//   (on_segment), time is passed in (microseconds, monotonic), the ISN is
//   the caller's (tcp/isn.hpp). Segments go out by pulling: poll(now, out)
//   returns the next segment that is due, with every state change its
//   sending implies already made (snd_nxt moved, timers armed, the pending
//   ACK cleared); the caller builds the packet, copying payload with
//   copy_payload(). A segment the caller then fails to send (no mbuf, full
//   queue) is a segment lost in the network: the retransmission machinery
//   recovers it.
// - Timers: next_deadline() is the earliest armed timer (0: none);
//   on_timer(now) runs the expired ones (RTO, delayed ACK, persist,
//   TIME-WAIT, orphaned FIN-WAIT-2).
// - Events for the application (take_events()): connected, readable,
//   writable, peer closed (FIN), closed (with close_reason()). After
//   close() or abort() the application has let go and is told nothing more.
// - Memory is bounded: the send ring (Settings::snd_buf), the receive ring
//   (rcv_buf) in which out-of-order data is kept at its place (at most
//   OooRanges::kMaxRanges holes), both allocated when the connection opens
//   and released in TIME-WAIT and CLOSED.
// - RFC 9293 3.10.7 "SEGMENT ARRIVES" is followed step by step in
//   on_segment (each step's comment names it), with RFC 7323 (window
//   scale, timestamps, PAWS), RFC 2018 (SACK blocks sent for out-of-order
//   data), RFC 6298 (RTO, Karn), RFC 5681 / RFC 6582 (congestion control,
//   NewReno recovery, via tcp/cc.hpp), RFC 1122 4.2.3.3/4 (SWS avoidance
//   both sides), RFC 896 (Nagle), RFC 9293 3.10.7.4's RFC 5961 rules for
//   RST and SYN (challenge ACKs). Sequence numbers are compared wrap-safe
//   (tcp/seq.hpp) everywhere.
// - States are bit flags (Seastar's habit), so `in_state(kFinWait1 |
//   kClosing)` reads as the RFC does.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/counters.hpp"
#include "core/types.hpp"
#include "tcp/cc.hpp"
#include "tcp/ring.hpp"
#include "tcp/rtt.hpp"
#include "tcp/seq.hpp"
#include "wire/tcp.hpp"

namespace dpdkstack::tcp {

enum State : uint16_t {
  kClosed = 1 << 0,
  kListen = 1 << 1,
  kSynSent = 1 << 2,
  kSynReceived = 1 << 3,
  kEstablished = 1 << 4,
  kFinWait1 = 1 << 5,
  kFinWait2 = 1 << 6,
  kCloseWait = 1 << 7,
  kClosing = 1 << 8,
  kLastAck = 1 << 9,
  kTimeWait = 1 << 10,
};
std::string_view state_name(State s);

// Settings of one connection (config: $.tcp; times in microseconds).
struct Settings {
  uint16_t mss = 1460;  // the MSS we announce: egress MTU minus 40 (the caller computes it per route)
  uint32_t snd_buf = 256 * 1024;
  uint32_t rcv_buf = 256 * 1024;
  bool window_scaling = true;
  bool timestamps = true;
  bool sack = true;
  bool nodelay = false;  // Nagle off
  uint64_t delack_us = 40000;
  uint64_t rto_initial_us = 1000000;
  uint64_t rto_min_us = 200000;
  uint64_t rto_max_us = 60000000;
  uint32_t max_retries = 15;  // retransmissions of data/FIN without progress before the abort
  uint32_t syn_retries = 6;   // SYN (or SYN-ACK) retransmissions before giving up
  uint64_t time_wait_us = 60000000;  // 2 MSL
  uint64_t fin_wait2_us = 60000000;  // an orphaned FIN-WAIT-2 (the application closed) gives up after this
  uint32_t initial_cwnd_segments = 10;  // RFC 6928
};

struct Tuple {
  Ipv4Addr laddr;
  uint16_t lport = 0;
  Ipv4Addr raddr;
  uint16_t rport = 0;
  friend bool operator==(const Tuple&, const Tuple&) = default;
};

// A received segment, checked (checksum, header, options) by the caller.
struct Segment {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t wnd = 0;  // the raw window field
  wire::TcpOptions opts;
  const uint8_t* data = nullptr;
  uint32_t len = 0;
  bool has(uint8_t f) const { return (flags & f) != 0; }
  // SEG.LEN: data plus SYN and FIN.
  uint32_t seg_len() const { return len + (has(wire::tcpflag::kSyn) ? 1 : 0) + (has(wire::tcpflag::kFin) ? 1 : 0); }
};

// A segment to send: the header's values, options, and which bytes of the
// send ring ride in it ([data_pos, data_pos + len), see copy_payload).
struct OutSegment {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t wnd = 0;
  wire::TcpOptionsOut opts;
  uint64_t data_pos = 0;
  uint32_t len = 0;
  bool retransmit = false;
};

enum class CloseReason : uint8_t {
  kNone,
  kNormal,    // FIN handshake done (or TIME-WAIT over)
  kReset,     // the peer reset the connection
  kRefused,   // RST in answer to our SYN
  kTimeout,   // retransmissions (or SYNs) unanswered: retry limit reached
  kAborted,   // we reset it (abort(), close() with unread data, data after close)
};
std::string_view close_reason_name(CloseReason r);

namespace event {
inline constexpr uint8_t kConnected = 1;
inline constexpr uint8_t kReadable = 2;
inline constexpr uint8_t kWritable = 4;
inline constexpr uint8_t kPeerClosed = 8;
inline constexpr uint8_t kClosed = 16;
}  // namespace event

// What `show tcp` prints of one connection (like ss -ti).
struct ConnectionInfo {
  Tuple tuple;
  State state = kClosed;
  uint32_t iss = 0, irs = 0;
  uint32_t snd_una = 0, snd_nxt = 0, snd_max = 0, rcv_nxt = 0;
  uint32_t snd_wnd = 0, rcv_wnd = 0;
  uint8_t snd_wscale = 0, rcv_wscale = 0;
  bool wscale_ok = false, ts_ok = false, sack_ok = false;
  uint16_t mss = 0, peer_mss = 0;
  uint32_t cwnd = 0, ssthresh = 0;
  uint64_t srtt_us = 0, rttvar_us = 0, rto_us = 0;
  uint32_t retransmits = 0;  // segments retransmitted over the connection's life
  uint32_t retries = 0;      // consecutive RTO expiries now
  uint64_t bytes_in = 0, bytes_out = 0;  // application bytes received / acknowledged by the peer
  uint64_t segs_in = 0, segs_out = 0;
  size_t snd_queued = 0, rcv_queued = 0, ooo_bytes = 0;
  bool in_recovery = false, persist = false;
};

class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // CLOSED -> SYN-SENT (RFC 9293 3.10.1 OPEN, active): a SYN is due. False
  // when buffers cannot be allocated (nothing changes).
  bool open_active(const Tuple& t, const Settings& s, uint32_t iss, uint64_t now, LcoreCounters* mib);
  // LISTEN -> SYN-RECEIVED on `syn` (RFC 9293 3.10.7.2, third: SYN in
  // LISTEN): options negotiated from it, a SYN-ACK is due.
  bool open_passive(const Tuple& t, const Settings& s, uint32_t iss, const Segment& syn, uint64_t now,
                    LcoreCounters* mib);

  void on_segment(const Segment& seg, uint64_t now);
  void on_timer(uint64_t now);
  uint64_t next_deadline() const;
  bool poll(uint64_t now, OutSegment& out);
  // Copies the payload of `seg` (from poll) into `dst` (seg.len bytes).
  void copy_payload(const OutSegment& seg, uint8_t* dst) const { snd_.copy_out(seg.data_pos, dst, seg.len); }

  // TIME-WAIT: may a new SYN reuse the tuple (RFC 6191 with timestamps,
  // RFC 1122 4.2.2.13 without: its sequence number is past ours)?
  bool time_wait_accepts_syn(const Segment& syn) const;

  // Application side.
  size_t send(const void* data, size_t len);
  size_t recv(void* out, size_t len);
  // Unread in-order bytes as at most two contiguous spans (no copy);
  // consume(n) releases them.
  std::array<ByteRing::Span, 2> readable_spans() const { return rcv_.spans(rcv_.start(), rcv_.size()); }
  void consume(size_t n);
  size_t readable() const { return rcv_.allocated() ? rcv_.size() : 0; }
  size_t send_space() const { return can_send() ? snd_.free_space() : 0; }
  bool can_send() const { return (state_ & (kSynSent | kSynReceived | kEstablished | kCloseWait)) && !fin_queued_; }
  // The peer sent FIN and every byte before it has been read.
  bool at_eof() const { return fin_received_ && readable() == 0; }
  void shutdown_write();  // FIN after the queued data (RFC 9293 3.10.4 CLOSE, half)
  void close(uint64_t now);  // the application lets go; RST instead when unread data remains
  void abort();           // RST now (RFC 9293 3.10.5 ABORT)
  void set_nodelay(bool on) { cfg_.nodelay = on; }
  // An ICMP "fragmentation needed" about our segment (RFC 1191, RFC 5927):
  // a smaller MSS, and what was sent too big goes again at once.
  void on_path_mtu(uint16_t mtu);
  // The attempt ends without a word to the peer (connect timeout, an ICMP
  // hard error in SYN-SENT).
  void give_up(CloseReason why) {
    if (state_ != kClosed) enter_closed(why);
  }

  uint8_t take_events() { return std::exchange(events_, uint8_t{0}); }
  State state() const { return state_; }
  bool in_state(uint16_t mask) const { return (state_ & mask) != 0; }
  CloseReason close_reason() const { return close_reason_; }
  bool app_closed() const { return app_closed_; }
  const Tuple& tuple() const { return tuple_; }
  ConnectionInfo info(uint64_t now) const;

 private:
  bool open_common(const Tuple& t, const Settings& s, uint32_t iss, LcoreCounters* mib);
  void set_state(State s);
  void enter_closed(CloseReason why);
  void enter_time_wait(uint64_t now);
  void release_buffers();
  void negotiate(const Segment& syn, bool active);
  void established_setup();
  // The step "fifth, check the ACK field" for synchronized states; false
  // when the segment is to be dropped here.
  bool process_ack(const Segment& seg, uint64_t now);
  void update_window(const Segment& seg, uint64_t now);
  void process_text(uint32_t seq, const uint8_t* data, uint32_t len, uint64_t now);
  void process_fin(uint64_t now);
  void rto_expired(uint64_t now);
  void arm_rto(uint64_t now) { rto_deadline_ = now + rtt_.rto(); }
  void arm_pto(uint64_t now);
  // Unsent data exists and the windows would let a segment of it go now.
  bool new_data_sendable() const;
  uint32_t flight() const { return static_cast<uint32_t>(seq_diff(snd_max_, snd_una_)); }
  uint32_t in_flight_from_nxt() const { return static_cast<uint32_t>(seq_diff(snd_nxt_, snd_una_)); }
  // Sequence number of send-stream offset `pos` (offset 0 is ISS+1).
  uint32_t snd_seq(uint64_t pos) const { return iss_ + 1 + static_cast<uint32_t>(pos); }
  uint64_t snd_pos(uint32_t seq) const { return snd_.start() + static_cast<uint64_t>(seq_diff(seq, snd_una_data())); }
  // The sequence number of the first unacknowledged data byte.
  uint32_t snd_una_data() const { return snd_seq(snd_.start()); }
  uint32_t fin_seq() const { return snd_seq(snd_.end()); }
  bool fin_acked() const { return fin_sent_ && seq_gt(snd_una_, fin_seq()); }
  // Receive window: what we can take past rcv_nxt, and the window field.
  uint32_t rcv_space() const;
  uint16_t window_field();
  // ACK, window, timestamps and as many SACK blocks as fit beside `payload` bytes.
  void fill_common(OutSegment& out, uint64_t now, uint32_t payload = 0);
  void challenge_ack(uint64_t now);
  bool window_update_due() const;
  uint32_t ts_now(uint64_t now) const { return static_cast<uint32_t>(now / 1000) + ts_offset_; }
  void count(uint64_t LcoreCounters::*field) {
    if (mib_ != nullptr) ++(mib_->*field);
  }

  State state_ = kClosed;
  Tuple tuple_;
  Settings cfg_;
  LcoreCounters* mib_ = nullptr;
  bool passive_ = false;

  // Send sequence space (RFC 9293 3.3.1), plus snd_max: the highest
  // sequence number sent (snd_nxt goes back to snd_una after an RTO).
  uint32_t iss_ = 0, snd_una_ = 0, snd_nxt_ = 0, snd_max_ = 0;
  uint32_t snd_wnd_ = 0, snd_wl1_ = 0, snd_wl2_ = 0, max_snd_wnd_ = 0;
  uint8_t snd_wscale_ = 0, rcv_wscale_ = 0;
  uint16_t peer_mss_ = 536;
  uint16_t mss_ = 536;  // data bytes per segment we send (options deducted)
  ByteRing snd_;        // offset 0 = sequence ISS+1
  bool fin_queued_ = false;  // shutdown_write(): FIN after the data
  bool fin_sent_ = false;
  bool want_writable_ = false;

  // Receive sequence space.
  uint32_t irs_ = 0, rcv_nxt_ = 0;
  uint32_t rcv_adv_ = 0;  // right edge of the window last advertised
  ByteRing rcv_;          // offset 0 = sequence IRS+1
  uint32_t rcv_slack_ = 0;  // ring bytes beyond rcv_buf: one window-scale unit
  OooRanges ooo_;
  bool ooo_fin_ = false;
  uint64_t ooo_fin_pos_ = 0;
  bool fin_received_ = false;
  uint32_t rcv_mss_ = 536;  // largest segment seen: "full-sized" for delayed ACKs

  // Options (RFC 7323, RFC 2018).
  bool ws_ok_ = false, ts_ok_ = false, sack_ok_ = false;
  uint32_t ts_recent_ = 0, ts_offset_ = 0, last_ack_sent_ = 0;

  // Acknowledgements.
  bool ack_now_ = false;
  uint64_t last_oow_ack_ = 0;  // the last ACK answering an out-of-window bare ACK or a challenge
  uint32_t unacked_full_ = 0;
  uint64_t delack_deadline_ = 0;

  // Retransmission (RFC 6298) and recovery (RFC 5681, RFC 6582).
  RttEstimator rtt_;
  uint64_t rto_deadline_ = 0;
  uint32_t retries_ = 0;
  bool syn_due_ = false;
  bool syn_timed_out_ = false;  // RFC 6298 5.7
  bool rtt_timing_ = false;
  uint32_t rtt_seq_ = 0;
  uint64_t rtt_start_ = 0;
  uint32_t dupacks_ = 0;
  bool in_recovery_ = false;
  uint32_t recover_ = 0;
  bool rexmit_one_ = false;
  // Tail loss probe (RFC 8985 7): its timer, a probe due, one per episode.
  uint64_t pto_deadline_ = 0;
  bool tlp_due_ = false;
  bool tlp_done_ = false;
  std::unique_ptr<CongestionControl> cc_;

  // Persist (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17).
  uint64_t persist_deadline_ = 0;
  uint32_t persist_backoff_ = 0;
  bool probe_due_ = false;

  // Closing.
  uint64_t tw_deadline_ = 0;
  uint64_t fw2_deadline_ = 0;
  bool app_closed_ = false;
  CloseReason close_reason_ = CloseReason::kNone;
  uint8_t events_ = 0;
  bool rst_due_ = false;
  uint32_t rst_seq_ = 0, rst_ack_ = 0;
  uint8_t rst_flags_ = 0;

  // Statistics.
  uint64_t bytes_in_ = 0, bytes_out_ = 0, segs_in_ = 0, segs_out_ = 0;
  uint32_t retransmits_ = 0;
};

}  // namespace dpdkstack::tcp
