"""Fixtures that run the simulator as a real subprocess on a free loopback port."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from fixrouter.sim.admin import send_command
from fixrouter.sim.process import SimulatorProcess

from .peer import Peer


@dataclass
class Sim:
    """A simulator child (`SimulatorProcess`) plus the test peers talking to it."""

    process: SimulatorProcess
    peers: list[Peer] = field(default_factory=list)

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        return self.process.proc

    @property
    def port(self) -> int:
        return self.process.port

    @property
    def data_dir(self) -> Path:
        return self.process.data_dir

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
        return self.process.stop(timeout)

    def kill(self) -> None:
        for p in self.peers:
            p.close()
        self.process.kill()

    def stderr(self) -> str:
        return self.process.stderr()


def start_sim(
    data_dir: Path,
    scenario: str | None = None,
    extra: Sequence[str] = (),
    port: int | None = None,
) -> Sim:
    scenario_path = None
    if scenario is not None:
        scenario_path = data_dir.parent / f"{data_dir.name}-scenario.toml"
        scenario_path.write_text(scenario)
    return Sim(SimulatorProcess(data_dir, port=port, scenario=scenario_path, extra_args=extra))


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
