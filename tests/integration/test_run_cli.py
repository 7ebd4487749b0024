"""`fixrouter run` as a process: exit statuses and signals, without a counterparty."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fixrouter.sim.process import free_port
from fixrouter.store import JournalStore

from .harness import RouterProcess, write_config

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
