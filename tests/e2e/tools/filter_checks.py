#!/usr/bin/python3
"""Crafted datagrams for the filter tests (scapy).
Usage: filter_checks.py IFACE STACK_MAC STACK_IP PEER_IP CHECK [ARG]
  admin_prohibited PORT   a UDP datagram to PORT: ICMP type 3 code 13 from STACK_IP quoting it
Prints 'ok' and exits 0 when the stack behaved, else what went wrong."""
import os
import sys

from scapy.all import ICMP, IP, UDP, Ether, IPerror, Raw, UDPerror, conf, get_if_hwaddr, srp1

iface, stack_mac, stack_ip, peer_ip, check = sys.argv[1:6]
conf.verb = 0
eth = Ether(src=get_if_hwaddr(iface), dst=stack_mac)


def fail(msg):
    print("FAIL", msg)
    sys.exit(1)


if check == "admin_prohibited":
    port = int(sys.argv[6])
    sport = 40000 + os.getpid() % 20000
    r = srp1(eth / IP(src=peer_ip, dst=stack_ip) / UDP(sport=sport, dport=port) / Raw(b"filtered?"),
             iface=iface, timeout=3, retry=2, filter=f"icmp and src host {stack_ip}")
    if r is None or ICMP not in r:
        fail("no ICMP answer")
    if (r[ICMP].type, r[ICMP].code) != (3, 13):
        fail(f"type/code {r[ICMP].type}/{r[ICMP].code}, want 3/13")
    if UDPerror not in r or r[UDPerror].dport != port or r[UDPerror].sport != sport or r[IPerror].src != peer_ip:
        fail(f"quote wrong: {r!r}")
    print("ok")
else:
    fail(f"unknown check {check}")
