// The sans-I/O TCP connection (lib/tcp/connection.hpp) driven segment by
// segment: hand-built segments in (on_segment), every segment out checked
// field by field (poll), time passed in microseconds. One fixture per state,
// one test per RFC 9293 3.10.7 rule (and RFC 5961, 7323, 2018, 6298, 5681,
// 6582, 1122, 896 where the connection follows them), named
// <State>_<event>_<outcome>.
//
// Conventions: our ISS is kIss, the peer's is kIrs; snd(n) is the sequence
// number of our stream byte n (ISS+1+n) and rcv(n) the peer's (IRS+1+n).
// The peer's payload is peer_stream_ at the segment's stream offset, ours
// our_stream_, so every delivered or sent byte is checked by position.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "core/counters.hpp"
#include "tcp/connection.hpp"
#include "tcp_test_util.hpp"

namespace dpdkstack::tcp {
namespace {

using namespace wire::tcpflag;

constexpr uint32_t kIss = 1000;
constexpr uint32_t kIrs = 5000;
constexpr uint16_t kPeerWnd = 65535;
constexpr uint16_t kOurWnd = 32768;  // rcv_buf below, unscaled
constexpr uint64_t kT0 = 10'000'000;  // 10 s: "now" when a test starts
constexpr uint64_t kRtt = 10'000;     // the handshake's round trip
constexpr uint64_t kDelAck = 40'000;
constexpr uint64_t kRtoMin = 200'000;
constexpr uint64_t kMsl2 = 60'000'000;
const Tuple kTuple{Ipv4Addr::from_octets(10, 0, 0, 1), 80, Ipv4Addr::from_octets(10, 0, 0, 2), 40000};

Settings test_settings() {
  Settings s;
  s.mss = 1460;
  s.snd_buf = 65536;
  s.rcv_buf = 32768;
  return s;
}

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}
// The two streams, made once (4 MiB each).
const std::vector<uint8_t>& peer_pattern() {
  static const std::vector<uint8_t> v = pattern(4 << 20, 0x5eed);
  return v;
}
const std::vector<uint8_t>& our_pattern() {
  static const std::vector<uint8_t> v = pattern(4 << 20, 0xbeef);
  return v;
}

class TcpConnTest : public ::testing::Test {
 protected:
  TcpConnTest() {
    peer_syn_opts_.has_mss = true;
    peer_syn_opts_.mss = 1460;
    peer_syn_opts_.sack_permitted = true;
  }

  uint32_t snd(uint64_t off) const { return iss_ + 1 + static_cast<uint32_t>(off); }
  uint32_t rcv(uint64_t off) const { return irs_ + 1 + static_cast<uint32_t>(off); }

  // A segment from the peer; its payload is the peer's stream at its place.
  Segment seg(uint32_t seq, uint32_t ack, uint8_t flags, uint32_t len = 0, uint16_t wnd = kPeerWnd) {
    Segment s;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.wnd = wnd;
    s.opts = peer_opts_;
    s.len = len;
    if (len != 0) {
      uint32_t off = seq - rcv(0);
      if (uint64_t{off} + len > peer_stream_.size()) off = 0;  // outside the stream: any bytes do
      s.data = peer_stream_.data() + off;
    }
    return s;
  }
  // Peer data at stream offset `off`, acknowledging everything we sent.
  Segment data(uint64_t off, uint32_t len, uint8_t extra = 0) {
    return seg(rcv(off), snd_max(), kAck | extra, len);
  }
  Segment ack_of(uint32_t ack, uint16_t wnd = kPeerWnd, uint64_t peer_off = 0) {
    return seg(rcv(peer_off), ack, kAck, 0, wnd);
  }
  uint32_t snd_max() const { return c_.info(now_).snd_max; }

  void in(const Segment& s) { c_.on_segment(s, now_); }

  std::optional<OutSegment> poll() {
    OutSegment o;
    if (!c_.poll(now_, o)) return std::nullopt;
    return o;
  }
  OutSegment expect_out(const char* file, int line, std::initializer_list<SegCheck> checks) {
    auto o = poll();
    if (!o) {
      ADD_FAILURE_AT(file, line) << "nothing sent, want a segment";
      return OutSegment{};
    }
    expect_seg(file, line, *o, checks);
    return *o;
  }
  void expect_quiet(const char* file, int line) {
    if (auto o = poll()) ADD_FAILURE_AT(file, line) << "sent " << describe(*o) << ", want nothing";
  }
  std::vector<OutSegment> drain() {
    std::vector<OutSegment> v;
    for (int i = 0; i < 10000; ++i) {
      auto o = poll();
      if (!o) break;
      v.push_back(*o);
    }
    return v;
  }
#define EXPECT_OUT(...) expect_out(__FILE__, __LINE__, {__VA_ARGS__})
#define EXPECT_QUIET() expect_quiet(__FILE__, __LINE__)

  // Checks that the segment carries our stream from offset `off`.
  SegCheck DataAt(uint64_t off) {
    return [this, off](const OutSegment& s) -> std::string {
      if (s.data_pos != off) return got_want("data_pos", s.data_pos, off);
      std::vector<uint8_t> got(s.len);
      c_.copy_payload(s, got.data());
      if (!std::equal(got.begin(), got.end(), our_stream_.begin() + static_cast<long>(off)))
        return "payload differs from our stream at " + std::to_string(off);
      return "";
    };
  }

  // Queues the next n bytes of our stream; returns what the connection took.
  size_t send(size_t n) {
    size_t k = c_.send(our_stream_.data() + sent_, n);
    sent_ += k;
    return k;
  }
  // Reads everything readable and checks it against the peer's stream.
  size_t read_all() { return read(SIZE_MAX); }
  size_t read(size_t max) {
    std::vector<uint8_t> buf(std::min<size_t>(max, 1 << 20));
    size_t n = c_.recv(buf.data(), buf.size());
    EXPECT_TRUE(std::equal(buf.begin(), buf.begin() + static_cast<long>(n),
                           peer_stream_.begin() + static_cast<long>(read_)))
        << "received bytes differ from the peer's stream at " << read_;
    read_ += n;
    return n;
  }

  // Jumps to the earliest armed timer and runs it.
  uint64_t run_timer() {
    uint64_t d = c_.next_deadline();
    EXPECT_NE(d, 0u) << "no timer armed";
    if (d == 0) return 0;
    now_ = std::max(now_, d);
    c_.on_timer(now_);
    return d;
  }

  Segment peer_syn() {
    Segment s = seg(irs_, 0, kSyn, 0, kPeerWnd);
    s.opts = peer_syn_opts_;
    return s;
  }
  Segment peer_syn_ack() {
    Segment s = seg(irs_, snd(0), kSyn | kAck, 0, kPeerWnd);
    s.opts = peer_syn_opts_;
    return s;
  }

  // CLOSED -> SYN-SENT: the SYN out.
  void open_active() {
    ASSERT_TRUE(c_.open_active(kTuple, cfg_, iss_, now_, &mib_));
    EXPECT_OUT(Seq(iss_), Flags(kSyn));
  }
  // CLOSED -> SYN-SENT -> ESTABLISHED with a kRtt round trip.
  void establish() {
    open_active();
    now_ += kRtt;
    in(peer_syn_ack());
    EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck));
    ASSERT_EQ(c_.state(), kEstablished);
    c_.take_events();
  }
  // The peer sends full segments until our window is closed; every ACK is
  // drained. The last ACK must announce a zero window.
  void fill_receive_window(uint32_t bytes) {
    uint64_t off = 0;
    while (off < bytes) {
      uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(1460, bytes - off));
      in(data(off, n));
      off += n;
      drain();
    }
    now_ += kDelAck;
    c_.on_timer(now_);
    drain();
  }

  Settings cfg_ = test_settings();
  Connection c_;
  LcoreCounters mib_{};
  uint64_t now_ = kT0;
  uint32_t iss_ = kIss, irs_ = kIrs;
  wire::TcpOptions peer_syn_opts_{};
  wire::TcpOptions peer_opts_{};  // on every later segment of the peer
  const std::vector<uint8_t>& peer_stream_ = peer_pattern();
  const std::vector<uint8_t>& our_stream_ = our_pattern();
  size_t sent_ = 0, read_ = 0;
};

// ---- CLOSED: active open, and what the options negotiate -------------------------------------

class TcpClosed : public TcpConnTest {};

TEST_F(TcpClosed, Closed_OpenActive_SendsSynWithOptions) {
  ASSERT_TRUE(c_.open_active(kTuple, cfg_, iss_, now_, &mib_));
  EXPECT_EQ(c_.state(), kSynSent);
  EXPECT_EQ(mib_.tcp_active_opens, 1u);
  auto s = EXPECT_OUT(Seq(kIss), Ack(0), Flags(kSyn), Wnd(kOurWnd), Len(0), Mss(1460), WScale(0),
                      SackPermitted(true), Ts(static_cast<uint32_t>(kT0 / 1000) + kIss, 0));
  EXPECT_TRUE(s.opts.syn);
  EXPECT_FALSE(s.retransmit);
  EXPECT_EQ(c_.next_deadline(), kT0 + 1'000'000);  // RFC 6298 2.1: RTO 1 s before any sample
  EXPECT_QUIET();
}

TEST_F(TcpClosed, Closed_Segment_Ignored) {
  in(seg(rcv(0), snd(0), kAck, 10));
  EXPECT_QUIET();
  EXPECT_EQ(c_.state(), kClosed);
}

TEST_F(TcpClosed, Options_PeerMss_UsedForOurSegments) {
  peer_syn_opts_.mss = 1000;
  establish();
  EXPECT_EQ(c_.info(now_).mss, 1000);
  send(3000);
  EXPECT_OUT(Seq(snd(0)), Len(1000));
  EXPECT_OUT(Seq(snd(1000)), Len(1000));
  EXPECT_OUT(Seq(snd(2000)), Len(1000), Flags(kAck | kPsh));
}

TEST_F(TcpClosed, Options_NoMssOption_Uses536) {
  peer_syn_opts_.has_mss = false;  // RFC 9293 3.7.1: 536 when the peer says nothing
  establish();
  EXPECT_EQ(c_.info(now_).peer_mss, 536);
  EXPECT_EQ(c_.info(now_).mss, 536);
  send(1000);
  EXPECT_OUT(Seq(snd(0)), Len(536));
}

TEST_F(TcpClosed, Options_PeerMssAboveOurs_OursUsed) {
  peer_syn_opts_.mss = 9000;
  establish();
  EXPECT_EQ(c_.info(now_).mss, 1460);
}

TEST_F(TcpClosed, Options_MssWithTimestamps_TwelveBytesLess) {
  peer_syn_opts_.has_timestamps = true;
  peer_syn_opts_.ts_val = 1;
  peer_opts_.has_timestamps = true;
  peer_opts_.ts_val = 2;
  establish();
  EXPECT_EQ(c_.info(now_).mss, 1448);  // RFC 6691: the options every segment carries are deducted
  send(2000);
  EXPECT_OUT(Seq(snd(0)), Len(1448));
}

