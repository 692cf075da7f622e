#!/usr/bin/python3
"""ARP request/reply rate and latency over a raw AF_PACKET socket.

usage: arp_probe.py IFACE SRC_IP TARGET_IP COUNT WINDOW [DEADLINE_S]

Keeps up to WINDOW broadcast ARP requests for TARGET_IP outstanding and sends
a new one for every reply (closed loop).  A request that sees no reply within
50 ms is counted as lost and the window is refilled.  With WINDOW=1 each reply
is matched to the one request in flight, which gives a round-trip time
(user-space send() to user-space recv(), perf_counter_ns).
Everything is bounded: at most COUNT requests and DEADLINE_S seconds.
Prints one JSON object on stdout.
"""
import json
import socket
import statistics
import struct
import sys
import time

ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4
LOSS_TIMEOUT_S = 0.05


def main():
    iface, src_ip, dst_ip = sys.argv[1], sys.argv[2], sys.argv[3]
    count, window = int(sys.argv[4]), int(sys.argv[5])
    deadline_s = float(sys.argv[6]) if len(sys.argv) > 6 else 20.0

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    s.bind((iface, ETH_P_ARP))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    mac = s.getsockname()[4][:6]
    sip, tip = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    req = (b"\xff" * 6 + mac + struct.pack("!H", ETH_P_ARP)
           + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + sip + b"\x00" * 6 + tip)
    req += b"\x00" * (60 - len(req))  # pad to the Ethernet minimum like the kernel does

    sent = received = lost = 0
    outstanding = 0
    rtts = []
    t_send = 0
    start = time.perf_counter_ns()
    end_by = start + int(deadline_s * 1e9)
    last_progress = start
    s.settimeout(LOSS_TIMEOUT_S)
    while received + lost < count:
        now = time.perf_counter_ns()
        if now > end_by:
            break
        while outstanding < window and sent < count:
            t_send = time.perf_counter_ns()
            s.send(req)
            sent += 1
            outstanding += 1
        try:
            data, addr = s.recvfrom(128)
        except socket.timeout:
            lost += outstanding
            outstanding = 0
            continue
        t_recv = time.perf_counter_ns()
        if addr[2] == PACKET_OUTGOING or len(data) < 42:
            continue
        if data[12:14] != b"\x08\x06" or data[20:22] != b"\x00\x02" or data[28:32] != tip:
            continue
        if outstanding == 0:  # a late reply to a request already counted lost
            continue
        received += 1
        outstanding -= 1
        last_progress = t_recv
        if window == 1:
            rtts.append((t_recv - t_send) / 1000.0)
    elapsed = (last_progress - start) / 1e9
    res = {"tool": "arp_probe.py", "iface": iface, "target": dst_ip, "count": count,
           "window": window, "sent": sent, "received": received,
           "lost": sent - received, "loss_pct": 100.0 * (sent - received) / max(sent, 1),
           "elapsed_s": elapsed, "pps": received / elapsed if elapsed > 0 else 0.0}
    if rtts:
        rtts.sort()
        res["rtt_us"] = {"min": rtts[0], "avg": statistics.fmean(rtts),
                         "p50": rtts[len(rtts) // 2], "p99": rtts[int(len(rtts) * 0.99) - 1],
                         "max": rtts[-1], "mdev": statistics.pstdev(rtts)}
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
