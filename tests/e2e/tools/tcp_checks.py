#!/usr/bin/python3
"""Crafted TCP segments (scapy) and what the stack must answer.
Usage: tcp_checks.py IFACE STACK_MAC STACK_IP PEER_IP CHECK [PORT]
  closed     to a closed port: a SYN gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>,
             an ACK gets <SEQ=SEG.ACK><CTL=RST>, a RST gets nothing (RFC 9293 3.10.7.1)
  malformed  to a listening PORT: a SYN with a bad checksum, a bad data offset
             (below 5, past the segment), SYN+FIN, SYN+RST, an MSS option of
             length 3, an option running past the header: no answer to any
  synack     a SYN with MSS 1000, window scale 7, SACK-permitted and timestamps
             to PORT: the SYN-ACK acknowledges SEG.SEQ+1, carries MSS, window
             scale, SACK-permitted, timestamps echoing ours, an unscaled window
Prints 'ok' and exits 0 when the stack behaved, else what went wrong."""
import os
import sys
import time

from scapy.all import IP, TCP, AsyncSniffer, Ether, Raw, conf, get_if_hwaddr, raw, sendp, srp1

iface, stack_mac, stack_ip, peer_ip, check = sys.argv[1:6]
port = int(sys.argv[6]) if len(sys.argv) > 6 else 7
conf.verb = 0
me = get_if_hwaddr(iface)
eth = Ether(src=me, dst=stack_mac)
sport = 30000 + os.getpid() % 20000


def fail(msg):
    print("FAIL", msg)
    sys.exit(1)


def with_checksum(ip_bytes):
    """The IPv4 datagram (header without options) with its TCP checksum
    recomputed over whatever bytes it holds (scapy would re-parse a broken
    option area first)."""
    b = bytearray(ip_bytes)
    b[36:38] = b"\0\0"
    seg = bytes(b[20:])
    pseudo = bytes(b[12:20]) + bytes([0, 6]) + len(seg).to_bytes(2, "big")
    data = pseudo + seg + (b"\0" if len(seg) % 2 else b"")
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    b[36:38] = (~s & 0xffff).to_bytes(2, "big")
    return bytes(b)


def flags(p):
    return str(p[TCP].flags)


if check == "closed":
    syn = eth / IP(src=peer_ip, dst=stack_ip) / TCP(sport=sport, dport=5555, flags="S", seq=1000)
    r = srp1(syn, iface=iface, timeout=3, retry=2)
    if r is None or TCP not in r:
        fail("no answer to a SYN to a closed port")
    if flags(r) != "RA" or r[TCP].seq != 0 or r[TCP].ack != 1001 or r[TCP].sport != 5555 or r[TCP].dport != sport:
        fail(f"SYN answered with {r[TCP].flags} seq {r[TCP].seq} ack {r[TCP].ack}")
    ack = eth / IP(src=peer_ip, dst=stack_ip) / TCP(sport=sport + 1, dport=5555, flags="A", seq=5, ack=777777)
    r = srp1(ack, iface=iface, timeout=3, retry=2)
    if r is None or TCP not in r:
        fail("no answer to an ACK to a closed port")
    if flags(r) != "R" or r[TCP].seq != 777777:
        fail(f"ACK answered with {r[TCP].flags} seq {r[TCP].seq}")
    sn = AsyncSniffer(iface=iface, filter=f"tcp and src host {stack_ip} and dst port {sport + 2}")
    sn.start()
    sendp(eth / IP(src=peer_ip, dst=stack_ip) / TCP(sport=sport + 2, dport=5555, flags="R", seq=9), iface=iface)
    time.sleep(1.0)
    sn.stop()
    if sn.results:
        fail(f"answered a RST: {sn.results[0]!r}")
    print("ok")
elif check == "malformed":
    base = IP(src=peer_ip, dst=stack_ip)
    segs = []
    segs.append(eth / base / TCP(sport=sport, dport=port, flags="S", seq=1, chksum=0xbeef))  # bad checksum
    for doff in (4, 15):  # below 5 words; past the 20-byte segment
        t = TCP(sport=sport, dport=port, flags="S", seq=1, dataofs=doff)
        segs.append(eth / IP(raw(base / t)))
    segs.append(eth / base / TCP(sport=sport, dport=port, flags="SF", seq=1))
    segs.append(eth / base / TCP(sport=sport, dport=port, flags="SR", seq=1))
    # MSS option with length 3; an option whose length runs past the header.
    b = bytearray(raw(base / TCP(sport=sport, dport=port, flags="S", seq=1, options=[("MSS", 1460)])))
    b[20 + 21] = 3  # the MSS option's length byte
    segs.append(Ether(src=me, dst=stack_mac, type=0x0800) / Raw(with_checksum(b)))
    b = bytearray(raw(base / TCP(sport=sport, dport=port, flags="S", seq=1, options=[("NOP", None)] * 4)))
    b[20 + 20:20 + 24] = bytes([8, 30, 1, 1])  # timestamps kind with length 30 in a 4-byte area
    segs.append(Ether(src=me, dst=stack_mac, type=0x0800) / Raw(with_checksum(b)))
    sn = AsyncSniffer(iface=iface, filter=f"tcp and src host {stack_ip} and dst port {sport}")
    sn.start()
    time.sleep(0.2)
    sendp(segs, iface=iface, inter=0.05)
    time.sleep(1.0)
    sn.stop()
    if sn.results:
        fail(f"answered a malformed segment: {sn.results[0]!r}")
    print(f"ok {len(segs)}")
elif check == "synack":
    syn = eth / IP(src=peer_ip, dst=stack_ip) / TCP(
        sport=sport, dport=port, flags="S", seq=4000000000, window=5000,
        options=[("MSS", 1000), ("WScale", 7), ("SAckOK", b""), ("Timestamp", (123456, 0))])
    r = srp1(syn, iface=iface, timeout=3, retry=2)
    if r is None or TCP not in r:
        fail("no SYN-ACK")
    t = r[TCP]
    if flags(t) != "SA" or t.ack != 4000000001:
        fail(f"got {t.flags} ack {t.ack}")
    opts = dict((k, v) for k, v in t.options if k != "NOP")
    if "MSS" not in opts or opts["MSS"] != 1460:
        fail(f"MSS {opts.get('MSS')}")
    if "WScale" not in opts or "SAckOK" not in opts or "Timestamp" not in opts:
        fail(f"options {t.options}")
    if opts["Timestamp"][1] != 123456:
        fail(f"TSecr {opts['Timestamp'][1]}")
    if t.window == 0:
        fail("zero window in the SYN-ACK")
    # Leave no half-open connection behind.
    sendp(eth / IP(src=peer_ip, dst=stack_ip) / TCP(sport=sport, dport=port, flags="R", seq=4000000001),
          iface=iface)
    print("ok")
else:
    fail(f"unknown check {check}")
