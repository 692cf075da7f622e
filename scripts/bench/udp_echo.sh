#!/usr/bin/env bash
# UDP echo benchmark: datagrams per second echoed (RFC 862, port 7) for 64- and 1400-byte
# UDP payloads, by four responders on the same kind of link in one run:
#   kernel   Linux answering on a veth: a recvmmsg/sendmmsg echo server (udp_echo_server.c,
#            compiled here with cc) pinned to CPU 1, the receive softirq on CPU 1 (RPS)
#   kernel_norps  the same without RPS: the receive softirq (IP and UDP input up to the
#            socket) runs on CPU 0 in the generator's transmit, only the server on CPU 1;
#            the kernel's best case here (half its echo work is off the responder's core)
#   stack    dpdk-stack with "services": {"udp_echo": {"enabled": true, "port": 7}} on
#            net_af_packet on the same veth end, -l 1
#   testpmd  dpdk-testpmd --forward-mode=macswap on net_af_packet on the same veth end:
#            the ceiling (sends every frame back with the MACs swapped; no IP or UDP work)
# See docs/PERFORMANCE.md for the method and the latest results.
#
#   namespace gen                                namespace rsp
#   veth-gen (no address)        <---->          veth-rsp [10.0.0.1]  responder
#   generator on CPU 0; the replies'             receive work (kernel: RPS) and
#   receive work (RPS) on CPU 0                  responder on CPU 1
#   ([10.0.0.1] only for the kernel responder; the DPDK responders own veth-rsp through
#   net_af_packet, run inside rsp with `ip netns exec`, and dpdk-stack holds 10.0.0.1
#   itself.)
#
# Generator: dpdk-testpmd --forward-mode=txonly on net_af_packet on veth-gen, on CPU 0:
# one UDP flow 10.0.0.2:GEN_PORT -> 10.0.0.1:7, UDP checksum 0 (none), destination MAC =
# veth-rsp's MAC (which is also the MAC of the DPDK responders' port).  No ARP is needed:
# Linux in rsp has a permanent neighbour entry 10.0.0.2 -> veth-gen's MAC, dpdk-stack a
# static ARP entry in its config.  txonly never receives: the replies reach veth-gen, are
# counted there (a cross-check) and dropped (veth-gen has no address; its af_packet ring
# is full).  Over a window of DURATION seconds after WARMUP seconds of traffic:
#   echoed  = frames veth-rsp sent (tx_packets): the responder's replies
#   offered = frames veth-gen handed to the link (tx_packets + tx_dropped)
#   returned = frames veth-gen received (rx_packets), the same replies seen at the far end
#
# A dpdk-stack build that rejects the "services" key (before the UDP echo service) is run
# without it on the same port, flagged in the JSON and the table, and measures ~0; a
# responder that does not start at all is recorded as 0; neither stops the run.
#
# usage: scripts/bench/udp_echo.sh     (as root; ~4 minutes with the defaults)
#
# Environment knobs (defaults in brackets):
#   ROUNDS [3]              rounds; each round runs every size x responder once,
#                           interleaved; the report takes the median over rounds
#   SIZES ["64 1400"]       UDP payload bytes (0..1472); the frame is 42 bytes more
#   RESPONDERS ["kernel kernel_norps stack testpmd"]
#   DURATION [5]            seconds of the measured window per run
#   WARMUP [1]              seconds of traffic before the window
#   RPS [auto]              where veth-rsp's receive processing runs.  auto: on CPU 1 (RPS)
#                           for the kernel responder, where it is half the echo work (never
#                           for kernel_norps, whatever RPS says); for
#                           the DPDK responders it stays in the generator's transmit on
#                           CPU 0, where it fills the af_packet ring (the part a NIC does
#                           by DMA).  all: CPU 1 for every responder; none: no RPS (then the
#                           kernel's receive path runs on CPU 0, in the generator's softirq)
#   GEN_RX_RPS [1]          1 steers veth-gen's receive processing (the returning replies,
#                           counted and dropped) to CPU 0, off the responder's core; 0
#                           leaves it inline in the responder's transmit, on CPU 1
#   BATCH [64]              datagrams per recvmmsg/sendmmsg of the kernel's echo server
#   GEN_PORT [5000]         the generator's UDP source port
#   OUT_DIR [bench-results] STACK, TESTPMD binaries [build/apps/dpdk-stack, dpdk-testpmd]
#   CC [cc]                 compiler for udp_echo_server.c
#   KEEP_WORK [0]           1 keeps the raw outputs (work directory) for inspection
#   QUIET_PCT [25]          before each run, wait until cores 0 and 1 are each less than
#   QUIET_WAIT [10]         QUIET_PCT % busy (1 s sample), for at most QUIET_WAIT seconds
#   QUIET_BUDGET [30]       and QUIET_BUDGET seconds in the whole run; runs that had company
#                           on the cores are flagged "contended" and the report prefers
#                           uncontended rounds
#
# Network rule: traffic only inside the two namespaces this script creates; every
# process is bounded by `timeout` and stopped by its PID; the trap removes the
# namespaces (and with them every link), the processes and the EAL runtime directories,
# also on failure or Ctrl-C.
set -euo pipefail