TEST_F(TcpClosed, Options_WindowScale_BothOffer_Negotiated) {
  cfg_.rcv_buf = 1 << 20;  // needs a shift of 5 to be described
  peer_syn_opts_.has_wscale = true;
  peer_syn_opts_.wscale = 7;
  ASSERT_TRUE(c_.open_active(kTuple, cfg_, iss_, now_, &mib_));
  EXPECT_OUT(Seq(iss_), Flags(kSyn), WScale(5), Wnd(65535));  // RFC 7323 2.2: the SYN's window unscaled
  now_ += kRtt;
  Segment sa = peer_syn_ack();
  sa.wnd = 1000;
  in(sa);
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck), Wnd(32768), NoWScale());  // 2^20 >> 5
  auto i = c_.info(now_);
  EXPECT_TRUE(i.wscale_ok);
  EXPECT_EQ(i.snd_wscale, 7);
  EXPECT_EQ(i.rcv_wscale, 5);
  EXPECT_EQ(i.snd_wnd, 1000u);  // the SYN-ACK's window is not scaled
  in(ack_of(snd(0), 1000));
  EXPECT_EQ(c_.info(now_).snd_wnd, 128000u);  // later windows are
}

TEST_F(TcpClosed, Options_WindowScale_PeerDoesNotOffer_NeitherScales) {
  cfg_.rcv_buf = 1 << 20;
  ASSERT_TRUE(c_.open_active(kTuple, cfg_, iss_, now_, &mib_));
  EXPECT_OUT(Seq(iss_), Flags(kSyn), WScale(5));
  in(peer_syn_ack());
  EXPECT_OUT(Seq(snd(0)), Flags(kAck), Wnd(65535));  // 1 MiB free, but no shift: the field's maximum
  EXPECT_QUIET();  // and no "window update" that cannot say more
  in(data(0, 1460));
  in(data(1460, 1460));
  EXPECT_OUT(Ack(rcv(2920)), Wnd(65535));
  EXPECT_QUIET();
  read_all();
  EXPECT_QUIET();
  auto i = c_.info(now_);
  EXPECT_FALSE(i.wscale_ok);
  EXPECT_EQ(i.rcv_wscale, 0);
  EXPECT_EQ(i.snd_wscale, 0);
  in(ack_of(snd(0), 1000, 2920));
  EXPECT_EQ(c_.info(now_).snd_wnd, 1000u);
}

TEST_F(TcpClosed, Options_WindowScale_WeDoNotOffer_PeerOfferIgnored) {
  cfg_.rcv_buf = 1 << 20;
  cfg_.window_scaling = false;
  peer_syn_opts_.has_wscale = true;
  peer_syn_opts_.wscale = 7;
  ASSERT_TRUE(c_.open_active(kTuple, cfg_, iss_, now_, &mib_));
  EXPECT_OUT(Seq(iss_), Flags(kSyn), NoWScale());
  in(peer_syn_ack());
  EXPECT_OUT(Seq(snd(0)), Flags(kAck), Wnd(65535));
  EXPECT_QUIET();
  EXPECT_FALSE(c_.info(now_).wscale_ok);
  in(ack_of(snd(0), 1000));
  EXPECT_EQ(c_.info(now_).snd_wnd, 1000u);  // RFC 7323 1.3: both must offer it
}

TEST_F(TcpClosed, Listen_SynWithWindowScale_SynAckWindowNotScaled) {
  cfg_.rcv_buf = 1 << 20;
  peer_syn_opts_.has_wscale = true;
  peer_syn_opts_.wscale = 7;
  Segment syn = peer_syn();
  syn.wnd = 1000;
  ASSERT_TRUE(c_.open_passive(kTuple, cfg_, iss_, syn, now_, &mib_));
  EXPECT_OUT(Seq(iss_), Ack(rcv(0)), Flags(kSyn | kAck), WScale(5), Wnd(65535));  // RFC 7323 2.2
  EXPECT_EQ(c_.info(now_).snd_wnd, 1000u);  // the SYN's window is not scaled either
  in(ack_of(snd(0), 1000));
  EXPECT_EQ(c_.state(), kEstablished);
  EXPECT_EQ(c_.info(now_).snd_wnd, 128000u);
  // The SYN-ACK could offer 64 KiB at most; now the whole buffer is told, once.
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck), Wnd(32768));
  EXPECT_QUIET();
  in(data(0, 100));
  run_timer();
  EXPECT_OUT(Ack(rcv(100)), Wnd(static_cast<uint16_t>(((1 << 20) - 100 + 31) >> 5)));
}

TEST_F(TcpClosed, Listen_SynWithoutWindowScale_SynAckOffersNone) {
  cfg_.rcv_buf = 1 << 20;
  ASSERT_TRUE(c_.open_passive(kTuple, cfg_, iss_, peer_syn(), now_, &mib_));
  EXPECT_OUT(Flags(kSyn | kAck), NoWScale(), Wnd(65535));  // RFC 7323 1.3: only in answer to one
  in(ack_of(snd(0)));
  EXPECT_EQ(c_.state(), kEstablished);
  EXPECT_FALSE(c_.info(now_).wscale_ok);
  EXPECT_QUIET();
}

TEST_F(TcpClosed, Options_Timestamps_NegotiatedAndEchoed) {
  peer_syn_opts_.has_timestamps = true;
  peer_syn_opts_.ts_val = 777;
  ASSERT_TRUE(c_.open_active(kTuple, cfg_, iss_, now_, &mib_));
  EXPECT_OUT(Flags(kSyn), Ts(static_cast<uint32_t>(now_ / 1000) + iss_, 0));
  now_ += kRtt;
  in(peer_syn_ack());
  EXPECT_OUT(Flags(kAck), Ts(static_cast<uint32_t>(now_ / 1000) + iss_, 777));
  EXPECT_TRUE(c_.info(now_).ts_ok);
  peer_opts_.has_timestamps = true;
  peer_opts_.ts_val = 800;
  in(data(0, 1448));
  in(data(1448, 1448));
  EXPECT_OUT(Ack(rcv(2896)), TsEcr(800));
}

TEST_F(TcpClosed, Options_NoTimestampsFromPeer_NoneSent) {
  establish();
  EXPECT_FALSE(c_.info(now_).ts_ok);
  send(10);
  EXPECT_OUT(Len(10), NoTs());
}

TEST_F(TcpClosed, Options_WeDisableTimestamps_PeerTsIgnored) {
  cfg_.timestamps = false;
  peer_syn_opts_.has_timestamps = true;
  peer_syn_opts_.ts_val = 5;
  ASSERT_TRUE(c_.open_active(kTuple, cfg_, iss_, now_, &mib_));
  EXPECT_OUT(Flags(kSyn), NoTs());
  in(peer_syn_ack());
  EXPECT_OUT(Flags(kAck), NoTs());
  EXPECT_FALSE(c_.info(now_).ts_ok);
  EXPECT_EQ(c_.info(now_).mss, 1460);
}

TEST_F(TcpClosed, Options_SackNotPermitted_NoSackBlocks) {
  peer_syn_opts_.sack_permitted = false;
  establish();
  EXPECT_FALSE(c_.info(now_).sack_ok);
  in(data(1460, 1460));
  EXPECT_OUT(Ack(rcv(0)), NoSack());
}

TEST_F(TcpClosed, Options_SmallMssSetting_AnnouncedInSyn) {
  cfg_.mss = 1200;
  ASSERT_TRUE(c_.open_active(kTuple, cfg_, iss_, now_, &mib_));
  EXPECT_OUT(Flags(kSyn), Mss(1200));
  in(peer_syn_ack());
  EXPECT_EQ(c_.info(now_).mss, 1200);  // min(peer's 1460, ours)
}

// ---- SYN-SENT (RFC 9293 3.10.7.3) -----------------------------------------------------------

class TcpSynSent : public TcpConnTest {
 protected:
  void SetUp() override { open_active(); }
};

TEST_F(TcpSynSent, SynSent_SynAck_EstablishedAndAcks) {
  now_ += kRtt;
  in(peer_syn_ack());
  EXPECT_EQ(c_.state(), kEstablished);
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck), Wnd(kOurWnd), Len(0), NoTs(), NoSack());
  EXPECT_QUIET();
  uint8_t ev = c_.take_events();
  EXPECT_EQ(ev, event::kConnected | event::kWritable) << event_names(ev);
  auto i = c_.info(now_);
  EXPECT_EQ(i.irs, kIrs);
  EXPECT_EQ(i.snd_una, snd(0));
  EXPECT_EQ(i.rcv_nxt, rcv(0));
  EXPECT_EQ(i.snd_wnd, kPeerWnd);
  EXPECT_EQ(i.srtt_us, kRtt);  // the SYN's round trip is the first sample (RFC 6298 2.2)
  EXPECT_EQ(i.rttvar_us, kRtt / 2);
  EXPECT_EQ(i.rto_us, kRtoMin);
  EXPECT_EQ(i.cwnd, 14600u);  // RFC 6928: min(10 MSS, max(2 MSS, 14600))
  EXPECT_EQ(mib_.tcp_curr_estab, 1u);
  EXPECT_EQ(c_.next_deadline(), 0u);  // nothing outstanding, nothing owed
}

TEST_F(TcpSynSent, SynSent_AckBelowIss_SendsReset) {
  // "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset <SEQ=SEG.ACK><CTL=RST>".
  in(seg(kIrs, iss_, kAck));
  EXPECT_OUT(Seq(iss_), Ack(0), Flags(kRst), Len(0));
  EXPECT_QUIET();
  in(seg(kIrs, iss_ - 1000, kSyn | kAck));  // a SYN-ACK for someone else's SYN
  EXPECT_OUT(Seq(iss_ - 1000), Flags(kRst));
  EXPECT_EQ(c_.state(), kSynSent);
}

TEST_F(TcpSynSent, SynSent_AckAboveSndNxt_SendsReset) {
  in(seg(kIrs, snd(1), kSyn | kAck));
  EXPECT_OUT(Seq(snd(1)), Ack(0), Flags(kRst));
  EXPECT_EQ(c_.state(), kSynSent);
}

TEST_F(TcpSynSent, SynSent_BadAckWithRst_Ignored) {
  in(seg(kIrs, iss_, kRst | kAck));  // "unless the RST bit is set, if so drop the segment"
  EXPECT_QUIET();
  EXPECT_EQ(c_.state(), kSynSent);
}

TEST_F(TcpSynSent, SynSent_RstWithAcceptableAck_Refused) {
  in(seg(0, snd(0), kRst | kAck));
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kRefused);
  EXPECT_EQ(c_.take_events(), event::kClosed);
  EXPECT_QUIET();
  EXPECT_EQ(mib_.tcp_attempt_fails, 1u);
  EXPECT_EQ(c_.next_deadline(), 0u);
}

