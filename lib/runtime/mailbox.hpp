// Cross-lcore messages: one single-producer single-consumer queue per
// ordered pair of engines (Boost.Lockfree), never a lock.
//
// Contract: only engine `from` pushes to queue(from, to) and only engine `to`
// pops from it. A full queue refuses the message; the sender counts it
// (mailbox_full) and goes on: an ARP update lost this way is repaired by the
// next ARP exchange or by the receiver's own resolution; a steered packet
// that does not fit is freed and counted (steer_queue_full). Packets still
// in a queue when the engines stop are freed by the Stack's shutdown.
#pragma once

#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/types.hpp"

struct rte_mbuf;

namespace dpdkstack {

struct MailMessage {
  enum class Kind : uint8_t {
    kArpUpdate,   // port, ip is-at mac
    kPmtuUpdate,  // path MTU to ip lowered to mtu (datagram_len: the quoted length)
    kPacket,      // pkt (owned by the message) steered to its owning engine; port = ingress
    kTcpSegment,  // a TCP segment (filtered already) no connection of the sender's matched,
                  // for the engine whose RSS owns the tuple (active opens live there)
  } kind = Kind::kArpUpdate;
  uint16_t port = 0;
  bool broadcast = false;  // kPacket: it was sent to a broadcast address
  uint16_t mtu = 0;
  uint32_t datagram_len = 0;
  Ipv4Addr ip;
  MacAddr mac;
  rte_mbuf* pkt = nullptr;
};

class Mailboxes {
 public:
  static constexpr size_t kCapacity = 1024;
  using Queue = boost::lockfree::spsc_queue<MailMessage, boost::lockfree::capacity<kCapacity>>;

  explicit Mailboxes(size_t n) : n_(n) {
    for (size_t i = 0; i < n * n; ++i) q_.push_back(std::make_unique<Queue>());
  }
  Queue& queue(size_t from, size_t to) { return *q_[from * n_ + to]; }
  size_t size() const { return n_; }

 private:
  size_t n_;
  std::vector<std::unique_ptr<Queue>> q_;
};

}  // namespace dpdkstack
