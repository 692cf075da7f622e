// Component tests of the IP layer on the shared two-port, two-engine ring
// stack (see test_engine.cpp and ring_stack.hpp): reassembly of a 65507-byte
// echo in any order and fragmentation of its reply, hostile fragments,
// reassembly timeout, ICMP errors (sent, suppressed, received), path MTU,
// forwarding between the ports, the internal loopback, and steering of
// reassembled datagrams to the engine that owns their flow.
//
// Deterministic: frames are built here, injected on a port's queue 0
// (engine 0's), and every engine is driven by poll_once() from this thread;
// the only clock that matters is the 100 ms reassembly timeout (and 10 ms
// ARP retries), waited for with bounds. Every test checks that the mbufs in
// use come back to where they started.
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "../support/ring_stack.hpp"
#include "shard/steering.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack {

ringtest::RingStack& component_ring();

namespace {

using namespace wire;
using ringtest::Bytes;
using ringtest::echo_datagram;
using ringtest::eth_frame;
using ringtest::ip_fragment;
using ringtest::ip_fragments;
using ringtest::ipv4_datagram;
using ringtest::Ipv4Fields;
using ringtest::kPeerIp;
using ringtest::kPeerMac;
using ringtest::kStackIp;
using ringtest::kStackMac;
using Clock = std::chrono::steady_clock;

constexpr size_t kEth = 14;
constexpr size_t kIpHdr = 20;
const MacAddr kBroadcastMac = MacAddr::broadcast();

ringtest::RingStack& ring() { return component_ring(); }

uint64_t ms_since(Clock::time_point t0) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

// What a port sent on one queue, copied out.
std::vector<Bytes> take(rte_ring* r) {
  std::vector<Bytes> out;
  void* m = nullptr;
  while (rte_ring_dequeue(r, &m) == 0) {
    out.push_back(ringtest::packet_bytes(static_cast<rte_mbuf*>(m)));
    rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }
  return out;
}

// Teaches the stack (both engines) where `ip` is: an ARP request from it.
void learn_arp(Ipv4Addr ip, const MacAddr& mac) {
  EXPECT_TRUE(ring().inject(ringtest::arp_request_frame(ip, kStackIp, mac)));
  ring().poll(3);
  ring().drop_sent();  // our ARP reply
}

// The checked IPv4 header (checksum included) of a frame the stack sent, and
// its Ethernet addresses.
::testing::AssertionResult ip_of(Bytes& f, Ipv4View& ip, const MacAddr& eth_src, const MacAddr& eth_dst) {
  auto eth = EthernetView::check(f.data(), f.size());
  if (!eth) return ::testing::AssertionFailure() << "frame of " << f.size() << " bytes: no Ethernet header";
  if (eth->ethertype() != ethertype::kIpv4)
    return ::testing::AssertionFailure() << "ethertype 0x" << std::hex << eth->ethertype();
  if (eth->src() != eth_src || eth->dst() != eth_dst)
    return ::testing::AssertionFailure() << "MACs " << eth->src().to_string() << " -> " << eth->dst().to_string()
                                         << ", want " << eth_src.to_string() << " -> " << eth_dst.to_string();
  Ipv4Error e = Ipv4View::check(f.data() + kEth, f.size() - kEth, true, ip);
  if (e != Ipv4Error::kNone) return ::testing::AssertionFailure() << "IPv4 header invalid (" << static_cast<int>(e) << ")";
  return ::testing::AssertionSuccess();
}

// An ICMP error the stack sent from `src` to `dst`: checks the headers and
// the ICMP checksum, returns the quoted bytes through `quote`.
::testing::AssertionResult icmp_error_of(Bytes& f, Ipv4Addr src, Ipv4Addr dst, const MacAddr& eth_src,
                                         const MacAddr& eth_dst, uint8_t type, uint8_t code, Bytes& quote,
                                         uint16_t* mtu = nullptr) {
  Ipv4View ip;
  if (auto r = ip_of(f, ip, eth_src, eth_dst); !r) return r;
  if (ip.src() != src || ip.dst() != dst)
    return ::testing::AssertionFailure() << "ICMP error " << ip.src().to_string() << " -> " << ip.dst().to_string()
                                         << ", want " << src.to_string() << " -> " << dst.to_string();
  if (ip.protocol() != ipproto::kIcmp) return ::testing::AssertionFailure() << "protocol " << int{ip.protocol()};
  if (ip.is_fragment()) return ::testing::AssertionFailure() << "an ICMP error sent as a fragment";
  IcmpView icmp;
  if (IcmpView::check(ip.payload(), ip.payload_len(), true, icmp) != IcmpError::kNone)
    return ::testing::AssertionFailure() << "ICMP checksum wrong or truncated";
  if (icmp.type() != type || icmp.code() != code)
    return ::testing::AssertionFailure() << "ICMP type " << int{icmp.type()} << " code " << int{icmp.code()}
                                         << ", want " << int{type} << "/" << int{code};
  if (mtu != nullptr) *mtu = icmp.next_hop_mtu();
  quote.assign(icmp.data(), icmp.data() + icmp.data_len());
  if (ip.total_length() > 576) return ::testing::AssertionFailure() << "ICMP error of " << ip.total_length() << " bytes";
  return ::testing::AssertionSuccess();
}

// `quote` is a prefix of `datagram` holding at least its header and 8 bytes
// (RFC 792), and as much of it as fits in a 576-byte error (RFC 1812 4.3.2.3).
::testing::AssertionResult quotes(const Bytes& quote, const Bytes& datagram) {
  size_t want = std::min(datagram.size(), size_t{576 - kIpHdr - 8});
  if (quote.size() < std::min(datagram.size(), kIpHdr + 8))
    return ::testing::AssertionFailure() << "quote of " << quote.size() << " bytes";
  if (quote.size() != want)
    return ::testing::AssertionFailure() << "quote of " << quote.size() << " bytes, want " << want;
  if (!std::equal(quote.begin(), quote.end(), datagram.begin()))
    return ::testing::AssertionFailure() << "quote differs from the datagram";
  return ::testing::AssertionSuccess();
}

// Checks that `frames` are, in this order, the fragments of one datagram
// (each a valid frame of at most `mtu` IP bytes, one IP id and header, MF
// and offsets right, payloads multiples of 8 but the last) and reassembles
// it byte by byte. Returns the datagram (its header is the first
// fragment's, with the total length of the whole and no fragment fields);
// empty after a failure.
Bytes reassemble_frames(std::vector<Bytes>& frames, const MacAddr& eth_src, const MacAddr& eth_dst, size_t mtu) {
  if (frames.empty()) {
    ADD_FAILURE() << "no frames";
    return {};
  }
  Bytes header;
  Bytes payload;
  std::vector<uint8_t> covered;
  size_t next = 0;
  for (size_t k = 0; k < frames.size(); ++k) {
    Bytes& f = frames[k];
    Ipv4View ip;
    auto ok = ip_of(f, ip, eth_src, eth_dst);
    if (!ok) {
      ADD_FAILURE() << "fragment " << k << ": " << ok.message();
      return {};
    }
    bool last = k + 1 == frames.size();
    EXPECT_LE(ip.total_length(), mtu) << "fragment " << k;
    EXPECT_LE(f.size(), std::max<size_t>(kEth + mtu, 60)) << "fragment " << k;
    EXPECT_EQ(ip.header_len(), kIpHdr) << "fragment " << k;
    EXPECT_EQ(ip.more_fragments(), !last) << "fragment " << k;
    EXPECT_EQ(ip.frag_offset_bytes(), next) << "fragment " << k;
    EXPECT_FALSE(ip.dont_fragment()) << "fragment " << k;
    if (!last) {
      EXPECT_EQ(ip.payload_len() % 8, 0u) << "fragment " << k;
    }
    if (k == 0) {
      header.assign(ip.data(), ip.data() + kIpHdr);
    } else {
      // Same id, addresses, protocol, TTL, TOS as the first.
      EXPECT_EQ(ip.ident(), load_be16(header.data() + 4)) << "fragment " << k;
      EXPECT_TRUE(std::equal(ip.data() + 8, ip.data() + 10, header.begin() + 8)) << "TTL/protocol of fragment " << k;
      EXPECT_TRUE(std::equal(ip.data() + 12, ip.data() + 20, header.begin() + 12)) << "addresses of fragment " << k;
      EXPECT_EQ(ip.tos(), header[1]) << "fragment " << k;
    }
    size_t off = ip.frag_offset_bytes();
    size_t end = off + ip.payload_len();
    if (payload.size() < end) {
      payload.resize(end);
      covered.resize(end);
    }
    for (size_t i = 0; i < ip.payload_len(); ++i) {
      payload[off + i] = ip.payload()[i];
      ++covered[off + i];
    }
    next = end;
  }
  for (size_t i = 0; i < covered.size(); ++i)
    if (covered[i] != 1) {
      ADD_FAILURE() << "byte " << i << " carried " << int{covered[i]} << " times";
      return {};
    }
  Bytes d = header;
  d.insert(d.end(), payload.begin(), payload.end());
  store_be16(d.data() + 2, static_cast<uint16_t>(d.size()));
  store_be16(d.data() + 6, 0);
  Ipv4View::trusted(d.data()).fill_checksum();
  return d;
}

// The ICMP message of an echo reply to `request` (an ICMP echo request
// message): the same but for the type and the checksum.
Bytes echo_reply_for(const Bytes& request_icmp) {
  Bytes r = request_icmp;
  r[0] = icmptype::kEchoReply;
  store_be16(r.data() + 2, 0);
  store_be16(r.data() + 2, internet_checksum(r.data(), r.size()));
  return r;
}

// `icmp` is `want` (an ICMP message) but for its checksum, which is valid.
::testing::AssertionResult same_icmp(const Bytes& icmp, const Bytes& want) {
  if (icmp.size() != want.size())
    return ::testing::AssertionFailure() << "ICMP message of " << icmp.size() << " bytes, want " << want.size();
  if (internet_checksum(icmp.data(), icmp.size()) != 0) return ::testing::AssertionFailure() << "ICMP checksum wrong";
  for (size_t i = 0; i < icmp.size(); ++i)
    if ((i < 2 || i > 3) && icmp[i] != want[i])
      return ::testing::AssertionFailure() << "ICMP byte " << i << " is " << int{icmp[i]} << ", want " << int{want[i]};
  return ::testing::AssertionSuccess();
}

// `datagram` as a router passes it on: TTL one less, checksum computed afresh.
Bytes forwarded(const Bytes& datagram) {
  Bytes d = datagram;
  if (d.size() < kIpHdr) return d;  // never: and the compiler knows d.data() is not null below
  d[8] = static_cast<uint8_t>(d[8] - 1);
  Ipv4View::trusted(d.data()).fill_checksum();
  return d;
}

Bytes payload_of(const Bytes& datagram) { return Bytes(datagram.begin() + kIpHdr, datagram.end()); }

class IpComponent : public ::testing::Test {
 protected:
  void SetUp() override {
    ring().poll(2);
    ring().drop_sent();
    in_use_ = ring().in_use();
    snapshot();
  }

