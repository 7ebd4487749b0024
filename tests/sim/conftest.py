"""Fixtures that run the simulator as a real subprocess on a free loopback port."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from fixrouter.sim.admin import send_command

from .peer import Peer

STARTUP_TIMEOUT = 20.0  # QuickFIX import and dictionary load on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Sim:
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    stderr_path: Path
    args: list[str]
    peers: list[Peer] = field(default_factory=list)

    def admin(self, cmd: str, **fields: Any) -> dict[str, Any]:
        return send_command(self.data_dir / "admin.sock", {"cmd": cmd, **fields})

    def events(self) -> list[dict[str, Any]]:
        path = self.data_dir / "sim-events.jsonl"
        return [orjson.loads(line) for line in path.read_bytes().splitlines()]

    def wait_event(self, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events():
                if all(e.get(k) == v for k, v in match.items()):
                    return e
            if time.monotonic() > deadline:
                raise AssertionError(f"no event matching {match}")
            time.sleep(0.02)

    def peer(self, **kwargs: Any) -> Peer:
        p = Peer(self.port, **kwargs)
        self.peers.append(p)
        return p

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then wait; returns the exit status."""
        for p in self.peers:
            p.logout()  # so the simulator need not wait for a Logout answer
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self) -> None:
        for p in self.peers:
            p.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def start_sim(
    data_dir: Path,
    scenario: str | None = None,
    extra: Sequence[str] = (),
    port: int | None = None,
) -> Sim:
    port = port or free_port()
    args = [sys.executable, "-m", "fixrouter.cli", "sim", "--port", str(port)]
    args += ["--data-dir", str(data_dir)]
    if scenario is not None:
        path = data_dir.parent / f"{data_dir.name}-scenario.toml"
        path.write_text(scenario)
        args += ["--scenario", str(path)]
    args += list(extra)
    stderr_path = data_dir.parent / f"{data_dir.name}-stderr.log"
    with stderr_path.open("ab") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err)
    sim = Sim(proc, port, data_dir, stderr_path, args)
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                sim.kill()
                raise AssertionError(f"simulator did not start:\n{sim.stderr()}")
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                sim.kill()
                raise AssertionError(f"simulator exited ({proc.wait()}):\n{sim.stderr()}")
            line += chunk
    assert line.decode().strip() == f"listening on 127.0.0.1:{port}"
    return sim


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Short and under /tmp: the admin socket path must fit in 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="fxsim", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


SimFactory = Callable[..., Sim]


@pytest.fixture
def sim_factory(workdir: Path) -> Iterator[SimFactory]:
    """Start simulators; at teardown each is stopped and must have exited 0."""
    started: list[Sim] = []

    def factory(
        scenario: str | None = None, name: str = "data", extra: Sequence[str] = (),
        port: int | None = None,
    ) -> Sim:  # fmt: skip
        sim = start_sim(workdir / name, scenario, extra, port)
        started.append(sim)
        return sim

    yield factory
    failures = []
    for sim in started:
        if sim.proc.poll() is None:
            try:
                code = sim.stop()
            except subprocess.TimeoutExpired:
                failures.append("did not stop within the timeout")
                continue
            if code != 0:
                failures.append(f"exit status {code}:\n{sim.stderr()}")
    assert not failures, failures
