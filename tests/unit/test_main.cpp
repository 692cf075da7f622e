// GoogleTest entry point. Unit tests need no EAL: wire views, the ARP cache
// and the config parser are DPDK-free by design (rte_raw_cksum is inline).
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
