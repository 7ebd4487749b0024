"""The bench controller: the engine in this process, its counterparts in another.

Theory of operation
-------------------
The engine under test is the production assembly (`RouterService`: gateway, risk gate,
order book with its intent log, IB dialect, session core, journal, asyncio transport) on
uvloop in *this* process, pinned to one CPU, with the garbage-collector policy `fixrouter
run` applies after start-up (`fixrouter.gc_policy`). The benchmark acceptor and the load
generator share one helper process (`helper`) pinned to another CPU, so the engine's
core does nothing else. The engine's config (`CONFIG`) keeps every risk check on with
limits wide enough for a million resting orders, sets AAPL's reference price (so the
collar and notional checks run, and `missing_reference = "warn"` never has to log), and
uses the chosen journal durability. The FIX message log and the metrics endpoint are not
started; the order path's own metrics (`OrderFlow`) are. Unless `--no-busy-poll`, the
engine's loop busy-polls, as `[engine] busy_poll = true` makes `fixrouter run`'s do
(`fixrouter.busypoll`): the recommended deployment, an engine on a core of its own.

Tick-to-wire is measured inside the engine by `probe.WireProbe` (gateway read stamp to the
NewOrderSingle's socket write); round trips and rates by the load generator; the
acceptor's own load and lag by its counters. Helpers are only talked to between runs.
The engine's idle share of each run (`engine_idle`) is the part of its wall time in which
its loop found no socket with data: with busy polling, the sum of the gaps between polled
turns shorter than `IDLE_TURN_NS` (`IdleMeter`, on the poller's `on_turn` hook); with a
sleeping loop, the time it was off its CPU. A saturated run should show next to none.

Runs, in this order, after a one-second warm-up that is not reported:

1. **paced**: `--orders` orders at `--rate`, open loop, the acceptor acking each:
   tick-to-wire, and the round trip to the `exec new` event.
2. **acked**: `--duration` s with `--window` orders in flight, the acceptor acking each:
   the rate of orders whose `exec new` reached the strategy.
3. **one-way**: `--duration` s into the sink: the rate of NewOrderSingles the acceptor
   read; tick-to-wire at saturation.
4. **paced, late**: the paced run again, with every earlier order now in the book.

With `--memory-orders N` a memory run (`fixrouter.bench.memory`) comes first, on the
fresh engine: N orders that the acceptor fills, so that each one finishes, and the
engine's RSS before, after a warm-up and at the end (issue 7). Its orders are not in
the runs above, which rest theirs.

With `--peer quickfix` the QuickFIX initiator (`quickfix_peer`) then runs 1-3 against the
same acceptor, on the engine's CPU, while fixrouter's engine idles.

"Every order acknowledged" means: no denial or error; every order of a paced or acked
run got its `exec new`, every order of the one-way run its `accepted`, and the sink read
every order the one-way run sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fixrouter import COMPILED_MODULES
from fixrouter.bench.control import Child, ControlError, pin_to_cpu
from fixrouter.bench.memory import memory_run
from fixrouter.bench.probe import BenchFlow, WireProbe
from fixrouter.bench.report import Figures, percentiles_us
from fixrouter.routing.risk import RiskGateAdapter
from fixrouter.routing.service import RouterService, load

log = logging.getLogger("fixrouter.bench")

CONFIG = """\
[session]
SenderCompID = "FIXROUTER"
TargetCompID = "IB"
SocketConnectHost = "127.0.0.1"
SocketConnectPort = {port}
HeartBtInt = 30
ReconnectInterval = 1
FileStorePath = "{store}"
Durability = "{durability}"

[engine]
busy_poll = {busy_poll}

[gateway]
listen = ["tcp://127.0.0.1:0"]
max_outbound_bytes = 67108864

# Every check on; limits wide enough that a long run of resting orders is never refused.
[risk.global]
missing_reference = "warn"
max_open_orders = "off"
max_open_orders_symbol_side = "off"
max_position = "off"
max_gross_daily_notional = "off"
order_efficiency_warn = "off"
order_efficiency_block = "off"

