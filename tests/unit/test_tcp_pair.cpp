// Two sans-I/O connections back to back: what one polls, the other is fed,
// through the wire format (TcpRepr::emit, then TcpView::check and
// parse_tcp_options, as the receive path does), over a simulated link that
// can lose, duplicate and reorder segments (seeded: deterministic). Time is
// simulated: the loop jumps to the next delivery, timer or reader wake-up.
// Every byte is checked against the sender's stream by position.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/counters.hpp"
#include "tcp/connection.hpp"
#include "tcp_test_util.hpp"

namespace dpdkstack::tcp {
namespace {

using namespace wire::tcpflag;

const Ipv4Addr kAddrA = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kAddrB = Ipv4Addr::from_octets(10, 0, 0, 2);
constexpr uint64_t kNever = UINT64_MAX;

const std::vector<uint8_t>& stream(int which) {
  static const std::vector<uint8_t> s[2] = {
      [] {
        std::vector<uint8_t> v(6 << 20);
        std::mt19937 r(11);
        for (auto& b : v) b = static_cast<uint8_t>(r());
        return v;
      }(),
      [] {
        std::vector<uint8_t> v(6 << 20);
        std::mt19937 r(22);
        for (auto& b : v) b = static_cast<uint8_t>(r());
        return v;
      }()};
  return s[which];
}

struct LinkConfig {
  double loss = 0;
  double dup = 0;
  uint64_t delay_us = 1000;   // one way
  uint64_t jitter_us = 0;     // extra delay drawn uniformly: reorders
  uint32_t seed = 1;
};

// One end: the connection and its application.
struct End {
  Connection c;
  Tuple tuple;
  Settings cfg;
  uint32_t iss = 0;
  LcoreCounters mib{};
  bool open = false;     // a passive end opens on the first SYN
  const std::vector<uint8_t>* out = nullptr;  // what it writes
  const std::vector<uint8_t>* in = nullptr;   // what it must read
  uint64_t to_send = 0, sent = 0, received = 0, expect = 0;
  bool close_after_send = true;  // shutdown_write once everything is queued
  bool wait_eof_before_close = false;
  bool shut = false;
  uint64_t read_chunk = UINT64_MAX, read_interval = 0, next_read = 0;  // a slow reader
  uint8_t events = 0;
  int connected_events = 0, closed_events = 0, peer_closed_events = 0;
  bool data_error = false;
};

class TcpPairTest : public ::testing::Test {
 protected:
  TcpPairTest() {
    for (int i = 0; i < 2; ++i) {
      e_[i].cfg.snd_buf = 256 * 1024;
      e_[i].cfg.rcv_buf = 256 * 1024;
      e_[i].out = &stream(i);
      e_[i].in = &stream(1 - i);
    }
    e_[0].tuple = {kAddrA, 40000, kAddrB, 80};
    e_[1].tuple = {kAddrB, 80, kAddrA, 40000};
    e_[0].iss = 0x11111111;
    e_[1].iss = 0x77777777;
  }

  // A opens actively; B is a listener that opens on A's SYN.
  void start_client_server() {
    ASSERT_TRUE(e_[0].c.open_active(e_[0].tuple, e_[0].cfg, e_[0].iss, now_, &e_[0].mib));
    e_[0].open = true;
  }
  // Both open actively: a simultaneous open (RFC 9293 3.5 figure 8).
  void start_simultaneous() {
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(e_[i].c.open_active(e_[i].tuple, e_[i].cfg, e_[i].iss, now_, &e_[i].mib));
      e_[i].open = true;
    }
  }

