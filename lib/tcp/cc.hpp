// Congestion control (RFC 5681), behind an interface so that another
// algorithm can plug in (CUBIC, RFC 9438, is the next TCP issue's).
//
// Contract:
// - The connection owns loss detection and recovery (which segment to
//   retransmit, when recovery starts and ends: RFC 5681 3.2 and RFC 6582
//   NewReno); the algorithm owns cwnd and ssthresh and is told each event.
//   All sizes in bytes; `flight` is FlightSize (RFC 5681: data sent and not
//   yet acknowledged) when the event happens.
// - No I/O, no clock of its own (now_us is passed), no allocation after
//   construction.
//
// NewReno (RFC 5681 + RFC 6582):
// - initial window: the connection's (RFC 6928's 10 segments by default,
//   capped as the RFC says), ssthresh "arbitrarily high";
// - slow start (cwnd < ssthresh): cwnd += min(acked, SMSS) per ACK (RFC 5681
//   eq. 2, RFC 3465 with L = 1 SMSS);
// - congestion avoidance: cwnd += SMSS once a cwnd's worth of bytes has
//   been acknowledged (RFC 5681 3.1's byte-counting variant);
// - fast retransmit: ssthresh = max(FlightSize / 2, 2 SMSS) (eq. 4), cwnd =
//   ssthresh + 3 SMSS; each further duplicate ACK inflates cwnd by SMSS;
//   a partial ACK deflates it by the bytes acknowledged and adds back SMSS
//   when at least SMSS was acknowledged (RFC 6582 3.2 step 5); the full ACK
//   ends recovery with cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)
//   (step 3, option 1);
// - retransmission timeout: ssthresh as above, cwnd = 1 SMSS (the loss window).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>
#include <string_view>

namespace dpdkstack::tcp {

class CongestionControl {
 public:
  virtual ~CongestionControl() = default;
  virtual std::string_view name() const = 0;
  // The connection is synchronised: sender MSS and initial window known.
  virtual void init(uint32_t mss, uint32_t initial_window) {
    mss_ = mss;
    cwnd_ = initial_window;
    ssthresh_ = kInfinite;
  }
  // The sender MSS changed (path MTU): keep cwnd, resize the unit.
  virtual void set_mss(uint32_t mss) { mss_ = mss; }
  // New data acknowledged outside recovery.
  virtual void on_ack(uint32_t acked, uint32_t flight, uint64_t now_us) = 0;
  // Three duplicate ACKs: loss, recovery begins.
  virtual void on_fast_retransmit(uint32_t flight) = 0;
  virtual void on_recovery_dupack() = 0;
  virtual void on_partial_ack(uint32_t acked) = 0;
  virtual void on_recovery_exit(uint32_t flight) = 0;
  virtual void on_rto(uint32_t flight) = 0;

  uint32_t cwnd() const { return cwnd_; }
  uint32_t ssthresh() const { return ssthresh_; }
  uint32_t mss() const { return mss_; }
  static constexpr uint32_t kInfinite = 0x7fffffff;

 protected:
  uint32_t mss_ = 536;
  uint32_t cwnd_ = 536;
  uint32_t ssthresh_ = kInfinite;
};

class NewReno final : public CongestionControl {
 public:
  std::string_view name() const override { return "newreno"; }
  void init(uint32_t mss, uint32_t initial_window) override {
    CongestionControl::init(mss, initial_window);
    acked_acc_ = 0;
  }
  void on_ack(uint32_t acked, uint32_t /*flight*/, uint64_t /*now_us*/) override {
    if (cwnd_ < ssthresh_) {
      grow(std::min(acked, mss_));
      return;
    }
    acked_acc_ += acked;
    if (acked_acc_ >= cwnd_) {
      acked_acc_ -= cwnd_;
      grow(mss_);
    }
  }
  void on_fast_retransmit(uint32_t flight) override {
    ssthresh_ = std::max(flight / 2, 2 * mss_);
    cwnd_ = ssthresh_ + 3 * mss_;
    acked_acc_ = 0;
  }
  void on_recovery_dupack() override { grow(mss_); }
  void on_partial_ack(uint32_t acked) override {
    cwnd_ = cwnd_ > acked ? cwnd_ - acked : 0;
    if (acked >= mss_) cwnd_ += mss_;
    cwnd_ = std::max(cwnd_, mss_);
  }
  void on_recovery_exit(uint32_t flight) override {
    cwnd_ = std::min(ssthresh_, std::max(flight, mss_) + mss_);
    acked_acc_ = 0;
  }
  void on_rto(uint32_t flight) override {
    ssthresh_ = std::max(flight / 2, 2 * mss_);
    cwnd_ = mss_;
    acked_acc_ = 0;
  }

 private:
  void grow(uint32_t by) { cwnd_ = std::min<uint64_t>(uint64_t{cwnd_} + by, kInfinite) & 0xffffffffu; }
  uint32_t acked_acc_ = 0;
};

// The algorithms by name (config: tcp.congestion_control). nullptr when
// the allocation fails (never throws).
inline bool valid_congestion_control(std::string_view name) { return name == "newreno"; }
inline std::unique_ptr<CongestionControl> make_congestion_control(std::string_view /*name*/) {
  return std::unique_ptr<CongestionControl>(new (std::nothrow) NewReno());
}

}  // namespace dpdkstack::tcp
