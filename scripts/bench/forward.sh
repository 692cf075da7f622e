#!/usr/bin/env bash
# IPv4 forwarding benchmark: packets per second forwarded between two ports, for 64- and
# 1500-byte frames, by three forwarders over the same kind of link in one run:
#   kernel   Linux (ip_forward=1) in a router namespace between two veth pairs
#   testpmd  dpdk-testpmd --forward-mode=io on net_af_packet on the same veths (the
#            ceiling: moves frames between the ports and does no IP work at all)
#   stack    dpdk-stack with "ip": {"forwarding": true} on net_af_packet on the same veths
# See docs/PERFORMANCE.md for the method.
#
#   namespace src            namespace rtr                      namespace dst
#   veth-src 10.0.0.2 <-> veth-fa [10.0.0.1]  forwarder  veth-fb [10.1.1.1] <-> veth-dst 10.1.1.2
#   generator, CPU 0        receive work (RPS) and forwarder, CPU 1       counted, dropped: CPU 0
#   ([addresses] only for the kernel forwarder; the DPDK forwarders own the veth-f* ends
#   through net_af_packet, run inside rtr with `ip netns exec`, and dpdk-stack holds
#   10.0.0.1 and 10.1.1.1 itself.)
#
# With RULES set (filter table benchmark, issue 5), every measurement is repeated with N
# filter rules on the forwarding path, for each N in RULES, on both sides:
#   stack    N rules on the "forward" hook in its config ("filters": {"rules": [...]})
#   kernel   N nftables rules in `table inet f { chain fwd_rules { type filter hook forward
#            priority 0; policy accept; ... } }`, loaded with `nft -f` in rtr
# Rules 1..N-1 never match the benchmark's flow (UDP from the /32 sources 172.16.0.1,
# 172.16.0.2, ..., any port 1-65535: drop); rule N accepts it (UDP 10.0.0.2 -> 10.1.1.2
# port 9) and counts it (the stack counts every rule's packets; nft gets `counter` on
# that rule, so that both count what they accept).  So every packet goes through the
# whole table before it is decided: a linear walk of N rules in nftables, one rte_acl
# search in the stack.  N = 0 is the plain forwarding benchmark (no table at all, no
# nft chain).  testpmd (no filter) runs only for N = 0.
#
# A dpdk-stack build that rejects the "ip" key (before IPv4 forwarding) is run without it
# on the same ports, flagged in the JSON and the table, and measures ~0 pps; a forwarder
# that does not start at all is recorded as 0 pps; neither stops the run.
#
# Generator: dpdk-testpmd --forward-mode=txonly on net_af_packet on veth-src, on CPU 0,
# one UDP flow 10.0.0.2:9 -> 10.1.1.2:9, destination MAC = veth-fa's MAC (which is also
# the MAC of the DPDK forwarders' port 0).  Frame size = the Ethernet frame without FCS
# as the link carries it (64 -> IPv4 total length 50; 1500 -> IPv4 total length 1486,
# under the 1500 MTU).  Offered = frames veth-src handed to the link (tx_packets +
# tx_dropped); forwarded = frames veth-dst received (rx_packets), both over a window of
# DURATION seconds after WARMUP seconds of traffic.  dst drops the UDP datagrams with a
# policy-routing blackhole rule (no ICMP back, no socket), after the count.
#
# usage: scripts/bench/forward.sh     (as root; ~4 minutes with the defaults)
#
# Environment knobs (defaults in brackets):
#   ROUNDS [3]              rounds; each round runs every size x forwarder once,
#                           interleaved; the report takes the median over rounds
#   SIZES ["64 1500"]       frame sizes in bytes, without FCS (42..1514)
#   FORWARDERS ["kernel testpmd stack"]
#   DURATION [8]            seconds of the measured window per run
#   WARMUP [1]              seconds of traffic before the window (ARP, rings)
#   RPS [auto]              where veth-fa's receive processing runs.  auto: on CPU 1 (RPS)
#                           for the kernel forwarder, where it IS the forwarding; for the
#                           DPDK forwarders it stays in the generator's transmit on CPU 0,
#                           where it fills the af_packet ring (the part a NIC does by DMA).
#                           all: RPS to CPU 1 for every forwarder (the DPDK pollers then
#                           share their core with the kernel's receive softirq, which
#                           under overload starves them: receive livelock); none: no RPS
#                           (then the kernel forwards on CPU 0, in the generator's softirq)
#   SINK_RPS [1]            1 steers veth-dst's receive processing (the sink) to CPU 0, off the
#                           forwarder's core; 0 leaves it inline in the forwarder's transmit
#   TESTPMD_MODE [io]       io or mac for the testpmd forwarder
#   RULES [""]              filter rule counts, e.g. "0 1 100 1000 10000" (0..65536); empty:
#                           no filter table (the plain forwarding benchmark)
#   NFT_SET [0]             1: the kernel gets the N-1 non-matching sources as one nftables
#                           set (`ip saddr @blocked ... drop`, a hash lookup) instead of
#                           N-1 rules; the stack's table is the same either way
#   OUT_DIR [bench-results] STACK, TESTPMD binaries [build/apps/dpdk-stack, dpdk-testpmd]
#   KEEP_WORK [0]           1 keeps the raw outputs (work directory) for inspection
#   QUIET_PCT [25]          before each run, wait until cores 0 and 1 are each less than
#   QUIET_WAIT [10]         QUIET_PCT % busy (1 s sample), for at most QUIET_WAIT seconds
#   QUIET_BUDGET [20]       and QUIET_BUDGET seconds in the whole run; the machine is shared,
#                           so runs that had company on the cores are flagged "contended"
#                           and the report prefers uncontended rounds
#
# Network rule: traffic only inside the three namespaces this script creates; every
# process is bounded by `timeout` and stopped by its PID; the trap removes the
# namespaces (and with them every link), the processes and the EAL runtime directories,
# also on failure or Ctrl-C.
set -euo pipefail

