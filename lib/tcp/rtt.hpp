// The retransmission timer (RFC 6298), in microseconds.
//
// Contract: sample(r) takes one round-trip measurement (the caller follows
// Karn's rule: never a sample from a retransmitted segment). The first
// sets SRTT = R, RTTVAR = R/2; later ones RTTVAR = 3/4 RTTVAR + 1/4
// |SRTT - R|, SRTT = 7/8 SRTT + 1/8 R (2.2, 2.3). RTO = SRTT + max(G,
// 4 RTTVAR) clamped to [min, max] (2.4: the RFC's 1 s minimum is the
// `min` the caller passes; Linux uses 200 ms and so do our defaults). Before
// any sample RTO is `initial` (2.1: 1 s). backoff() doubles RTO up to max
// (5.5); the next sample recomputes it from SRTT/RTTVAR (5.7's "back to
// the computed value"). Pure arithmetic, no clock.
#pragma once

#include <algorithm>
#include <cstdint>

namespace dpdkstack::tcp {

class RttEstimator {
 public:
  static constexpr uint64_t kGranularityUs = 1000;  // G: the timer step runs every millisecond

  RttEstimator() = default;
  RttEstimator(uint64_t initial_us, uint64_t min_us, uint64_t max_us)
      : rto_(initial_us), min_(min_us), max_(max_us) {
    rto_ = std::clamp(rto_, min_, max_);
  }

  void sample(uint64_t r) {
    if (r == 0) r = 1;
    if (srtt_ == 0) {
      srtt_ = r;
      rttvar_ = r / 2;
    } else {
      uint64_t diff = srtt_ > r ? srtt_ - r : r - srtt_;
      rttvar_ = (3 * rttvar_ + diff) / 4;
      srtt_ = (7 * srtt_ + r) / 8;
    }
    if (srtt_ == 0) srtt_ = 1;
    rto_ = std::clamp(srtt_ + std::max(kGranularityUs, 4 * rttvar_), min_, max_);
    ++samples_;
  }
  void backoff() { rto_ = std::min(rto_ * 2, max_); }
  uint64_t rto() const { return rto_; }
  uint64_t srtt() const { return srtt_; }
  uint64_t rttvar() const { return rttvar_; }
  uint64_t samples() const { return samples_; }
  bool has_sample() const { return samples_ != 0; }

 private:
  uint64_t srtt_ = 0, rttvar_ = 0;
  uint64_t rto_ = 1000000, min_ = 200000, max_ = 60000000;
  uint64_t samples_ = 0;
};

}  // namespace dpdkstack::tcp
