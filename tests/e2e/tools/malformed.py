#!/usr/bin/python3
"""Sends COUNT copies of one kind of malformed (or unwanted) frame to the stack.
Usage: malformed.py IFACE STACK_MAC STACK_IP PEER_IP KIND COUNT
The kinds and the drop reason each must produce are listed in KINDS; the
test reads the expected reason from `--list`."""
import json
import socket
import sys
import time

from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw, conf, get_if_hwaddr, raw


def kinds(stack_mac, stack_ip, peer_ip, peer_mac):
    eth = Ether(src=peer_mac, dst=stack_mac, type=0x0800)
    good_ip = raw(IP(src=peer_ip, dst=stack_ip) / ICMP() / Raw(b"x" * 16))

    def patched(offset, value):
        b = bytearray(good_ip)
        b[offset] = value
        return bytes(b)

    return {
        # kind: (frame bytes, drop reason)
        "ip_bad_checksum": (raw(eth / IP(src=peer_ip, dst=stack_ip, chksum=0x1234) / ICMP()), "ipv4_bad_checksum"),
        "ip_ihl_below_5": (raw(eth) + patched(0, 0x44), "ipv4_bad_ihl"),
        "ip_ihl_past_frame": (raw(eth) + patched(0, 0x4F)[:40], "ipv4_bad_ihl"),
        "ip_total_length_past_frame": (raw(eth / IP(src=peer_ip, dst=stack_ip, len=1000) / ICMP()), "ipv4_bad_total_length"),
        "ip_total_length_below_ihl": (raw(eth / IP(src=peer_ip, dst=stack_ip, len=12) / ICMP()), "ipv4_bad_total_length"),
        "ip_truncated_header": (raw(eth) + good_ip[:10], "ipv4_truncated"),
        "ip_header_only_ethernet": (raw(eth), "ipv4_truncated"),
        "ip_wrong_version": (raw(eth) + patched(0, 0x65), "ipv4_bad_version"),
        # MF set but 21 bytes of data: only the last fragment may be no multiple of 8
        "ip_fragment": (raw(eth / IP(src=peer_ip, dst=stack_ip, flags="MF") / ICMP() / Raw(b"y" * 13)), "frag_inconsistent"),
        "ip_ttl_expires_forwarding": (raw(eth / IP(src=peer_ip, dst="10.0.0.77", ttl=1) / ICMP()), "ipv4_ttl_exceeded"),
        "ip_forward_to_loopback": (raw(eth / IP(src=peer_ip, dst="127.0.0.1") / ICMP()), "ipv4_not_forwardable"),
        "ip_multicast_source": (raw(eth / IP(src="224.1.2.3", dst=stack_ip) / ICMP()), "ipv4_bad_source"),
        "ip_zero_source": (raw(eth / IP(src="0.0.0.0", dst=stack_ip) / ICMP()), "ipv4_bad_source"),
        "ip_loopback_source": (raw(eth / IP(src="127.0.0.1", dst=stack_ip) / ICMP()), "ipv4_bad_source"),
        "ip_unicast_in_link_broadcast": (raw(Ether(src=peer_mac, dst="ff:ff:ff:ff:ff:ff") / IP(src=peer_ip, dst=stack_ip) / ICMP()), "ipv4_link_broadcast"),
        "ip_unknown_protocol": (raw(eth / IP(src=peer_ip, dst=stack_ip, proto=253) / Raw(b"z" * 8)), "ipv4_unknown_protocol"),
        "icmp_bad_checksum": (raw(eth / IP(src=peer_ip, dst=stack_ip) / ICMP(chksum=0xDEAD) / Raw(b"q" * 8)), "icmp_bad_checksum"),
        "icmp_truncated": (raw(eth / IP(src=peer_ip, dst=stack_ip, proto=1) / Raw(b"\x08\x00\x00")), "icmp_truncated"),
        "icmp_unhandled_type": (raw(eth / IP(src=peer_ip, dst=stack_ip) / ICMP(type=13)), "icmp_unhandled_type"),
        "icmp_echo_to_broadcast": (raw(Ether(src=peer_mac, dst="ff:ff:ff:ff:ff:ff") / IP(src=peer_ip, dst="10.0.0.255") / ICMP()), "icmp_broadcast_echo"),
        "eth_other_mac": (raw(Ether(src=peer_mac, dst="02:00:00:00:00:99") / IP(src=peer_ip, dst=stack_ip) / ICMP()), "eth_not_for_us"),
        "eth_unknown_type": (raw(Ether(src=peer_mac, dst=stack_mac, type=0x88B5) / Raw(b"w" * 46)), "eth_unknown_type"),
        "arp_truncated": (raw(Ether(src=peer_mac, dst=stack_mac, type=0x0806)) + raw(ARP(op=1, psrc=peer_ip, pdst=stack_ip))[:20], "arp_truncated"),
        "arp_unsupported_hw": (raw(Ether(src=peer_mac, dst=stack_mac) / ARP(hwtype=6, op=1, hwsrc=peer_mac, psrc=peer_ip, pdst=stack_ip)), "arp_unsupported"),
        "arp_bad_op": (raw(Ether(src=peer_mac, dst=stack_mac) / ARP(op=5, hwsrc=peer_mac, psrc=peer_ip, pdst=stack_ip)), "arp_bad_op"),
        "arp_broadcast_sender": (raw(Ether(src=peer_mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc="ff:ff:ff:ff:ff:ff", psrc=peer_ip, pdst=stack_ip)), "arp_bad_sender"),
        "udp_truncated": (raw(eth / IP(src=peer_ip, dst=stack_ip, proto=17) / Raw(b"\x00\x01\x00")), "udp_truncated"),
        "udp_length_past_payload": (raw(eth / IP(src=peer_ip, dst=stack_ip) / UDP(sport=1000, dport=7, len=200) / Raw(b"u" * 8)), "udp_bad_length"),
        "udp_length_below_8": (raw(eth / IP(src=peer_ip, dst=stack_ip) / UDP(sport=1000, dport=7, len=4) / Raw(b"u" * 8)), "udp_bad_length"),
        "udp_bad_checksum": (raw(eth / IP(src=peer_ip, dst=stack_ip) / UDP(sport=1000, dport=7, chksum=0x1234) / Raw(b"u" * 8)), "udp_bad_checksum"),
        # no socket on the port (the stack fixture runs no services): port unreachable, then dropped
        "udp_closed_port": (raw(eth / IP(src=peer_ip, dst=stack_ip) / UDP(sport=1000, dport=5555) / Raw(b"u")), "udp_no_socket"),
    }


if __name__ == "__main__":
    conf.verb = 0
    if sys.argv[1] == "--list":
        print(json.dumps({k: v[1] for k, v in kinds("02:00:00:00:00:01", "10.0.0.1", "10.0.0.2", "02:00:00:00:00:02").items()}))
        sys.exit(0)
    iface, stack_mac, stack_ip, peer_ip, kind, count = sys.argv[1:7]
    frame, _ = kinds(stack_mac, stack_ip, peer_ip, get_if_hwaddr(iface))[kind]
    # The exact bytes, through a raw packet socket: no layer may "fix" them.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for _ in range(int(count)):
        s.send(frame)
        time.sleep(0.001)
    s.close()
    print("sent", count, kind, len(frame), "bytes")
