"""Hot path of one order: `Router.handle(NewOrder)` to its bytes handed to the socket.

Run: `.venv/bin/python tests/router/bench_router.py [--orders N] [--line] [--gap-us N]
[--resting N]`

Everything is the production assembly (`RouterService`: risk gate, order book with its
file intent log, IB dialect, session core, `os`-mode journal, the asyncio adapter) on
uvloop, except the socket: the session's connection is a fake transport whose `write`
stamps the time, logged on by feeding the core a real Logon reply. Orders are handed over
one per loop turn, as a strategy's lines arrive, so each is written at once (the adapter
batches only orders of the same turn).

Reported, in microseconds: median and p99 of handle -> write with the real risk gate,
the same with the pass-through gate (the difference is the risk gate's share), with
`--line` the gateway's own share on top (one JSON line through a connection's
`data_received` into the router), and with `--stages` each stage the router calls.

`--resting N` first sends N orders through the same path (untimed; they stay working, as
in the saturated runs of `fixrouter bench`, where 350k-1M orders rest), then freezes the
collector's survivors as the engine's `gc_policy` would, so the timed orders are filed
into maps that already hold N working orders.

Measured 2026-11-24 22:15 UTC on the 2-core development machine, compiled build (mypyc),
two runs each, medians / p99:

    20,000 orders back to back:
    handle -> write, risk gate                    6.6-6.7 / 16-44 us
    handle -> write, pass-through gate            5.0-5.1 / 9-11 us
    JSON line -> write, risk gate (gateway too)   8.7     / 16-17 us
    3,000 orders, --gap-us 1000 (spinning 1 ms between orders, as at 1,000/s):
    handle -> write, risk gate                   10.3     / 31-39 us
    handle -> write, pass-through gate            7.6-8.0 / 22-24 us
    JSON line -> write, risk gate (gateway too)  13.1-13.5 / 40-43 us

The same path costs about half as much again when it runs cold, one order a millisecond.

With a large book (`--resting 500000 --orders 20000 --line`, 2026-11-24 23:43 UTC, three
runs interleaved with the tree before the book's map changes, medians, loaded machine):
handle -> write 8.9 -> 7.7 us, pass-through gate 6.6 -> 5.4 us, JSON line -> write
11.0 -> 9.8 us; the same runs without `--resting`: 6.9 -> 6.6, 5.4 -> 5.1, 9.4 -> 8.8 us.
The risk gate's share (risk gate minus pass-through) is 1.5 us empty and 2.3 us with
500,000 working orders.
`--stages` (interpreted build only) splits handle -> write into risk gate, dialect, book
prepare_new, session send_app and the router's own glue.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvloop

from fixrouter import COMPILED_MODULES
from fixrouter.codec import Encoder, render_fields
from fixrouter.gateway.server import _Connection
from fixrouter.requests import NewOrder, OrderType, Side
from fixrouter.routing.gate import PassThroughGate
from fixrouter.routing.service import LoopTimers, RouterService, load
from fixrouter.transport.connection import _LineProtocol

CONFIG = """
[session]
SenderCompID = "FIXROUTER"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = 9
FileStorePath = "{store}"

[gateway]
listen = ["tcp://127.0.0.1:0"]

# Real checks, limits wide enough that a long run of resting orders is never refused.
[risk.global]
missing_reference = "warn"
max_open_orders = "off"
max_open_orders_symbol_side = "off"
max_position = "off"
max_gross_daily_notional = "off"
order_efficiency_warn = "off"
order_efficiency_block = "off"
[risk.throttle]
rate = 1000000
burst = 1000000
"""


class StampingTransport:
    """Stands in for the socket: records when each write happens."""

    def __init__(self) -> None:
        self.stamps: list[int] = []

    def write(self, data: bytes) -> None:
        self.stamps.append(time.perf_counter_ns())

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class Sink:
    """The connection a `--line` run feeds: accepts what the gateway writes back."""

    def write(self, data: bytes) -> None:
        pass

    def set_write_buffer_limits(self, high: int) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1)

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        pass


def log_on(
    service: RouterService, loop: asyncio.AbstractEventLoop, fake: StampingTransport | None = None
) -> StampingTransport:
    """Log the engine's first session on over `fake` (a new StampingTransport by default),
    driving the real transport's callbacks with IB's Logon reply."""
    session = next(iter(service.engine.sessions.values()))
    transport = session.transport
    transport._loop = loop
    line = _LineProtocol(transport)
    if fake is None:
        fake = StampingTransport()
    line.transport = fake  # type: ignore[assignment]
    transport._line = line
    transport._carry_out(transport.session.connection_made(time.time()))
    ib = Encoder("IB", "FIXROUTER")
    reply = ib.encode(b"A", 1, ib.timestamp(time.time()), render_fields([(98, 0), (108, 30)]))
    transport._on_data(line, reply)
    assert transport.logged_on
    return fake


def strategy_connection(service: RouterService) -> _Connection:
    """A gateway connection over a `Sink`, already said hello as strategy "bench": feed it
    JSON lines with `data_received`, as a strategy's socket would."""
    connection = _Connection(service.gateway)
    connection.connection_made(Sink())  # type: ignore[arg-type]
    connection.data_received(b'{"op":"hello","client":"bench"}\n')
    return connection


