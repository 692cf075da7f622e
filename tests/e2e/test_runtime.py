"""The daemon's surfaces: arguments, config errors, console, stats, trace,
signals and cleanup, several lcores."""
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BINARY, PEER_IP, STACK_IP, sh


def run_binary(args, timeout=30):
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_help_explains_eal_split_and_every_option():
    r = run_binary(["--help"])
    assert r.returncode == 0
    for word in ["EAL", "--", "-c, --config", "-i, --interactive", "--stats-period", "--log-level", "--trace", "--vdev"]:
        assert word in r.stdout, word


BAD_CONFIGS = [
    ("unknown_top_key", {"ports": [{"address": "10.0.0.1/24"}], "bogus": 1}, "$.bogus"),
    ("unknown_port_key", {"ports": [{"address": "10.0.0.1/24", "speed": 10}]}, "$.ports[0].speed"),
    ("mtu_out_of_range", {"ports": [{"address": "10.0.0.1/24", "mtu": 70000}]}, "$.ports[0].mtu"),
    ("mtu_wrong_type", {"ports": [{"address": "10.0.0.1/24", "mtu": "1500"}]}, "$.ports[0].mtu"),
    ("bad_address", {"ports": [{"address": "10.0.0.300/24"}]}, "$.ports[0].address"),
    ("missing_address", {"ports": [{"mtu": 1500}]}, "$.ports[0].address"),
    ("no_ports", {"arp": {}}, "$.ports"),
    ("bad_mac", {"ports": [{"address": "10.0.0.1/24", "mac": "01:00:5e:00:00:01"}]}, "$.ports[0].mac"),
    ("bad_static_arp", {"ports": [{"address": "10.0.0.1/24"}], "arp": {"static": [{"port": 0, "ip": "x", "mac": "02:00:00:00:00:01"}]}}, "$.arp.static[0].ip"),
    ("bad_log_level", {"ports": [{"address": "10.0.0.1/24"}], "logging": {"level": "loud"}}, "$.logging.level"),
]


@pytest.mark.parametrize("name,cfg,path", BAD_CONFIGS, ids=[b[0] for b in BAD_CONFIGS])
def test_bad_config_exits_2_naming_path(tmp_path, name, cfg, path):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(cfg))
    r = run_binary(["--no-pci", "--", "-c", str(f)])
    assert r.returncode == 2, r.stderr
    assert path + ":" in r.stderr, r.stderr