  void transmit(int from) {
    End& e = e_[from];
    if (!e.open) return;
    OutSegment o;
    for (int n = 0; n < 100000 && e.c.poll(now_, o); ++n) {
      ++segments_;
      std::vector<uint8_t> bytes;
      Segment s;
      if (!to_wire_and_back(o, e.c, bytes, s)) {
        ADD_FAILURE() << "segment does not survive the wire: " << describe(o);
        continue;
      }
      EXPECT_LE(bytes.size() - o.len, 60u);
      if (o.len != 0) {
        // What the segment carries is the sender's stream at its place.
        if (!std::equal(bytes.end() - o.len, bytes.end(), e.out->begin() + static_cast<long>(o.data_pos)))
          e.data_error = true;
      }
      if (uni_(rng_) < link_.loss) {
        ++lost_;
        continue;
      }
      int copies = uni_(rng_) < link_.dup ? 2 : 1;
      for (int k = 0; k < copies; ++k) {
        uint64_t jitter = link_.jitter_us ? rng_() % link_.jitter_us : 0;
        q_.push(Packet{now_ + link_.delay_us + jitter, order_++, 1 - from, bytes});
      }
    }
  }

  void deliver(const std::vector<uint8_t>& bytes, int to) {
    End& e = e_[to];
    wire::TcpView v;
    ASSERT_EQ(wire::TcpView::check(bytes.data(), bytes.size(), v), wire::TcpError::kNone);
    Segment s;
    ASSERT_EQ(wire::parse_tcp_options(v.options(), v.options_len(), s.opts), wire::TcpOptionError::kNone);
    s.seq = v.seq();
    s.ack = v.ack();
    s.flags = v.flags();
    s.wnd = v.window();
    s.len = static_cast<uint32_t>(bytes.size() - v.header_len());
    s.data = s.len ? bytes.data() + v.header_len() : nullptr;
    if (!e.open) {
      // The listener: a SYN opens a connection, anything else is dropped
      // (a real stack would answer it with a RST).
      if (!s.has(kSyn) || s.has(kAck) || s.has(kRst)) return;
      ASSERT_TRUE(e.c.open_passive(e.tuple, e.cfg, e.iss, s, now_, &e.mib));
      e.open = true;
      return;
    }
    e.c.on_segment(s, now_);
  }

  void app(int i) {
    End& e = e_[i];
    if (!e.open) return;
    uint8_t ev = e.c.take_events();
    e.events |= ev;
    if (ev & event::kConnected) ++e.connected_events;
    if (ev & event::kClosed) ++e.closed_events;
    if (ev & event::kPeerClosed) ++e.peer_closed_events;
    if (e.c.in_state(kEstablished | kCloseWait)) {
      while (e.sent < e.to_send) {
        size_t n = e.c.send(e.out->data() + e.sent, static_cast<size_t>(std::min<uint64_t>(e.to_send - e.sent, 65536)));
        if (n == 0) break;
        e.sent += n;
      }
      bool may_close = !e.wait_eof_before_close || e.c.at_eof();
      if (e.close_after_send && !e.shut && e.sent == e.to_send && may_close) {
        e.c.shutdown_write();
        e.shut = true;
      }
    }
    if (e.c.readable() != 0 && now_ >= e.next_read) {
      uint8_t buf[65536];
      uint64_t budget = e.read_chunk;
      while (budget != 0) {
        size_t n = e.c.recv(buf, static_cast<size_t>(std::min<uint64_t>(budget, sizeof buf)));
        if (n == 0) break;
        if (e.received + n > e.in->size() ||
            !std::equal(buf, buf + n, e.in->begin() + static_cast<long>(e.received)))
          e.data_error = true;
        e.received += n;
        budget = budget == UINT64_MAX ? budget : budget - n;
      }
      if (e.read_interval != 0) e.next_read = now_ + e.read_interval;
    }
  }

  uint64_t next_event() const {
    uint64_t next = q_.empty() ? kNever : q_.top().at;
    for (const End& e : e_) {
      if (!e.open) continue;
      uint64_t d = e.c.next_deadline();
      if (d != 0) next = std::min(next, d);
      if (e.c.readable() != 0 && e.next_read > now_) next = std::min(next, e.next_read);
    }
    return next;
  }