BENCH=udp_echo
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"   # ROOT PY STACK TESTPMD ROUNDS OUT_DIR KEEP_WORK QUIET_PCT, helpers

SIZES=${SIZES:-"64 1400"}
RESPONDERS=${RESPONDERS:-"kernel kernel_norps stack testpmd"}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
RPS=${RPS:-auto}
GEN_RX_RPS=${GEN_RX_RPS:-1}
BATCH=${BATCH:-64}
GEN_PORT=${GEN_PORT:-5000}
CC=${CC:-cc}
QUIET_WAIT=${QUIET_WAIT:-10}
QUIET_BUDGET=${QUIET_BUDGET:-30}
LOG_TAIL_LINES=5

RSP_CORE=1   # the responder (stack engine, testpmd forwarding lcore, echo server + softirq)
GEN_CORE=0   # the traffic generator
GEN_IP=10.0.0.2 RSP_IP=10.0.0.1
ECHO_PORT=7
HDR_BYTES=42   # Ethernet 14 + IPv4 20 + UDP 8
IF_GEN=veth-gen IF_RSP=veth-rsp   # one per namespace: no clashes

bench_begin   # cleanup trap, WORK

[[ $(id -u) == 0 ]] || die "needs root (network namespaces, DPDK af_packet)"
(( $(nproc) >= 2 )) || die "needs 2 cores (generator on core $GEN_CORE, responder on core $RSP_CORE)"
[[ -n $TESTPMD ]] || die "needs dpdk-testpmd (the generator; Debian package dpdk)"
for r in $RESPONDERS; do
  case $r in
    kernel|kernel_norps) command -v "$CC" >/dev/null || die "needs a C compiler ($CC) for the kernel's echo server" ;;
    testpmd) ;;
    stack) [[ -x $STACK ]] || die "no dpdk-stack binary at $STACK (run ninja -C build, or drop stack from RESPONDERS)" ;;
    *) die "unknown responder $r (kernel, kernel_norps, stack, testpmd)" ;;
  esac
done
for s in $SIZES; do
  if ! [[ $s =~ ^[0-9]+$ ]] || (( s > 1472 )); then
    die "UDP payload $s: expected 0..1472 (1500-byte MTU less 28 bytes of IPv4 and UDP headers)"
  fi
done
[[ $RPS == auto || $RPS == all || $RPS == none ]] || die "RPS: auto, all or none"
if ! [[ $BATCH =~ ^[0-9]+$ ]] || (( BATCH < 1 || BATCH > 1024 )); then die "BATCH: 1..1024"; fi

ensure_matplotlib

if [[ " $RESPONDERS " == *" kernel"[\ _]* ]]; then
  "$CC" -O2 -Wall -Wextra -o "$WORK/udp_echo_server" "$HERE/udp_echo_server.c" ||
    die "could not compile $HERE/udp_echo_server.c"
fi

# Topology for one run: namespaces $NS_GEN and $NS_RSP joined by one veth pair.
make_topology() {  # make_topology RESPONDER
  local rsp=$1
  new_ns "$NS_GEN"; new_ns "$NS_RSP"
  ip link add "$IF_GEN" netns "$NS_GEN" type veth peer name "$IF_RSP" netns "$NS_RSP"
  GEN_MAC=$(ns_mac "$NS_GEN" $IF_GEN); RSP_MAC=$(ns_mac "$NS_RSP" $IF_RSP)
  if [[ $rsp == kernel* ]]; then
    ip -n "$NS_RSP" addr add $RSP_IP/24 dev $IF_RSP
    ip -n "$NS_RSP" neigh replace $GEN_IP lladdr "$GEN_MAC" dev $IF_RSP nud permanent
  fi
  # (DPDK responders: no address in rsp, so the kernel there answers nothing and drops its
  # copy of each frame right after the af_packet tap.  gen never has an address: the
  # returning replies are dropped by the kernel there the same way, without ICMP.)
  ip -n "$NS_GEN" link set $IF_GEN up
  ip -n "$NS_RSP" link set $IF_RSP up
  if [[ $rsp != kernel_norps && ( $RPS == all || ( $RPS == auto && $rsp == kernel ) ) ]]; then
    # veth-rsp's receive processing (kernel: IP and UDP input up to the socket; DPDK: the
    # af_packet copy into the PMD's ring) runs on the responder's core, not in the
    # generator's softirq on core 0.
    echo "rps_rsp=cpu$RSP_CORE" >>"$DIR/env.txt"
    ip netns exec "$NS_RSP" sh -c "echo $((1 << RSP_CORE)) > /sys/class/net/$IF_RSP/queues/rx-0/rps_cpus"
  fi
  if [[ $GEN_RX_RPS == 1 ]]; then
    # The returning replies' receive processing on veth-gen runs on the generator's core,
    # so that the responder's core does only the responder's work; without this it would
    # run inline in the responder's transmit, on core 1.
    echo "rps_gen=cpu$GEN_CORE" >>"$DIR/env.txt"
    ip netns exec "$NS_GEN" sh -c "echo $((1 << GEN_CORE)) > /sys/class/net/$IF_GEN/queues/rx-0/rps_cpus"
  fi
}

