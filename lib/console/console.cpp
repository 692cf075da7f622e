#include "console/console.hpp"

#include "config/filters.hpp"

#include <cmdline.h>
#include <cmdline_rdline.h>
#include <fcntl.h>
#include <poll.h>
#include <rte_cycles.h>
#include <rte_mempool.h>
#include <termios.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <sstream>

#include "console/commands.h"
#include "console/format.h"
#include "runtime/stack.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

namespace dpdkstack {

namespace {

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> words;
  std::string w;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!w.empty()) words.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
  if (!w.empty()) words.push_back(w);
  return words;
}

bool parse_number(const std::string& s, uint16_t& out) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 65535) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

bool parse_port_id(const std::string& s, uint16_t& out) {
  return parse_number(s, out) && out < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port(out);
}

termios g_saved_termios;

}  // namespace

Console::Console(Stack& stack) : stack_(stack) {
  last_.resize(RTE_MAX_ETHPORTS);
  last_loops_.resize(stack_.engines().size());
}

Console::~Console() { close_interactive(); }

std::string Console::help() {
  return "Commands:\n"
         "  show port stats all|<port>   packet and byte counters, rates since the last show\n"
         "  show port xstats <port>      the PMD's extended statistics\n"
         "  show port info all|<port>    driver, MACs, address, MTU, queues, offloads, link\n"
         "  clear port stats all         zero port and engine counters\n"
         "  show arp [engine]            an engine's ARP replica (default engine 0)\n"
         "  show lcores                  engines: loops/s, busy share, packets, cycles/packet\n"
         "  show drops                   dropped packets by reason, all engines summed\n"
         "  show mempool                 mbufs in use and available\n"
         "  show route                   the routing table (connected and static routes)\n"
         "  route add <prefix> via <gw> [port <id>]   add a static route (or: route add <prefix> port <id>)\n"
         "  route del <prefix>           delete a static route\n"
         "  show ip                      IP counters, forwarding per port, reassembly, path MTUs, ICMP errors\n"
         "  show udp                     UDP counters and drops; every socket with its counters\n"
         "  show filter                  the filter rules with packets and bytes matched, and the policies\n"
         "  filter reload                re-read $.filters from the config file; a bad rule is refused\n"
         "  filter add [N] <json rule>   insert a rule (at index N, default last), e.g.\n"
         "                               filter add {\"hook\": \"input\", \"proto\": \"tcp\", \"dport\": 23, \"action\": \"reject\"}\n"
         "  filter del <N>               delete rule N\n"
         "  show tcp                     TCP listeners and connections (state, sequence numbers, windows,\n"
         "                               options, cwnd, RTT, retransmissions, bytes), like ss -ti\n"
         "  show tcp stats               the RFC 4022 MIB counters, TCP events and drops\n"
         "  tcp connect <ip> <port> [text|echo|discard|send <bytes>]   the stack as a client (engine 0)\n"
         "  tcp send <id> <text>         send a line on a console connection\n"
         "  tcp recv <id>                show (and forget) what a text-mode connection received\n"
         "  tcp close <id> | tcp abort <id>   FIN (after queued data) or RST\n"
         "  tcp list                     the console's connections: mode, state, bytes\n"
         "  ping <ip> [count] [size]     ICMP echo from the stack (default 3 x 56 bytes), 1 s timeout each\n"
         "  help                         this text\n"
         "  quit                         stop the stack (final stats are printed)\n";
}

