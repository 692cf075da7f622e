#!/usr/bin/env bash
# TCP benchmark (issue 6): HTTP requests per second (wrk, keep-alive and Connection: close)
# and bulk throughput (iperf3 forward, -R and -P N) against dpdk-stack's built-in http
# and iperf3 services and against the Linux kernel serving the same bytes (nginx, iperf3
# -s) in one run, with the stack's cycles per TCP segment from its telemetry.
# See docs/PERFORMANCE.md for the method and the latest results.
#
# Targets (all at 10.0.0.1; the client, always Linux, at 10.0.0.2 in namespace cli):
#   stack_tap       dpdk-stack -l 1 on net_tap0; the tap device is the client's link
#   stack_afpacket  dpdk-stack -l 1 on net_af_packet0 on veth-srv (namespace srv); the
#                   client on the other end, veth-cli, with tx checksum, TSO and GSO off
#                   (af_packet hands the PMD the frames as the veth carries them: they
#                   must be finished, MTU-sized frames; as tests/e2e/conftest.py does)
#   kernel          Linux in namespace srv across the same veth pair: nginx (worker
#                   pinned to core 1) and iperf3 -s (taskset -c 1), veth-srv's receive
#                   processing on core 1 (RPS); the veth keeps its default offloads (TSO
#                   and GSO: 64 KB segments cross the link whole)
#   kernel_mtu      the same with tx checksum, TSO and GSO off on both veth ends: every
#                   frame on the link is at most 1514 bytes, as the stack sees them
# There is no kernel-to-kernel tap link (a tap's far end is a file descriptor, not a
# stack), so stack_tap is compared with the same veth peers; the doc says so.
#
#   namespace cli (client, core 0)                 namespace srv (server, core 1)
#   veth-cli 10.0.0.2  <------------ veth ------->  veth-srv [10.0.0.1 for Linux]
#   or tap-cli 10.0.0.2 <--- net_tap ---> dpdk-stack (the stack runs inside cli then)
#   CLIENT_RPS=1 steers the client link's receive processing to core 0, so that core 1
#   does only the server's work (without it, the server's transmit would run the client's
#   receive path on core 1).
#
# Phases, the same client commands against every target, each on core 0, in this order:
#   wrk_ka     taskset -c 0 wrk -t WRK_THREADS -c WRK_CONNS -d DURATIONs --latency http://10.0.0.1/
#   wrk_close  the same with -H "Connection: close" (a connection per request)
#   iperf_fwd  taskset -c 0 iperf3 -c 10.0.0.1 -p 5201 -t DURATION -J        (client sends)
#   iperf_rev  the same with -R                                               (server sends)
#   iperf_p4   the same with -P PARALLEL                                      (client sends)
# Around each phase: CPU, run-queue and PSI counters and the client link's counters
# (forward_sample.py), the Tcp MIB of the Linux ends (/proc/net/snmp), and for the stack
# its telemetry (busy and total TSC cycles, tcp_in_segs, tcp_out_segs, ...): cycles per
# segment = busy_cycles / (tcp_in_segs + tcp_out_segs) over the phase.
#
# nginx serves the stack's page: GET / is fetched once from the stack at the start (a
# short stack_tap run) and nginx answers `location = /` with `return 200 '<those bytes>'`
# (default_type text/html, keep-alive, keepalive_requests 1000000, access_log off,
# worker_processes 1, worker_cpu_affinity 10).  Every target's GET / is fetched again
# with curl before its phases and compared with those bytes.  A server that dies during a
# phase is recorded (died_<phase> in env.txt; † in the tables) and started again in fresh
# namespaces for the phases left.
#
# usage: scripts/bench/tcp.sh     (as root; ~7 minutes with the defaults)
#
# Environment knobs (defaults in brackets):
#   ROUNDS [3]              rounds; each round runs every target once, interleaved; the
#                           report takes medians over the rounds
#   TARGETS ["stack_tap stack_afpacket kernel kernel_mtu"]
#   PHASES ["wrk_ka wrk_close iperf_fwd iperf_rev iperf_p4"]
#   DURATION [5]            seconds of each phase (wrk -d, iperf3 -t)
#   WARMUP [1]              seconds of unmeasured wrk keep-alive load before the phases
#   WRK_CONNS [100]         wrk -c;  WRK_THREADS [1]: wrk -t
#   PARALLEL [4]            iperf3 -P of iperf_p4
#   CLIENT_RPS [1]          1: the client link's receive processing on core 0 (RPS); 0: where
#                           the kernel puts it (inline in the server's transmit, on core 1)
#   AFP_ARGS [""]           more net_af_packet devargs for stack_afpacket, e.g. ",framecnt=4096"
#                           (the PMD's ring: 512 frames of 2048 bytes by default)
#   OUT_DIR [bench-results] STACK [build/apps/dpdk-stack]
#   KEEP_WORK [0]           1 keeps the raw outputs (work directory) for inspection
#   QUIET_PCT [25]          before each target, wait until cores 0 and 1 are each less than
#   QUIET_WAIT [10]         QUIET_PCT % busy (1 s sample), for at most QUIET_WAIT seconds
#   QUIET_BUDGET [60]       and QUIET_BUDGET seconds in the whole run; phases that had
#                           company on the cores are flagged "contended" and the report
#                           prefers uncontended rounds
#
# Network rule: traffic only inside the namespaces this script creates; every process is
# bounded by `timeout` and stopped by its PID; the trap removes the namespaces (and with
# them every link), the processes and the EAL runtime directories, also on failure or
# Ctrl-C.
set -euo pipefail

