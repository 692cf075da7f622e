"""TCP against the Linux kernel as the peer: the built-in services (echo,
discard, chargen, http) driven by nc, curl and wrk; the stack as a client
(console `tcp connect`) to nc -l, directly and through a gateway; crafted
segments (scapy); loss made with nftables; a peer that vanishes; a receiver
that stops reading. Every stack is leak-checked at teardown (mbufs back at
their starting count, clean SIGTERM)."""
import contextlib
import hashlib
import json
import re
import subprocess
import time

import pytest

from conftest import PEER_IP, STACK_IP, merged

SERVICES = {"tcp_echo": {"enabled": True, "port": 7}, "tcp_discard": {"enabled": True, "port": 9},
            "tcp_chargen": {"enabled": True, "port": 19}, "http": {"enabled": True, "port": 80}}
PATTERN = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+\n"


def config(**over):
    return merged({"ports": [{"address": f"{STACK_IP}/24"}], "services": SERVICES}, over)


def pattern_sha(n):
    h = hashlib.sha256()
    block = PATTERN * 16384
    while n > 0:
        k = min(n, len(block))
        h.update(block[:k])
        n -= k
    return h.hexdigest()


@pytest.fixture(params=["tap", "af_packet"])
def tstack(request, make_stack):
    return make_stack(request.param, check=True, config=config(), interactive=True).start()


def sh_ns(s, script, timeout=60):
    """Runs a shell pipeline in the stack's namespace."""
    return s.exec(["sh", "-c", script], check=False, timeout=timeout)


@contextlib.contextmanager
def server(popen, cmd, **kw):
    """A server process for the length of a `with` block: started with
    `popen` (a namespace's popen), ended by its PID afterwards, also when
    the test fails. The command runs without a shell in between (ip netns
    exec execs it), so its PID is the server's own."""
    p = popen(cmd, **kw)
    try:
        yield p
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)


def tcp_counters(s):
    return {k: v for k, v in s.counters().items() if k.startswith("tcp_")}


# ---- services -------------------------------------------------------------------------

