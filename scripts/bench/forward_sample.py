#!/usr/bin/python3
"""Append one snapshot of link and CPU counters to a JSON-lines file.

usage: forward_sample.py OUT.jsonl LABEL NETNS:DEV|NAME=PID ...

For each NETNS:DEV it enters the network namespace (/run/netns/NETNS, setns)
and reads the device's line of /proc/self/net/dev (per-namespace).  For each NAME=PID it sums, over the process's threads,
the scheduler's on-CPU and run-queue wait nanoseconds (/proc/PID/task/*/schedstat)
and its utime and stime clock ticks.  It also
reads the per-CPU lines of /proc/stat, /proc/net/softnet_stat (backlog drops,
per CPU) and the CPU pressure total.  One line per call:
  {"label", "t_mono_ns", "links": {"NETNS:DEV": {rx_packets, rx_bytes,
   rx_dropped, tx_packets, tx_bytes, tx_dropped}}, "cpu": {"cpu0": [jiffies...]},
   "softnet": [{"processed", "dropped", "time_squeeze"} per CPU], "psi_some_us",
   "procs": {NAME: {"oncpu_ns", "runq_ns", "utime", "stime"}}, "clk_tck"}
Bounded (no network I/O); exits 1 and writes nothing on any error.
"""
import ctypes
import json
import os
import sys
import time

CLONE_NEWNET = 0x40000000
RX = ["rx_bytes", "rx_packets", "rx_errs", "rx_dropped"]
TX = ["tx_bytes", "tx_packets", "tx_errs", "tx_dropped"]


def netdev_line(dev):
    with open("/proc/self/net/dev") as f:
        for line in f:
            name, sep, rest = line.partition(":")
            if sep and name.strip() == dev:
                v = [int(x) for x in rest.split()]
                d = dict(zip(RX, v[0:4]))
                d.update(zip(TX, v[8:12]))
                return d
    raise OSError(f"no device {dev} in /proc/net/dev")


def proc_times(pid):
    r = {"oncpu_ns": 0, "runq_ns": 0, "utime": 0, "stime": 0}
    base = f"/proc/{pid}/task"
    for tid in os.listdir(base):
        try:
            with open(f"{base}/{tid}/schedstat") as f:
                on, wait, _ = f.read().split()
            with open(f"{base}/{tid}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()  # fields after "(comm)"
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
        r["oncpu_ns"] += int(on)
        r["runq_ns"] += int(wait)
        r["utime"] += int(st[11])  # field 14, clock ticks
        r["stime"] += int(st[12])  # field 15
    return r


def main():
    out, label = sys.argv[1], sys.argv[2]
    specs = [a for a in sys.argv[3:] if "=" not in a]
    pids = dict(a.split("=", 1) for a in sys.argv[3:] if "=" in a)
    libc = ctypes.CDLL(None, use_errno=True)
    links = {}
    try:
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        t0 = time.monotonic_ns()
        try:
            for spec in specs:
                ns, _, dev = spec.partition(":")
                fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), f"setns {ns}")
                finally:
                    os.close(fd)
                links[spec] = netdev_line(dev)
        finally:
            libc.setns(home, CLONE_NEWNET)
            os.close(home)
        t1 = time.monotonic_ns()
        cpu = {}
        with open("/proc/stat") as f:
            for line in f:
                p = line.split()
                if p and p[0].startswith("cpu") and p[0] != "cpu":
                    cpu[p[0]] = [int(x) for x in p[1:]]
        softnet = []
        with open("/proc/net/softnet_stat") as f:
            for line in f:
                v = [int(x, 16) for x in line.split()]
                softnet.append({"processed": v[0], "dropped": v[1], "time_squeeze": v[2]})
        procs = {}
        for name, pid in pids.items():
            try:
                procs[name] = proc_times(int(pid))
            except (OSError, ValueError):
                procs[name] = None
        psi = 0
        try:
            with open("/proc/pressure/cpu") as f:
                for line in f:
                    if line.startswith("some"):
                        psi = int(line.split("total=")[1])
        except OSError:
            pass
    except (OSError, ValueError, IndexError) as e:
        print(f"forward_sample: {e}", file=sys.stderr)
        return 1
    with open(out, "a") as f:
        f.write(json.dumps({"label": label, "t_mono_ns": (t0 + t1) // 2, "read_ns": t1 - t0,
                            "links": links, "cpu": cpu, "softnet": softnet,
                            "psi_some_us": psi, "procs": procs,
                            "clk_tck": os.sysconf("SC_CLK_TCK")}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
