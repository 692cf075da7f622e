#!/usr/bin/python3
"""Sends one ICMP echo request of every payload size in [lo, hi] with a
random payload and checks that each reply carries exactly the same bytes.
Usage: echo_sizes.py IFACE SRC_IP DST_IP DST_MAC LO HI
Prints 'ok N' or the first mismatches; exit status 0 only if all matched."""
import os
import sys

from scapy.all import ICMP, IP, Ether, Raw, conf, get_if_hwaddr, srp

iface, src, dst, dst_mac, lo, hi = sys.argv[1:7]
lo, hi = int(lo), int(hi)
conf.verb = 0
ident = os.getpid() & 0xFFFF
src_mac = get_if_hwaddr(iface)
sent = {}
pkts = []
for size in range(lo, hi + 1):
    payload = os.urandom(size)
    seq = size & 0xFFFF
    sent[seq] = payload
    p = Ether(src=src_mac, dst=dst_mac) / IP(src=src, dst=dst) / ICMP(id=ident, seq=seq)
    if size:
        p = p / Raw(payload)
    pkts.append(p)

# In chunks: a thousand replies at once overflow the capture socket's buffer.
ans, unans = [], []
for i in range(0, len(pkts), 64):
    a, u = srp(pkts[i:i + 64], iface=iface, timeout=2, retry=2)
    ans += list(a)
    unans += list(u)
bad = []
for q, r in ans:
    if r[ICMP].type != 0 or r[ICMP].id != ident:
        bad.append(f"seq {q[ICMP].seq}: reply type {r[ICMP].type} id {r[ICMP].id}")
        continue
    ip = r[IP]
    got = bytes(ip)[ip.ihl * 4 + 8:ip.len]  # up to the IP length: Ethernet pads short frames
    want = sent[q[ICMP].seq]
    if got != want:
        bad.append(f"size {len(want)}: payload differs (got {len(got)} bytes)")
missing = [len(sent[q[ICMP].seq]) for q in unans]
if missing:
    bad.append(f"no reply for sizes {missing[:20]}{'...' if len(missing) > 20 else ''}")
if bad:
    print("\n".join(bad[:30]))
    sys.exit(1)
print(f"ok {len(ans)}")
