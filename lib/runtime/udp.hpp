// UDP (RFC 768, RFC 1122 4.1) on one engine, and the application API for it.
//
// Contract:
// - Per lcore. Each Engine owns one Udp (`engine.udp()`): a socket table
//   (udp/socket_table.hpp) and the input and output paths. Every call below
//   is made on that engine's lcore: from a handler it invoked, or through
//   Engine::call() from the control plane, or before the stack runs (the
//   engines are idle then). No call takes a lock; none may be made from
//   another thread.
// - Receive: RSS decides which lcore a datagram reaches; the socket table of
//   THAT lcore is searched. A server that should answer every flow opens its
//   socket on every engine (services do: see services/udp_services.hpp).
// - Handlers run on the engine's lcore, inside its loop, and should return
//   quickly (run to completion: a slow handler delays every packet behind
//   it). on_datagram gets a UdpDatagram: the sender, the local address it
//   was sent to, and the payload still in its mbuf (no copy). The handler
//   may read it (data()/copy_to()), or take() the mbuf and own it (then
//   free it or pass it to send_mbuf_to). What is not taken is freed when the
//   handler returns. on_error gets the ICMP errors (port unreachable, ...)
//   that quote a datagram this socket sent (RFC 1122 4.1.3.3).
// - Send: send_to/send copy the payload into new mbufs; send_mbuf_to takes
//   a payload mbuf chain and prepends the headers in its headroom. Each
//   returns a UdpStatus; kOk means the datagram was handed to IP (it may
//   still wait for ARP). A datagram that cannot go is never silently lost:
//   the status says why, the socket's and the engine's counters count it,
//   and a payload mbuf handed over is freed (drop reason udp_send_failed).
//   kTxFull: the egress port's TX backlog has no room for the datagram's
//   frames (the NIC is not keeping up); retry later.
// - Checksums: verified on receive (by the NIC when the port offers it), a
//   zero checksum accepted (RFC 768: none); always generated on send (by the
//   NIC when the port offers it and the datagram is not fragmented).
// - close() from inside the socket's own handler is allowed: the socket
//   stops receiving at once and is released when the handler returns.
//
// TCP will follow the same shape: a handle per connection, a record of
// std::function handlers (on_accept, on_readable, on_writable, on_closed),
// calls on the owning lcore, statuses instead of exceptions.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/counters.hpp"
#include "core/types.hpp"
#include "udp/socket_table.hpp"

namespace dpdkstack {

class Engine;
struct IcmpErrorInfo;

enum class UdpStatus : uint8_t {
  kOk,
  kBadHandle,        // not an open socket of this engine
  kInvalid,          // a zero port or address where one is needed
  kNotConnected,     // send() on a socket without a remote
  kNotLocal,         // open(): the local address is not one of ours
  kAddressInUse,     // open(): the local endpoint is taken
  kNoEphemeralPort,  // open() with port 0: none free
  kTableFull,        // open(): udp.max_sockets sockets on this engine
  kTooBig,           // payload over 65,507 bytes
  kNoRoute,          // no route to the destination
  kNoMbuf,           // the mempool is empty
  kTxFull,           // the egress port's TX backlog is full: retry later
};

const char* udp_status_name(UdpStatus s);

// One received datagram, valid during the on_datagram call.
class UdpDatagram {
 public:
  UdpEndpoint from;   // the sender
  UdpEndpoint to;     // our address and port it was sent to (may be a broadcast address)
  uint16_t port = 0;  // ingress DPDK port id (Engine::kLoopbackPort for our own)

  size_t length() const { return len_; }
  // The payload's first bytes, contiguous: all of it unless the datagram
  // was reassembled from fragments (then the first fragment's part).
  const uint8_t* data() const { return rte_pktmbuf_mtod_offset(m_, const uint8_t*, off_); }
  size_t contiguous_length() const { return std::min<size_t>(len_, m_->data_len - off_); }
  // Copies up to `n` payload bytes from `offset` into `out`; returns how many.
  size_t copy_to(void* out, size_t n, size_t offset = 0) const;
  // Takes the mbuf (chain): its data is exactly the payload, its headroom
  // holds at least the headers (so send_mbuf_to prepends in place). The
  // caller owns it. nullptr when already taken.
  rte_mbuf* take();