def test_invalid_json_exits_2(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('{"ports": [ {"address": "10.0.0.1/24"} ')
    r = run_binary(["--", "-c", str(f)])
    assert r.returncode == 2 and "$: not valid JSON" in r.stderr, r.stderr


def test_missing_config_file_exits_2(tmp_path):
    r = run_binary(["--", "-c", str(tmp_path / "nope.json")])
    assert r.returncode == 2 and "cannot open" in r.stderr, r.stderr


def test_bad_app_option_exits_2(tmp_path):
    r = run_binary(["--", "-c", "x.json", "--stats-period", "zero"])
    assert r.returncode == 2 and "--stats-period" in r.stderr, r.stderr


def test_more_config_ports_than_devices_exits_2(make_stack):
    s = make_stack("tap", config={"ports": [{"address": "10.0.0.1/24"}, {"address": "10.1.0.1/24"}]},
                   peer_setup=False)
    s.log = open(s.log_path, "w")
    p = subprocess.run(["ip", "netns", "exec", s.ns, str(BINARY), *s.eal, "--", *s.app], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 2 and "$.ports[1]" in p.stderr, p.stderr


def test_sigterm_stops_cleanly_and_leaves_nothing(make_stack):
    s = make_stack("tap").start()
    pid = s.proc.pid
    s.ping(count=2)
    assert s.stop(signal.SIGTERM) == 0
    out = s.output()
    assert "signal 15 received" in out and "=== final statistics ===" in out
    assert "mbufs in use after shutdown: 0" in out, out
    assert not Path(f"/proc/{pid}").exists()
    assert not list(Path("/dev/hugepages").glob(f"{s.prefix}*")) if Path("/dev/hugepages").is_dir() else True
    assert not Path(f"/var/run/dpdk/{s.prefix}").exists(), "EAL runtime directory left behind"
    # The tap went away with the process.
    assert s.exec(["ip", "link", "show", s.ifname], check=False).returncode != 0


def test_sigint_stops_cleanly(make_stack):
    s = make_stack("af_packet").start()
    assert s.stop(signal.SIGINT) == 0
    assert "mbufs in use after shutdown: 0" in s.output()


def console_session(s, commands, timeout=20):
    for c in commands:
        s.proc.stdin.write(c + "\n")
        s.proc.stdin.flush()
        time.sleep(0.3)
    s.proc.stdin.close()
    rc = s.proc.wait(timeout)
    return rc, s.output()


def test_console_commands(make_stack):
    s = make_stack("tap", interactive=True).start()
    s.ping(count=3)
    rc, out = console_session(s, ["show port stats all", "show port info 0", "show port xstats 0", "show arp",
                                  "show lcores", "show drops", "show mempool", "help", "show nonsense",
                                  "clear port stats all", "show port stats 0", "quit"])
    assert rc == 0, out
    assert "NIC statistics for port 0" in out and "RX-packets:" in out
    assert "Driver name: net_tap" in out and f"IPv4 address: {STACK_IP}/24" in out
    assert "rx_good_packets" in out  # xstats
    assert PEER_IP in out and "reachable" in out  # arp
    assert "Loops/s" in out and "Busy%" in out
    assert "Reason" in out and "total" in out
    assert "dpdkstack_pool0" in out and "In use" in out
    assert "show port stats all|<port>" in out  # help
    assert "Bad arguments" in out
    assert "NIC statistics for port 0 cleared" in out
    assert "Bye." in out and "mbufs in use after shutdown: 0" in out


def test_console_runs_beside_engine_on_one_lcore(make_stack):
    # One lcore: the console is polled from the engine's own loop; pings must be
    # answered while the console waits for input.
    s = make_stack("tap", interactive=True).start()
    r = s.ping(count=5)
    assert " 0% packet loss" in r.stdout
    rc, out = console_session(s, ["show lcores", "quit"])
    assert rc == 0 and "Loops/s" in out


def test_stats_period_prints_tables(make_stack):
    s = make_stack("tap", extra_app_args=("--stats-period", "1")).start()
    s.wait_for(lambda: s.output().count("NIC statistics for port 0") >= 2, timeout=6, what="two stats prints")
    assert "Cycles/pkt" in s.output()
    assert s.stop() == 0


def test_trace_logs_each_layer(make_stack, tmp_path):
    trace = tmp_path / "trace.log"
    s = make_stack("tap", extra_app_args=("--trace", str(trace))).start()
    r = s.ping(count=1)
    assert " 0% packet loss" in r.stdout
    assert s.stop() == 0
    t = trace.read_text()
    for step in ["eth  port0 rx", "ipv4 10.0.0.2 -> 10.0.0.1 proto 1", "icmp type 8", "icmp echo reply to 10.0.0.2",
                 "eth  port0 tx", "arp  request who-has 10.0.0.1", "arp  reply 10.0.0.1 is-at"]:
        assert step in t, step


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two CPUs")
def test_two_engines_with_console_on_main_lcore(make_stack):
    # Main lcore 0 runs the console, lcores 1 and 2 (both on cpu 1) run
    # engines on two queues of the tap: the kernel spreads flows over them.
    s = make_stack("tap", lcores="0-2", eal_extra=("--lcores", "0@0,1@1,2@1"), interactive=True)
    s.eal = [a for a in s.eal if a not in ("-l", "0-2")]
    s.start()
    assert "2 engine(s) on lcore(s) 1 2" in s.output()
    r = s.ping(count=5)
    assert " 0% packet loss" in r.stdout, r.stdout
    r = s.exec(["arping", "-c", "2", "-i", s.ifname, STACK_IP], check=False, timeout=20)
    assert r.returncode == 0, r.stdout
    # Whichever engine learnt the peer, both replicas know it (lock-free mailboxes).
    for engine in (0, 1):
        entry = s.wait_for(lambda: s.arp(engine).get(PEER_IP), what=f"peer in replica {engine}")
        assert entry.split()[0].lower() == s.peer_mac()
    rc, out = console_session(s, ["show lcores", "show port info 0", "show arp 1", "show arp 7", "quit"])
    assert rc == 0, out
    assert "RX queues: 2" in out
    assert "replica of engine 1 on lcore 2" in out and "Invalid engine 7" in out
    assert "mbufs in use after shutdown: 0" in out


@pytest.mark.parametrize("vdev,driver", [("net_ring0", "net_ring"), ("net_memif0,role=server,socket=SOCK", "net_memif")],
                         ids=["net_ring", "net_memif"])
def test_other_pmds_are_configured(make_stack, tmp_path, vdev, driver):
    # No peer here: the port must come up from the config, show its settings,
    # and stop cleanly (memif waits for a client, so its link stays down).
    vdev = vdev.replace("SOCK", str(tmp_path / "memif.sock"))
    s = make_stack(f"vdev:{vdev}", config={"ports": [{"address": "10.9.0.1/24", "mac": "02:00:00:00:09:01",
                                                      "mtu": 1400}]}, interactive=True).start()
    rc, out = console_session(s, ["show port info 0", "quit"])
    assert rc == 0, out
    assert f"Driver name: {driver}" in out and "IPv4 address: 10.9.0.1/24" in out
    assert "MAC address (stack): 02:00:00:00:09:01" in out and "MTU: 1400" in out
    assert "mbufs in use after shutdown: 0" in out
