// A token bucket (the ICMP error rate limit of RFC 1812 4.3.2.8 and
// RFC 1122 3.2.2; later the filter table's rate action).
//
// Contract: sans-I/O; time comes in as `now` in any monotonic unit with
// `hz` units a second (TSC cycles in the engine). `rate` tokens a second
// refill up to `burst`; take() spends one token or says no. rate 0 means
// unlimited. The bucket starts full.
#pragma once

#include <algorithm>
#include <cstdint>

namespace dpdkstack {

class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(uint32_t rate, uint32_t burst, uint64_t hz) : rate_(rate), burst_(burst), hz_(hz), tokens_(burst) {}

  bool take(uint64_t now) {
    if (rate_ == 0) return true;
    refill(now);
    if (tokens_ == 0) return false;
    --tokens_;
    return true;
  }
  uint32_t tokens(uint64_t now) {
    refill(now);
    return tokens_;
  }

 private:
  void refill(uint64_t now) {
    if (now <= last_) return;
    // Whole tokens earned since `last_`; the remainder of the time is kept
    // by advancing `last_` only by what was paid out.
    uint64_t elapsed = now - last_;
    uint64_t whole = std::min<uint64_t>(elapsed / hz_, burst_);  // seconds, capped: no overflow below
    uint64_t earned = whole * rate_ + (elapsed % hz_) * rate_ / hz_;
    if (earned == 0) return;
    if (earned >= burst_ - tokens_) {
      tokens_ = burst_;
      last_ = now;
    } else {
      tokens_ += static_cast<uint32_t>(earned);
      last_ += earned * hz_ / rate_;
    }
  }

  uint32_t rate_ = 0;
  uint32_t burst_ = 0;
  uint64_t hz_ = 1;
  uint32_t tokens_ = 0;
  uint64_t last_ = 0;
};

}  // namespace dpdkstack
