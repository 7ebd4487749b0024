"""`fixrouter run` as a process: exit statuses and signals, without a counterparty."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from fixrouter.sim.process import free_port
from fixrouter.store import JournalStore

from .harness import (
    RouterProcess,
    SimHandle,
    journal_seqs,
    order_events,
    wait_until,
    write_config,
    write_feed,
)

RUN = [sys.executable, "-m", "fixrouter.cli", "run"]


def test_a_config_error_exits_2_naming_the_key(workdir: Path) -> None:
    config = write_config(workdir / "r.toml", 9, workdir / "store", extra="HeartBtint = 5")
    result = subprocess.run([*RUN, "--config", str(config)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "unknown key 'HeartBtint' in [session]" in result.stderr
    assert not (workdir / "store").exists()  # nothing opened before the config was valid


def test_a_journal_held_by_another_process_exits_1(workdir: Path) -> None:
    store = workdir / "store"
    store.mkdir()
    config = write_config(workdir / "r.toml", free_port(), store)
    with JournalStore(store / "FIX.4.2-FIXROUTER-IB", now=time.time()):
        result = subprocess.run([*RUN, "--config", str(config)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "in use by another process" in result.stderr


def test_sigterm_while_the_counterparty_is_unreachable_exits_0_promptly(
    workdir: Path, routers: Callable[..., RouterProcess]
) -> None:
    config = write_config(workdir / "r.toml", free_port(), workdir / "store")
    router = routers(config)
    router.wait_log("connect to 127.0.0.1", count=2)  # failing and backing off
    started = time.monotonic()
    assert router.terminate() == 0
    assert time.monotonic() - started < 3


def test_help_does_not_advertise_the_test_options() -> None:
    result = subprocess.run([*RUN, "--help"], capture_output=True, text=True, check=True)
    assert "--config" in result.stdout
    assert "test" not in result.stdout


@pytest.mark.integration
def test_a_busy_polling_engine_heartbeats_answers_admin_and_signals_and_logs_out(
    workdir: Path, sim: SimHandle, routers: Callable[..., RouterProcess]
) -> None:
    """`[engine] busy_poll = true` with fsync durability: the loop never sleeps, and still
    sends heartbeats, serves the admin socket, SIGHUP and SIGTERM, and every order gets
    through its group commit to IB (that none leaves before its sync is
    tests/transport/test_connection.py's busy-poller test)."""
    store = workdir / "store"
    config = write_config(workdir / "router.toml", sim.port, store, heartbeat=1,
                          durability="fsync", tables="[engine]\nbusy_poll = true\n")
    ids = [f"BP-{i}" for i in range(200)]
    router = routers(config, feed=write_feed(workdir / "feed.txt", ids), feed_rate=500)
    router.wait_log("busy_poll: the event loop polls")
    router.wait_log("test feed: done")
    wait_until(lambda: all(order_events(sim, ids).values()), 15, "every order at the sim")

    def heartbeats() -> int:
        return sum(1 for m in sim.messages("FIXROUTER") if m.msg_type == b"0")

    seen = heartbeats()
    wait_until(lambda: heartbeats() >= seen + 2, 5, "two more heartbeats from the router")
    shown = subprocess.run(
        [sys.executable, "-m", "fixrouter.cli", "status", "--json", "--config", str(config)],
        capture_output=True, text=True, timeout=30)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    (session,) = orjson.loads(shown.stdout)["sessions"]
    assert session["logged_on"]
    router.proc.send_signal(signal.SIGHUP)
    router.wait_log("SIGHUP: risk limits reloaded")

    assert router.terminate() == 0
    assert "LOGGED_OUT: Logout answered" in router.log()
    wait_until(lambda: not sim.status()["logged_on"], 5, "the simulator to see the logout")
    sent = [m.get_str(11) for m in sim.messages("FIXROUTER") if m.msg_type == b"D"]
    assert sent == ids
    next_out, _ = journal_seqs(store)
    assert next_out > len(ids)  # each one journaled (and synced) before it went out