  void TearDown() override {
    // Whatever a test left held (ARP, reassembly) comes back in bounded time.
    for (int i = 0; i < 200 && ring().in_use() != in_use_; ++i) {
      ring().poll();
      ring().drop_sent();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ring().drop_sent();
    EXPECT_EQ(ring().in_use(), in_use_) << "mbufs not given back";
    for (unsigned e = 0; e < ring().engines(); ++e) EXPECT_EQ(ring().engine(e).reassembly().flows(), 0u);
  }

  // Counter deltas from here on.
  void snapshot() {
    before_ = ring().counters();
    per_engine_.clear();
    for (unsigned e = 0; e < ring().engines(); ++e) per_engine_.push_back(ring().engine(e).counters());
  }
  uint64_t delta(uint64_t LcoreCounters::*f) { return ring().counters().*f - before_.*f; }
  uint64_t delta(unsigned engine, uint64_t LcoreCounters::*f) {
    return ring().engine(engine).counters().*f - per_engine_[engine].*f;
  }
  uint64_t drops(DropReason r) {
    return ring().counters().drops[static_cast<size_t>(r)] - before_.drops[static_cast<size_t>(r)];
  }
  uint64_t drops(unsigned engine, DropReason r) {
    return ring().engine(engine).counters().drops[static_cast<size_t>(r)] -
           per_engine_[engine].drops[static_cast<size_t>(r)];
  }

  // Frames in on port 0 (or `port`), `rounds` loops of every engine.
  void feed(const std::vector<Bytes>& frames, unsigned port = 0, int rounds = 4) {
    for (const auto& f : frames) ASSERT_TRUE(ring().inject(f, port));
    ring().poll(rounds);
  }

  unsigned in_use_ = 0;
  LcoreCounters before_;
  std::vector<LcoreCounters> per_engine_;
};

// --- Reassembly and fragmentation -------------------------------------------

// ping -s 65507 at MTU 1500: 45 fragments in, one datagram, 45 out.
TEST_F(IpComponent, BigEcho_45FragmentsAnyOrder_OneDatagram_ReplyFragmentsReassembleToTheReply) {
  Bytes data(65507);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 13 + (i >> 8) + 5);
  std::mt19937 rng(1500);
  const char* orders[] = {"in order", "reversed", "shuffled"};
  for (int order = 0; order < 3; ++order) {
    SCOPED_TRACE(orders[order]);
    const uint16_t seq = static_cast<uint16_t>(100 + order);
    Ipv4Fields f;
    f.ident = static_cast<uint16_t>(0x6000 + order);
    const Bytes request = ringtest::icmp_echo(true, 0x5151, seq, data);
    const Bytes dgram = ipv4_datagram(f, request);
    ASSERT_EQ(dgram.size(), 65535u);
    auto frags = ip_fragments(dgram, 1500);
    ASSERT_EQ(frags.size(), 45u);
    if (order == 1) std::reverse(frags.begin(), frags.end());
    if (order == 2) std::shuffle(frags.begin(), frags.end(), rng);
    snapshot();
    std::vector<Bytes> frames;
    for (const auto& fr : frags) frames.push_back(eth_frame(fr));
    feed(frames, 0, 6);
    auto out = ring().sent(0);
    EXPECT_TRUE(ring().sent(1).empty());
    EXPECT_EQ(delta(&LcoreCounters::frags_in), 45u);
    EXPECT_EQ(delta(&LcoreCounters::reasm_ok), 1u);
    EXPECT_EQ(delta(&LcoreCounters::reasm_fragments), 45u);
    EXPECT_EQ(delta(&LcoreCounters::icmp_echo_replies), 1u);
    EXPECT_EQ(delta(&LcoreCounters::frags_out), 45u);
    EXPECT_EQ(ring().drop_sent(), 0u);
    EXPECT_EQ(ring().counters().drop_total(), before_.drop_total());
    ASSERT_EQ(out.size(), 45u);
    Bytes reply = reassemble_frames(out, kStackMac, kPeerMac, 1500);
    ASSERT_EQ(reply.size(), 65535u);
    Ipv4View rip = Ipv4View::trusted(reply.data());
    EXPECT_EQ(rip.src(), kStackIp);
    EXPECT_EQ(rip.dst(), kPeerIp);
    EXPECT_EQ(rip.protocol(), ipproto::kIcmp);
    EXPECT_TRUE(same_icmp(payload_of(reply), echo_reply_for(request)));
  }
}

// Teardrop's relatives: a fragment overlapping held data drops the datagram.
TEST_F(IpComponent, Fragments_Overlap_WholeDatagramDropped_NoReply) {
  const Bytes dg = echo_datagram(kPeerIp, kStackIp, 0x6100, 1, 1000);  // 1008 bytes of payload
  feed({eth_frame(ip_fragment(dg, 0, 504, true)), eth_frame(ip_fragment(dg, 248, 504, true))});
  EXPECT_EQ(drops(DropReason::frag_overlap), 2u) << "the overlapping fragment and the one held";
  // The rest of the datagram now starts a new one, which cannot complete.
  feed({eth_frame(ip_fragment(dg, 504, 504, false))});
  EXPECT_EQ(delta(&LcoreCounters::reasm_ok), 0u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_echo_replies), 0u);
  EXPECT_EQ(ring().drop_sent(), 0u);
  // That lone last fragment expires without an ICMP error (no first fragment).
  for (int i = 0; i < 500 && ring().engine(0).reassembly().flows() != 0; ++i) {
    ring().poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ring().poll(2);
  EXPECT_EQ(drops(DropReason::frag_timeout), 1u);
  EXPECT_EQ(ring().drop_sent(), 0u);
}

// The classic teardrop: the second fragment ends inside the first.
TEST_F(IpComponent, Fragments_Teardrop_Dropped_NoReply) {
  const Bytes dg = echo_datagram(kPeerIp, kStackIp, 0x6101, 2, 32);  // 40 bytes of payload
  feed({eth_frame(ip_fragment(dg, 0, 40, true)), eth_frame(ip_fragment(dg, 24, 4, false))});
  EXPECT_EQ(drops(DropReason::frag_overlap), 2u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_echo_replies), 0u);
  EXPECT_EQ(ring().drop_sent(), 0u);
  EXPECT_EQ(ring().engine(0).reassembly().flows(), 0u);
}

