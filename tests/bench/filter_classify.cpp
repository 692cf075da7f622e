// Filter classification microbenchmark: TSC cycles per FilterTable::classify
// (one key per call, as the engine calls it) for tables of 1, 100, 1000 and
// 10,000 rules, over a stream of keys.
//
// The rules are firewall-like (TCP or UDP, a source prefix of /20 to /32
// and mostly a destination prefix too, inside 10.0.0.0/8 and
// 172.16.0.0/12, a destination port or port range, now and then a source
// port range), random, so that most keys match none of them; the last rule accepts everything, so every key is
// decided and the search is never cut short by an early match. The keys
// (4096, cycled) are TCP and UDP datagrams between 10.0.0.0/8 addresses to
// common ports: they walk deep into the tries before missing.
//
// Reported per table, as information beside the one-key figure: the same
// keys through classify_burst (rte_acl's batched search, 32 keys per call),
// cycles per key; and the peer, a plain first-match scan of the rules with
// filter_rule_matches (what a table without rte_acl costs), cycles per key.
//
// Usage: bench-filter-classify [keys per round] [rounds]   one JSON line per table.
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_memory.h>

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "filter/table.hpp"

using namespace dpdkstack;

namespace {

constexpr FilterHook kHook = FilterHook::kInput;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr size_t kKeys = 4096;
constexpr uint32_t kBurst = 32;
const uint16_t kCommonPorts[] = {22, 25, 53, 80, 123, 443, 993, 3306, 5432, 6379, 8080, 8443};

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  uint32_t addr() {
    return pick(4) == 0 ? Ipv4Addr::from_octets(172, static_cast<uint8_t>(16 + pick(16)), static_cast<uint8_t>(pick(256)),
                                                static_cast<uint8_t>(pick(256)))
                              .v
                        : Ipv4Addr::from_octets(10, static_cast<uint8_t>(pick(256)), static_cast<uint8_t>(pick(256)),
                                                static_cast<uint8_t>(pick(256)))
                              .v;
  }

  FilterRule rule() {
    FilterRule r;
    r.hook = kHook;
    r.action = pick(3) == 0 ? FilterAction::kAccept : FilterAction::kDrop;
    r.protocol = pick(3) == 0 ? kUdp : kTcp;
    const uint8_t lens[] = {20, 24, 24, 28, 32, 32};
    r.src = Ipv4Prefix{Ipv4Addr(addr()), lens[pick(sizeof lens)]};
    if (pick(4) != 0) r.dst = Ipv4Prefix{Ipv4Addr(addr()), lens[pick(sizeof lens)]};
    if (pick(5) == 0) {
      auto lo = static_cast<uint16_t>(1024 + pick(60000));
      r.dport = {lo, static_cast<uint16_t>(lo + pick(500))};
    } else {
      uint16_t p = kCommonPorts[pick(sizeof kCommonPorts / sizeof kCommonPorts[0])];
      r.dport = {p, p};
    }
    if (pick(10) == 0) {
      auto lo = static_cast<uint16_t>(pick(1024));
      r.sport = {lo, static_cast<uint16_t>(lo + pick(100))};
    }
    return r;
  }

  FilterKey key() {
    FilterKey k;
    k.proto = pick(3) == 0 ? kUdp : kTcp;
    k.tcp_flags = k.proto == kTcp ? 0x10 : 0;  // ACK
    k.in_port = 0;
    k.src = rte_cpu_to_be_32(addr());
    k.dst = rte_cpu_to_be_32(addr());
    k.sport = rte_cpu_to_be_16(static_cast<uint16_t>(32768 + pick(28000)));
    k.dport = rte_cpu_to_be_16(kCommonPorts[pick(sizeof kCommonPorts / sizeof kCommonPorts[0])]);
    return k;
  }

 private:
  std::mt19937 rng_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The first CPU this process may run on (taskset's), for EAL's lcore 0, so
// that EAL pins the thread where the caller asked rather than to CPU 0.
int first_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) return c;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t per_round = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  if (per_round < kBurst || rounds < 1) {
    std::fprintf(stderr, "usage: bench-filter-classify [keys per round >= 32] [rounds >= 1]\n");
    return 2;
  }
  const std::string lcores = "0@" + std::to_string(first_allowed_cpu());
  const std::string prefix = "fltbench" + std::to_string(getpid());
  const char* eal[] = {"bench-filter-classify", "--lcores", lcores.c_str(), "--no-pci", "--no-huge", "-m", "1024",
                       "--no-shconf", "--no-telemetry", "--log-level", "lib.*:error", "--file-prefix", prefix.c_str()};
  if (rte_eal_init(static_cast<int>(sizeof eal / sizeof eal[0]), const_cast<char**>(eal)) < 0) {
    std::fprintf(stderr, "bench-filter-classify: EAL init failed\n");
    return 1;
  }
  const double hz = static_cast<double>(rte_get_tsc_hz());

