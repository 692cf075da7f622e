#include "services/iperf3.hpp"

namespace dpdkstack {

Status start_iperf3_service(Stack&, uint16_t, const TcpConfig&) {
  return Error{"the iperf3 service is not built yet"};
}

}  // namespace dpdkstack