[risk.throttle]
rate = 100000000
burst = 100000000
"""
REFERENCE = ("AAPL", Decimal(190))
IDLE_TURN_NS = 4_000
"""A busy-poll turn shorter than this found nothing to do (an idle one takes about 1 µs)."""
WARMUP_SECONDS = 1.0
LAG_LIMIT_US = 5_000.0
"""The acceptor kept up if it read the last order within this of the engine's write."""
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class BenchOptions:
    orders: int = 10_000
    """Orders in the paced run."""
    rate: float = 1_000.0
    """Offered rate of the paced run, orders per second."""
    duration: float = 10.0
    """Seconds of each saturated run."""
    durability: str = "os"
    window: int = 64
    """Orders in flight (sent, not yet answered) in the saturated runs."""
    peer: str | None = None
    pin: bool = True
    late: bool = True
    """Repeat the paced run after the saturated ones."""
    spin: bool = True
    """Keep the helper's loop polling during runs (see `fixrouter.bench.helper`)."""
    busy_poll: bool = True
    """The engine's `[engine] busy_poll`: its loop polls instead of sleeping in epoll."""
    python_gc: bool = False
    """Keep CPython's default collector settings instead of `gc_policy` (to compare)."""
    keep: Path | None = None
    """Work directory to use and keep (default: a temporary one, removed)."""
    memory_orders: int = 0
    """Finishing orders in the memory run (`fixrouter.bench.memory`); 0: no memory run."""
    memory_warmup: int = 50_000
    """Finishing orders before the memory run's RSS baseline."""


def _rss_mb() -> float:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _PAGE / 1e6


def _engine_sample(idle: IdleMeter | None = None) -> dict[str, Any]:
    return {
        "idle_ns": idle.idle_ns if idle is not None else 0,
        "cpu_s": time.process_time(),
        "now_ns": time.monotonic_ns(),
        "rss_mb": _rss_mb(),
        "gc": [s["collections"] for s in gc.get_stats()],
    }


class IdleMeter:
    """The engine's idle time under busy polling: the sum of the gaps between polled
    turns shorter than `IDLE_TURN_NS`, i.e. turns in which no socket had data. Installed
    as the poller's `on_turn`, it passes each call on to the hook it replaces (the
    garbage collector's idle signal)."""

    __slots__ = ("_inner", "_last", "idle_ns")

    def __init__(self, inner: Callable[[int], None] | None) -> None:
        self._inner = inner
        self._last = 0
        self.idle_ns = 0

    def turn(self, now: int) -> None:
        if now - self._last < IDLE_TURN_NS:
            self.idle_ns += now - self._last
        self._last = now
        if self._inner is not None:
            self._inner(now)


async def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ControlError(f"{what}: not within {timeout:g} s")
        await asyncio.sleep(0.01)


