#!/usr/bin/python3
"""Sends IPv4 datagrams built by a scapy expression and reports, as one line
of JSON, every ICMP message that arrives in this namespace meanwhile.

Usage: ipsend.py [--wait SECONDS] [--until N] [--gap MS] EXPR

EXPR is a Python expression over scapy.all and the helpers below that gives
one IP packet or a list of them (fragments included, in the order given).
They go out through a raw IPv4 socket with IP_HDRINCL: the kernel of this
namespace routes them and resolves the next hop (ARP on tap and af_packet,
nothing on tun) but sends every header field as built, except total length
and header checksum, which it recomputes (so they stay valid). Nothing is
fragmented or reassembled on the way out. (A datagram larger than a path MTU
the kernel learnt earlier is refused with EMSGSIZE: `ip route flush cache`
first.)

ICMP is received on a raw ICMP socket opened before the first send, so what
is reported arrived after it; the kernel has already reassembled fragmented
replies. Listening stops after --wait seconds, or earlier once --until
messages arrived.

Output: {"sent": [{"len", "id", "frag", "mf", "df", "ttl", "proto", "dst"}...],
         "icmp": [{"src", "dst", "type", "code", "ttl", "id", "seq", "mtu",
                   "data_len", "data_sha256", "data_hex",
                   "quote": {"src", "dst", "proto", "id", "frag", "mf", "df",
                             "ttl", "len", "l4_hex", "icmp_type", "icmp_id",
                             "icmp_seq", "sport", "dport"}}...]}
("quote" only for error types 3, 4, 5, 11, 12; data_hex holds at most the
first 2048 bytes of the ICMP data; "mtu" is the next-hop MTU of type 3 code 4.)
"""
import argparse
import hashlib
import json
import random
import select
import socket
import struct
import sys
import time

from scapy.all import ICMP, IP, TCP, UDP, Raw, conf, raw  # noqa: F401 (for EXPR)

conf.verb = 0


# ---- helpers for EXPR -------------------------------------------------------

def data(n, seed=1):
    """n deterministic bytes; conftest.payload(n, seed) builds the same."""
    return random.Random(seed).randbytes(n)


def echo(dst, size=56, seed=1, src=None, ident=0x4242, seq=1, ipid=0x1234, ttl=64, df=False, **ipkw):
    """An ICMP echo request carrying data(size, seed)."""
    ip = IP(dst=dst, id=ipid, ttl=ttl, flags="DF" if df else 0, **ipkw)
    if src:
        ip.src = src
    return ip / ICMP(type=8, id=ident, seq=seq) / Raw(data(size, seed))


def body(pkt):
    """The IP payload bytes of pkt (checksums computed)."""
    b = raw(pkt)
    ihl = (b[0] & 0x0F) * 4
    return b[ihl:]


def header(pkt):
    """An IP header like pkt's, without payload (for building fragments)."""
    h = IP(raw(pkt)[:(raw(pkt)[0] & 0x0F) * 4])
    del h.len, h.chksum
    h.remove_payload()
    return h


def frag(pkt, off, length=None, mf=None, content=None):
    """One fragment of pkt: payload bytes [off, off+length) (or `content`
    instead), at fragment offset off (bytes, multiple of 8). mf defaults to
    "more bytes of the original follow"."""
    b = body(pkt)
    chunk = content if content is not None else b[off:off + (len(b) - off if length is None else length)]
    if mf is None:
        mf = off + len(chunk) < len(b)
    h = header(pkt)
    h.frag = off // 8
    h.flags = (int(h.flags) & 0x2) | (0x1 if mf else 0)  # keep DF, set MF
    return h / Raw(chunk)


def frags(pkt, size):
    """pkt's payload cut into fragments of `size` bytes (multiple of 8) each."""
    n = len(body(pkt))
    return [frag(pkt, off, size) for off in range(0, n, size)]


def shuffled(lst, seed=7):
    lst = list(lst)
    random.Random(seed).shuffle(lst)
    return lst


# ---- sending and listening ---------------------------------------------------

def describe_quote(q):
    if len(q) < 20:
        return {"raw_hex": q.hex()}
    ihl = (q[0] & 0x0F) * 4
    frag_field = struct.unpack("!H", q[6:8])[0]
    l4 = q[ihl:]
    d = {"src": socket.inet_ntoa(q[12:16]), "dst": socket.inet_ntoa(q[16:20]), "proto": q[9],
         "id": struct.unpack("!H", q[4:6])[0], "frag": frag_field & 0x1FFF, "mf": bool(frag_field & 0x2000),
         "df": bool(frag_field & 0x4000), "ttl": q[8], "len": struct.unpack("!H", q[2:4])[0],
         "l4_hex": l4.hex()}
    if q[9] == 1 and len(l4) >= 8:
        d.update(icmp_type=l4[0], icmp_id=struct.unpack("!H", l4[4:6])[0], icmp_seq=struct.unpack("!H", l4[6:8])[0])
    if q[9] in (6, 17) and len(l4) >= 4:
        d.update(sport=struct.unpack("!H", l4[0:2])[0], dport=struct.unpack("!H", l4[2:4])[0])
    return d


def describe(pkt):
    ihl = (pkt[0] & 0x0F) * 4
    total = struct.unpack("!H", pkt[2:4])[0]
    icmp = pkt[ihl:total]
    t, c = icmp[0], icmp[1]
    rest = icmp[8:]
    d = {"src": socket.inet_ntoa(pkt[12:16]), "dst": socket.inet_ntoa(pkt[16:20]), "ttl": pkt[8],
         "type": t, "code": c, "id": struct.unpack("!H", icmp[4:6])[0], "seq": struct.unpack("!H", icmp[6:8])[0],
         "data_len": len(rest), "data_sha256": hashlib.sha256(rest).hexdigest(), "data_hex": rest[:2048].hex()}
    if t == 3 and c == 4:
        d["mtu"] = struct.unpack("!H", icmp[6:8])[0]
    if t in (3, 4, 5, 11, 12):
        d["quote"] = describe_quote(rest)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wait", type=float, default=2.0)
    ap.add_argument("--until", type=int, default=None)
    ap.add_argument("--gap", type=float, default=1.0, help="milliseconds between datagrams")
    ap.add_argument("expr")
    a = ap.parse_args()
    pkts = eval(a.expr)  # the test's own expression
    if not isinstance(pkts, (list, tuple)):
        pkts = [pkts]

    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    tx.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sent = []
    for p in pkts:
        b = raw(p)
        tx.sendto(b, (p[IP].dst, 0))
        f = struct.unpack("!H", b[6:8])[0]
        sent.append({"len": len(b), "id": p[IP].id, "frag": f & 0x1FFF, "mf": bool(f & 0x2000),
                     "df": bool(f & 0x4000), "ttl": p[IP].ttl, "proto": p[IP].proto, "dst": p[IP].dst})
        if a.gap:
            time.sleep(a.gap / 1000)
    got = []
    deadline = time.time() + a.wait
    while time.time() < deadline and (a.until is None or len(got) < a.until):
        r, _, _ = select.select([rx], [], [], max(0.0, deadline - time.time()))
        if r:
            got.append(describe(rx.recv(1 << 17)))
    print(json.dumps({"sent": sent, "icmp": got}))


if __name__ == "__main__":
    sys.exit(main())
