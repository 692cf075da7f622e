// Ports: the only code in the stack that configures an ethdev.
//
// Contract: setup_port() takes a probed DPDK port and its PortConfig, and
// configures, starts and describes it (PortInfo, read-only afterwards): one
// RX and one TX queue per queue index, RSS when the PMD can and there is more
// than one queue (its key and redirection table are read back for software
// steering), IPv4 checksum and multi-segment TX offloads where offered (the
// engine falls back to software where not), the MTU, and the stack's MAC.
// An L3 port (net_tun) has no MAC: PortInfo::l3 is set and no MAC filter or
// promiscuous mode is touched. Errors name the port
// and the ethdev call that failed; limits of the PMD (MTU, queues) are
// reported at the JSON path of the port's config, as config errors.
#pragma once

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "core/types.hpp"
#include "shard/steering.hpp"

namespace dpdkstack {

struct PortInfo {
  uint16_t port_id = 0;
  std::string name;        // ethdev name, e.g. net_tap0
  std::string driver;      // e.g. net_tap
  MacAddr hw_mac;          // the MAC the PMD reports
  MacAddr mac;             // the MAC the stack answers to
  Ipv4Prefix address;
  uint16_t mtu = 1500;
  uint16_t nb_queues = 0;  // 0: not configured
  uint16_t rx_desc = 0;
  uint16_t tx_desc = 0;
  bool rss = false;
  bool rx_ip_cksum = false;  // RX IPv4 checksum verified by the PMD
  bool tx_ip_cksum = false;  // TX IPv4 checksum computed by the PMD
  bool rx_l4_cksum = false;  // RX UDP/TCP checksums checked by the PMD (mbuf flags)
  bool tx_udp_cksum = false; // TX UDP checksum computed by the PMD
  bool tx_tcp_cksum = false; // TX TCP checksum computed by the PMD
  bool promiscuous = false;  // turned on to receive `mac` when it is not the hw MAC
  bool tx_multi_seg = false; // the PMD sends chained mbufs (fragments are chains)
  uint16_t tx_max_segs = 0;  // most segments a packet may have on TX (0: no limit given)
  bool l3 = false;           // no link layer (net_tun): IP packets, no Ethernet, no ARP
  RssParams rss_params;      // how the port spreads flows over queues
};

// Frames an engine keeps per port when the PMD's TX ring is full, retried
// on the next flush; beyond it frames are dropped (tx_ring_full) and sends
// through the API are refused with kTxFull.
inline constexpr uint16_t kTxBacklog = 512;

// Mbufs a pool needs for the given ports and lcores (RX rings full, TX rings
// full, per-lcore caches and bursts, packets held for ARP, and headroom).
uint32_t mempool_size(const std::vector<PortConfig>& ports, uint16_t nb_queues, uint16_t nb_lcores,
                      uint32_t arp_pending_total);

// The largest MTU the port takes: the PMD's max_mtu, bounded by its largest
// receivable frame (some PMDs, net_tap among them, report a max_mtu they
// cannot receive).
uint32_t max_usable_mtu(const rte_eth_dev_info& dev);

// `path` is the JSON path of `cfg` ("$.ports[0]"): an MTU or queue count the
// PMD cannot take is a config error, reported at that path.
Result<PortInfo> setup_port(uint16_t port_id, const PortConfig& cfg, const std::string& path, uint16_t nb_queues,
                            rte_mempool* pool);

// Stops and closes the port; safe to call on a port that failed setup.
void shutdown_port(uint16_t port_id);

}  // namespace dpdkstack
