"""Metrics benchmark: what recording costs on the hot path, beside prometheus-client's own.

Run: `python tests/bench/bench_metrics.py [--rounds N] [--batch N] [--json]`

Each figure is the per-call time of a batch of `--batch` calls, in nanoseconds; the
median and p99 are over `--rounds` batches (as in bench_risk.py). "harness" is the loop
and the argument fetch alone, included in every figure; subtract it for the call's own
cost. Every case runs in the same process, interleaved round by round, so a noisy
neighbour hits them alike.

Cases:
* the engine's way: `LatencyHistogram.observe_ns` (bisect + list add), a plain integer
  add on a slotted object, and the whole per-order / per-report recording of `OrderFlow`;
* prometheus-client's way, same buckets: `Histogram.observe`, `Counter.inc` bound once,
  and `Counter.labels(...).inc()`;
* around the order path: a journal append with and without its timing
  (`MeteredJournalStore` vs `JournalStore`, `os` durability, 160-byte records), the FIX
  log's tap, and a log call at a disabled level;
* per scrape (on the event loop): one `EngineProbe.sample()` of a one-session engine,
  and the exposition text of the whole registry (in the HTTP thread), in microseconds.
"""

from __future__ import annotations

import gc
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from itertools import count
from pathlib import Path

from batched import arguments
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from fixrouter.codec import decode_frame, encode_fields
from fixrouter.events import ExecKind, Execution, OrderStatus
from fixrouter.logs import FixLog, Redactor
from fixrouter.metrics import (
    LATENCY_BOUNDS_SECONDS,
    JournalMeter,
    LatencyHistogram,
    MeteredJournalStore,
    OrderFlow,
    SessionEventCounter,
)
from fixrouter.metrics.collector import EngineCollector
from fixrouter.metrics.probe import EngineProbe
from fixrouter.oms import Order
from fixrouter.requests import NewOrder, OrderType, Side
from fixrouter.session import SessionState
from fixrouter.store import JournalStore
from fixrouter.transport import TransportStats


