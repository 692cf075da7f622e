// A whole Stack on net_ring ports whose rings the test program owns: frames
// enqueued on rx(port, queue) are what the port receives on that queue,
// frames dequeued from tx(port, queue) are what it sent there. Shared by the
// component tests and the engine microbenchmark. EAL runs without
// hugepages, PCI or telemetry, under its own file prefix.
//
// Port k has the address 10.k.k.1/24 and MAC 02:00:00:00:k:01; its peer is
// 10.k.k.2 / 02:00:00:00:k:02, known through a static ARP entry. Port 0 is
// thus 10.0.0.1 / 02:00:00:00:00:01 with the peer 10.0.0.2.
//
// Engines: with one (the default) EAL runs on the main lcore alone and the
// Stack makes its single engine there. With N > 1, EAL gets N worker lcores
// (all on CPU 0) and the Stack one engine per worker and one queue per
// engine on every port; the workers are never launched (Stack::run is not
// called): the test drives every engine with poll_once() from its own thread,
// so each Engine::call() runs directly and nothing races.
//
// Also here, without gtest: builders for the frames tests inject (Ethernet,
// IPv4, ICMP echo, fragments) and a copy-out of what the port sent.
#pragma once

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "runtime/stack.hpp"
#include "wire/arp.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"

namespace dpdkstack::ringtest {

using Bytes = std::vector<uint8_t>;

// Port k's own address and MAC, and its peer's (static ARP).
constexpr Ipv4Addr stack_ip(unsigned port) {
  return Ipv4Addr::from_octets(10, static_cast<uint8_t>(port), static_cast<uint8_t>(port), 1);
}
constexpr Ipv4Addr peer_ip(unsigned port) {
  return Ipv4Addr::from_octets(10, static_cast<uint8_t>(port), static_cast<uint8_t>(port), 2);
}
inline MacAddr stack_mac(unsigned port) { return MacAddr{{0x02, 0, 0, 0, static_cast<uint8_t>(port), 0x01}}; }
inline MacAddr peer_mac(unsigned port) { return MacAddr{{0x02, 0, 0, 0, static_cast<uint8_t>(port), 0x02}}; }

inline const MacAddr kStackMac = stack_mac(0);
inline const MacAddr kPeerMac = peer_mac(0);
inline constexpr Ipv4Addr kStackIp = stack_ip(0);
inline constexpr Ipv4Addr kPeerIp = peer_ip(0);

// Writes an ICMP echo request from `src` to the stack (Ethernet, IPv4, ICMP,
// data of `data_len` bytes: byte i is i*7+seq) into `out`, which must hold
// 42 + data_len bytes.
inline void write_echo_request(uint8_t* out, uint16_t seq, size_t data_len, Ipv4Addr src = kPeerIp) {
  using namespace wire;
  EthernetRepr{kStackMac, kPeerMac, ethertype::kIpv4}.emit(out);
  for (size_t i = 0; i < data_len; ++i) out[42 + i] = static_cast<uint8_t>(i * 7 + seq);
  IcmpEchoRepr{true, 0x1234, seq}.emit(out + 34, data_len);
  Ipv4Repr{src, kStackIp, ipproto::kIcmp, 64, 0, seq, false, static_cast<uint16_t>(8 + data_len)}.emit(out + 14,
                                                                                                       true);
}

// Writes a broadcast ARP request from the peer's MAC into `out` (42 bytes).
inline void write_arp_request(uint8_t* out, Ipv4Addr sender = kPeerIp, Ipv4Addr target = kStackIp,
                              const MacAddr& sender_mac = kPeerMac) {
  using namespace wire;
  EthernetRepr{MacAddr::broadcast(), sender_mac, ethertype::kArp}.emit(out);
  ArpRepr{ArpOp::kRequest, sender_mac, sender, MacAddr{}, target}.emit(out + 14);
}

// --- Frame builders (all checksums filled) ---------------------------------

// An ICMP echo message: request or reply, `data` after the 8-byte header.
inline Bytes icmp_echo(bool request, uint16_t ident, uint16_t seq, const Bytes& data) {
  Bytes b(wire::IcmpView::kHeaderLen + data.size());
  std::copy(data.begin(), data.end(), b.begin() + wire::IcmpView::kHeaderLen);
  wire::IcmpEchoRepr{request, ident, seq}.emit(b.data(), data.size());
  return b;
}

// An ICMP error message (type, code, next-hop MTU) quoting `quote`.
inline Bytes icmp_error_msg(uint8_t type, uint8_t code, uint16_t mtu, const Bytes& quote) {
  Bytes b(wire::IcmpView::kHeaderLen + quote.size());
  std::copy(quote.begin(), quote.end(), b.begin() + wire::IcmpView::kHeaderLen);
  wire::IcmpErrorRepr{type, code, mtu}.emit(b.data(), quote.size());
  return b;
}

struct Ipv4Fields {
  Ipv4Addr src = kPeerIp;
  Ipv4Addr dst = kStackIp;
  uint8_t protocol = wire::ipproto::kIcmp;
  uint16_t ident = 0;
  uint8_t ttl = 64;
  bool df = false;
};

// A whole (unfragmented) IPv4 datagram: a 20-byte header, then `payload`.
inline Bytes ipv4_datagram(const Ipv4Fields& f, const Bytes& payload) {
  Bytes b(wire::Ipv4View::kMinHeaderLen + payload.size());
  std::copy(payload.begin(), payload.end(), b.begin() + wire::Ipv4View::kMinHeaderLen);
  wire::Ipv4Repr{f.src, f.dst, f.protocol, f.ttl, 0, f.ident, f.df, static_cast<uint16_t>(payload.size())}.emit(
      b.data(), true);
  return b;
}

// An IPv4 datagram carrying an ICMP echo request (identifier 0x1234, data
// byte i is i*7+seq, as in write_echo_request).
inline Bytes echo_datagram(Ipv4Addr src, Ipv4Addr dst, uint16_t ip_id, uint16_t seq, size_t data_len,
                           uint8_t ttl = 64, bool df = false) {
  Bytes data(data_len);
  for (size_t i = 0; i < data_len; ++i) data[i] = static_cast<uint8_t>(i * 7 + seq);
  Ipv4Fields f;
  f.src = src;
  f.dst = dst;
  f.ident = ip_id;
  f.ttl = ttl;
  f.df = df;
  return ipv4_datagram(f, icmp_echo(true, 0x1234, seq, data));
}

// RFC 791: the fragment of `datagram` (an option-less header, then its
// payload) that carries payload bytes [offset, offset + len), MF as given.
// The offset need not be a multiple of 8 nor the range inside the payload
// (hostile fragments): bytes past the payload are zeros, and the offset
// field is offset / 8.
inline Bytes ip_fragment(const Bytes& datagram, size_t offset, size_t len, bool more) {
  constexpr size_t kHl = wire::Ipv4View::kMinHeaderLen;
  Bytes b(kHl + len, 0);
  std::copy(datagram.begin(), datagram.begin() + kHl, b.begin());
  for (size_t i = 0; i < len; ++i)
    if (kHl + offset + i < datagram.size()) b[kHl + i] = datagram[kHl + offset + i];
  wire::store_be16(b.data() + 2, static_cast<uint16_t>(b.size()));
  uint16_t df = wire::load_be16(datagram.data() + 6) & wire::Ipv4View::kFlagDf;
  wire::store_be16(b.data() + 6, static_cast<uint16_t>(df | (more ? wire::Ipv4View::kFlagMf : 0) |
                                                       ((offset / 8) & wire::Ipv4View::kOffsetMask)));
  wire::Ipv4View::trusted(b.data()).fill_checksum();
  return b;
}

// Splits `datagram` as a sender with this MTU would: every fragment but the
// last carries the most payload a multiple of 8 allows.
inline std::vector<Bytes> ip_fragments(const Bytes& datagram, size_t mtu) {
  constexpr size_t kHl = wire::Ipv4View::kMinHeaderLen;
  size_t step = (mtu - kHl) & ~size_t{7};
  size_t payload = datagram.size() - kHl;
  std::vector<Bytes> out;
  for (size_t off = 0; off < payload; off += step) {
    size_t len = std::min(step, payload - off);
    out.push_back(ip_fragment(datagram, off, len, off + len < payload));
  }
  return out;
}

// An Ethernet frame carrying `ip`, by default from port 0's peer to the stack.
inline Bytes eth_frame(const Bytes& ip, const MacAddr& dst = kStackMac, const MacAddr& src = kPeerMac,
                       uint16_t type = wire::ethertype::kIpv4) {
  Bytes b(wire::EthernetView::kHeaderLen + ip.size());
  if (b.size() < wire::EthernetView::kHeaderLen) return b;  // never (it tells the compiler b.data() is set)
  wire::EthernetRepr{dst, src, type}.emit(b.data());
  std::copy(ip.begin(), ip.end(), b.begin() + wire::EthernetView::kHeaderLen);
  return b;
}

// A broadcast ARP request (42 bytes) from `sender_mac` / `sender` for `target`.
inline Bytes arp_request_frame(Ipv4Addr sender, Ipv4Addr target, const MacAddr& sender_mac = kPeerMac) {
  Bytes b(42);
  write_arp_request(b.data(), sender, target, sender_mac);
  return b;
}

// The bytes of a packet, whatever its segments.
inline Bytes packet_bytes(const rte_mbuf* m) {
  Bytes b(m->pkt_len);
  const void* p = rte_pktmbuf_read(m, 0, m->pkt_len, b.data());
  if (p != nullptr && p != b.data()) std::memcpy(b.data(), p, m->pkt_len);
  return b;
}

// --- The stack --------------------------------------------------------------

struct RingStackOptions {
  std::string arp;                      // members of the config's "arp" object besides "static"
  std::string extra;                    // more top-level members, e.g. R"("ip": {...}, "icmp": {...})"
  unsigned ports = 1;                   // net_ring ports (at most 200)
  unsigned engines = 1;                 // engines = queue pairs a port (1: the main lcore alone)
  std::vector<std::string> port_extra;  // by port: more members of $.ports[k], e.g. R"("mtu": 1280)"
};

class RingStack {
 public:
  // Starts EAL and the stack with one port and one engine; `arp_json` is the
  // config's "arp" object without the static entry for the peer, which is
  // always added; `extra_json` more top-level members of the config.
  static std::unique_ptr<RingStack> start(const char* prefix, const std::string& arp_json = "",
                                          const std::string& extra_json = "") {
    RingStackOptions o;
    o.arp = arp_json;
    o.extra = extra_json;
    return start(prefix, o);
  }

