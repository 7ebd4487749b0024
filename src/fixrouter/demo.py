"""`fixrouter demo`: a strategy trading through the engine against the simulator, end to end.

Theory of operation
-------------------
Three processes on free loopback ports, in a temporary directory:

* the QuickFIX simulator playing IB (`fixrouter sim`, the `SCENARIO` below: AAPL fills at
  once, MSFT in three parts, IBM rests until cancelled, ZZZZ is rejected), accepting two
  CTCI sessions in one process, as IB does for a firm with two lines: CompIDs DESK1 and
  DESK2;
* the engine, as an operator runs it: `fixrouter run --config router.toml`, holding both
  sessions (`[[sessions]]` desk1 and desk2, each with its own journal), a `[routing]` table
  that sends account `DESK2_ACCOUNT` to desk2 and everything else to desk1, and a `[risk]`
  table whose `max_order_qty` the demo's large order breaks;
* the sample strategy: this process, using the asyncio client (`fixrouter.client`).

The strategy runs each `Case` in turn: it sends a few orders (a few dozen in all), waits
for the events that settle them, and describes what it observed. Most cases trade on
desk1; the two session cases trade on desk2's account and read the simulator's event log
(`sim-events.jsonl`) to show on which session IB received each message of the order. A
case is as expected when its observation equals the expected text exactly. The summary
table lists case, expected, observed and ok; the exit status is 0 only if every case was
as expected.

Whatever happens (a failure, Ctrl-C), the engine is stopped with SIGTERM (SIGKILL if it
does not exit in time), the simulator likewise, and the directory is removed (`--keep`
keeps it, for the logs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from fixrouter.client import (
    Accepted,
    Client,
    ClientEvent,
    Denied,
    Execution,
    OrderStatus,
    RequestError,
)
from fixrouter.sim.datadir import EVENTS_NAME
from fixrouter.sim.process import SimulatorProcess, free_port

SCENARIO = """\
description = "fixrouter demo"

[default]
behaviour = "fill"
reference_price = "100"

[symbols.AAPL]
reference_price = "190"

[symbols.MSFT]
behaviour = "partial"
partials = 3
interval_ms = 20
reference_price = "410"

[symbols.IBM]
behaviour = "rest"
reference_price = "150"

[symbols.ZZZZ]
behaviour = "reject"
reject_text = "No security definition has been found for the request"
"""

DESKS = {"desk1": "DESK1", "desk2": "DESK2"}  # session name -> our SenderCompID
DESK2_ACCOUNT = "U2222222"

SESSION = """\
[[sessions]]
name = "{name}"
SenderCompID = "{comp_id}"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = {sim_port}
FileStorePath = "{store}"
ReconnectInterval = 0.2

"""

ROUTER = """\
{sessions}\
# The cases without an account trade on desk1; desk2 carries its account's orders.
[routing]
default_session = "desk1"

[routing.accounts]
{desk2_account} = "desk2"

[gateway]
listen = ["tcp://127.0.0.1:{gateway_port}"]

# Any free port: the demo must not fight an engine already serving the default 9464.
[metrics]
listen = "127.0.0.1:0"

# The risk gate with its defaults, but for what a demo without market data needs: no
# reference prices are known at start (a real desk sets them), and the strategy's burst
# is faster than the default throttle (20 orders a second) and holds more open AAPL buys
# at once than the default 10 per symbol and side.
[risk.global]
max_order_qty = 1000
missing_reference = "warn"
max_open_orders_symbol_side = 50