  // Runs until done() or until simulated time passes `limit`; false then.
  bool run(const std::function<bool()>& done, uint64_t limit) {
    for (uint64_t iter = 0; iter < 5'000'000; ++iter) {
      for (int k = 0; k < 3; ++k) {  // let each side react to the other's events within this instant
        app(0);
        app(1);
        transmit(0);
        transmit(1);
      }
      if (done()) return true;
      uint64_t next = next_event();
      if (next == kNever || next > limit) return false;
      if (q_.size() > 200000) {
        ADD_FAILURE() << "segment storm: " << q_.size() << " segments queued at " << now_ << " us" << dump();
        return false;
      }
      now_ = std::max(now_, next);
      while (!q_.empty() && q_.top().at <= now_) {
        Packet p = q_.top();
        q_.pop();
        deliver(p.bytes, p.to);
      }
      for (End& e : e_) {
        uint64_t d = e.open ? e.c.next_deadline() : 0;
        if (d != 0 && d <= now_) e.c.on_timer(now_);
      }
    }
    ADD_FAILURE() << "iteration bound reached";
    return false;
  }

  // What the two ends and the head of the link look like (for a failure).
  std::string dump() const {
    std::string out;
    for (int i = 0; i < 2; ++i) {
      auto f = e_[i].c.info(now_);
      out += "\n  end " + std::to_string(i) + ": " + std::string(state_name(f.state)) + " una " +
             std::to_string(f.snd_una) + " nxt " + std::to_string(f.snd_nxt) + " max " + std::to_string(f.snd_max) +
             " rcv_nxt " + std::to_string(f.rcv_nxt) + " snd_wnd " + std::to_string(f.snd_wnd) + " rcv_wnd " +
             std::to_string(f.rcv_wnd) + " cwnd " + std::to_string(f.cwnd) + " rto " + std::to_string(f.rto_us) +
             " retries " + std::to_string(f.retries) + " deadline " + std::to_string(e_[i].c.next_deadline());
    }
    auto q = q_;
    for (int k = 0; k < 8 && !q.empty(); ++k, q.pop()) {
      wire::TcpView v;
      if (wire::TcpView::check(q.top().bytes.data(), q.top().bytes.size(), v) != wire::TcpError::kNone) continue;
      out += "\n  queued at " + std::to_string(q.top().at) + " to " + std::to_string(q.top().to) + ": seq " +
             std::to_string(v.seq()) + " ack " + std::to_string(v.ack()) + " " + flag_names(v.flags()) + " wnd " +
             std::to_string(v.window()) + " len " + std::to_string(q.top().bytes.size() - v.header_len());
    }
    return out;
  }

  bool transferred() const {
    for (const End& e : e_)
      if (e.received != e.expect || e.sent != e.to_send) return false;
    return true;
  }
  bool both_done() const {
    return transferred() && e_[0].c.in_state(kTimeWait | kClosed) && e_[1].c.in_state(kTimeWait | kClosed);
  }

  // Moves `a_to_b` and `b_to_a` bytes and closes; A (the first to finish
  // sending) ends in TIME-WAIT. Checks every byte and the ends' states.
  void transfer_and_close(uint64_t a_to_b, uint64_t b_to_a, uint64_t limit) {
    e_[0].to_send = e_[1].expect = a_to_b;
    e_[1].to_send = e_[0].expect = b_to_a;
    e_[0].close_after_send = e_[1].close_after_send = true;
  e_[1].wait_eof_before_close = true;  // the server closes after the client's FIN
    bool ok = run([&] { return both_done(); }, limit);
    EXPECT_TRUE(ok) << "not done at " << now_ << " us: A " << state_name(e_[0].c.state()) << " sent "
                    << e_[0].sent << "/" << e_[0].to_send << " got " << e_[0].received << "/" << e_[0].expect
                    << "; B " << state_name(e_[1].c.state()) << " sent " << e_[1].sent << "/" << e_[1].to_send
                    << " got " << e_[1].received << "/" << e_[1].expect << dump();
    for (int i = 0; i < 2; ++i) {
      EXPECT_FALSE(e_[i].data_error) << "end " << i;
      EXPECT_EQ(e_[i].received, e_[i].expect) << "end " << i;
      EXPECT_TRUE(e_[i].c.at_eof() || e_[i].c.state() == kClosed) << "end " << i;
    }
  }