// Fragments shorter than the Ethernet minimum arrive padded to 60 bytes:
// only what the IP total length says is taken.
TEST_F(IpComponent, Fragments_PaddedShortFrames_ReassembledWithoutThePadding) {
  const Bytes dg = echo_datagram(kPeerIp, kStackIp, 0x6105, 21, 12);  // 20 bytes of payload
  std::vector<Bytes> frames = {eth_frame(ip_fragment(dg, 0, 16, true)), eth_frame(ip_fragment(dg, 16, 4, false))};
  for (auto& f : frames) f.resize(60, 0xee);
  feed(frames);
  EXPECT_EQ(delta(&LcoreCounters::reasm_ok), 1u);
  auto out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  Ipv4View ip;
  ASSERT_TRUE(ip_of(out[0], ip, kStackMac, kPeerMac));
  EXPECT_EQ(ip.total_length(), dg.size());
  EXPECT_TRUE(same_icmp(Bytes(ip.payload(), ip.payload() + ip.payload_len()), echo_reply_for(payload_of(dg))));
}

// RFC 1122 3.2.2.6 (options): the reply to a request with IP options
// carries none, and the same ICMP message but for the type.
TEST_F(IpComponent, EchoWithIpOptions_ReplyWithoutOptions) {
  Bytes dg = echo_datagram(kPeerIp, kStackIp, 0x6106, 22, 40);
  const Bytes icmp = payload_of(dg);
  const uint8_t nops[] = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
  dg.insert(dg.begin() + kIpHdr, std::begin(nops), std::end(nops));
  dg[0] = 0x46;
  store_be16(dg.data() + 2, static_cast<uint16_t>(dg.size()));
  Ipv4View::trusted(dg.data()).fill_checksum();
  feed({eth_frame(dg)});
  EXPECT_EQ(delta(&LcoreCounters::icmp_echo_replies), 1u);
  auto out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  Ipv4View ip;
  ASSERT_TRUE(ip_of(out[0], ip, kStackMac, kPeerMac));
  EXPECT_EQ(ip.header_len(), kIpHdr);
  EXPECT_EQ(ip.total_length(), kIpHdr + icmp.size());
  EXPECT_EQ(ip.src(), kStackIp);
  EXPECT_EQ(ip.dst(), kPeerIp);
  EXPECT_TRUE(same_icmp(Bytes(ip.payload(), ip.payload() + ip.payload_len()), echo_reply_for(icmp)));
}

// Ping of death: a fragment ending past 65535 bytes.
TEST_F(IpComponent, Fragments_PingOfDeath_Dropped_NoReply) {
  const Bytes dg = echo_datagram(kPeerIp, kStackIp, 0x6102, 3, 2000);
  feed({eth_frame(ip_fragment(dg, 0, 1480, true)), eth_frame(ip_fragment(dg, 65520, 400, false))});
  EXPECT_EQ(drops(DropReason::frag_too_big), 2u) << "the oversized fragment and the one held";
  // Alone, it is refused without a datagram to drop.
  const Bytes lone = echo_datagram(kPeerIp, kStackIp, 0x6103, 4, 2000);
  feed({eth_frame(ip_fragment(lone, 65520, 400, false))});
  EXPECT_EQ(drops(DropReason::frag_too_big), 3u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_echo_replies), 0u);
  EXPECT_EQ(ring().drop_sent(), 0u);
  EXPECT_EQ(ring().engine(0).reassembly().flows(), 0u);
}