  static std::unique_ptr<RingStack> start(const char* prefix, const RingStackOptions& opt) {
    if (opt.ports == 0 || opt.ports > 200 || opt.engines == 0) return fail("bad options");
    // One engine: the main lcore alone. More: that many worker lcores, all
    // on CPU 0 (they are never launched, so they only sleep).
    std::string lcores = "0@0";
    for (unsigned i = 1; i <= opt.engines && opt.engines > 1; ++i) lcores += "," + std::to_string(i) + "@0";
    // Each engine's routing table takes 64 MiB (rte_lpm's tbl24), as does
    // the stack's master table. On top, room for the two one-engine hosts
    // a test may build beside the stack (tcp_pair.hpp): a routing table and
    // a small pool each.
    std::string mem = std::to_string(64 + 96 * (opt.engines + 1) + 2 * 80);
    const char* eal[] = {"ring-stack",   "--lcores",    lcores.c_str(), "--no-pci",      "--no-huge",
                         "-m",           mem.c_str(),   "--no-shconf",  "--no-telemetry", "--log-level",
                         "lib.*:error",  "--file-prefix", prefix};
    if (rte_eal_init(static_cast<int>(sizeof eal / sizeof eal[0]), const_cast<char**>(eal)) < 0) {
      std::fprintf(stderr, "ring-stack: EAL init failed\n");
      return nullptr;
    }
    std::unique_ptr<RingStack> r(new RingStack());
    r->engines_ = opt.engines;
    std::string ports_json, statics_json;
    for (unsigned k = 0; k < opt.ports; ++k) {
      std::vector<rte_ring*> rx, tx;
      for (unsigned q = 0; q < opt.engines; ++q) {
        std::string suffix = std::to_string(k) + "_" + std::to_string(q);
        rx.push_back(rte_ring_create(("rs_rx" + suffix).c_str(), 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
        tx.push_back(rte_ring_create(("rs_tx" + suffix).c_str(), 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
        if (rx.back() == nullptr || tx.back() == nullptr) return fail("cannot create rings");
      }
      int id = rte_eth_from_rings(("net_ring_stack" + std::to_string(k)).c_str(), rx.data(), opt.engines, tx.data(),
                                  opt.engines, SOCKET_ID_ANY);
      if (id < 0) return fail("cannot create ring port " + std::to_string(k));
      r->rx_.push_back(std::move(rx));
      r->tx_.push_back(std::move(tx));
      r->port_ids_.push_back(static_cast<uint16_t>(id));
      std::string extra = k < opt.port_extra.size() ? opt.port_extra[k] : "";
      ports_json += std::string(k ? ", " : "") + R"({"address": ")" + stack_ip(k).to_string() + R"(/24", "mac": ")" +
                    stack_mac(k).to_string() + R"(", "rx_desc": 64, "tx_desc": 64)" + (extra.empty() ? "" : ", ") +
                    extra + "}";
      statics_json += std::string(k ? ", " : "") + R"({"port": )" + std::to_string(k) + R"(, "ip": ")" +
                      peer_ip(k).to_string() + R"(", "mac": ")" + peer_mac(k).to_string() + R"("})";
    }
    std::string json = R"({"ports": [)" + ports_json + R"(], "arp": {)" + opt.arp + (opt.arp.empty() ? "" : ", ") +
                       R"("static": [)" + statics_json + "]}" + (opt.extra.empty() ? "" : ", ") + opt.extra + "}";
    auto cfg = parse_config(json);
    if (!cfg) return fail(cfg.error().message + "\nin " + json);
    auto stack = Stack::create(*cfg, {});
    if (!stack) return fail(stack.error().message);
    r->stack_ = std::move(*stack);
    if (r->stack_->engines().size() != opt.engines) return fail("the stack did not make one engine per worker");
    // The first timer step sends each port's gratuitous ARP; drain them so
    // runs start clean.
    for (int i = 0; i < 300; ++i) {
      bool all = true;
      for (unsigned k = 0; k < opt.ports; ++k) all = all && rte_ring_count(r->tx_[k][0]) != 0;
      if (all) break;
      r->poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    r->drop_sent();
    return r;
  }