class _Bench:
    """One bench run's processes and figures."""

    def __init__(self, options: BenchOptions, workdir: Path) -> None:
        self.options = options
        self.workdir = workdir
        self.problems: list[str] = []
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self.pinned = options.pin and len(cpus) >= 2
        self.engine_cpu = cpus[0] if self.pinned else None
        self.helper_cpu = cpus[1] if self.pinned else None
        self.helper: Child | None = None
        self.service: RouterService | None = None
        self.probe = WireProbe()
        self.idle: IdleMeter | None = None
        self.memory: Figures | None = None

    def _cpu_args(self, cpu: int | None) -> list[str]:
        return [] if cpu is None else ["--cpu", str(cpu)]

    # -- start and stop ------------------------------------------------------------------

    async def start(self) -> None:
        if self.pinned:
            pin_to_cpu(self.engine_cpu)
        spin = [] if self.options.spin else ["--no-spin"]
        helper = self.helper = await Child.start(
            "helper", "fixrouter.bench.helper", [*self._cpu_args(self.helper_cpu), *spin],
            self.workdir)
        config_path = self.workdir / "router.toml"
        config_path.write_text(CONFIG.format(
            port=helper.hello["port"], store=self.workdir / "store",
            durability=self.options.durability,
            busy_poll=str(self.options.busy_poll).lower()))
        service = self.service = RouterService(load(config_path))
        router = service.router
        gate = router.gate
        if isinstance(gate, RiskGateAdapter):
            gate.risk.set_reference(*REFERENCE)
        router.flow = BenchFlow(self.probe, router.flow)
        for session in service.engine.sessions.values():
            session.transport.wire_tap = self.probe.chained(session.transport.wire_tap)
        await service.start()
        if not self.options.python_gc:
            service.engine.gc_policy.install()  # as `fixrouter run` does after start-up
        self._engine_task = asyncio.create_task(service.run())
        transports = [s.transport for s in service.engine.sessions.values()]
        await _until(lambda: all(t.logged_on for t in transports), 15.0, "engine logon")
        poller = service.engine.poller
        if poller is not None:
            self.idle = IdleMeter(poller.on_turn)
            poller.on_turn = self.idle.turn
        await helper.request({"cmd": "connect", "port": service.addresses[0].port,
                              "client": "bench"})

    async def stop(self) -> None:
        if self.helper is not None:
            with contextlib.suppress(Exception):
                await self.helper.close()
        service = self.service
        if service is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(service.stop(), 10.0)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._engine_task, 5.0)
            service.close()

    # -- one run -------------------------------------------------------------------------

    async def _run(self, mode: str, command: dict[str, Any],
                   peer: Child | None = None) -> Figures:
        """One run: fixrouter's (the helper's load generator drives it) or, with `peer`,
        the QuickFIX peer's."""
        helper = self.helper
        assert helper is not None
        driver = peer or helper
        await helper.request({"cmd": "mode", "mode": mode})
        if peer is not None:
            await helper.request({"cmd": "spin", "on": True})
        h0 = await helper.request({"cmd": "stats"})
        p0 = await peer.request({"cmd": "stats"}) if peer is not None else None
        e0 = _engine_sample(self.idle)
        mark = self.probe.mark()
        timeout = 120.0 + self.options.duration + self.options.orders / self.options.rate
        try:
            reply = await driver.request(command, timeout=timeout)
            if mode == "sink":
                expected = h0["nos"] + reply["sent"]
                deadline = time.monotonic() + 15.0
                while time.monotonic() < deadline:
                    if (await helper.request({"cmd": "stats"}))["nos"] >= expected:
                        break
                    await asyncio.sleep(0.05)
            h1 = await helper.request({"cmd": "stats"})
            p1 = await peer.request({"cmd": "stats"}) if peer is not None else None
        finally:
            if peer is not None:
                await helper.request({"cmd": "spin", "on": False})
        e1 = _engine_sample(self.idle)
        wall = max(1e-9, (e1["now_ns"] - e0["now_ns"]) / 1e9)
        helper_wall = max(1, h1["now_ns"] - h0["now_ns"])
        nos = h1["nos"] - h0["nos"]
        busy = h1["busy_ns"] - h0["busy_ns"]
        # The last NewOrderSingle's write, to compare with the acceptor's read of it.
        last_write = self.probe.last_wire_ns() if peer is None else reply.get("last_send_ns", 0)
        out: Figures = {
            "command": command,
            "sent": reply["sent"],
            "answered": reply.get("answered", 0),
            "failed": reply.get("failed", 0),
            "acceptor_received": nos,
            "acceptor_replies": h1["replies"] - h0["replies"],
            "rejects_from_initiator": h1["rejects"] - h0["rejects"],
            "wall_s": round(wall, 3),
            "acceptor": {
                "busy": round(busy / helper_wall, 3),
                "orders_per_busy_s": round(nos / busy * 1e9) if busy > 0 else None,
                "lag_us": round((h1["last_nos_ns"] - last_write) / 1000, 1)
                if nos and last_write else None,
            },
        }
        if peer is None:
            out["loadgen_busy"] = round(
                (h1["loadgen_busy_ns"] - h0["loadgen_busy_ns"]) / helper_wall, 3)
            out["engine_cpu"] = round((e1["cpu_s"] - e0["cpu_s"]) / wall, 3)
            # Idle: polling turns that found nothing, or (no busy polling) asleep in epoll.
            out["engine_idle"] = round(
                (e1["idle_ns"] - e0["idle_ns"]) / 1e9 / wall if self.idle is not None
                else max(0.0, 1.0 - out["engine_cpu"]), 3)
            out["gc_collections"] = [b - a for a, b in zip(e0["gc"], e1["gc"], strict=True)]
            ticks = self.probe.latencies_ns(mark)
            if ticks:
                out["tick_to_wire_us"] = percentiles_us(ticks)
        else:
            assert p0 is not None and p1 is not None
            out["engine_cpu"] = round(
                (p1["cpu_s"] - p0["cpu_s"]) / max(1e-9, (p1["now_ns"] - p0["now_ns"]) / 1e9), 3)
        for key in ("rtt_us", "send_path_us", "samples"):
            if reply.get(key):
                out[key] = reply[key]
        if command["cmd"] == "paced":
            span = (reply.get("last_send_ns", 0) - reply.get("first_send_ns", 0)) / 1e9
            if span > 0:
                out["offered_per_s"] = round((reply["sent"] - 1) / span)
        elif mode == "sink":
            span = (h1["last_nos_ns"] - reply["first_send_ns"]) / 1e9
            out["orders_per_s"] = round(nos / span) if span > 0 else None
        else:
            span = (reply["last_answer_ns"] - reply["first_send_ns"]) / 1e9
            out["orders_per_s"] = round(reply["answered"] / span) if span > 0 else None
        self._check(("QuickFIX " if peer else "") + command["cmd"], mode, command, out)
        return out

    def _check(self, name: str, mode: str, command: dict[str, Any], out: Figures) -> None:
        name = f"{name} ({mode})"
        if out["failed"]:
            self.problems.append(f"{name}: {out['failed']} denied or refused: "
                                 f"{out.get('samples', [])[:2]}")
        if out["rejects_from_initiator"]:
            self.problems.append(f"{name}: the initiator rejected "
                                 f"{out['rejects_from_initiator']} acceptor messages")
        if mode == "sink" and out["acceptor_received"] != out["sent"]:
            self.problems.append(f"{name}: sent {out['sent']}, the sink read "
                                     f"{out['acceptor_received']}")
        until = command.get("until", "exec")
        if until in ("exec", "accepted") and out["answered"] != out["sent"]:
            self.problems.append(f"{name}: sent {out['sent']}, {out['answered']} {until}")

    # -- the whole bench -----------------------------------------------------------------

    def _warmup(self) -> dict[str, Any]:
        return {"cmd": "burst", "seconds": WARMUP_SECONDS, "window": self.options.window,
                "until": "exec"}

    def _paced(self) -> dict[str, Any]:
        return {"cmd": "paced", "orders": self.options.orders, "rate": self.options.rate,
                "until": "exec"}

    def _burst(self, until: str) -> dict[str, Any]:
        return {"cmd": "burst", "seconds": self.options.duration,
                "window": self.options.window, "until": until}

    async def fixrouter_runs(self) -> tuple[Figures, Figures]:
        if self.options.memory_orders:  # first, on a fresh engine
            self.memory = await memory_run(self)
        await self._run("acked", self._warmup())
        start = _engine_sample()
        runs: Figures = {}
        runs["paced"] = await self._run("acked", self._paced())
        runs["acked"] = await self._run("acked", self._burst("exec"))
        runs["one_way"] = await self._run("sink", self._burst("accepted"))
        end = _engine_sample()
        orders = sum(run["sent"] for run in runs.values())
        if self.options.late:
            runs["paced_late"] = await self._run("acked", self._paced())
        growth = end["rss_mb"] - start["rss_mb"]
        resources = {
            "rss_start_mb": round(start["rss_mb"], 1),
            "rss_end_mb": round(end["rss_mb"], 1),
            "cpu_start_s": round(start["cpu_s"], 2),
            "cpu_end_s": round(end["cpu_s"], 2),
            "orders": orders,
            "rss_growth_per_1m_orders_mb": round(growth / orders * 1e6, 1) if orders else 0.0,
        }
        return runs, resources

    async def quickfix_runs(self) -> Figures:
        helper = self.helper
        assert helper is not None
        peer = await Child.start(
            "quickfix", "fixrouter.bench.quickfix_peer",
            ["--port", str(helper.hello["port"]), "--dir", str(self.workdir),
             *self._cpu_args(self.engine_cpu)], self.workdir)
        try:
            await self._run("acked", self._warmup(), peer)
            runs: Figures = {}
            runs["paced"] = await self._run("acked", self._paced(), peer)
            runs["acked"] = await self._run("acked", self._burst("exec"), peer)
            runs["one_way"] = await self._run("sink", self._burst("sent"), peer)
            return runs
        finally:
            await peer.close()