TEST_F(TcpSynSent, SynSent_RstWithoutAck_Ignored) {
  in(seg(kIrs, 0, kRst));  // RFC 5961 3.2 / 9293: without an acceptable ACK, drop it
  EXPECT_QUIET();
  EXPECT_EQ(c_.state(), kSynSent);
}

TEST_F(TcpSynSent, SynSent_AckWithoutSyn_Dropped) {
  in(seg(kIrs, snd(0), kAck));  // fifth: "if neither of the SYN or RST bits is set, drop"
  EXPECT_QUIET();
  EXPECT_EQ(c_.state(), kSynSent);
  EXPECT_EQ(c_.info(now_).snd_una, iss_);
}

TEST_F(TcpSynSent, SynSent_Syn_SimultaneousOpenSendsSynAck) {
  in(peer_syn());
  EXPECT_EQ(c_.state(), kSynReceived);
  EXPECT_OUT(Seq(iss_), Ack(rcv(0)), Flags(kSyn | kAck), Mss(1460), SackPermitted(true), NoWScale(), NoTs(),
             Wnd(kOurWnd));
  EXPECT_QUIET();
  in(ack_of(snd(0)));
  EXPECT_EQ(c_.state(), kEstablished);
  EXPECT_EQ(c_.take_events(), event::kConnected | event::kWritable);
  EXPECT_QUIET();
}

TEST_F(TcpSynSent, SynSent_RtoExpiry_ResendsSynWithBackoff) {
  uint64_t sent = now_;
  EXPECT_EQ(run_timer(), sent + 1'000'000);
  EXPECT_OUT(Seq(iss_), Flags(kSyn), Rexmit(true), Mss(1460));
  EXPECT_QUIET();
  EXPECT_EQ(run_timer(), sent + 3'000'000);  // RFC 6298 5.5: 2 s
  EXPECT_OUT(Seq(iss_), Flags(kSyn), Rexmit(true));
  EXPECT_EQ(run_timer(), sent + 7'000'000);  // 4 s
  EXPECT_OUT(Seq(iss_), Flags(kSyn), Rexmit(true));
}

TEST_F(TcpSynSent, SynSent_SynRetriesExhausted_TimesOut) {
  for (uint32_t i = 0; i < cfg_.syn_retries; ++i) {
    run_timer();
    EXPECT_OUT(Seq(iss_), Flags(kSyn), Rexmit(true));
  }
  EXPECT_EQ(c_.state(), kSynSent);
  run_timer();
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kTimeout);
  EXPECT_EQ(c_.take_events(), event::kClosed);
  EXPECT_QUIET();
  EXPECT_EQ(mib_.tcp_retry_aborts, 1u);
}

TEST_F(TcpSynSent, SynSent_SynAckAfterRetransmit_NoRttSample) {
  run_timer();
  EXPECT_OUT(Flags(kSyn), Rexmit(true));
  now_ += kRtt;
  in(peer_syn_ack());
  EXPECT_EQ(c_.state(), kEstablished);
  EXPECT_EQ(c_.info(now_).srtt_us, 0u);  // Karn: which SYN does the SYN-ACK answer?
}

TEST_F(TcpSynSent, SynSent_SynAckWithData_DataNotTakenAcked) {
  Segment sa = peer_syn_ack();
  sa.len = 10;
  sa.data = peer_stream_.data();
  in(sa);
  EXPECT_EQ(c_.state(), kEstablished);
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck));
  EXPECT_EQ(c_.readable(), 0u);
}

TEST_F(TcpSynSent, SynSent_Close_DeletesTcbSilently) {
  c_.close(now_);  // RFC 9293 3.10.4: CLOSE in SYN-SENT deletes the TCB
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_QUIET();
  EXPECT_EQ(c_.take_events(), 0);
  EXPECT_EQ(c_.next_deadline(), 0u);
}

TEST_F(TcpSynSent, SynSent_Abort_NoReset) {
  c_.abort();  // RFC 9293 3.10.5: in SYN-SENT the TCB goes without a word
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kAborted);
  EXPECT_QUIET();
}

TEST_F(TcpSynSent, SynSent_DataQueued_SentWithHandshakeAck) {
  EXPECT_EQ(send(100), 100u);
  EXPECT_QUIET();
  in(peer_syn_ack());
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck | kPsh), Len(100), DataAt(0));
  EXPECT_QUIET();
}

// ---- LISTEN -> SYN-RECEIVED (passive open) ---------------------------------------------------

class TcpSynReceived : public TcpConnTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(c_.open_passive(kTuple, cfg_, iss_, peer_syn(), now_, &mib_));
    EXPECT_OUT(Seq(iss_), Ack(rcv(0)), Flags(kSyn | kAck), Wnd(kOurWnd), Mss(1460), SackPermitted(true), NoWScale(),
               NoTs());
    EXPECT_QUIET();
  }
};

TEST_F(TcpSynReceived, Listen_Syn_SynReceived) {
  EXPECT_EQ(c_.state(), kSynReceived);
  EXPECT_EQ(mib_.tcp_passive_opens, 1u);
  EXPECT_EQ(c_.take_events(), 0);  // nothing for an application yet
  EXPECT_EQ(c_.info(now_).snd_wnd, kPeerWnd);
  EXPECT_EQ(c_.next_deadline(), now_ + 1'000'000);
}

TEST_F(TcpSynReceived, SynReceived_Ack_Established) {
  now_ += kRtt;
  in(ack_of(snd(0)));
  EXPECT_EQ(c_.state(), kEstablished);
  EXPECT_EQ(c_.take_events(), event::kConnected | event::kWritable);
  EXPECT_QUIET();
  auto i = c_.info(now_);
  EXPECT_EQ(i.srtt_us, kRtt);
  EXPECT_EQ(i.snd_una, snd(0));
  EXPECT_EQ(c_.next_deadline(), 0u);
}

TEST_F(TcpSynReceived, SynReceived_AckWithData_EstablishedAndDelivers) {
  in(data(0, 100));
  EXPECT_EQ(c_.state(), kEstablished);
  EXPECT_EQ(c_.take_events(), event::kConnected | event::kWritable | event::kReadable);
  EXPECT_EQ(read_all(), 100u);
  EXPECT_QUIET();  // delayed
  run_timer();
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(100)), Flags(kAck));
}

TEST_F(TcpSynReceived, SynReceived_AckWithFin_CloseWait) {
  in(data(0, 0, kFin));
  EXPECT_EQ(c_.state(), kCloseWait);
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(1)), Flags(kAck));
  EXPECT_TRUE(c_.at_eof());
}

TEST_F(TcpSynReceived, SynReceived_UnacceptableAck_SendsReset) {
  in(ack_of(snd(1)));  // "If the segment acknowledgment is not acceptable, form a reset <SEQ=SEG.ACK><CTL=RST>"
  EXPECT_OUT(Seq(snd(1)), Ack(0), Flags(kRst));
  in(ack_of(iss_));  // SND.UNA < SEG.ACK fails too
  EXPECT_OUT(Seq(iss_), Flags(kRst));
  EXPECT_EQ(c_.state(), kSynReceived);
}

TEST_F(TcpSynReceived, SynReceived_RstExact_ClosedSilently) {
  in(seg(rcv(0), 0, kRst));  // passive: back to LISTEN, which here means this attempt is gone
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kReset);
  EXPECT_EQ(c_.take_events(), 0);  // never accepted: nobody to tell
  EXPECT_QUIET();
  EXPECT_EQ(mib_.tcp_attempt_fails, 1u);
}

TEST_F(TcpSynReceived, SynReceived_RstInWindowNotExact_ChallengeAck) {
  in(seg(rcv(5), 0, kRst));
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck));
  EXPECT_EQ(c_.state(), kSynReceived);
  EXPECT_EQ(mib_.tcp_challenge_acks, 1u);
}

TEST_F(TcpSynReceived, SynReceived_DuplicateSyn_ResendsSynAck) {
  in(peer_syn());  // our SYN-ACK was lost
  EXPECT_OUT(Seq(iss_), Ack(rcv(0)), Flags(kSyn | kAck), Mss(1460));
  EXPECT_QUIET();
  EXPECT_EQ(c_.state(), kSynReceived);
}

TEST_F(TcpSynReceived, SynReceived_RtoExpiry_ResendsSynAck) {
  uint64_t t = now_;
  EXPECT_EQ(run_timer(), t + 1'000'000);
  EXPECT_OUT(Seq(iss_), Ack(rcv(0)), Flags(kSyn | kAck), Rexmit(true));
  EXPECT_EQ(run_timer(), t + 3'000'000);
  EXPECT_OUT(Seq(iss_), Flags(kSyn | kAck), Rexmit(true));
}

TEST_F(TcpSynReceived, SynReceived_RetriesExhausted_ClosedSilently) {
  for (uint32_t i = 0; i < cfg_.syn_retries; ++i) {
    run_timer();
    EXPECT_OUT(Flags(kSyn | kAck), Rexmit(true));
  }
  run_timer();
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kTimeout);
  EXPECT_EQ(c_.take_events(), 0);
  EXPECT_QUIET();
}

TEST_F(TcpSynReceived, SynReceived_NoAckFlag_Dropped) {
  in(seg(rcv(0), 0, 0, 10));
  EXPECT_QUIET();
  EXPECT_EQ(c_.state(), kSynReceived);
  EXPECT_EQ(c_.readable(), 0u);
}

TEST_F(TcpSynReceived, SynReceived_SynNewSeq_ReturnsToListen) {
  // RFC 9293 3.10.7.4 fourth: in SYN-RECEIVED after a passive OPEN, a SYN
  // "return[s] this connection to the LISTEN state": the attempt is dropped
  // without a word (the listener answers the peer's next SYN afresh).
  in(seg(rcv(10), 0, kSyn));
  EXPECT_QUIET();
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.take_events() & event::kClosed, 0u);  // never accepted: nobody to tell
  EXPECT_EQ(mib_.tcp_attempt_fails, 1u);
}

TEST_F(TcpSynReceived, SynReceived_Close_FinAfterHandshake) {
  c_.close(now_);  // RFC 9293 3.10.4: queued until ESTABLISHED, then FIN-WAIT-1
  EXPECT_EQ(c_.state(), kSynReceived);
  EXPECT_QUIET();
  in(ack_of(snd(0)));
  EXPECT_EQ(c_.state(), kFinWait1);
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kFin | kAck));
}

// ---- ESTABLISHED -------------------------------------------------------------------------------

class TcpEstablished : public TcpConnTest {
 protected:
  void SetUp() override { establish(); }
};

TEST_F(TcpEstablished, Established_InOrderData_DeliveredReadable) {
  in(data(0, 100));
  EXPECT_EQ(c_.take_events(), event::kReadable);
  EXPECT_EQ(c_.readable(), 100u);
  EXPECT_EQ(read_all(), 100u);
  EXPECT_EQ(c_.info(now_).rcv_nxt, rcv(100));
  EXPECT_EQ(c_.info(now_).bytes_in, 100u);
}

