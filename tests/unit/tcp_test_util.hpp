// Helpers for the TCP connection tests: gtest printers for the TCP types,
// and gVisor-style segment checkers: each checker looks at one field of an
// OutSegment and says "field: got X, want Y" when it differs, so that
//
//   EXPECT_SEG(seg, Seq(1001), Ack(5001), Flags(kAck), Wnd(32768), Len(0));
//
// reports every wrong field of the segment at once, with the segment itself.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "tcp/connection.hpp"
#include "wire/tcp.hpp"

namespace dpdkstack::tcp {

inline void PrintTo(State s, std::ostream* os) { *os << state_name(s); }
inline void PrintTo(CloseReason r, std::ostream* os) { *os << close_reason_name(r); }

inline std::string flag_names(uint8_t f) {
  static const char* kNames[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
  std::string s;
  for (int b = 0; b < 8; ++b) {
    if ((f & (1u << b)) == 0) continue;
    if (!s.empty()) s += "|";
    s += kNames[b];
  }
  return s.empty() ? "none" : s;
}

inline std::string event_names(uint8_t e) {
  static const char* kNames[5] = {"connected", "readable", "writable", "peer-closed", "closed"};
  std::string s;
  for (int b = 0; b < 5; ++b) {
    if ((e & (1u << b)) == 0) continue;
    if (!s.empty()) s += "|";
    s += kNames[b];
  }
  return s.empty() ? "none" : s;
}

inline std::string describe(const OutSegment& s) {
  std::ostringstream o;
  o << "{seq " << s.seq << ", ack " << s.ack << ", " << flag_names(s.flags) << ", wnd " << s.wnd << ", len "
    << s.len;
  if (s.opts.syn) o << ", syn-options";
  if (s.opts.has_mss) o << ", mss " << s.opts.mss;
  if (s.opts.has_wscale) o << ", wscale " << int(s.opts.wscale);
  if (s.opts.sack_permitted) o << ", sack-ok";
  if (s.opts.has_timestamps) o << ", ts " << s.opts.ts_val << "/" << s.opts.ts_ecr;
  for (size_t i = 0; i < s.opts.n_sack; ++i) o << ", sack [" << s.opts.sack[i].left << "," << s.opts.sack[i].right << ")";
  if (s.retransmit) o << ", retransmit";
  o << "}";
  return o.str();
}
inline void PrintTo(const OutSegment& s, std::ostream* os) { *os << describe(s); }

// A checker returns "" when the segment passes, else what is wrong.
using SegCheck = std::function<std::string(const OutSegment&)>;

template <typename T>
std::string got_want(const char* what, const T& got, const T& want) {
  if (got == want) return "";
  std::ostringstream o;
  o << what << ": got " << +got << ", want " << +want;
  return o.str();
}

inline SegCheck Seq(uint32_t v) {
  return [v](const OutSegment& s) { return got_want("seq", s.seq, v); };
}
inline SegCheck Ack(uint32_t v) {
  return [v](const OutSegment& s) { return got_want("ack", s.ack, v); };
}
inline SegCheck Flags(uint8_t v) {
  return [v](const OutSegment& s) {
    return s.flags == v ? std::string() : "flags: got " + flag_names(s.flags) + ", want " + flag_names(v);
  };
}
inline SegCheck Wnd(uint16_t v) {
  return [v](const OutSegment& s) { return got_want("window", s.wnd, v); };
}
inline SegCheck Len(uint32_t v) {
  return [v](const OutSegment& s) { return got_want("len", s.len, v); };
}
inline SegCheck Rexmit(bool v) {
  return [v](const OutSegment& s) { return got_want("retransmit", s.retransmit, v); };
}
inline SegCheck Mss(uint16_t v) {
  return [v](const OutSegment& s) {
    if (!s.opts.has_mss) return std::string("mss: got none, want ") + std::to_string(v);
    return got_want("mss", s.opts.mss, v);
  };
}
inline SegCheck WScale(uint8_t v) {
  return [v](const OutSegment& s) {
    if (!s.opts.has_wscale) return std::string("wscale: got none, want ") + std::to_string(v);
    return got_want("wscale", s.opts.wscale, v);
  };
}
inline SegCheck NoWScale() {
  return [](const OutSegment& s) { return s.opts.has_wscale ? std::string("wscale: got one, want none") : ""; };
}
inline SegCheck SackPermitted(bool v) {
  return [v](const OutSegment& s) { return got_want("sack-permitted", s.opts.sack_permitted, v); };
}
inline SegCheck Ts(uint32_t val, uint32_t ecr) {
  return [val, ecr](const OutSegment& s) {
    if (!s.opts.has_timestamps) return std::string("timestamps: got none");
    std::string a = got_want("ts_val", s.opts.ts_val, val), b = got_want("ts_ecr", s.opts.ts_ecr, ecr);
    return a.empty() ? b : b.empty() ? a : a + "; " + b;
  };
}
inline SegCheck TsEcr(uint32_t ecr) {
  return [ecr](const OutSegment& s) {
    if (!s.opts.has_timestamps) return std::string("timestamps: got none");
    return got_want("ts_ecr", s.opts.ts_ecr, ecr);
  };
}
inline SegCheck NoTs() {
  return [](const OutSegment& s) { return s.opts.has_timestamps ? std::string("timestamps: got some, want none") : ""; };
}
inline SegCheck Sack(std::vector<wire::TcpSackBlock> blocks) {
  return [blocks](const OutSegment& s) {
    std::vector<wire::TcpSackBlock> got(s.opts.sack.begin(), s.opts.sack.begin() + s.opts.n_sack);
    if (got == blocks) return std::string();
    std::ostringstream o;
    o << "sack: got";
    for (auto& b : got) o << " [" << b.left << "," << b.right << ")";
    o << ", want";
    for (auto& b : blocks) o << " [" << b.left << "," << b.right << ")";
    return o.str();
  };
}
inline SegCheck NoSack() { return Sack({}); }

inline void expect_seg(const char* file, int line, const OutSegment& s, std::initializer_list<SegCheck> checks) {
  std::string errors;
  for (const auto& c : checks) {
    std::string e = c(s);
    if (!e.empty()) errors += "\n  " + e;
  }
  if (!errors.empty()) ADD_FAILURE_AT(file, line) << "segment " << describe(s) << errors;
}
#define EXPECT_SEG(seg, ...) ::dpdkstack::tcp::expect_seg(__FILE__, __LINE__, (seg), {__VA_ARGS__})

// A received segment as the receive path builds it: the OutSegment is
// written with TcpRepr::emit (and its payload copied), then read back with
// TcpView::check and parse_tcp_options. `storage` keeps the bytes alive.
inline bool to_wire_and_back(const OutSegment& o, const Connection& from, std::vector<uint8_t>& storage, Segment& out) {
  wire::TcpRepr r{from.tuple().lport, from.tuple().rport, o.seq, o.ack, o.flags, o.wnd, o.opts};
  storage.assign(r.header_len() + o.len, 0);
  size_t hl = r.emit(storage.data());
  if (o.len != 0) from.copy_payload(o, storage.data() + hl);
  wire::TcpView v;
  if (wire::TcpView::check(storage.data(), storage.size(), v) != wire::TcpError::kNone) return false;
  if (wire::parse_tcp_options(v.options(), v.options_len(), out.opts) != wire::TcpOptionError::kNone) return false;
  out.seq = v.seq();
  out.ack = v.ack();
  out.flags = v.flags();
  out.wnd = v.window();
  out.len = static_cast<uint32_t>(storage.size() - v.header_len());
  out.data = out.len != 0 ? storage.data() + v.header_len() : nullptr;
  return true;
}

}  // namespace dpdkstack::tcp