std::string Console::execute(std::string_view line, bool& quit) {
  auto w = split(line);
  if (w.empty()) return "";
  auto bad = [&] { return "Bad arguments: '" + std::string(line) + "' (try 'help')\n"; };
  if (w[0] == "help") return help();
  if (w[0] == "quit" || w[0] == "exit") {
    quit = true;
    return "Bye.\n";
  }
  if (w[0] == "show" && w.size() >= 2) {
    if (w[1] == "arp" && w.size() == 2) return arp_table(0);
    if (w[1] == "arp" && w.size() == 3) {
      uint16_t e;
      if (!parse_number(w[2], e) || e >= stack_.engines().size()) return "Invalid engine " + w[2] + "\n";
      return arp_table(e);
    }
    if (w[1] == "lcores" && w.size() == 2) return lcores();
    if (w[1] == "drops" && w.size() == 2) return drops();
    if (w[1] == "mempool" && w.size() == 2) return mempool();
    if (w[1] == "route" && w.size() == 2) return route_table();
    if (w[1] == "ip" && w.size() == 2) return ip_state();
    if (w[1] == "udp" && w.size() == 2) return udp_state();
    if (w[1] == "filter" && w.size() == 2) return filter_table();
    if (w[1] == "tcp" && w.size() == 2) return show_tcp();
    if (w[1] == "tcp" && w.size() == 3 && w[2] == "stats") return show_tcp_stats();
    if (w[1] == "port" && w.size() == 4) {
      std::vector<uint16_t> ports;
      if (w[3] == "all") {
        for (const auto& p : stack_.context().ports)
          if (p.nb_queues != 0) ports.push_back(p.port_id);
      } else {
        uint16_t id;
        if (!parse_port_id(w[3], id)) return "Invalid port " + w[3] + "\n";
        ports.push_back(id);
      }
      std::string out;
      for (auto id : ports) {
        if (w[2] == "stats") out += port_stats(id);
        else if (w[2] == "xstats") out += port_xstats(id);
        else if (w[2] == "info") out += port_info(id);
        else return bad();
      }
      return out;
    }
  }
  if (w[0] == "route") return route_command(w);
  if (w[0] == "filter") return filter_command(w, line);
  if (w[0] == "ping") return ping(w);
  if (w[0] == "tcp") return tcp_command(w, line);
  if (w[0] == "clear" && w.size() == 4 && w[1] == "port" && w[2] == "stats" && w[3] == "all") {
    std::string out;
    for (const auto& p : stack_.context().ports) {
      if (p.nb_queues == 0) continue;
      rte_eth_stats_reset(p.port_id);
      rte_eth_xstats_reset(p.port_id);
      last_[p.port_id] = Last{};
      appendf(out, "\n  NIC statistics for port %u cleared\n", p.port_id);
    }
    for (auto& e : stack_.engines()) e->clear_counters_request();
    return out;
  }
  return bad();
}

std::string Console::route_table() {
  std::string out;
  appendf(out, "  %-20s %-16s %-6s %s\n", "Destination", "Gateway", "Port", "Kind");
  for (const auto& r : stack_.routes())
    appendf(out, "  %-20s %-16s %-6u %s\n", r.prefix.to_string().c_str(),
            r.gateway.is_unspecified() ? "on-link" : r.gateway.to_string().c_str(), r.port, route_kind_name(r.kind));
  return out;
}

// route add <prefix> via <gw> [port <id>] | route add <prefix> port <id> | route del <prefix>
std::string Console::route_command(const std::vector<std::string>& w) {
  const char* usage = "Usage: route add <prefix> via <gw> [port <id>] | route add <prefix> port <id> | route del <prefix>\n";
  if (w.size() < 3) return usage;
  auto prefix = Ipv4Prefix::parse(w[2]);
  if (!prefix) return "Invalid prefix '" + w[2] + "': expected a.b.c.d/len\n";
  if (prefix->addr != prefix->network())
    return "Invalid prefix '" + w[2] + "': host bits set (did you mean " +
           Ipv4Prefix{prefix->network(), prefix->len}.to_string() + "?)\n";
  if (w[1] == "del" && w.size() == 3) {
    auto st = stack_.route_del(*prefix);
    return st ? "Route " + prefix->to_string() + " deleted\n" : "route del: " + st.error().message + "\n";
  }
  if (w[1] != "add") return usage;
  Route r{*prefix, 0, Ipv4Addr{}, RouteKind::kStatic};
  std::optional<uint16_t> port;
  for (size_t i = 3; i < w.size(); i += 2) {
    if (i + 1 >= w.size()) return usage;
    if (w[i] == "via") {
      auto gw = Ipv4Addr::parse(w[i + 1]);
      if (!gw) return "Invalid gateway '" + w[i + 1] + "'\n";
      r.gateway = *gw;
    } else if (w[i] == "port") {
      uint16_t id;
      if (!parse_port_id(w[i + 1], id) || stack_.context().ports[id].nb_queues == 0)
        return "Invalid port " + w[i + 1] + "\n";
      port = id;
    } else {
      return usage;
    }
  }
  if (r.gateway.is_unspecified() && !port) return usage;
  if (!port) {  // the port whose subnet holds the gateway
    for (uint16_t id : stack_.configured_ports())
      if (stack_.context().ports[id].address.contains(r.gateway)) port = id;
    if (!port) return "route add: gateway " + r.gateway.to_string() + " is on none of the ports' subnets\n";
  }
  r.port = *port;
  auto st = stack_.route_add(r);
  return st ? "Route " + prefix->to_string() + " added\n" : "route add: " + st.error().message + "\n";
}

