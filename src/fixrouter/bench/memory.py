"""The memory run of `fixrouter bench` (issue 7): engine RSS over a million finished orders.

Theory of operation
-------------------
The latency and throughput runs leave every order resting (acked, or never answered by
the sink), and a working order must stay in memory, so their RSS says nothing about
what the engine keeps of *finished* orders. This run uses the acceptor's filled mode
(every NewOrderSingle answered by an ExecutionReport New and an ExecutionReport Filled):
each order goes through the whole path (gateway, risk gate, order book and intent log,
dialect, session, journal, socket) and back (report decode, book, gate, the `exec`
events to the strategy), and finishes. The load generator keeps `--window` orders in
flight and counts an order answered at its `exec fill`.

It runs first, on a fresh engine, in two parts: a warm-up of `--memory-warmup` orders,
so that everything bounded by design (the positions' fill window, the risk gate's
caches, the duplicate window, allocator pools) reaches its steady size, and then
`--memory-orders` orders. The engine's RSS is read before the warm-up, after it and at
the end, and sampled every `SAMPLE_SECONDS` during the run with the number of orders
accepted so far (a preallocated array of samples, so the sampler does not grow either);
the growth per million is (end - after warm-up) / orders x 10^6. The figures are one
run's; on a shared machine the throughput is noisy (RSS is not).

Besides RSS the run reports what the engine holds at the end, by structure: the order
book's live orders and retired ids, the risk gate's records, and the bytes of the
retired-id table and of the journal's index, so a growth can be told apart from an
allocator's slack.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from array import array
from typing import TYPE_CHECKING, Any

from fixrouter.bench.report import Figures

if TYPE_CHECKING:
    from fixrouter.bench.runner import _Bench

SAMPLE_SECONDS = 0.5
MAX_SAMPLES = 4096
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _PAGE / 1e6


class RssSampler:
    """RSS and orders accepted, every `SAMPLE_SECONDS`, into preallocated arrays."""

    def __init__(self, accepted: Any) -> None:
        self._accepted = accepted  # a callable returning orders accepted so far
        self.orders = array("q", bytes(8 * MAX_SAMPLES))
        self.rss_kb = array("q", bytes(8 * MAX_SAMPLES))
        self.n = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while self.n < MAX_SAMPLES:
            self.orders[self.n] = self._accepted()
            self.rss_kb[self.n] = int(rss_mb() * 1000)
            self.n += 1
            await asyncio.sleep(SAMPLE_SECONDS)

    def curve(self, points: int = 11) -> list[tuple[int, float]]:
        """(orders, RSS MB) at up to `points` evenly spaced samples."""
        n = self.n
        if not n:
            return []
        picks = sorted({round(i * (n - 1) / max(1, points - 1)) for i in range(points)})
        return [(self.orders[i], self.rss_kb[i] / 1000) for i in picks]


def _burst(orders: int, window: int) -> dict[str, Any]:
    return {"cmd": "burst", "seconds": 86_400.0, "orders": orders, "window": window,
            "until": "fill"}


async def _run(bench: _Bench, orders: int) -> Figures:
    helper = bench.helper
    assert helper is not None
    cpu0 = time.process_time()
    t0 = time.monotonic()
    timeout = 120.0 + orders / 2_000  # generous: a stalled engine still ends the bench
    reply = await helper.request(_burst(orders, bench.options.window), timeout=timeout)
    wall = max(1e-9, time.monotonic() - t0)
    span = (reply["last_answer_ns"] - reply["first_send_ns"]) / 1e9
    out: Figures = {
        "sent": reply["sent"],
        "answered": reply.get("answered", 0),
        "failed": reply.get("failed", 0),
        "wall_s": round(wall, 3),
        "orders_per_s": round(reply["answered"] / span) if span > 0 else None,
        "engine_cpu": round((time.process_time() - cpu0) / wall, 3),
    }
    if out["failed"] or out["answered"] != out["sent"] or out["sent"] != orders:
        bench.problems.append(
            f"memory run: sent {out['sent']} of {orders}, {out['answered']} filled, "
            f"{out['failed']} denied or refused: {reply.get('samples', [])[:2]}")
    return out


def _held(bench: _Bench) -> dict[str, Any]:
    """What the engine holds at the end, by structure (absent attributes are skipped, so
    the run also measures an engine without retirement)."""
    service = bench.service
    assert service is not None
    router = service.router
    book = router.book
    retire = getattr(book, "retire_finished", None)
    if retire is not None:
        retire()  # what the book's next call would do first
    out: dict[str, Any] = {"live_orders": sum(1 for _ in book.orders())}
    retired = getattr(book, "_retired", None)
    if retired is not None:
        out["retired_ids"] = len(retired)
        out["retired_id_bytes"] = retired.nbytes
    risk = getattr(router.gate, "risk", None)
    if risk is not None:
        out["risk_records"] = risk.filed()
    index_entries = 0
    for session in service.engine.sessions.values():
        index = getattr(session.store, "_out", None)
        if index is not None:
            index_entries += len(index)
    out["journal_index_bytes"] = 16 * index_entries
    return out


async def memory_run(bench: _Bench) -> Figures:
    """Warm up, then push `memory_orders` finishing orders; RSS before, between, after."""
    options = bench.options
    helper = bench.helper
    service = bench.service
    assert helper is not None and service is not None
    stats = service.router.stats
    await helper.request({"cmd": "mode", "mode": "filled"})
    sampler = RssSampler(lambda: stats.accepted)
    gc_before = [s["collections"] for s in gc.get_stats()]
    start = rss_mb()
    sampler.start()
    try:
        warmup = await _run(bench, options.memory_warmup) if options.memory_warmup else None
        after_warmup = rss_mb()
        run = await _run(bench, options.memory_orders)
        end = rss_mb()
    finally:
        await sampler.stop()
        await helper.request({"cmd": "mode", "mode": "acked"})
    orders = run["sent"]
    peak, peak_at = end, stats.accepted
    for i in range(sampler.n):
        if sampler.rss_kb[i] / 1000 > peak:
            peak, peak_at = sampler.rss_kb[i] / 1000, sampler.orders[i]
    return {
        "orders": orders,
        "warmup_orders": warmup["sent"] if warmup else 0,
        "window": options.window,
        "rss_start_mb": round(start, 1),
        "rss_after_warmup_mb": round(after_warmup, 1),
        "rss_end_mb": round(end, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_peak_at_orders": peak_at,
        "rss_growth_mb": round(end - after_warmup, 1),
        "rss_growth_per_1m_orders_mb": round((end - after_warmup) / orders * 1e6, 1)
        if orders else 0.0,
        "rss_curve": [[n, round(mb, 1)] for n, mb in sampler.curve()],
        "warmup": warmup,
        "run": run,
        "gc_collections": [b - a for a, b in zip(
            gc_before, [s["collections"] for s in gc.get_stats()], strict=True)],
        "held_at_end": _held(bench),
    }
