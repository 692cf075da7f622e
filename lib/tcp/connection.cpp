#include "tcp/connection.hpp"

#include <algorithm>

namespace dpdkstack::tcp {

using namespace wire::tcpflag;

std::string_view state_name(State s) {
  switch (s) {
    case kClosed: return "CLOSED";
    case kListen: return "LISTEN";
    case kSynSent: return "SYN-SENT";
    case kSynReceived: return "SYN-RECEIVED";
    case kEstablished: return "ESTABLISHED";
    case kFinWait1: return "FIN-WAIT-1";
    case kFinWait2: return "FIN-WAIT-2";
    case kCloseWait: return "CLOSE-WAIT";
    case kClosing: return "CLOSING";
    case kLastAck: return "LAST-ACK";
    case kTimeWait: return "TIME-WAIT";
  }
  return "?";
}

std::string_view close_reason_name(CloseReason r) {
  switch (r) {
    case CloseReason::kNone: return "none";
    case CloseReason::kNormal: return "closed";
    case CloseReason::kReset: return "reset by peer";
    case CloseReason::kRefused: return "connection refused";
    case CloseReason::kTimeout: return "timed out";
    case CloseReason::kAborted: return "aborted";
  }
  return "?";
}

namespace {

constexpr uint16_t kSynchronized = kEstablished | kFinWait1 | kFinWait2 | kCloseWait | kClosing | kLastAck | kTimeWait;
constexpr uint16_t kEstabLike = kEstablished | kCloseWait;  // RFC 4022 tcpCurrEstab
// The window scale that lets a window field describe `buf` bytes (RFC 7323 2.3).
uint8_t scale_for(uint32_t buf) {
  uint8_t s = 0;
  while (s < wire::TcpOptions::kMaxWindowScale && (buf >> s) > 0xffff) ++s;
  return s;
}
constexpr uint32_t kTsOptionLen = 12;
// RFC 8985 7.2: WCDelAckT, the worst-case delayed-ACK time of the peer.
constexpr uint64_t kWorstDelayedAckUs = 200000;
// RFC 5961 7 / Linux tcp_invalid_ratelimit: answers to stale bare ACKs and challenge ACKs.
constexpr uint64_t kOutOfWindowAckUs = 500000;
// The timer step is a millisecond: probes sooner than two steps are noise.
constexpr uint64_t kMinPtoUs = 2000;

}  // namespace

// ---- opening ---------------------------------------------------------------------

// What both opens share: buffers, the congestion control, ISS and the send
// sequence variables, the RTO. False (nothing kept) when memory fails.
bool Connection::open_common(const Tuple& t, const Settings& s, uint32_t iss, LcoreCounters* mib) {
  cc_ = make_congestion_control("newreno");
  // The receive ring holds one window-scale unit more than rcv_buf: a
  // window field rounded up (so that the edge never moves back) then
  // never offers more than the ring can take (RFC 7323 2.4).
  rcv_slack_ = s.window_scaling ? 1u << scale_for(s.rcv_buf) : 0;
  if (cc_ == nullptr || !snd_.init(s.snd_buf) || !rcv_.init(s.rcv_buf + rcv_slack_)) {
    release_buffers();
    return false;
  }
  tuple_ = t;
  cfg_ = s;
  mib_ = mib;
  iss_ = iss;
  snd_una_ = snd_nxt_ = snd_max_ = iss;
  recover_ = iss;
  ts_offset_ = iss;
  rtt_ = RttEstimator(s.rto_initial_us, s.rto_min_us, s.rto_max_us);
  syn_due_ = true;
  return true;
}

bool Connection::open_active(const Tuple& t, const Settings& s, uint32_t iss, uint64_t now, LcoreCounters* mib) {
  (void)now;
  if (!open_common(t, s, iss, mib)) return false;
  passive_ = false;
  rcv_wscale_ = s.window_scaling ? scale_for(s.rcv_buf) : 0;
  count(&LcoreCounters::tcp_active_opens);
  set_state(kSynSent);
  return true;
}

bool Connection::open_passive(const Tuple& t, const Settings& s, uint32_t iss, const Segment& syn, uint64_t now,
                              LcoreCounters* mib) {
  (void)now;
  if (!open_common(t, s, iss, mib)) return false;
  passive_ = true;
  // RFC 9293 3.10.7.2 third: RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ, ISS chosen,
  // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> sent, SND.NXT = ISS+1, SND.UNA = ISS.
  irs_ = syn.seq;
  rcv_nxt_ = syn.seq + 1;
  rcv_adv_ = rcv_nxt_;
  negotiate(syn, false);
  // The window of a SYN is never scaled (RFC 7323 2.2).
  snd_wnd_ = syn.wnd;
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = syn.seq;
  snd_wl2_ = iss;
  count(&LcoreCounters::tcp_passive_opens);
  set_state(kSynReceived);
  return true;
}

// Options both sides agree on (RFC 7323 1.3, 2.2; RFC 2018 2; RFC 9293
// 3.7.1 with RFC 6691: the MSS we send is the peer's announced MSS, 536
// without one, less the options every segment carries).
void Connection::negotiate(const Segment& syn, bool active) {
  const auto& o = syn.opts;
  peer_mss_ = o.has_mss ? std::max<uint16_t>(o.mss, 64) : 536;
  ws_ok_ = cfg_.window_scaling && o.has_wscale;
  snd_wscale_ = ws_ok_ ? o.wscale : 0;
  if (!ws_ok_) rcv_wscale_ = 0;
  else if (!active) rcv_wscale_ = scale_for(cfg_.rcv_buf);
  ts_ok_ = cfg_.timestamps && o.has_timestamps;
  if (ts_ok_) ts_recent_ = o.ts_val;
  sack_ok_ = cfg_.sack && o.sack_permitted;
  uint32_t mss = std::min<uint32_t>(peer_mss_, cfg_.mss);
  if (ts_ok_) mss -= std::min(mss - 1, kTsOptionLen);
  mss_ = static_cast<uint16_t>(mss);
  rcv_mss_ = std::min<uint32_t>(cfg_.mss, 536);
}

void Connection::established_setup() {
  uint32_t iw = std::min(cfg_.initial_cwnd_segments * uint32_t{mss_}, std::max(2 * uint32_t{mss_}, 14600u));
  if (cfg_.initial_cwnd_segments < 10) iw = cfg_.initial_cwnd_segments * uint32_t{mss_};
  cc_->init(mss_, std::max<uint32_t>(iw, mss_));
  // RFC 6298 5.7: after a SYN (or SYN-ACK) timed out, and with no RTT
  // sample since, data starts with an RTO of 3 seconds.
  if (syn_timed_out_ && !rtt_.has_sample())
    rtt_ = RttEstimator(std::max<uint64_t>(3000000, cfg_.rto_initial_us), cfg_.rto_min_us, cfg_.rto_max_us);
  // A CLOSE issued in SYN-RECEIVED waited for this (RFC 9293 3.10.4).
  set_state(fin_queued_ ? kFinWait1 : kEstablished);
  events_ |= event::kConnected;
  if (snd_.free_space() > 0) events_ |= event::kWritable;
}

void Connection::set_state(State s) {
  if (s == state_) return;
  bool was = (state_ & kEstabLike) != 0, is = (s & kEstabLike) != 0;
  if (!was && is) count(&LcoreCounters::tcp_curr_estab);
  if (was && !is && mib_ != nullptr) --mib_->tcp_curr_estab;
  if (s == kClosed) {
    if (state_ & (kSynSent | kSynReceived)) count(&LcoreCounters::tcp_attempt_fails);
    if (was) count(&LcoreCounters::tcp_estab_resets);
  }
  state_ = s;
}

void Connection::release_buffers() {
  snd_.release();
  rcv_.release();
  ooo_.clear();
}

void Connection::enter_closed(CloseReason why) {
  // A normal end reached from LAST-ACK or TIME-WAIT is not an RFC 4022
  // reset; set_state counts EstabResets only from ESTABLISHED/CLOSE-WAIT.
  set_state(kClosed);
  if (close_reason_ == CloseReason::kNone) close_reason_ = why;
  rto_deadline_ = pto_deadline_ = delack_deadline_ = persist_deadline_ = tw_deadline_ = fw2_deadline_ = 0;
  ack_now_ = false;
  syn_due_ = rexmit_one_ = probe_due_ = false;
  // After an orderly end the application may still read what is left (in
  // its closed handler); after a reset or timeout it is gone (ECONNRESET).
  snd_.release();
  if (why != CloseReason::kNormal || app_closed_ || rcv_.size() == 0) rcv_.release();
  ooo_.clear();
  if (!app_closed_) events_ |= event::kClosed;
}

void Connection::enter_time_wait(uint64_t now) {
  set_state(kTimeWait);
  rto_deadline_ = pto_deadline_ = persist_deadline_ = fw2_deadline_ = 0;
  tw_deadline_ = now + cfg_.time_wait_us;
  // What the application has not read is still readable; TIME-WAIT itself
  // only needs the sequence numbers. Keep the receive ring while data is
  // unread, drop the send ring (everything in it is acknowledged).
  snd_.release();
  if (rcv_.size() == 0) rcv_.release();
}

// ---- segment arrival (RFC 9293 3.10.7) ----------------------------------------------

void Connection::on_segment(const Segment& seg, uint64_t now) {
  ++segs_in_;
  if (state_ == kClosed) return;  // the caller answers CLOSED (3.10.7.1)

  if (state_ == kSynSent) {
    // 3.10.7.3 SYN-SENT. First, check the ACK bit.
    bool ack_ok = false;
    if (seg.has(kAck)) {
      if (seq_le(seg.ack, iss_) || seq_gt(seg.ack, snd_max_)) {
        if (!seg.has(kRst)) {  // <SEQ=SEG.ACK><CTL=RST>
          rst_due_ = true;
          rst_seq_ = seg.ack;
          rst_ack_ = 0;
          rst_flags_ = kRst;
        }
        return;
      }
      ack_ok = seq_le(snd_una_, seg.ack) && seq_le(seg.ack, snd_max_);
    }
    // Second, check the RST bit: only with an acceptable ACK.
    if (seg.has(kRst)) {
      if (ack_ok) enter_closed(CloseReason::kRefused);
      return;
    }
    // Fourth, check the SYN bit.
    if (!seg.has(kSyn)) return;  // fifth: neither SYN nor RST: drop
    irs_ = seg.seq;
    rcv_nxt_ = seg.seq + 1;
    rcv_adv_ = rcv_nxt_;
    negotiate(seg, true);
    if (ack_ok) {
      snd_una_ = seg.ack;
      if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    }
    if (seq_gt(snd_una_, iss_)) {
      // Our SYN is acknowledged: ESTABLISHED, <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
      if (rtt_timing_ && retries_ == 0) rtt_.sample(now - rtt_start_);  // Karn: no sample after a retransmission
      rtt_timing_ = false;
      rto_deadline_ = 0;
      retries_ = 0;
      syn_due_ = false;
      snd_wnd_ = seg.wnd;  // a SYN's window is never scaled
      max_snd_wnd_ = snd_wnd_;
      snd_wl1_ = seg.seq;
      snd_wl2_ = seg.ack;
      established_setup();
      ack_now_ = true;
      // Data in the SYN-ACK is not taken (we never offered a window before
      // it): the peer sends it again.
      return;
    }
    // Simultaneous open: SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
    snd_wnd_ = seg.wnd;
    max_snd_wnd_ = snd_wnd_;
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    snd_nxt_ = iss_;  // the SYN goes again, now with the ACK
    syn_due_ = true;
    set_state(kSynReceived);
    return;
  }

  // 3.10.7.4 Other states. A SYN from the peer that is the one we already
  // answered (its SYN-ACK was lost): answer it again.
  if (state_ == kSynReceived && seg.has(kSyn) && !seg.has(kAck) && seg.seq == irs_) {
    syn_due_ = true;
    snd_nxt_ = iss_;
    return;
  }

  // First, check the sequence number. RFC 7323 5.3 R1 (PAWS) comes first.
  if (ts_ok_ && seg.opts.has_timestamps && !seg.has(kRst) && seq_lt(seg.opts.ts_val, ts_recent_)) {
    count(&LcoreCounters::tcp_paws_rejected);
    ack_now_ = true;
    return;
  }
  const uint32_t rcv_wnd = seq_gt(rcv_adv_, rcv_nxt_) ? static_cast<uint32_t>(seq_diff(rcv_adv_, rcv_nxt_)) : 0;
  const uint32_t len = seg.seg_len();
  bool acceptable;
  if (len == 0)  // RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND, with the right edge itself allowed as Linux does
    acceptable = rcv_wnd == 0 ? seg.seq == rcv_nxt_ : seq_in(seg.seq, rcv_nxt_, rcv_nxt_ + rcv_wnd + 1);
  else if (rcv_wnd == 0)
    acceptable = seg.seq == rcv_nxt_;  // "special allowance": its ACK, RST and window still count; its text does not
  else
    acceptable = seq_in(seg.seq, rcv_nxt_, rcv_nxt_ + rcv_wnd) ||
                 seq_in(seg.seq + len - 1, rcv_nxt_, rcv_nxt_ + rcv_wnd);
  if (!acceptable) {
    count(&LcoreCounters::tcp_unacceptable);
    // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. For a bare ACK outside the window
    // at most one such answer every kOutOfWindowAckUs (RFC 5961 7, Linux's
    // tcp_invalid_ratelimit): two stacks must not ACK each other's stale
    // ACKs forever. A window probe (one below RCV.NXT) is always answered.
    if (!seg.has(kRst)) {
      bool bare = len == 0 && seg.seq != rcv_nxt_ - 1;
      if (!bare || now >= last_oow_ack_ + kOutOfWindowAckUs) {
        ack_now_ = true;
        if (bare) last_oow_ack_ = now;
      }
    }
    // TIME-WAIT: a retransmitted FIN is acknowledged and the 2 MSL wait restarts.
    if (state_ == kTimeWait && seg.has(kFin) && !seg.has(kRst)) tw_deadline_ = now + cfg_.time_wait_us;
    // RFC 9293 3.10.7.4: with a zero window, "special allowance should be
    // made to accept valid ACKs": the ACK field (and window) of a segment
    // refused only for its sequence number still counts (a peer that
    // probes with a byte of new data sends its ACKs one past RCV.NXT).
    if (rcv_wnd == 0 && seg.has(kAck) && !seg.has(kRst | kSyn) && in_state(kEstablished | kFinWait1 | kFinWait2 | kCloseWait | kClosing | kLastAck) &&
        seq_le(seg.seq, rcv_nxt_ + 1))
      process_ack(seg, now);
    return;
  }
  // RFC 7323 4.3: TS.Recent follows the segment that covers Last.ACK.sent.
  if (ts_ok_ && seg.opts.has_timestamps && seq_ge(seg.opts.ts_val, ts_recent_) && seq_le(seg.seq, last_ack_sent_))
    ts_recent_ = seg.opts.ts_val;

  // Second, check the RST bit (with RFC 5961 3.2: only an exact match resets).
  if (seg.has(kRst)) {
    if (seg.seq != rcv_nxt_) {
      challenge_ack(now);
      return;
    }
    if (state_ == kSynReceived && passive_) {
      // "return to the LISTEN state": this connection attempt is gone.
      app_closed_ = true;  // never accepted: nobody to tell
      enter_closed(CloseReason::kReset);
      return;
    }
    enter_closed(state_ == kSynReceived ? CloseReason::kRefused : CloseReason::kReset);
    return;
  }

  // Third, security: no compartments here. Fourth, check the SYN bit. In
  // SYN-RECEIVED after a passive open: back to LISTEN (this attempt is
  // dropped); in a synchronized state, a challenge ACK (RFC 5961 4.2).
  if (seg.has(kSyn)) {
    if (state_ == kSynReceived && passive_) {
      app_closed_ = true;  // never accepted: nobody to tell
      enter_closed(CloseReason::kReset);
      return;
    }
    challenge_ack(now);
    return;
  }

  // Fifth, check the ACK field: without ACK, drop.
  if (!seg.has(kAck)) {
    count(&LcoreCounters::tcp_no_ack_flag);
    return;
  }
  if (state_ == kSynReceived) {
    if (!(seq_lt(snd_una_, seg.ack) && seq_le(seg.ack, snd_max_))) {
      rst_due_ = true;  // <SEQ=SEG.ACK><CTL=RST>
      rst_seq_ = seg.ack;
      rst_ack_ = 0;
      rst_flags_ = kRst;
      return;
    }
    // ESTABLISHED, with SND.WND = SEG.WND, SND.WL1 = SEG.SEQ, SND.WL2 = SEG.ACK.
    if (rtt_timing_ && retries_ == 0) rtt_.sample(now - rtt_start_);
    rtt_timing_ = false;
    snd_una_ = seg.ack;
    if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    rto_deadline_ = 0;
    retries_ = 0;
    syn_due_ = false;
    snd_wnd_ = static_cast<uint32_t>(seg.wnd) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    established_setup();
  } else if (!process_ack(seg, now)) {
    return;
  }
  if (state_ == kClosed) return;

  // Sixth, the URG bit: urgent data is delivered inline as ordinary data
  // (RFC 6093 advises new applications not to rely on it).
  // Seventh, process the segment text.
  uint32_t seq = seg.seq;
  const uint8_t* data = seg.data;
  uint32_t dlen = seg.len;
  bool fin = seg.has(kFin);
  if (seq_lt(seq, rcv_nxt_)) {  // the front was received already
    uint32_t skip = std::min<uint32_t>(dlen, static_cast<uint32_t>(seq_diff(rcv_nxt_, seq)));
    data += skip;
    dlen -= skip;
    seq += skip;
    if (fin && seq_lt(seq, rcv_nxt_)) fin = false;  // the FIN too (a duplicate)
  }
  if (in_state(kEstablished | kFinWait1 | kFinWait2)) {
    if (dlen != 0 && app_closed_) {
      // New data for an application that has closed: nobody will read it.
      // Reset, as Linux does (RFC 9293 leaves it open; RFC 2525 2.17).
      rst_due_ = true;
      rst_seq_ = snd_max_;
      rst_ack_ = rcv_nxt_ + dlen;
      rst_flags_ = kRst | kAck;
      enter_closed(CloseReason::kAborted);
      return;
    }
    // Trim to the window and to the memory we have (the window may
    // exceed it by less than one scale unit: RFC 7323 2.4).
    uint32_t room = std::min<uint32_t>(rcv_wnd, static_cast<uint32_t>(rcv_.free_space()));
    uint32_t off = static_cast<uint32_t>(seq_diff(seq, rcv_nxt_));
    if (dlen != 0 || fin) {
      if (off >= room) {
        if (dlen != 0) count(&LcoreCounters::tcp_window_trimmed);
        dlen = 0;
        if (off > room || rcv_wnd == 0) fin = false;
        ack_now_ = true;
      } else if (off + dlen > room) {
        dlen = room - off;
        fin = false;
        count(&LcoreCounters::tcp_window_trimmed);
        ack_now_ = true;
      }
    }
    if (dlen != 0) process_text(seq, data, dlen, now);
    if (fin) {
      if (seq + dlen == rcv_nxt_) {
        // Eighth, check the FIN bit.
        process_fin(now);
      } else {
        ooo_fin_ = true;  // after a hole: taken when the hole fills
        ooo_fin_pos_ = rcv_.end() + static_cast<uint64_t>(seq_diff(seq + dlen, rcv_nxt_));
        ack_now_ = true;
      }
    }
  } else if (fin && seq == rcv_nxt_ && in_state(kCloseWait | kClosing | kLastAck | kTimeWait)) {
    // Eighth, a FIN again (ours was the first): acknowledge it; in
    // TIME-WAIT restart the 2 MSL timeout.
    ack_now_ = true;
    if (state_ == kTimeWait) tw_deadline_ = now + cfg_.time_wait_us;
  }
  // Seventh, for CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: text after the
  // peer's FIN cannot be; it is ignored.
}

// RFC 5961 3.2 / 4.2 challenge ACK, at most one every kOutOfWindowAckUs
// per connection (RFC 5961 7 asks for a limit; Linux's is per connection too).
void Connection::challenge_ack(uint64_t now) {
  if (now < last_oow_ack_ + kOutOfWindowAckUs && last_oow_ack_ != 0) return;
  last_oow_ack_ = now;
  count(&LcoreCounters::tcp_challenge_acks);
  ack_now_ = true;
}

// Step five for the synchronized states (ESTABLISHED and later).
bool Connection::process_ack(const Segment& seg, uint64_t now) {
  const uint32_t ack = seg.ack;
  // RFC 5961 5.2: an ACK too old to be plausible.
  if (seq_lt(ack, snd_una_ - std::max(max_snd_wnd_, 65535u))) {
    ack_now_ = true;
    count(&LcoreCounters::tcp_ack_unsent);
    return false;
  }
  if (seq_gt(ack, snd_max_)) {
    // Acknowledges something not yet sent: send an ACK, drop the segment.
    count(&LcoreCounters::tcp_ack_unsent);
    ack_now_ = true;
    return false;
  }
  if (state_ == kTimeWait) {
    // The only thing that can arrive is a retransmission of the remote FIN
    // (handled at the FIN step); an ACK changes nothing.
    return true;
  }
  const uint32_t old_wnd = snd_wnd_;
  if (seq_gt(ack, snd_una_)) {
    uint32_t acked = static_cast<uint32_t>(seq_diff(ack, snd_una_));
    uint32_t flight_before = flight();
    // Sequence space acknowledged: the SYN (never here: ESTABLISHED has it
    // acked), data, then the FIN.
    uint32_t data_acked = acked;
    if (fin_sent_ && seq_gt(ack, fin_seq())) data_acked -= 1;
    data_acked = std::min<uint32_t>(data_acked, static_cast<uint32_t>(snd_.size()));
    snd_.consume(data_acked);
    bytes_out_ += data_acked;
    snd_una_ = ack;
    if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    // RFC 6298 / Karn: a sample when the timed segment is acknowledged.
    if (rtt_timing_ && seq_ge(ack, rtt_seq_)) {
      rtt_.sample(now - rtt_start_);
      rtt_timing_ = false;
    }
    retries_ = 0;
    if (in_recovery_) {
      if (seq_ge(ack, recover_)) {  // full acknowledgement: recovery ends (RFC 6582 3.2 step 3)
        in_recovery_ = false;
        dupacks_ = 0;
        cc_->on_recovery_exit(flight());
      } else {  // partial: retransmit the next hole at once (step 5)
        cc_->on_partial_ack(acked);
        rexmit_one_ = true;
      }
    } else {
      dupacks_ = 0;
      cc_->on_ack(acked, flight_before, now);
    }
    // RFC 6298 5.2 / 5.3: off when everything is acknowledged, else restarted.
    tlp_done_ = false;
    if (snd_una_ == snd_max_) {
      rto_deadline_ = pto_deadline_ = 0;
    } else {
      arm_rto(now);
      arm_pto(now);
    }
    if (want_writable_ && snd_.free_space() >= snd_.capacity() / 4) {
      want_writable_ = false;
      events_ |= event::kWritable;
    }
  } else if (ack == snd_una_ && seg.len == 0 && !seg.has(kSyn | kFin) && snd_max_ != snd_una_ && old_wnd != 0 &&
             ((static_cast<uint32_t>(seg.wnd) << snd_wscale_) == old_wnd || (sack_ok_ && seg.opts.n_sack != 0))) {
    // A duplicate ACK (RFC 5681 2: same window; or, RFC 6675 2, one that
    // carries SACK blocks: a receiver that grows its window as it goes,
    // as Linux does, would otherwise never give three). Not while the
    // peer's window is closed: those ACKs answer our window probes (RFC
    // 9293 3.8.6.1), whose byte is "in flight", and say nothing of loss.
    ++dupacks_;
    count(&LcoreCounters::tcp_dup_acks);
    // RFC 5827 early retransmit: with less than four segments out and no
    // new data that could go, fewer duplicate ACKs will ever come.
    uint32_t thresh = 3;
    uint32_t fl = flight();
    if (fl < 4u * mss_ && !new_data_sendable()) thresh = std::max(1u, (fl + mss_ - 1) / mss_ - 1);
    if (in_recovery_) {
      cc_->on_recovery_dupack();
    } else if (dupacks_ >= thresh && (seq_gt(snd_una_, recover_) || seg.opts.n_sack != 0)) {
      // Fast retransmit (RFC 5681 3.2 steps 2-4) entering NewReno recovery
      // (RFC 6582 3.2 step 2: only when the ACK covers more than `recover`,
      // so that the duplicate ACKs of a go-back-N resend start nothing;
      // SACK blocks show data past a hole really arrived, which settles it:
      // RFC 6582 4.1's "SACK-based" disambiguation).
      in_recovery_ = true;
      recover_ = snd_max_;
      cc_->on_fast_retransmit(flight());
      rexmit_one_ = true;
      rtt_timing_ = false;
      pto_deadline_ = 0;
      count(&LcoreCounters::tcp_fast_retransmits);
    }
  }
  update_window(seg, now);

  // The state-specific parts of step five.
  if (fin_acked()) {
    switch (state_) {
      case kFinWait1:
        set_state(kFinWait2);
        if (app_closed_) fw2_deadline_ = now + cfg_.fin_wait2_us;
        break;
      case kClosing: enter_time_wait(now); return false;
      case kLastAck: enter_closed(CloseReason::kNormal); return false;
      default: break;
    }
  }
  return true;
}

// RFC 9293 3.10.7.4 fifth: the send window follows the newest segment,
// among those whose ACK is not old ("If SND.UNA =< SEG.ACK =< SND.NXT").
void Connection::update_window(const Segment& seg, uint64_t now) {
  if (seq_lt(seg.ack, snd_una_)) return;
  if (seq_lt(snd_wl1_, seg.seq) || (snd_wl1_ == seg.seq && seq_le(snd_wl2_, seg.ack))) {
    snd_wnd_ = static_cast<uint32_t>(seg.wnd) << snd_wscale_;
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    // The window opened enough to send (a segment, or all that waits):
    // persist ends. A window still too small keeps the persist timer, whose
    // expiry sends what fits (RFC 1122 4.2.3.4's override).
    uint64_t unsent = snd_.allocated() && snd_.end() > snd_pos(snd_max_) ? snd_.end() - snd_pos(snd_max_) : 0;
    if (snd_wnd_ != 0 && persist_deadline_ != 0 && (snd_wnd_ >= mss_ || snd_wnd_ >= unsent)) {
      persist_deadline_ = 0;
      persist_backoff_ = 0;
      probe_due_ = false;
      if (snd_una_ != snd_max_ && rto_deadline_ == 0) arm_rto(now);
    }
  }
}

// Seventh, process the segment text (ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2):
// `data` starts at `seq` >= RCV.NXT and fits the window and the ring.
void Connection::process_text(uint32_t seq, const uint8_t* data, uint32_t dlen, uint64_t now) {
  if (seq == rcv_nxt_) {
    rcv_.append(data, dlen);
    rcv_nxt_ += dlen;
    bytes_in_ += dlen;
    if (dlen > rcv_mss_) rcv_mss_ = dlen;
    if (!ooo_.empty()) {
      // A hole filled: take what was waiting past it, and ACK at once
      // (RFC 5681 4.2: "an immediate ACK ... when the segment fills in all
      // or part of a gap").
      uint64_t end = ooo_.pop_through(rcv_.end());
      uint64_t more = end - rcv_.end();
      rcv_.advance_end(static_cast<size_t>(more));
      rcv_nxt_ += static_cast<uint32_t>(more);
      bytes_in_ += more;
      ack_now_ = true;
    }
    if (ooo_fin_ && ooo_fin_pos_ == rcv_.end()) {
      ooo_fin_ = false;
      process_fin(now);
    }
    // Delayed ACK (RFC 1122 4.2.3.2, RFC 5681 4.2): every second
    // full-sized segment at once, else within delack_us.
    if (dlen >= rcv_mss_ && ++unacked_full_ >= 2) ack_now_ = true;
    if (!ack_now_ && delack_deadline_ == 0) delack_deadline_ = now + cfg_.delack_us;
    events_ |= event::kReadable;
    return;
  }
  // Out of order: keep it in the ring at its place, ACK at once (the
  // duplicate ACK the sender's fast retransmit counts, with SACK blocks).
  uint64_t pos = rcv_.end() + static_cast<uint64_t>(seq_diff(seq, rcv_nxt_));
  ack_now_ = true;
  if (!ooo_.add(pos, pos + dlen)) {
    count(&LcoreCounters::tcp_ooo_dropped);
    return;
  }
  rcv_.write_at(pos, data, dlen);
  count(&LcoreCounters::tcp_ooo_segs);
}

// Eighth, the FIN bit (in order): RCV.NXT over it, ACK it, tell the application.
void Connection::process_fin(uint64_t now) {
  rcv_nxt_ += 1;
  fin_received_ = true;
  ack_now_ = true;
  events_ |= event::kPeerClosed | event::kReadable;
  switch (state_) {
    case kSynReceived:
    case kEstablished: set_state(kCloseWait); break;
    case kFinWait1:
      if (fin_acked()) enter_time_wait(now);
      else set_state(kClosing);
      break;
    case kFinWait2: enter_time_wait(now); break;
    case kTimeWait: tw_deadline_ = now + cfg_.time_wait_us; break;
    default: break;
  }
}

bool Connection::time_wait_accepts_syn(const Segment& syn) const {
  if (state_ != kTimeWait) return false;
  if (ts_ok_ && syn.opts.has_timestamps) return seq_gt(syn.opts.ts_val, ts_recent_);
  return seq_gt(syn.seq, rcv_nxt_);
}

// ---- timers --------------------------------------------------------------------------

uint64_t Connection::next_deadline() const {
  uint64_t d = 0;
  for (uint64_t t : {rto_deadline_, pto_deadline_, delack_deadline_, persist_deadline_, tw_deadline_, fw2_deadline_})
    if (t != 0 && (d == 0 || t < d)) d = t;
  return d;
}

void Connection::on_timer(uint64_t now) {
  if (tw_deadline_ != 0 && now >= tw_deadline_) {
    tw_deadline_ = 0;
    enter_closed(CloseReason::kNormal);
    return;
  }
  if (fw2_deadline_ != 0 && now >= fw2_deadline_) {
    fw2_deadline_ = 0;
    if (state_ == kFinWait2) {
      enter_closed(CloseReason::kTimeout);
      return;
    }
  }
  if (delack_deadline_ != 0 && now >= delack_deadline_) {
    delack_deadline_ = 0;
    ack_now_ = true;
  }
  if (persist_deadline_ != 0 && now >= persist_deadline_) {
    probe_due_ = true;
    ++persist_backoff_;
    uint64_t wait = std::min(rtt_.rto() << std::min(persist_backoff_, 16u), cfg_.rto_max_us);
    persist_deadline_ = now + std::max(wait, cfg_.rto_min_us);
  }
  if (pto_deadline_ != 0 && now >= pto_deadline_) {
    // RFC 8985 7.3: the probe timeout. One probe per episode, never in recovery.
    pto_deadline_ = 0;
    if (!in_recovery_ && snd_una_ != snd_max_ && !tlp_done_) {
      tlp_due_ = true;
      tlp_done_ = true;
    }
  }
  if (rto_deadline_ != 0 && now >= rto_deadline_) rto_expired(now);
}

// RFC 8985 7.2: after data goes out, a probe timeout of 2 SRTT (plus the
// worst-case delayed ACK when one segment is out), earlier than the RTO.
void Connection::arm_pto(uint64_t now) {
  pto_deadline_ = 0;
  // Not in loss recovery (RFC 8985 7.2): fast recovery, or after an RTO
  // until what was sent before it is acknowledged (RFC 6582 4's recover).
  if (in_recovery_ || tlp_done_ || seq_lt(snd_una_, recover_) || !rtt_.has_sample() || snd_una_ == snd_max_) return;
  if (!in_state(kEstablished | kCloseWait | kFinWait1 | kClosing | kLastAck)) return;
  uint64_t pto = 2 * rtt_.srtt();
  if (flight() <= mss_) pto += kWorstDelayedAckUs;
  pto = std::max<uint64_t>(pto, kMinPtoUs);
  if (rto_deadline_ != 0 && now + pto >= rto_deadline_) return;
  pto_deadline_ = now + pto;
}

bool Connection::new_data_sendable() const {
  if (!snd_.allocated()) return false;
  uint64_t pos = snd_pos(snd_max_);
  if (pos >= snd_.end()) return false;
  uint32_t wnd = std::min(snd_wnd_, cc_->cwnd());
  return wnd > flight() + mss_ - 1 || wnd >= flight() + (snd_.end() - pos);
}

void Connection::rto_expired(uint64_t now) {
  rto_deadline_ = 0;
  count(&LcoreCounters::tcp_rto_timeouts);
  if (in_state(kSynSent | kSynReceived)) {
    if (retries_ >= cfg_.syn_retries) {
      count(&LcoreCounters::tcp_retry_aborts);
      if (state_ == kSynReceived && passive_) app_closed_ = true;  // never accepted
      enter_closed(CloseReason::kTimeout);
      return;
    }
    ++retries_;
    syn_timed_out_ = true;
    rtt_.backoff();
    rtt_timing_ = false;
    syn_due_ = true;
    snd_nxt_ = iss_;
    return;
  }
  if (snd_una_ == snd_max_) return;  // nothing outstanding
  if (retries_ >= cfg_.max_retries) {
    count(&LcoreCounters::tcp_retry_aborts);
    enter_closed(CloseReason::kTimeout);
    return;
  }
  ++retries_;
  // RFC 5681 3.1 eq. 4 and the loss window; RFC 6582 4: recover = the
  // highest sequence sent, so that the duplicate ACKs of the go-back-N
  // retransmission start no new fast retransmit. RFC 6298 5.5-5.6: back
  // off, restart the timer, resend from the oldest unacknowledged byte.
  cc_->on_rto(flight());
  in_recovery_ = false;
  dupacks_ = 0;
  recover_ = snd_max_;
  rtt_.backoff();
  rtt_timing_ = false;
  rexmit_one_ = false;
  tlp_due_ = false;
  pto_deadline_ = 0;
  snd_nxt_ = snd_una_;
  (void)now;
}

// ---- output ----------------------------------------------------------------------------

uint32_t Connection::rcv_space() const {
  if (!rcv_.allocated()) return 0;
  size_t free = rcv_.free_space();
  return free > rcv_slack_ ? static_cast<uint32_t>(free - rcv_slack_) : 0;
}

// The window field (RFC 7323 2.3: scaled), never moving the right edge
// back (RFC 9293 3.8.6: the window must not shrink), and moving it forward
// only by worthwhile steps (RFC 1122 4.2.3.3: receiver SWS avoidance).
uint16_t Connection::window_field() {
  uint32_t space = rcv_space();
  uint32_t step = std::min<uint32_t>(static_cast<uint32_t>(rcv_.capacity() / 2), rcv_mss_);
  uint32_t edge = rcv_nxt_ + space;
  if (seq_lt(edge, rcv_adv_ + step)) edge = seq_max(rcv_adv_, rcv_nxt_);  // not worth moving (or would go back)
  uint32_t wnd = static_cast<uint32_t>(seq_diff(edge, rcv_nxt_));
  // Rounded up, so that the edge never goes back; the window may then
  // exceed the free memory by less than one unit (incoming data is
  // trimmed to the memory: RFC 7323 2.4).
  uint32_t field = (wnd + ((1u << rcv_wscale_) - 1)) >> rcv_wscale_;
  if (field > 0xffff) field = 0xffff;
  uint32_t adv = rcv_nxt_ + (field << rcv_wscale_);
  if (seq_gt(adv, rcv_adv_)) rcv_adv_ = adv;
  return static_cast<uint16_t>(field);
}

bool Connection::window_update_due() const {
  if (!rcv_.allocated() || !in_state(kEstablished | kFinWait1 | kFinWait2)) return false;
  uint32_t adv = seq_gt(rcv_adv_, rcv_nxt_) ? static_cast<uint32_t>(seq_diff(rcv_adv_, rcv_nxt_)) : 0;
  // No more than the window field can say (RFC 7323 2.3: 16 bits of
  // 2^rcv_wscale units): without window scaling, a buffer above 64 KiB
  // would otherwise make every poll() another "window update".
  uint32_t space = std::min<uint32_t>(rcv_space(), 0xffffu << rcv_wscale_);
  if (space <= adv) return false;
  uint32_t grow = space - adv;
  // RFC 1122 4.2.3.3: worth telling when it grows by min(half the buffer, 2 MSS),
  // or when what the peer knows is less than a segment.
  return grow >= std::min<uint32_t>(static_cast<uint32_t>(rcv_.capacity() / 2), 2 * rcv_mss_) ||
         (adv < rcv_mss_ && grow >= rcv_mss_);
}

void Connection::fill_common(OutSegment& out, uint64_t now, uint32_t payload) {
  out.ack = rcv_nxt_;
  out.wnd = window_field();
  out.opts = {};
  if (ts_ok_) {
    out.opts.has_timestamps = true;
    out.opts.ts_val = ts_now(now);
    out.opts.ts_ecr = ts_recent_;
  }
  if (sack_ok_ && !ooo_.empty()) {
    // RFC 2018 4: the first block holds the most recent segment; then the others.
    size_t first = ooo_.latest();
    uint8_t n = 0;
    auto block = [&](size_t i) {
      const auto& r = ooo_[i];
      out.opts.sack[n++] = {rcv_nxt_ + static_cast<uint32_t>(r.start - rcv_.end()),
                            rcv_nxt_ + static_cast<uint32_t>(r.end - rcv_.end())};
    };
    // The blocks must fit beside the payload: mss_ is what a segment carries
    // with timestamps; SACK takes 4 + 8 bytes a block out of it.
    uint32_t room = payload < mss_ ? mss_ - payload : 0;
    size_t most = room >= 12 ? (room - 4) / 8 : 0;
    most = std::min<size_t>(most, ts_ok_ ? 3 : wire::TcpOptions::kMaxSackBlocks);
    if (most != 0) block(first);
    for (size_t i = 0; i < ooo_.size() && n < most; ++i)
      if (i != first) block(i);
    out.opts.n_sack = n;
  }
  last_ack_sent_ = rcv_nxt_;
  ack_now_ = false;
  unacked_full_ = 0;
  delack_deadline_ = 0;
}

bool Connection::poll(uint64_t now, OutSegment& out) {
  out = OutSegment{};
  if (rst_due_) {
    rst_due_ = false;
    out.seq = rst_seq_;
    out.ack = rst_ack_;
    out.flags = rst_flags_;
    return true;
  }
  if (state_ == kClosed || state_ == kListen) return false;

  // SYN or SYN-ACK (first sending, or again after a timeout / duplicate SYN).
  if (syn_due_ && in_state(kSynSent | kSynReceived)) {
    syn_due_ = false;
    out.seq = iss_;
    out.flags = kSyn;
    out.opts.syn = true;
    out.opts.has_mss = true;
    out.opts.mss = cfg_.mss;
    bool active = state_ == kSynSent;
    if (active ? cfg_.window_scaling : ws_ok_) {
      out.opts.has_wscale = true;
      out.opts.wscale = rcv_wscale_;
    }
    if (active ? cfg_.sack : sack_ok_) out.opts.sack_permitted = true;
    if (active ? cfg_.timestamps : ts_ok_) {
      out.opts.has_timestamps = true;
      out.opts.ts_val = ts_now(now);
      out.opts.ts_ecr = active ? 0 : ts_recent_;
    }
    if (!active) {
      out.flags |= kAck;
      out.ack = rcv_nxt_;
      // RFC 7323 2.2: the window of a SYN is not scaled.
      uint32_t w = std::min<uint32_t>(rcv_space(), 0xffff);
      out.wnd = static_cast<uint16_t>(w);
      rcv_adv_ = rcv_nxt_ + w;
      last_ack_sent_ = rcv_nxt_;
      ack_now_ = false;
    } else {
      out.wnd = static_cast<uint16_t>(std::min<uint32_t>(rcv_space(), 0xffff));
    }
    out.retransmit = retries_ != 0;
    snd_nxt_ = iss_ + 1;
    if (seq_gt(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
    if (!out.retransmit) {
      rtt_timing_ = true;
      rtt_seq_ = snd_nxt_;
      rtt_start_ = now;
    }
    arm_rto(now);
    ++segs_out_;
    if (out.retransmit) ++retransmits_;
    return true;
  }
  if (state_ == kSynSent) return false;  // nothing to acknowledge yet
  if (in_state(kSynReceived | kTimeWait)) {
    // An ACK in SYN-RECEIVED (challenge, unacceptable segment) or TIME-WAIT.
    if (!ack_now_) return false;
    out.seq = snd_max_;
    out.flags = kAck;
    fill_common(out, now);
    ++segs_out_;
    return true;
  }

  // Synchronized states with our data or FIN possibly outstanding.
  const uint64_t data_end = snd_.end();
  const bool fin_pending = fin_queued_;

  auto build = [&](uint32_t seq, uint32_t len, bool fin, bool retransmit) {
    out.seq = seq;
    out.flags = kAck;
    if (len != 0) {
      out.data_pos = snd_pos(seq);
      out.len = len;
      if (out.data_pos + len == data_end) out.flags |= kPsh;
    }
    if (fin) out.flags |= kFin;
    out.retransmit = retransmit;
    fill_common(out, now, len);
    ++segs_out_;
    if (retransmit) ++retransmits_;
  };

  // A fast retransmission (or NewReno's partial-ACK retransmission): one
  // segment from SND.UNA, the timer left as it is.
  if (rexmit_one_ && snd_una_ != snd_max_ && snd_.allocated()) {
    rexmit_one_ = false;
    uint64_t pos = snd_.start();
    uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(mss_, data_end - pos));
    bool fin = fin_sent_ && pos + len == data_end && seq_gt(snd_max_, fin_seq());
    if (len == 0 && !fin) {
      // Only the FIN is outstanding.
      fin = fin_sent_;
    }
    if (len != 0 || fin) {
      build(snd_una_, len, fin, true);
      rtt_timing_ = false;
      if (rto_deadline_ == 0) arm_rto(now);
      return true;
    }
  }
  rexmit_one_ = false;

  // A tail loss probe (RFC 8985 7.3): new data if the receiver's window
  // lets it go (cwnd notwithstanding), else the last segment again; the
  // ACK it draws shows what was lost. Then the RTO, not the PTO, is armed.
  if (tlp_due_) {
    tlp_due_ = false;
    if (snd_.allocated() && snd_nxt_ == snd_max_) {
      count(&LcoreCounters::tcp_tlp_probes);
      uint64_t pos = snd_pos(snd_nxt_);
      uint32_t fl = in_flight_from_nxt();
      uint64_t avail = pos < data_end ? data_end - pos : 0;
      uint32_t room = snd_wnd_ > fl ? snd_wnd_ - fl : 0;
      uint32_t len = static_cast<uint32_t>(std::min<uint64_t>({avail, mss_, room}));
      if (len != 0) {
        bool fin = fin_pending && pos + len == data_end;
        build(snd_nxt_, len, fin, false);
        snd_nxt_ += len + (fin ? 1 : 0);
        if (fin) fin_sent_ = true;
        snd_max_ = snd_nxt_;
      } else {
        bool fin = fin_sent_ && seq_gt(snd_max_, fin_seq());
        uint32_t end = fin ? fin_seq() : snd_max_;
        uint32_t dlen = std::min<uint32_t>(mss_, static_cast<uint32_t>(seq_diff(end, snd_una_data())));
        if (seq_lt(end - dlen, snd_una_)) dlen = static_cast<uint32_t>(seq_diff(end, snd_una_));
        build(end - dlen, dlen, fin, true);
        rtt_timing_ = false;
      }
      arm_rto(now);
      return true;
    }
  }

  // The persist timer ran out: with a zero window, a probe of one byte
  // past it (RFC 9293 3.8.6.1); with a window too small for the sender SWS
  // rule, what fits goes anyway (RFC 1122 4.2.3.4's override timeout).
  bool force = false;
  if (probe_due_) {
    probe_due_ = false;
    if (snd_wnd_ != 0) {
      force = true;
    } else if (snd_.allocated() && data_end > snd_.start()) {
      // RFC 9293 3.8.6.1 allows "new data, or retransmit": we send an
      // empty segment one below SND.UNA (what Linux sends). The peer cannot
      // take it and answers with an ACK carrying its window; nothing of
      // ours moves past its window, so its ACKs stay acceptable to it.
      count(&LcoreCounters::tcp_persist_probes);
      build(snd_una_ - 1, 0, false, false);
      return true;
    }
  }

  // New data (or data again after an RTO: go-back-N from SND.NXT), and the FIN.
  if (snd_.allocated() && in_state(kEstablished | kCloseWait | kFinWait1 | kClosing | kLastAck)) {
    uint64_t pos = snd_pos(snd_nxt_);
    uint64_t avail = pos < data_end ? data_end - pos : 0;
    // RFC 3042 limited transmit: the first two duplicate ACKs each let one
    // new segment out beyond cwnd (the receiver's window permitting).
    uint32_t cwnd = cc_->cwnd();
    if (!in_recovery_ && dupacks_ > 0 && dupacks_ < 3) cwnd += dupacks_ * uint32_t{mss_};
    uint32_t wnd = std::min(snd_wnd_, cwnd);
    uint32_t fl = in_flight_from_nxt();
    uint32_t usable = wnd > fl ? wnd - fl : 0;
    uint32_t len = static_cast<uint32_t>(std::min<uint64_t>({avail, mss_, usable}));
    // The FIN goes with (or after) the last byte, once, or again after an RTO.
    bool fin_here = fin_pending && pos + len == data_end;
    bool send = false;
    if (len != 0) {
      if (len == mss_ || force) send = true;                          // a full segment
      else if (pos + len == data_end && (cfg_.nodelay || fl == 0 || fin_here)) send = true;  // Nagle (RFC 896)
      else if (max_snd_wnd_ != 0 && len >= max_snd_wnd_ / 2 && (cfg_.nodelay || fl == 0)) send = true;  // RFC 1122 4.2.3.4
      else if (seq_lt(snd_nxt_, snd_max_)) send = true;               // resending what was sent before
    } else if (fin_here && (avail == 0)) {
      send = true;
    }
    if (send) {
      bool retransmit = seq_lt(snd_nxt_, snd_max_);
      build(snd_nxt_, len, fin_here, retransmit);
      snd_nxt_ += len + (fin_here ? 1 : 0);
      if (fin_here) fin_sent_ = true;
      if (seq_gt(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
      if (!retransmit && len != 0 && !rtt_timing_) {
        rtt_timing_ = true;
        rtt_seq_ = snd_nxt_;
        rtt_start_ = now;
      }
      if (retransmit) rtt_timing_ = false;  // Karn
      if (rto_deadline_ == 0) arm_rto(now);
      if (pto_deadline_ == 0) arm_pto(now);
      persist_deadline_ = 0;
      return true;
    }
    // Data waiting, and the window (zero, or too small to be worth it)
    // holds it back, with nothing in flight or nothing the RTO may resend
    // (it went off into a zero window): persist, so that a lost window
    // update cannot stall the connection (RFC 9293 3.8.6.1).
    if (avail != 0 && (snd_una_ == snd_max_ || rto_deadline_ == 0) && persist_deadline_ == 0) {
      persist_deadline_ = now + std::max(rtt_.rto(), cfg_.rto_min_us);
      persist_backoff_ = 0;
    }
  }

  // A pure ACK: owed (immediate or delayed timer run out) or a window update.
  if (ack_now_ || window_update_due()) {
    // SND.NXT in RFC 9293's sense is the highest we sent (our snd_nxt may
    // be back at SND.UNA for a go-back-N resend): the peer must not find
    // our ACKs below its RCV.NXT.
    out.seq = snd_max_;
    out.flags = kAck;
    fill_common(out, now);
    ++segs_out_;
    return true;
  }
  return false;
}

// ---- application ---------------------------------------------------------------------

size_t Connection::send(const void* data, size_t len) {
  if (!can_send() || !snd_.allocated()) return 0;
  size_t n = snd_.append(data, len);
  // The writable event comes once a quarter of the buffer is free again,
  // for a sender that filled it (or nearly: it may have asked for only
  // what send_space() said fits).
  if (n < len || snd_.free_space() < snd_.capacity() / 4) want_writable_ = true;
  return n;
}

size_t Connection::recv(void* out, size_t len) {
  if (!rcv_.allocated()) return 0;
  size_t n = rcv_.copy_out(rcv_.start(), out, len);
  consume(n);
  return n;
}

void Connection::consume(size_t n) {
  if (!rcv_.allocated()) return;
  rcv_.consume(n);
  if (state_ == kTimeWait && rcv_.size() == 0) rcv_.release();
}

void Connection::shutdown_write() {
  switch (state_) {
    case kSynSent:
      // RFC 9293 3.10.4: CLOSE in SYN-SENT deletes the TCB.
      enter_closed(CloseReason::kNormal);
      return;
    case kSynReceived:
    case kEstablished:
      // FIN after the queued data; FIN-WAIT-1 (from SYN-RECEIVED once
      // established: we queue the FIN and it leaves after the handshake).
      if (!fin_queued_) {
        fin_queued_ = true;
        if (state_ == kEstablished) set_state(kFinWait1);
      }
      return;
    case kCloseWait:
      if (!fin_queued_) {
        fin_queued_ = true;
        set_state(kLastAck);
      }
      return;
    default: return;
  }
}

void Connection::close(uint64_t now) {
  if (app_closed_) return;
  if (rcv_.allocated() && rcv_.size() != 0 && in_state(kSynReceived | kEstablished | kFinWait1 | kFinWait2 | kCloseWait)) {
    // RFC 2525 2.17 / RFC 1122 4.2.2.13: unread data is lost: reset, so
    // the peer knows.
    abort();
    return;
  }
  app_closed_ = true;
  shutdown_write();
  if (state_ == kFinWait2 && fw2_deadline_ == 0) fw2_deadline_ = now + cfg_.fin_wait2_us;
}

void Connection::abort() {
  if (in_state(kSynReceived | kEstablished | kFinWait1 | kFinWait2 | kCloseWait)) {
    rst_due_ = true;
    rst_seq_ = snd_max_;
    rst_ack_ = rcv_nxt_;
    rst_flags_ = kRst | kAck;
  }
  app_closed_ = true;
  if (state_ != kClosed) enter_closed(CloseReason::kAborted);
}

void Connection::on_path_mtu(uint16_t mtu) {
  if (mtu < 68 || !cc_) return;
  uint32_t m = mtu - 40u;
  if (ts_ok_) m -= std::min(m - 1, kTsOptionLen);
  m = std::max<uint32_t>(m, 64);
  if (m >= mss_) return;
  mss_ = static_cast<uint16_t>(m);
  cc_->set_mss(m);
  if (snd_una_ != snd_max_ && in_state(kSynchronized)) {
    snd_nxt_ = snd_una_;  // resend from the oldest byte, in segments that fit
    rtt_timing_ = false;
  }
}

ConnectionInfo Connection::info(uint64_t now) const {
  (void)now;
  ConnectionInfo i;
  i.tuple = tuple_;
  i.state = state_;
  i.iss = iss_;
  i.irs = irs_;
  i.snd_una = snd_una_;
  i.snd_nxt = snd_nxt_;
  i.snd_max = snd_max_;
  i.rcv_nxt = rcv_nxt_;
  i.snd_wnd = snd_wnd_;
  i.rcv_wnd = seq_gt(rcv_adv_, rcv_nxt_) ? static_cast<uint32_t>(seq_diff(rcv_adv_, rcv_nxt_)) : 0;
  i.snd_wscale = snd_wscale_;
  i.rcv_wscale = rcv_wscale_;
  i.wscale_ok = ws_ok_;
  i.ts_ok = ts_ok_;
  i.sack_ok = sack_ok_;
  i.mss = mss_;
  i.peer_mss = peer_mss_;
  i.cwnd = cc_ ? cc_->cwnd() : 0;
  i.ssthresh = cc_ ? cc_->ssthresh() : 0;
  i.srtt_us = rtt_.srtt();
  i.rttvar_us = rtt_.rttvar();
  i.rto_us = rtt_.rto();
  i.retransmits = retransmits_;
  i.retries = retries_;
  i.bytes_in = bytes_in_;
  i.bytes_out = bytes_out_;
  i.segs_in = segs_in_;
  i.segs_out = segs_out_;
  i.snd_queued = snd_.allocated() ? snd_.size() : 0;
  i.rcv_queued = rcv_.allocated() ? rcv_.size() : 0;
  i.ooo_bytes = ooo_.bytes();
  i.in_recovery = in_recovery_;
  i.persist = persist_deadline_ != 0;
  return i;
}

}  // namespace dpdkstack::tcp