std::string Console::ip_state() {
  const LcoreCounters sum = stack_.total_counters();
  std::string out;
  const auto& ipc = stack_.context().ip;
  appendf(out, "  IP: forwarding %s, default TTL %u\n", ipc.forwarding ? "on" : "off", ipc.default_ttl);
  appendf(out, "  %-26s %" PRIu64 "\n", "ipv4_in", sum.ipv4_in);
  appendf(out, "  %-26s %" PRIu64 "\n", "ipv4_delivered", sum.ipv4_delivered);
  appendf(out, "  %-26s %" PRIu64 "\n", "ipv4_forwarded", sum.ipv4_forwarded);
  appendf(out, "  %-26s %" PRIu64 "\n", "frags_in", sum.frags_in);
  appendf(out, "  %-26s %" PRIu64 "\n", "reasm_ok", sum.reasm_ok);
  appendf(out, "  %-26s %" PRIu64 "\n", "frags_out", sum.frags_out);
  appendf(out, "  %-26s %" PRIu64 "\n", "icmp_errors_sent", sum.icmp_errors_sent);
  appendf(out, "  %-26s %" PRIu64 "\n", "icmp_errors_in", sum.icmp_errors_in);
  appendf(out, "  %-26s %" PRIu64 "\n", "icmp_errors_rate_limited", sum.icmp_errors_rate_limited);
  appendf(out, "  %-26s %" PRIu64 "\n", "loopback_packets", sum.loopback_packets);
  appendf(out, "  %-26s %" PRIu64 "\n", "steered_out", sum.steered_out);
  appendf(out, "  %-26s %" PRIu64 "\n", "pmtu_updates", sum.pmtu_updates);
  appendf(out, "  Forwarded by port:\n  %-6s %-14s %s\n", "Port", "In", "Out");
  for (uint16_t id : stack_.configured_ports())
    if (id < kMaxCountedPorts) appendf(out, "  %-6u %-14" PRIu64 " %" PRIu64 "\n", id, sum.fwd_rx[id], sum.fwd_tx[id]);
  // Per-engine tables, copied on each engine's own lcore.
  struct Snap {
    std::vector<std::string> flows, pmtu, errors;
  };
  for (auto& e : stack_.engines()) {
    auto snap = std::make_shared<Snap>();
    bool ok = e->call([snap](Engine& en) {
      uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
      en.reassembly().for_each([&](const FragKey& k, size_t frags, size_t bytes, bool first, uint64_t created) {
        char line[160];
        std::snprintf(line, sizeof line, "%s -> %s id %u proto %u: %zu fragments, %zu bytes%s, age %" PRIu64 " ms",
                      k.src.to_string().c_str(), k.dst.to_string().c_str(), k.id, k.protocol, frags, bytes,
                      first ? "" : ", first missing", now > created ? (now - created) * 1000 / hz : 0);
        snap->flows.emplace_back(line);
      });
      en.pmtu().for_each([&](Ipv4Addr dst, uint16_t mtu, uint64_t expires) {
        char line[120];
        std::snprintf(line, sizeof line, "%s mtu %u expires in %" PRIu64 " s", dst.to_string().c_str(), mtu,
                      expires > now ? (expires - now) / hz : 0);
        snap->pmtu.emplace_back(line);
      });
      for (const auto& er : en.recent_icmp_errors()) {
        char line[160];
        std::snprintf(line, sizeof line, "type %u code %u from %s about %s -> %s proto %u%s", er.type, er.code,
                      er.reporter.to_string().c_str(), er.src.to_string().c_str(), er.dst.to_string().c_str(),
                      er.protocol, er.next_hop_mtu != 0 ? (" mtu " + std::to_string(er.next_hop_mtu)).c_str() : "");
        snap->errors.emplace_back(line);
      }
    });
    if (!ok) {
      appendf(out, "  Engine %u: no answer\n", e->index());
      continue;
    }
    appendf(out, "  Engine %u reassembly (%zu flows):\n", e->index(), snap->flows.size());
    for (auto& l : snap->flows) appendf(out, "    %s\n", l.c_str());
    appendf(out, "  Engine %u path MTU cache (%zu):\n", e->index(), snap->pmtu.size());
    for (auto& l : snap->pmtu) appendf(out, "    %s\n", l.c_str());
    appendf(out, "  Engine %u recent ICMP errors received (%zu):\n", e->index(), snap->errors.size());
    for (auto& l : snap->errors) appendf(out, "    %s\n", l.c_str());
  }
  return out;
}