BENCH=forward
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"   # ROOT PY STACK TESTPMD ROUNDS OUT_DIR KEEP_WORK QUIET_PCT, helpers

SIZES=${SIZES:-"64 1500"}
FORWARDERS=${FORWARDERS:-"kernel testpmd stack"}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-1}
RPS=${RPS:-auto}
SINK_RPS=${SINK_RPS:-1}
TESTPMD_MODE=${TESTPMD_MODE:-io}
RULES=${RULES:-}
NFT_SET=${NFT_SET:-0}
QUIET_WAIT=${QUIET_WAIT:-10}
QUIET_BUDGET=${QUIET_BUDGET:-20}
LOG_TAIL_LINES=5

FWD_CORE=1   # the forwarder (stack engine, testpmd forwarding lcore, kernel softirq via RPS)
GEN_CORE=0   # the traffic generator
SRC_IP=10.0.0.2 FWD_A_IP=10.0.0.1 FWD_B_IP=10.1.1.1 DST_IP=10.1.1.2
UDP_PORT=9
IF_SRC=veth-src IF_FA=veth-fa IF_FB=veth-fb IF_DST=veth-dst   # one per namespace: no clashes

bench_begin   # cleanup trap, WORK

[[ $(id -u) == 0 ]] || die "needs root (network namespaces, DPDK af_packet)"
(( $(nproc) >= 2 )) || die "needs 2 cores (generator on core $GEN_CORE, forwarder on core $FWD_CORE)"
[[ -n $TESTPMD ]] || die "needs dpdk-testpmd (the generator; Debian package dpdk)"
for f in $FORWARDERS; do
  case $f in
    kernel|testpmd) ;;
    stack) [[ -x $STACK ]] || die "no dpdk-stack binary at $STACK (run ninja -C build, or drop stack from FORWARDERS)" ;;
    *) die "unknown forwarder $f (kernel, testpmd, stack)" ;;
  esac
done
for s in $SIZES; do
  if ! [[ $s =~ ^[0-9]+$ ]] || (( s < 42 || s > 1514 )); then
    die "frame size $s: expected 42..1514 (headers 42, MTU 1500 + 14)"
  fi
done
[[ $TESTPMD_MODE == io || $TESTPMD_MODE == mac ]] || die "TESTPMD_MODE: io or mac"
[[ $RPS == auto || $RPS == all || $RPS == none ]] || die "RPS: auto, all or none"
[[ $NFT_SET == 0 || $NFT_SET == 1 ]] || die "NFT_SET: 0 or 1"
for n in $RULES; do
  if ! [[ $n =~ ^[0-9]+$ ]] || (( n > 65536 )); then die "RULES: rule counts 0..65536, got $n"; fi
