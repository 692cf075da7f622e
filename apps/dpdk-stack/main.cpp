// dpdk-stack: the daemon. EAL arguments, then `--`, then ours (like testpmd).
#include <getopt.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "console/console.hpp"
#include "runtime/eal.hpp"
#include "runtime/stack.hpp"
#include "services/tcp_services.hpp"
#include "services/udp_services.hpp"

namespace {

volatile std::sig_atomic_t g_signal = 0;

void on_signal(int sig) { g_signal = sig; }

constexpr int kExitConfig = 2;

void usage(FILE* out) {
  std::fprintf(out,
               "Usage: dpdk-stack [EAL options] -- -c FILE [options]\n"
               "\n"
               "A kernel-bypass TCP/IP stack on DPDK. Arguments before '--' go to DPDK's\n"
               "EAL (lcores, devices, memory), as for dpdk-testpmd; arguments after it are\n"
               "the stack's own.\n"
               "\n"
               "Common EAL options (see the DPDK documentation for all):\n"
               "  -l CORELIST            lcores to use; the first is the main lcore. With one\n"
               "                         lcore it runs the engine and the console; with more,\n"
               "                         each further lcore runs an engine polling one queue\n"
               "                         of every port and the main lcore runs the console\n"
               "  --vdev=net_tap0,iface=NAME     a tap port; also net_af_packet0,iface=VETH,\n"
               "                         net_ring0, net_memif0, ...\n"
               "  --no-pci               ignore PCI devices\n"
               "  --in-memory | --no-huge -m MB   memory; unless --no-huge, --in-memory or\n"
               "                         --legacy-mem is given, dpdk-stack adds --in-memory when\n"
               "                         256 MB of hugepages are free (no hugepage files are\n"
               "                         left behind) and otherwise --no-huge [-m 512]\n"
               "                         --no-shconf, with a warning\n"
               "\n"
               "Application options:\n"
               "  -c, --config FILE      stack.json: ports, ARP, logging (docs/CONFIG.md); required\n"
               "  -i, --interactive      testpmd-style console on stdin (docs/CONSOLE.md);\n"
               "                         end of input or 'quit' stops the stack\n"
               "  --stats-period N       without -i: print port, lcore and drop tables every N s\n"
               "  --log-level LEVEL      emerg|alert|crit|error|warning|notice|info|debug;\n"
               "                         overrides $.logging.level\n"
               "  --trace FILE           write each packet's path through the layers, one line\n"
               "                         per step, to FILE ('-' for stdout); off by default\n"
               "  -h, --help             this text\n"
               "\n"
               "Without -i the stack runs until SIGINT or SIGTERM, also with stdin closed.\n"
               "Exit status: 0 after a clean stop, 1 when DPDK or a port fails, 2 on bad\n"
               "arguments or a bad config (the message names the JSON path).\n"
               "\n"
               "Example:\n"
               "  dpdk-stack -l 0 --no-pci --vdev=net_tap0,iface=dtap0 -- -c config/stack.json -i\n");
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::vector<std::string> eal_args{argv[0]}, app_args{argv[0]};
  bool after = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (!after && a == "--") {
      after = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    }
    (after ? app_args : eal_args).push_back(a);
  }

  // Memory: leave no hugepage files behind (--in-memory), and run without
  // hugepages at all when there are none (slower, but it runs).
  eal_args = dpdkstack::eal_args_with_memory_fallback(std::move(eal_args), "dpdk-stack");