TEST_F(TcpEstablished, Established_DelayedAck_EverySecondFullSegment) {
  in(data(0, 1460));
  EXPECT_QUIET();  // RFC 1122 4.2.3.2 / RFC 5681 4.2: one full segment may wait
  in(data(1460, 1460));
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(2920)), Flags(kAck), Wnd(kOurWnd - 2920), Len(0));
  EXPECT_QUIET();
  in(data(2920, 1460));
  EXPECT_QUIET();
  in(data(4380, 1460));
  EXPECT_OUT(Ack(rcv(5840)));
  EXPECT_EQ(c_.next_deadline(), 0u);  // the ACK went: no delayed-ACK timer left
}

TEST_F(TcpEstablished, Established_DelayedAckTimer_Fires) {
  in(data(0, 100));
  EXPECT_QUIET();
  EXPECT_EQ(c_.next_deadline(), now_ + kDelAck);
  now_ += kDelAck - 1;
  c_.on_timer(now_);
  EXPECT_QUIET();
  now_ += 1;
  c_.on_timer(now_);
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(100)), Flags(kAck));
  EXPECT_QUIET();
}

TEST_F(TcpEstablished, Established_SmallSegments_WaitForDelayedAckTimer) {
  in(data(0, 100));
  in(data(100, 100));
  in(data(200, 100));
  EXPECT_QUIET();  // not full-sized: no "every second segment" ACK
  run_timer();
  EXPECT_OUT(Ack(rcv(300)));
}

TEST_F(TcpEstablished, Established_SegmentOutsideWindow_AcksAndDrops) {
  in(data(kOurWnd + 100, 100));
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck), Wnd(kOurWnd));
  EXPECT_EQ(c_.readable(), 0u);
  EXPECT_EQ(mib_.tcp_unacceptable, 1u);
  in(data(kOurWnd, 1));  // the first byte past the right edge
  EXPECT_OUT(Ack(rcv(0)));
  EXPECT_EQ(mib_.tcp_unacceptable, 2u);
}

TEST_F(TcpEstablished, Established_DuplicateSegment_AcksAndDrops) {
  in(data(0, 100));
  EXPECT_QUIET();
  in(data(0, 100));  // wholly before RCV.NXT: not acceptable, ACK it
  EXPECT_OUT(Ack(rcv(100)));
  EXPECT_EQ(c_.readable(), 100u);
}

TEST_F(TcpEstablished, Established_OverlappingSegment_NewPartTaken) {
  in(data(0, 100));
  in(data(50, 100));  // the front was received already: trimmed
  EXPECT_EQ(c_.readable(), 150u);
  EXPECT_EQ(read_all(), 150u);
}

TEST_F(TcpEstablished, Established_DataBeyondWindow_TrimmedAndAcked) {
  in(data(0, 40000));
  EXPECT_EQ(c_.readable(), kOurWnd);
  EXPECT_OUT(Ack(rcv(kOurWnd)), Wnd(0));
  EXPECT_EQ(mib_.tcp_window_trimmed, 1u);
  EXPECT_EQ(read_all(), kOurWnd);
}

TEST_F(TcpEstablished, Established_ZeroWindowProbe_Acked) {
  fill_receive_window(kOurWnd);
  EXPECT_EQ(c_.readable(), kOurWnd);
  EXPECT_EQ(c_.info(now_).rcv_wnd, 0u);
  in(data(kOurWnd, 1));  // RFC 9293 3.8.6.1: acceptable with a zero window only as an ACK to answer
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(kOurWnd)), Flags(kAck), Wnd(0));
  EXPECT_EQ(c_.readable(), kOurWnd);
  EXPECT_EQ(read_all(), kOurWnd);
  EXPECT_OUT(Ack(rcv(kOurWnd)), Wnd(kOurWnd));  // the window update
  in(data(kOurWnd, 1));
  EXPECT_EQ(c_.readable(), 1u);
}

TEST_F(TcpEstablished, Established_RstExactSeq_Closes) {
  in(seg(rcv(0), 0, kRst));
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kReset);
  EXPECT_EQ(c_.take_events(), event::kClosed);
  EXPECT_QUIET();
  EXPECT_EQ(mib_.tcp_estab_resets, 1u);
  EXPECT_EQ(mib_.tcp_curr_estab, 0u);
  EXPECT_EQ(c_.next_deadline(), 0u);
  EXPECT_EQ(c_.send_space(), 0u);
}

TEST_F(TcpEstablished, Established_RstInWindowNotExact_ChallengeAck) {
  in(seg(rcv(1), 0, kRst));  // RFC 5961 3.2
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck));
  EXPECT_EQ(c_.state(), kEstablished);
  EXPECT_EQ(mib_.tcp_challenge_acks, 1u);
  in(seg(rcv(kOurWnd - 1), 0, kRst | kAck));
  EXPECT_QUIET();  // RFC 5961 7: challenge ACKs are rate limited (one per 500 ms a connection)
  EXPECT_EQ(c_.state(), kEstablished);
  now_ += 500000;
  in(seg(rcv(kOurWnd - 1), 0, kRst | kAck));
  EXPECT_OUT(Ack(rcv(0)), Flags(kAck));
  EXPECT_EQ(c_.state(), kEstablished);
  EXPECT_EQ(mib_.tcp_challenge_acks, 2u);
}

TEST_F(TcpEstablished, Established_RstOutsideWindow_Ignored) {
  in(seg(rcv(kOurWnd + 1), 0, kRst));
  in(seg(rcv(0) - 1, 0, kRst));
  EXPECT_QUIET();  // "If the RST bit is set ... drop it and return" (no ACK for a RST)
  EXPECT_EQ(c_.state(), kEstablished);
}

TEST_F(TcpEstablished, Established_SynInWindow_ChallengeAck) {
  in(seg(rcv(100), 0, kSyn));  // RFC 5961 4.2: whatever its sequence number
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck));
  EXPECT_EQ(c_.state(), kEstablished);
  EXPECT_EQ(mib_.tcp_challenge_acks, 1u);
  in(peer_syn());  // the old SYN again: outside the window, plain ACK
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck));
  EXPECT_EQ(c_.state(), kEstablished);
}

TEST_F(TcpEstablished, Established_NoAckFlag_Dropped) {
  in(seg(rcv(0), 0, 0, 100));
  EXPECT_QUIET();
  EXPECT_EQ(c_.readable(), 0u);
  EXPECT_EQ(mib_.tcp_no_ack_flag, 1u);
}

TEST_F(TcpEstablished, Established_AckOfUnsentData_AcksAndDrops) {
  in(seg(rcv(0), snd(100), kAck, 10));  // "If the ACK acks something not yet sent, send an ACK, drop"
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck));
  EXPECT_EQ(c_.readable(), 0u);
  EXPECT_EQ(mib_.tcp_ack_unsent, 1u);
}

TEST_F(TcpEstablished, Established_AckTooOld_AcksAndDrops) {
  in(seg(rcv(0), snd(0) - 70000, kAck, 10));  // RFC 5961 5.2: below SND.UNA - MAX.SND.WND
  EXPECT_OUT(Ack(rcv(0)));
  EXPECT_EQ(c_.readable(), 0u);
  in(seg(rcv(0), snd(0) - 1000, kAck, 10));  // old but plausible: "can be ignored", the text is taken
  EXPECT_EQ(c_.readable(), 10u);
}

TEST_F(TcpEstablished, Established_OutOfOrderData_HeldAndSackBlocks) {
  in(data(1460, 1460));
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kAck), Sack({{rcv(1460), rcv(2920)}}));
  in(data(4380, 1460));
  // RFC 2018 4: the first block is the most recent segment's.
  EXPECT_OUT(Ack(rcv(0)), Sack({{rcv(4380), rcv(5840)}, {rcv(1460), rcv(2920)}}));
  EXPECT_EQ(c_.readable(), 0u);
  EXPECT_EQ(c_.info(now_).ooo_bytes, 2920u);
  EXPECT_EQ(mib_.tcp_ooo_segs, 2u);
  in(data(2920, 730));  // extends the first range
  EXPECT_OUT(Ack(rcv(0)), Sack({{rcv(1460), rcv(3650)}, {rcv(4380), rcv(5840)}}));
}

TEST_F(TcpEstablished, Established_HoleFilled_DeliversAndAcksAtOnce) {
  in(data(1460, 1460));
  in(data(4380, 1460));
  drain();
  in(data(0, 1460));  // RFC 5681 4.2: fills part of the gap: ACK at once
  EXPECT_OUT(Ack(rcv(2920)), Sack({{rcv(4380), rcv(5840)}}));
  EXPECT_EQ(c_.readable(), 2920u);
  in(data(2920, 1460));
  EXPECT_OUT(Ack(rcv(5840)), NoSack());
  EXPECT_EQ(read_all(), 5840u);
  EXPECT_EQ(c_.info(now_).ooo_bytes, 0u);
}

TEST_F(TcpEstablished, Established_OutOfOrderFin_TakenWhenHoleFills) {
  in(data(100, 100, kFin));
  EXPECT_OUT(Ack(rcv(0)), Sack({{rcv(100), rcv(200)}}));
  EXPECT_EQ(c_.state(), kEstablished);
  in(data(0, 100));
  EXPECT_EQ(c_.state(), kCloseWait);
  EXPECT_OUT(Ack(rcv(201)), NoSack());
  EXPECT_EQ(read_all(), 200u);
  EXPECT_TRUE(c_.at_eof());
}

TEST_F(TcpEstablished, Established_TooManyHoles_NewHoleDropped) {
  for (uint32_t i = 0; i <= OooRanges::kMaxRanges; ++i) {
    in(data(1 + 2 * i, 1));  // 33 one-byte islands
    EXPECT_OUT(Ack(rcv(0)));
  }
  EXPECT_EQ(mib_.tcp_ooo_segs, OooRanges::kMaxRanges);
  EXPECT_EQ(mib_.tcp_ooo_dropped, 1u);
  in(data(0, 2 * OooRanges::kMaxRanges + 1));  // fills [0, 65): byte 65 was the dropped one
  EXPECT_OUT(Ack(rcv(2 * OooRanges::kMaxRanges + 1)), NoSack());
}

TEST_F(TcpEstablished, Established_Send_FullSegmentsUpToInitialWindow) {
  EXPECT_EQ(send(20000), 20000u);
  for (uint32_t k = 0; k < 10; ++k)
    EXPECT_OUT(Seq(snd(k * 1460)), Ack(rcv(0)), Flags(kAck), Wnd(kOurWnd), Len(1460), DataAt(k * 1460), Rexmit(false));
  EXPECT_QUIET();  // cwnd (14600) is full
  EXPECT_EQ(c_.next_deadline(), now_ + 2 * kRtt);  // RFC 8985 7.2: PTO = 2 SRTT, before the RTO
  now_ += kRtt;
  in(ack_of(snd(2920)));  // slow start: cwnd += min(acked, SMSS)
  EXPECT_EQ(c_.info(now_).cwnd, 14600u + 1460);
  for (uint32_t k = 10; k < 13; ++k) EXPECT_OUT(Seq(snd(k * 1460)), Len(1460), DataAt(k * 1460));
  EXPECT_QUIET();
}