// An exact duplicate is ignored; the datagram still completes once.
TEST_F(IpComponent, Fragments_Duplicate_IgnoredAndOneReply) {
  const Bytes dg = echo_datagram(kPeerIp, kStackIp, 0x6104, 5, 1000);
  feed({eth_frame(ip_fragment(dg, 0, 504, true)), eth_frame(ip_fragment(dg, 0, 504, true)),
        eth_frame(ip_fragment(dg, 504, 504, false)), eth_frame(ip_fragment(dg, 504, 504, false))});
  EXPECT_EQ(drops(DropReason::frag_duplicate), 1u) << "the second copy of the last one starts a new datagram";
  EXPECT_EQ(delta(&LcoreCounters::reasm_ok), 1u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_echo_replies), 1u);
  auto out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  Ipv4View ip;
  ASSERT_TRUE(ip_of(out[0], ip, kStackMac, kPeerMac));
  EXPECT_EQ(ip.total_length(), dg.size());
  EXPECT_FALSE(ip.is_fragment());
  EXPECT_TRUE(same_icmp(Bytes(ip.payload(), ip.payload() + ip.payload_len()), echo_reply_for(payload_of(dg))));
  // The late copy of the last fragment waits alone and expires silently.
  for (int i = 0; i < 500 && ring().engine(0).reassembly().flows() != 0; ++i) {
    ring().poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ring().poll(2);
  EXPECT_EQ(drops(DropReason::frag_timeout), 1u);
  EXPECT_EQ(ring().drop_sent(), 0u);
}

// RFC 792 / RFC 1122 3.3.2: time exceeded, code 1, when the first fragment
// came and the datagram did not complete in time.
TEST_F(IpComponent, ReassemblyTimeout_FirstFragmentOnly_TimeExceededQuotingIt) {
  const Bytes dg = echo_datagram(kPeerIp, kStackIp, 0x6200, 6, 1000);
  const Bytes first = ip_fragment(dg, 0, 504, true);
  auto t0 = Clock::now();
  ASSERT_TRUE(ring().inject(eth_frame(first)));
  std::vector<Bytes> out;
  while (out.empty() && ms_since(t0) < 2000) {
    ring().poll();
    out = ring().sent(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  uint64_t waited = ms_since(t0);
  ASSERT_EQ(out.size(), 1u) << "after " << waited << " ms";
  EXPECT_GE(waited, 100u) << "ip.reassembly.timeout_ms is 100";
  Bytes quote;
  ASSERT_TRUE(icmp_error_of(out[0], kStackIp, kPeerIp, kStackMac, kPeerMac, icmptype::kTimeExceeded,
                            icmpcode::kReassemblyExceeded, quote));
  EXPECT_TRUE(quotes(quote, first));
  EXPECT_EQ(drops(DropReason::frag_timeout), 1u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_errors_sent), 1u);
  EXPECT_EQ(ring().engine(0).reassembly().flows(), 0u);
}

TEST_F(IpComponent, ReassemblyTimeout_MiddleFragmentOnly_NoIcmp) {
  const Bytes dg = echo_datagram(kPeerIp, kStackIp, 0x6201, 7, 1000);
  auto t0 = Clock::now();
  feed({eth_frame(ip_fragment(dg, 256, 256, true))}, 0, 1);
  EXPECT_EQ(ring().engine(0).reassembly().flows(), 1u);
  while (ring().engine(0).reassembly().flows() != 0 && ms_since(t0) < 2000) {
    ring().poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ring().poll(3);
  EXPECT_EQ(ring().engine(0).reassembly().flows(), 0u);
  EXPECT_EQ(drops(DropReason::frag_timeout), 1u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_errors_sent), 0u);
  EXPECT_EQ(ring().drop_sent(), 0u);
}

// --- ICMP errors -------------------------------------------------------------

TEST_F(IpComponent, UnknownProtocol_ProtocolUnreachableQuotingTheDatagram) {
  Ipv4Fields f;
  f.protocol = 253;
  f.ident = 0x6300;
  Bytes payload(40);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(0xa0 + i);
  const Bytes dg = ipv4_datagram(f, payload);
  feed({eth_frame(dg)});
  auto out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  Bytes quote;
  ASSERT_TRUE(icmp_error_of(out[0], kStackIp, kPeerIp, kStackMac, kPeerMac, icmptype::kDestUnreachable,
                            icmpcode::kProtocolUnreachable, quote));
  EXPECT_TRUE(quotes(quote, dg));
  EXPECT_EQ(delta(&LcoreCounters::ipv4_delivered), 1u);
  EXPECT_EQ(drops(DropReason::ipv4_unknown_protocol), 1u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_errors_sent), 1u);

  // To our other port's address (weak host model): the error comes from the
  // address the datagram was sent to (RFC 1122 3.2.2), out the way back.
  f.dst = ringtest::stack_ip(1);
  f.ident = 0x6301;
  const Bytes dg1 = ipv4_datagram(f, payload);
  feed({eth_frame(dg1)});
  EXPECT_TRUE(ring().sent(1).empty());
  out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(icmp_error_of(out[0], ringtest::stack_ip(1), kPeerIp, kStackMac, kPeerMac, icmptype::kDestUnreachable,
                            icmpcode::kProtocolUnreachable, quote));
  EXPECT_TRUE(quotes(quote, dg1));
}

// RFC 1122 3.2.2: never an error about a datagram to a broadcast or
// multicast address.
TEST_F(IpComponent, UnknownProtocolToBroadcastOrMulticast_NoIcmpError) {
  Ipv4Fields f;
  f.protocol = 253;
  const Ipv4Addr dsts[] = {Ipv4Addr::from_octets(10, 0, 0, 255), Ipv4Addr::broadcast(),
                           Ipv4Addr::from_octets(224, 0, 0, 1)};
  const MacAddr macs[] = {kBroadcastMac, kBroadcastMac, MacAddr{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}}};
  for (int i = 0; i < 3; ++i) {
    f.dst = dsts[i];
    f.ident = static_cast<uint16_t>(0x6310 + i);
    feed({eth_frame(ipv4_datagram(f, Bytes(40, 0x55)), macs[i])});
  }
  EXPECT_EQ(delta(&LcoreCounters::ipv4_delivered), 3u);
  EXPECT_EQ(drops(DropReason::ipv4_unknown_protocol), 3u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_errors_sent), 0u);
  EXPECT_EQ(ring().drop_sent(), 0u);
}

