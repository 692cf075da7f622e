// Shared helpers for the unit tests: gtest printers, so that a failed
// EXPECT_EQ reads "got 10.0.0.1, want 10.0.0.2" rather than raw bytes; and
// eal_ready(), which starts EAL for the tests that need its memory.
//
// gtest finds PrintTo by argument-dependent lookup, so each printer lives in
// the namespace of the type it prints. Everything here is inline: the header
// is included by several test files.
#pragma once

#include <rte_eal.h>

#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <string>

#include <unistd.h>

#include "core/types.hpp"
#include "l2/arp_cache.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack {

// Stops EAL at exit and removes its runtime directory. (At exit rather
// than in a gtest Environment's TearDown, which --gtest_repeat would run
// between iterations, with EAL still wanted by the next one.)
inline void stop_eal() {
  std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  rmdir(runtime_dir.c_str());
}

// Starts EAL once per process (one lcore, no hugepages, no PCI, no shared
// config) and stops it at exit; false (and a message) if it cannot. Tests
// whose code allocates from EAL memory (rte_lpm, rte_acl) call it in SetUp;
// the other unit tests need no EAL, and a run that filters those tests out
// never starts it. (An inline function's static is one per program, so every
// test file shares the one EAL.)
inline bool eal_ready() {
  static const bool ok = [] {
    static const std::string prefix = "ut" + std::to_string(getpid());
    // rte_lpm's tbl24 alone is 64 MiB (2^24 four-byte entries): -m 256 holds
    // a table and its rules, or test_filter_table's 10,000 random rules, with
    // room to spare. (--no-huge implies legacy memory, which EAL refuses to
    // combine with --in-memory; --no-shconf keeps the runtime directory
    // empty, and it is removed at the end.)
    const char* argv[] = {"unit-tests", "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry",
                          "-l", "0", "--log-level=lib.*:error", "--file-prefix", prefix.c_str()};
    if (rte_eal_init(static_cast<int>(sizeof argv / sizeof argv[0]), const_cast<char**>(argv)) < 0) {
      std::fprintf(stderr, "unit-tests: EAL init failed\n");
      return false;
    }
    std::atexit(stop_eal);
    return true;
  }();
  return ok;
}

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