TEST_F(TcpEstablished, Established_AckAdvances_RttSampled) {
  send(1460);
  EXPECT_OUT(Len(1460));
  now_ += 30000;
  in(ack_of(snd(1460)));
  auto i = c_.info(now_);
  EXPECT_EQ(i.rttvar_us, 8750u);  // (3 * 5000 + |10000 - 30000|) / 4
  EXPECT_EQ(i.srtt_us, 12500u);   // (7 * 10000 + 30000) / 8
  EXPECT_EQ(i.bytes_out, 1460u);
  EXPECT_EQ(c_.next_deadline(), 0u);  // RFC 6298 5.2: all acknowledged, timer off
}

TEST_F(TcpEstablished, Established_Nagle_HoldsSmallSegment) {
  send(100);
  EXPECT_OUT(Seq(snd(0)), Len(100), Flags(kAck | kPsh));
  send(100);
  EXPECT_QUIET();  // RFC 896: small data waits while data is unacknowledged
  send(100);
  EXPECT_QUIET();
  in(ack_of(snd(100)));
  EXPECT_OUT(Seq(snd(100)), Len(200), Flags(kAck | kPsh), DataAt(100));
}

TEST_F(TcpEstablished, Established_Nagle_FullSegmentGoesAnyway) {
  send(100);
  EXPECT_OUT(Len(100));
  send(1560);
  EXPECT_OUT(Seq(snd(100)), Len(1460), Flags(kAck), DataAt(100));
  EXPECT_QUIET();  // the 100-byte tail waits
}

TEST_F(TcpEstablished, Established_Nodelay_SendsAtOnce) {
  c_.set_nodelay(true);
  send(100);
  EXPECT_OUT(Seq(snd(0)), Len(100));
  send(100);
  EXPECT_OUT(Seq(snd(100)), Len(100), DataAt(100));
}

TEST_F(TcpEstablished, Established_ThreeDupAcks_FastRetransmit) {
  send(14600);
  EXPECT_EQ(drain().size(), 10u);
  in(ack_of(snd(0)));
  in(ack_of(snd(0)));
  EXPECT_QUIET();
  in(ack_of(snd(0)));  // RFC 5681 3.2: the third duplicate
  EXPECT_OUT(Seq(snd(0)), Len(1460), Rexmit(true), DataAt(0));
  EXPECT_QUIET();
  auto i = c_.info(now_);
  EXPECT_TRUE(i.in_recovery);
  EXPECT_EQ(i.ssthresh, 7300u);  // FlightSize / 2
  EXPECT_EQ(i.cwnd, 7300u + 3 * 1460);
  EXPECT_EQ(mib_.tcp_fast_retransmits, 1u);
  EXPECT_EQ(mib_.tcp_dup_acks, 3u);
  in(ack_of(snd(0)));
  EXPECT_EQ(c_.info(now_).cwnd, 7300u + 4 * 1460);  // inflated by each further duplicate
  EXPECT_QUIET();
  // A partial ACK (RFC 6582 3.2 step 5): the next hole goes at once.
  in(ack_of(snd(4380)));
  EXPECT_OUT(Seq(snd(4380)), Len(1460), Rexmit(true), DataAt(4380));
  EXPECT_QUIET();
  i = c_.info(now_);
  EXPECT_TRUE(i.in_recovery);
  EXPECT_EQ(i.cwnd, 7300u + 4 * 1460 - 4380 + 1460);
  // The full ACK ends recovery: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
  in(ack_of(snd(14600)));
  i = c_.info(now_);
  EXPECT_FALSE(i.in_recovery);
  EXPECT_EQ(i.cwnd, 2920u);
  EXPECT_QUIET();
}

TEST_F(TcpEstablished, Established_DupAcksAfterRto_NoFastRetransmit) {
  send(14600);
  drain();
  run_timer();  // the tail loss probe
  drain();
  run_timer();  // the RTO: recover = the highest sequence sent (RFC 6582 4)
  ASSERT_EQ(mib_.tcp_rto_timeouts, 1u);
  drain();
  // Duplicate ACKs that do not cover `recover` start no fast retransmit
  // (RFC 6582 3.2 step 2): they answer the go-back-N retransmissions.
  for (int k = 0; k < 4; ++k) {
    in(ack_of(snd(0)));
    drain();
  }
  EXPECT_EQ(mib_.tcp_fast_retransmits, 0u);
  EXPECT_FALSE(c_.info(now_).in_recovery);
}

TEST_F(TcpEstablished, Established_DupAckWithWindowChange_NotCounted) {
  send(14600);
  drain();
  in(ack_of(snd(0), 60000));  // a window update, not a duplicate (RFC 5681 2 (e))
  in(ack_of(snd(0), 60000));
  in(ack_of(snd(0), 60000));
  EXPECT_EQ(mib_.tcp_dup_acks, 2u);
  EXPECT_QUIET();
  EXPECT_EQ(mib_.tcp_fast_retransmits, 0u);
}

TEST_F(TcpEstablished, Established_LimitedTransmit_NewSegmentPerFirstTwoDupAcks) {
  send(14600 + 2920);
  EXPECT_EQ(drain().size(), 10u);
  in(ack_of(snd(0)));  // RFC 3042
  EXPECT_OUT(Seq(snd(14600)), Len(1460), Rexmit(false));
  EXPECT_QUIET();
  in(ack_of(snd(0)));
  EXPECT_OUT(Seq(snd(16060)), Len(1460), Rexmit(false));
  EXPECT_QUIET();
  in(ack_of(snd(0)));
  EXPECT_OUT(Seq(snd(0)), Len(1460), Rexmit(true));
}

TEST_F(TcpEstablished, Established_EarlyRetransmit_TwoSegmentsOut) {
  send(2920);
  EXPECT_EQ(drain().size(), 2u);
  in(ack_of(snd(0)));  // RFC 5827: two segments out, nothing new to send: one duplicate is enough
  EXPECT_OUT(Seq(snd(0)), Len(1460), Rexmit(true));
}

TEST_F(TcpEstablished, Established_SackedDupAcks_FastRetransmit) {
  send(14600);
  drain();
  for (int k = 1; k <= 3; ++k) {
    Segment a = ack_of(snd(0), static_cast<uint16_t>(kPeerWnd - k));  // a growing window, as Linux does
    a.opts.n_sack = 1;
    a.opts.sack[0] = {snd(1460), snd(1460 * (k + 1))};
    in(a);
  }
  EXPECT_OUT(Seq(snd(0)), Len(1460), Rexmit(true));  // RFC 6675 2: SACK blocks make it a duplicate
}

TEST_F(TcpEstablished, Established_RtoExpiry_BacksOffAndGoesBackN) {
  send(4380);
  EXPECT_EQ(drain().size(), 3u);
  uint64_t t = now_;
  // The tail loss probe comes first (RFC 8985 7): 2 SRTT, the last segment again.
  EXPECT_EQ(run_timer(), t + 2 * kRtt);
  EXPECT_OUT(Seq(snd(2920)), Len(1460), Rexmit(true), DataAt(2920));
  EXPECT_QUIET();
  EXPECT_EQ(mib_.tcp_tlp_probes, 1u);
  // Then the RTO, restarted by the probe (RFC 6298 5.4).
  EXPECT_EQ(run_timer(), t + 2 * kRtt + kRtoMin);
  auto i = c_.info(now_);
  EXPECT_EQ(i.rto_us, 2 * kRtoMin);  // 5.5: backed off
  EXPECT_EQ(i.cwnd, 1460u);          // RFC 5681 3.1: the loss window
  EXPECT_EQ(i.ssthresh, 2920u);      // max(FlightSize / 2, 2 SMSS)
  EXPECT_EQ(mib_.tcp_rto_timeouts, 1u);
  EXPECT_OUT(Seq(snd(0)), Len(1460), Rexmit(true), DataAt(0));  // 5.4: the earliest segment
  EXPECT_QUIET();
  EXPECT_EQ(c_.next_deadline(), now_ + 2 * kRtoMin);  // 5.6: restarted with the new RTO
  in(ack_of(snd(1460)));  // go-back-N: the rest follows from SND.UNA
  EXPECT_OUT(Seq(snd(1460)), Len(1460), Rexmit(true), DataAt(1460));
  EXPECT_OUT(Seq(snd(2920)), Len(1460), Rexmit(true), DataAt(2920));
  EXPECT_QUIET();
  EXPECT_EQ(c_.info(now_).srtt_us, kRtt);  // Karn: no sample from a retransmission
}

TEST_F(TcpEstablished, Established_TailLossProbe_NewDataBeyondCwnd) {
  send(14600 + 1460);
  EXPECT_EQ(drain().size(), 10u);  // cwnd full, one segment waiting
  uint64_t t = now_;
  EXPECT_EQ(run_timer(), t + 2 * kRtt);  // RFC 8985 7.2: PTO = 2 SRTT
  // 7.3: new data if the peer's window allows it, cwnd notwithstanding.
  EXPECT_OUT(Seq(snd(14600)), Len(1460), Rexmit(false), DataAt(14600));
  EXPECT_QUIET();
  EXPECT_EQ(mib_.tcp_tlp_probes, 1u);
  EXPECT_EQ(c_.next_deadline(), now_ + kRtoMin);  // then the RTO, not another PTO
}

TEST_F(TcpEstablished, Established_ZeroWindow_PersistProbesWithBackoff) {
  in(ack_of(snd(0), 0));
  send(100);
  EXPECT_QUIET();  // the window is closed
  EXPECT_TRUE(c_.info(now_).persist);
  uint64_t t = now_;
  EXPECT_EQ(run_timer(), t + kRtoMin);
  // RFC 9293 3.8.6.1 ("new data, or retransmit"): an empty segment one
  // below SND.UNA, as Linux probes; nothing of ours goes past the window.
  EXPECT_OUT(Seq(snd(0) - 1), Len(0), Flags(kAck));
  EXPECT_QUIET();
  EXPECT_EQ(mib_.tcp_persist_probes, 1u);
  EXPECT_EQ(snd_max(), snd(0));
  in(ack_of(snd(0), 0));  // still closed
  EXPECT_QUIET();
  EXPECT_EQ(run_timer(), t + kRtoMin + 2 * kRtoMin);  // backed off (RFC 1122 4.2.2.17)
  EXPECT_OUT(Seq(snd(0) - 1), Len(0));
  in(ack_of(snd(0), 0));
  EXPECT_QUIET();
  EXPECT_EQ(run_timer(), t + kRtoMin + 2 * kRtoMin + 4 * kRtoMin);
  EXPECT_OUT(Seq(snd(0) - 1), Len(0));
  in(ack_of(snd(0), 0));
  EXPECT_QUIET();
  EXPECT_EQ(c_.state(), kEstablished);  // RFC 1122 4.2.2.17: probing never gives up by itself
  EXPECT_EQ(mib_.tcp_fast_retransmits, 0u);
}

