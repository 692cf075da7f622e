#!/usr/bin/env bash
# ICMP echo and ARP benchmark: dpdk-stack against the Linux kernel (and dpdk-testpmd
# icmpecho as the bare-DPDK ceiling) on the same kinds of virtual link, side by side,
# in one run.  See docs/PERFORMANCE.md for the method and the latest results.
#
# usage: scripts/bench/icmp_arp.sh     (as root; ~2 minutes on a quiet machine, at most
#                                     ~3.5 with the default waits for quiet cores)
#
# Environment knobs (defaults in brackets):
#   ROUNDS [3]            rounds; every round runs every target once, interleaved, and
#                         the report takes the median over rounds
#   TARGETS [all]         subset of: stack_tap testpmd_tap kernel_veth_core1 kernel_veth
#                         stack_afpacket testpmd_afpacket
#   PING_LAT_N [1000]     ping -i 0.002 count (latency)
#   PING_FLOOD_N [20000]  ping -f count (rate), also used with -l 32
#   ARPING_N [500]        arping -W 0.002 count (ARP latency)
#   ARP_LAT_N [5000]      raw-socket ARP, 1 request in flight (ARP latency + rate)
#   ARP_RATE_N [20000]    raw-socket ARP, 32 requests in flight (ARP rate)
#   OUT_DIR [bench-results]  where the JSON and PNG go
#   STACK, TESTPMD        binaries [build/apps/dpdk-stack, dpdk-testpmd from PATH]
#   KEEP_WORK [0]         1 keeps the raw outputs (work directory) for inspection
#   QUIET_PCT [25]        before each target, wait until cores 0 and 1 are each less than
#   QUIET_WAIT [30]       QUIET_PCT % busy (1 s sample), for at most QUIET_WAIT seconds
#   QUIET_BUDGET [90]     and at most QUIET_BUDGET seconds of such waiting in the whole run;
#                         the machine is shared, so a run that did not get quiet cores is
#                         flagged "contended" and the report prefers uncontended runs
#
# Network rule: traffic only goes to 10.0.0.0/24 inside namespaces this script
# creates; every command is bounded by a count, a deadline and `timeout`; the trap
# removes namespaces, links and processes also on failure or Ctrl-C.
set -euo pipefail

BENCH=icmp_arp
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"   # ROOT PY STACK TESTPMD ROUNDS OUT_DIR KEEP_WORK QUIET_PCT, helpers

TARGETS=${TARGETS:-"stack_tap testpmd_tap kernel_veth_core1 kernel_veth stack_afpacket testpmd_afpacket"}
PING_LAT_N=${PING_LAT_N:-1000}
PING_FLOOD_N=${PING_FLOOD_N:-20000}
PRELOAD=32
ARPING_N=${ARPING_N:-500}
ARP_LAT_N=${ARP_LAT_N:-5000}
ARP_RATE_N=${ARP_RATE_N:-20000}
ARP_WINDOW=32
QUIET_WAIT=${QUIET_WAIT:-30}
QUIET_BUDGET=${QUIET_BUDGET:-90}

STACK_CORE=1   # the stack's (or testpmd's forwarding, or the kernel peer's RPS) core
CLIENT_CORE=0  # ping, arping and arp_probe.py
SERVER_IP=10.0.0.1
CLIENT_IP=10.0.0.2

bench_begin   # cleanup trap, WORK

[[ $(id -u) == 0 ]] || die "needs root (network namespaces, raw sockets, ping -f)"
[[ -x $STACK ]] || die "no dpdk-stack binary at $STACK (run ninja -C build)"
(( $(nproc) >= 2 )) || die "needs 2 cores (client on core $CLIENT_CORE, stack on core $STACK_CORE)"
for t in $TARGETS; do
  if [[ $t == testpmd_* && -z $TESTPMD ]]; then die "target $t needs dpdk-testpmd (or drop it from TARGETS)"; fi
done

ensure_matplotlib

# --- memory for the DPDK processes ---------------------------------------------------------
# Hugepages if at least 64 MB are free (both processes allocate dynamically and need
# ~30 MB); otherwise anonymous memory.  The same choice for dpdk-stack and testpmd.
choose_mem
log "memory: $MEM_MODE"

echo '{"ports":[{"address":"'$SERVER_IP'/24"}]}' > "$WORK/stack.json"

# Starts the server for a DPDK target in namespace $NS; sets SRV_PID and SRV_KIND.
start_dpdk() {  # start_dpdk KIND(stack|testpmd) VDEV PREFIX LOGFILE
  local kind=$1 vdev=$2 prefix=$3 logf=$4
  if [[ $kind == stack ]]; then
    launch SRV_PID "$logf" '; ready' ip netns exec "$NS" "$STACK" -l $STACK_CORE --no-pci "${MEM_ARGS[@]}" \
      --file-prefix "$prefix" --vdev="$vdev" -- -c "$WORK/stack.json"
  else
    # main lcore on the client core (it only sleeps), forwarding lcore on the stack core
    testpmd_cmd "$NS" $CLIENT_CORE,$STACK_CORE $CLIENT_CORE "$prefix" "$vdev" -- --forward-mode=icmpecho
    launch SRV_PID "$logf" 'packet forwarding - ports=' "${TESTPMD_CMD[@]}"
  fi
}

