"""End-to-end fixtures: the real simulator, the real engine (`fixrouter run`), real sockets.

A `Stack` is one simulator (QuickFIX, the certification scenario plus an option symbol)
and one engine process on free loopback ports in a short temporary directory. Strategies
talk to the engine's gateway with the library's `BlockingClient`, wrapped in `Strategy`,
which keeps every event it has read so a test can wait for one and later check that
nothing else arrived. What reached IB is read from the simulator's own records: QuickFIX's
message log (`wire`) and its event log (`inbound_count`).

`stack` is shared by the whole session (tests use their own strategy names and order ids,
so they do not see each other); tests that kill processes build their own with
`make_stack`. Every process is killed at the end, whatever happened; a failing run keeps
its directory when FIXROUTER_KEEP_WORKDIR is set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fixrouter.client import (
    Accepted,
    BlockingClient,
    ClientEvent,
    Denied,
    Execution,
    OrderStatus,
    RequestError,
)
from fixrouter.codec import FixMessage
from fixrouter.sim.process import free_port
from integration.harness import RouterProcess, SimHandle, wait_until, write_config

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = (ROOT / "fix" / "scenarios" / "certification.toml").read_text() + """
# Options for the e2e tests: SPY contracts trade around 1.05.
[symbols.SPY]
reference_price = "1.05"
"""

RISK = """
# The real risk gate, with what shared-engine tests need: no reference prices are set, many
# orders rest at once, identical orders are sent on purpose, and no test may trip a kill
# switch that would stop the others.
[risk.global]
missing_reference = "warn"
allowed_security_types = ["STK", "CS", "OPT"]
max_open_orders_symbol_side = "off"
max_position = "off"
max_gross_daily_notional = "off"
duplicate_window_ms = 0
order_efficiency_warn = "off"
order_efficiency_block = "off"

[risk.throttle]
rate = 2000
burst = 500

