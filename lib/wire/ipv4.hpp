// IPv4 headers (RFC 791), checked per RFC 1122 3.2.1.
//
// Contract: Ipv4View::check(bytes, len, verify_checksum) validates, in RFC
// order, everything a receiver must: at least 20 bytes, version 4, IHL >= 5
// and within the buffer, total length >= IHL*4 and within the buffer, header
// checksum (unless the NIC already verified it). On failure it names the
// reason; on success every accessor stays inside the header and payload()
// spans exactly total_length - IHL*4 bytes (Ethernet padding excluded).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/types.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace dpdkstack::wire {

namespace ipproto {
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
}  // namespace ipproto

enum class Ipv4Error { kNone, kTruncated, kBadVersion, kBadIhl, kBadTotalLength, kBadChecksum };

class Ipv4View {
 public:
  static constexpr size_t kMinHeaderLen = 20;
  static constexpr uint16_t kFlagDf = 0x4000;
  static constexpr uint16_t kFlagMf = 0x2000;
  static constexpr uint16_t kOffsetMask = 0x1fff;

  Ipv4View() = default;

  static Ipv4Error check(uint8_t* data, size_t len, bool verify_checksum, Ipv4View& out) {
    if (data == nullptr || len < kMinHeaderLen) return Ipv4Error::kTruncated;
    if ((data[0] >> 4) != 4) return Ipv4Error::kBadVersion;
    size_t hl = size_t{data[0] & 0x0fu} * 4;
    if (hl < kMinHeaderLen || hl > len) return Ipv4Error::kBadIhl;
    size_t tl = load_be16(data + 2);
    if (tl < hl || tl > len) return Ipv4Error::kBadTotalLength;
    if (verify_checksum && internet_checksum(data, hl) != 0) return Ipv4Error::kBadChecksum;
    out = Ipv4View(data);
    return Ipv4Error::kNone;
  }

  // A header we built, or checked before (a view taken again after the
  // buffer moved): no checks.
  static Ipv4View trusted(uint8_t* data) { return Ipv4View(data); }

  uint8_t* data() const { return p_; }
  size_t header_len() const { return size_t{p_[0] & 0x0fu} * 4; }
  uint8_t tos() const { return p_[1]; }
  uint16_t total_length() const { return load_be16(p_ + 2); }
  uint16_t ident() const { return load_be16(p_ + 4); }
  uint16_t flags_frag() const { return load_be16(p_ + 6); }
  bool dont_fragment() const { return (flags_frag() & kFlagDf) != 0; }
  bool more_fragments() const { return (flags_frag() & kFlagMf) != 0; }
  uint16_t frag_offset_bytes() const { return static_cast<uint16_t>((flags_frag() & kOffsetMask) * 8); }
  bool is_fragment() const { return (flags_frag() & (kFlagMf | kOffsetMask)) != 0; }
  uint8_t ttl() const { return p_[8]; }
  uint8_t protocol() const { return p_[9]; }
  uint16_t checksum() const { return load_be16(p_ + 10); }
  Ipv4Addr src() const { return Ipv4Addr(load_be32(p_ + 12)); }
  Ipv4Addr dst() const { return Ipv4Addr(load_be32(p_ + 16)); }
  uint8_t* payload() const { return p_ + header_len(); }
  size_t payload_len() const { return total_length() - header_len(); }

  void set_ttl(uint8_t t) { p_[8] = t; }
  void set_total_length(uint16_t n) { store_be16(p_ + 2, n); }
  void set_flags_frag(uint16_t v) { store_be16(p_ + 6, v); }
  void set_src(Ipv4Addr a) { store_be32(p_ + 12, a.v); }
  void set_dst(Ipv4Addr a) { store_be32(p_ + 16, a.v); }
  void set_checksum(uint16_t c) { store_be16(p_ + 10, c); }
  void fill_checksum() {
    set_checksum(0);
    set_checksum(internet_checksum(p_, header_len()));
  }
  // RFC 1812 5.3.1 / RFC 1624: TTL minus one, checksum updated in place.
  void decrement_ttl() {
    uint16_t old_word = load_be16(p_ + 8);  // TTL and protocol share a word
    --p_[8];
    set_checksum(checksum_adjust(checksum(), old_word, load_be16(p_ + 8)));
  }

 private:
  explicit Ipv4View(uint8_t* p) : p_(p) {}
  uint8_t* p_ = nullptr;
};

// The fields of an option-less header we emit.
struct Ipv4Repr {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint8_t protocol = 0;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint16_t ident = 0;
  bool dont_fragment = false;
  uint16_t payload_len = 0;

  static Ipv4Repr parse(const Ipv4View& v) {
    return {v.src(),        v.dst(),   v.protocol(),        v.ttl(),
            v.tos(),        v.ident(), v.dont_fragment(),   static_cast<uint16_t>(v.payload_len())};
  }

  // Writes a 20-byte header; the checksum is filled unless the NIC will.
  void emit(uint8_t* out, bool fill_checksum) const {
    out[0] = 0x45;
    out[1] = tos;
    store_be16(out + 2, static_cast<uint16_t>(Ipv4View::kMinHeaderLen + payload_len));
    store_be16(out + 4, ident);
    store_be16(out + 6, dont_fragment ? Ipv4View::kFlagDf : 0);
    out[8] = ttl;
    out[9] = protocol;
    store_be16(out + 10, 0);
    store_be32(out + 12, src.v);
    store_be32(out + 16, dst.v);
    if (fill_checksum) store_be16(out + 10, internet_checksum(out, Ipv4View::kMinHeaderLen));
  }
  friend bool operator==(const Ipv4Repr&, const Ipv4Repr&) = default;
};

}  // namespace dpdkstack::wire