wait_quiet() {  # bounded wait for quiet cores; writes DIR/env.txt
  wait_quiet_cores ||
    log "cores still busy (core0 ${B0}%, core1 ${B1}%) after ${QUIET_WAITED}s; running anyway (flagged)"
  {
    echo "core0_busy_pct_before=$B0"
    echo "core1_busy_pct_before=$B1"
    echo "quiet_wait_s=$QUIET_WAITED"
    echo "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  } >>"$DIR/env.txt"
}

foreign_dpdk() {  # DPDK pollers on this machine that are not ours (only listed, never touched)
  local p out=()
  for p in $(pgrep -x dpdk-stack; pgrep -x dpdk-testpmd); do
    [[ $p == "${SRV_PID:-}" ]] || out+=("$p")
  done
  echo "${out[*]:-}"
}

proc_sched() {  # "ns on CPU" "ns waiting on a run queue", summed over a PID's threads
  [[ -n $1 ]] || { echo "0 0"; return; }
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ c += $1; w += $2 } END { printf "%.0f %.0f\n", c, w }'  # not %d: mawk caps it at 2^31
}

psi_cpu_some_us() {  # cumulative µs in which some task waited for a CPU (0 without PSI)
  awk '/^some/ { sub("total=", "", $5); print $5; f = 1 } END { if (!f) print 0 }' /proc/pressure/cpu 2>/dev/null || echo 0
}

snap() {  # telemetry snapshot of the running dpdk-stack (no-op for other targets)
  [[ $SRV_KIND == stack ]] || return 0
  telemetry_snap "$PREFIX" "$1"
}

client() { timeout "$1" ip netns exec "$NS" taskset -c $CLIENT_CORE "${@:2}"; }

run_client_suite() {  # the same client tools, in the same order, against every target
  local ok=0
  for _ in $(seq 20); do  # link and neighbour warm-up, bounded
    if client 3 ping -c 1 -W 1 -q $SERVER_IP >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.25
  done
  (( ok )) || { log "$TARGET: $SERVER_IP does not answer; skipping"; return 1; }
  client 20 ping -q -f -c 2000 -w 10 $SERVER_IP >/dev/null 2>&1 || true   # warm caches
  snap start
  client 60 ping -c "$PING_LAT_N" -i 0.002 -w 50 $SERVER_IP >"$DIR/ping_lat.txt" 2>&1 || true
  snap ping_lat
  client 60 ping -q -f -c "$PING_FLOOD_N" -w 50 $SERVER_IP >"$DIR/ping_flood.txt" 2>&1 || true
  snap ping_flood
  client 60 ping -q -f -l $PRELOAD -c "$PING_FLOOD_N" -w 50 $SERVER_IP >"$DIR/ping_flood_l$PRELOAD.txt" 2>&1 || true
  snap ping_flood_l$PRELOAD
  client 60 arping -c "$ARPING_N" -W 0.002 -w 50 -i "$IFACE" $SERVER_IP >"$DIR/arping.txt" 2>&1 || true
  snap arping
  client 60 $PY "$HERE/arp_probe.py" "$IFACE" $CLIENT_IP $SERVER_IP "$ARP_LAT_N" 1 40 >"$DIR/arp_w1.json" 2>"$DIR/arp_w1.err" || true
  snap arp_w1
  client 60 $PY "$HERE/arp_probe.py" "$IFACE" $CLIENT_IP $SERVER_IP "$ARP_RATE_N" $ARP_WINDOW 40 >"$DIR/arp_w$ARP_WINDOW.json" 2>"$DIR/arp_w$ARP_WINDOW.err" || true
  snap arp_w$ARP_WINDOW
  ip -n "$NS" -s link show "$IFACE" >"$DIR/client_link_stats.txt" 2>&1 || true
}

abandon_target() {  # the server did not come up: record it and move on
  log "$TARGET: server did not start (log kept in the JSON); skipping this round"
  if [[ -n $SRV_PID ]]; then stop_pid "$SRV_PID"; fi
  del_ns "$NS"
}