  struct Packet {
    uint64_t at;
    uint64_t order;
    int to;
    std::vector<uint8_t> bytes;
    bool operator>(const Packet& o) const { return std::tie(at, order) > std::tie(o.at, o.order); }
  };

  End e_[2];
  LinkConfig link_;
  uint64_t now_ = 1'000'000;
  std::priority_queue<Packet, std::vector<Packet>, std::greater<Packet>> q_;
  uint64_t order_ = 0;
  std::mt19937_64 rng_{1};
  std::uniform_real_distribution<double> uni_{0.0, 1.0};
  uint64_t lost_ = 0, segments_ = 0;
};

TEST_F(TcpPairTest, Pair_HandshakeTransferClose_ByteExact) {
  start_client_server();
  transfer_and_close(300'000, 120'000, 60'000'000);
  EXPECT_EQ(e_[0].c.state(), kTimeWait);  // the first to close waits 2 MSL
  EXPECT_EQ(e_[1].c.state(), kClosed);
  EXPECT_EQ(e_[1].c.close_reason(), CloseReason::kNormal);
  EXPECT_EQ(e_[0].connected_events, 1);
  EXPECT_EQ(e_[1].connected_events, 1);
  EXPECT_EQ(e_[0].peer_closed_events, 1);
  EXPECT_EQ(e_[1].peer_closed_events, 1);
  EXPECT_EQ(e_[1].closed_events, 1);
  for (int i = 0; i < 2; ++i) {
    auto info = e_[i].c.info(now_);
    EXPECT_EQ(info.retransmits, 0u) << "clean link, end " << i;
    EXPECT_TRUE(info.wscale_ok && info.ts_ok && info.sack_ok) << i;
  }
  // TIME-WAIT runs out.
  uint64_t tw_end = now_ + 61'000'000;
  EXPECT_TRUE(run([&] { return e_[0].c.state() == kClosed; }, tw_end));
  EXPECT_EQ(e_[0].c.close_reason(), CloseReason::kNormal);
  EXPECT_EQ(e_[0].closed_events, 1);
}

TEST_F(TcpPairTest, Pair_SimultaneousOpen_BothEstablished) {
  e_[0].close_after_send = e_[1].close_after_send = false;
  start_simultaneous();
  EXPECT_TRUE(run([&] { return e_[0].c.state() == kEstablished && e_[1].c.state() == kEstablished; }, 10'000'000));
  EXPECT_EQ(e_[0].connected_events, 1);
  EXPECT_EQ(e_[1].connected_events, 1);
  transfer_and_close(50'000, 50'000, 60'000'000);
}

TEST_F(TcpPairTest, Pair_SimultaneousClose_BothTimeWait) {
  start_client_server();
  e_[0].to_send = e_[1].expect = 10'000;
  e_[1].to_send = e_[0].expect = 10'000;
  e_[0].close_after_send = e_[1].close_after_send = false;
  ASSERT_TRUE(run([&] { return transferred(); }, 10'000'000));
  // Both close in the same instant: their FINs cross (RFC 9293 3.6 figure 13).
  e_[0].c.shutdown_write();
  e_[1].c.shutdown_write();
  EXPECT_EQ(e_[0].c.state(), kFinWait1);
  EXPECT_EQ(e_[1].c.state(), kFinWait1);
  transmit(0);
  transmit(1);
  ASSERT_TRUE(run([&] { return e_[0].c.state() == kTimeWait && e_[1].c.state() == kTimeWait; }, 10'000'000))
      << state_name(e_[0].c.state()) << " " << state_name(e_[1].c.state());
  ASSERT_TRUE(run([&] { return e_[0].c.state() == kClosed && e_[1].c.state() == kClosed; }, now_ + 61'000'000));
  EXPECT_EQ(e_[0].c.close_reason(), CloseReason::kNormal);
  EXPECT_EQ(e_[1].c.close_reason(), CloseReason::kNormal);
}

TEST_F(TcpPairTest, Pair_SequenceWrap_TransferByteExact) {
  e_[0].iss = 0xffffffffu - 100'000;
  e_[1].iss = 0xffffffffu - 5;
  link_.loss = 0.01;
  link_.jitter_us = 500;
  start_client_server();
  transfer_and_close(1'000'000, 300'000, 120'000'000);
}

TEST_F(TcpPairTest, Pair_SlowReader_ZeroWindowEpisodes_ByteExact) {
  e_[1].cfg.rcv_buf = 16 * 1024;
  e_[1].read_chunk = 4096;
  e_[1].read_interval = 20'000;  // 200 KB/s
  start_client_server();
  transfer_and_close(600'000, 1000, 30'000'000);
  // The reader, not TCP, sets the pace: 600 KB at 4 KB per 20 ms is 2.9 s;
  // each zero-window episode must not add an RTO.
  EXPECT_LT(now_, 1'000'000u + 4'500'000u);
}

TEST_F(TcpPairTest, Pair_SlowReaderLossyLink_ByteExact) {
  e_[1].cfg.rcv_buf = 16 * 1024;
  e_[1].read_chunk = 3000;
  e_[1].read_interval = 5'000;
  link_.loss = 0.03;
  link_.jitter_us = 300;
  link_.seed = 5;
  rng_.seed(5);
  start_client_server();
  transfer_and_close(400'000, 5000, 120'000'000);
}

// ---- seeded lossy, duplicating, reordering links ----------------------------------------------

struct LossyCase {
  uint32_t seed;
  double loss, dup;
  uint64_t jitter_us;
  bool timestamps, sack, window_scaling;  // of the server
  uint64_t a_to_b, b_to_a;
};

class TcpLossyLink : public TcpPairTest, public ::testing::WithParamInterface<LossyCase> {};

TEST_P(TcpLossyLink, Pair_LossyReorderingLink_MovesMegabytesByteExact) {
  const LossyCase& p = GetParam();
  link_.loss = p.loss;
  link_.dup = p.dup;
  link_.jitter_us = p.jitter_us;
  rng_.seed(p.seed);
  e_[1].cfg.timestamps = p.timestamps;
  e_[1].cfg.sack = p.sack;
  e_[1].cfg.window_scaling = p.window_scaling;
  start_client_server();
  transfer_and_close(p.a_to_b, p.b_to_a, 600'000'000);
  uint64_t rexmit = e_[0].c.info(now_).retransmits + e_[1].c.info(now_).retransmits;
  if (p.loss > 0) {
    EXPECT_GT(rexmit, 0u);
  }
  RecordProperty("simulated_ms", std::to_string(now_ / 1000));
  RecordProperty("segments", std::to_string(segments_));
  RecordProperty("lost", std::to_string(lost_));
}

INSTANTIATE_TEST_SUITE_P(
    Tcp, TcpLossyLink,
    ::testing::Values(LossyCase{1, 0.00, 0.00, 0, true, true, true, 4'000'000, 1'000'000},
                      LossyCase{2, 0.02, 0.01, 2000, true, true, true, 4'000'000, 1'000'000},
                      LossyCase{3, 0.05, 0.02, 3000, true, true, true, 3'000'000, 500'000},
                      LossyCase{4, 0.03, 0.00, 5000, false, true, true, 3'000'000, 500'000},
                      LossyCase{5, 0.03, 0.01, 1000, true, false, true, 3'000'000, 500'000},
                      LossyCase{6, 0.03, 0.01, 1000, false, false, false, 2'000'000, 500'000},
                      LossyCase{7, 0.10, 0.05, 4000, true, true, true, 1'000'000, 200'000}),
    [](const ::testing::TestParamInfo<LossyCase>& param) { return "seed" + std::to_string(param.param.seed); });

}  // namespace
}  // namespace dpdkstack::tcp