BENCH=tcp
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HERE/common.sh"   # ROOT PY STACK ROUNDS OUT_DIR KEEP_WORK QUIET_PCT, helpers

TARGETS=${TARGETS:-"stack_tap stack_afpacket kernel kernel_mtu"}
PHASES=${PHASES:-"wrk_ka wrk_close iperf_fwd iperf_rev iperf_p4"}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
WRK_CONNS=${WRK_CONNS:-100}
WRK_THREADS=${WRK_THREADS:-1}
PARALLEL=${PARALLEL:-4}
CLIENT_RPS=${CLIENT_RPS:-1}
AFP_ARGS=${AFP_ARGS:-}
QUIET_WAIT=${QUIET_WAIT:-10}
QUIET_BUDGET=${QUIET_BUDGET:-60}
LOG_TAIL_LINES=5

SRV_CORE=1   # the server: the stack's engine, or nginx, iperf3 -s and (RPS) their receive softirq
CLI_CORE=0   # the client tools
CLI_IP=10.0.0.2 SRV_IP=10.0.0.1
HTTP_PORT=80 IPERF_PORT=5201
IF_CLI=veth-cli IF_SRV=veth-srv IF_TAP=tap-cli   # one per namespace: no clashes
URL=http://$SRV_IP/

bench_begin   # cleanup trap, WORK

[[ $(id -u) == 0 ]] || die "needs root (network namespaces, DPDK)"
(( $(nproc) >= 2 )) || die "needs 2 cores (client on core $CLI_CORE, server on core $SRV_CORE)"
[[ -x $STACK ]] || die "no dpdk-stack binary at $STACK (run ninja -C build, or set STACK=)"
for t in wrk iperf3 curl ethtool; do command -v $t >/dev/null || die "needs $t (scripts/setup installs it)"; done
for t in $TARGETS; do
  case $t in
    stack_tap|stack_afpacket) ;;
    kernel|kernel_mtu) command -v nginx >/dev/null || die "needs nginx for $t (Debian package nginx-light; scripts/setup installs it)" ;;
    *) die "unknown target $t (stack_tap, stack_afpacket, kernel, kernel_mtu)" ;;
  esac
done
for p in $PHASES; do
  case $p in wrk_ka|wrk_close|iperf_fwd|iperf_rev|iperf_p4) ;; *) die "unknown phase $p" ;; esac
done
for v in DURATION WRK_CONNS WRK_THREADS PARALLEL; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v: a positive whole number, got ${!v}"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP: whole seconds"
[[ $CLIENT_RPS == 0 || $CLIENT_RPS == 1 ]] || die "CLIENT_RPS: 0 or 1"

ensure_matplotlib

STACK_CFG='{"ports": [{"address": "'$SRV_IP'/24"}], "services": {"http": {"enabled": true, "port": '$HTTP_PORT'}, "iperf3": {"enabled": true, "port": '$IPERF_PORT'}}, "logging": {"level": "notice"}}'
WRK_CMD=(wrk -t "$WRK_THREADS" -c "$WRK_CONNS" -d "${DURATION}s" --latency)
IPERF_CMD=(iperf3 -c "$SRV_IP" -p "$IPERF_PORT" -t "$DURATION" -J)

offloads_off() {  # offloads_off NETNS DEV: finished checksums and MTU-sized frames from this end
  ip netns exec "$1" ethtool -K "$2" tx off tso off gso off >/dev/null 2>&1
}