  // Stops the stack and EAL; returns the mbufs still in use after shutdown
  // (0 unless something leaked). Removes the EAL runtime directory.
  unsigned stop() {
    auto pools = all_pools();
    stack_->shutdown();
    drop_sent();
    for (auto& port : rx_)
      for (auto* ring : port) free_ring(ring);
    unsigned in_use = 0;
    for (auto* p : pools) in_use += rte_mempool_in_use_count(p);
    stack_.reset();
    std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    rmdir(runtime_dir.c_str());
    return in_use;
  }

  Stack& stack() { return *stack_; }
  Engine& engine(unsigned i = 0) { return *stack_->engines()[i]; }
  unsigned engines() const { return engines_; }
  unsigned ports() const { return static_cast<unsigned>(port_ids_.size()); }
  rte_mempool* pool() { return stack_->pools()[0]; }
  rte_ring* rx(unsigned port = 0, unsigned queue = 0) { return rx_[port][queue]; }
  rte_ring* tx(unsigned port = 0, unsigned queue = 0) { return tx_[port][queue]; }
  uint16_t port(unsigned k = 0) const { return port_ids_[k]; }

  // Every engine's counters, summed.
  LcoreCounters counters() { return stack_->total_counters(); }

  // Mbufs in use in every pool the stack made (direct and indirect).
  unsigned in_use() const {
    unsigned n = 0;
    for (auto* p : all_pools()) n += rte_mempool_in_use_count(p);
    return n;
  }