 private:
  friend class Udp;
  rte_mbuf* m_ = nullptr;
  uint32_t off_ = 0;
  uint32_t len_ = 0;
  uint16_t checksum_ = 0;  // the UDP checksum field as received (verified)
};

struct UdpHandlers {
  std::function<void(UdpHandle, UdpDatagram&)> on_datagram;           // may be empty: datagrams counted and freed
  std::function<void(UdpHandle, const IcmpErrorInfo&)> on_error;     // may be empty
};

struct UdpOpenOptions {
  std::string name;         // shown by `show udp` ("udp-echo", "myapp")
  bool reuse_addr = false;  // wildcard and specific sockets may share a port (see socket_table.hpp)
};

struct UdpOpenResult {
  UdpStatus status = UdpStatus::kOk;
  UdpHandle handle = kNoUdpSocket;
  uint16_t port = 0;  // the local port (the ephemeral one picked for port 0)
  explicit operator bool() const { return status == UdpStatus::kOk; }
};

// A socket's counters (one writer: its engine).
struct UdpSocketStats {
  uint64_t rx_datagrams = 0, rx_bytes = 0;
  uint64_t tx_datagrams = 0, tx_bytes = 0;
  uint64_t tx_full = 0;      // sends refused with kTxFull
  uint64_t tx_refused = 0;   // sends refused for any other reason
  uint64_t icmp_errors = 0;  // errors delivered to on_error
  uint64_t app_dropped = 0;  // datagrams the application chose to drop (count_drop)
};

// One socket as `show udp` lists it.
struct UdpSocketSnapshot {
  unsigned engine = 0;
  UdpHandle handle = kNoUdpSocket;
  UdpSocketInfo info;
  std::string name;
  UdpSocketStats stats;
};

class Udp {
 public:
  Udp(Engine& engine, const UdpTableConfig& cfg);
  Udp(const Udp&) = delete;
  Udp& operator=(const Udp&) = delete;

  // Binds a socket to `local` (addr 0.0.0.0: every address of ours; port 0:
  // an ephemeral port from udp.ephemeral_first..last).
  UdpOpenResult open(UdpEndpoint local, UdpHandlers handlers, UdpOpenOptions opts = {});
  // Sets the remote: only datagrams from it are received, send() goes to it.
  // 0.0.0.0:0 disconnects.
  UdpStatus connect(UdpHandle h, UdpEndpoint remote);
  UdpStatus close(UdpHandle h);

  UdpStatus send_to(UdpHandle h, UdpEndpoint to, const void* data, size_t len);
  UdpStatus send(UdpHandle h, const void* data, size_t len);
  // Sends the payload chain `payload` (data = payload bytes; ownership
  // passes to the stack whatever the status). The source address is the
  // socket's, or for a wildcard socket `src` when it is one of ours, else the
  // address of the port the route leaves by.
  UdpStatus send_mbuf_to(UdpHandle h, UdpEndpoint to, rte_mbuf* payload, Ipv4Addr src = {});
  // Sends the datagram's payload, unchanged, back to its sender from the
  // endpoint it was sent to (echo, reflectors): takes the mbuf (as take()
  // would) and reuses the request's checksum, which swapping the addresses
  // and ports leaves valid (the one's complement sum does not depend on
  // the order of its words), so the payload is not summed again. From a
  // broadcast address, or when the request carried no checksum, it is
  // computed as for send_mbuf_to. Nothing to send when already taken
  // (kInvalid).
  UdpStatus echo(UdpHandle h, UdpDatagram& d);
  // An mbuf for a payload of `len` bytes with headroom for the headers
  // (a chain when `len` exceeds one mbuf); nullptr when the pool is empty.
  rte_mbuf* alloc_payload(size_t len);

  // Counts a datagram the application dropped on purpose (in `show udp`).
  void count_drop(UdpHandle h);
  const UdpSocketInfo* info(UdpHandle h) const { return table_.info(h); }
  const UdpSocketStats* stats(UdpHandle h) const;
  size_t size() const { return table_.size(); }
  void snapshot(std::vector<UdpSocketSnapshot>& out, unsigned engine_index) const;

  // The engine's side (not for applications).
  void input(uint16_t port, rte_mbuf* m, uint32_t udp_off, uint32_t udp_len, Ipv4Addr src, Ipv4Addr dst,
             bool to_broadcast);
  void icmp_error(const IcmpErrorInfo& e);

 private:
  struct Record {
    UdpHandlers handlers;
    std::string name;
    UdpSocketStats stats;
  };
  // A send that passed every check: where from and to, and how.
  struct SendPlan {
    UdpEndpoint from, to;
    size_t len = 0;
    bool offload = false;  // the NIC computes the checksum
  };
  UdpStatus prepare(UdpHandle h, const Record* r, UdpEndpoint to, size_t len, Ipv4Addr src, SendPlan& plan) const;
  // `known_checksum`: the checksum field to send, when the caller knows it
  // (echo); 0: compute it (or let the NIC).
  UdpStatus emit(Record* r, const SendPlan& plan, rte_mbuf* payload, uint16_t known_checksum = 0);
  UdpStatus refuse(Record* r, UdpStatus s, rte_mbuf* payload);
  // Verifies the checksum of the datagram at [off, off+len) of m.
  bool checksum_ok(const rte_mbuf* m, uint32_t off, uint32_t len, Ipv4Addr src, Ipv4Addr dst) const;

  Engine& engine_;
  UdpSocketTable<Record> table_;
  UdpHandle dispatching_ = kNoUdpSocket;  // the socket whose handler is running
  bool close_after_dispatch_ = false;
};

}  // namespace dpdkstack
