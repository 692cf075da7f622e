// Shared helpers for the unit tests: gtest printers, so that a failed
// EXPECT_EQ reads "got 10.0.0.1, want 10.0.0.2" rather than raw bytes.
//
// gtest finds PrintTo by argument-dependent lookup, so each printer lives in
// the namespace of the type it prints. Everything here is inline: the header
// is included by several test files.
#pragma once

#include <ostream>

#include "core/types.hpp"
#include "l2/arp_cache.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack {

inline void PrintTo(const Ipv4Addr& a, std::ostream* os) { *os << a.to_string(); }
inline void PrintTo(const Ipv4Prefix& p, std::ostream* os) { *os << p.to_string(); }
inline void PrintTo(const MacAddr& m, std::ostream* os) { *os << m.to_string(); }
inline void PrintTo(ArpState s, std::ostream* os) { *os << arp_state_name(s); }
inline void PrintTo(ArpResolve r, std::ostream* os) {
  switch (r) {
    case ArpResolve::kResolved: *os << "kResolved"; return;
    case ArpResolve::kQueued: *os << "kQueued"; return;
    case ArpResolve::kDroppedFull: *os << "kDroppedFull"; return;
  }
  *os << "ArpResolve(" << static_cast<int>(r) << ")";
}

namespace wire {

inline void PrintTo(Ipv4Error e, std::ostream* os) {
  switch (e) {
    case Ipv4Error::kNone: *os << "kNone"; return;
    case Ipv4Error::kTruncated: *os << "kTruncated"; return;
    case Ipv4Error::kBadVersion: *os << "kBadVersion"; return;
    case Ipv4Error::kBadIhl: *os << "kBadIhl"; return;
    case Ipv4Error::kBadTotalLength: *os << "kBadTotalLength"; return;
    case Ipv4Error::kBadChecksum: *os << "kBadChecksum"; return;
  }
  *os << "Ipv4Error(" << static_cast<int>(e) << ")";
}

inline void PrintTo(IcmpError e, std::ostream* os) {
  switch (e) {
    case IcmpError::kNone: *os << "kNone"; return;
    case IcmpError::kTruncated: *os << "kTruncated"; return;
    case IcmpError::kBadChecksum: *os << "kBadChecksum"; return;
  }
  *os << "IcmpError(" << static_cast<int>(e) << ")";
}

inline void PrintTo(ArpParseError e, std::ostream* os) {
  switch (e) {
    case ArpParseError::kUnsupported: *os << "kUnsupported"; return;
    case ArpParseError::kBadOp: *os << "kBadOp"; return;
  }
  *os << "ArpParseError(" << static_cast<int>(e) << ")";
}

inline void PrintTo(const EthernetRepr& r, std::ostream* os) {
  *os << "{dst " << r.dst.to_string() << ", src " << r.src.to_string() << ", ethertype 0x" << std::hex
      << r.ethertype << std::dec << "}";
}

inline void PrintTo(const ArpRepr& r, std::ostream* os) {
  *os << "{op " << static_cast<int>(r.op) << ", sha " << r.sha.to_string() << ", spa " << r.spa.to_string()
      << ", tha " << r.tha.to_string() << ", tpa " << r.tpa.to_string() << "}";
}

inline void PrintTo(const Ipv4Repr& r, std::ostream* os) {
  *os << "{src " << r.src.to_string() << ", dst " << r.dst.to_string() << ", protocol "
      << static_cast<int>(r.protocol) << ", ttl " << static_cast<int>(r.ttl) << ", tos "
      << static_cast<int>(r.tos) << ", ident " << r.ident << ", df " << r.dont_fragment << ", payload_len "
      << r.payload_len << "}";
}

}  // namespace wire
}  // namespace dpdkstack