make_veth() {  # namespaces cli and srv joined by one veth pair, the client end addressed
  new_ns "$NS_CLI"; new_ns "$NS_SRV"
  ip link add $IF_CLI netns "$NS_CLI" type veth peer name $IF_SRV netns "$NS_SRV"
  ip -n "$NS_CLI" addr add $CLI_IP/24 dev $IF_CLI
  ip -n "$NS_CLI" link set $IF_CLI up
  ip -n "$NS_SRV" link set $IF_SRV up
}

start_stack() {  # start_stack NETNS VDEV: dpdk-stack on SRV_CORE with the http and iperf3 services
  echo "$STACK_CFG" >"$DIR/stack.json"
  launch SRV_PID "$DIR/srv.log" '; ready' timeout -s TERM "$BOUND" ip netns exec "$1" "$STACK" \
    -l $SRV_CORE --no-pci --file-prefix "$PREFIX" --vdev="$2" -- -c "$DIR/stack.json" || return 1
  wait_telemetry "$PREFIX" || true
  SRV_PROCS=("stack=$(child_of "$SRV_PID")")
}

start_linux_servers() {  # nginx and iperf3 -s in srv, pinned to SRV_CORE
  # The page as an nginx string: single-quoted, with \ and ' escaped; nginx would expand $.
  local page
  page=$(cat "$WORK/page.html"; echo x); page=${page%x}
  page=${page//\\/\\\\}; page=${page//\'/\\\'}
  mkdir -p "$DIR/nginx"
  cat >"$DIR/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
worker_cpu_affinity 10;   # core 1 (SRV_CORE)
pid $DIR/nginx/nginx.pid;
error_log stderr notice;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  default_type text/html;
  keepalive_requests 1000000;
  client_body_temp_path $DIR/nginx/body;
  proxy_temp_path $DIR/nginx/proxy;
  fastcgi_temp_path $DIR/nginx/fastcgi;
  uwsgi_temp_path $DIR/nginx/uwsgi;
  scgi_temp_path $DIR/nginx/scgi;
  server {
    listen $SRV_IP:$HTTP_PORT backlog=4096;
    location = / { return 200 '$page'; }
  }
}
EOF
  launch SRV_PID "$DIR/srv.log" 'start worker process' timeout -s TERM "$BOUND" ip netns exec "$NS_SRV" \
    taskset -c $SRV_CORE nginx -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx" || return 1
  launch IPF_PID "$DIR/iperf3-server.log" 'Server listening' timeout -s TERM "$BOUND" ip netns exec "$NS_SRV" \
    taskset -c $SRV_CORE iperf3 -s -B $SRV_IP -p $IPERF_PORT --forceflush || return 1
  wait_listen "$NS_SRV" $HTTP_PORT 10 || return 1
  wait_listen "$NS_SRV" $IPERF_PORT 10 || return 1
  local master
  master=$(child_of "$SRV_PID")
  SRV_PROCS=("nginx=$(pgrep -P "$master" | head -1)" "nginx_master=$master" "iperf3=$(child_of "$IPF_PID")")
}

setup_target() {  # the links and servers of TARGET; sets CLI_IF, SRV_PID, IPF_PID, SRV_PROCS (1: a server did not come up)
  case $TARGET in
    stack_tap)
      new_ns "$NS_CLI"; CLI_IF=$IF_TAP
      start_stack "$NS_CLI" "net_tap0,iface=$IF_TAP" || return 1
      ip -n "$NS_CLI" addr add $CLI_IP/24 dev $IF_TAP
      ip -n "$NS_CLI" link set $IF_TAP up
      ;;
    stack_afpacket)
      make_veth; CLI_IF=$IF_CLI
      offloads_off "$NS_CLI" $IF_CLI
      start_stack "$NS_SRV" "net_af_packet0,iface=$IF_SRV$AFP_ARGS" || return 1
      ;;
    kernel|kernel_mtu)
      make_veth; CLI_IF=$IF_CLI
      ip -n "$NS_SRV" addr add $SRV_IP/24 dev $IF_SRV
      # veth-srv's receive processing (IP and TCP input) runs on the server's core
      rps_to "$NS_SRV" $IF_SRV $SRV_CORE
      echo "rps_srv=cpu$SRV_CORE" >>"$DIR/env.txt"
      if [[ $TARGET == kernel_mtu ]]; then offloads_off "$NS_CLI" $IF_CLI; offloads_off "$NS_SRV" $IF_SRV; fi
      start_linux_servers || return 1
      ;;
  esac
  if [[ $CLIENT_RPS == 1 ]]; then
    rps_to "$NS_CLI" "$CLI_IF" $CLI_CORE
    echo "rps_cli=cpu$CLI_CORE" >>"$DIR/env.txt"
  fi
  echo "client_offloads=$(ip netns exec "$NS_CLI" ethtool -k "$CLI_IF" 2>/dev/null |
    grep -E '^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):' |
    tr -d ' ' | paste -sd, -)" >>"$DIR/env.txt"
}

