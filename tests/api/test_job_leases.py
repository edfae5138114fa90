"""Who may take a SQLite job over at once, without waiting for its lease: only an owner certainly dead,
a process of this host that no longer runs (the server before a restart)."""

from __future__ import annotations

import socket
import subprocess
import sys

from api.leases import died_on_this_host, replica_name, runner_stopped


def test_only_an_owner_that_no_longer_runs_on_this_host_counts_as_dead() -> None:
    host = socket.gethostname()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not died_on_this_host(f"{host}:{other.pid}:abc123"), "a running process keeps its jobs"
    finally:
        other.kill()
        other.wait(timeout=10)
    assert died_on_this_host(f"{host}:{other.pid}:abc123"), "once it is gone, its jobs are free"
    assert not died_on_this_host(f"another-{host}:{other.pid}:abc123"), "another host's processes are unknown"
    assert not died_on_this_host("not-a-name")


def test_another_runner_of_this_process_is_alive_until_it_stops() -> None:
    mine, neighbour = replica_name(), replica_name()
    assert mine != neighbour and not died_on_this_host(neighbour)
    runner_stopped(neighbour)
    assert died_on_this_host(neighbour)
    runner_stopped(mine)