def _acceptor_check(runs: Figures) -> dict[str, Any]:
    """Whether the acceptor and load generator kept up in the saturated runs: the engine
    was busy, the helpers were not, and the acceptor read the last order right after the
    engine wrote it."""
    verdicts = []
    ok = True
    for name in ("acked", "one_way"):
        run = runs.get(name)
        if not run:
            continue
        acc = run["acceptor"]
        helpers = acc["busy"] + run["loadgen_busy"]
        capacity = acc["orders_per_busy_s"] or 0
        rate = run.get("orders_per_s") or 0
        lag = acc["lag_us"]
        kept_up = (run["engine_cpu"] >= 0.85 and helpers < 0.8
                   and lag is not None and lag < LAG_LIMIT_US)
        ok = ok and kept_up
        verdicts.append(
            f"{name.replace('_', '-')}: engine {run['engine_cpu'] * 100:.0f}% of its core, "
            f"idle {run.get('engine_idle', 0) * 100:.0f}% of the run; "
            f"acceptor busy {acc['busy'] * 100:.0f}% and load generator "
            f"{run['loadgen_busy'] * 100:.0f}% of theirs; the acceptor alone would manage "
            f"{capacity:,.0f}/s ({capacity / rate if rate else 0:.0f}× this rate) and read "
            f"the last order {lag if lag is not None else float('nan'):,.0f} µs after "
            f"the engine wrote it")
    head = ("acceptor check: the engine set the pace, not the acceptor or the load generator"
            if ok else "acceptor check: WARNING, the helpers may have limited a run")
    return {"engine_bound": ok, "statement": head + "\n  " + "\n  ".join(verdicts)}