std::string Console::udp_state() {
  const LcoreCounters sum = stack_.total_counters();
  std::string out;
  appendf(out, "  UDP: in %" PRIu64 ", delivered %" PRIu64 ", sent %" PRIu64 ", sends refused: tx full %" PRIu64
               ", other %" PRIu64 ", ICMP errors to sockets %" PRIu64 "\n",
          sum.udp_in, sum.udp_delivered, sum.udp_sent, sum.udp_send_tx_full, sum.udp_send_refused, sum.udp_icmp_errors);
  appendf(out, "  Drops:");
  for (DropReason r : {DropReason::udp_truncated, DropReason::udp_bad_length, DropReason::udp_bad_checksum,
                       DropReason::udp_no_socket, DropReason::udp_send_failed})
    appendf(out, " %s %" PRIu64, std::string(drop_reason_name(r)).c_str(), sum.drops[static_cast<size_t>(r)]);
  bool complete = true;
  auto socks = stack_.udp_sockets(&complete);
  appendf(out, "\n  Sockets (%zu):\n  %-3s %-21s %-21s %-12s %10s %12s %10s %12s %8s %8s %8s %8s\n", socks.size(), "Eng",
          "Local", "Remote", "Name", "RX dgrams", "RX bytes", "TX dgrams", "TX bytes", "TX full", "Refused", "ICMP err",
          "App drop");
  auto ep = [](const UdpEndpoint& e, bool remote) {
    if (remote && e.port == 0) return std::string("*:*");
    return (e.addr.is_unspecified() ? std::string("*") : e.addr.to_string()) + ":" + std::to_string(e.port);
  };
  for (const auto& s : socks)
    appendf(out, "  %-3u %-21s %-21s %-12s %10" PRIu64 " %12" PRIu64 " %10" PRIu64 " %12" PRIu64 " %8" PRIu64 " %8" PRIu64
                 " %8" PRIu64 " %8" PRIu64 "\n",
            s.engine, ep(s.info.local, false).c_str(), ep(s.info.remote, true).c_str(),
            s.name.empty() ? "-" : s.name.c_str(), s.stats.rx_datagrams, s.stats.rx_bytes, s.stats.tx_datagrams,
            s.stats.tx_bytes, s.stats.tx_full, s.stats.tx_refused, s.stats.icmp_errors, s.stats.app_dropped);
  if (!complete) appendf(out, "  (an engine did not answer: its sockets are missing)\n");
  return out;
}

std::string Console::filter_table() {
  bool complete = true;
  auto rules = stack_.filter_state(&complete);
  FilterConfig cfg = stack_.filters();
  std::string out;
  appendf(out, "  Policy: input %s, forward %s, output %s; %zu rules\n",
          std::string(filter_action_name(cfg.policy[0])).c_str(), std::string(filter_action_name(cfg.policy[1])).c_str(),
          std::string(filter_action_name(cfg.policy[2])).c_str(), rules.size());
  appendf(out, "  %-5s %-8s %-10s %12s %14s  %s\n", "#", "Hook", "Action", "Packets", "Bytes", "Rule");
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    std::string extra;
    if (r.rule.action == FilterAction::kRateLimit) extra = "  (over the rate: " + std::to_string(r.rate_dropped) + ")";
    appendf(out, "  %-5zu %-8s %-10s %12" PRIu64 " %14" PRIu64 "  %s%s\n", i,
            std::string(filter_hook_name(r.rule.hook)).c_str(), std::string(filter_action_name(r.rule.action)).c_str(),
            r.packets, r.bytes, format_filter_rule(r.rule).c_str(), extra.c_str());
  }
  if (!complete) appendf(out, "  (an engine did not answer: its counts are missing)\n");
  return out;
}