stack_config() {  # stack_config with|without: the responder's config, with or without the echo service
  local svc=''
  [[ $1 == with ]] && svc=', "services": {"udp_echo": {"enabled": true, "port": '$ECHO_PORT'}}'
  echo '{"ports": [{"address": "'$RSP_IP'/24"}], "arp": {"static": [{"port": 0, "ip": "'$GEN_IP'", "mac": "'"$GEN_MAC"'"}]}'"$svc"', "logging": {"level": "notice"}}'
}

start_stack() {  # start_stack with|without; sets RSP_PID; returns 1 when it did not come up
  stack_config "$1" >"$DIR/stack.json"
  launch RSP_PID "$DIR/rsp.log" '; ready' timeout -s TERM $BOUND ip netns exec "$NS_RSP" "$STACK" \
    -l $RSP_CORE --no-pci --file-prefix "${PREFIX}_r" --vdev=net_af_packet0,iface=$IF_RSP -- \
    -c "$DIR/stack.json" || return 1
  local ok=0
  for _ in $(seq 50); do  # telemetry answers once the stack is registered
    if timeout 3 $PY "$HERE/telemetry_snap.py" "/var/run/dpdk/${PREFIX}_r/dpdk_telemetry.v2" /dev/null probe 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  (( ok )) || log "stack telemetry does not answer; no cycle counts this run"
}

start_responder() {  # start_responder RESPONDER; sets RSP_PID; returns 1 when it did not come up
  local rsp=$1
  RSP_PID=
  case $rsp in
    kernel|kernel_norps)
      launch RSP_PID "$DIR/rsp.log" '^ready' timeout -s TERM $BOUND ip netns exec "$NS_RSP" \
        taskset -c $RSP_CORE "$WORK/udp_echo_server" $ECHO_PORT "$BATCH" || return 1
      ;;
    testpmd)
      # main lcore on the generator core (it only sleeps), forwarding lcore on RSP_CORE
      choose_mem
      testpmd_cmd "$NS_RSP" $GEN_CORE,$RSP_CORE $GEN_CORE "${PREFIX}_r" net_af_packet0,iface=$IF_RSP -- \
        --forward-mode=macswap
      launch RSP_PID "$DIR/rsp.log" 'packet forwarding - ports=' timeout -s TERM $BOUND "${TESTPMD_CMD[@]}" || return 1
      ;;
    stack)
      if start_stack with; then
        echo "stack_config=full" >>"$DIR/env.txt"
        return 0
      fi
      # A build without the UDP echo service rejects the "services" key (exit 2): measure
      # the same setup without it, which must give ~0, so the run still completes.
      if [[ -n $RSP_PID ]]; then stop_pid "$RSP_PID"; fi
      grep -q '\$\.services' "$DIR/rsp.log" 2>/dev/null || return 1
      log "this dpdk-stack rejects \$.services; running it without (same port; expect 0 echoes)"
      mv "$DIR/rsp.log" "$DIR/rsp-rejected.log"
      echo "stack_config=without_services (this build rejects \$.services)" >>"$DIR/env.txt"
      start_stack without
      ;;
  esac
}

start_generator() {  # start_generator PAYLOAD; sets GEN_PID
  local size=$1
  # forwarding lcore (the sender) on GEN_CORE; the main lcore only sleeps on RSP_CORE
  choose_mem
  testpmd_cmd "$NS_GEN" $GEN_CORE,$RSP_CORE $RSP_CORE "${PREFIX}_g" net_af_packet0,iface=$IF_GEN -- \
    --forward-mode=txonly --txpkts=$((size + HDR_BYTES)) --tx-ip=$GEN_IP,$RSP_IP \
    --tx-udp="$GEN_PORT,$ECHO_PORT" --eth-peer=0,"$RSP_MAC"
  launch GEN_PID "$DIR/gen.log" 'packet forwarding - ports=' timeout -s TERM $BOUND "${TESTPMD_CMD[@]}"
}

