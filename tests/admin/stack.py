"""An engine with its operations turned on, for the metrics, logs and admin tests.

`OpsStack` is the e2e stack (tests/e2e/conftest.py) with the settings these tests need:
the real simulator with the certification scenario, and `fixrouter run` as a child
process (integration.harness) with `/metrics` on a known free port, the admin socket,
the JSON event log and the FIX message log in the working directory, a configured
strategy token, and whatever `[risk]` a test passes. Strategies are the e2e `Strategy`.
The CLI is run as the operator runs it: `python -m fixrouter.cli ... --config FILE`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.conftest import SCENARIO, Strategy  # type: ignore[import-not-found]
from fixrouter.client import BlockingClient
from fixrouter.sim.process import free_port
from integration.harness import RouterProcess, SimHandle, write_config  # type: ignore[import-not-found]

TOKEN = "tok-9f3c1d-do-not-log"
"""The configured token of strategy `secret-strat` (tests check no log ever shows it)."""

LOOSE_RISK = """
[risk.global]
missing_reference = "warn"
max_order_qty = 500
duplicate_window_ms = 0
max_open_orders_symbol_side = "off"

[risk.kill_switch]
max_denials = 0
max_rejects = 0
"""


class OpsStack:
    def __init__(self, workdir: Path, risk: str = LOOSE_RISK) -> None:
        self.workdir = workdir
        self.engines: list[RouterProcess] = []
        self.strategies: list[Strategy] = []
        self.clients: list[BlockingClient] = []
        scenario = workdir / "scenario.toml"
        scenario.write_text(SCENARIO)
        self.sim = SimHandle(workdir / "sim", free_port(), ["--scenario", str(scenario)])
        self.sim.start()  # killed by stop(), even if the engine then fails to start
        self.gateway_port = free_port()
        self.metrics_port = free_port()
        self.url = f"tcp://127.0.0.1:{self.gateway_port}"
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        self.store = workdir / "store"
        self.socket = workdir / "admin.sock"
        self.event_log = workdir / "logs" / "events.jsonl"
        self.fix_log = workdir / "logs" / "fix.log"
        self.risk = risk
        self.config = self.write_config(risk)
        self.start_engine()

    def write_config(self, risk: str) -> Path:
        tables = f"""
[gateway.clients.secret-strat]
token_env = "OPS_TEST_TOKEN"

[admin]
socket = "{self.socket}"

[logging]
event_log = "{self.event_log}"
fix_log = "{self.fix_log}"
level = "INFO"

{risk}
"""
        return write_config(self.workdir / "router.toml", self.sim.port, self.store,
                            heartbeat=5, gateway_port=self.gateway_port,
                            metrics=f"127.0.0.1:{self.metrics_port}", tables=tables)

    def start_engine(self) -> RouterProcess:
        os.environ["OPS_TEST_TOKEN"] = TOKEN  # the child inherits it, as under systemd
        engine = RouterProcess(self.workdir, self.config, tag="engine")
        self.engines.append(engine)
        engine.wait_log("asked IB for every open order", timeout=20)
        return engine

    @property
    def engine(self) -> RouterProcess:
        return self.engines[-1]

    def strategy(self, name: str) -> Strategy:
        s = Strategy(self.url, name)
        self.strategies.append(s)
        return s

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`fixrouter ARGS --config FILE` as an operator runs it (check-config: as given)."""
        extra = [] if args[0] == "check-config" else ["--config", str(self.config)]
        return subprocess.run([sys.executable, "-m", "fixrouter.cli", *args, *extra],
                              capture_output=True, text=True, input=stdin, timeout=30)

    def stop(self) -> None:
        for s in self.strategies:
            s.close()
        for c in self.clients:
            c.close()
        for engine in self.engines:
            engine.kill9()
        self.sim.kill()


@pytest.fixture
def ops_stack(request: pytest.FixtureRequest) -> Iterator[type[OpsStack]]:
    """Build `OpsStack(workdir, risk=...)` stacks; each is killed after the test."""
    made: list[tuple[Path, OpsStack]] = []

    class Made(OpsStack):
        def __init__(self, risk: str = LOOSE_RISK) -> None:  # type: ignore[override]
            path = Path(tempfile.mkdtemp(prefix="frops-", dir="/tmp"))
            made.append((path, self))
            super().__init__(path, risk)

    failed_before = request.session.testsfailed
    try:
        yield Made
    finally:
        for path, stack in made:
            stack.stop()
            if request.session.testsfailed > failed_before or os.environ.get(
                    "FIXROUTER_KEEP_WORKDIR"):
                print(f"\nkept working directory {path}")
            else:
                shutil.rmtree(path, ignore_errors=True)