// RFC 1122 3.2.2.1: a received error goes to the protocol it quotes; no
// error is ever sent about an error (RFC 1122 3.2.2).
TEST_F(IpComponent, IcmpErrorToUs_ConsumedAndHandedToItsProtocol_NeverAnswered) {
  // A datagram of ours that the peer refused, of a protocol the test
  // registers itself (UDP's handler belongs to the engine's UDP layer).
  constexpr uint8_t kTestProto = 132;
  Ipv4Fields q;
  q.src = kStackIp;
  q.dst = kPeerIp;
  q.protocol = kTestProto;
  q.ident = 0x6400;
  Bytes udp = {0x30, 0x39, 0x00, 0x35, 0x00, 0x10, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
  const Bytes ours = ipv4_datagram(q, udp);
  std::vector<IcmpErrorInfo> seen;
  ring().engine(0).set_icmp_error_handler(kTestProto, [&](const IcmpErrorInfo& e) { seen.push_back(e); });
  Ipv4Fields f;
  f.ident = 0x6401;
  feed({eth_frame(ipv4_datagram(f, ringtest::icmp_error_msg(icmptype::kDestUnreachable, icmpcode::kPortUnreachable, 0,
                                                            Bytes(ours.begin(), ours.begin() + 28))))});
  ring().engine(0).set_icmp_error_handler(kTestProto, nullptr);
  EXPECT_EQ(delta(&LcoreCounters::icmp_errors_in), 1u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_errors_sent), 0u);
  EXPECT_EQ(ring().drop_sent(), 0u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, icmptype::kDestUnreachable);
  EXPECT_EQ(seen[0].code, icmpcode::kPortUnreachable);
  EXPECT_EQ(seen[0].reporter, kPeerIp);
  EXPECT_EQ(seen[0].src, kStackIp);
  EXPECT_EQ(seen[0].dst, kPeerIp);
  EXPECT_EQ(seen[0].protocol, kTestProto);
  EXPECT_TRUE(std::equal(seen[0].l4.begin(), seen[0].l4.end(), udp.begin()));
  ASSERT_FALSE(ring().engine(0).recent_icmp_errors().empty());
  EXPECT_EQ(ring().engine(0).recent_icmp_errors().back().protocol, kTestProto);

  // About a datagram we never sent: dropped, and still not answered.
  q.src = Ipv4Addr::from_octets(10, 0, 0, 9);
  const Bytes theirs = ipv4_datagram(q, udp);
  f.ident = 0x6402;
  feed({eth_frame(ipv4_datagram(f, ringtest::icmp_error_msg(icmptype::kDestUnreachable, icmpcode::kPortUnreachable, 0,
                                                            Bytes(theirs.begin(), theirs.begin() + 28))))});
  EXPECT_EQ(drops(DropReason::icmp_bad_quote), 1u);
  // An error in transit whose TTL runs out: no time exceeded about it.
  f.dst = ringtest::peer_ip(1);
  f.ttl = 1;
  f.ident = 0x6403;
  feed({eth_frame(ipv4_datagram(f, ringtest::icmp_error_msg(icmptype::kDestUnreachable, icmpcode::kPortUnreachable, 0,
                                                            Bytes(ours.begin(), ours.begin() + 28))))});
  EXPECT_EQ(drops(DropReason::ipv4_ttl_exceeded), 1u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_errors_sent), 0u);
  EXPECT_EQ(ring().drop_sent(), 0u);
}

// RFC 1191: frag needed lowers the path MTU to the host it quotes; our
// datagrams to it are then fragmented at that MTU, others' are not.
TEST_F(IpComponent, FragNeeded_LowersPathMtu_ReplyFragmentedAt1280) {
  // A host of its own, so that the lowered MTU (cached for 600 s) touches no
  // other test.
  const Ipv4Addr host = Ipv4Addr::from_octets(10, 0, 0, 7);
  const MacAddr host_mac{{0x02, 0, 0, 0, 0, 0x07}};
  learn_arp(host, host_mac);
  const bool fresh = ring().engine(0).pmtu().mtu(host, rte_rdtsc()) == 0;  // not so when the test repeats
  snapshot();
  Ipv4Fields q;  // the reply of ours a router could not pass: 1400 bytes, DF
  q.src = kStackIp;
  q.dst = host;
  q.ident = 0x6500;
  q.df = true;
  const Bytes ours = ipv4_datagram(q, Bytes(1380, 0));
  Ipv4Fields f;
  f.src = Ipv4Addr::from_octets(10, 0, 0, 254);  // the router
  f.ident = 0x6501;
  const MacAddr router_mac{{0x02, 0, 0, 0, 0, 0xfe}};
  feed({eth_frame(ipv4_datagram(f, ringtest::icmp_error_msg(icmptype::kDestUnreachable, icmpcode::kFragNeeded, 1280,
                                                            Bytes(ours.begin(), ours.begin() + 28))),
                  kStackMac, router_mac)});
  EXPECT_EQ(delta(&LcoreCounters::icmp_errors_in), 1u);
  EXPECT_EQ(delta(0, &LcoreCounters::pmtu_updates), fresh ? 1u : 0u);
  EXPECT_EQ(delta(1, &LcoreCounters::pmtu_updates), fresh ? 1u : 0u) << "the other engine learns it through its mailbox";
  EXPECT_EQ(ring().drop_sent(), 0u);
  for (unsigned e = 0; e < ring().engines(); ++e)
    EXPECT_EQ(ring().engine(e).pmtu().mtu(host, rte_rdtsc()), 1280) << "engine " << e;
  EXPECT_EQ(ring().engine(0).pmtu().mtu(kPeerIp, rte_rdtsc()), 0) << "only the quoted destination";

  // A 1400-byte echo reply to the host leaves in fragments of at most 1280.
  const Bytes req = echo_datagram(host, kStackIp, 0x6502, 8, 1372);
  ASSERT_EQ(req.size(), 1400u);
  feed({eth_frame(req, kStackMac, host_mac)});
  auto out = ring().sent(0);
  EXPECT_EQ(delta(&LcoreCounters::frags_out), 2u);
  ASSERT_EQ(out.size(), 2u);
  Bytes reply = reassemble_frames(out, kStackMac, host_mac, 1280);
  ASSERT_EQ(reply.size(), 1400u);
  EXPECT_EQ(Ipv4View::trusted(reply.data()).dst(), host);
  EXPECT_TRUE(same_icmp(payload_of(reply), echo_reply_for(payload_of(req))));

  // The same reply to the peer is one frame: its path MTU is the link's.
  feed({eth_frame(echo_datagram(kPeerIp, kStackIp, 0x6503, 9, 1372))});
  out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), kEth + 1400);
}

// --- Forwarding (RFC 1812) between port 0 (10.0.0.1/24) and port 1
// (10.1.1.1/24, MTU 1280) ---------------------------------------------------

const Ipv4Addr kPeer1 = ringtest::peer_ip(1);

TEST_F(IpComponent, Forward_ToOtherPort_TtlDecremented_ChecksumRight_MacsRewritten) {
  const Bytes dg = echo_datagram(kPeerIp, kPeer1, 0x6600, 10, 100);
  feed({eth_frame(dg)});
  EXPECT_TRUE(ring().sent(0).empty());
  auto out = ring().sent(1);
  ASSERT_EQ(out.size(), 1u);
  Ipv4View ip;
  ASSERT_TRUE(ip_of(out[0], ip, ringtest::stack_mac(1), ringtest::peer_mac(1)));
  EXPECT_EQ(ip.ttl(), 63);
  const Bytes want = forwarded(dg);
  EXPECT_EQ(ip.checksum(), load_be16(want.data() + 10));
  EXPECT_TRUE(std::equal(want.begin(), want.end(), out[0].begin() + kEth));
  EXPECT_EQ(out[0].size(), kEth + dg.size());
  EXPECT_EQ(delta(&LcoreCounters::ipv4_forwarded), 1u);
  EXPECT_EQ(ring().counters().fwd_rx[ring().port(0)] - before_.fwd_rx[ring().port(0)], 1u);
  EXPECT_EQ(ring().counters().fwd_tx[ring().port(1)] - before_.fwd_tx[ring().port(1)], 1u);
}

