#!/usr/bin/python3
"""Crafted UDP datagrams (scapy) and what the stack must answer.
Usage: udp_checks.py IFACE STACK_MAC STACK_IP PEER_IP CHECK
  unreachable  to a closed port: ICMP port unreachable (type 3 code 3) from
               STACK_IP quoting our IP header and UDP ports
  checksum     3 datagrams with a wrong checksum to echo (7): no answer; one
               with checksum 0 (none, RFC 768): echoed, with a valid checksum
  broadcast    to a closed port at the directed and limited broadcast: no ICMP
Prints 'ok' and exits 0 when the stack behaved, else what went wrong."""
import os
import sys

import time

from scapy.all import ICMP, IP, UDP, AsyncSniffer, Ether, IPerror, Raw, UDPerror, conf, get_if_hwaddr, raw, sendp, srp1

iface, stack_mac, stack_ip, peer_ip, check = sys.argv[1:6]
conf.verb = 0
me = get_if_hwaddr(iface)
eth = Ether(src=me, dst=stack_mac)


def fail(msg):
    print("FAIL", msg)
    sys.exit(1)


def valid_udp_checksum(pkt):
    u = pkt[UDP]
    got = u.chksum
    fresh = IP(raw(pkt[IP]))
    del fresh[UDP].chksum
    return got == IP(raw(fresh))[UDP].chksum


if check == "unreachable":
    sport = 40000 + os.getpid() % 20000
    q = eth / IP(src=peer_ip, dst=stack_ip, id=4242) / UDP(sport=sport, dport=5555) / Raw(b"hello?")
    r = srp1(q, iface=iface, timeout=3, retry=2)
    if r is None or ICMP not in r:
        fail(f"no ICMP answer: {r!r}")
    if (r[ICMP].type, r[ICMP].code) != (3, 3):
        fail(f"type/code {r[ICMP].type}/{r[ICMP].code}")
    if r[IP].src != stack_ip or r[IP].dst != peer_ip:
        fail(f"error from {r[IP].src} to {r[IP].dst}")
    if IPerror not in r or UDPerror not in r or r[IPerror].id != 4242 or r[IPerror].src != peer_ip or \
            r[UDPerror].sport != sport or r[UDPerror].dport != 5555:
        fail(f"quote wrong: {r!r}")
    print("ok")
elif check == "checksum":
    sport = 40000 + os.getpid() % 20000
    bad = [eth / IP(src=peer_ip, dst=stack_ip) / UDP(sport=sport, dport=7, chksum=0x1234 + i) / Raw(b"bad sum")
           for i in range(3)]
    sn = AsyncSniffer(iface=iface, filter=f"udp and src host {stack_ip} and dst port {sport}")
    sn.start()
    sendp(bad, iface=iface)
    time.sleep(1.0)
    sn.stop()
    if sn.results:
        fail(f"answered a bad checksum: {sn.results[0]!r}")
    z = eth / IP(src=peer_ip, dst=stack_ip) / UDP(sport=sport, dport=7) / Raw(b"no checksum at all")
    z = Ether(raw(z))
    z[UDP].chksum = 0
    r = srp1(z, iface=iface, timeout=3, retry=2, filter=f"udp and src host {stack_ip}")
    if r is None or UDP not in r:
        fail("no echo for a zero checksum")
    if bytes(r[UDP].payload)[:18] != b"no checksum at all" or r[UDP].dport != sport:
        fail(f"echo wrong: {r!r}")
    if r[UDP].chksum == 0 or not valid_udp_checksum(r):
        fail(f"echo checksum {r[UDP].chksum:#x} invalid")
    print("ok")
elif check == "broadcast":
    sn = AsyncSniffer(iface=iface, filter=f"icmp and src host {stack_ip}")
    sn.start()
    bc = Ether(src=me, dst="ff:ff:ff:ff:ff:ff")
    sendp([bc / IP(src=peer_ip, dst="10.0.0.255") / UDP(sport=1234, dport=5555) / Raw(b"all"),
           bc / IP(src=peer_ip, dst="255.255.255.255") / UDP(sport=1234, dport=5555) / Raw(b"all")], iface=iface)
    time.sleep(1.5)
    sn.stop()
    if sn.results:
        fail(f"ICMP about a broadcast: {sn.results[0]!r}")
    print("ok")
else:
    fail(f"unknown check {check}")