  // A frame with these bytes, from the stack's pool; nullptr when empty.
  rte_mbuf* make(const Bytes& bytes) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool());
    if (m == nullptr) return nullptr;
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size()));
    if (p == nullptr) {
      rte_pktmbuf_free(m);
      return nullptr;
    }
    std::memcpy(p, bytes.data(), bytes.size());
    return m;
  }

  // Queues a frame where port `port` receives on `queue`; false if it
  // could not (no mbuf, ring full).
  bool inject(const Bytes& bytes, unsigned port = 0, unsigned queue = 0) {
    rte_mbuf* m = make(bytes);
    if (m == nullptr) return false;
    if (rte_ring_enqueue(rx_[port][queue], m) == 0) return true;
    rte_pktmbuf_free(m);
    return false;
  }

  // `rounds` loop iterations of every engine, in index order.
  void poll(int rounds = 1) {
    for (int i = 0; i < rounds; ++i)
      for (auto& e : stack_->engines()) e->poll_once();
  }

  // What port `port` sent, on every queue (queue 0's first); the caller
  // frees the mbufs.
  std::vector<rte_mbuf*> drain(unsigned port) {
    std::vector<rte_mbuf*> out;
    for (auto* ring : tx_[port]) {
      void* m = nullptr;
      while (rte_ring_dequeue(ring, &m) == 0) out.push_back(static_cast<rte_mbuf*>(m));
    }
    return out;
  }

  // What port `port` sent, copied out (the mbufs are freed).
  std::vector<Bytes> sent(unsigned port) {
    std::vector<Bytes> out;
    for (auto* m : drain(port)) {
      out.push_back(packet_bytes(m));
      rte_pktmbuf_free(m);
    }
    return out;
  }

  // Frees whatever every port sent; returns how many frames that was.
  size_t drop_sent() {
    size_t n = 0;
    for (auto& port : tx_)
      for (auto* ring : port) n += free_ring(ring);
    return n;
  }

  static size_t free_ring(rte_ring* ring) {
    size_t n = 0;
    void* m = nullptr;
    while (rte_ring_dequeue(ring, &m) == 0) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      ++n;
    }
    return n;
  }

 private:
  RingStack() = default;
  static std::unique_ptr<RingStack> fail(const std::string& why) {
    std::fprintf(stderr, "ring-stack: %s\n", why.c_str());
    return nullptr;
  }
  std::vector<rte_mempool*> all_pools() const {
    std::vector<rte_mempool*> out = stack_->pools();
    for (auto* p : stack_->context().indirect_pools)
      if (p != nullptr) out.push_back(p);
    return out;
  }

  std::vector<std::vector<rte_ring*>> rx_, tx_;  // [port][queue]
  std::vector<uint16_t> port_ids_;
  unsigned engines_ = 1;
  std::unique_ptr<Stack> stack_;
};

}  // namespace dpdkstack::ringtest