sample() {  # sample LABEL: link and CPU counters (+ the kernel's UDP MIB, the stack's telemetry)
  local procs=() p
  p=$(child_of "$GEN_PID") && [[ -n $p ]] && procs+=("gen=$p")
  p=$(child_of "$RSP_PID") && [[ -n $p ]] && procs+=("rsp=$p")
  timeout 5 $PY "$HERE/forward_sample.py" "$DIR/samples.jsonl" "$1" \
    "$NS_GEN:$IF_GEN" "$NS_RSP:$IF_RSP" "${procs[@]}" || log "counter sample '$1' failed"
  case $RSP in
    kernel*) { echo "label=$1"; ip netns exec "$NS_RSP" grep '^Udp:' /proc/net/snmp; } >>"$DIR/snmp.txt" 2>&1 || true ;;
    stack) if [[ -n $RSP_PID ]]; then telemetry_snap "${PREFIX}_r" "$1"; fi ;;
  esac
}

run_one() {  # run_one ROUND PAYLOAD RESPONDER
  local r=$1 size=$2; RSP=$3
  DIR=$WORK/r$r/$size/$RSP; mkdir -p "$DIR"
  NS_GEN=bu${TAG}g NS_RSP=bu${TAG}r
  PREFIX=bench_udp_echo_${TAG}_r${r}_${size}_$RSP
  BOUND=$((DURATION + WARMUP + 60))   # hard limit on every process of this run
  RSP_PID='' GEN_PID=''
  if (( QUIET_SPENT < QUIET_BUDGET )); then wait_quiet_cores || true; else B0=na B1=na; fi
  log "round $r/$ROUNDS: $size-byte payloads, $RSP (cores busy before: ${B0}% ${B1}%)"
  make_topology "$RSP"
  {
    echo "status=ok"
    echo "rps_mode=$RPS"
    echo "gen_mac=$GEN_MAC"
    echo "rsp_mac=$RSP_MAC"
    echo "frame_bytes=$((size + HDR_BYTES))"
    echo "foreign_dpdk_before=$(foreign_dpdk)"
    echo "core0_busy_pct_before=$B0"
    echo "core1_busy_pct_before=$B1"
    echo "quiet_pct=$QUIET_PCT"
  } >>"$DIR/env.txt"
  if ! start_responder "$RSP"; then
    echo "status=responder_failed" >>"$DIR/env.txt"
    log "$RSP did not start (0 recorded; log kept in the JSON)"
    if [[ -n $RSP_PID ]]; then stop_pid "$RSP_PID"; fi
    del_all_ns
    return 0
  fi
  if start_generator "$size"; then
    sleep "$WARMUP"
    sample start
    sleep "$DURATION"
    sample end
  else
    echo "status=generator_failed" >>"$DIR/env.txt"
    log "generator did not start"
  fi
  if [[ -n $GEN_PID ]]; then stop_pid "$GEN_PID"; fi
  if [[ -n $RSP_PID ]]; then stop_pid "$RSP_PID"; fi
  echo "foreign_dpdk_after=$(foreign_dpdk)" >>"$DIR/env.txt"
  del_all_ns
}

log "work dir $WORK; responders: $RESPONDERS; payloads: $SIZES; rounds: $ROUNDS; ${DURATION}s windows"
{
  meta_host
  echo "netdev_max_backlog=$(sysctl -n net.core.netdev_max_backlog)"
  echo "rmem_default=$(sysctl -n net.core.rmem_default)"
  echo "free_hugepages_2m=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)"
  echo "duration_s=$DURATION"
  echo "warmup_s=$WARMUP"
  echo "rps=$RPS"
  echo "gen_rx_rps=$GEN_RX_RPS"
  echo "batch=$BATCH"
  echo "sizes=$SIZES"
  echo "responders=$RESPONDERS"
  meta_stack
  GEN_MAC='<veth-gen MAC>' ; echo "stack_config=$(stack_config with)"
  meta_dpdk
  echo "command=$0 ROUNDS=$ROUNDS SIZES=\"$SIZES\" RESPONDERS=\"$RESPONDERS\" DURATION=$DURATION WARMUP=$WARMUP RPS=$RPS GEN_RX_RPS=$GEN_RX_RPS BATCH=$BATCH"
} >"$WORK/meta.env"

START=$SECONDS
for r in $(seq "$ROUNDS"); do
  for s in $SIZES; do
    for x in $RESPONDERS; do run_one "$r" "$s" "$x"; done
  done
done
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/meta.env"
echo "wall_s=$((SECONDS - START))" >>"$WORK/meta.env"

report