// The incremental checksum update (RFC 1624) matches a full computation for
// TTLs and identifications all over, and where the checksum before or after
// is 0x0000 (the ones'-complement sum 0xffff, RFC 1624's -0 case).
TEST_F(IpComponent, Forward_ChecksumAfterTtlDecrement_MatchesFullComputation) {
  std::vector<std::pair<uint8_t, uint16_t>> cases;  // (ttl, ident)
  for (int ttl = 2; ttl <= 255; ttl += 3)
    for (uint16_t id : {uint16_t{0}, uint16_t{0xffff}, static_cast<uint16_t>(ttl * 257)})
      cases.emplace_back(static_cast<uint8_t>(ttl), id);
  for (uint8_t ttl : {uint8_t{2}, uint8_t{64}, uint8_t{255}}) {
    bool before_zero = false, after_zero = false;
    for (uint32_t id = 0; id <= 0xffff && !(before_zero && after_zero); ++id) {
      const Bytes dg = echo_datagram(kPeerIp, kPeer1, static_cast<uint16_t>(id), 11, 8, ttl);
      const Bytes fw = forwarded(dg);
      bool zero_in = dg.size() >= kIpHdr && load_be16(dg.data() + 10) == 0;
      bool zero_out = fw.size() >= kIpHdr && load_be16(fw.data() + 10) == 0;
      if ((zero_in && !before_zero) || (zero_out && !after_zero)) cases.emplace_back(ttl, static_cast<uint16_t>(id));
      before_zero = before_zero || zero_in;
      after_zero = after_zero || zero_out;
    }
  }
  std::vector<Bytes> frames, want;
  for (auto [ttl, id] : cases) {
    const Bytes dg = echo_datagram(kPeerIp, kPeer1, id, 11, 8, ttl);
    frames.push_back(eth_frame(dg));
    want.push_back(forwarded(dg));
  }
  std::vector<Bytes> out;
  for (size_t i = 0; i < frames.size(); i += 32) {
    feed(std::vector<Bytes>(frames.begin() + static_cast<long>(i),
                            frames.begin() + static_cast<long>(std::min(i + 32, frames.size()))));
    auto o = ring().sent(1);
    out.insert(out.end(), o.begin(), o.end());
  }
  ASSERT_EQ(out.size(), want.size());
  for (size_t i = 0; i < out.size(); ++i)
    EXPECT_TRUE(std::equal(want[i].begin(), want[i].end(), out[i].begin() + kEth))
        << "TTL " << int{want[i][8]} + 1 << " id " << load_be16(want[i].data() + 4) << ": checksum "
        << load_be16(out[i].data() + kEth + 10) << ", want " << load_be16(want[i].data() + 10);
}

TEST_F(IpComponent, Forward_Ttl1_TimeExceededFromIngressAddress) {
  const Bytes dg = echo_datagram(kPeerIp, kPeer1, 0x6601, 12, 100, 1);
  feed({eth_frame(dg)});
  EXPECT_TRUE(ring().sent(1).empty());
  auto out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  Bytes quote;
  ASSERT_TRUE(icmp_error_of(out[0], kStackIp, kPeerIp, kStackMac, kPeerMac, icmptype::kTimeExceeded,
                            icmpcode::kTtlExceeded, quote));
  EXPECT_TRUE(quotes(quote, dg));
  EXPECT_EQ(drops(DropReason::ipv4_ttl_exceeded), 1u);
  EXPECT_EQ(delta(&LcoreCounters::ipv4_forwarded), 0u);
}

TEST_F(IpComponent, Forward_NoRoute_NetUnreachable) {
  for (const auto& r : ring().stack().routes()) ASSERT_NE(r.prefix.len, 0) << "this test needs no default route";
  const Bytes dg = echo_datagram(kPeerIp, Ipv4Addr::from_octets(10, 99, 0, 1), 0x6602, 13, 100);
  feed({eth_frame(dg)});
  EXPECT_TRUE(ring().sent(1).empty());
  auto out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  Bytes quote;
  ASSERT_TRUE(icmp_error_of(out[0], kStackIp, kPeerIp, kStackMac, kPeerMac, icmptype::kDestUnreachable,
                            icmpcode::kNetUnreachable, quote));
  EXPECT_TRUE(quotes(quote, dg));
  EXPECT_EQ(drops(DropReason::ipv4_no_route), 1u);
}

// RFC 1812 5.3.7 / 4.2.2.11, RFC 2644: never forwarded, and no error.
TEST_F(IpComponent, Forward_UnforwardableDestinations_DroppedSilently) {
  const Ipv4Addr dsts[] = {Ipv4Addr::from_octets(10, 1, 1, 255),  // port 1's directed broadcast
                           Ipv4Addr::from_octets(127, 0, 0, 1), Ipv4Addr::from_octets(0, 1, 2, 3),
                           Ipv4Addr::from_octets(240, 0, 0, 1)};
  uint16_t id = 0x6610;
  for (Ipv4Addr d : dsts) feed({eth_frame(echo_datagram(kPeerIp, d, id++, 23, 32))});
  EXPECT_EQ(drops(DropReason::ipv4_not_forwardable), 4u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_errors_sent), 0u);
  EXPECT_EQ(ring().drop_sent(), 0u);
}

// RFC 1122 3.2.1.3 / RFC 1812 5.3.7: a source that is the directed
// broadcast of ANY of our networks (not just the ingress one) is no host's:
// neither answered (a reply would go out as a link broadcast) nor forwarded.
TEST_F(IpComponent, SourceIsOtherPortsBroadcast_DroppedAsBadSource) {
  const Ipv4Addr bcast1 = Ipv4Addr::from_octets(10, 1, 1, 255);
  feed({eth_frame(echo_datagram(bcast1, kStackIp, 0x6620, 1, 16)),
        eth_frame(echo_datagram(bcast1, kPeer1, 0x6621, 2, 16))});
  EXPECT_EQ(drops(DropReason::ipv4_bad_source), 2u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_echo_replies), 0u);
  EXPECT_EQ(delta(&LcoreCounters::ipv4_forwarded), 0u);
  EXPECT_EQ(ring().drop_sent(), 0u);
}

TEST_F(IpComponent, Forward_DfAndTooBigForEgress_FragNeededWithEgressMtu) {
  const Bytes dg = echo_datagram(kPeerIp, kPeer1, 0x6603, 14, 1372, 64, true);
  ASSERT_EQ(dg.size(), 1400u);
  feed({eth_frame(dg)});
  EXPECT_TRUE(ring().sent(1).empty());
  auto out = ring().sent(0);
  ASSERT_EQ(out.size(), 1u);
  Bytes quote;
  uint16_t mtu = 0;
  ASSERT_TRUE(icmp_error_of(out[0], kStackIp, kPeerIp, kStackMac, kPeerMac, icmptype::kDestUnreachable,
                            icmpcode::kFragNeeded, quote, &mtu));
  EXPECT_EQ(mtu, 1280);
  EXPECT_TRUE(quotes(quote, dg));
  EXPECT_EQ(drops(DropReason::ipv4_frag_needed), 1u);
}

