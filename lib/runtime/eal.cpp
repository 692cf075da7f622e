#include "runtime/eal.hpp"

#include <rte_eal.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <utility>

namespace dpdkstack {

namespace {

bool has_arg(const std::vector<std::string>& args, std::initializer_list<const char*> names) {
  for (const auto& a : args)
    for (const char* n : names)
      if (a == n || a.rfind(std::string(n) + "=", 0) == 0) return true;
  return false;
}

uint64_t free_hugepage_bytes() {
  uint64_t total = 0;
  for (auto [dir, size] : {std::pair{"hugepages-2048kB", uint64_t{2} << 20}, std::pair{"hugepages-1048576kB", uint64_t{1} << 30}}) {
    std::ifstream f(std::string("/sys/kernel/mm/hugepages/") + dir + "/free_hugepages");
    uint64_t n = 0;
    if (f >> n) total += n * size;
  }
  return total;
}

bool hugetlbfs_mounted() {
  std::ifstream m("/proc/mounts");
  std::string line;
  while (std::getline(m, line))
    if (line.find(" hugetlbfs ") != std::string::npos) return true;
  return false;
}

// Removes the EAL runtime directory (/var/run/dpdk/<prefix>) we leave: the
// telemetry socket is unlinked only by an atexit handler, after main, so we
// unlink our own socket first. The directory goes only when nothing else is
// in it (another process of the same prefix keeps it).
void remove_runtime_dir(const std::string& dir) {
  if (dir.empty()) return;
  std::string sock = dir + "/dpdk_telemetry.v2";
  struct stat st {};
  if (lstat(sock.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(sock.c_str());
  rmdir(dir.c_str());
}

}  // namespace

std::vector<std::string> eal_args_with_memory_fallback(std::vector<std::string> args, const char* prog) {
  if (has_arg(args, {"--no-huge", "--in-memory", "--legacy-mem"})) return args;
  if (free_hugepage_bytes() >= (uint64_t{256} << 20) && hugetlbfs_mounted()) {
    args.emplace_back("--in-memory");
    return args;
  }
  bool sized = has_arg(args, {"-m", "--socket-mem"});
  std::fprintf(stderr,
               "%s: warning: fewer than 256 MB of free hugepages (or no hugetlbfs mount): "
               "running with --no-huge%s --no-shconf\n",
               prog, sized ? "" : " -m 512");
  args.emplace_back("--no-huge");
  if (!sized) {
    args.emplace_back("-m");
    args.emplace_back("512");
  }
  args.emplace_back("--no-shconf");
  return args;
}

int eal_init(const std::vector<std::string>& args) {
  // rte_eal_init may permute argv and keep pointers into it: both the
  // strings and the array live until the process ends.
  static std::vector<std::string> strings;
  static std::vector<char*> argv;
  strings = args;
  argv.clear();
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  return rte_eal_init(static_cast<int>(argv.size() - 1), argv.data());
}

void eal_cleanup() {
  std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  remove_runtime_dir(runtime_dir);
}

}  // namespace dpdkstack
