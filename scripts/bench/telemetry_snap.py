#!/usr/bin/python3
"""Append one snapshot of dpdk-stack telemetry to a JSON-lines file.

usage: telemetry_snap.py SOCKET_PATH OUT.jsonl LABEL

Reads the hello message first (DPDK telemetry v2 protocol, see
/usr/bin/dpdk-telemetry.py), then asks /dpdkstack/lcores and
/dpdkstack/counters.  Each line: {"label", "t_mono_ns", "lcores", "counters"}.
Bounded: 2 s socket timeout; exits 1 (and writes nothing) on any error.
"""
import json
import socket
import sys
import time


def query(sock, cmd, buf_len):
    sock.send(cmd.encode())
    reply = json.loads(sock.recv(buf_len).decode())
    return reply.get(cmd)


def main():
    path, out, label = sys.argv[1], sys.argv[2], sys.argv[3]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            s.settimeout(2.0)
            s.connect(path)
            hello = json.loads(s.recv(1024).decode())
            buf_len = int(hello.get("max_output_len", 16384))
            t = time.monotonic_ns()
            lcores = query(s, "/dpdkstack/lcores", buf_len)
            counters = query(s, "/dpdkstack/counters", buf_len)
    except (OSError, ValueError) as e:
        print(f"telemetry_snap: {path}: {e}", file=sys.stderr)
        return 1
    with open(out, "a") as f:
        f.write(json.dumps({"label": label, "t_mono_ns": t, "lcores": lcores,
                            "counters": counters}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