TEST_F(IpComponent, Forward_TooBigForEgressWithoutDf_FragmentedToEgressMtu) {
  const Bytes dg = echo_datagram(kPeerIp, kPeer1, 0x6604, 15, 1372);
  feed({eth_frame(dg)});
  EXPECT_TRUE(ring().sent(0).empty());
  auto out = ring().sent(1);
  ASSERT_EQ(out.size(), 2u);
  Bytes got = reassemble_frames(out, ringtest::stack_mac(1), ringtest::peer_mac(1), 1280);
  const Bytes want = forwarded(dg);
  EXPECT_TRUE(got == want) << "the fragments carry the datagram with TTL 63";
  EXPECT_EQ(delta(&LcoreCounters::frags_out), 2u);
  EXPECT_EQ(delta(&LcoreCounters::ipv4_forwarded), 1u);

  // A fragment forwarded and split again: every piece keeps MF (more of the
  // original datagram follows) and the offsets continue the original's.
  const Bytes big = echo_datagram(kPeerIp, kPeer1, 0x6605, 16, 3000);
  const Bytes mid = ip_fragment(big, 1480, 1480, true);
  feed({eth_frame(mid)});
  out = ring().sent(1);
  ASSERT_EQ(out.size(), 2u);
  size_t next = 1480;
  for (auto& f : out) {
    Ipv4View ip;
    ASSERT_TRUE(ip_of(f, ip, ringtest::stack_mac(1), ringtest::peer_mac(1)));
    EXPECT_LE(ip.total_length(), 1280);
    EXPECT_TRUE(ip.more_fragments());
    EXPECT_EQ(ip.frag_offset_bytes(), next);
    EXPECT_EQ(ip.ttl(), 63);
    EXPECT_TRUE(std::equal(ip.payload(), ip.payload() + ip.payload_len(), big.begin() + static_cast<long>(kIpHdr + next)));
    next += ip.payload_len();
  }
  EXPECT_EQ(next, 2960u);
}

TEST_F(IpComponent, Forward_StaticRouteViaGateway_Used) {
  const Ipv4Addr far = Ipv4Addr::from_octets(10, 9, 3, 4);
  const Route r{Ipv4Prefix{Ipv4Addr::from_octets(10, 9, 0, 0), 16}, ring().port(1), kPeer1, RouteKind::kStatic};
  auto net_unreachable = [&](uint16_t id) {
    feed({eth_frame(echo_datagram(kPeerIp, far, id, 17, 64))});
    EXPECT_TRUE(ring().sent(1).empty());
    auto out = ring().sent(0);
    ASSERT_EQ(out.size(), 1u);
    Bytes quote;
    EXPECT_TRUE(icmp_error_of(out[0], kStackIp, kPeerIp, kStackMac, kPeerMac, icmptype::kDestUnreachable,
                              icmpcode::kNetUnreachable, quote));
  };
  net_unreachable(0x6606);
  auto st = ring().stack().route_add(r);
  ASSERT_TRUE(st) << st.error().message;
  const Bytes dg = echo_datagram(kPeerIp, far, 0x6607, 18, 64);
  feed({eth_frame(dg)});
  EXPECT_TRUE(ring().sent(0).empty());
  auto out = ring().sent(1);
  ASSERT_EQ(out.size(), 1u);
  Ipv4View ip;
  EXPECT_TRUE(ip_of(out[0], ip, ringtest::stack_mac(1), ringtest::peer_mac(1))) << "to the gateway's MAC";
  EXPECT_EQ(ip.dst(), far);
  EXPECT_EQ(ip.ttl(), 63);
  auto del = ring().stack().route_del(r.prefix);
  ASSERT_TRUE(del) << del.error().message;
  net_unreachable(0x6608);
}

// --- Loopback -----------------------------------------------------------------

// Our own datagrams to our own addresses never touch a port.
TEST_F(IpComponent, Loopback_EchoToOwnAddress_NeverOnTheWire_ReplyOnThePingBoard) {
  auto& ping = ring().stack().context().ping;
  const uint16_t ident = 0x7777;
  const Ipv4Addr targets[] = {kStackIp, ringtest::stack_ip(1)};  // weak host model: any of ours
  for (uint16_t seq = 5; seq < 7; ++seq) {
    SCOPED_TRACE(targets[seq - 5].to_string());
    size_t slot = seq % PingBoard::kSlots;
    ping.reply_tsc[slot].store(0);
    ping.reply_bytes[slot].store(0);
    ping.sent_tsc[slot].store(rte_rdtsc());
    ping.ident.store(ident);
    snapshot();
    ASSERT_TRUE(ring().engine(0).send_echo_request(targets[seq - 5], ident, seq, 56));
    EXPECT_EQ(delta(&LcoreCounters::loopback_packets), 1u);
    ring().poll(3);
    EXPECT_EQ(delta(&LcoreCounters::loopback_packets), 2u) << "the request and the reply";
    EXPECT_EQ(delta(&LcoreCounters::icmp_echo_replies), 1u);
    EXPECT_EQ(delta(&LcoreCounters::tx_packets), 0u);
    EXPECT_EQ(ring().drop_sent(), 0u);
    EXPECT_NE(ping.reply_tsc[slot].load(), 0u);
    EXPECT_EQ(ping.reply_bytes[slot].load(), 8u + 56u);
    EXPECT_EQ(ping.reply_ttl[slot].load(), 64);
    EXPECT_EQ(ring().counters().drop_total(), before_.drop_total());
    ping.ident.store(0);
    ping.sent_tsc[slot].store(0);
    ping.reply_tsc[slot].store(0);
  }
}

