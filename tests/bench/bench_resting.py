"""What one resting order leaves behind: tracked containers, bytes, RSS.

Run: `.venv/bin/python tests/bench/bench_resting.py [--orders N] [--types]`

The production assembly of `tests/router/bench_router.py` (risk gate, order book with its
intent log, dialect, session, `os` journal, a fake socket), fed JSON lines through a
gateway connection 64 at a time per loop turn, as `fixrouter bench`'s one-way run feeds
the engine: every order rests (the fake socket never answers). The collector is off
while the orders go through, as under `gc_policy` on a busy loop (it freezes young
generations without walking them), so nothing is untracked behind our back.

Reported per order:
- `frozen`: tracked containers the policy's recount (`gc.get_freeze_count()`) sees
  added, after freezing what the orders left (what decides a forced full collection);
- `live`: the same after a full collection (a collection untracks exact tuples of
  atomics, and frees cycles: the `live` figure of the policy's log line);
- `bytes`: Python heap growth (`tracemalloc`, without its own overhead), and RSS growth.
With `--types`, the types of the frozen survivors, per order.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "router"))
from bench_router import CONFIG, ready_to_trade

from fixrouter.routing.service import RouterService, load

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _PAGE


async def measure(orders: int, types: bool, trace: bool, workdir: Path) -> dict[str, Any]:
    config_path = workdir / "router.toml"
    config_path.write_text(CONFIG.format(store=workdir / "store"))
    service = RouterService(load(config_path))
    loop = asyncio.get_running_loop()
    try:
        router = service.router
        fake, connection = await ready_to_trade(service, loop)

        def line(i: int) -> bytes:
            return (b'{"op":"new","id":"o%d","symbol":"AAPL","side":"buy","qty":%d,'
                    b'"type":"limit","price":"%s","account":"U1234567"}\n'
                    % (i, 100 + (i // 800) % 100, f"{186 + (i % 800) / 100:.2f}".encode()))

        # A warm-up, so caches bounded by design (the gate's passed terms, the journal's
        # buffers) are not counted per order.
        warm = 2000
        connection.data_received(b"".join(line(i) for i in range(warm)))
        await asyncio.sleep(0)
        batches = [b"".join(line(i) for i in range(start, min(start + 64, orders + warm)))
                   for start in range(warm, orders + warm, 64)]
        gc.collect()
        before = set(map(id, gc.get_objects())) if types else set()
        gc.freeze()
        gc.disable()
        frozen0 = gc.get_freeze_count()
        rss0 = rss()
        if trace:
            tracemalloc.start()
        accepted = router.stats.accepted
        for batch in batches:
            connection.data_received(batch)
            await asyncio.sleep(0)
        gc.freeze()
        frozen = gc.get_freeze_count() - frozen0
        heap = tracemalloc.get_traced_memory()[0] if trace else 0
        if trace:
            tracemalloc.stop()
        grown = rss() - rss0
        sent = router.stats.accepted - accepted
        assert sent == orders and fake.stamps, (sent, router.stats.denied)
        out: dict[str, Any] = {
            "orders": orders,
            "frozen_per_order": round(frozen / orders, 3),
            "heap_bytes_per_order": round(heap / orders, 1) if trace else None,
            "rss_bytes_per_order": round(grown / orders, 1),
        }
        if types:
            gc.unfreeze()
            kinds = collections.Counter(type(o).__qualname__ for o in gc.get_objects()
                                        if id(o) not in before)
            out["frozen_types_per_order"] = {
                k: round(v / orders, 3) for k, v in kinds.most_common(12)}
            gc.freeze()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        out["live_per_order"] = round((gc.get_freeze_count() - frozen0) / orders, 3)
        return out
    finally:
        gc.unfreeze()
        gc.enable()
        await service.gateway.close()
        service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--types", action="store_true", help="the survivors' types")
    parser.add_argument("--no-trace", action="store_true", help="skip tracemalloc (faster)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-resting-") as tmp:
        result = uvloop.run(measure(args.orders, args.types, not args.no_trace, Path(tmp)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