[risk.throttle]
rate = 500
burst = 100
"""

START_TIMEOUT = 30.0
EVENT_TIMEOUT = 10.0
DONE = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED,
                  OrderStatus.EXPIRED})


class Refused(Exception):
    """An order the demo expected to trade was refused."""


class Strategy:
    """The sample strategy: a connection and the events of each order id so far."""

    def __init__(self, client: Client, sim_events: Path) -> None:
        self.client = client
        self.sim_events = sim_events
        self.events: dict[str | None, list[ClientEvent]] = {}

    async def until(self, order_id: str, settled: Callable[[list[ClientEvent]], bool]) -> (
            list[ClientEvent]):
        """Read events until those of `order_id` satisfy `settled`; return them.

        Raises TimeoutError if they do not within EVENT_TIMEOUT.
        """
        deadline = time.monotonic() + EVENT_TIMEOUT
        while not settled(self.events.get(order_id, [])):
            left = deadline - time.monotonic()
            event = await self.client.next_event(left) if left > 0 else None
            if event is None:
                raise TimeoutError(f"no settling event for {order_id}")
            self.events.setdefault(getattr(event, "id", None), []).append(event)
        return self.events[order_id]

    async def done(self, order_id: str) -> Execution:
        """The event that left `order_id` done (filled, canceled, rejected, expired).

        Raises Refused if the order was refused instead (denied, or a bad request).
        """
        events = await self.until(order_id, lambda es: any(
            (isinstance(e, Execution) and e.status in DONE)
            or isinstance(e, Denied | RequestError) for e in es))
        final = next(e for e in events if isinstance(e, Execution | Denied | RequestError)
                     and not (isinstance(e, Execution) and e.status not in DONE))
        if not isinstance(final, Execution):
            raise Refused(f"{order_id} {final}")
        return final

    async def first(self, order_id: str, kind: type[object]) -> object:
        events = await self.until(order_id, lambda es: any(isinstance(e, kind) for e in es))
        return next(e for e in events if isinstance(e, kind))

    def arrivals(self, ib_order_id: str) -> str:
        """Which messages of IB's order `ib_order_id` the simulator received, on which session.

        "D+F on DESK2": the new order and its cancel, both on the session with our CompID
        DESK2. The simulator writes a message's `in` line before it sends any report for
        it, so every message a report has answered is already in the log.
        """
        types: list[str] = []
        comp_ids: set[str] = set()
        for line in self.sim_events.read_text().splitlines():
            record = json.loads(line)
            if record.get("dir") == "in" and record.get("order_id") == ib_order_id:
                types.append(record["msg_type"])
                comp_ids.add(record["session"].rpartition("->")[2])  # FIX.4.2:IB->DESK2
        return f"{'+'.join(types) or 'nothing'} on {', '.join(sorted(comp_ids)) or 'no session'}"


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    expected: str
    run: Callable[[Strategy], Awaitable[str]]


async def _full_fill(s: Strategy) -> str:
    await s.client.new("full-1", "AAPL", "buy", 100, "limit", price="190")
    final = await s.done("full-1")
    return f"{final.status} {final.cum_qty} @ {final.avg_px}"


async def _partial_fills(s: Strategy) -> str:
    await s.client.new("part-1", "MSFT", "buy", 150, "limit", price="410")
    await s.done("part-1")
    fills = [e for e in s.events["part-1"]
             if isinstance(e, Execution) and e.exec_type in ("partial", "fill")]
    sizes = "+".join(str(e.last_qty) for e in fills)
    return f"{len(fills)} fills {sizes} = {fills[-1].cum_qty}"


async def _cancel(s: Strategy) -> str:
    await s.client.new("cxl-1", "IBM", "buy", 50, "limit", price="150")
    await s.until("cxl-1", lambda es: any(isinstance(e, Execution) for e in es))
    await s.client.cancel("cxl-1")
    final = await s.done("cxl-1")
    return f"{final.status}, leaves {final.leaves_qty}"


async def _replace(s: Strategy) -> str:
    await s.client.new("rpl-1", "IBM", "sell", 20, "limit", price="151")
    await s.until("rpl-1", lambda es: any(isinstance(e, Execution) for e in es))
    await s.client.replace("rpl-1", "rpl-2", qty=40, price="150.5")
    await s.until("rpl-2", lambda es: any(
        isinstance(e, Execution) and e.exec_type == "replaced" for e in es))
    state = await s.client.status("rpl-2")
    await s.client.cancel("rpl-2")  # tidy up: leave nothing working
    await s.done("rpl-2")
    return f"replaced: {state.qty} @ {state.price}, {state.status}"


async def _ib_reject(s: Strategy) -> str:
    await s.client.new("rej-1", "ZZZZ", "buy", 10, "limit", price="100")
    final = await s.done("rej-1")
    return f"{final.status}: {final.reason}"


async def _risk_denial(s: Strategy) -> str:
    await s.client.new("big-1", "AAPL", "buy", 5000, "limit", price="190")
    denied = await s.first("big-1", Denied)
    assert isinstance(denied, Denied)
    return f"denied {denied.code} (limit {denied.limit}, value {denied.value})"


async def _bad_request(s: Strategy) -> str:
    await s.client.new("bad-1", "AAPL", "buy", 10, "limit")  # a limit order without price
    error = await s.first("bad-1", RequestError)
    assert isinstance(error, RequestError)
    return f"error {error.code}"


async def _cancel_unknown(s: Strategy) -> str:
    await s.client.cancel("nobody")
    error = await s.first("nobody", RequestError)
    assert isinstance(error, RequestError)
    return f"error {error.code}"


async def _burst(s: Strategy) -> str:
    ids = [f"burst-{i}" for i in range(24)]
    for i, order_id in enumerate(ids):  # sizes differ: identical orders are duplicates
        await s.client.new(order_id, "AAPL", "buy", 10 + i, "limit", price="190")
    finals = [await s.done(order_id) for order_id in ids]
    accepted = sum(any(isinstance(e, Accepted) for e in s.events[i]) for i in ids)
    filled = sum(f.status is OrderStatus.FILLED for f in finals)
    return f"{accepted} accepted, {filled} filled"


async def _second_session(s: Strategy) -> str:
    await s.client.new("desk2-1", "AAPL", "buy", 100, "limit", price="190",
                       account=DESK2_ACCOUNT)
    final = await s.done("desk2-1")
    return f"{final.status} {final.cum_qty} @ {final.avg_px}, {s.arrivals(final.order_id)}"


async def _cancel_follows_session(s: Strategy) -> str:
    await s.client.new("desk2-2", "IBM", "buy", 50, "limit", price="150",
                       account=DESK2_ACCOUNT)
    await s.until("desk2-2", lambda es: any(isinstance(e, Execution) for e in es))
    await s.client.cancel("desk2-2")  # no account, no session named: the book knows
    final = await s.done("desk2-2")
    return f"{final.status}, {s.arrivals(final.order_id)}"


async def _orders_after(s: Strategy) -> str:
    working = await s.client.orders()
    return f"{len(working)} working"


CASES = [
    Case("full fill", "filled 100 @ 190", _full_fill),
    Case("partial fills", "3 fills 50+50+50 = 150", _partial_fills),
    Case("cancel", "canceled, leaves 0", _cancel),
    Case("replace", "replaced: 40 @ 150.5, new", _replace),
    Case("IB reject", "rejected: No security definition has been found for the request",
         _ib_reject),
    Case("risk denial", "denied MAX_ORDER_QTY (limit 1000, value 5000)", _risk_denial),
    Case("bad request", "error MISSING_FIELD", _bad_request),
    Case("cancel unknown order", "error UNKNOWN_ORDER", _cancel_unknown),
    Case("burst of 24 orders", "24 accepted, 24 filled", _burst),
    Case("second session", "filled 100 @ 190, D on DESK2", _second_session),
    Case("cancel follows its session", "canceled, D+F on DESK2", _cancel_follows_session),
    Case("nothing left working", "0 working", _orders_after),
]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep", action="store_true",
                        help="keep the working directory (engine and simulator logs)")


class _Engine:
    """`fixrouter run` as a child process; stopped for sure by `stop()`."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        with log.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fixrouter.cli", "run", "--config", str(config)],
                stdout=subprocess.DEVNULL, stderr=err, cwd=config.parent,
            )

    def wait_logged_on(self, sessions: Iterable[str]) -> None:
        """Raises RuntimeError if the engine exits or a session does not log on in time."""
        deadline = time.monotonic() + START_TIMEOUT
        marks = [f"{name}: LOGGED_ON".encode() for name in sessions]
        while not all(mark in self.log.read_bytes() for mark in marks):
            if self.proc.poll() is not None:
                raise RuntimeError(f"the engine exited with {self.proc.returncode}:\n"
                                   f"{self.log.read_text(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("the engine did not log on to the simulator in time")
            time.sleep(0.05)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


async def _trade(url: str, sim_events: Path) -> list[tuple[Case, str, bool]]:
    results: list[tuple[Case, str, bool]] = []
    async with await Client.connect(url, "demo") as client:
        strategy = Strategy(client, sim_events)
        for case in CASES:
            try:
                observed = await case.run(strategy)
            except Exception as error:  # the case's outcome; the next case still runs
                observed = f"{type(error).__name__}: {error}"
            results.append((case, observed, observed == case.expected))
    return results


def _table(results: list[tuple[Case, str, bool]]) -> str:
    rows = [("case", "expected", "observed", "ok")]
    rows += [(c.name, c.expected, observed, "ok" if ok else "FAIL")
             for c, observed, ok in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
                     + "  " + row[3])
        if n == 0:
            lines.append("  ".join("-" * w for w in widths) + "  ----")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="fixrouter-demo-"))
    print("fixrouter demo: a sample strategy trading through the engine, with the QuickFIX")
    print(f"simulator playing IB (working directory {workdir})\n")
    engine: _Engine | None = None
    results: list[tuple[Case, str, bool]] = []
    try:
        scenario = workdir / "scenario.toml"
        scenario.write_text(SCENARIO)
        comp_ids = [arg for comp_id in DESKS.values() for arg in ("--target-comp-id", comp_id)]
        with SimulatorProcess(workdir / "sim", scenario=scenario, extra_args=comp_ids) as sim:
            print(f"simulator listening on 127.0.0.1:{sim.port} "
                  f"(sessions {', '.join(DESKS.values())})")
            gateway_port = free_port()
            config = workdir / "router.toml"
            sessions = "".join(
                SESSION.format(name=name, comp_id=comp_id, sim_port=sim.port,
                               store=workdir / "store" / name)
                for name, comp_id in DESKS.items())
            config.write_text(ROUTER.format(sessions=sessions, desk2_account=DESK2_ACCOUNT,
                                            gateway_port=gateway_port))
            engine = _Engine(config, workdir / "engine.log")
            engine.wait_logged_on(DESKS)
            url = f"tcp://127.0.0.1:{gateway_port}"
            print(f"engine (pid {engine.proc.pid}) logged on as {', '.join(DESKS)}; "
                  f"strategies connect to {url}\n")
            results = asyncio.run(_trade(url, sim.data_dir / EVENTS_NAME))
            status = engine.stop()
            print(f"engine stopped (exit {status}), simulator stopping\n")
    except (RuntimeError, OSError) as error:
        print(f"demo could not run: {error}", file=sys.stderr)
    finally:
        if engine is not None:
            engine.stop()
        if args.keep:
            print(f"working directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if results:
        print(_table(results))
    good = sum(ok for _, _, ok in results)
    print(f"\n{good} of {len(CASES)} cases as expected")
    return 0 if results and good == len(CASES) else 1
