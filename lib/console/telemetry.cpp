// rte_telemetry endpoints: the console's figures as JSON on the EAL's
// telemetry socket, for dpdk-telemetry.py and monitoring.
//
//   /dpdkstack/drops    {reason: packets, ...} summed over engines
//   /dpdkstack/lcores   {"<lcore>": {loops, busy_cycles, total_cycles, rx, tx, drops}}
//   /dpdkstack/mempool  {in_use, available, size}
//   /dpdkstack/arp[,E]  ["<ip> <mac> <state> port<N>", ...] of engine E (default 0)
//   /dpdkstack/counters {rx_packets, tx_packets, arp_in, ...} summed
//   /dpdkstack/routes   ["10.0.0.0/24 port 0 connected", "10.9.0.0/16 via 10.1.1.2 port 1 static"]
//
// Callbacks run on the telemetry thread; they read engine counters racily
// (see counters.hpp) and take ARP copies through Engine::arp_snapshot.
#include <rte_mempool.h>
#include <rte_telemetry.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "console/console.hpp"
#include "runtime/stack.hpp"

namespace dpdkstack {

namespace {

// Set before the engines start, cleared before they are destroyed. Callbacks
// run on the telemetry thread and hold the lock shared for their whole run,
// so register_telemetry_stop() (exclusive) waits for any that is running.
Stack* g_stack = nullptr;
std::shared_mutex g_stack_lock;

int tel_drops(const char*, const char*, rte_tel_data* d) {
  std::shared_lock guard(g_stack_lock);
  if (g_stack == nullptr) return -1;
  const auto sum = g_stack->total_counters().drops;
  rte_tel_data_start_dict(d);
  for (size_t r = 0; r < kDropReasonCount; ++r)
    rte_tel_data_add_dict_u64(d, std::string(drop_reason_name(static_cast<DropReason>(r))).c_str(), sum[r]);
  return 0;
}

int tel_counters(const char*, const char*, rte_tel_data* d) {
  std::shared_lock guard(g_stack_lock);
  if (g_stack == nullptr) return -1;
  const LcoreCounters s = g_stack->total_counters();
  rte_tel_data_start_dict(d);
#define X(name, text) rte_tel_data_add_dict_u64(d, #name, s.name);
  DPDKSTACK_COUNTERS(X)
#undef X
  rte_tel_data_add_dict_u64(d, "drops_total", s.drop_total());
  return 0;
}

int tel_routes(const char*, const char*, rte_tel_data* d) {
  std::shared_lock guard(g_stack_lock);
  if (g_stack == nullptr) return -1;
  rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
  for (const auto& r : g_stack->routes()) {
    std::string line = r.prefix.to_string();
    if (!r.gateway.is_unspecified()) line += " via " + r.gateway.to_string();
    line += " port " + std::to_string(r.port) + " " + route_kind_name(r.kind);
    rte_tel_data_add_array_string(d, line.c_str());
  }
  return 0;
}

int tel_lcores(const char*, const char*, rte_tel_data* d) {
  std::shared_lock guard(g_stack_lock);
  if (g_stack == nullptr) return -1;
  rte_tel_data_start_dict(d);
  for (auto& e : g_stack->engines()) {
    const auto& c = e->counters();
    rte_tel_data* l = rte_tel_data_alloc();
    if (l == nullptr) return -1;
    rte_tel_data_start_dict(l);
    rte_tel_data_add_dict_u64(l, "loops", c.loops);
    rte_tel_data_add_dict_u64(l, "busy_loops", c.busy_loops);
    rte_tel_data_add_dict_u64(l, "busy_cycles", c.busy_cycles);
    rte_tel_data_add_dict_u64(l, "total_cycles", c.total_cycles);
    rte_tel_data_add_dict_u64(l, "rx_packets", c.rx_packets);
    rte_tel_data_add_dict_u64(l, "tx_packets", c.tx_packets);
    rte_tel_data_add_dict_u64(l, "drops", c.drop_total());
    rte_tel_data_add_dict_container(d, std::to_string(e->lcore_id()).c_str(), l, 0);
  }
  return 0;
}

int tel_mempool(const char*, const char*, rte_tel_data* d) {
  std::shared_lock guard(g_stack_lock);
  if (g_stack == nullptr) return -1;
  rte_tel_data_start_dict(d);
  uint64_t in_use = 0, avail = 0, size = 0;
  for (auto* mp : g_stack->pools()) {
    in_use += rte_mempool_in_use_count(mp);
    avail += rte_mempool_avail_count(mp);
    size += mp->size;
  }
  rte_tel_data_add_dict_u64(d, "in_use", in_use);
  rte_tel_data_add_dict_u64(d, "available", avail);
  rte_tel_data_add_dict_u64(d, "size", size);
  return 0;
}

int tel_arp(const char*, const char* params, rte_tel_data* d) {
  std::shared_lock guard(g_stack_lock);
  if (g_stack == nullptr) return -1;
  // Optional parameter: the engine whose replica to show (default 0).
  size_t engine = 0;
  if (params != nullptr && *params != '\0') {
    char* end = nullptr;
    unsigned long v = std::strtoul(params, &end, 10);
    if (end == params || *end != '\0' || v >= g_stack->engines().size()) return -EINVAL;
    engine = v;
  }
  // Telemetry dict keys allow only [A-Za-z0-9_/], so entries are strings in
  // an array: "<ip> <mac|incomplete> <state> port<N>".
  rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
  if (g_stack->engines().empty()) return 0;
  for (const auto& e : g_stack->engines()[engine]->arp_snapshot()) {
    std::string v = e.ip.to_string() + " " +
                    (e.state == ArpState::kIncomplete ? std::string("incomplete") : e.mac.to_string()) + " " +
                    arp_state_name(e.state) + " port" + std::to_string(e.port);
    rte_tel_data_add_array_string(d, v.c_str());
  }
  return 0;
}

// One dict a socket, keyed "e<engine>_<handle>" (dict keys allow only
// [A-Za-z0-9_/]): local, remote, name and the socket's counters.
int tel_udp(const char*, const char*, rte_tel_data* d) {
  std::shared_lock guard(g_stack_lock);
  if (g_stack == nullptr) return -1;
  rte_tel_data_start_dict(d);
  for (const auto& s : g_stack->udp_sockets()) {
    rte_tel_data* t = rte_tel_data_alloc();
    if (t == nullptr) return -1;
    rte_tel_data_start_dict(t);
    auto ep = [](const UdpEndpoint& e) { return e.addr.to_string() + ":" + std::to_string(e.port); };
    rte_tel_data_add_dict_string(t, "local", ep(s.info.local).c_str());
    rte_tel_data_add_dict_string(t, "remote", ep(s.info.remote).c_str());
    rte_tel_data_add_dict_string(t, "name", s.name.c_str());
    rte_tel_data_add_dict_u64(t, "engine", s.engine);
    rte_tel_data_add_dict_u64(t, "rx_datagrams", s.stats.rx_datagrams);
    rte_tel_data_add_dict_u64(t, "rx_bytes", s.stats.rx_bytes);
    rte_tel_data_add_dict_u64(t, "tx_datagrams", s.stats.tx_datagrams);
    rte_tel_data_add_dict_u64(t, "tx_bytes", s.stats.tx_bytes);
    rte_tel_data_add_dict_u64(t, "tx_full", s.stats.tx_full);
    rte_tel_data_add_dict_u64(t, "tx_refused", s.stats.tx_refused);
    rte_tel_data_add_dict_u64(t, "icmp_errors", s.stats.icmp_errors);
    rte_tel_data_add_dict_u64(t, "app_dropped", s.stats.app_dropped);
    std::string key = "e" + std::to_string(s.engine) + "_" + std::to_string(s.handle);
    rte_tel_data_add_dict_container(d, key.c_str(), t, 0);
  }
  return 0;
}

// /dpdkstack/tcp: the RFC 4022 MIB, then one dict a connection keyed
// "e<engine>_<n>": state, endpoints and the figures `show tcp` prints.
int tel_tcp(const char*, const char*, rte_tel_data* d) {
  std::shared_lock guard(g_stack_lock);
  if (g_stack == nullptr) return -1;
  rte_tel_data_start_dict(d);
  for (const auto& [name, v] : tcp_mib(g_stack->total_counters())) rte_tel_data_add_dict_u64(d, name, v);
  auto st = g_stack->tcp_state();
  size_t n = 0;
  for (const auto& c : st.connections) {
    rte_tel_data* t = rte_tel_data_alloc();
    if (t == nullptr) return -1;
    const auto& i = c.info;
    rte_tel_data_start_dict(t);
    auto ep = [](Ipv4Addr a, uint16_t p) { return a.to_string() + ":" + std::to_string(p); };
    rte_tel_data_add_dict_string(t, "state", std::string(tcp::state_name(i.state)).c_str());
    rte_tel_data_add_dict_string(t, "local", ep(i.tuple.laddr, i.tuple.lport).c_str());
    rte_tel_data_add_dict_string(t, "remote", ep(i.tuple.raddr, i.tuple.rport).c_str());
    rte_tel_data_add_dict_string(t, "name", c.name.c_str());
    rte_tel_data_add_dict_u64(t, "engine", c.engine);
    rte_tel_data_add_dict_u64(t, "snd_wnd", i.snd_wnd);
    rte_tel_data_add_dict_u64(t, "rcv_wnd", i.rcv_wnd);
    rte_tel_data_add_dict_u64(t, "mss", i.mss);
    rte_tel_data_add_dict_u64(t, "cwnd", i.cwnd);
    rte_tel_data_add_dict_u64(t, "ssthresh", i.ssthresh);
    rte_tel_data_add_dict_u64(t, "srtt_us", i.srtt_us);
    rte_tel_data_add_dict_u64(t, "rto_us", i.rto_us);
    rte_tel_data_add_dict_u64(t, "retransmits", i.retransmits);
    rte_tel_data_add_dict_u64(t, "bytes_in", i.bytes_in);
    rte_tel_data_add_dict_u64(t, "bytes_out", i.bytes_out);
    std::string key = "e" + std::to_string(c.engine) + "_" + std::to_string(n++);
    rte_tel_data_add_dict_container(d, key.c_str(), t, 0);
    if (n >= 256) break;  // the reply buffer is bounded: the first 256
  }
  return 0;
}

}  // namespace

void register_telemetry(Stack& stack) {
  {
    std::unique_lock guard(g_stack_lock);
    g_stack = &stack;
  }
  rte_telemetry_register_cmd("/dpdkstack/drops", tel_drops, "Dropped packets by reason. No parameters");
  rte_telemetry_register_cmd("/dpdkstack/counters", tel_counters, "Packet counters summed over engines. No parameters");
  rte_telemetry_register_cmd("/dpdkstack/routes", tel_routes, "The routing table, one string a route. No parameters");
  rte_telemetry_register_cmd("/dpdkstack/lcores", tel_lcores, "Per-engine loop and packet counters. No parameters");
  rte_telemetry_register_cmd("/dpdkstack/mempool", tel_mempool, "Mbufs in use and available. No parameters");
  rte_telemetry_register_cmd("/dpdkstack/udp", tel_udp, "UDP sockets and their counters, every engine. No parameters");
  rte_telemetry_register_cmd("/dpdkstack/tcp", tel_tcp,
                             "TCP MIB (RFC 4022) and connections (at most 256), every engine. No parameters");
  rte_telemetry_register_cmd("/dpdkstack/arp", tel_arp, "ARP replica of one engine. Parameter: engine index (default 0)");
}

void register_telemetry_stop() {
  std::unique_lock guard(g_stack_lock);
  g_stack = nullptr;
}

}  // namespace dpdkstack
