#include "runtime/stack.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>

namespace dpdkstack {

namespace {

int engine_main(void* arg) {
  static_cast<Engine*>(arg)->run(nullptr);
  return 0;
}

}  // namespace

Result<std::unique_ptr<Stack>> Stack::create(const Config& cfg, const StackOptions& opt) {
  std::unique_ptr<Stack> s(new Stack());
  s->cfg_ = cfg;
  auto& ctx = s->ctx_;
  ctx.tsc_hz = rte_get_tsc_hz();
  ctx.arp.entry_timeout = uint64_t{cfg.arp.entry_timeout_s} * ctx.tsc_hz;
  ctx.arp.retry_interval = uint64_t{cfg.arp.retry_interval_ms} * ctx.tsc_hz / 1000;
  ctx.arp.max_requests = cfg.arp.max_requests;
  ctx.arp.pending_max = cfg.arp.pending_max;
  ctx.arp.max_entries = cfg.arp.max_entries;
  ctx.static_arp = cfg.arp.statics;

  if (!opt.trace_path.empty()) {
    FILE* f = opt.trace_path == "-" ? fdopen(dup(1), "w") : std::fopen(opt.trace_path.c_str(), "w");
    if (f == nullptr) return Error{"--trace: cannot open '" + opt.trace_path + "' for writing"};
    s->trace_ = std::make_unique<Trace>(f);
    ctx.trace = s->trace_.get();
  }

  // Engines: one per worker lcore; the main lcore alone when it is the only one.
  std::vector<unsigned> lcores;
  unsigned lc;
  RTE_LCORE_FOREACH_WORKER(lc) lcores.push_back(lc);
  s->single_lcore_ = lcores.empty();
  if (lcores.empty()) lcores.push_back(rte_get_main_lcore());
  uint16_t workers = static_cast<uint16_t>(lcores.size());

  uint16_t nb_ports = rte_eth_dev_count_avail();
  if (cfg.ports.size() > nb_ports)
    return Error{"$.ports[" + std::to_string(nb_ports) + "]: configured, but DPDK probed only " +
                 std::to_string(nb_ports) + " port(s); add a --vdev or allow a device"};

  // Mempool, sized for every configured port's rings on every queue.
  uint16_t max_q = 0;
  uint32_t max_frame = 0;
  for (const auto& p : cfg.ports) {
    max_q = std::max<uint16_t>(max_q, p.queues.value_or(workers));
    max_frame = std::max<uint32_t>(max_frame, p.mtu + 14u + 4u);
  }
  uint32_t n = mempool_size(cfg.ports, max_q, workers, cfg.arp.pending_max * 64);
  uint16_t room = static_cast<uint16_t>(std::max<uint32_t>(RTE_MBUF_DEFAULT_DATAROOM, max_frame) +
                                        RTE_PKTMBUF_HEADROOM);
  int socket = static_cast<int>(rte_socket_id());
  if (socket < 0) socket = 0;
  ctx.pool = rte_pktmbuf_pool_create("dpdkstack_pool0", n, 256, 0, room, socket);
  if (ctx.pool == nullptr)
    return Error{"cannot create a mempool of " + std::to_string(n) + " mbufs: " + rte_strerror(rte_errno) +
                 " (too little memory? give EAL more with -m, or reserve hugepages)"};

  ctx.ports.resize(nb_ports);
  size_t i = 0;
  for (uint16_t port_id = rte_eth_find_next_owned_by(0, RTE_ETH_DEV_NO_OWNER); port_id < RTE_MAX_ETHPORTS;
       port_id = rte_eth_find_next_owned_by(static_cast<uint16_t>(port_id + 1), RTE_ETH_DEV_NO_OWNER)) {
    if (i >= cfg.ports.size()) {
      std::fprintf(stderr, "dpdk-stack: warning: port %u has no entry in $.ports and stays down\n", port_id);
      continue;
    }
    const auto& pc = cfg.ports[i];
    uint16_t q = pc.queues.value_or(workers);
    if (q > workers)
      return Error{"$.ports[" + std::to_string(i) + "].queues: " + std::to_string(q) + " queues but only " +
                   std::to_string(workers) + " worker lcore(s); give EAL more lcores with -l"};
    auto info = setup_port(port_id, pc, q, ctx.pool);
    if (!info) return info.error();
    ctx.ports[port_id] = *info;
    s->configured_ports_.push_back(port_id);
    ++i;
  }
  for (const auto& st : cfg.arp.statics)
    if (st.port >= s->configured_ports_.size())
      return Error{"$.arp.static: port " + std::to_string(st.port) + " is not configured"};

  s->mail_ = std::make_unique<Mailboxes>(workers);
  ctx.mail = s->mail_.get();
  for (uint16_t e = 0; e < workers; ++e) s->engines_.push_back(std::make_unique<Engine>(ctx, e, lcores[e]));
  return s;
}

std::vector<rte_mempool*> Stack::pools() const { return {ctx_.pool}; }

void Stack::run(const std::function<void()>& control) {
  if (single_lcore_) {
    engines_[0]->run(control);
    return;
  }
  for (auto& e : engines_) rte_eal_remote_launch(engine_main, e.get(), e->lcore_id());
  while (!stopping()) {
    if (control) control();
    rte_delay_us_sleep(1000);
  }
  rte_eal_mp_wait_lcore();
}

void Stack::shutdown() {
  if (shut_) return;
  shut_ = true;
  request_stop();
  if (!single_lcore_) rte_eal_mp_wait_lcore();
  engines_.clear();  // frees packets held for ARP and unsent tx buffers
  for (auto p : configured_ports_) shutdown_port(p);
}

Stack::~Stack() {
  shutdown();
  if (ctx_.pool != nullptr) rte_mempool_free(ctx_.pool);
}

}  // namespace dpdkstack
