"""The built-in iperf3 service (lib/services/iperf3.hpp) driven by the stock
iperf3 client (3.12) in the peer's namespace: forward, reverse (-R), four
parallel streams (-P 4) and a byte count (-n) on tap and af_packet; --bidir,
-R with -n, a UDP test refused cleanly, a second client refused as busy, a
client interrupted (SIGINT: CLIENT_TERMINATE) and one killed (SIGKILL) on
tap. Every run is read from the client's JSON (-J) and checked against the
stack's own figures: its --get-server-output view and the log line it
writes per test. mbufs in use come back to the baseline after each test.
No rate or duration is asserted (these machines are noisy)."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import STACK_IP

PORT = 5201
CONFIG = {
    "ports": [{"address": f"{STACK_IP}/24"}],
    "services": {"iperf3": {"enabled": True, "port": PORT}},
}
# The stack's per-test log line (iperf3.hpp).
DONE = re.compile(r"iperf3: test from [\d.]+:\d+ done: (\w+), (\d+) stream\(s\), "
                  r"received (\d+) bytes, sent (\d+) bytes")


def client_cmd(*args):
    """iperf3 -c against the stack, on CPU 0 when the stack polls CPU 1."""
    cmd = ["iperf3", "-c", STACK_IP, "-p", str(PORT), "-J", "--get-server-output", *args]
    return (["taskset", "-c", "0"] if (os.cpu_count() or 1) >= 2 else []) + cmd


def iperf3(s, *args, timeout=90):
    """Runs the client in the stack's namespace; returns (exit code, its JSON).
    stderr is kept apart: -J puts the JSON, errors included, on stdout."""
    r = subprocess.run(["ip", "netns", "exec", s.ns, *client_cmd(*args)], capture_output=True, text=True,
                       timeout=timeout)
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        raise AssertionError(f"iperf3 {args}: no JSON (rc {r.returncode}):\n{r.stdout}\n{r.stderr}")


def done_lines(s):
    """(mode, streams, received, sent) of every test the stack finished, in order."""
    return [(m[0], int(m[1]), int(m[2]), int(m[3])) for m in DONE.findall(s.output())]


def stack_report(s, before, what):
    """The stack's log line for the test after the first `before`."""
    lines = s.wait_for(lambda: done_lines(s)[before:] or None, timeout=10, what=f"the stack's line for {what}")
    assert len(lines) == 1, lines
    return lines[0]


def back_to_baseline(s):
    s.wait_for(lambda: s.mbufs_in_use() == s.baseline_mbufs, timeout=10,
               what=f"mbufs in use back to {s.baseline_mbufs}")


def run_ok(s, *args):
    """One successful test: the client's JSON (no error) and the stack's line."""
    before = len(done_lines(s))
    rc, out = iperf3(s, *args)
    assert rc == 0 and "error" not in out, json.dumps(out.get("error", out))[:2000]
    return out, stack_report(s, before, args)


@pytest.fixture(params=["tap", "af_packet"])
def iperf_stack(request, make_stack):
    """A started stack with the iperf3 service, leak-checked at teardown."""
    return make_stack(request.param, check=True, config=CONFIG).start()


@pytest.fixture
def tap_stack(make_stack):
    return make_stack("tap", check=True, config=CONFIG).start()


def test_forward_bytes_agree(iperf_stack):
    out, (mode, streams, received, sent) = run_ok(iperf_stack, "-t", "3")
    end = out["end"]
    assert (mode, streams, sent) == ("forward", 1, 0)
    assert end["sum_sent"]["bytes"] > 0
    # Bytes still in flight at TEST_END are counted: the receiver's figure
    # (the stack's) is the sender's.
    assert end["sum_received"]["bytes"] == end["sum_sent"]["bytes"] == received
    server = out["server_output_json"]["end"]
    assert server["sum_received"]["bytes"] == received
    assert out["start"]["test_start"]["reverse"] == 0
    back_to_baseline(iperf_stack)


def test_reverse_bytes_agree(iperf_stack):
    out, (mode, streams, received, sent) = run_ok(iperf_stack, "-t", "3", "-R")
    end = out["end"]
    assert (mode, streams, received) == ("reverse", 1, 0)
    # The stack sent (its figure is the client's "sent"); the client read
    # all of it but what was still queued when it said TEST_END.
    assert end["sum_sent"]["bytes"] == sent == out["server_output_json"]["end"]["sum_sent"]["bytes"]
    assert 0 < end["sum_received"]["bytes"] <= sent
    assert end["sum_sent"]["retransmits"] >= 0  # the stack reports its retransmissions
    back_to_baseline(iperf_stack)