// filter reload | filter add [N] <json> | filter del <N>
// Control-plane work that may take milliseconds (parsing the config,
// building an rte_acl table) on a thread of its own. With a single lcore the
// console runs inside the engine's loop: the engine is kept polling
// meanwhile (its control queue runs the table switch), so that packets do
// not wait behind the build and overflow the PMD's queues.
std::string Console::off_engine(const std::function<std::string()>& fn) {
  if (!stack_.single_lcore()) return fn();
  std::string out;
  std::atomic<bool> done{false};
  std::thread worker([&] {
    out = fn();
    done.store(true, std::memory_order_release);
  });
  Engine& e = *stack_.engines()[0];
  while (!done.load(std::memory_order_acquire)) e.poll_once();
  worker.join();
  return out;
}

std::string Console::filter_command(const std::vector<std::string>& w, std::string_view line) {
  return off_engine([&] { return filter_command_work(w, line); });
}

std::string Console::filter_command_work(const std::vector<std::string>& w, std::string_view line) {
  auto bad = [&] { return "Bad arguments: '" + std::string(line) + "' (try 'help')\n"; };
  if (w.size() < 2) return bad();
  size_t nports = stack_.config().ports.size();
  if (w[1] == "reload" && w.size() == 2) {
    if (stack_.config_path().empty()) return "filter reload: the stack was started without a config file\n";
    auto cfg = load_config(stack_.config_path());
    if (!cfg) return "Filter reload refused (the table in force is unchanged): " + cfg.error().message + "\n";
    if (auto st = stack_.set_filters(cfg->filters); !st)
      return "Filter reload refused (the table in force is unchanged): " + st.error().message + "\n";
    return "Filter table reloaded from " + stack_.config_path() + ": " + std::to_string(cfg->filters.rules.size()) +
           " rules\n";
  }
  if (w[1] == "del" && w.size() == 3) {
    uint16_t n;
    FilterConfig cfg = stack_.filters();
    if (!parse_number(w[2], n) || n >= cfg.rules.size()) return "No rule " + w[2] + "\n";
    cfg.rules.erase(cfg.rules.begin() + n);
    if (auto st = stack_.set_filters(cfg); !st) return "Filter del refused: " + st.error().message + "\n";
    return "Rule " + w[2] + " deleted; " + std::to_string(cfg.rules.size()) + " rules\n";
  }
  if (w[1] == "add" && w.size() >= 3) {
    // The rule is the rest of the line after "add" and an optional index.
    std::string_view rest = line.substr(line.find("add") + 3);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    FilterConfig cfg = stack_.filters();
    size_t at = cfg.rules.size();
    if (!rest.empty() && rest.front() != '{') {
      size_t sp = rest.find(' ');
      uint16_t n;
      if (!parse_number(std::string(rest.substr(0, sp)), n) || n > cfg.rules.size())
        return "Invalid rule index " + std::string(rest.substr(0, sp)) + " (0.." + std::to_string(cfg.rules.size()) +
               ")\n";
      at = n;
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
    }
    auto rule = parse_filter_rule(rest, "rule", nports);
    if (!rule) return "Filter add refused: " + rule.error().message + "\n";
    if (cfg.rules.size() >= kMaxFilterRules)
      return "Filter add refused: the table holds " + std::to_string(kMaxFilterRules) + " rules already\n";
    cfg.rules.insert(cfg.rules.begin() + static_cast<long>(at), *rule);
    if (auto st = stack_.set_filters(cfg); !st) return "Filter add refused: " + st.error().message + "\n";
    return "Rule added at " + std::to_string(at) + "; " + std::to_string(cfg.rules.size()) + " rules\n";
  }
  return bad();
}