def _ratios(ours: Figures, theirs: Figures) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in ("acked", "one_way"):
        a = (ours.get(name) or {}).get("orders_per_s")
        b = (theirs.get(name) or {}).get("orders_per_s")
        if a and b:
            out[f"{name}_throughput"] = round(a / b, 2)
    pairs = (("paced", "tick_to_wire_us", "send_path_us"), ("paced", "rtt_us", "rtt_us"),
             ("one_way", "tick_to_wire_us", "send_path_us"))
    for run, key, peer_key in pairs:
        for q in ("p50", "p99"):
            a = ((ours.get(run) or {}).get(key) or {}).get(q)
            b = ((theirs.get(run) or {}).get(peer_key) or {}).get(q)
            if a and b:
                out[f"{run}_{key.removesuffix('_us')}_{q}"] = round(b / a, 2)
    return out


async def run_bench(options: BenchOptions) -> Figures:
    """Run every bench run once and return the figures (see the module docstring)."""
    workdir = options.keep or Path(tempfile.mkdtemp(prefix="fixrouter-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    bench = _Bench(options, workdir)
    try:
        await bench.start()
        ours, resources = await bench.fixrouter_runs()
        theirs = await bench.quickfix_runs() if options.peer == "quickfix" else None
    finally:
        await bench.stop()
        if options.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    placement = (f"engine on CPU {bench.engine_cpu}, acceptor and load generator on CPU "
                 f"{bench.helper_cpu}" if bench.pinned else "processes not pinned")
    engine = ("CPython's default gc" if options.python_gc else "gc_policy")
    engine += (", busy-polling loop ([engine] busy_poll = true)" if options.busy_poll
               else ", loop sleeps in epoll when idle ([engine] busy_poll = false)")
    # The engine runs in this process, so this process's build is the engine's.
    engine += (f", order path compiled by mypyc ({len(COMPILED_MODULES)} modules)"
               if COMPILED_MODULES else ", order path interpreted (a FIXROUTER_PURE build)")
    result: Figures = {
        "options": {k: (str(v) if isinstance(v, Path) else v)
                    for k, v in asdict(options).items()},
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "placement": placement,
            "engine": engine,
        },
        "fixrouter": ours,
        "quickfix": theirs,
        "ratios": _ratios(ours, theirs) if theirs else {},
        "resources": resources,
        "acceptor_check": _acceptor_check(ours),
        "all_acknowledged": not bench.problems,
        "problems": bench.problems,
    }
    if bench.memory is not None:
        result["memory"] = bench.memory
    return result