check_page() {  # check_page OUT: GET / from the client (bounded, a few tries); headers to OUT.hdr, body to OUT
  local i
  for i in $(seq 20); do
    if timeout 5 ip netns exec "$NS_CLI" curl -s -m 3 -D "$1.hdr" -o "$1" "$URL"; then echo "page_tries=$i" >>"$DIR/env.txt"; return 0; fi
    sleep 0.25
  done
  return 1
}

teardown() {  # stops this run's servers (by PID) and deletes its namespaces
  if [[ -n $IPF_PID ]]; then stop_pid "$IPF_PID"; fi
  if [[ -n $SRV_PID ]]; then stop_pid "$SRV_PID"; fi
  del_all_ns
}

children_ticks() {  # "LABEL utime stime" of this shell's finished children (the client tools among them)
  echo "$1 $(awk '{ sub(/.*\) /, ""); print $14, $15 }' /proc/$$/stat)" >>"$DIR/ticks.txt"
}

snmp() {  # snmp LABEL: the Tcp lines of /proc/net/snmp of every namespace (the Linux ends)
  local ns
  for ns in "${NETNS[@]}"; do
    { echo "label=$1 ns=${ns: -1}"; ip netns exec "$ns" grep '^Tcp:' /proc/net/snmp; } >>"$DIR/snmp.txt" 2>&1 || true
  done
}

sample() {  # sample LABEL: counters around a phase (ordered so that the CPU window holds only the client)
  local fs=(timeout 5 "$PY" "$HERE/forward_sample.py" "$DIR/samples.jsonl" "$1" "$NS_CLI:$CLI_IF" "${SRV_PROCS[@]}")
  if [[ $1 == *.end ]]; then children_ticks "$1"; "${fs[@]}" || log "counter sample '$1' failed"; fi
  if [[ $TARGET == stack_* ]]; then telemetry_snap "$PREFIX" "$1"; fi
  snmp "$1"
  if [[ $1 == *.start ]]; then "${fs[@]}" || log "counter sample '$1' failed"; children_ticks "$1"; fi
}

phase() {  # phase NAME: one client command on CLI_CORE in cli, sampled around
  local name=$1 cmd
  case $name in
    wrk_ka) cmd=("${WRK_CMD[@]}" "$URL") ;;
    wrk_close) cmd=("${WRK_CMD[@]}" -H "Connection: close" "$URL") ;;
    iperf_fwd) cmd=("${IPERF_CMD[@]}") ;;
    iperf_rev) cmd=("${IPERF_CMD[@]}" -R) ;;
    iperf_p4) cmd=("${IPERF_CMD[@]}" -P "$PARALLEL") ;;
  esac
  sample "$name.start"
  local rc=0
  timeout $((DURATION + 20)) ip netns exec "$NS_CLI" taskset -c $CLI_CORE "${cmd[@]}" \
    >"$DIR/$name.out" 2>"$DIR/$name.err" || rc=$?
  sample "$name.end"
  echo "${name}_rc=$rc" >>"$DIR/env.txt"
  (( rc == 0 )) || log "$TARGET $name: client exited $rc"
  [[ $name != iperf_* ]] || sleep 0.5   # the next iperf3 test finds the server listening again
}

