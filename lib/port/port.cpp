#include "port/port.hpp"

#include <rte_ethdev.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace dpdkstack {

namespace {

MacAddr to_mac(const rte_ether_addr& a) {
  MacAddr m;
  std::memcpy(m.b.data(), a.addr_bytes, 6);
  return m;
}

rte_ether_addr to_ether(const MacAddr& m) {
  rte_ether_addr a;
  std::memcpy(a.addr_bytes, m.b.data(), 6);
  return a;
}

Error port_error(uint16_t port_id, const std::string& what, int rc) {
  return Error{"port " + std::to_string(port_id) + ": " + what + " failed: " + rte_strerror(-rc)};
}

// The key and redirection table RSS uses, for software steering (the same
// hash the NIC computes). Without RSS the table stays empty.
void read_rss(uint16_t port_id, const rte_eth_dev_info& dev, PortInfo& info) {
  RssParams& r = info.rss_params;
  r.nb_queues = info.nb_queues;
  r.enabled = info.rss;
  rte_eth_rss_conf conf{};
  conf.rss_key = r.key.data();
  conf.rss_key_len = static_cast<uint8_t>(r.key.size());
  if (rte_eth_dev_rss_hash_conf_get(port_id, &conf) == 0) {
    r.key_len = conf.rss_key_len;
    r.l4_tcp = (conf.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0;
    r.l4_udp = (conf.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_UDP) != 0;
  }
  if (!info.rss || dev.reta_size == 0) return;
  std::vector<rte_eth_rss_reta_entry64> groups(dev.reta_size / RTE_ETH_RETA_GROUP_SIZE + 1);
  for (auto& g : groups) g.mask = ~uint64_t{0};
  if (rte_eth_dev_rss_reta_query(port_id, groups.data(), dev.reta_size) != 0) return;
  r.reta.resize(dev.reta_size);
  for (uint16_t i = 0; i < dev.reta_size; ++i)
    r.reta[i] = groups[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
}

}  // namespace

uint32_t max_usable_mtu(const rte_eth_dev_info& dev) {
  uint32_t mtu = dev.max_mtu;
  uint32_t overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
  if (dev.max_rx_pktlen > overhead) mtu = std::min<uint32_t>(mtu, dev.max_rx_pktlen - overhead);
  return mtu;
}

uint32_t mempool_size(const std::vector<PortConfig>& ports, uint16_t nb_queues, uint16_t nb_lcores,
                      uint32_t arp_pending_total) {
  uint64_t n = 0;
  // RX and TX rings, and each engine's TX backlog on the port (kTxBacklog).
  for (const auto& p : ports) n += uint64_t{nb_queues} * (p.rx_desc + p.tx_desc + kTxBacklog);
  n += uint64_t{nb_lcores} * (RTE_MEMPOOL_CACHE_MAX_SIZE + 64);
  n += arp_pending_total;
  n += 1024;  // packets in flight inside the engines
  if (n > (1u << 22)) n = 1u << 22;
  return static_cast<uint32_t>(n);
}

Result<PortInfo> setup_port(uint16_t port_id, const PortConfig& cfg, const std::string& path, uint16_t nb_queues,
                            rte_mempool* pool) {
  PortInfo info;
  info.port_id = port_id;
  info.address = cfg.address;
  info.mtu = cfg.mtu;
  info.nb_queues = nb_queues;

  rte_eth_dev_info dev;
  int rc = rte_eth_dev_info_get(port_id, &dev);
  if (rc != 0) return port_error(port_id, "rte_eth_dev_info_get", rc);
  info.driver = dev.driver_name ? dev.driver_name : "?";
  char name[RTE_ETH_NAME_MAX_LEN];
  if (rte_eth_dev_get_name_by_port(port_id, name) == 0) info.name = name;

  // Limits only the PMD knows are config errors too: name the path.
  if (nb_queues > dev.max_rx_queues || nb_queues > dev.max_tx_queues)
    return Error{path + ".queues: this port (" + info.driver + ") offers at most " +
                 std::to_string(std::min(dev.max_rx_queues, dev.max_tx_queues)) + " queues, got " +
                 std::to_string(nb_queues) + (cfg.queues ? "" : " (one per worker lcore)")};
  if (cfg.mtu < dev.min_mtu || cfg.mtu > max_usable_mtu(dev))
    return Error{path + ".mtu: expected " + std::to_string(std::max<uint32_t>(68, dev.min_mtu)) + ".." +
                 std::to_string(max_usable_mtu(dev)) + " for this port (" + info.driver + "), got " +
                 std::to_string(cfg.mtu)};

  rte_eth_conf conf;
  std::memset(&conf, 0, sizeof conf);
  conf.rxmode.mtu = cfg.mtu;
  if (nb_queues > 1 && dev.flow_type_rss_offloads != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = nullptr;  // the PMD's default key
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & dev.flow_type_rss_offloads;
    info.rss = conf.rx_adv_conf.rss_conf.rss_hf != 0;
  }
  if (dev.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
    info.rx_ip_cksum = true;
  }
  if (dev.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
    info.tx_ip_cksum = true;
  }
  constexpr uint64_t kRxL4 = RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
  if ((dev.rx_offload_capa & kRxL4) == kRxL4) {
    conf.rxmode.offloads |= kRxL4;
    info.rx_l4_cksum = true;
  }
  if (dev.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
    info.tx_udp_cksum = true;
  }
  if (dev.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
    info.tx_tcp_cksum = true;
  }
  if (dev.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    info.tx_multi_seg = true;
  }
  info.tx_max_segs = dev.tx_desc_lim.nb_seg_max == UINT16_MAX ? 0 : dev.tx_desc_lim.nb_seg_max;
  info.l3 = info.driver == "net_tun";

  rc = rte_eth_dev_configure(port_id, nb_queues, nb_queues, &conf);
  if (rc != 0) return port_error(port_id, "rte_eth_dev_configure", rc);

  uint16_t rxd = cfg.rx_desc, txd = cfg.tx_desc;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
  if (rc != 0) return port_error(port_id, "rte_eth_dev_adjust_nb_rx_tx_desc", rc);
  info.rx_desc = rxd;
  info.tx_desc = txd;

  int socket = rte_eth_dev_socket_id(port_id);
  if (socket < 0) socket = 0;
  for (uint16_t q = 0; q < nb_queues; ++q) {
    rte_eth_rxconf rxconf = dev.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    rc = rte_eth_rx_queue_setup(port_id, q, rxd, static_cast<unsigned>(socket), &rxconf, pool);
    if (rc != 0) return port_error(port_id, "rte_eth_rx_queue_setup(" + std::to_string(q) + ")", rc);
    rte_eth_txconf txconf = dev.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    rc = rte_eth_tx_queue_setup(port_id, q, txd, static_cast<unsigned>(socket), &txconf);
    if (rc != 0) return port_error(port_id, "rte_eth_tx_queue_setup(" + std::to_string(q) + ")", rc);
  }

  rte_ether_addr hw;
  rc = rte_eth_macaddr_get(port_id, &hw);
  if (rc != 0) return port_error(port_id, "rte_eth_macaddr_get", rc);
  info.hw_mac = to_mac(hw);

  // The stack's MAC. net_tap gives the kernel end of the tap the very MAC
  // the PMD reports, so answering with it would make both ends look like one
  // host; there (and wherever the config asks) the stack answers to a MAC of
  // its own, received through an extra unicast filter or promiscuous mode.
  // We never change the PMD's own MAC: on net_tap that rewrites the kernel side.
  info.mac = info.hw_mac;
  if (cfg.mac) {
    info.mac = *cfg.mac;
  } else if (info.driver == "net_tap") {
    info.mac.b[0] = static_cast<uint8_t>((info.mac.b[0] | 0x02) & ~0x01);  // local, unicast
    info.mac.b[5] ^= 0x01;
  }

  rc = rte_eth_dev_start(port_id);
  if (rc != 0) return port_error(port_id, "rte_eth_dev_start", rc);
  read_rss(port_id, dev, info);

  if (info.l3) {
    rte_eth_dev_set_link_up(port_id);
    return info;
  }
  if (info.mac != info.hw_mac) {
    rte_ether_addr a = to_ether(info.mac);
    if (rte_eth_dev_mac_addr_add(port_id, &a, 0) != 0) {
      rc = rte_eth_promiscuous_enable(port_id);
      if (rc != 0) return port_error(port_id, "rte_eth_promiscuous_enable", rc);
      info.promiscuous = true;
    }
  }
  // 224.0.0.1 (all hosts) is the only group joined so far.
  rte_eth_allmulticast_enable(port_id);
  rte_eth_dev_set_link_up(port_id);
  return info;
}

void shutdown_port(uint16_t port_id) {
  rte_eth_dev_stop(port_id);
  rte_eth_dev_close(port_id);
}

}  // namespace dpdkstack
