// Initial sequence numbers (RFC 6528, RFC 9293 3.4.1).
//
// Contract: isn(tuple, now_us) = M + F(localip, localport, remoteip,
// remoteport, secretkey), where M is a clock that ticks every 4
// microseconds (RFC 9293's suggested rate) and F is SipHash-2-4 under a
// 128-bit key drawn once per stack (the caller passes it: no RNG inside).
// For one 4-tuple, successive ISNs therefore move forward with time as the
// RFC asks (a quick reconnect gets a higher ISN than the old connection
// used), while different tuples' sequence spaces are unrelated and cannot
// be guessed from outside. 0 is never returned (it reads as "no ISN" in
// traces and some middleboxes mistreat it): 0 becomes 1. Pure, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/types.hpp"

namespace dpdkstack::tcp {

// SipHash-2-4 (Aumasson and Bernstein), 64-bit output.
inline uint64_t siphash24(const uint8_t* in, size_t len, uint64_t k0, uint64_t k1) {
  auto rotl = [](uint64_t x, int b) { return (x << b) | (x >> (64 - b)); };
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
  auto round = [&] {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  };
  size_t full = len & ~size_t{7};
  for (size_t i = 0; i < full; i += 8) {
    uint64_t m = 0;
    for (int b = 7; b >= 0; --b) m = (m << 8) | in[i + static_cast<size_t>(b)];
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  uint64_t last = uint64_t{len & 0xff} << 56;
  for (size_t b = 0; b < (len & 7); ++b) last |= uint64_t{in[full + b]} << (8 * b);
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xff;
  for (int r = 0; r < 4; ++r) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

class IsnGenerator {
 public:
  IsnGenerator(uint64_t k0, uint64_t k1) : k0_(k0), k1_(k1) {}

  uint32_t isn(Ipv4Addr laddr, uint16_t lport, Ipv4Addr raddr, uint16_t rport, uint64_t now_us) const {
    uint8_t buf[12];
    std::memcpy(buf, &laddr.v, 4);
    std::memcpy(buf + 4, &raddr.v, 4);
    std::memcpy(buf + 8, &lport, 2);
    std::memcpy(buf + 10, &rport, 2);
    uint32_t f = static_cast<uint32_t>(siphash24(buf, sizeof buf, k0_, k1_));
    uint32_t m = static_cast<uint32_t>(now_us / 4);
    uint32_t v = m + f;
    return v == 0 ? 1 : v;
  }

 private:
  uint64_t k0_, k1_;
};

}  // namespace dpdkstack::tcp