run_one() {  # run_one ROUND TARGET
  local r=$1; TARGET=$2
  DIR=$WORK/r$r/$TARGET; mkdir -p "$DIR"
  NS_CLI=bt${TAG}c NS_SRV=bt${TAG}s
  PREFIX=bench_tcp_${TAG}_r${r}_$TARGET
  BOUND=$(( (DURATION + 25) * 6 + WARMUP + 60 ))   # hard limit on every process of this run
  SRV_PID='' IPF_PID='' SRV_PROCS=()
  if (( QUIET_SPENT < QUIET_BUDGET )); then wait_quiet_cores || true; else B0=na B1=na; fi
  log "round $r/$ROUNDS: $TARGET (cores busy before: ${B0}% ${B1}%)"
  {
    echo "status=ok"
    echo "foreign_dpdk_before=$(foreign_dpdk)"
    echo "core0_busy_pct_before=$B0"
    echo "core1_busy_pct_before=$B1"
    echo "quiet_pct=$QUIET_PCT"
  } >>"$DIR/env.txt"
  if ! setup_target || ! check_page "$DIR/page.html"; then
    echo "status=server_failed" >>"$DIR/env.txt"
    log "$TARGET did not come up (0 recorded; its log is kept in the JSON)"
    teardown
    return 0
  fi
  local same=0
  if cmp -s "$DIR/page.html" "$WORK/page.html"; then same=1; fi
  echo "page_identical=$same" >>"$DIR/env.txt"
  echo "response_bytes=$(( $(wc -c <"$DIR/page.html.hdr") + $(wc -c <"$DIR/page.html") ))" >>"$DIR/env.txt"
  if (( WARMUP > 0 )); then
    timeout $((WARMUP + 20)) ip netns exec "$NS_CLI" taskset -c $CLI_CORE wrk -t 1 -c "$WRK_CONNS" -d "${WARMUP}s" "$URL" \
      >"$DIR/warmup.out" 2>&1 || true
  fi
  local p restarts=0
  for p in $PHASES; do
    phase "$p"
    if ! kill -0 "$SRV_PID" 2>/dev/null || { [[ -n $IPF_PID ]] && ! kill -0 "$IPF_PID" 2>/dev/null; }; then
      # Recorded, and the server is started again (fresh namespaces) for the phases left.
      restarts=$((restarts + 1))
      echo "died_$p=1" >>"$DIR/env.txt"
      log "$TARGET: the server died during $p; starting it again for the remaining phases"
      teardown
      mv "$DIR/srv.log" "$DIR/srv-died-$restarts.log"
      PREFIX=${PREFIX%_again*}_again$restarts
      if ! setup_target || ! check_page "$DIR/page-again.html"; then
        echo "status=server_failed" >>"$DIR/env.txt"
        log "$TARGET did not come up again; its remaining phases are skipped"
        break
      fi
    fi
  done
  echo "foreign_dpdk_after=$(foreign_dpdk)" >>"$DIR/env.txt"
  teardown
}

fetch_page() {  # the stack's GET / once, as the bytes nginx will serve
  TARGET=stack_tap DIR=$WORK/page NS_CLI=bt${TAG}c NS_SRV=bt${TAG}s PREFIX=bench_tcp_${TAG}_page BOUND=60
  SRV_PID='' IPF_PID='' SRV_PROCS=()
  mkdir -p "$DIR"
  if ! setup_target || ! check_page "$WORK/page.html"; then
    die "could not fetch GET / from the stack (see $DIR/srv.log)"
  fi
  teardown
  log "the stack's GET /: $(wc -c <"$WORK/page.html") bytes of body; nginx serves the same"
}

log "work dir $WORK; targets: $TARGETS; phases: $PHASES; rounds: $ROUNDS; ${DURATION}s phases"
fetch_page
{
  meta_host
  echo "free_hugepages_2m=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)"
  echo "duration_s=$DURATION"
  echo "warmup_s=$WARMUP"
  echo "targets=$TARGETS"
  echo "phases=$PHASES"
  echo "client_rps=$CLIENT_RPS"
  echo "quiet_pct=$QUIET_PCT"
  echo "wrk_cmd=taskset -c $CLI_CORE ${WRK_CMD[*]} [-H \"Connection: close\"] $URL"
  echo "iperf3_cmd=taskset -c $CLI_CORE ${IPERF_CMD[*]} [-R | -P $PARALLEL]"
  echo "page_bytes=$(wc -c <"$WORK/page.html")"
  meta_stack
  echo "stack_config=$STACK_CFG"
  echo "tcp_rmem=$(sysctl -n net.ipv4.tcp_rmem)"
  echo "tcp_wmem=$(sysctl -n net.ipv4.tcp_wmem)"
  echo "tcp_congestion_control=$(sysctl -n net.ipv4.tcp_congestion_control)"
  echo "versions=$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); $(iperf3 --version | head -1); $(nginx -v 2>&1)"
  echo "command=$0 ROUNDS=$ROUNDS TARGETS=\"$TARGETS\" PHASES=\"$PHASES\" DURATION=$DURATION WARMUP=$WARMUP WRK_CONNS=$WRK_CONNS WRK_THREADS=$WRK_THREADS PARALLEL=$PARALLEL CLIENT_RPS=$CLIENT_RPS${AFP_ARGS:+ AFP_ARGS=$AFP_ARGS}"
} >"$WORK/meta.env"

START=$SECONDS
for r in $(seq "$ROUNDS"); do for t in $TARGETS; do run_one "$r" "$t"; done; done   # targets interleaved
bench_finish