done
if [[ -n $RULES && " $FORWARDERS " == *" kernel "* ]]; then
  command -v nft >/dev/null || die "RULES needs nft for the kernel forwarder (Debian package nftables; scripts/setup installs it)"
fi

ensure_matplotlib

# Topology for one run: namespaces $NS_SRC, $NS_RTR, $NS_DST and two veth pairs.
make_topology() {  # make_topology FORWARDER
  local fwd=$1
  new_ns "$NS_SRC"; new_ns "$NS_RTR"; new_ns "$NS_DST"
  ip link add "$IF_SRC" netns "$NS_SRC" type veth peer name "$IF_FA" netns "$NS_RTR"
  ip link add "$IF_DST" netns "$NS_DST" type veth peer name "$IF_FB" netns "$NS_RTR"
  ip -n "$NS_SRC" addr add $SRC_IP/24 dev $IF_SRC
  ip -n "$NS_DST" addr add $DST_IP/24 dev $IF_DST
  if [[ $fwd == kernel ]]; then
    ip -n "$NS_RTR" addr add $FWD_A_IP/24 dev $IF_FA
    ip -n "$NS_RTR" addr add $FWD_B_IP/24 dev $IF_FB
    ip netns exec "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1
  fi
  # (DPDK forwarders: no addresses and ip_forward=0 in rtr, so the kernel there answers
  # nothing and drops its copy of each frame right after the af_packet tap.)
  local n; for n in "$NS_SRC:$IF_SRC" "$NS_RTR:$IF_FA" "$NS_RTR:$IF_FB" "$NS_DST:$IF_DST"; do
    ip -n "${n%%:*}" link set "${n#*:}" up
  done
  ip -n "$NS_SRC" route add 10.1.1.0/24 via $FWD_A_IP
  ip -n "$NS_DST" route add 10.0.0.0/24 via $FWD_B_IP
  if [[ $RPS == all || ( $RPS == auto && $fwd == kernel ) ]]; then
    # The receive processing of veth-fa (kernel: the whole forwarding path and the
    # transmit into veth-dst; DPDK: the af_packet copy into the PMD's ring) runs on the
    # forwarder's core, not in the generator's softirq on core 0.
    echo "rps_fa=cpu$FWD_CORE" >>"$DIR/env.txt"
    ip netns exec "$NS_RTR" sh -c "echo $((1 << FWD_CORE)) > /sys/class/net/$IF_FA/queues/rx-0/rps_cpus"
  fi
  if [[ $SINK_RPS == 1 ]]; then
    echo "rps_dst=cpu$GEN_CORE" >>"$DIR/env.txt"
    # The sink's receive processing (veth-dst: count, then the blackhole below) runs on the
    # generator's core, so that the forwarder's core does only the forwarder's work; without
    # this it would run inline in the forwarder's transmit, on core 1.
    ip netns exec "$NS_DST" sh -c "echo $((1 << GEN_CORE)) > /sys/class/net/$IF_DST/queues/rx-0/rps_cpus"
  fi
  # dst: drop the test datagrams cheaply once counted: a policy rule ahead of the local
  # table sends UDP to port 9 arriving on veth-dst to a blackhole (no socket lookup, no
  # ICMP port unreachable).  ARP and ping still work.
  ip -n "$NS_DST" rule add pref 10 iif $IF_DST ipproto udp dport $UDP_PORT blackhole
  ip -n "$NS_DST" rule del pref 0 lookup local
  ip -n "$NS_DST" rule add pref 100 lookup local
}

