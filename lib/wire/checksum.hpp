// The Internet checksum (RFC 1071), computed with DPDK's rte_raw_cksum.
//
// Contract: checksum(data, len) returns the value to store in a header field
// whose bytes are zero (or, run over a whole received header including its
// checksum field, 0 when the header is intact).
#pragma once

#include <rte_ip.h>

#include <cstddef>
#include <cstdint>

namespace dpdkstack::wire {

// Ones'-complement sum folded to 16 bits and complemented, in network order
// as a value (store it with store_be16).
inline uint16_t internet_checksum(const uint8_t* data, size_t len) {
  uint16_t sum = rte_raw_cksum(data, len);  // host-order sum of big-endian words, byte-swapped
  sum = static_cast<uint16_t>(~sum);
  // rte_raw_cksum sums 16-bit words in host order; on little-endian hosts the
  // folded value is the byte swap of the big-endian sum.
  return rte_be_to_cpu_16(sum);
}

// RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data
// changed from old_word to new_word (HC' = ~(~HC + ~m + m')), without
// summing the data again. All three values as stored on the wire (read with
// load_be16).
inline uint16_t checksum_adjust(uint16_t sum, uint16_t old_word, uint16_t new_word) {
  uint32_t s = static_cast<uint16_t>(~sum) + static_cast<uint32_t>(static_cast<uint16_t>(~old_word)) + new_word;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

}  // namespace dpdkstack::wire