def test_echo_nc_lines_and_half_close_fin_exchange(tstack, tmp_path):
    s = tstack
    cap = tmp_path / "fin.pcap"
    dump = s.popen_in_ns(["tcpdump", "--immediate-mode", "-i", s.ifname, "-n", "-U", "-w", str(cap), "tcp port 7"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        line = ""
        while time.time() < deadline and "listening" not in line:
            line = dump.stderr.readline()
        time.sleep(0.3)
        r = s.exec(["nc", "-N", STACK_IP, "7"], input="one\ntwo\nthree\n", check=False, timeout=20)
        assert r.returncode == 0 and r.stdout == "one\ntwo\nthree\n", r.stdout
        time.sleep(0.5)
    finally:
        dump.terminate()
        dump.wait(10)
    out = subprocess.run(["tcpdump", "-r", str(cap), "-n"], capture_output=True, text=True).stdout
    lines = [l for l in out.splitlines() if "Flags" in l]
    fins = [l for l in lines if "F" in l.split("Flags [")[1].split("]")[0]]
    # The client's FIN first (nc -N half-closes), then ours (echo closes
    # once all is echoed), each acknowledged: RFC 9293 3.6's normal close.
    assert len(fins) == 2, out
    assert f"> {STACK_IP}.7:" in fins[0] and f"{STACK_IP}.7 >" in fins[1], out
    last = lines[-1]
    assert f"> {STACK_IP}.7:" in last and "Flags [.]" in last, out  # the final ACK of our FIN
    assert not any("Flags [R" in l for l in lines), out


def test_http_page_bytes_and_errors(tstack):
    s = tstack
    r = s.exec(["curl", "-sS", "--max-time", "10", f"http://{STACK_IP}/"], check=False, timeout=20)
    assert r.returncode == 0 and "dpdk-stack" in r.stdout, r.stdout
    r = sh_ns(s, f"curl -sS --max-time 60 http://{STACK_IP}/bytes/100000000 | sha256sum", timeout=90)
    assert r.stdout.split()[0] == pattern_sha(100_000_000), r.stdout
    r = s.exec(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://{STACK_IP}/nowhere"], check=False)
    assert r.stdout == "404", r.stdout
    r = s.exec(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", f"http://{STACK_IP}/"],
               check=False)
    assert r.stdout == "405", r.stdout
    r = s.exec(["nc", "-N", STACK_IP, "80"], input="NONSENSE\r\n\r\n", check=False, timeout=10)
    assert r.stdout.startswith("HTTP/1.1 400 "), r.stdout
    # HEAD: the length, no body; Content-Length right on a keep-alive pair.
    r = s.exec(["curl", "-sI", f"http://{STACK_IP}/bytes/12345"], check=False)
    assert "Content-Length: 12345" in r.stdout, r.stdout
    r = sh_ns(s, f"curl -s http://{STACK_IP}/bytes/1000 http://{STACK_IP}/bytes/7 | wc -c")
    assert r.stdout.strip() == "1007", r.stdout


@pytest.mark.parametrize("close", [False, True], ids=["keepalive", "close"])
def test_wrk_without_errors(make_stack, close):
    s = make_stack("tap", check=True, config=config()).start()
    cmd = ["taskset", "-c", "0", "wrk", "-t", "1", "-c", "100", "-d", "3", "--timeout", "2s"]
    if close:
        cmd += ["-H", "Connection: close"]
    r = s.exec([*cmd, f"http://{STACK_IP}/"], check=False, timeout=30)
    assert r.returncode == 0, r.stdout
    assert "Socket errors" not in r.stdout and "Non-2xx" not in r.stdout, r.stdout
    n = int(re.search(r"(\d+) requests in", r.stdout).group(1))
    assert n > 1000, r.stdout


def test_chargen_and_discard(tstack):
    s = tstack
    r = sh_ns(s, f"timeout 3 nc {STACK_IP} 19 </dev/null | head -c 740", timeout=20)
    lines = [l.rstrip("\r") for l in r.stdout.split("\n")]
    assert lines[0] == "".join(chr(32 + j) for j in range(72)), lines[0]
    assert lines[1] == "".join(chr(32 + (1 + j) % 95) for j in range(72)), lines[1]
    before = tcp_counters(s).get("tcp_in_segs", 0)
    r = sh_ns(s, f"head -c 5000000 /dev/zero | nc -N {STACK_IP} 9", timeout=30)
    assert r.returncode == 0, r.stdout
    assert tcp_counters(s)["tcp_in_segs"] - before > 3000


# ---- the stack as a client --------------------------------------------------------------

def test_console_connect_to_nc_both_ways(tstack, tmp_path):
    s = tstack
    out = tmp_path / "got"
    # nc itself is the process we start (ip netns exec execs it), so that
    # ending it by its PID ends it: no shell in between to orphan it.
    with server(s.popen_in_ns, ["nc", "-l", PEER_IP, "8888"], stdin=subprocess.PIPE, stdout=open(out, "wb")) as srv:
        wait_port(s, 8888)
        r = s.command(f"tcp connect {PEER_IP} 8888")
        assert "established" in r, r
        cid = re.search(r"Connection (\d+)", r).group(1)
        assert "Sent 12 of 12" in s.command(f"tcp send {cid} hello world")
        srv.stdin.write(b"greetings from nc\n")
        srv.stdin.flush()
        got = ""
        deadline = time.time() + 5
        while "greetings from nc" not in got and time.time() < deadline:
            got += s.command(f"tcp recv {cid}")
            time.sleep(0.1)
        assert "greetings from nc" in got, got
        tcp = s.command("show tcp")
        assert re.search(rf"ESTABLISHED\s+\S+\s+{PEER_IP}:8888\s+console-{cid}", tcp), tcp
        assert "closing" in s.command(f"tcp close {cid}")
        srv.stdin.close()
        srv.wait(10)
    assert out.read_text() == "hello world\n"


def test_console_connect_bulk_send_and_echo(tstack, tmp_path):
    s = tstack
    got = tmp_path / "bulk"
    with server(s.popen_in_ns, ["nc", "-l", PEER_IP, "8889"], stdout=open(got, "wb")) as srv:
        wait_port(s, 8889)
        r = s.command(f"tcp connect {PEER_IP} 8889 send 20000000")
        assert "established" in r, r
        srv.wait(60)
    assert hashlib.sha256(got.read_bytes()).hexdigest() == pattern_sha(20_000_000)
    # Echo mode: nc sends a file and keeps what comes back.
    src, back = tmp_path / "src", tmp_path / "back"
    src.write_bytes(bytes(range(256)) * 40000)
    with server(s.popen_in_ns, ["nc", "-N", "-l", PEER_IP, "8890"], stdin=open(src, "rb"),
                stdout=open(back, "wb")) as srv:
        wait_port(s, 8890)
        assert "established" in s.command(f"tcp connect {PEER_IP} 8890 echo")
        srv.wait(60)
    assert back.read_bytes() == src.read_bytes()


def test_connect_through_gateway(make_stack, tmp_path):
    """The stack reaches 10.9.0.2 (a namespace behind the kernel at 10.0.0.2)
    by a route via 10.0.0.2."""
    cfg = config(routes=[{"prefix": "10.9.0.0/24", "via": PEER_IP}])
    s = make_stack("tap", check=True, config=cfg, interactive=True).start()
    far = f"far{s.id}"
    subprocess.run(["ip", "netns", "add", far], check=True)
    try:
        s.exec(["ip", "link", "add", "gw0", "type", "veth", "peer", "name", "far0", "netns", far])
        s.exec(["ip", "addr", "add", "10.9.0.1/24", "dev", "gw0"])
        s.exec(["ip", "link", "set", "gw0", "up"])
        s.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        fx = ["ip", "netns", "exec", far]
        subprocess.run([*fx, "ip", "addr", "add", "10.9.0.2/24", "dev", "far0"], check=True)
        subprocess.run([*fx, "ip", "link", "set", "far0", "up"], check=True)
        subprocess.run([*fx, "ip", "link", "set", "lo", "up"], check=True)
        subprocess.run([*fx, "ip", "route", "add", "10.0.0.0/24", "via", "10.9.0.1"], check=True)
        got = tmp_path / "far"
        with server(subprocess.Popen, [*fx, "nc", "-l", "10.9.0.2", "7777"], stdout=open(got, "wb")) as srv:
            deadline = time.time() + 10
            while ":7777 " not in subprocess.run([*fx, "ss", "-Htln"], capture_output=True, text=True).stdout:
                assert time.time() < deadline
                time.sleep(0.1)
            r = s.command("tcp connect 10.9.0.2 7777 send 3000000")
            assert "established" in r, r
            srv.wait(60)
        assert hashlib.sha256(got.read_bytes()).hexdigest() == pattern_sha(3_000_000)
    finally:
        subprocess.run(["ip", "netns", "del", far], check=False)


def wait_port(s, port, timeout=10):
    deadline = time.time() + timeout
    while f":{port} " not in s.exec(["ss", "-Htln"], check=False).stdout:
        assert time.time() < deadline, f"nothing listens on {port}"
        time.sleep(0.05)


# ---- crafted segments --------------------------------------------------------------------

def test_closed_port_rst(tstack):
    s = tstack
    r = s.scapy("tcp_checks.py", s.ifname, s.mac, STACK_IP, PEER_IP, "closed")
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout
    t0 = time.time()
    r = s.exec(["nc", "-v", "-w", "3", STACK_IP, "5556"], check=False, input="", timeout=20)
    assert "refused" in r.stdout.lower() and time.time() - t0 < 2.5, r.stdout
    assert s.drops()["tcp_no_socket"] >= 3
    assert s.counters()["tcp_out_rsts"] >= 3


def test_malformed_segments_dropped_and_counted(tstack):
    s = tstack
    before = s.drops()
    r = s.scapy("tcp_checks.py", s.ifname, s.mac, STACK_IP, PEER_IP, "malformed", "7")
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout
    after = s.drops()
    d = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    assert d == {"tcp_bad_checksum": 1, "tcp_bad_offset": 2, "tcp_bad_flags": 2, "tcp_bad_options": 2}, d
    # Still serving.
    r = s.exec(["nc", "-N", STACK_IP, "7"], input="alive\n", check=False, timeout=10)
    assert r.stdout == "alive\n"


def test_synack_options(tstack):
    s = tstack
    r = s.scapy("tcp_checks.py", s.ifname, s.mac, STACK_IP, PEER_IP, "synack", "80")
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout


def test_show_tcp_stats_mib(tstack):
    s = tstack
    s.exec(["curl", "-s", "-o", "/dev/null", f"http://{STACK_IP}/"], check=False)
    out = s.command("show tcp stats")
    for name in ("ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets", "CurrEstab", "InSegs", "OutSegs",
                 "RetransSegs", "InErrs", "OutRsts"):
        assert re.search(rf"{name}\s+\d+", out), out
    assert int(re.search(r"PassiveOpens\s+(\d+)", out).group(1)) >= 1
    mib = s.telemetry.query("/dpdkstack/tcp")
    assert mib["PassiveOpens"] >= 1


# ---- loss, a vanished peer, a stalled reader ----------------------------------------------

LOSS = """table inet loss {{
  chain out {{ type filter hook output priority 0; ip daddr {ip} numgen random mod 100 < {pct} drop; }}
  chain in {{ type filter hook input priority 0; ip saddr {ip} numgen random mod 100 < {pct} drop; }}
}}
"""


GONE = """table inet gone {{
  chain in {{ type filter hook input priority 0; ip saddr {ip} drop; }}
  chain out {{ type filter hook output priority 0; ip daddr {ip} drop; }}
}}
"""


def test_1gib_each_way_with_1pct_loss(make_stack, tmp_path):
    s = make_stack("tap", check=True, config=config()).start()
    s.exec(["nft", "-f", "-"], input=LOSS.format(ip=STACK_IP, pct=1))
    src = tmp_path / "src"
    with open(src, "wb") as f:  # 1 GiB, deterministic and not compressible
        h = hashlib.sha256(b"seed")
        block = b"".join(hashlib.sha256(h.digest() + bytes([i])).digest() for i in range(256)) * 128
        for i in range((1 << 30) // len(block)):
            f.write(block[i % 7:] + block[:i % 7])
    want = hashlib.sha256(src.read_bytes()).hexdigest()
    t0 = time.time()
    r = sh_ns(s, f"nc -N {STACK_IP} 7 < {src} | sha256sum", timeout=900)
    took = time.time() - t0
    assert r.stdout.split()[0] == want, r.stdout
    c = s.counters()
    assert c["tcp_retrans_segs"] > 0 and c["tcp_fast_retransmits"] > 0, c
    print(f"1 GiB each way through echo with 1% loss each way: {took:.1f} s, "
          f"{c['tcp_retrans_segs']} retransmissions, {c.get('tcp_rto_timeouts', 0)} RTOs")
    s.exec(["nft", "flush", "ruleset"])


def test_vanished_peer_backs_off_and_aborts(make_stack):
    cfg = config(tcp={"max_retries": 4, "rto_min_ms": 100, "rto_initial_ms": 200})
    s = make_stack("tap", check=True, config=cfg, interactive=True).start()
    with server(s.popen_in_ns, ["nc", "-l", PEER_IP, "8891"], stdout=subprocess.DEVNULL), \
            contextlib.ExitStack() as undo:
        undo.callback(lambda: s.exec(["nft", "flush", "ruleset"], check=False))
        wait_port(s, 8891)
        r = s.command(f"tcp connect {PEER_IP} 8891")
        cid = re.search(r"Connection (\d+)", r).group(1)
        assert "established" in r, r
        s.exec(["nft", "-f", "-"], input=GONE.format(ip=STACK_IP))
        s.command(f"tcp send {cid} anybody there")
        # 100 ms min RTO doubling over 4 retries: gone within a few seconds.
        deadline = time.time() + 20
        out = ""
        while time.time() < deadline and "timed out" not in out:
            out = s.command("tcp list")
            time.sleep(0.2)
        assert "timed out" in out, out
        c = s.counters()
        assert c["tcp_retry_aborts"] >= 1 and c["tcp_rto_timeouts"] >= 4, c
        assert c["tcp_estab_resets"] >= 1, c


def test_stalled_reader_zero_window_persist(make_stack, tmp_path):
    """A receiver that stops reading: its window closes, persist probes flow
    (with backoff) and the transfer completes intact once it reads again."""
    s = make_stack("tap", check=True, config=config(), interactive=True).start()
    got = tmp_path / "slow"
    reader = tmp_path / "reader.py"
    reader.write_text(
        "import socket, sys, time\n"
        "l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)\n"
        f"l.bind(('{PEER_IP}', 8892)); l.listen(1)\n"
        "c, _ = l.accept(); time.sleep(4)  # not reading\n"
        f"out = open('{got}', 'wb')\n"
        "while True:\n"
        "    b = c.recv(65536)\n"
        "    if not b: break\n"
        "    out.write(b)\n")
    with server(s.popen_in_ns, ["/usr/bin/python3", str(reader)]) as srv:
        wait_port(s, 8892)
        r = s.command(f"tcp connect {PEER_IP} 8892 send 3000000")
        assert "established" in r, r
        time.sleep(2.5)
        mid = s.command("show tcp")
        probes_mid = s.counters().get("tcp_persist_probes", 0)
        assert "persist" in mid and re.search(r"snd_wnd 0 ", mid), mid
        assert probes_mid >= 1
        srv.wait(60)
    assert hashlib.sha256(got.read_bytes()).hexdigest() == pattern_sha(3_000_000)


def test_two_engines_server_and_client(make_stack, tmp_path):
    """Two engines on two tap queues (the kernel spreads flows over them):
    many HTTP connections are served on both, and the console's client
    connections (engine 0) work whichever queue their answers arrive on
    (a segment no connection matches goes to the engine RSS names)."""
    s = make_stack("tap", check=True, config=config(), lcores="0-2", eal_extra=("--lcores", "0@0,1@1,2@1"),
                   interactive=True)
    s.eal = [a for a in s.eal if a not in ("-l", "0-2")]
    s.start()
    assert "2 engine(s)" in s.output()
    r = s.exec(["taskset", "-c", "0", "wrk", "-t", "1", "-c", "32", "-d", "2", f"http://{STACK_IP}/"], check=False,
               timeout=30)
    assert "Socket errors" not in r.stdout and "Non-2xx" not in r.stdout, r.stdout
    tcp = s.telemetry.query("/dpdkstack/tcp")
    assert tcp["PassiveOpens"] >= 32
    for i in range(6):
        port = 8900 + i
        got = tmp_path / f"c{i}"
        with server(s.popen_in_ns, ["nc", "-l", PEER_IP, str(port)], stdout=open(got, "wb")) as srv:
            wait_port(s, port)
            r = s.command(f"tcp connect {PEER_IP} {port} send 200000")
            assert "established" in r, r
            srv.wait(30)
        assert hashlib.sha256(got.read_bytes()).hexdigest() == pattern_sha(200_000)
