// TCP headers and options (RFC 9293 3.1, RFC 7323, RFC 2018, RFC 6691).
//
// Contract:
// - TcpView::check(bytes, len, out) takes the IP payload (`len` bytes) and
//   accepts it when it holds a 20-byte header whose data offset is at least
//   5 words and does not run past `len`. The checksum is the caller's (it
//   needs the pseudo header and may be the NIC's verdict): see
//   transport_checksum in wire/udp.hpp.
// - parse_tcp_options(bytes, len, out) reads the option area (data offset
//   minus 20 bytes). EOL ends it; NOP is skipped; every other option must
//   carry a length byte of at least 2 that stays inside the area
//   (kTruncated otherwise), and the options we know must have their exact
//   length (MSS 4, window scale 3, SACK-permitted 2, timestamps 10, SACK
//   2 + 8n with n 1..4: kBadLength otherwise). Unknown options are skipped
//   by their length. A window scale above 14 is taken as 14 (RFC 7323
//   2.3). The segment with a bad option is the caller's to drop.
// - emit_tcp_options(opts, out) writes the options `opts` asks for, padded
//   with NOPs to a multiple of 4 bytes, at most 40 bytes, and returns the
//   length; tcp_options_len(opts) tells the length first. On a SYN: MSS,
//   SACK-permitted, timestamps, window scale (Linux's order and padding);
//   on other segments: timestamps, then up to 4 SACK blocks (3 with
//   timestamps: the 40-byte limit).
// - TcpRepr::emit writes the 20-byte header and the options; the checksum
//   field is left zero (the caller fills it, or the NIC does).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "wire/bytes.hpp"

namespace dpdkstack::wire {

namespace tcpflag {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;
inline constexpr uint8_t kEce = 0x40;
inline constexpr uint8_t kCwr = 0x80;
}  // namespace tcpflag

namespace tcpopt {
inline constexpr uint8_t kEol = 0;
inline constexpr uint8_t kNop = 1;
inline constexpr uint8_t kMss = 2;
inline constexpr uint8_t kWindowScale = 3;
inline constexpr uint8_t kSackPermitted = 4;
inline constexpr uint8_t kSack = 5;
inline constexpr uint8_t kTimestamps = 8;
}  // namespace tcpopt

struct TcpSackBlock {
  uint32_t left = 0, right = 0;  // [left, right) in sequence space
  friend bool operator==(const TcpSackBlock&, const TcpSackBlock&) = default;
};

struct TcpOptions {
  static constexpr uint8_t kMaxWindowScale = 14;
  static constexpr size_t kMaxSackBlocks = 4;