async def ready_to_trade(
    service: RouterService, loop: asyncio.AbstractEventLoop
) -> tuple[StampingTransport, _Connection]:
    """The router's timers on `loop`, AAPL's reference price set, the first session
    logged on over a `StampingTransport`, and a strategy connected: what the bench
    scripts that push JSON lines through the whole router need first."""
    service.router.timers = LoopTimers(loop)
    service.router.gate.risk.set_reference("AAPL", Decimal("190"))  # type: ignore[attr-defined]
    fake = log_on(service, loop)
    await asyncio.sleep(0.01)
    return fake, strategy_connection(service)


class Stages:
    """Wraps each stage the router calls to time it (adds ~0.1 us per stage)."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}

    def timed(self, name: str, fn: Any) -> Any:
        samples = self.samples.setdefault(name, [])
        clock = time.perf_counter_ns

        def wrapper(*args: Any, **kw: Any) -> Any:
            start = clock()
            try:
                return fn(*args, **kw)
            finally:
                samples.append((clock() - start) / 1000.0)

        return wrapper

    def install(self, service: RouterService) -> None:
        router = service.router
        gate, dialect, outlet = router.gate, router.dialect, router.outlet

        class Proxy:
            def __init__(self, inner: Any, **methods: Any) -> None:
                self._inner = inner
                self.__dict__.update(methods)

            def __getattr__(self, name: str) -> Any:
                return getattr(self._inner, name)

        router.gate = Proxy(gate, check_new=self.timed("risk gate check_new", gate.check_new))  # type: ignore[assignment]
        router.dialect = Proxy(dialect, new_order_body=self.timed(  # type: ignore[assignment]
            "dialect new_order_body", dialect.new_order_body))
        router.book.prepare_new = self.timed(  # type: ignore[method-assign]
            "book prepare_new (ClOrdID, intent write)", router.book.prepare_new)
        router.book.sent = self.timed("book sent", router.book.sent)  # type: ignore[method-assign]
        for link in router._links.values():
            link.send_app = self.timed("session send_app (encode, journal, write)",
                                       link.send_app)
        router.outlet = Proxy(outlet, deliver=self.timed("gateway deliver (accepted)",
                                                         outlet.deliver))  # type: ignore[assignment]


def rest(router: Any, template: NewOrder, first: int, stop: int) -> None:
    """Hand over orders `first` to `stop` - 1 of the resting ones (ids `r0`, `r1`, ...),
    which stay working. Their prices (194.00-197.99, inside the collar) are none of the
    timed orders', so the duplicate check never refuses a timed one."""
    for i in range(first, stop):
        router.handle(template._replace(id=f"r{i}", price=Decimal(f"{194 + (i % 400) / 100:.2f}"),
                                        qty=Decimal(100 + (i // 400) % 100)))


async def measure(orders: int, pass_through: bool, line: bool, workdir: Path,
                  stages: Stages | None = None, gap_ns: int = 0,
                  resting: int = 0) -> list[float]:
    store = workdir / ("pass" if pass_through else "risk") / ("line" if line else "handle")
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "router.toml"
    config_path.write_text(CONFIG.format(store=store))
    service = RouterService(load(config_path))
    loop = asyncio.get_running_loop()
    try:
        router = service.router
        router.timers = LoopTimers(loop)
        if pass_through:
            router.gate = PassThroughGate()
            router.gate.rebuild(router.book)
        if not pass_through:
            # A known price, as after the first fill: the collar and notional checks run
            # (and missing_reference = warn never has to log on the hot path).
            service.router.gate.risk.set_reference("AAPL", Decimal("190"))  # type: ignore[attr-defined]
        fake = log_on(service, loop)
        if stages is not None:
            stages.install(service)
        await asyncio.sleep(0.01)  # the status request after logon goes out first
        template = NewOrder("bench", "", "AAPL", Side.BUY, Decimal(100), OrderType.LIMIT,
                            price=Decimal("190.25"), account="U1234567")
        if resting:
            done = len(fake.stamps)
            for first in range(0, resting, 64):  # 64 a loop turn, as a busy engine reads
                rest(router, template, first, min(first + 64, resting))
                if router.stats.accepted != min(first + 64, resting):
                    raise SystemExit(f"--resting: order {router.stats.accepted} was refused")
                await asyncio.sleep(0)
            if router.stats.accepted != resting:
                raise SystemExit(f"--resting: {router.stats.accepted} of {resting} accepted")
            del fake.stamps[done:]
            gc.collect()
            gc.freeze()
        base = len(fake.stamps)
        latencies: list[float] = []
        connection = None
        if line:
            connection = strategy_connection(service)
        for i in range(orders):
            # Prices and sizes vary so that no order repeats another within the risk
            # gate's duplicate window (80,000 combinations: 8000 were under 100 ms of
            # orders once an order took less than 12.5 us, and the bench stopped).
            price = f"{186 + (i % 800) / 100:.2f}"
            qty = 100 + (i // 800) % 100
            if connection is not None:
                data = (b'{"op":"new","id":"o%d","symbol":"AAPL","side":"buy","qty":%d,'
                        b'"type":"limit","price":"%s","account":"U1234567"}\n'
                        % (i, qty, price.encode()))
                start = time.perf_counter_ns()
                connection.data_received(data)
            else:
                order = template._replace(id=f"o{i}", price=Decimal(price), qty=Decimal(qty))
                start = time.perf_counter_ns()
                router.handle(order)
            if len(fake.stamps) != base + i + 1:
                raise SystemExit(f"order {i} was not written: {router.stats.denied}, "
                                 f"{router.stats.rejected_requests}")
            stamp = fake.stamps[base + i]
            latencies.append((stamp - start) / 1000.0)
            await asyncio.sleep(0)  # the next order arrives in a later loop turn
            if gap_ns:
                # Spin like the busy-polling engine between paced orders: the order path
                # runs cold, as at 1,000 orders/s.
                until = time.perf_counter_ns() + gap_ns
                while time.perf_counter_ns() < until:
                    pass
        assert router.stats.accepted == orders + resting, router.stats.denied
        return latencies
    finally:
        await service.gateway.close()
        service.close()
        if resting:
            gc.unfreeze()


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples[len(samples) // 10:])  # drop the warm-up tenth
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{name:44} median {statistics.median(ordered):6.1f} us   p99 {p99:6.1f} us"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--line", action="store_true", help="also from a gateway line")
    parser.add_argument("--stages", action="store_true", help="median of each stage")
    parser.add_argument("--gap-us", type=int, default=0,
                        help="spin this long between orders (1000: paced at about 1,000/s)")
    parser.add_argument("--resting", type=int, default=0,
                        help="send this many orders first, left working (untimed)")
    args = parser.parse_args()
    if args.stages and "fixrouter.router" in COMPILED_MODULES:
        # The stage timers wrap the router's collaborators in proxies, which a
        # mypyc-compiled Router refuses (its attributes are typed natively).
        parser.error("--stages needs the interpreted build: run `make pure` first "
                     "(`make compile` goes back)")
    with tempfile.TemporaryDirectory(prefix="bench-router-") as tmp:
        workdir = Path(tmp)
        runs = [("handle -> write, risk gate", False, False),
                ("handle -> write, pass-through gate", True, False)]
        if args.line:
            runs.append(("JSON line -> write, risk gate (gateway too)", False, True))
        for name, pass_through, line in runs:
            samples = uvloop.run(measure(args.orders, pass_through, line, workdir,
                                         gap_ns=args.gap_us * 1000, resting=args.resting))
            print(summary(name, samples))
        if args.stages:
            stages = Stages()
            total = uvloop.run(measure(args.orders, False, False, workdir / "st", stages))
            print("stages (risk gate run, each wrapped in a timer):")
            for stage, values in stages.samples.items():
                print("  " + summary(stage, values))
            print("  " + summary("whole handle -> write (with the timers)", total))


if __name__ == "__main__":
    main()