  Gen gen(42);
  std::vector<FilterKey> keys(kKeys);
  for (auto& k : keys) k = gen.key();

  int status = 0;
  for (size_t n_rules : {size_t{1}, size_t{100}, size_t{1000}, size_t{10000}}) {
    FilterConfig cfg;
    Gen rules_gen(static_cast<uint32_t>(n_rules));
    for (size_t i = 0; i + 1 < n_rules; ++i) cfg.rules.push_back(rules_gen.rule());
    FilterRule last;  // accept everything: every key is decided
    last.hook = kHook;
    last.action = FilterAction::kAccept;
    cfg.rules.push_back(last);

    const auto b0 = std::chrono::steady_clock::now();
    auto built = FilterTable::build(cfg, SOCKET_ID_ANY);
    const double build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - b0).count();
    if (!built) {
      std::fprintf(stderr, "%zu rules: %s\n", n_rules, built.error().message.c_str());
      status = 1;
      continue;
    }
    const FilterTable& t = **built;

    // How the keys fare (and a check against the reference on the way).
    size_t by_last = 0, mismatches = 0;
    for (const auto& k : keys) {
      FilterResult r = t.classify(kHook, k);
      by_last += r.rule == static_cast<int32_t>(n_rules - 1);
      int32_t want = -1;
      for (size_t i = 0; i < cfg.rules.size() && want < 0; ++i)
        if (filter_rule_matches(cfg.rules[i], kHook, k)) want = static_cast<int32_t>(i);
      mismatches += r.rule != want;
    }
    if (mismatches != 0) {
      std::fprintf(stderr, "%zu rules: %zu keys classified unlike the reference\n", n_rules, mismatches);
      status = 1;
    }

    std::vector<double> one, burst, linear;
    uint64_t sink = 0;
    std::vector<FilterResult> out(kBurst);
    // The linear scan is slow with many rules: fewer keys, enough cycles.
    const size_t linear_keys = std::max<size_t>(kKeys, std::min(per_round, per_round * 10 / n_rules));
    for (int r = 0; r < rounds; ++r) {  // interleaved, so that all see the same machine
      uint64_t t0 = rte_rdtsc_precise();
      for (size_t i = 0; i < per_round; ++i) {
        FilterResult res = t.classify(kHook, keys[i & (kKeys - 1)]);
        sink += static_cast<uint32_t>(res.rule) + res.n_counts;
      }
      uint64_t t1 = rte_rdtsc_precise();
      one.push_back(static_cast<double>(t1 - t0) / static_cast<double>(per_round));

      const size_t bursts = per_round / kBurst;
      t0 = rte_rdtsc_precise();
      for (size_t i = 0; i < bursts; ++i) {
        t.classify_burst(kHook, &keys[(i * kBurst) & (kKeys - 1)], out.data(), kBurst);
        sink += static_cast<uint32_t>(out[i & (kBurst - 1)].rule);
      }
      t1 = rte_rdtsc_precise();
      burst.push_back(static_cast<double>(t1 - t0) / static_cast<double>(bursts * kBurst));

      t0 = rte_rdtsc_precise();
      for (size_t i = 0; i < linear_keys; ++i) {
        const FilterKey& k = keys[i & (kKeys - 1)];
        size_t j = 0;
        while (j < cfg.rules.size() && !filter_rule_matches(cfg.rules[j], kHook, k)) ++j;
        sink += j;
      }
      t1 = rte_rdtsc_precise();
      linear.push_back(static_cast<double>(t1 - t0) / static_cast<double>(linear_keys));
    }
    const double c1 = median(one), cb = median(burst), cl = median(linear);
    std::printf("{\"case\": \"classify_%zu_rules\", \"rules\": %zu, \"classify_cycles\": %.1f, "
                "\"burst32_cycles_per_key\": %.1f, \"linear_scan_cycles\": %.1f, "
                "\"ratio_classify_over_linear\": %.4f, \"classify_mpps\": %.2f, \"build_ms\": %.1f, "
                "\"keys_decided_by_last_rule\": %.3f, \"acl_contexts\": %zu, \"keys_per_round\": %zu, \"rounds\": %d, "
                "\"tsc_hz\": %.0f, \"sink\": %llu}\n",
                n_rules, n_rules, c1, cb, cl, c1 / cl, hz / c1 / 1e6, build_ms,
                static_cast<double>(by_last) / kKeys, t.acl_contexts(kHook), per_round, rounds, hz,
                static_cast<unsigned long long>(sink & 1));
    std::fflush(stdout);
  }
  rte_eal_cleanup();
  return status;
}