start_forwarder() {  # sets FWD_PID; returns 1 when the forwarder did not come up
  local fwd=$1 logf=$DIR/fwd.log
  FWD_PID=
  case $fwd in
    kernel)
      (( NRULES > 0 )) || return 0
      local t0=$SECONDS   # the nftables ruleset of RULES, in rtr (gone with the namespace)
      if ! timeout 300 ip netns exec "$NS_RTR" nft -f "$WORK/rules-$NRULES.nft" >"$logf" 2>&1; then
        log "nft -f failed:"; head -"$LOG_TAIL_LINES" "$logf" >&3; return 1
      fi
      echo "nft_load_s=$((SECONDS - t0))" >>"$DIR/env.txt"
      ;;
    testpmd)
      # main lcore on the generator core (it only sleeps), forwarding lcore on FWD_CORE;
      # testpmd's memory is chosen anew for each start (dpdk-stack chooses its own:
      # --in-memory with >= 256 MB free)
      choose_mem
      testpmd_cmd "$NS_RTR" $GEN_CORE,$FWD_CORE $GEN_CORE "${PREFIX}_f" \
        net_af_packet0,iface=$IF_FA net_af_packet1,iface=$IF_FB -- \
        --forward-mode="$TESTPMD_MODE" --eth-peer=0,"$SRC_MAC" --eth-peer=1,"$DST_MAC"
      launch FWD_PID "$logf" 'packet forwarding - ports=' timeout -s TERM $BOUND "${TESTPMD_CMD[@]}" || return 1
      ;;
    stack)
      if (( NRULES > 0 )); then  # the config with "filters" added at its end
        { printf '%s, "filters": {"rules": [' "${STACK_CFG%\}}"; cat "$WORK/rules-$NRULES.json"; echo ']}}'; } >"$DIR/stack.json"
      else
        echo "$STACK_CFG" >"$DIR/stack.json"
      fi
      launch FWD_PID "$logf" '; ready' timeout -s TERM $BOUND ip netns exec "$NS_RTR" "$STACK" \
        -l $GEN_CORE,$FWD_CORE --no-pci --file-prefix "${PREFIX}_f" \
        --vdev=net_af_packet0,iface=$IF_FA --vdev=net_af_packet1,iface=$IF_FB -- -c "$DIR/stack.json" || return 1
      local ok=0
      for _ in $(seq 50); do  # telemetry answers once the stack is registered
        if timeout 3 $PY "$HERE/telemetry_snap.py" "/var/run/dpdk/${PREFIX}_f/dpdk_telemetry.v2" /dev/null probe 2>/dev/null; then ok=1; break; fi
        sleep 0.1
      done
      (( ok )) || log "stack telemetry does not answer; no cycle counts this run"
      ;;
  esac
}

start_generator() {  # start_generator SIZE; sets GEN_PID
  local size=$1 logf=$DIR/gen.log
  # forwarding lcore (the sender) on GEN_CORE; the main lcore only sleeps on FWD_CORE
  choose_mem
  testpmd_cmd "$NS_SRC" $GEN_CORE,$FWD_CORE $FWD_CORE "${PREFIX}_g" net_af_packet0,iface=$IF_SRC -- \
    --forward-mode=txonly --txpkts="$size" --tx-ip=$SRC_IP,$DST_IP --tx-udp=$UDP_PORT,$UDP_PORT \
    --eth-peer=0,"$FA_MAC"
  launch GEN_PID "$logf" 'packet forwarding - ports=' timeout -s TERM $BOUND "${TESTPMD_CMD[@]}"
}


sample() {  # sample LABEL: link and CPU counters (+ the stack's telemetry)
  local procs=() p
  p=$(child_of "$GEN_PID") && [[ -n $p ]] && procs+=("gen=$p")
  p=$(child_of "$FWD_PID") && [[ -n $p ]] && procs+=("fwd=$p")
  timeout 5 $PY "$HERE/forward_sample.py" "$DIR/samples.jsonl" "$1" \
    "$NS_SRC:$IF_SRC" "$NS_RTR:$IF_FA" "$NS_RTR:$IF_FB" "$NS_DST:$IF_DST" "${procs[@]}" ||
    log "counter sample '$1' failed"
  if [[ $FWD == stack && -n $FWD_PID ]]; then telemetry_snap "${PREFIX}_f" "$1"; fi
}


wait_quiet() {  # bounded wait for quiet cores; sets B0 B1 (in-window contention is measured anyway)
  if (( QUIET_SPENT >= QUIET_BUDGET )); then B0=na B1=na; return; fi
  wait_quiet_cores || true
}

path_check() {  # one ping src -> dst through the forwarder (also warms ARP); bounded
  local i
  for i in 1 2 3; do
    if timeout 3 ip netns exec "$NS_SRC" ping -c 1 -W 1 -q $DST_IP >/dev/null 2>&1; then echo "ok_try_$i"; return; fi
  done
  echo "failed"
}

