# Shared by the benchmark scripts in scripts/bench (sourced, never run: not executable,
# so scripts/bench/run does not take it for a benchmark).
#
# The sourcing script sets BENCH (its name: the log prefix, the EAL file-prefix family
# bench_<BENCH>_<TAG>_* and the work directory /tmp/bench-<BENCH with - for _>.XXXXXX)
# and HERE (scripts/bench), then sources this file after `set -euo pipefail`, then calls
# bench_begin once its own knobs are read.
#
# Knobs read here (defaults in brackets): STACK [build/apps/dpdk-stack],
# TESTPMD [dpdk-testpmd from PATH], ROUNDS [3], OUT_DIR [bench-results], KEEP_WORK [0],
# QUIET_PCT [25].  QUIET_WAIT and QUIET_BUDGET (used by wait_quiet_cores) have
# per-benchmark defaults and are set by the sourcing script.
#
# Checked as part of the sourcing scripts (shellcheck -x); on its own, variables set here
# for them (MEM_MODE, TESTPMD_CMD) or by them (BENCH, QUIET_WAIT) look unused or unset.
# shellcheck shell=bash disable=SC2034,SC2153

ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3

STACK=${STACK:-$ROOT/build/apps/dpdk-stack}
TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd || true)}
ROUNDS=${ROUNDS:-3}
OUT_DIR=${OUT_DIR:-$ROOT/bench-results}
KEEP_WORK=${KEEP_WORK:-0}
QUIET_PCT=${QUIET_PCT:-25}
QUIET_SPENT=0
LOG_TAIL_LINES=20   # lines of a process's log that wait_log shows when it did not come up

TS=$(date -u +%Y%m%dT%H%M%SZ)
TAG=$(printf '%05d' $(($$ % 100000)))   # keeps interface names under 15 characters
WORK=

PIDS=()    # processes this script started (stopped by PID only)
NETNS=()   # namespaces this script created (every link lives inside one)

exec 3>&2  # the script's own stderr; a trap can fire while a command's stderr is redirected
log() { printf '[%s %s] %s\n' "$BENCH" "$(date +%T)" "$*" >&3; }
die() { log "error: $*"; exit 1; }