[risk.kill_switch]
max_denials = 0
max_rejects = 0
"""

DONE = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED,
                  OrderStatus.EXPIRED})
TIMEOUT = 10.0


class Strategy:
    """One strategy connection and every event it has read so far."""

    def __init__(self, url: str, name: str) -> None:
        self.name = name
        self.client = BlockingClient.connect(url, name)
        self.events: list[ClientEvent] = []

    def read(self, seconds: float) -> None:
        """Read whatever arrives within `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            event = self.client.next_event(left)
            if event is not None:
                self.events.append(event)

    def wait(self, match: Callable[[ClientEvent], bool], what: str,
             timeout: float = TIMEOUT) -> Any:
        """The first event read (now or earlier) that `match`es."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if match(event):
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no {what} within {timeout}s; "
                                     f"last events: {self.events[-8:]}")
            event = self.client.next_event(min(left, 0.5))
            if event is not None:
                self.events.append(event)

    def of(self, order_id: str) -> list[ClientEvent]:
        return [e for e in self.events if getattr(e, "id", None) == order_id]

    def accepted(self, order_id: str) -> Accepted:
        return self.wait(lambda e: isinstance(e, Accepted) and e.id == order_id,
                         f"accepted {order_id}")  # type: ignore[no-any-return]

    def exec(self, order_id: str, exec_type: str, nth: int = 1) -> Execution:
        """The `nth` execution report of `exec_type` for the order."""
        def match(e: ClientEvent) -> bool:
            return isinstance(e, Execution) and e.id == order_id and e.exec_type == exec_type

        self.wait(lambda _: sum(map(match, self.events)) >= nth,
                  f"{nth} x exec {exec_type} for {order_id}")
        return [e for e in self.events if match(e)][nth - 1]  # type: ignore[return-value]

    def done(self, order_id: str) -> Execution:
        return self.wait(lambda e: isinstance(e, Execution) and e.id == order_id
                         and e.status in DONE, f"{order_id} done")  # type: ignore[no-any-return]

    def refused(self, order_id: str) -> Denied | RequestError:
        return self.wait(lambda e: isinstance(e, Denied | RequestError) and e.id == order_id,
                         f"refusal of {order_id}")  # type: ignore[no-any-return]

    def close(self) -> None:
        self.client.close()


class Stack:
    """A simulator and an engine, started; `stop()` kills both. `risk` is the config's
    `[risk]` tables (default: `RISK`)."""

    def __init__(self, workdir: Path, risk: str = RISK) -> None:
        self.workdir = workdir
        scenario = workdir / "scenario.toml"
        scenario.write_text(SCENARIO)
        self.sim = SimHandle(workdir / "sim", free_port(), ["--scenario", str(scenario)])
        self.sim.start()
        self.gateway_port = free_port()
        self.url = f"tcp://127.0.0.1:{self.gateway_port}"
        self.config = write_config(workdir / "router.toml", self.sim.port, workdir / "store",
                                   heartbeat=5, gateway_port=self.gateway_port, tables=risk)
        self.engines: list[RouterProcess] = []
        self.strategies: list[Strategy] = []
        self.start_engine()

    def start_engine(self) -> RouterProcess:
        engine = RouterProcess(self.workdir, self.config, tag="engine")
        self.engines.append(engine)
        engine.wait_log("asked IB for every open order")  # logged on, and the book is open
        return engine

    @property
    def engine(self) -> RouterProcess:
        return self.engines[-1]

    def strategy(self, name: str) -> Strategy:
        strategy = Strategy(self.url, name)
        self.strategies.append(strategy)
        return strategy

    def wire(self, cl_ord_id: str, msg_type: bytes = b"D") -> FixMessage:
        """The message the simulator received with this ClOrdID (QuickFIX's log)."""
        found: list[FixMessage] = []

        def logged() -> bool:
            found[:] = [m for m in self.sim.messages("FIXROUTER")
                        if m.msg_type == msg_type and m.get_str(11) == cl_ord_id]
            return bool(found)

        wait_until(logged, TIMEOUT, f"35={msg_type.decode()} 11={cl_ord_id} at the simulator")
        return found[0]

    def inbound_count(self) -> int:
        """Order messages (D, F, G) the simulator has received so far."""
        return sum(1 for e in self.sim.events()
                   if e.get("dir") == "in" and e.get("msg_type") in ("D", "F", "G"))

    def admin(self, cmd: str, **fields: Any) -> dict[str, Any]:
        reply = self.sim.admin(cmd, **fields)
        assert reply["ok"], reply
        return reply

    def stop(self) -> None:
        for strategy in self.strategies:
            strategy.close()
        for engine in self.engines:
            engine.kill9()
        self.sim.kill()


def make_workdir(prefix: str = "fre2e-") -> Path:
    # Short and outside pytest's tree: the simulator's admin socket path must fit sun_path.
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def cleanup_workdir(path: Path, failed: bool) -> None:
    """Remove a working directory, or keep it (and say where) for a failed test."""
    if failed or os.environ.get("FIXROUTER_KEEP_WORKDIR"):
        print(f"\nkept working directory {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    path = make_workdir()
    failed_before = request.session.testsfailed
    built = Stack(path)
    try:
        yield built
    finally:
        built.stop()
        cleanup_workdir(path, request.session.testsfailed > failed_before)


@pytest.fixture
def make_stack(request: pytest.FixtureRequest) -> Iterator[Callable[..., Stack]]:
    """Build a private stack (for tests that kill the engine or the simulator, or need
    their own `[risk]`: `make_stack(risk=...)`)."""
    made: list[tuple[Path, Stack]] = []

    def make(risk: str = RISK) -> Stack:
        path = make_workdir()
        made.append((path, Stack(path, risk)))
        return made[-1][1]

    failed_before = request.session.testsfailed
    try:
        yield make
    finally:
        for path, built in made:
            built.stop()
            cleanup_workdir(path, request.session.testsfailed > failed_before)