run_one() {  # run_one ROUND SIZE FORWARDER [RULES]: RULES given, DIR is r<round>/<size>-n<RULES>/<forwarder>
  local r=$1 size=$2 case=$2; FWD=$3; NRULES=${4:-0}
  [[ -n ${4:-} ]] && case=$size-n$NRULES
  DIR=$WORK/r$r/$case/$FWD; mkdir -p "$DIR"
  NS_SRC=bf${TAG}s NS_RTR=bf${TAG}r NS_DST=bf${TAG}d
  PREFIX=bench_forward_${TAG}_r${r}_${case}_$FWD
  BOUND=$((DURATION + WARMUP + 60))   # hard limit on every process of this run
  FWD_PID='' GEN_PID=''
  wait_quiet
  log "round $r/$ROUNDS: $size-byte frames, $FWD${4:+, $NRULES filter rules} (cores busy before: ${B0}% ${B1}%)"
  make_topology "$FWD"
  SRC_MAC=$(ns_mac "$NS_SRC" $IF_SRC); FA_MAC=$(ns_mac "$NS_RTR" $IF_FA)
  DST_MAC=$(ns_mac "$NS_DST" $IF_DST)
  {
    echo "status=ok"
    echo "rps_mode=$RPS"
    echo "fa_mac=$FA_MAC"
    echo "foreign_dpdk_before=$(foreign_dpdk)"
    echo "core0_busy_pct_before=$B0"
    echo "core1_busy_pct_before=$B1"
    echo "quiet_pct=$QUIET_PCT"
    echo "filter_rules=${4:-}"
  } >>"$DIR/env.txt"
  if [[ $FWD == stack ]]; then
    STACK_CFG=$STACK_CFG_FULL
    if ! start_forwarder stack; then
      # A build without IPv4 forwarding rejects the "ip" key (exit 2): measure the same
      # setup without it, which must give ~0 pps, so the run still completes.
      if [[ -n $FWD_PID ]]; then stop_pid "$FWD_PID"; fi
      if grep -q '\$\.ip' "$DIR/fwd.log" 2>/dev/null; then
        log "this dpdk-stack rejects \$.ip; running it without (same ports; expect 0 pps)"
        mv "$DIR/fwd.log" "$DIR/fwd-rejected.log"
        echo "stack_config=without_ip_forwarding (this build rejects \$.ip)" >>"$DIR/env.txt"
        STACK_CFG=$STACK_CFG_NOFWD
        start_forwarder stack || { echo "status=forwarder_failed" >>"$DIR/env.txt"; }
      else
        echo "status=forwarder_failed" >>"$DIR/env.txt"
      fi
    else
      echo "stack_config=full" >>"$DIR/env.txt"
    fi
  else
    start_forwarder "$FWD" || echo "status=forwarder_failed" >>"$DIR/env.txt"
  fi
  if grep -q '^status=forwarder_failed' "$DIR/env.txt"; then
    log "$FWD did not start (0 pps recorded; log kept in the JSON)"
    if [[ -n $FWD_PID ]]; then stop_pid "$FWD_PID"; fi
    del_all_ns
    return 0
  fi
  if [[ $FWD == kernel ]] || { [[ $FWD == stack ]] && [[ $STACK_CFG == "$STACK_CFG_FULL" ]]; }; then
    echo "path_check=$(path_check)" >>"$DIR/env.txt"
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
  if [[ $FWD == kernel ]] && (( NRULES > 0 )); then  # the accepting rule's counter: it decided every packet
    echo "nft_accept_rule_packets=$(timeout 60 ip netns exec "$NS_RTR" nft list chain inet f fwd_rules |
      awk '/accept/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')" >>"$DIR/env.txt"
  fi
  if [[ -n $FWD_PID ]]; then stop_pid "$FWD_PID"; fi
  echo "foreign_dpdk_after=$(foreign_dpdk)" >>"$DIR/env.txt"
  del_all_ns
}

STACK_CFG_FULL='{"ports": [{"address": "'$FWD_A_IP'/24"}, {"address": "'$FWD_B_IP'/24"}], "ip": {"forwarding": true}, "logging": {"level": "notice"}}'
STACK_CFG_NOFWD='{"ports": [{"address": "'$FWD_A_IP'/24"}, {"address": "'$FWD_B_IP'/24"}], "logging": {"level": "notice"}}'