  // Application options, parsed before EAL init so that mistakes cost nothing.
  std::string config_path, trace_path, log_level;
  bool interactive = false;
  long stats_period = 0;
  {
    std::vector<char*> av;
    for (auto& s : app_args) av.push_back(s.data());
    av.push_back(nullptr);
    static const option opts[] = {{"config", required_argument, nullptr, 'c'},
                                  {"interactive", no_argument, nullptr, 'i'},
                                  {"stats-period", required_argument, nullptr, 's'},
                                  {"log-level", required_argument, nullptr, 'l'},
                                  {"trace", required_argument, nullptr, 't'},
                                  {"help", no_argument, nullptr, 'h'},
                                  {nullptr, 0, nullptr, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(static_cast<int>(av.size() - 1), av.data(), "c:ih", opts, nullptr)) != -1) {
      switch (c) {
        case 'c': config_path = optarg; break;
        case 'i': interactive = true; break;
        case 's': {
          char* end = nullptr;
          stats_period = std::strtol(optarg, &end, 10);
          if (end == optarg || *end != '\0' || stats_period < 1 || stats_period > 86400) {
            std::fprintf(stderr, "dpdk-stack: --stats-period: expected seconds in 1..86400, got '%s'\n", optarg);
            return kExitConfig;
          }
          break;
        }
        case 'l': log_level = optarg; break;
        case 't': trace_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return kExitConfig;
      }
    }
    if (optind < static_cast<int>(av.size() - 1)) {
      std::fprintf(stderr, "dpdk-stack: unexpected argument '%s'\n", av[static_cast<size_t>(optind)]);
      return kExitConfig;
    }
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "dpdk-stack: -c FILE is required (after '--'); try --help\n");
    return kExitConfig;
  }
  auto cfg = dpdkstack::load_config(config_path);
  if (!cfg) {
    std::fprintf(stderr, "dpdk-stack: config error in %s: %s\n", config_path.c_str(), cfg.error().message.c_str());
    return kExitConfig;
  }
  if (!log_level.empty()) {
    if (!dpdkstack::valid_log_level(log_level)) {
      std::fprintf(stderr,
                   "dpdk-stack: --log-level: expected one of emerg, alert, crit, error, warning, notice, info, "
                   "debug, got '%s'\n",
                   log_level.c_str());
      return kExitConfig;
    }
    cfg->logging.level = log_level;
  }

  rte_log_set_global_level(dpdkstack::log_level_value(cfg->logging.level));
  if (dpdkstack::eal_init(eal_args) < 0) {
    std::fprintf(stderr, "dpdk-stack: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  auto stack = dpdkstack::Stack::create(*cfg, dpdkstack::StackOptions{trace_path, config_path});
  if (!stack) {
    const auto& msg = stack.error().message;
    std::fprintf(stderr, "dpdk-stack: %s\n", msg.c_str());
    dpdkstack::eal_cleanup();
    return msg.rfind("$", 0) == 0 ? kExitConfig : 1;
  }
  auto& s = **stack;
  for (const auto& p : s.context().ports) {
    if (p.nb_queues == 0) continue;
    std::printf("dpdk-stack: port %u (%s, %s): %s %s mtu %u queues %u%s\n", p.port_id, p.name.c_str(),
                p.driver.c_str(), p.address.to_string().c_str(),
                p.l3 ? "L3 (no link layer)" : ("mac " + p.mac.to_string()).c_str(), p.mtu, p.nb_queues,
                p.rss ? " rss" : "");
  }
  auto services = dpdkstack::start_udp_services(s, cfg->services);
  if (services) services = dpdkstack::start_tcp_services(s, cfg->services, cfg->tcp);
  if (auto& st = services; !st) {
    std::fprintf(stderr, "dpdk-stack: %s\n", st.error().message.c_str());
    s.shutdown();
    stack->reset();
    dpdkstack::eal_cleanup();
    return kExitConfig;
  }
  for (auto [name, sc] : {std::pair{"udp echo", cfg->services.udp_echo}, std::pair{"udp discard", cfg->services.udp_discard},
                          std::pair{"tcp echo", cfg->services.tcp_echo}, std::pair{"tcp discard", cfg->services.tcp_discard},
                          std::pair{"tcp chargen", cfg->services.tcp_chargen}, std::pair{"http", cfg->services.http},
                          std::pair{"iperf3", cfg->services.iperf3}})
    if (sc.enabled) std::printf("dpdk-stack: %s on port %u\n", name, sc.port);
  std::printf("dpdk-stack: %zu engine(s) on lcore(s)", s.engines().size());
  for (auto& e : s.engines()) std::printf(" %u", e->lcore_id());
  std::printf("; ready\n");

  dpdkstack::register_telemetry(s);
  dpdkstack::Console console(s);
  if (interactive && !console.open_interactive()) {
    std::fprintf(stderr, "dpdk-stack: cannot open the console on stdin\n");
    interactive = false;
  }
  uint64_t hz = rte_get_tsc_hz();
  uint64_t next_stats = rte_rdtsc() + static_cast<uint64_t>(stats_period) * hz;
  s.run(
      [&] {
        if (g_signal != 0) s.request_stop();
        if (interactive && !console.poll()) s.request_stop();
        if (!interactive && stats_period > 0 && rte_rdtsc() >= next_stats) {
          std::fputs(console.stats_tables().c_str(), stdout);
          next_stats = rte_rdtsc() + static_cast<uint64_t>(stats_period) * hz;
        }
      },
      interactive ? 0 : -1);
  console.close_interactive();
  if (g_signal != 0) std::printf("\ndpdk-stack: signal %d received, stopping\n", static_cast<int>(g_signal));

  std::printf("\n=== final statistics ===\n%s\n", console.stats_tables().c_str());
  bool quit = false;
  std::printf("%s", console.execute("show mempool", quit).c_str());
  auto pools = s.pools();
  dpdkstack::register_telemetry_stop();
  s.shutdown();
  unsigned in_use = 0;
  for (auto* mp : pools) in_use += rte_mempool_in_use_count(mp);
  std::printf("dpdk-stack: ports closed; mbufs in use after shutdown: %u\n", in_use);
  stack->reset();
  dpdkstack::eal_cleanup();
  return 0;
}