run_target() {  # run_target TARGET ROUND
  TARGET=$1; local r=$2
  DIR=$WORK/r$r/$TARGET; mkdir -p "$DIR"
  NS=bq${TAG}r${r}c; PREFIX=bench_icmp_arp_${TAG}_r${r}_$TARGET
  SRV_KIND=none; SRV_PID=
  local peer=bq${TAG}r${r}p
  wait_quiet
  log "round $r/$ROUNDS: $TARGET (core0 ${B0}% core1 ${B1}% busy before)"
  new_ns "$NS"
  case $TARGET in
    stack_tap|testpmd_tap)
      SRV_KIND=${TARGET%_tap}; IFACE=bqt$TAG
      start_dpdk "$SRV_KIND" "net_tap0,iface=$IFACE" "$PREFIX" "$DIR/server.log" || { abandon_target; return 0; }
      ip -n "$NS" addr add $CLIENT_IP/24 dev "$IFACE"
      ip -n "$NS" link set "$IFACE" up
      ;;
    stack_afpacket|testpmd_afpacket)
      # veth pair inside one namespace: the kernel end is the client, the DPDK process
      # opens an AF_PACKET socket on the other end
      SRV_KIND=${TARGET%_afpacket}; IFACE=bqa$TAG; local dev=bqb$TAG
      ip -n "$NS" link add "$IFACE" type veth peer name "$dev"
      ip -n "$NS" addr add $CLIENT_IP/24 dev "$IFACE"
      ip -n "$NS" link set "$dev" up
      ip -n "$NS" link set "$IFACE" up
      start_dpdk "$SRV_KIND" "net_af_packet0,iface=$dev" "$PREFIX" "$DIR/server.log" || { abandon_target; return 0; }
      ;;
    kernel_veth|kernel_veth_core1)
      # the kernel holds 10.0.0.1 in a peer namespace across a veth pair
      IFACE=bqv$TAG; local dev=bqw$TAG
      new_ns "$peer"
      ip link add "$IFACE" netns "$NS" type veth peer name "$dev" netns "$peer"
      ip -n "$NS" addr add $CLIENT_IP/24 dev "$IFACE"
      ip -n "$peer" addr add $SERVER_IP/24 dev "$dev"
      ip -n "$peer" link set "$dev" up
      ip -n "$NS" link set "$IFACE" up
      if [[ $TARGET == kernel_veth_core1 ]]; then
        # RPS: the peer's receive processing (and so its reply) runs on the stack core,
        # as for the DPDK targets; without it, it runs in the sender's softirq on core 0
        ip netns exec "$peer" sh -c "echo $((1 << STACK_CORE)) > /sys/class/net/$dev/queues/rx-0/rps_cpus"
      fi
      ;;
    *) die "unknown target $TARGET" ;;
  esac
  echo "foreign_dpdk_before=$(foreign_dpdk)" >>"$DIR/env.txt"
  local t0 c0 w0 p0 t1 c1 w1 p1
  t0=$(date +%s%N); p0=$(psi_cpu_some_us); read -r c0 w0 <<<"$(proc_sched "${SRV_PID:-}")"
  run_client_suite || true
  t1=$(date +%s%N); p1=$(psi_cpu_some_us); read -r c1 w1 <<<"$(proc_sched "${SRV_PID:-}")"
  {
    echo "foreign_dpdk_after=$(foreign_dpdk)"
    echo "suite_wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
    # share of the suite's wall time in which some runnable task waited for a CPU
    # (PSI); with the machine to ourselves this stays near 0
    echo "cpu_pressure_share=$(awk -v p="$((p1 - p0))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", p * 1e3 / (b - a) }')"
    if [[ -n $SRV_PID ]]; then
      # a busy-polling server alone on its core runs ~all the time and never waits
      echo "server_oncpu_share=$(awk -v c="$((c1 - c0))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", c / (b - a) }')"
      echo "server_runq_wait_share=$(awk -v w="$((w1 - w0))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", w / (b - a) }')"
    fi
  } >>"$DIR/env.txt"
  if [[ -n $SRV_PID ]]; then stop_pid "$SRV_PID"; fi
  if [[ $TARGET == kernel_veth* ]]; then del_ns "$peer"; fi
  del_ns "$NS"
}

log "work dir $WORK; targets: $TARGETS; rounds: $ROUNDS"
{
  meta_host
  echo "mem_mode=$MEM_MODE"
  echo "quiet_pct=$QUIET_PCT"
  meta_stack
  meta_dpdk
  echo "command=$0 ROUNDS=$ROUNDS TARGETS=\"$TARGETS\" PING_LAT_N=$PING_LAT_N PING_FLOOD_N=$PING_FLOOD_N ARPING_N=$ARPING_N ARP_LAT_N=$ARP_LAT_N ARP_RATE_N=$ARP_RATE_N"
} >"$WORK/meta.env"

START=$SECONDS
for r in $(seq "$ROUNDS"); do
  for t in $TARGETS; do run_target "$t" "$r"; done
done
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/meta.env"
echo "duration_s=$((SECONDS - START))" >>"$WORK/meta.env"

report
