// Starting and stopping DPDK's EAL the way dpdk-stack does, for any
// application of the library.
//
// Contract:
// - eal_args_with_memory_fallback() returns `args` (the EAL arguments,
//   args[0] the program name) with memory options added when the caller
//   gave none of --no-huge, --in-memory, --legacy-mem: --in-memory when
//   256 MB of hugepages are free and hugetlbfs is mounted (nothing is left
//   in /dev/hugepages), otherwise --no-huge [-m 512] --no-shconf with a
//   warning on stderr prefixed by `prog` (the process runs, slower, without
//   hugepages; -m/--socket-mem given by the caller are kept).
// - eal_init() calls rte_eal_init with `args` and keeps the strings alive
//   for the life of the process (DPDK may keep pointers into argv); it
//   returns rte_eal_init's result (< 0 on failure, rte_errno set).
// - eal_cleanup() calls rte_eal_cleanup and removes the runtime directory
//   (/var/run/dpdk/<file-prefix>) when nothing else is in it. Call it last,
//   after Stack::shutdown and after the Stack is destroyed.
#pragma once

#include <string>
#include <vector>

namespace dpdkstack {

std::vector<std::string> eal_args_with_memory_fallback(std::vector<std::string> args, const char* prog);
int eal_init(const std::vector<std::string>& args);
void eal_cleanup();

}  // namespace dpdkstack