TEST_F(TcpEstablished, Established_ZeroWindowReopens_DataGoesAtOnce) {
  in(ack_of(snd(0), 0));
  send(100);
  EXPECT_QUIET();  // persist armed
  run_timer();
  EXPECT_OUT(Seq(snd(0) - 1), Len(0));
  now_ += kRtt;
  in(ack_of(snd(0), kPeerWnd));  // the window update
  auto out = drain();
  ASSERT_FALSE(out.empty()) << "queued data waits after the window opened";
  uint64_t end = 0;
  for (auto& s : out) end = std::max<uint64_t>(end, s.data_pos + s.len);
  EXPECT_EQ(end, 100u);
  EXPECT_EQ(out.front().seq, snd(0));
}

TEST_F(TcpEstablished, Established_ZeroWindowProbeAnswered_AllFollows) {
  in(ack_of(snd(0), 0));
  send(100);
  EXPECT_QUIET();
  run_timer();
  EXPECT_OUT(Seq(snd(0) - 1), Len(0));
  in(ack_of(snd(0), kPeerWnd));  // the probe's answer: the window opened
  EXPECT_OUT(Seq(snd(0)), Len(100), DataAt(0));
  EXPECT_FALSE(c_.info(now_).persist);
}

TEST_F(TcpEstablished, Established_ZeroWindow_ValidAckBeyondRcvNxtStillCounts) {
  // RFC 9293 3.10.7.4: with our window zero, "special allowance should be
  // made to accept valid ACKs". A peer that probes with a byte of new data
  // sends its ACKs with SEG.SEQ = RCV.NXT + 1: refused for the sequence
  // number, but their ACK field still counts.
  send(200);
  EXPECT_EQ(drain().size(), 1u);
  c_.on_segment(seg(rcv(0), snd(0), kAck, static_cast<uint32_t>(kOurWnd)), now_);  // fills our window
  drain();
  ASSERT_EQ(c_.info(now_).rcv_wnd, 0u);
  in(seg(rcv(kOurWnd) + 1, snd(200), kAck));  // one past RCV.NXT, acknowledging our data
  EXPECT_EQ(c_.info(now_).snd_una, snd(200));
}

TEST_F(TcpEstablished, Established_ZeroWindowWithDataInFlight_KeepsProbing) {
  send(2920);
  EXPECT_EQ(drain().size(), 2u);
  // The peer takes the first segment and closes its window; the second is lost.
  in(ack_of(snd(1460), 0));
  EXPECT_QUIET();
  // The RTO comes; nothing may be sent into the zero window, but the sender
  // must go on probing it (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17): a lost
  // window update must not stall the connection.
  for (int k = 0; k < 4; ++k) {
    ASSERT_NE(c_.next_deadline(), 0u) << "no timer armed with data outstanding, round " << k;
    run_timer();
    drain();
  }
  in(ack_of(snd(1460), kPeerWnd));  // the window finally opens
  auto out = drain();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front().seq, snd(1460));
}

TEST_F(TcpEstablished, Established_SmallWindow_SwsOverrideAfterTimeout) {
  in(ack_of(snd(0), 0));
  send(3000);
  EXPECT_QUIET();
  run_timer();
  EXPECT_OUT(Seq(snd(0) - 1), Len(0));
  in(ack_of(snd(0), 1000));
  // RFC 1122 4.2.3.4: 1000 bytes is neither a full segment, nor half the
  // largest window seen, nor all that is queued: wait...
  EXPECT_QUIET();
  // ... until the override timeout, then send what fits.
  run_timer();
  EXPECT_OUT(Seq(snd(0)), Len(1000), DataAt(0));
}

TEST_F(TcpEstablished, Established_ReorderedOlderSegment_WindowNotUpdated) {
  // RFC 9293 3.10.7.4 fifth: SND.WND follows only a newer segment (SND.WL1, SND.WL2).
  in(seg(rcv(100), snd(0), kAck, 100, 1000));  // newer segment, out of order, window 1000
  drain();
  EXPECT_EQ(c_.info(now_).snd_wnd, 1000u);
  in(seg(rcv(0), snd(0), kAck, 100, kPeerWnd));  // older segment (lower SEG.SEQ) arriving late
  EXPECT_EQ(c_.info(now_).snd_wnd, 1000u);
  EXPECT_EQ(c_.readable(), 200u);
}

TEST_F(TcpEstablished, Established_OldAckNewerSeq_WindowNotUpdated) {
  // RFC 9293 3.10.7.4 fifth: the window is updated only when SND.UNA =<
  // SEG.ACK. The peer sent Y (its bytes 100..199, ACK 100, window 1000),
  // then retransmitted X (its bytes 0..99, ACK 300, window 65535), and X
  // arrives first: Y's ACK is old, and so is its window.
  c_.set_nodelay(true);
  send(300);
  drain();
  in(seg(rcv(0), snd(300), kAck, 100, kPeerWnd));  // X
  EXPECT_EQ(c_.info(now_).snd_una, snd(300));
  in(seg(rcv(100), snd(100), kAck, 100, 1000));  // Y: newer sequence number, old ACK
  EXPECT_EQ(c_.info(now_).snd_wnd, kPeerWnd);
  EXPECT_EQ(c_.readable(), 200u);
}

TEST_F(TcpEstablished, Established_SendBufferFull_WritableAfterQuarterAcked) {
  // snd_buf is 64 KiB: fill it.
  EXPECT_EQ(send(70000), 65536u);
  EXPECT_EQ(c_.send_space(), 0u);
  EXPECT_EQ(c_.take_events(), 0);
  EXPECT_EQ(drain().size(), 10u);
  in(ack_of(snd(14600)));  // 14600 free: less than a quarter
  drain();
  EXPECT_EQ(c_.take_events() & event::kWritable, 0);
  in(ack_of(snd(16384)));  // a quarter free now
  EXPECT_EQ(c_.take_events() & event::kWritable, event::kWritable);
  drain();
  in(ack_of(snd(20000)));
  EXPECT_EQ(c_.take_events() & event::kWritable, 0);  // once per filling
  EXPECT_EQ(c_.send_space(), 20000u);
}

TEST_F(TcpEstablished, Established_CloseWithUnreadData_SendsReset) {
  in(data(0, 100));
  c_.take_events();
  c_.close(now_);  // RFC 2525 2.17: unread data is lost, so the peer is told
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(100)), Flags(kRst | kAck));
  EXPECT_QUIET();
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kAborted);
  EXPECT_EQ(c_.take_events(), 0);  // the application let go
}

TEST_F(TcpEstablished, Established_Close_SendsFin) {
  c_.close(now_);
  EXPECT_EQ(c_.state(), kFinWait1);
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kFin | kAck), Len(0));
  EXPECT_QUIET();
  EXPECT_TRUE(c_.app_closed());
}

TEST_F(TcpEstablished, Established_Abort_SendsRst) {
  send(100);
  drain();
  c_.abort();
  EXPECT_OUT(Seq(snd(100)), Ack(rcv(0)), Flags(kRst | kAck));
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kAborted);
  EXPECT_EQ(c_.next_deadline(), 0u);
}

TEST_F(TcpEstablished, Established_Fin_CloseWaitAndAcked) {
  in(data(0, 0, kFin));
  EXPECT_EQ(c_.state(), kCloseWait);
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(1)), Flags(kAck));  // the FIN is acknowledged at once
  EXPECT_EQ(c_.take_events(), event::kPeerClosed | event::kReadable);
  EXPECT_TRUE(c_.at_eof());
}

TEST_F(TcpEstablished, Established_FinWithData_DataThenEof) {
  in(data(0, 100, kFin | kPsh));
  EXPECT_EQ(c_.state(), kCloseWait);
  EXPECT_OUT(Ack(rcv(101)));
  EXPECT_FALSE(c_.at_eof());
  EXPECT_EQ(read_all(), 100u);
  EXPECT_TRUE(c_.at_eof());
}

TEST_F(TcpEstablished, Established_AppReads_WindowUpdateOnlyWhenWorthIt) {
  fill_receive_window(kOurWnd);
  EXPECT_EQ(read(1000), 1000u);
  EXPECT_QUIET();  // RFC 1122 4.2.3.3: less than min(2 MSS, half the buffer): not worth a segment
  EXPECT_EQ(read(2000), 2000u);
  EXPECT_OUT(Ack(rcv(kOurWnd)), Wnd(3000));
}

TEST_F(TcpEstablished, Established_ReceiveWindow_NeverShrinks) {
  std::mt19937 rng(9293);
  uint64_t peer_off = 0;        // what the peer has sent
  uint32_t right = rcv(kOurWnd);  // right edge of the window the peer knows
  int acks = 0;
  for (int i = 0; i < 3000; ++i) {
    uint32_t room = static_cast<uint32_t>(seq_diff(right, rcv(peer_off)));
    if (room != 0 && rng() % 4 != 0) {
      uint32_t len = std::min<uint32_t>(room, 1 + rng() % 1460);
      in(data(peer_off, len));
      peer_off += len;
    }
    if (rng() % 3 == 0) read(rng() % 5000);
    if (rng() % 5 == 0) {
      now_ += kDelAck;
      c_.on_timer(now_);
    }
    for (const auto& s : drain()) {
      uint32_t edge = s.ack + s.wnd;
      ASSERT_TRUE(seq_ge(edge, right)) << "window moved back: " << describe(s) << ", right edge was " << right;
      right = edge;
      ++acks;
    }
  }
  EXPECT_GT(acks, 100);
  EXPECT_EQ(mib_.tcp_window_trimmed, 0u);  // what we offered, we could take
  read_all();
  EXPECT_EQ(read_, peer_off);
}

TEST_F(TcpEstablished, Established_PathMtuDrop_ResendsSmaller) {
  send(2920);
  EXPECT_EQ(drain().size(), 2u);
  c_.on_path_mtu(1000);  // RFC 1191: 1000 - 40
  EXPECT_EQ(c_.info(now_).mss, 960);
  EXPECT_OUT(Seq(snd(0)), Len(960), DataAt(0), Rexmit(true));
}

TEST_F(TcpEstablished, Established_UrgentData_DeliveredInline) {
  in(data(0, 10, kUrg));
  EXPECT_EQ(read_all(), 10u);
}

TEST_F(TcpEstablished, Established_SendAfterShutdown_Refused) {
  c_.shutdown_write();
  EXPECT_EQ(c_.send_space(), 0u);
  EXPECT_EQ(send(10), 0u);
}

// ---- ESTABLISHED with timestamps (RFC 7323) -------------------------------------------------