def test_four_parallel_streams(iperf_stack):
    out, (mode, streams, received, sent) = run_ok(iperf_stack, "-t", "3", "-P", "4")
    end = out["end"]
    assert (mode, streams, sent) == ("forward", 4, 0)
    assert len(end["streams"]) == 4
    for st in end["streams"]:  # iperf3 matches the stack's results to its streams by id
        assert st["receiver"]["bytes"] == st["sender"]["bytes"] > 0, st
    assert end["sum_received"]["bytes"] == end["sum_sent"]["bytes"] == received
    assert len(out["server_output_json"]["start"]["connected"]) == 4
    back_to_baseline(iperf_stack)


def test_byte_count(iperf_stack):
    out, (mode, streams, received, sent) = run_ok(iperf_stack, "-n", "100M")
    end = out["end"]
    # The client stops once it has written at least -n (iperf3 3.12 may
    # write one more 128 KiB block); the stack received exactly that.
    assert end["sum_sent"]["bytes"] == end["sum_received"]["bytes"] == received >= 100 * 1024 * 1024
    assert out["start"]["test_start"]["bytes"] == 100 * 1024 * 1024
    back_to_baseline(iperf_stack)


def test_reverse_byte_count_stops_at_n(tap_stack):
    out, (mode, streams, received, sent) = run_ok(tap_stack, "-n", "10M", "-R", "-P", "2")
    end = out["end"]
    assert (mode, streams, sent) == ("reverse", 2, 10 * 1024 * 1024)
    assert end["sum_sent"]["bytes"] == end["sum_received"]["bytes"] == sent
    back_to_baseline(tap_stack)


def test_bidirectional(tap_stack):
    out, (mode, streams, received, sent) = run_ok(tap_stack, "-t", "2", "--bidir")
    end = out["end"]
    assert (mode, streams) == ("bidirectional", 2)
    assert end["sum_sent"]["bytes"] == end["sum_received"]["bytes"] == received > 0
    assert end["sum_sent_bidir_reverse"]["bytes"] == sent > 0
    assert 0 < end["sum_received_bidir_reverse"]["bytes"] <= sent
    back_to_baseline(tap_stack)


def test_udp_refused_cleanly_then_tcp_works(tap_stack):
    _, out = iperf3(tap_stack, "-u", "-t", "1")  # (with -J, iperf3 3.12 exits 0 on errors too)
    assert "not implemented" in out.get("error", ""), out
    tap_stack.wait_for(lambda: "refused: UDP tests are not served" in tap_stack.output(), what="the refusal logged")
    run_ok(tap_stack, "-t", "1")
    back_to_baseline(tap_stack)


def test_second_client_is_told_busy(tap_stack):
    before = len(done_lines(tap_stack))
    first = subprocess.Popen(["ip", "netns", "exec", tap_stack.ns, *client_cmd("-t", "5")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)  # the first test is running (it lasts 5 s)
        _, out = iperf3(tap_stack, "-t", "1")
        assert "busy" in out.get("error", ""), out
        stdout, _ = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(5)
    out = json.loads(stdout)
    assert first.returncode == 0 and "error" not in out, out.get("error")
    assert stack_report(tap_stack, before, "the first client")[2] == out["end"]["sum_received"]["bytes"] > 0
    back_to_baseline(tap_stack)


@pytest.mark.parametrize("sig,args,why", [
    (signal.SIGINT, ("-t", "20", "-P", "2"), "aborted: the client terminated"),
    (signal.SIGKILL, ("-t", "20", "-R"), "aborted: the client closed the control connection"),
])
def test_client_gone_mid_test_frees_the_server(tap_stack, sig, args, why):
    """SIGINT: iperf3 sends CLIENT_TERMINATE; SIGKILL: its kernel closes the
    sockets. Either way the test's connections go and the next client is served."""
    c = subprocess.Popen(["ip", "netns", "exec", tap_stack.ns, *client_cmd(*args)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        c.send_signal(sig)  # ip netns exec execs the client: this PID is iperf3's
        c.wait(20)
    finally:
        if c.poll() is None:
            c.kill()
            c.wait(5)
    tap_stack.wait_for(lambda: why in tap_stack.output(), timeout=10, what=why)
    back_to_baseline(tap_stack)
    out, (mode, streams, received, sent) = run_ok(tap_stack, "-t", "1")
    assert out["end"]["sum_received"]["bytes"] == received > 0
    back_to_baseline(tap_stack)
