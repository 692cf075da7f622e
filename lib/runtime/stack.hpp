// The stack as a whole: ports, mempools, engines and their lcores.
//
// Contract: create() runs after rte_eal_init and a validated Config. It
// sizes and creates the mempools (one per NUMA socket in use), configures
// every port named in the config, and builds one Engine per worker lcore
// (or a single engine on the main lcore when it is the only one). run()
// blocks until request_stop(); shutdown() joins the lcores, frees every mbuf
// the engines still hold, and stops and closes the ports. After shutdown the
// pools' in-use counts are zero unless something leaked.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "runtime/engine.hpp"

namespace dpdkstack {

struct StackOptions {
  std::string trace_path;   // empty: tracing off
  std::string config_path;  // where `filter reload` reads $.filters again; empty: no reload
};

// One filter rule as `show filter` lists it: the rule and its counters
// summed over engines.
struct FilterRuleState {
  FilterRule rule;
  uint64_t packets = 0, bytes = 0, rate_dropped = 0;
};

class Stack {
 public:
  static Result<std::unique_ptr<Stack>> create(const Config& cfg, const StackOptions& opt);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Runs the engines until request_stop(). `control` runs on the main lcore
  // about every millisecond: in its own loop when there are workers, inside
  // the engine's loop when the main lcore is the only one. With workers, the
  // main lcore waits between two calls in poll() on `wake_fd` (when >= 0,
  // e.g. the console's stdin) with a 1 ms timeout, so that input wakes it at
  // once even where the guest's idle timers run late (seen on this VM: a
  // 1 ms sleep on an idle core lasting seconds).
  void run(const std::function<void()>& control, int wake_fd = -1);
  void request_stop() { ctx_.stop.store(true, std::memory_order_relaxed); }
  bool stopping() const { return ctx_.stop.load(std::memory_order_relaxed); }
  void shutdown();

  const StackContext& context() const { return ctx_; }
  StackContext& context() { return ctx_; }

  // Routes, from the control plane (console, telemetry): the stack keeps a
  // master copy to check and list; a change is applied to every engine's
  // table on its own lcore. `port` in `r` is a DPDK port id.
  Status route_add(const Route& r);
  Status route_del(Ipv4Prefix prefix);
  std::vector<Route> routes();
  // The DPDK port id configured by $.ports[index], if any.
  std::optional<uint16_t> port_id_of(size_t index) const {
    if (index >= configured_ports_.size()) return std::nullopt;
    return configured_ports_[index];
  }
  const std::vector<uint16_t>& configured_ports() const { return configured_ports_; }
  const Config& config() const { return cfg_; }
  std::vector<std::unique_ptr<Engine>>& engines() { return engines_; }
  std::vector<rte_mempool*> pools() const;
  // Every engine's counters summed (racy reads, see counters.hpp).
  LcoreCounters total_counters() const {
    LcoreCounters t;
    for (const auto& e : engines_) t += e->counters();
    return t;
  }
  bool single_lcore() const { return single_lcore_; }
  // Every engine's UDP sockets and their counters, each engine's copied on
  // its own lcore (control plane); `complete` is false when an engine did
  // not answer in time.
  std::vector<UdpSocketSnapshot> udp_sockets(bool* complete = nullptr);
  // Every engine's TCP connections and listeners, likewise.
  struct TcpState {
    std::vector<TcpConnSnapshot> connections;
    std::vector<TcpListenerSnapshot> listeners;
  };
  TcpState tcp_state(bool* complete = nullptr);

  // The filter table (control plane). set_filters builds the table from
  // `cfg` (validated) off the fast path and publishes it to every engine
  // through its control queue; each engine switches between two bursts. The
  // previous table is released here, after every engine has moved (RCU
  // style: no engine can still be reading it). On an error nothing changes.
  Status set_filters(const FilterConfig& cfg);
  FilterConfig filters();
  // The current rules with their counters summed over engines (counters
  // start at zero with each new table), and the per-hook policy.
  std::vector<FilterRuleState> filter_state(bool* complete = nullptr);
  const std::string& config_path() const { return opt_.config_path; }

 private:
  Stack() = default;
  Config cfg_;
  StackContext ctx_;
  std::unique_ptr<Mailboxes> mail_;
  std::unique_ptr<Trace> trace_;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::vector<uint16_t> configured_ports_;
  std::mutex routes_mu_;  // control-plane callers only
  std::mutex filters_mu_;  // control-plane callers only
  FilterConfig master_filters_;
  std::shared_ptr<const FilterTable> filter_table_;  // what every engine uses now
  StackOptions opt_;
  // The master list of routes (what `show route` lists and changes are
  // checked against); each engine's rte_lpm table holds the same routes.
  std::vector<Route> master_routes_;
  Status check_route_add(const Route& r) const;
  bool single_lcore_ = true;
  bool shut_ = false;
};

}  // namespace dpdkstack
