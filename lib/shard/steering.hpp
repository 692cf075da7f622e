// Flow ownership: which lcore's queue RSS puts a flow on, computed in
// software (the Toeplitz hash of rte_thash.h with the port's own key and
// redirection table), for datagrams that carry no hardware hash: reassembled
// fragments (whose first fragment the NIC hashed on addresses alone), and
// later active opens choosing a local port.
//
// Contract: RssParams is read from the port at setup and never changes.
// owner_queue() is pure and cheap (a Toeplitz hash over 8 or 12 bytes and a
// table lookup); with one queue it is always 0. The tuple hashed follows the
// port's rss_hf: source and destination address, plus both ports for TCP
// and UDP when the port hashes them.
#pragma once

#include <rte_byteorder.h>
#include <rte_thash.h>

#include <array>
#include <cstdint>
#include <vector>

#include "core/types.hpp"

namespace dpdkstack {

struct RssParams {
  uint16_t nb_queues = 1;
  bool enabled = false;    // RSS configured on the port
  bool l4_tcp = false;     // TCP ports in the hash
  bool l4_udp = false;     // UDP ports in the hash
  std::array<uint8_t, 52> key{};
  uint8_t key_len = 0;
  std::vector<uint16_t> reta;  // queue by hash % reta.size()
};

inline uint16_t owner_queue(const RssParams& rss, Ipv4Addr src, Ipv4Addr dst, uint8_t proto, uint16_t sport,
                            uint16_t dport) {
  if (rss.nb_queues <= 1) return 0;
  uint32_t tuple[3] = {src.v, dst.v, (uint32_t{sport} << 16) | dport};
  bool l4 = (proto == 6 && rss.l4_tcp) || (proto == 17 && rss.l4_udp);
  uint32_t hash = rss.key_len >= 40 ? rte_softrss(tuple, l4 ? 3 : 2, rss.key.data()) : src.v ^ dst.v;
  if (!rss.enabled || rss.reta.empty()) return static_cast<uint16_t>(hash % rss.nb_queues);
  return rss.reta[hash % rss.reta.size()];
}

}  // namespace dpdkstack
