// Byte buffers of a TCP connection: the send and receive rings, and the
// out-of-order range list (smoltcp's Assembler idea) that lets segments
// past a hole be kept in the receive ring at their own place.
//
// Contract:
// - ByteRing holds the bytes [start, end) of a stream (absolute 64-bit
//   offsets, so they never wrap) in `capacity` bytes of memory allocated by
//   init() (false when the allocation fails: no exceptions). append() takes
//   what fits; write_at() stores bytes past end (out-of-order data) without
//   making them part of [start, end) until advance_end(); consume() drops
//   bytes from the start. Positions outside what the call allows are the
//   caller's bug: the functions clamp and never write out of bounds.
// - OooRanges keeps at most kMaxRanges disjoint, non-adjacent ranges of
//   out-of-order bytes, sorted; add() merges and refuses (false) a new
//   range that would exceed the bound (the segment is then dropped, RFC
//   9293 allows it: it will be sent again). pop_through(end) removes the
//   ranges the contiguous end has reached and returns the new end. The
//   most recent addition is remembered for the first SACK block (RFC 2018
//   4: "the block containing the most recently received segment").
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace dpdkstack::tcp {

class ByteRing {
 public:
  ByteRing() = default;
  ~ByteRing() { release(); }
  ByteRing(const ByteRing&) = delete;
  ByteRing& operator=(const ByteRing&) = delete;
  ByteRing(ByteRing&& o) noexcept { *this = std::move(o); }
  ByteRing& operator=(ByteRing&& o) noexcept {
    if (this != &o) {
      release();
      buf_ = std::exchange(o.buf_, nullptr);
      cap_ = std::exchange(o.cap_, 0);
      start_ = o.start_;
      end_ = o.end_;
    }
    return *this;
  }

  // Allocates `capacity` bytes; the stream starts at offset `origin`.
  bool init(size_t capacity, uint64_t origin = 0) {
    release();
    buf_ = static_cast<uint8_t*>(std::malloc(capacity == 0 ? 1 : capacity));
    if (buf_ == nullptr) return false;
    cap_ = capacity;
    start_ = end_ = origin;
    return true;
  }
  // Frees the memory; what was held is gone (start() moves to end()).
  void release() {
    std::free(buf_);
    buf_ = nullptr;
    cap_ = 0;
    start_ = end_;
  }
  bool allocated() const { return buf_ != nullptr; }

  size_t capacity() const { return cap_; }
  size_t size() const { return static_cast<size_t>(end_ - start_); }
  size_t free_space() const { return cap_ - size(); }
  uint64_t start() const { return start_; }
  uint64_t end() const { return end_; }

  size_t append(const void* p, size_t n) {
    n = std::min(n, free_space());
    write_at(end_, p, n);
    end_ += n;
    return n;
  }
  // Stores n bytes at stream offset pos, which must lie in [end, start+capacity).
  void write_at(uint64_t pos, const void* p, size_t n) {
    if (cap_ == 0 || pos < start_ || pos + n > start_ + cap_ || n == 0) return;
    size_t at = static_cast<size_t>(pos % cap_);
    size_t first = std::min(n, cap_ - at);
    std::memcpy(buf_ + at, p, first);
    if (first < n) std::memcpy(buf_, static_cast<const uint8_t*>(p) + first, n - first);
  }
  void advance_end(size_t n) { end_ = std::min<uint64_t>(end_ + n, start_ + cap_); }
  // Copies up to n bytes from stream offset pos (inside [start, end)).
  size_t copy_out(uint64_t pos, void* dst, size_t n) const {
    if (cap_ == 0 || pos < start_ || pos >= end_) return 0;
    n = std::min<size_t>(n, static_cast<size_t>(end_ - pos));
    size_t at = static_cast<size_t>(pos % cap_);
    size_t first = std::min(n, cap_ - at);
    std::memcpy(dst, buf_ + at, first);
    if (first < n) std::memcpy(static_cast<uint8_t*>(dst) + first, buf_, n - first);
    return n;
  }
  struct Span {
    const uint8_t* data = nullptr;
    size_t len = 0;
  };
  // The bytes [pos, pos+n) ∩ [start, end) as at most two contiguous spans (no copy).
  std::array<Span, 2> spans(uint64_t pos, size_t n) const {
    std::array<Span, 2> s{};
    if (cap_ == 0 || pos < start_ || pos >= end_) return s;
    n = std::min<size_t>(n, static_cast<size_t>(end_ - pos));
    size_t at = static_cast<size_t>(pos % cap_);
    size_t first = std::min(n, cap_ - at);
    s[0] = {buf_ + at, first};
    if (first < n) s[1] = {buf_, n - first};
    return s;
  }
  void consume(size_t n) { start_ += std::min(n, size()); }

 private:
  uint8_t* buf_ = nullptr;
  size_t cap_ = 0;
  uint64_t start_ = 0, end_ = 0;
};

class OooRanges {
 public:
  static constexpr size_t kMaxRanges = 32;
  struct Range {
    uint64_t start = 0, end = 0;
  };

  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  const Range& operator[](size_t i) const { return r_[i]; }
  void clear() { n_ = 0; }
  // The range holding the most recent addition (valid when !empty()).
  size_t latest() const { return latest_ < n_ ? latest_ : 0; }
  // Bytes held past the contiguous end.
  uint64_t bytes() const {
    uint64_t b = 0;
    for (size_t i = 0; i < n_; ++i) b += r_[i].end - r_[i].start;
    return b;
  }

  bool add(uint64_t s, uint64_t e) {
    if (s >= e) return true;
    // First range that ends at or after s (touching merges).
    size_t i = 0;
    while (i < n_ && r_[i].end < s) ++i;
    if (i < n_ && r_[i].start <= e) {  // overlaps or touches r_[i] (and maybe more)
      r_[i].start = std::min(r_[i].start, s);
      r_[i].end = std::max(r_[i].end, e);
      size_t j = i + 1;
      while (j < n_ && r_[j].start <= r_[i].end) {
        r_[i].end = std::max(r_[i].end, r_[j].end);
        ++j;
      }
      size_t removed = j - (i + 1);
      if (removed != 0) {
        for (size_t k = i + 1; k + removed < n_; ++k) r_[k] = r_[k + removed];
        n_ -= removed;
      }
      latest_ = i;
      return true;
    }
    if (n_ == kMaxRanges) return false;
    for (size_t k = n_; k > i; --k) r_[k] = r_[k - 1];
    r_[i] = {s, e};
    ++n_;
    latest_ = i;
    return true;
  }

  // The contiguous end is now `end`: absorb the ranges it reaches.
  uint64_t pop_through(uint64_t end) {
    size_t k = 0;
    while (k < n_ && r_[k].start <= end) {
      end = std::max(end, r_[k].end);
      ++k;
    }
    if (k != 0) {
      for (size_t m = 0; m + k < n_; ++m) r_[m] = r_[m + k];
      n_ -= k;
      latest_ = latest_ >= k ? latest_ - k : 0;
    }
    return end;
  }

 private:
  std::array<Range, kMaxRanges> r_{};
  size_t n_ = 0;
  size_t latest_ = 0;
};

}  // namespace dpdkstack::tcp