class TcpEstablishedTs : public TcpConnTest {
 protected:
  void SetUp() override {
    peer_syn_opts_.has_timestamps = true;
    peer_syn_opts_.ts_val = 500;
    peer_opts_.has_timestamps = true;
    peer_opts_.ts_val = 500;
    establish();
  }
  Segment data_ts(uint64_t off, uint32_t len, uint32_t ts_val, uint8_t flags = kAck) {
    Segment s = seg(rcv(off), snd_max(), flags, len);
    s.opts.ts_val = ts_val;
    return s;
  }
};

TEST_F(TcpEstablishedTs, Established_NewerTimestamp_AcceptedAndEchoed) {
  in(data_ts(0, 1448, 600));
  in(data_ts(1448, 1448, 601));
  EXPECT_OUT(Ack(rcv(2896)), TsEcr(600));  // RFC 7323 4.3: TS.Recent from the segment at Last.ACK.sent
}

TEST_F(TcpEstablishedTs, Established_PawsOldTimestamp_Dropped) {
  in(data_ts(0, 100, 600));
  EXPECT_EQ(c_.readable(), 100u);
  in(data_ts(100, 100, 550));  // RFC 7323 5.3 R1: older than TS.Recent
  EXPECT_OUT(Ack(rcv(100)), TsEcr(600));
  EXPECT_EQ(c_.readable(), 100u);
  EXPECT_EQ(mib_.tcp_paws_rejected, 1u);
  in(data_ts(100, 100, 600));  // equal is fine
  EXPECT_EQ(c_.readable(), 200u);
}

TEST_F(TcpEstablishedTs, Established_PawsOldTimestampOnRst_StillCloses) {
  in(data_ts(0, 0, 0, kRst));  // R1 does not apply to RST segments
  EXPECT_EQ(c_.state(), kClosed);
}

TEST_F(TcpEstablishedTs, Established_TimestampAcrossWrap_Accepted) {
  // TS.Recent walks up to the wrap in steps below 2^31, each segment ACKed
  // so that the next one is at Last.ACK.sent.
  uint64_t off = 0;
  for (uint32_t ts : {0x70000000u, 0xe0000000u, 0xfffffff0u, 5u}) {
    in(data_ts(off, 10, ts));
    off += 10;
    EXPECT_EQ(c_.readable(), off) << ts;
    now_ += kDelAck;
    c_.on_timer(now_);
    EXPECT_OUT(Ack(rcv(off)), TsEcr(ts));
  }
  EXPECT_EQ(mib_.tcp_paws_rejected, 0u);
  in(data_ts(off, 10, 0xfffffff8u));  // before 5, modulo 2^32
  EXPECT_EQ(c_.readable(), off);
  EXPECT_EQ(mib_.tcp_paws_rejected, 1u);
}

TEST_F(TcpEstablishedTs, Established_OutOfOrderTimestamp_NotRecorded) {
  // A segment past a hole is not at Last.ACK.sent: its TSval is not kept.
  in(data_ts(1448, 1448, 900));
  EXPECT_OUT(Ack(rcv(0)), TsEcr(500));
  in(data_ts(0, 1448, 600));
  EXPECT_OUT(Ack(rcv(2896)), TsEcr(600));
}

TEST_F(TcpEstablishedTs, Established_SackWithTimestamps_AtMostThreeBlocksOnWire) {
  for (uint32_t k = 0; k < 5; ++k) {
    in(data_ts(1 + 2 * k, 1, 501));
    drain();
  }
  in(data_ts(20, 1, 501));
  auto s = EXPECT_OUT(Ack(rcv(0)));
  std::vector<uint8_t> bytes;
  Segment back;
  ASSERT_TRUE(to_wire_and_back(s, c_, bytes, back));
  EXPECT_LE(bytes.size(), 60u);
  EXPECT_EQ(back.opts.n_sack, 3);
  EXPECT_EQ(back.opts.sack[0], (wire::TcpSackBlock{rcv(20), rcv(21)}));
}

// ---- ESTABLISHED with window scaling ----------------------------------------------------------

class TcpEstablishedScaled : public TcpConnTest {
 protected:
  void SetUp() override {
    cfg_.rcv_buf = 200000;  // shift 2: the window field in units of 4 bytes
    peer_syn_opts_.has_wscale = true;
    peer_syn_opts_.wscale = 3;
    establish();
  }
};

TEST_F(TcpEstablishedScaled, Established_ScaledWindow_NeverShrinksNorOverpromises) {
  ASSERT_EQ(c_.info(now_).rcv_wscale, 2);
  std::mt19937 rng(7323);
  uint64_t peer_off = 0;
  uint32_t right = rcv(0) + (50000u << 2);  // the first ACK's window
  for (int i = 0; i < 5000; ++i) {
    uint32_t room = seq_gt(right, rcv(peer_off)) ? static_cast<uint32_t>(seq_diff(right, rcv(peer_off))) : 0;
    if (room != 0 && rng() % 3 != 0) {
      uint32_t len = std::min<uint32_t>(room, 1 + rng() % 1460);
      in(data(peer_off, len));
      peer_off += len;
    }
    if (rng() % 4 == 0) read(rng() % 7001);
    if (rng() % 5 == 0) {
      now_ += kDelAck;
      c_.on_timer(now_);
    }
    for (const auto& s : drain()) {
      uint32_t edge = s.ack + (uint32_t{s.wnd} << 2);
      ASSERT_TRUE(seq_ge(edge, right)) << describe(s) << ", right edge was " << right;
      right = edge;
    }
  }
  EXPECT_EQ(mib_.tcp_window_trimmed, 0u);
  read_all();
  EXPECT_EQ(read_, peer_off);
}

// ---- ESTABLISHED, few retries ---------------------------------------------------------------

class TcpEstablishedFewRetries : public TcpConnTest {
 protected:
  void SetUp() override {
    cfg_.max_retries = 3;
    establish();
  }
};

TEST_F(TcpEstablishedFewRetries, Established_RetryLimit_AbortsWithTimeout) {
  send(100);
  EXPECT_OUT(Seq(snd(0)), Len(100), Rexmit(false));
  uint64_t t = now_;
  uint64_t rto = kRtoMin;
  for (int k = 0; k < 3; ++k) {
    t += rto;
    EXPECT_EQ(run_timer(), t);
    EXPECT_OUT(Seq(snd(0)), Len(100), Rexmit(true));
    EXPECT_QUIET();
    rto *= 2;
  }
  t += rto;
  EXPECT_EQ(run_timer(), t);
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kTimeout);
  EXPECT_EQ(c_.take_events(), event::kClosed);
  EXPECT_QUIET();
  EXPECT_EQ(mib_.tcp_retry_aborts, 1u);
  EXPECT_EQ(mib_.tcp_rto_timeouts, 4u);
}

TEST_F(TcpEstablishedFewRetries, Established_ProgressResetsRetries) {
  send(3000);
  drain();
  for (int k = 0; k < 10 && c_.info(now_).retries < 3; ++k) {
    run_timer();  // the tail loss probe, then RTOs
    drain();
  }
  EXPECT_EQ(c_.info(now_).retries, 3u);
  in(ack_of(snd(1460)));
  EXPECT_EQ(c_.info(now_).retries, 0u);
  drain();
  run_timer();
  EXPECT_EQ(c_.state(), kEstablished);
}

// ---- FIN-WAIT-1 -------------------------------------------------------------------------------

class TcpFinWait1 : public TcpEstablished {
 protected:
  void SetUp() override {
    TcpEstablished::SetUp();
    c_.shutdown_write();
    EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kFin | kAck), Len(0));
    ASSERT_EQ(c_.state(), kFinWait1);
  }
};

TEST_F(TcpFinWait1, FinWait1_AckOfFin_FinWait2) {
  in(ack_of(snd(1)));
  EXPECT_EQ(c_.state(), kFinWait2);
  EXPECT_QUIET();
  EXPECT_EQ(c_.next_deadline(), 0u);  // not orphaned: the application may still read
}

TEST_F(TcpFinWait1, FinWait1_AckNotCoveringFin_Stays) {
  in(ack_of(snd(0)));
  EXPECT_EQ(c_.state(), kFinWait1);
}

TEST_F(TcpFinWait1, FinWait1_Fin_ClosingThenTimeWait) {
  in(seg(rcv(0), snd(0), kFin | kAck));  // simultaneous close: their FIN does not ack ours
  EXPECT_EQ(c_.state(), kClosing);
  EXPECT_OUT(Seq(snd(1)), Ack(rcv(1)), Flags(kAck));
  in(seg(rcv(1), snd(1), kAck));
  EXPECT_EQ(c_.state(), kTimeWait);
  EXPECT_EQ(c_.next_deadline(), now_ + kMsl2);
}

TEST_F(TcpFinWait1, FinWait1_FinAckingOurFin_TimeWait) {
  in(seg(rcv(0), snd(1), kFin | kAck));
  EXPECT_EQ(c_.state(), kTimeWait);
  EXPECT_OUT(Seq(snd(1)), Ack(rcv(1)), Flags(kAck));
}

TEST_F(TcpFinWait1, FinWait1_Data_DeliveredAndAcked) {
  in(seg(rcv(0), snd(0), kAck, 1460));  // not acking our FIN: FIN-WAIT-1 still
  in(seg(rcv(1460), snd(0), kAck, 1460));
  EXPECT_EQ(c_.state(), kFinWait1);
  EXPECT_OUT(Seq(snd(1)), Ack(rcv(2920)), Flags(kAck));
  EXPECT_EQ(read_all(), 2920u);
}

TEST_F(TcpFinWait1, FinWait1_RtoExpiry_ResendsFin) {
  run_timer();
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(0)), Flags(kFin | kAck), Rexmit(true));
  EXPECT_QUIET();
  EXPECT_EQ(c_.info(now_).rto_us, 2 * kRtoMin);
}

TEST_F(TcpFinWait1, FinWait1_Send_Refused) {
  EXPECT_EQ(send(10), 0u);
  EXPECT_FALSE(c_.can_send());
}

TEST_F(TcpEstablished, FinWait1_DataThenFin_FinRidesLastSegment) {
  send(100);
  c_.shutdown_write();
  EXPECT_EQ(c_.state(), kFinWait1);
  EXPECT_OUT(Seq(snd(0)), Len(100), Flags(kAck | kPsh | kFin), DataAt(0));
  EXPECT_QUIET();
  in(ack_of(snd(101)));
  EXPECT_EQ(c_.state(), kFinWait2);
  EXPECT_EQ(c_.info(now_).bytes_out, 100u);
}

TEST_F(TcpEstablished, FinWait1_DataAckedButNotFin_StaysAndResendsFinOnly) {
  send(100);
  c_.shutdown_write();
  drain();
  in(ack_of(snd(100)));
  EXPECT_EQ(c_.state(), kFinWait1);
  run_timer();
  EXPECT_OUT(Seq(snd(100)), Len(0), Flags(kAck | kFin), Rexmit(true));
}

// ---- FIN-WAIT-2 -------------------------------------------------------------------------------

