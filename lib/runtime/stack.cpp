#include "runtime/stack.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

#include <poll.h>
#include <cstdio>

namespace dpdkstack {

namespace {

int engine_main(void* arg) {
  static_cast<Engine*>(arg)->run(nullptr);
  return 0;
}

}  // namespace

Result<std::unique_ptr<Stack>> Stack::create(const Config& cfg, const StackOptions& opt) {
  // net_tap asks the kernel for a real-time signal per received packet
  // (F_SETSIG). When the process's queue of pending real-time signals is
  // full (a busy receiver whose signal-taking threads share a saturated
  // core), the kernel sends plain SIGIO instead, whose default action ends
  // the process. Nothing here needs SIGIO: ignore it, for every application.
  std::signal(SIGIO, SIG_IGN);
  std::unique_ptr<Stack> s(new Stack());
  s->cfg_ = cfg;
  auto& ctx = s->ctx_;
  ctx.tsc_hz = rte_get_tsc_hz();
  ctx.arp.entry_timeout = uint64_t{cfg.arp.entry_timeout_s} * ctx.tsc_hz;
  ctx.arp.retry_interval = uint64_t{cfg.arp.retry_interval_ms} * ctx.tsc_hz / 1000;
  ctx.arp.max_requests = cfg.arp.max_requests;
  ctx.arp.pending_max = cfg.arp.pending_max;
  ctx.arp.max_entries = cfg.arp.max_entries;
  ctx.arp.pending_total_max = cfg.arp.pending_total_max;
  ctx.ip.forwarding = cfg.ip.forwarding;
  ctx.ip.default_ttl = cfg.ip.default_ttl;
  ctx.ip.max_routes = cfg.ip.max_routes;
  ctx.ip.reassembly.max_flows = cfg.ip.reassembly_max_flows;
  ctx.ip.reassembly.max_fragments = cfg.ip.reassembly_max_fragments;
  ctx.ip.reassembly.max_total_fragments = cfg.ip.reassembly_max_total_fragments;
  ctx.ip.reassembly.timeout = uint64_t{cfg.ip.reassembly_timeout_ms} * ctx.tsc_hz / 1000;
  ctx.ip.reassembly.hash_seed = rte_rand();  // unpredictable buckets for senders
  ctx.ip.pmtu_timeout = uint64_t{cfg.ip.pmtu_timeout_s} * ctx.tsc_hz;
  ctx.ip.pmtu_max_entries = cfg.ip.pmtu_max_entries;
  ctx.udp.max_sockets = cfg.udp.max_sockets;
  ctx.udp.ephemeral_first = cfg.udp.ephemeral_first;
  ctx.udp.ephemeral_last = cfg.udp.ephemeral_last;
  ctx.udp.seed = rte_rand();
  ctx.tcp = cfg.tcp;
  ctx.isn_key = {rte_rand(), rte_rand()};
  ctx.ip.icmp_error_rate = cfg.icmp.error_rate;
  ctx.ip.icmp_error_burst = cfg.icmp.error_burst;

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

  // Probed ports in id order (ids may be sparse); $.ports[i] configures probed[i].
  std::vector<uint16_t> probed;
  for (uint16_t p = static_cast<uint16_t>(rte_eth_find_next_owned_by(0, RTE_ETH_DEV_NO_OWNER)); p < RTE_MAX_ETHPORTS;
       p = static_cast<uint16_t>(rte_eth_find_next_owned_by(static_cast<uint16_t>(p + 1), RTE_ETH_DEV_NO_OWNER)))
    probed.push_back(p);
  if (cfg.ports.size() > probed.size())
    return Error{"$.ports[" + std::to_string(probed.size()) + "]: configured, but DPDK probed only " +
                 std::to_string(probed.size()) + " port(s); add a --vdev or allow a device"};

  // Mempools: one per NUMA socket that holds a configured port or an engine,
  // each sized for the rings of the ports on it and the caches of its lcores.
  uint32_t max_frame = 0;
  for (const auto& p : cfg.ports) max_frame = std::max<uint32_t>(max_frame, p.mtu + 14u + 4u);
  uint16_t room = static_cast<uint16_t>(std::max<uint32_t>(RTE_MBUF_DEFAULT_DATAROOM, max_frame) +
                                        RTE_PKTMBUF_HEADROOM);
  auto socket_of_port = [](uint16_t port) {
    int sock = rte_eth_dev_socket_id(port);
    return sock < 0 ? static_cast<int>(rte_socket_id()) : sock;
  };
  ctx.pools.assign(RTE_MAX_NUMA_NODES, nullptr);
  ctx.indirect_pools.assign(RTE_MAX_NUMA_NODES, nullptr);
  for (unsigned sock = 0; sock < RTE_MAX_NUMA_NODES; ++sock) {
    std::vector<PortConfig> here;
    uint16_t max_q = 0;
    for (size_t k = 0; k < cfg.ports.size(); ++k) {
      if (socket_of_port(probed[k]) != static_cast<int>(sock)) continue;
      here.push_back(cfg.ports[k]);
      max_q = std::max<uint16_t>(max_q, cfg.ports[k].queues.value_or(workers));
    }
    uint16_t lcores_here = 0;
    for (auto l : lcores) lcores_here = static_cast<uint16_t>(lcores_here + (rte_lcore_to_socket_id(l) == sock));
    if (here.empty() && lcores_here == 0) continue;
    // Every engine's ARP replica may hold up to pending_total_max packets,
    // its reassembly table max_total_fragments, its loopback queue its size.
    uint32_t held = cfg.arp.pending_total_max + cfg.ip.reassembly_max_total_fragments +
                    static_cast<uint32_t>(Engine::kLoopbackSize);
    uint32_t n = mempool_size(here, max_q, std::max<uint16_t>(lcores_here, 1),
                              held * std::max<uint32_t>(lcores_here, 1));
    std::string name = "dpdkstack_pool" + std::to_string(sock);
    ctx.pools[sock] = rte_pktmbuf_pool_create(name.c_str(), n, 256, 0, room, static_cast<int>(sock));
    if (ctx.pools[sock] == nullptr)
      return Error{"cannot create a mempool of " + std::to_string(n) + " mbufs on socket " + std::to_string(sock) +
                   ": " + rte_strerror(rte_errno) + " (too little memory? give EAL more with -m, or reserve hugepages)"};
    // Fragments on output are a header mbuf plus indirect mbufs (no data
    // room) over the datagram: enough to fill every TX ring with them.
    uint32_t ni = 2048;
    for (const auto& p : here) ni += uint32_t{max_q} * p.tx_desc;
    ctx.indirect_pools[sock] =
        rte_pktmbuf_pool_create(("dpdkstack_ind" + std::to_string(sock)).c_str(), ni, 256, 0, 0, static_cast<int>(sock));
    if (ctx.indirect_pools[sock] == nullptr)
      return Error{"cannot create an indirect mempool of " + std::to_string(ni) + " mbufs on socket " +
                   std::to_string(sock) + ": " + rte_strerror(rte_errno)};
  }

  ctx.ports.resize(RTE_MAX_ETHPORTS);  // indexed by port id, which may be sparse
  for (size_t i = cfg.ports.size(); i < probed.size(); ++i)
    std::fprintf(stderr, "dpdk-stack: warning: port %u has no entry in $.ports and stays down\n", probed[i]);
  for (size_t i = 0; i < cfg.ports.size(); ++i) {
    const auto& pc = cfg.ports[i];
    uint16_t port_id = probed[i];
    std::string at = "$.ports[" + std::to_string(i) + "]";
    uint16_t q = pc.queues.value_or(workers);
    if (q > workers)
      return Error{at + ".queues: " + std::to_string(q) + " queues but only " + std::to_string(workers) +
                   " worker lcore(s); give EAL more lcores with -l"};
    auto info = setup_port(port_id, pc, at, q, ctx.pool_for(socket_of_port(port_id)));
    if (!info) {
      shutdown_port(port_id);  // release what a half-done setup holds (rx rings) before the pool goes
      return info.error();
    }
    ctx.ports[port_id] = *info;
    s->configured_ports_.push_back(port_id);
  }
  // Static entries name ports by their index in $.ports; engines use port ids.
  for (size_t k = 0; k < cfg.arp.statics.size(); ++k) {
    auto st = cfg.arp.statics[k];
    if (st.port >= s->configured_ports_.size())
      return Error{"$.arp.static[" + std::to_string(k) + "].port: port " + std::to_string(st.port) +
                   " is not configured"};
    st.port = s->configured_ports_[st.port];
    ctx.static_arp.push_back(st);
  }

  // Routes: one connected route per port network (a second port on the
  // same network adds none: the first one answers for it), then the
  // configured ones, which name ports by index. parse_config has checked
  // them (host bits, duplicates, gateways, ip.max_routes). Each engine copies
  // them into its own rte_lpm table (one writer, no concurrent readers).
  auto& routes = s->master_routes_;
  for (uint16_t id : s->configured_ports_) {
    const auto& pi = ctx.ports[id];
    Route r{Ipv4Prefix{pi.address.network(), pi.address.len}, id, Ipv4Addr{}, RouteKind::kConnected};
    if (std::none_of(routes.begin(), routes.end(), [&](const Route& have) { return have.prefix == r.prefix; }))
      routes.push_back(r);
  }
  for (const auto& rc : cfg.routes)
    routes.push_back(Route{rc.prefix, s->configured_ports_[rc.port], rc.via, RouteKind::kStatic});

  s->mail_ = std::make_unique<Mailboxes>(workers);
  ctx.mail = s->mail_.get();
  for (uint16_t e = 0; e < workers; ++e) {
    s->engines_.push_back(std::make_unique<Engine>(ctx, e, lcores[e]));
    if (auto st = s->engines_.back()->init(s->master_routes_); !st) return st.error();
  }
  s->opt_ = opt;
  if (auto st = s->set_filters(cfg.filters); !st) return Error{"$.filters: " + st.error().message};
  return s;
}

Status Stack::check_route_add(const Route& r) const {
  std::string p = "route " + r.prefix.to_string();
  if (r.prefix.len > 32) return Error{p + ": prefix length above 32"};
  if (r.prefix.addr != r.prefix.network())
    return Error{p + ": host bits set (expected a network prefix, e.g. " +
                 Ipv4Prefix{r.prefix.network(), r.prefix.len}.to_string() + ")"};
  for (const auto& have : master_routes_)
    if (have.prefix == r.prefix)
      return Error{p + ": already present (" + route_kind_name(have.kind) + " route); delete it first"};
  if (master_routes_.size() >= cfg_.ip.max_routes)
    return Error{p + ": table full (max_routes " + std::to_string(cfg_.ip.max_routes) + ")"};
  return ok_status();
}

Status Stack::route_add(const Route& r) {
  std::lock_guard<std::mutex> guard(routes_mu_);
  if (r.port >= ctx_.ports.size() || ctx_.ports[r.port].nb_queues == 0)
    return Error{"port " + std::to_string(r.port) + " is not configured"};
  const Ipv4Prefix& net = ctx_.ports[r.port].address;
  if (!r.gateway.is_unspecified()) {
    bool ours = false;
    for (uint16_t id : configured_ports_) ours = ours || ctx_.ports[id].address.addr == r.gateway;
    if (ours || !net.holds_host(r.gateway))
      return Error{"gateway " + r.gateway.to_string() + " must be a host on port " + std::to_string(r.port) +
                   "'s network " + net.to_string() + " other than ours"};
  }
  if (auto st = check_route_add(r); !st) return st;
  for (size_t k = 0; k < engines_.size(); ++k) {
    auto err = std::make_shared<std::string>();
    bool answered = engines_[k]->call([r, err](Engine& en) {
      if (auto st = en.routes().add(r); !st) *err = st.error().message;
    });
    if (answered && err->empty()) continue;
    // Take it back from the engines that have it: all or none.
    for (size_t j = 0; j < k; ++j) (void)engines_[j]->call([p = r.prefix](Engine& en) { (void)en.routes().del(p); });
    if (!answered)
      return Error{"engine " + std::to_string(k) + " did not apply the route in time (not added)"};
    return Error{*err};  // rte_lpm out of room (tbl8 groups)
  }
  master_routes_.push_back(r);
  return ok_status();
}

Status Stack::route_del(Ipv4Prefix prefix) {
  std::lock_guard<std::mutex> guard(routes_mu_);
  auto it = std::find_if(master_routes_.begin(), master_routes_.end(),
                         [&](const Route& r) { return r.prefix == prefix; });
  if (it == master_routes_.end()) return Error{"route " + prefix.to_string() + ": no such route"};
  if (it->kind == RouteKind::kConnected)
    return Error{"route " + prefix.to_string() + ": is a connected route (of port " + std::to_string(it->port) +
                 ") and cannot be deleted"};
  Route old = *it;
  for (size_t k = 0; k < engines_.size(); ++k) {
    if (engines_[k]->call([prefix](Engine& en) { (void)en.routes().del(prefix); })) continue;
    for (size_t j = 0; j < k; ++j) (void)engines_[j]->call([old](Engine& en) { (void)en.routes().add(old); });
    return Error{"engine " + std::to_string(k) + " did not apply the change in time (not deleted)"};
  }
  master_routes_.erase(it);
  return ok_status();
}

std::vector<Route> Stack::routes() {
  std::lock_guard<std::mutex> guard(routes_mu_);
  std::vector<Route> out = master_routes_;
  std::sort(out.begin(), out.end(), [](const Route& a, const Route& b) {
    return a.prefix.len != b.prefix.len ? a.prefix.len > b.prefix.len : a.prefix.addr < b.prefix.addr;
  });
  return out;
}

Status Stack::set_filters(const FilterConfig& cfg) {
  std::lock_guard<std::mutex> guard(filters_mu_);
  auto table = FilterTable::build(cfg, SOCKET_ID_ANY);
  if (!table) return table.error();
  std::shared_ptr<const FilterTable> fresh = std::move(*table);
  std::string late;
  for (auto& e : engines_) {
    // The job owns a reference: an engine that answers late still switches
    // to this table, never to a freed one.
    if (!e->call([fresh](Engine& en) { en.set_filter(fresh); }))
      late += (late.empty() ? "" : ", ") + std::to_string(e->index());
  }
  master_filters_ = cfg;
  std::shared_ptr<const FilterTable> old = std::move(filter_table_);
  filter_table_ = std::move(fresh);
  if (!late.empty())
    return Error{"engine(s) " + late + " did not switch in time; they will at their next timer step"};
  old.reset();  // every engine has moved: the last reference to the old table goes here
  return ok_status();
}

FilterConfig Stack::filters() {
  std::lock_guard<std::mutex> guard(filters_mu_);
  return master_filters_;
}

std::vector<FilterRuleState> Stack::filter_state(bool* complete) {
  std::lock_guard<std::mutex> guard(filters_mu_);
  std::vector<FilterRuleState> out;
  for (const auto& r : master_filters_.rules) out.push_back({r, 0, 0, 0});
  if (complete != nullptr) *complete = true;
  const FilterTable* current = filter_table_.get();
  for (auto& e : engines_) {
    auto part = std::make_shared<std::vector<Engine::FilterRuleCount>>();
    auto same = std::make_shared<bool>(false);
    bool ok = e->call([part, same, current](Engine& en) {
      *same = en.filter() == current;
      *part = en.filter_counts();
    });
    if (!ok || !*same) {
      if (complete != nullptr) *complete = false;
      continue;
    }
    for (size_t i = 0; i < part->size() && i < out.size(); ++i) {
      out[i].packets += (*part)[i].packets;
      out[i].bytes += (*part)[i].bytes;
      out[i].rate_dropped += (*part)[i].rate_dropped;
    }
  }
  return out;
}

std::vector<UdpSocketSnapshot> Stack::udp_sockets(bool* complete) {
  std::vector<UdpSocketSnapshot> out;
  if (complete != nullptr) *complete = true;
  for (auto& e : engines_) {
    auto part = std::make_shared<std::vector<UdpSocketSnapshot>>();
    if (e->call([part](Engine& en) { en.udp().snapshot(*part, en.index()); })) {
      out.insert(out.end(), part->begin(), part->end());
    } else if (complete != nullptr) {
      *complete = false;
    }
  }
  return out;
}

Stack::TcpState Stack::tcp_state(bool* complete) {
  TcpState out;
  if (complete != nullptr) *complete = true;
  for (auto& e : engines_) {
    auto part = std::make_shared<TcpState>();
    if (e->call([part](Engine& en) { en.tcp().snapshot(part->connections, part->listeners, en.index()); })) {
      out.connections.insert(out.connections.end(), part->connections.begin(), part->connections.end());
      out.listeners.insert(out.listeners.end(), part->listeners.begin(), part->listeners.end());
    } else if (complete != nullptr) {
      *complete = false;
    }
  }
  return out;
}

std::vector<rte_mempool*> Stack::pools() const {
  std::vector<rte_mempool*> out;
  for (auto* p : ctx_.pools)
    if (p != nullptr) out.push_back(p);
  return out;
}

void Stack::run(const std::function<void()>& control, int wake_fd) {
  if (single_lcore_) {
    engines_[0]->run(control);
    return;
  }
  for (auto& e : engines_) {
    e->set_launched(true);
    rte_eal_remote_launch(engine_main, e.get(), e->lcore_id());
  }
  while (!stopping()) {
    if (control) control();
    if (wake_fd >= 0) {
      pollfd pfd{wake_fd, POLLIN, 0};
      ::poll(&pfd, 1, 1);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  rte_eal_mp_wait_lcore();
  for (auto& e : engines_) e->set_launched(false);
}

void Stack::shutdown() {
  if (shut_) return;
  shut_ = true;
  request_stop();
  if (!single_lcore_) rte_eal_mp_wait_lcore();
  engines_.clear();  // frees packets held for ARP and reassembly, looped back, unsent
  if (mail_) {       // and packets steered to an engine that stopped first
    for (size_t from = 0; from < mail_->size(); ++from)
      for (size_t to = 0; to < mail_->size(); ++to)
        mail_->queue(from, to).consume_all([](const MailMessage& msg) {
          if (msg.kind == MailMessage::Kind::kPacket || msg.kind == MailMessage::Kind::kTcpSegment)
            rte_pktmbuf_free(msg.pkt);
        });
  }
  for (auto p : configured_ports_) shutdown_port(p);
}

Stack::~Stack() {
  shutdown();
  for (auto* p : ctx_.pools)
    if (p != nullptr) rte_mempool_free(p);
  for (auto* p : ctx_.indirect_pools)
    if (p != nullptr) rte_mempool_free(p);
}

}  // namespace dpdkstack