// A packet of ours that waits for ARP in vain is answered with a host
// unreachable (to ourselves, through the loopback) whatever bytes its mbuf
// held before: its Ethernet destination is not set until ARP resolves.
// (Hosts on port 1's network: the fuzz may have taught any on port 0's.)
TEST_F(IpComponent, ArpGivesUp_OwnEchoRequest_HostUnreachableDeliveredLocally) {
  const char* primed[] = {"a unicast frame", "a broadcast frame"};
  for (int k = 0; k < 2; ++k) {
    SCOPED_TRACE(std::string("the mbuf last held ") + primed[k]);
    const Ipv4Addr nobody = Ipv4Addr::from_octets(10, 1, 1, static_cast<uint8_t>(66 + k));
    // The pool's per-lcore cache is a stack: the next allocation returns
    // the mbuf freed last, bytes and all.
    rte_mbuf* m = ring().make(k == 0 ? ringtest::eth_frame(Bytes(46, 0)) : ringtest::arp_request_frame(kPeerIp, kStackIp));
    ASSERT_NE(m, nullptr);
    rte_pktmbuf_free(m);
    snapshot();
    ASSERT_TRUE(ring().engine(0).send_echo_request(nobody, 0x7778, static_cast<uint16_t>(20 + k), 56));
    auto t0 = Clock::now();
    while (drops(DropReason::arp_resolve_failed) == 0 && ms_since(t0) < 2000) {
      ring().poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ring().poll(3);
    EXPECT_EQ(drops(DropReason::arp_resolve_failed), 1u);
    EXPECT_GE(delta(&LcoreCounters::arp_requests_sent), 1u);
    EXPECT_EQ(ring().sent(1).size(), delta(&LcoreCounters::arp_requests_sent)) << "the ARP requests, nothing else";
    EXPECT_TRUE(ring().sent(0).empty());
    EXPECT_EQ(delta(&LcoreCounters::icmp_errors_sent), 1u);
    EXPECT_EQ(delta(&LcoreCounters::icmp_errors_in), 1u);
    ASSERT_FALSE(ring().engine(0).recent_icmp_errors().empty());
    const auto& e = ring().engine(0).recent_icmp_errors().back();
    EXPECT_EQ(e.type, icmptype::kDestUnreachable);
    EXPECT_EQ(e.code, icmpcode::kHostUnreachable);
    EXPECT_EQ(e.dst, nobody) << e.dst.to_string();
  }
}

// --- Steering (DESIGN 2): a reassembled datagram belongs to the engine its
// whole tuple hashes to ----------------------------------------------------------

struct Host {
  Ipv4Addr ip;
  MacAddr mac;
};

TEST_F(IpComponent, Steering_ReassembledUdp_DeliveredOnTheOwningEngine) {
  ASSERT_EQ(ring().engines(), 2u);
  const RssParams& rss = ring().stack().context().ports[ring().port(0)].rss_params;
  ASSERT_EQ(rss.nb_queues, 2);
  const Host hosts[] = {{kPeerIp, kPeerMac}, {Ipv4Addr::from_octets(10, 0, 0, 3), MacAddr{{2, 0, 0, 0, 0, 3}}}};
  const uint16_t dport = 7;
  // A (host, source port) whose datagrams engine 0 owns, and one for engine 1.
  const Host* owner_host[2] = {nullptr, nullptr};
  uint16_t owner_sport[2] = {0, 0};
  for (const auto& h : hosts)
    for (uint16_t sport = 1024; sport < 1280; ++sport) {
      uint16_t o = owner_queue(rss, h.ip, kStackIp, ipproto::kUdp, sport, dport);
      if (o < 2 && owner_host[o] == nullptr) {
        owner_host[o] = &h;
        owner_sport[o] = sport;
      }
    }
  ASSERT_NE(owner_host[0], nullptr);
  ASSERT_NE(owner_host[1], nullptr);
  for (const auto& h : hosts) learn_arp(h.ip, h.mac);

  for (unsigned owner = 0; owner < 2; ++owner) {
    SCOPED_TRACE("owner " + std::to_string(owner));
    const Host& h = *owner_host[owner];
    Bytes udp(8 + 1000);
    store_be16(udp.data(), owner_sport[owner]);
    store_be16(udp.data() + 2, dport);
    store_be16(udp.data() + 4, static_cast<uint16_t>(udp.size()));
    for (size_t i = 8; i < udp.size(); ++i) udp[i] = static_cast<uint8_t>(i);
    Ipv4Fields f;
    f.src = h.ip;
    f.protocol = ipproto::kUdp;
    f.ident = static_cast<uint16_t>(0x6700 + owner);
    const Bytes dg = ipv4_datagram(f, udp);
    snapshot();
    ASSERT_TRUE(ring().inject(eth_frame(ip_fragment(dg, 0, 512, true), kStackMac, h.mac)));
    ASSERT_TRUE(ring().inject(eth_frame(ip_fragment(dg, 512, 496, false), kStackMac, h.mac)));
    ring().engine(0).poll_once();  // engine 0 alone: RX, reassembly, and the verdict
    EXPECT_EQ(delta(0, &LcoreCounters::reasm_ok), 1u);
    EXPECT_EQ(delta(0, &LcoreCounters::steered_out), owner == 1 ? 1u : 0u);
    EXPECT_EQ(delta(0, &LcoreCounters::ipv4_delivered), owner == 0 ? 1u : 0u);
    EXPECT_EQ(delta(1, &LcoreCounters::steered_in), 0u);
    ring().engine(1).poll_once();  // engine 1 drains its mailbox
    ring().poll(2);
    EXPECT_EQ(delta(1, &LcoreCounters::steered_in), owner == 1 ? 1u : 0u);
    EXPECT_EQ(delta(owner, &LcoreCounters::ipv4_delivered), 1u);
    EXPECT_EQ(delta(1 - owner, &LcoreCounters::ipv4_delivered), 0u);
    // No socket on port 7: the owner answers port unreachable, on its own
    // queue, quoting the reassembled datagram.
    EXPECT_EQ(drops(owner, DropReason::udp_no_socket), 1u);
    EXPECT_EQ(delta(owner, &LcoreCounters::icmp_errors_sent), 1u);
    EXPECT_TRUE(take(ring().tx(0, 1 - owner)).empty());
    auto out = take(ring().tx(0, owner));
    ASSERT_EQ(out.size(), 1u);
    Bytes quote;
    ASSERT_TRUE(icmp_error_of(out[0], kStackIp, h.ip, kStackMac, h.mac, icmptype::kDestUnreachable,
                              icmpcode::kPortUnreachable, quote));
    EXPECT_TRUE(quotes(quote, dg));
  }
}

// RFC 1122 3.2.2.6: the stack ignores echo requests to a broadcast address,
// also when they come in fragments and their owner is another engine.
TEST_F(IpComponent, Steering_FragmentedEchoToBroadcast_NotAnsweredByAnyEngine) {
  const RssParams& rss = ring().stack().context().ports[ring().port(0)].rss_params;
  const Host hosts[] = {{kPeerIp, kPeerMac}, {Ipv4Addr::from_octets(10, 0, 0, 3), MacAddr{{2, 0, 0, 0, 0, 3}}}};
  for (const auto& h : hosts) learn_arp(h.ip, h.mac);
  snapshot();
  uint16_t id = 0x6800;
  std::string owners;
  for (Ipv4Addr dst : {Ipv4Addr::from_octets(10, 0, 0, 255), Ipv4Addr::broadcast()})
    for (const auto& h : hosts) {
      owners += h.ip.to_string() + "->" + dst.to_string() + ": engine " +
                std::to_string(owner_queue(rss, h.ip, dst, ipproto::kIcmp, 0, 0)) + "; ";
      const Bytes dg = echo_datagram(h.ip, dst, id++, 19, 1000);
      feed({eth_frame(ip_fragment(dg, 0, 504, true), kBroadcastMac, h.mac),
            eth_frame(ip_fragment(dg, 504, 504, false), kBroadcastMac, h.mac)});
    }
  SCOPED_TRACE(owners);
  EXPECT_EQ(delta(&LcoreCounters::reasm_ok), 4u);
  EXPECT_EQ(delta(&LcoreCounters::icmp_echo_replies), 0u);
  EXPECT_EQ(drops(DropReason::icmp_broadcast_echo), 4u);
  auto out = ring().sent(0);
  EXPECT_TRUE(out.empty()) << out.size() << " frames sent, the first from "
                           << (out.empty() || out[0].size() < 34 ? std::string("-")
                                                                 : Ipv4Addr(load_be32(out[0].data() + 26)).to_string());
}

}  // namespace
}  // namespace dpdkstack
