// TCP sequence-number arithmetic (RFC 9293 3.4): 32-bit numbers compared
// modulo 2^32, wrap-safe, as gVisor's seqnum and the RFC's "=<" do:
// a < b when the signed 32-bit difference a - b is negative. Valid while
// the numbers compared are less than 2^31 apart, which windows (at most
// 2^30 bytes with scaling, RFC 7323 2.3) guarantee.
#pragma once

#include <cstdint>

namespace dpdkstack::tcp {

constexpr int32_t seq_diff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }
constexpr bool seq_lt(uint32_t a, uint32_t b) { return seq_diff(a, b) < 0; }
constexpr bool seq_le(uint32_t a, uint32_t b) { return seq_diff(a, b) <= 0; }
constexpr bool seq_gt(uint32_t a, uint32_t b) { return seq_diff(a, b) > 0; }
constexpr bool seq_ge(uint32_t a, uint32_t b) { return seq_diff(a, b) >= 0; }
constexpr uint32_t seq_max(uint32_t a, uint32_t b) { return seq_lt(a, b) ? b : a; }
constexpr uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }
// lo <= a < hi (an empty range holds nothing).
constexpr bool seq_in(uint32_t a, uint32_t lo, uint32_t hi) { return seq_le(lo, a) && seq_lt(a, hi); }

}  // namespace dpdkstack::tcp