// ping <ip> [count] [size]: echo requests from the stack itself, like
// ping(8); each waits at most a second for its reply.
std::string Console::ping(const std::vector<std::string>& w) {
  const char* usage = "Usage: ping <ip> [count 1..100] [size 0..1472]\n";
  if (w.size() < 2 || w.size() > 4) return usage;
  auto dst = Ipv4Addr::parse(w[1]);
  if (!dst) return "Invalid address '" + w[1] + "'\n";
  uint16_t count = 3, size = 56;
  if (w.size() >= 3 && (!parse_number(w[2], count) || count == 0 || count > 100)) return usage;
  if (w.size() >= 4 && (!parse_number(w[3], size) || size > 1472)) return usage;
  auto& board = stack_.context().ping;
  static uint16_t next_ident = 0x4400;
  uint16_t ident = ++next_ident == 0 ? ++next_ident : next_ident;
  for (size_t i = 0; i <= count && i < PingBoard::kSlots; ++i) {
    board.sent_tsc[i].store(0);
    board.reply_tsc[i].store(0);
  }
  board.ident.store(ident);
  Engine& e = *stack_.engines()[0];
  uint64_t hz = rte_get_tsc_hz();
  unsigned received = 0;
  std::string out;
  appendf(out, "PING %s %u(%u) bytes of data.\n", dst->to_string().c_str(), size, size + 28u);
  for (uint16_t seq = 1; seq <= count; ++seq) {
    auto sent = std::make_shared<std::atomic<int>>(0);
    board.sent_tsc[seq].store(rte_rdtsc());
    Ipv4Addr to = *dst;
    bool called = e.call([sent, to, ident, seq, size](Engine& en) {
      sent->store(en.send_echo_request(to, ident, seq, size) ? 1 : -1);
    });
    if (!called || sent->load() != 1) {
      appendf(out, "ping: cannot send icmp_seq=%u (no mbuf, or no room for %u bytes)\n", seq, size);
      continue;
    }
    uint64_t start = board.sent_tsc[seq].load();
    while (board.reply_tsc[seq].load(std::memory_order_acquire) == 0 && rte_rdtsc() - start < hz) {
      if (stack_.single_lcore()) e.poll_once();  // we run inside its loop: keep it going
      else std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    uint64_t got = board.reply_tsc[seq].load(std::memory_order_acquire);
    if (got == 0) {
      appendf(out, "Request timeout for icmp_seq %u\n", seq);
      continue;
    }
    ++received;
    double ms = static_cast<double>(got > start ? got - start : 0) * 1000.0 / static_cast<double>(hz);
    appendf(out, "%u bytes from %s: icmp_seq=%u ttl=%u time=%.3f ms\n", board.reply_bytes[seq].load(),
            dst->to_string().c_str(), seq, board.reply_ttl[seq].load(), ms);
  }
  board.ident.store(0);
  appendf(out, "--- %s ping statistics ---\n%u transmitted, %u received, %u%% packet loss\n",
          dst->to_string().c_str(), count, received, (count - received) * 100u / count);
  return out;
}

std::string Console::port_stats(uint16_t port) {
  rte_eth_stats st;
  std::string out;
  if (rte_eth_stats_get(port, &st) != 0) return "Invalid port " + std::to_string(port) + "\n";
  uint64_t now = rte_rdtsc();
  auto& l = last_[port];
  double secs = l.tsc == 0 ? 0.0 : static_cast<double>(now - l.tsc) / static_cast<double>(rte_get_tsc_hz());
  auto rate = [&](uint64_t cur, uint64_t prev) -> uint64_t {
    return secs <= 0.0 || cur < prev ? 0 : static_cast<uint64_t>(static_cast<double>(cur - prev) / secs);
  };
  appendf(out, "\n  ######################## NIC statistics for port %-2u #########################\n", port);
  appendf(out, "  RX-packets: %-10" PRIu64 " RX-missed: %-10" PRIu64 " RX-bytes:  %-" PRIu64 "\n", st.ipackets,
          st.imissed, st.ibytes);
  appendf(out, "  RX-errors: %" PRIu64 "\n", st.ierrors);
  appendf(out, "  RX-nombuf:  %-10" PRIu64 "\n", st.rx_nombuf);
  appendf(out, "  TX-packets: %-10" PRIu64 " TX-errors: %-10" PRIu64 " TX-bytes:  %-" PRIu64 "\n", st.opackets,
          st.oerrors, st.obytes);
  appendf(out, "\n  Throughput (since last show)\n");
  appendf(out, "  Rx-pps: %12" PRIu64 "          Rx-bps: %12" PRIu64 "\n", rate(st.ipackets, l.stats.ipackets),
          rate(st.ibytes, l.stats.ibytes) * 8);
  appendf(out, "  Tx-pps: %12" PRIu64 "          Tx-bps: %12" PRIu64 "\n", rate(st.opackets, l.stats.opackets),
          rate(st.obytes, l.stats.obytes) * 8);
  appendf(out, "  ############################################################################\n");
  l.tsc = now;
  l.stats = st;
  return out;
}

std::string Console::port_xstats(uint16_t port) {
  int n = rte_eth_xstats_get_names(port, nullptr, 0);
  if (n < 0) return "Invalid port " + std::to_string(port) + "\n";
  std::vector<rte_eth_xstat_name> names(static_cast<size_t>(n));
  std::vector<rte_eth_xstat> vals(static_cast<size_t>(n));
  if (rte_eth_xstats_get_names(port, names.data(), static_cast<unsigned>(n)) != n ||
      rte_eth_xstats_get(port, vals.data(), static_cast<unsigned>(n)) != n)
    return "Cannot read xstats of port " + std::to_string(port) + "\n";
  std::string out;
  appendf(out, "###### NIC extended statistics for port %-2u\n", port);
  for (int i = 0; i < n; ++i) appendf(out, "%s: %" PRIu64 "\n", names[vals[static_cast<size_t>(i)].id].name, vals[static_cast<size_t>(i)].value);
  return out;
}

std::string Console::port_info(uint16_t port) {
  const auto& ports = stack_.context().ports;
  if (port >= ports.size() || ports[port].nb_queues == 0) return "Port " + std::to_string(port) + " is not configured\n";
  const auto& p = ports[port];
  rte_eth_link link{};
  rte_eth_link_get_nowait(port, &link);
  std::string out;
  appendf(out, "\n********************* Infos for port %-2u  *********************\n", port);
  appendf(out, "MAC address (stack): %s\n", p.mac.to_string().c_str());
  appendf(out, "MAC address (PMD): %s%s\n", p.hw_mac.to_string().c_str(),
          p.promiscuous ? "  (promiscuous on to receive the stack MAC)" : "");
  appendf(out, "Device name: %s\n", p.name.c_str());
  appendf(out, "Driver name: %s\n", p.driver.c_str());
  appendf(out, "IPv4 address: %s\n", p.address.to_string().c_str());
  appendf(out, "Link status: %s\n", link.link_status ? "up" : "down");
  appendf(out, "Link speed: %u Mbps\n", link.link_speed);
  appendf(out, "MTU: %u\n", p.mtu);
  appendf(out, "RX queues: %u  TX queues: %u\n", p.nb_queues, p.nb_queues);
  appendf(out, "RX descriptors: %u  TX descriptors: %u\n", p.rx_desc, p.tx_desc);
  appendf(out, "RSS: %s\n", p.rss ? "on" : "off");
  appendf(out, "IPv4 checksum offload: rx %s, tx %s\n", p.rx_ip_cksum ? "on" : "off (software)",
          p.tx_ip_cksum ? "on" : "off (software)");
  appendf(out, "L4 checksum offload: rx %s, tx udp %s, tx tcp %s\n", p.rx_l4_cksum ? "on" : "off (software)",
          p.tx_udp_cksum ? "on" : "off (software)", p.tx_tcp_cksum ? "on" : "off (software)");
  return out;
}

std::string Console::arp_table(size_t engine) {
  auto& engines = stack_.engines();
  std::string out;
  if (engine >= engines.size()) return out;
  auto entries = engines[engine]->arp_snapshot();
  appendf(out, "  %-4s %-16s %-18s %-10s %-10s %s\n", "Port", "IP address", "MAC address", "State", "Expires", "Waiting");
  for (const auto& e : entries) {
    std::string exp = e.state == ArpState::kReachable ? std::to_string(e.expires_in_ms / 1000) + "s" : "-";
    appendf(out, "  %-4u %-16s %-18s %-10s %-10s %u\n", e.port, e.ip.to_string().c_str(),
            e.state == ArpState::kIncomplete ? "(incomplete)" : e.mac.to_string().c_str(), arp_state_name(e.state),
            exp.c_str(), e.pending);
  }
  appendf(out, "  %zu entr%s (replica of engine %zu on lcore %u; every engine holds one)\n", entries.size(),
          entries.size() == 1 ? "y" : "ies", engine, engines[engine]->lcore_id());
  return out;
}

std::string Console::lcores() {
  std::string out;
  appendf(out, "  %-6s %-6s %-14s %-12s %-7s %-12s %-12s %-12s %s\n", "Lcore", "Engine", "Loops", "Loops/s", "Busy%",
          "RX-packets", "TX-packets", "Drops", "Cycles/pkt");
  uint64_t now = rte_rdtsc();
  auto& engines = stack_.engines();
  for (size_t i = 0; i < engines.size(); ++i) {
    const auto& c = engines[i]->counters();
    auto& [tsc, loops] = last_loops_[i];
    double secs = tsc == 0 ? 0.0 : static_cast<double>(now - tsc) / static_cast<double>(rte_get_tsc_hz());
    uint64_t lps = secs > 0.0 && c.loops >= loops ? static_cast<uint64_t>(static_cast<double>(c.loops - loops) / secs) : 0;
    tsc = now;
    loops = c.loops;
    double busy = c.total_cycles ? 100.0 * static_cast<double>(c.busy_cycles) / static_cast<double>(c.total_cycles) : 0.0;
    uint64_t cpp = c.rx_packets ? c.busy_cycles / c.rx_packets : 0;
    appendf(out, "  %-6u %-6zu %-14" PRIu64 " %-12" PRIu64 " %-7.2f %-12" PRIu64 " %-12" PRIu64 " %-12" PRIu64 " %" PRIu64 "\n",
            engines[i]->lcore_id(), i, c.loops, lps, busy, c.rx_packets, c.tx_packets, c.drop_total(), cpp);
  }
  appendf(out, "  (loops/s since the last 'show lcores'; cycles/pkt = busy TSC cycles / packets received)\n");
  return out;
}

std::string Console::drops() {
  const auto sum = stack_.total_counters().drops;
  std::string out;
  uint64_t total = 0;
  appendf(out, "  %-24s %-12s %s\n", "Reason", "Packets", "Meaning");
  for (size_t r = 0; r < kDropReasonCount; ++r) {
    if (sum[r] == 0) continue;
    total += sum[r];
    auto name = drop_reason_name(static_cast<DropReason>(r));
    auto text = drop_reason_text(static_cast<DropReason>(r));
    appendf(out, "  %-24.*s %-12" PRIu64 " %.*s\n", static_cast<int>(name.size()), name.data(), sum[r],
            static_cast<int>(text.size()), text.data());
  }
  appendf(out, "  %-24s %" PRIu64 "\n", "total", total);
  return out;
}

std::string Console::mempool() {
  std::string out;
  appendf(out, "  %-20s %-8s %-10s %-10s %-10s\n", "Pool", "Socket", "Size", "In use", "Available");
  for (auto* mp : stack_.pools()) {
    appendf(out, "  %-20s %-8d %-10u %-10u %-10u\n", mp->name, mp->socket_id, mp->size, rte_mempool_in_use_count(mp),
            rte_mempool_avail_count(mp));
  }
  return out;
}

std::string Console::stats_tables() {
  bool quit = false;
  return execute("show port stats all", quit) + "\n" + lcores() + "\n" + drops();
}

bool Console::open_interactive() {
  tty_ = isatty(0) != 0;
  if (tty_) {
    tcgetattr(0, &g_saved_termios);
    termios t = g_saved_termios;
    t.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));  // rdline edits and echoes itself
    tcsetattr(0, TCSANOW, &t);
  }
  dpdkstack_console_set_data(this);
  cl_ = cmdline_new(dpdkstack_console_ctx, "dpdk-stack> ", 0, 1);
  return cl_ != nullptr;
}

bool Console::poll() {
  if (cl_ == nullptr || quit_) return false;
  pollfd pfd{0, POLLIN, 0};
  if (::poll(&pfd, 1, 0) <= 0) return true;
  char buf[256];
  ssize_t n = read(0, buf, sizeof buf);
  if (n <= 0) {  // end of input: like testpmd, leave
    if (!tty_) std::printf("\n");
    return false;
  }
  cmdline_in(cl_, buf, static_cast<int>(n));
  return !quit_;
}

void Console::close_interactive() {
  if (cl_ == nullptr) return;
  cmdline_free(cl_);
  cl_ = nullptr;
  if (tty_) tcsetattr(0, TCSANOW, &g_saved_termios);
}

}  // namespace dpdkstack

extern "C" void dpdkstack_console_dispatch(const char* line, struct cmdline* cl, void* data) {
  auto* console = static_cast<dpdkstack::Console*>(data);
  bool quit = false;
  std::string out = console->execute(line, quit);
  // cmdline_printf formats into a bounded buffer; write the text directly.
  (void)cl;
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (quit) {
    console->mark_quit();
    cmdline_quit(cl);
  }
}