def measure(fn: Callable[[], object], batch: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(batch):
        fn()
    return (time.perf_counter_ns() - start) / batch


class _Session:
    state = SessionState.ACTIVE
    next_sender_seq = 1234
    next_target_seq = 987

    def is_session_time(self, now: float) -> bool:
        return True


class _Transport:
    stats = TransportStats()


class _EngineSession:
    session = _Session()
    transport = _Transport()


class _Counted:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


def main() -> int:
    args = arguments(__doc__.splitlines()[0]).parse_args()
    total = args.rounds * args.batch + 10
    # Latencies spread over the ladder as the engine's are (a few µs to a few ms).
    values = [int(2000 * 1.0007 ** (i % 10_000)) for i in range(total)]
    it = count()

    ours = LatencyHistogram()
    registry = CollectorRegistry()
    theirs = Histogram("bench_seconds", "b", buckets=LATENCY_BOUNDS_SECONDS, registry=registry)
    counter = Counter("bench_total", "b", ["session"], registry=registry)
    bound = counter.labels("default")
    plain = _Counted()
    seconds = [v / 1e9 for v in values]

    def harness() -> object:
        return values[next(it) % total]

    def observe_ns() -> None:
        ours.observe_ns(values[next(it) % total])

    def prom_observe() -> None:
        theirs.observe(seconds[next(it) % total])

    def int_add() -> None:
        values[next(it) % total]
        plain.n += 1

    def prom_inc_bound() -> None:
        values[next(it) % total]
        bound.inc()

    def prom_inc_labels() -> None:
        values[next(it) % total]
        counter.labels("default").inc()

    flow = OrderFlow(["default"])
    sflow = flow.session("default")
    sflow.line = TransportStats()
    sflow.line.last_read_ns = time.monotonic_ns()
    ids = [f"C{i}" for i in range(total)]
    req = NewOrder("s1", "o1", "AAPL", Side.BUY, Decimal(100), OrderType.LIMIT,
                   price=Decimal(190))
    orders = [Order(req, "default", cl) for cl in ids]
    report = decode_frame(encode_fields([(35, "8"), (49, "IB"), (56, "US"), (34, 5),
                                         (52, "20240101-00:00:00"), (11, "C1"), (150, "2")]))
    fill = Execution("o1", ExecKind.FILL, OrderStatus.FILLED, Decimal(100), Decimal(190),
                     Decimal(100), Decimal(0), Decimal(190), "E1", "O1")
    routed = [("s1", fill)]
    received = time.monotonic_ns()

    # An earlier tree kept the send times in a ClOrdID map (`awaiting_ack`) instead of on
    # the `Order`: time whichever this tree has, so an A/B pair runs the same script.
    awaiting: dict[str, int] | None = getattr(sflow, "awaiting_ack", None)
    acked = orders[1]  # the report's ClOrdID, answered already (the usual case)

    def per_order() -> None:
        flow.new_order()
        flow.sent_new(sflow, orders[next(it) % total], received)

    def per_order_map() -> None:
        assert awaiting is not None
        flow.new_order()
        flow.sent_new(sflow, ids[next(it) % total], received)  # type: ignore[arg-type]
        if len(awaiting) > 1000:  # acks keep it this small in the engine; amortised here
            awaiting.clear()

    def per_report() -> None:
        values[next(it) % total]
        flow.reports(sflow, report, routed, acked)

    def per_report_map() -> None:
        values[next(it) % total]
        flow.reports(sflow, report, routed)

    tmp = Path(tempfile.mkdtemp(prefix="benchm-"))
    plain_store = JournalStore(tmp / "plain", now=0.0)
    timed_store = MeteredJournalStore(tmp / "timed", now=0.0, meter=JournalMeter())
    record = b"x" * 160
    seqs = [count(1), count(1)]

    def append_plain() -> None:
        values[next(it) % total]
        plain_store.save_outbound(next(seqs[0]), record)

    def append_timed() -> None:
        values[next(it) % total]
        timed_store.save_outbound(next(seqs[1]), record)

    fix_log = FixLog(tmp / "fix.log", Redactor(["tok"]), interval=0.005)
    fix_log.start()
    tap = fix_log.tap("default")

    def fix_tap() -> None:
        values[next(it) % total]
        tap(True, record)

    quiet = logging.getLogger("fixrouter.bench.quiet")
    quiet.setLevel(logging.WARNING)

    def log_disabled() -> None:
        quiet.debug("%s: order %s", "default", values[next(it) % total])

    cases: dict[str, Callable[[], object]] = {
        "harness alone (included in every figure)": harness,
        "LatencyHistogram.observe_ns (bisect + list add)": observe_ns,
        "prometheus Histogram.observe, same buckets": prom_observe,
        "plain int add on a slotted object": int_add,
        "prometheus Counter.inc, label bound once": prom_inc_bound,
        "prometheus Counter.labels(...).inc()": prom_inc_labels,
        "OrderFlow per order: new_order + sent_new": per_order if awaiting is None
        else per_order_map,
        "OrderFlow per report: reports (ack, fill, latency)": per_report if awaiting is None
        else per_report_map,
        "JournalStore.save_outbound, 160 B, os": append_plain,
        "MeteredJournalStore.save_outbound (timed)": append_timed,
        "FixLog tap (queue one message)": fix_tap,
        "log.debug at a disabled level": log_disabled,
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    gc.collect()
    gc.freeze()
    for _ in range(args.rounds):
        for name, fn in cases.items():
            samples[name].append(measure(fn, args.batch))
    fix_log.close()
    plain_store.close()
    timed_store.close()

    # Per scrape: the loop's snapshot and the HTTP thread's formatting.
    engine_sessions = {"default": _EngineSession()}
    probe = EngineProbe(engine_sessions, flow=flow, events=SessionEventCounter(["default"]),
                        journals={"default": timed_store.meter}, denied=lambda: {"X": 1})
    scrape_registry = CollectorRegistry()
    scrape_registry.register(EngineCollector(probe.sample))
    snapshot = sorted(measure(probe.sample, 20) for _ in range(200))
    exposition = sorted(measure(lambda: generate_latest(scrape_registry), 5) for _ in range(100))

    results = {}
    for name, values_ns in samples.items():
        values_ns.sort()
        results[name] = {"median_ns": round(statistics.median(values_ns), 1),
                         "p99_ns": round(values_ns[int(len(values_ns) * 0.99)], 1)}
    results["per scrape: EngineProbe.sample() on the loop, 1 session (µs)"] = {
        "median_us": round(statistics.median(snapshot) / 1000, 1),
        "p99_us": round(snapshot[int(len(snapshot) * 0.99)] / 1000, 1)}
    results["per scrape: exposition text of the registry (µs)"] = {
        "median_us": round(statistics.median(exposition) / 1000, 1),
        "p99_us": round(exposition[int(len(exposition) * 0.99)] / 1000, 1)}
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    else:
        width = max(map(len, results))
        for name, figures in results.items():
            shown = "  ".join(f"{k} {v:>8}" for k, v in figures.items())
            print(f"{name:<{width}}  {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