class TcpFinWait2 : public TcpFinWait1 {
 protected:
  void SetUp() override {
    TcpFinWait1::SetUp();
    in(ack_of(snd(1)));
    ASSERT_EQ(c_.state(), kFinWait2);
    EXPECT_QUIET();
  }
};

TEST_F(TcpFinWait2, FinWait2_Data_DeliveredAndAcked) {
  in(data(0, 100));
  EXPECT_EQ(read_all(), 100u);
  run_timer();
  EXPECT_OUT(Seq(snd(1)), Ack(rcv(100)), Flags(kAck));
}

TEST_F(TcpFinWait2, FinWait2_Fin_TimeWait) {
  in(seg(rcv(0), snd(1), kFin | kAck));
  EXPECT_EQ(c_.state(), kTimeWait);
  EXPECT_OUT(Seq(snd(1)), Ack(rcv(1)), Flags(kAck));
  EXPECT_EQ(c_.next_deadline(), now_ + kMsl2);
  EXPECT_EQ(c_.take_events(), event::kPeerClosed | event::kReadable);
}

TEST_F(TcpFinWait2, FinWait2_OrphanTimeout_Closes) {
  c_.close(now_);
  EXPECT_EQ(c_.next_deadline(), now_ + cfg_.fin_wait2_us);
  run_timer();
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kTimeout);
  EXPECT_EQ(c_.take_events(), 0);
  EXPECT_QUIET();
}

TEST_F(TcpFinWait2, FinWait2_DataAfterClose_SendsReset) {
  c_.close(now_);
  in(data(0, 100));  // nobody will read it: reset (RFC 2525 2.17, as Linux does)
  EXPECT_OUT(Seq(snd(1)), Ack(rcv(100)), Flags(kRst | kAck));
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kAborted);
}

TEST_F(TcpFinWait2, FinWait2_RstExact_Closes) {
  in(seg(rcv(0), 0, kRst));
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kReset);
}

// ---- CLOSE-WAIT -------------------------------------------------------------------------------

class TcpCloseWait : public TcpEstablished {
 protected:
  void SetUp() override {
    TcpEstablished::SetUp();
    in(data(0, 0, kFin));
    EXPECT_OUT(Seq(snd(0)), Ack(rcv(1)), Flags(kAck));
    ASSERT_EQ(c_.state(), kCloseWait);
    c_.take_events();
  }
};

TEST_F(TcpCloseWait, CloseWait_Send_DataStillGoes) {
  EXPECT_TRUE(c_.can_send());  // half-close: our direction is open
  send(3000);
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(1)), Len(1460), DataAt(0));
  EXPECT_OUT(Seq(snd(1460)), Len(1460), DataAt(1460));
  EXPECT_QUIET();  // Nagle: the tail waits for the ACK
  in(seg(rcv(1), snd(2920), kAck));
  EXPECT_OUT(Seq(snd(2920)), Ack(rcv(1)), Len(80), Flags(kAck | kPsh), DataAt(2920));
  in(seg(rcv(1), snd(3000), kAck));
  EXPECT_EQ(c_.info(now_).bytes_out, 3000u);
  EXPECT_EQ(c_.state(), kCloseWait);
}

TEST_F(TcpCloseWait, CloseWait_Close_SendsFinLastAck) {
  c_.close(now_);
  EXPECT_EQ(c_.state(), kLastAck);
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(1)), Flags(kFin | kAck));
  EXPECT_QUIET();
}

TEST_F(TcpCloseWait, CloseWait_FinAgain_Acked) {
  in(data(0, 0, kFin));  // our ACK was lost: the FIN comes again
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(1)), Flags(kAck));
  EXPECT_EQ(c_.state(), kCloseWait);
}

TEST_F(TcpCloseWait, CloseWait_RstExact_Closes) {
  in(seg(rcv(1), 0, kRst));
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kReset);
  EXPECT_EQ(mib_.tcp_estab_resets, 1u);
}

TEST_F(TcpCloseWait, CloseWait_AtEof_RecvReturnsNothing) {
  EXPECT_TRUE(c_.at_eof());
  uint8_t b[4];
  EXPECT_EQ(c_.recv(b, sizeof b), 0u);
}

// ---- CLOSING ----------------------------------------------------------------------------------

class TcpClosing : public TcpFinWait1 {
 protected:
  void SetUp() override {
    TcpFinWait1::SetUp();
    in(seg(rcv(0), snd(0), kFin | kAck));
    EXPECT_OUT(Seq(snd(1)), Ack(rcv(1)), Flags(kAck));
    ASSERT_EQ(c_.state(), kClosing);
  }
};

TEST_F(TcpClosing, Closing_AckOfFin_TimeWait) {
  in(seg(rcv(1), snd(1), kAck));
  EXPECT_EQ(c_.state(), kTimeWait);
  EXPECT_QUIET();
  EXPECT_EQ(c_.next_deadline(), now_ + kMsl2);
}

TEST_F(TcpClosing, Closing_RtoExpiry_ResendsFin) {
  run_timer();
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(1)), Flags(kFin | kAck), Rexmit(true));
  EXPECT_EQ(c_.state(), kClosing);
}

TEST_F(TcpClosing, Closing_FinAgain_Acked) {
  in(seg(rcv(0), snd(0), kFin | kAck));
  EXPECT_OUT(Ack(rcv(1)), Flags(kAck));
  EXPECT_EQ(c_.state(), kClosing);
}

// ---- LAST-ACK ---------------------------------------------------------------------------------

class TcpLastAck : public TcpCloseWait {
 protected:
  void SetUp() override {
    TcpCloseWait::SetUp();
    c_.shutdown_write();
    EXPECT_OUT(Seq(snd(0)), Ack(rcv(1)), Flags(kFin | kAck));
    ASSERT_EQ(c_.state(), kLastAck);
  }
};

TEST_F(TcpLastAck, LastAck_AckOfFin_Closed) {
  in(seg(rcv(1), snd(1), kAck));
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kNormal);
  EXPECT_EQ(c_.take_events(), event::kClosed);
  EXPECT_QUIET();
  EXPECT_EQ(c_.next_deadline(), 0u);
  EXPECT_EQ(mib_.tcp_estab_resets, 0u);
}

TEST_F(TcpLastAck, LastAck_AckBeforeFin_Stays) {
  in(seg(rcv(1), snd(0), kAck));
  EXPECT_EQ(c_.state(), kLastAck);
}

TEST_F(TcpLastAck, LastAck_RtoExpiry_ResendsFin) {
  run_timer();
  EXPECT_OUT(Seq(snd(0)), Ack(rcv(1)), Flags(kFin | kAck), Rexmit(true));
}

TEST_F(TcpLastAck, LastAck_RstExact_Closes) {
  in(seg(rcv(1), 0, kRst));
  EXPECT_EQ(c_.state(), kClosed);
}

// ---- TIME-WAIT --------------------------------------------------------------------------------

class TcpTimeWait : public TcpFinWait2 {
 protected:
  void SetUp() override {
    TcpFinWait2::SetUp();
    in(seg(rcv(0), snd(1), kFin | kAck));
    EXPECT_OUT(Seq(snd(1)), Ack(rcv(1)), Flags(kAck));
    ASSERT_EQ(c_.state(), kTimeWait);
    c_.take_events();
  }
};

TEST_F(TcpTimeWait, TimeWait_FinAgain_RestartsTimer) {
  uint64_t first = c_.next_deadline();
  EXPECT_EQ(first, now_ + kMsl2);
  now_ += kMsl2 / 2;
  in(seg(rcv(0), snd(1), kFin | kAck));  // our ACK was lost
  EXPECT_OUT(Seq(snd(1)), Ack(rcv(1)), Flags(kAck));
  EXPECT_EQ(c_.next_deadline(), now_ + kMsl2);  // RFC 9293: restart the 2 MSL timeout
  now_ = first;
  c_.on_timer(now_);
  EXPECT_EQ(c_.state(), kTimeWait);
}

TEST_F(TcpTimeWait, TimeWait_Expiry_Closed) {
  uint64_t d = c_.next_deadline();
  EXPECT_EQ(run_timer(), d);
  EXPECT_EQ(c_.state(), kClosed);
  EXPECT_EQ(c_.close_reason(), CloseReason::kNormal);
  EXPECT_EQ(c_.take_events(), event::kClosed);
  EXPECT_QUIET();
}

TEST_F(TcpTimeWait, TimeWait_BeforeExpiry_Stays) {
  now_ += kMsl2 - 1;
  c_.on_timer(now_);
  EXPECT_EQ(c_.state(), kTimeWait);
}

TEST_F(TcpTimeWait, TimeWait_Ack_NothingSent) {
  in(seg(rcv(1), snd(1), kAck));
  EXPECT_QUIET();
  EXPECT_EQ(c_.state(), kTimeWait);
}

TEST_F(TcpTimeWait, TimeWait_NewSyn_AcceptedOnlyAboveRcvNxt) {
  Segment syn = seg(rcv(1) + 100000, 0, kSyn);  // RFC 1122 4.2.2.13
  EXPECT_TRUE(c_.time_wait_accepts_syn(syn));
  syn.seq = rcv(0);
  EXPECT_FALSE(c_.time_wait_accepts_syn(syn));
}

TEST_F(TcpTimeWait, TimeWait_RstExact_Closes) {
  in(seg(rcv(1), 0, kRst));
  EXPECT_EQ(c_.state(), kClosed);
}

// ---- sequence numbers across the 2^32 wrap -------------------------------------------------------

class TcpEstablishedWrap : public TcpConnTest {
 protected:
  void SetUp() override {
    iss_ = 0xffffffffu - 3000;
    irs_ = 0xffffffffu - 2000;
    establish();
  }
};

TEST_F(TcpEstablishedWrap, Established_DataAcrossWrap_BothDirections) {
  // Receive 4380 bytes whose sequence numbers wrap past 0, one out of order.
  in(data(1460, 1460));
  EXPECT_OUT(Ack(rcv(0)), Sack({{rcv(1460), rcv(2920)}}));
  in(data(0, 1460));
  EXPECT_OUT(Ack(rcv(2920)), NoSack());
  in(data(2920, 1460));
  EXPECT_EQ(read_all(), 4380u);
  EXPECT_LT(rcv(4380), rcv(0));  // the numbers did wrap
  // Send 5840 bytes across our wrap.
  send(5840);
  auto out = drain();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_SEG(out[3], Seq(snd(4380)), Len(1460), DataAt(4380));
  in(seg(rcv(4380), snd(5840), kAck));
  EXPECT_EQ(c_.info(now_).bytes_out, 5840u);
  EXPECT_EQ(c_.info(now_).snd_una, snd(5840));
  // And a FIN on each side.
  c_.shutdown_write();
  EXPECT_OUT(Seq(snd(5840)), Flags(kFin | kAck));
  in(seg(rcv(4380), snd(5841), kFin | kAck));
  EXPECT_EQ(c_.state(), kTimeWait);
}

}  // namespace
}  // namespace dpdkstack::tcp
