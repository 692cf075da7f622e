#!/usr/bin/python3
"""UDP client checks with plain kernel sockets (run in the peer's namespace).
Usage:
  udp_client.py many HOST PORT N        N sockets (N source ports) at once, one datagram each
  udp_client.py sizes HOST PORT LO HI   one datagram of every payload size LO..HI
  udp_client.py big HOST PORT SIZE N    N datagrams of SIZE bytes, one after another
  udp_client.py refused HOST PORT       a connected socket's send is answered by ICMP port unreachable
Every payload is random; an answer counts only when it carries exactly the
bytes sent on that socket. Prints one JSON object; every wait is bounded."""
import hashlib
import json
import os
import select
import socket
import sys
import time


def sock(timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    s.settimeout(timeout)
    return s


def round_trip(s, dst, payload, tries=3):
    """Sends and waits for the same bytes back; None when they never come."""
    for _ in range(tries):
        s.sendto(payload, dst)
        deadline = time.time() + 1.5
        while time.time() < deadline:
            s.settimeout(max(0.01, deadline - time.time()))
            try:
                data, frm = s.recvfrom(65535)
            except socket.timeout:
                break
            if frm == dst and data == payload:
                return True
            if frm == dst:
                return False  # wrong bytes
    return None


def many(host, port, n):
    dst = (host, port)
    socks = [sock() for _ in range(n)]
    want = {}
    for s in socks:
        s.bind(("0.0.0.0", 0))
        want[s.fileno()] = os.urandom(32)
    ports = {s.getsockname()[1] for s in socks}
    got, wrong = set(), 0
    for attempt in range(3):
        for s in socks:
            if s.fileno() not in got:
                s.sendto(want[s.fileno()], dst)
        deadline = time.time() + 3
        while len(got) < n and time.time() < deadline:
            ready, _, _ = select.select([s for s in socks if s.fileno() not in got], [], [], 0.2)
            for s in ready:
                data, frm = s.recvfrom(65535)
                if frm == dst and data == want[s.fileno()]:
                    got.add(s.fileno())
                else:
                    wrong += 1
        if len(got) == n:
            break
    return {"sockets": n, "source_ports": len(ports), "answered": len(got), "wrong": wrong}


def sizes(host, port, lo, hi):
    s = sock()
    answered = wrong = 0
    missing = []
    for size in range(lo, hi + 1):
        r = round_trip(s, (host, port), os.urandom(size))
        if r:
            answered += 1
        elif r is None:
            missing.append(size)
        else:
            wrong += 1
    return {"answered": answered, "wrong": wrong, "missing": missing[:20]}


def big(host, port, size, n):
    s = sock()
    answered = wrong = 0
    for _ in range(n):
        payload = os.urandom(size)
        r = round_trip(s, (host, port), payload)
        answered += bool(r)
        wrong += r is False
    return {"answered": answered, "wrong": wrong, "size": size,
            "sha256_of_last": hashlib.sha256(payload).hexdigest()}


def refused(host, port):
    s = sock(timeout=1.0)
    s.connect((host, port))
    for _ in range(5):
        try:
            s.send(b"anyone there?")
            s.recv(100)
        except ConnectionRefusedError:
            return {"refused": True}
        except socket.timeout:
            continue
    return {"refused": False}


if __name__ == "__main__":
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    args = [int(a) for a in sys.argv[4:]]
    print(json.dumps({"many": many, "sizes": sizes, "big": big, "refused": refused}[mode](host, port, *args)))