  bool has_mss = false;
  uint16_t mss = 0;
  bool has_wscale = false;
  uint8_t wscale = 0;
  bool sack_permitted = false;
  bool has_timestamps = false;
  uint32_t ts_val = 0, ts_ecr = 0;
  uint8_t n_sack = 0;
  std::array<TcpSackBlock, kMaxSackBlocks> sack{};
  friend bool operator==(const TcpOptions&, const TcpOptions&) = default;
};

enum class TcpOptionError : uint8_t { kNone, kTruncated, kBadLength };

inline TcpOptionError parse_tcp_options(const uint8_t* p, size_t len, TcpOptions& out) {
  out = TcpOptions{};
  size_t i = 0;
  while (i < len) {
    uint8_t kind = p[i];
    if (kind == tcpopt::kEol) break;
    if (kind == tcpopt::kNop) {
      ++i;
      continue;
    }
    if (i + 1 >= len) return TcpOptionError::kTruncated;
    size_t olen = p[i + 1];
    if (olen < 2) return TcpOptionError::kBadLength;
    if (i + olen > len) return TcpOptionError::kTruncated;
    const uint8_t* v = p + i + 2;
    switch (kind) {
      case tcpopt::kMss:
        if (olen != 4) return TcpOptionError::kBadLength;
        out.has_mss = true;
        out.mss = load_be16(v);
        break;
      case tcpopt::kWindowScale:
        if (olen != 3) return TcpOptionError::kBadLength;
        out.has_wscale = true;
        out.wscale = v[0] > TcpOptions::kMaxWindowScale ? TcpOptions::kMaxWindowScale : v[0];
        break;
      case tcpopt::kSackPermitted:
        if (olen != 2) return TcpOptionError::kBadLength;
        out.sack_permitted = true;
        break;
      case tcpopt::kTimestamps:
        if (olen != 10) return TcpOptionError::kBadLength;
        out.has_timestamps = true;
        out.ts_val = load_be32(v);
        out.ts_ecr = load_be32(v + 4);
        break;
      case tcpopt::kSack: {
        size_t n = (olen - 2) / 8;
        if ((olen - 2) % 8 != 0 || n == 0 || n > TcpOptions::kMaxSackBlocks) return TcpOptionError::kBadLength;
        out.n_sack = static_cast<uint8_t>(n);
        for (size_t k = 0; k < n; ++k) out.sack[k] = {load_be32(v + 8 * k), load_be32(v + 8 * k + 4)};
        break;
      }
      default: break;  // unknown: skipped by its length
    }
    i += olen;
  }
  return TcpOptionError::kNone;
}

// What a segment we send carries. `syn`: the SYN layout (MSS, SACK-permitted,
// window scale allowed); otherwise only timestamps and SACK blocks.
struct TcpOptionsOut {
  bool syn = false;
  bool has_mss = false;
  uint16_t mss = 0;
  bool has_wscale = false;
  uint8_t wscale = 0;
  bool sack_permitted = false;
  bool has_timestamps = false;
  uint32_t ts_val = 0, ts_ecr = 0;
  uint8_t n_sack = 0;
  std::array<TcpSackBlock, TcpOptions::kMaxSackBlocks> sack{};
};

inline size_t tcp_options_len(const TcpOptionsOut& o) {
  size_t n = 0;
  if (o.syn) {
    if (o.has_mss) n += 4;
    if (o.sack_permitted || o.has_timestamps) n += o.has_timestamps ? 12 : 4;  // SACK-perm + TS, or NOPs pad
    if (o.has_wscale) n += 4;
    return n;
  }
  if (o.has_timestamps) n += 12;
  size_t blocks = o.n_sack;
  size_t max_blocks = o.has_timestamps ? 3 : 4;
  if (blocks > max_blocks) blocks = max_blocks;
  if (blocks != 0) n += 4 + 8 * blocks;  // NOP NOP kind len + blocks
  return n;
}

inline size_t emit_tcp_options(const TcpOptionsOut& o, uint8_t* out) {
  size_t i = 0;
  auto ts = [&] {
    out[i++] = tcpopt::kTimestamps;
    out[i++] = 10;
    store_be32(out + i, o.ts_val);
    store_be32(out + i + 4, o.ts_ecr);
    i += 8;
  };
  if (o.syn) {
    if (o.has_mss) {
      out[i++] = tcpopt::kMss;
      out[i++] = 4;
      store_be16(out + i, o.mss);
      i += 2;
    }
    if (o.sack_permitted && o.has_timestamps) {
      out[i++] = tcpopt::kSackPermitted;
      out[i++] = 2;
      ts();
    } else if (o.has_timestamps) {
      out[i++] = tcpopt::kNop;
      out[i++] = tcpopt::kNop;
      ts();
    } else if (o.sack_permitted) {
      out[i++] = tcpopt::kNop;
      out[i++] = tcpopt::kNop;
      out[i++] = tcpopt::kSackPermitted;
      out[i++] = 2;
    }
    if (o.has_wscale) {
      out[i++] = tcpopt::kNop;
      out[i++] = tcpopt::kWindowScale;
      out[i++] = 3;
      out[i++] = o.wscale;
    }
    return i;
  }
  if (o.has_timestamps) {
    out[i++] = tcpopt::kNop;
    out[i++] = tcpopt::kNop;
    ts();
  }
  size_t blocks = o.n_sack;
  size_t max_blocks = o.has_timestamps ? 3 : 4;
  if (blocks > max_blocks) blocks = max_blocks;
  if (blocks != 0) {
    out[i++] = tcpopt::kNop;
    out[i++] = tcpopt::kNop;
    out[i++] = tcpopt::kSack;
    out[i++] = static_cast<uint8_t>(2 + 8 * blocks);
    for (size_t k = 0; k < blocks; ++k) {
      store_be32(out + i, o.sack[k].left);
      store_be32(out + i + 4, o.sack[k].right);
      i += 8;
    }
  }
  return i;
}

enum class TcpError : uint8_t { kNone, kTruncated, kBadOffset };

class TcpView {
 public:
  static constexpr size_t kHeaderLen = 20;
  static constexpr size_t kMaxHeaderLen = 60;

  TcpView() = default;

  static TcpError check(const uint8_t* data, size_t len, TcpView& out) {
    if (data == nullptr || len < kHeaderLen) return TcpError::kTruncated;
    size_t doff = static_cast<size_t>(data[12] >> 4) * 4;
    if (doff < kHeaderLen || doff > len) return TcpError::kBadOffset;
    out = TcpView(data);
    return TcpError::kNone;
  }
  // Over bytes known to be a valid header (our own).
  static TcpView trusted(const uint8_t* data) { return TcpView(data); }

  uint16_t src_port() const { return load_be16(p_); }
  uint16_t dst_port() const { return load_be16(p_ + 2); }
  uint32_t seq() const { return load_be32(p_ + 4); }
  uint32_t ack() const { return load_be32(p_ + 8); }
  size_t header_len() const { return static_cast<size_t>(p_[12] >> 4) * 4; }
  uint8_t flags() const { return p_[13]; }
  uint16_t window() const { return load_be16(p_ + 14); }
  uint16_t checksum() const { return load_be16(p_ + 16); }
  uint16_t urgent() const { return load_be16(p_ + 18); }
  const uint8_t* options() const { return p_ + kHeaderLen; }
  size_t options_len() const { return header_len() - kHeaderLen; }
  const uint8_t* data() const { return p_; }

 private:
  explicit TcpView(const uint8_t* p) : p_(p) {}
  const uint8_t* p_ = nullptr;
};

struct TcpRepr {
  uint16_t src_port = 0, dst_port = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  TcpOptionsOut options;

  size_t header_len() const { return TcpView::kHeaderLen + tcp_options_len(options); }
  // Writes header_len() bytes; checksum and urgent pointer zero.
  size_t emit(uint8_t* out) const {
    store_be16(out, src_port);
    store_be16(out + 2, dst_port);
    store_be32(out + 4, seq);
    store_be32(out + 8, ack);
    size_t olen = emit_tcp_options(options, out + TcpView::kHeaderLen);
    size_t hl = TcpView::kHeaderLen + olen;
    out[12] = static_cast<uint8_t>((hl / 4) << 4);
    out[13] = flags;
    store_be16(out + 14, window);
    store_be16(out + 16, 0);
    store_be16(out + 18, 0);
    return hl;
  }
};

}  // namespace dpdkstack::wire