# The filter tables, once for the run: rules-N.json (the members of the stack's
# "filters.rules") and rules-N.nft (the kernel's ruleset), the same N rules.
# NFT_SET=1: the kernel's rules 1..N-1 become one rule on a set of their N-1 sources.
gen_rules() {  # gen_rules N
  awk -v n="$1" -v src=$SRC_IP -v dst=$DST_IP -v port=$UDP_PORT -v json="$WORK/rules-$1.json" \
      -v nft="$WORK/rules-$1.nft" -v use_set="$((NFT_SET == 1 && $1 > 1))" 'BEGIN {
    chain = "  chain fwd_rules {\n    type filter hook forward priority 0; policy accept;"
    print "table inet f {" >nft
    print (use_set ? "  set blocked {\n    type ipv4_addr\n    elements = {" : chain) >nft
    for (i = 1; i < n; i++) {  # 172.16.0.1 ...: never the source of the flow
      a = sprintf("172.%d.%d.%d", 16 + int(i / 65536), int(i / 256) % 256, i % 256)
      printf "{\"hook\": \"forward\", \"proto\": \"udp\", \"src\": \"%s\", \"dport\": [1, 65535], \"action\": \"drop\"},\n", a >json
      if (use_set) printf "      %s%s\n", a, (i < n - 1 ? "," : "") >nft
      else printf "    ip saddr %s udp dport 1-65535 drop\n", a >nft
    }
    printf "{\"hook\": \"forward\", \"proto\": \"udp\", \"src\": \"%s\", \"dst\": \"%s\", \"dport\": %d, \"action\": \"accept\"}\n", src, dst, port >json
    if (use_set) printf "    }\n  }\n%s\n    ip saddr @blocked udp dport 1-65535 drop\n", chain >nft
    printf "    ip saddr %s ip daddr %s udp dport %d counter accept\n  }\n}\n", src, dst, port >nft
  }'
}
for n in $RULES; do if (( n > 0 )); then gen_rules "$n"; fi; done

log "work dir $WORK; forwarders: $FORWARDERS; sizes: $SIZES; rounds: $ROUNDS; ${DURATION}s windows${RULES:+; filter rules: $RULES}"
{
  meta_host
  echo "netdev_max_backlog=$(sysctl -n net.core.netdev_max_backlog)"
  echo "free_hugepages_2m=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)"
  echo "duration_s=$DURATION"
  echo "warmup_s=$WARMUP"
  echo "rps=$RPS"
  echo "sink_rps=$SINK_RPS"
  echo "testpmd_mode=$TESTPMD_MODE"
  echo "sizes=$SIZES"
  echo "forwarders=$FORWARDERS"
  echo "rules=$RULES"
  echo "nft_set=$NFT_SET"
  [[ -n $RULES ]] && echo "rule_shape=rules 1..N-1: UDP from 172.16.x.y/32 (never the flow's source), dport 1-65535, drop$([[ $NFT_SET == 1 ]] && echo " (nft: ONE rule on a set of those N-1 sources, ip saddr @blocked)"); rule N: UDP $SRC_IP -> $DST_IP dport $UDP_PORT, accept (nft: with counter); stack hook forward, nft chain inet f fwd_rules (hook forward, policy accept)"
  meta_stack
  echo "stack_config=$STACK_CFG_FULL"
  meta_dpdk
  echo "command=$0 ROUNDS=$ROUNDS SIZES=\"$SIZES\" FORWARDERS=\"$FORWARDERS\" DURATION=$DURATION WARMUP=$WARMUP RPS=$RPS SINK_RPS=$SINK_RPS TESTPMD_MODE=$TESTPMD_MODE${RULES:+ RULES=\"$RULES\" NFT_SET=$NFT_SET}"
  if command -v nft >/dev/null; then echo "nft_version=$(nft --version)"; fi
} >"$WORK/meta.env"

START=$SECONDS
for r in $(seq "$ROUNDS"); do
  for s in $SIZES; do
    if [[ -z $RULES ]]; then
      for f in $FORWARDERS; do run_one "$r" "$s" "$f"; done
    else
      for n in $RULES; do
        for f in $FORWARDERS; do
          [[ $f == testpmd ]] && (( n > 0 )) && continue   # no filter in testpmd: measured at N = 0 only
          run_one "$r" "$s" "$f" "$n"
        done
      done
    fi
  done
done
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/meta.env"
echo "wall_s=$((SECONDS - START))" >>"$WORK/meta.env"

report