stop_pid() {  # TERM, wait at most 10 s, then KILL; only PIDs this script started
  local pid=$1
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

new_ns() {  # new_ns NAME: namespace with lo up and IPv6 off (no RS/DAD/MLD on the links)
  ip netns add "$1"; NETNS+=("$1")
  ip -n "$1" link set lo up
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

del_ns() {  # del_ns NAME: one namespace this script created (and every link in it)
  local n=$1 keep=() x
  ip netns del "$n" 2>/dev/null || true
  for x in "${NETNS[@]}"; do [[ $x == "$n" ]] || keep+=("$x"); done
  NETNS=("${keep[@]}")
}

del_all_ns() {
  local n
  for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  NETNS=()
}

cleanup() {
  local rc=$? p
  set +e
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  del_all_ns
  # EAL runtime directories of the file prefixes this run used (testpmd leaves them).
  [[ -n ${TAG:-} ]] && rm -rf /var/run/dpdk/bench_"${BENCH}"_"${TAG}"_* 2>/dev/null
  if [[ -n $WORK ]]; then
    if [[ $KEEP_WORK == 1 ]]; then log "raw outputs kept in $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}

bench_begin() {  # the cleanup trap, then the work directory
  trap cleanup EXIT
  trap 'log "interrupted"; exit 130' INT TERM HUP
  WORK=$(mktemp -d "/tmp/bench-${BENCH//_/-}.XXXXXX")
}

ensure_matplotlib() {  # for the PNG: install from the distribution only if missing
  if ! $PY -c 'import matplotlib' 2>/dev/null; then
    # (grep without -q reads to the end: with -q, apt-cache would die of SIGPIPE and
    # pipefail would make the test fail)
    if apt-cache policy python3-matplotlib 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null; then
      log "installing python3-matplotlib (for the PNG plot)"
      timeout 300 apt-get install -y -q python3-matplotlib >/dev/null 2>&1 ||
        log "apt-get install python3-matplotlib failed; no PNG this time"
    else
      log "python3-matplotlib not installable here; no PNG this time"
    fi
  fi
}

choose_mem() {  # sets MEM_ARGS and MEM_MODE: hugepages if at least 64 MB are free now, else anonymous memory
  local free_mb
  free_mb=$(( $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0) * 2 ))
  if (( free_mb >= 64 )) && grep -q ' hugetlbfs ' /proc/mounts; then
    MEM_ARGS=(--in-memory); MEM_MODE="hugepages 2MB (--in-memory, ${free_mb} MB free)"
  else
    MEM_ARGS=(--no-huge -m 256 --no-shconf); MEM_MODE="no hugepages (--no-huge -m 256)"
  fi
}

wait_log() {  # wait_log FILE PATTERN PID SECONDS
  local f=$1 pat=$2 pid=$3 s=$4
  for _ in $(seq $((s * 10))); do
    grep -q -- "$pat" "$f" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { log "process $pid exited early:"; tail -"$LOG_TAIL_LINES" "$f" >&3; return 1; }
    sleep 0.1
  done
  log "timed out waiting for '$pat' in $f"; tail -"$LOG_TAIL_LINES" "$f" >&3; return 1
}

launch() {  # launch PIDVAR LOGFILE READY-PATTERN COMMAND...
  # COMMAND in the background (stdin /dev/null, output to LOGFILE); its PID goes to PIDVAR
  # and PIDS; then waits at most 30 s for READY-PATTERN in LOGFILE (1: it did not come up)
  local var=$1 logf=$2 pat=$3; shift 3
  "$@" </dev/null >"$logf" 2>&1 &
  printf -v "$var" %s "$!"; PIDS+=("$!")
  wait_log "$logf" "$pat" "$!" 30
}

testpmd_cmd() {  # testpmd_cmd NETNS LCORES MAIN-LCORE FILE-PREFIX VDEV... -- TESTPMD-ARGS...
  # sets TESTPMD_CMD: dpdk-testpmd in NETNS on LCORES (two), the main lcore (it only sleeps)
  # on MAIN-LCORE, the forwarding lcore on the other; memory MEM_ARGS; started at once, one
  # forwarding core, cycles recorded.  stdbuf: testpmd writes its log through stdio, fully
  # buffered when it is a file.  The ready line is 'packet forwarding - ports='.
  local ns=$1 lcores=$2 main=$3 prefix=$4 vdevs=(); shift 4
  while [[ $1 != -- ]]; do vdevs+=("--vdev=$1"); shift; done
  shift
  TESTPMD_CMD=(ip netns exec "$ns" stdbuf -oL -eL "$TESTPMD" -l "$lcores" --main-lcore "$main" --no-pci
    "${MEM_ARGS[@]}" --file-prefix "$prefix" "${vdevs[@]}" -- "$@" --auto-start --nb-cores=1
    --total-num-mbufs=8192 --record-core-cycles --disable-link-check --stats-period 3600)
}

telemetry_snap() {  # telemetry_snap FILE-PREFIX LABEL: a snapshot of a running dpdk-stack into DIR/telemetry.jsonl
  timeout 5 $PY "$HERE/telemetry_snap.py" "/var/run/dpdk/$1/dpdk_telemetry.v2" "$DIR/telemetry.jsonl" "$2" ||
    log "telemetry snapshot '$2' failed"
}

cpu_busy_1s() {  # prints "busy% of core 0" "busy% of core 1" over one second
  local a b
  a=$(grep -E '^cpu[01] ' /proc/stat); sleep 1; b=$(grep -E '^cpu[01] ' /proc/stat)
  printf '%s\n%s\n' "$a" "$b" | awk '
    { idle = $5 + $6; tot = 0; for (i = 2; i <= NF; i++) tot += $i
      if ($1 in t0) { printf "%d ", (tot - t0[$1] - (idle - i0[$1])) * 100 / ((tot - t0[$1]) ? (tot - t0[$1]) : 1) }
      else { t0[$1] = tot; i0[$1] = idle } }
    END { printf "\n" }'
}

wait_quiet_cores() {  # bounded wait until cores 0 and 1 are each < QUIET_PCT % busy
  # (at most QUIET_WAIT s now, QUIET_BUDGET s in the whole run); sets B0 B1 (the last
  # sample) and QUIET_WAITED (seconds); returns 1 when the cores were still busy
  local start=$SECONDS rc=0
  while :; do
    read -r B0 B1 <<<"$(cpu_busy_1s)"
    (( B0 < QUIET_PCT && B1 < QUIET_PCT )) && break
    if (( SECONDS - start >= QUIET_WAIT || QUIET_SPENT + SECONDS - start >= QUIET_BUDGET )); then
      rc=1; break
    fi
    sleep 1
  done
  QUIET_WAITED=$((SECONDS - start))
  QUIET_SPENT=$((QUIET_SPENT + QUIET_WAITED))
  return $rc
}

meta_host() {  # the first lines of meta.env: date, machine, load
  echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc=$(nproc)"
  echo "kernel=$(uname -r)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "tsc_mhz_dmesg=$(dmesg 2>/dev/null | grep -oE 'tsc: (Refined TSC clocksource calibration: |Detected )[0-9.]+ MHz' | tail -1 | grep -oE '[0-9.]+ MHz' | cut -d' ' -f1)"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
}

meta_stack() {  # meta.env lines on the dpdk-stack binary: path, build time, commit of lib and apps
  echo "stack_binary=$STACK"
  echo "stack_binary_mtime=$(date -u -r "$STACK" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)"
  echo "stack_git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- lib apps 2>/dev/null || echo -dirty)"
}

meta_dpdk() {  # meta.env lines on DPDK: the testpmd binary and the package version
  echo "testpmd=${TESTPMD:-none}"
  echo "dpdk_version=$(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo unknown)"
}

report() {  # BENCH_report.py over WORK into OUT_DIR/BENCH-TS.json (and .md, .png)
  mkdir -p "$OUT_DIR"
  $PY "$HERE/${BENCH}_report.py" "$WORK" "$OUT_DIR/$BENCH-$TS.json"
}

# Small helpers shared by forward.sh and udp_echo.sh (icmp_arp.sh defines its own
# foreign_dpdk after sourcing this file, which wins there).

ns_mac() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }  # ns_mac NETNS DEV

child_of() { [[ -n $1 ]] && pgrep -P "$1" | head -1; }  # the process `timeout` PID runs

foreign_dpdk() {  # DPDK processes on this machine that are not ours (only listed): PID:FILE-PREFIX
  local p mine=" ${PIDS[*]} " out=()
  for p in $(pgrep -x dpdk-stack; pgrep -x dpdk-testpmd); do
    # ours run under `timeout`: their parent is one of our PIDs
    [[ $mine == *" $(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ') "* ]] ||
      out+=("$p:$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -oE -- '--file-prefix[= ][^ ]+' | cut -c15- || true)")
  done
  echo "${out[*]:-}"
}

# Helpers added with tcp.sh (the older scripts keep their own inline forms).

rps_to() {  # rps_to NETNS DEV CORE: DEV's receive processing (rx-0) runs on CORE (RPS)
  ip netns exec "$1" sh -c "echo $((1 << $3)) > /sys/class/net/$2/queues/rx-0/rps_cpus"
}

wait_telemetry() {  # wait_telemetry FILE-PREFIX: at most ~5 s until a dpdk-stack's telemetry answers (1: it did not)
  for _ in $(seq 50); do
    timeout 3 $PY "$HERE/telemetry_snap.py" "/var/run/dpdk/$1/dpdk_telemetry.v2" /dev/null probe 2>/dev/null && return 0
    sleep 0.1
  done
  log "stack telemetry does not answer; no cycle counts this run"
  return 1
}

wait_listen() {  # wait_listen NETNS PORT SECONDS: until a TCP socket listens on PORT in NETNS (1: none did)
  for _ in $(seq $(($3 * 10))); do
    [[ -n $(ip netns exec "$1" ss -Htln "sport = :$2") ]] && return 0
    sleep 0.1
  done
  log "nothing listens on TCP port $2 in $1 after $3 s"
  return 1
}

bench_finish() {  # after the rounds (START: $SECONDS when they began): the end of meta.env, then the report
  echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/meta.env"
  echo "wall_s=$((SECONDS - START))" >>"$WORK/meta.env"
  report
}
