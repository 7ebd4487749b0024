"""Order book benchmark: `prepare_new` + `sent` while the book grows, as the engine runs it.

Run: `python tests/oms/bench_book_growth.py [--orders N]`

The book starts empty and takes `--orders` new orders that all keep resting, so every map
it keeps per order grows through the run, resizes included. The collector is off, as the
engine's policy keeps it off a busy loop (`fixrouter.gc_policy`: it freezes rather than
walks). Printed: the per-order time of each 20,000-order chunk (median, last, and mean,
the mean carrying the resize stalls), then the time of three full `gc.collect()` over the
book, the pause an idle full collection of the engine would take. No intent write
(`bench_book.NullLog`): the book's own cost only.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_book import NOW, NullLog, book_with, requests

CHUNK = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=400_000)
    args = parser.parse_args()
    reqs = [r for r, _ in zip(requests("p"), range(args.orders), strict=False)]
    book = book_with(NullLog(), 0)
    prepare, sent = book.prepare_new, book.sent
    gc.collect()
    gc.disable()
    chunks: list[float] = []
    start = time.perf_counter_ns()
    for i, req in enumerate(reqs):
        sent(prepare(req, NOW))  # type: ignore[arg-type]
        if i % CHUNK == CHUNK - 1:
            now = time.perf_counter_ns()
            chunks.append((now - start) / CHUNK / 1000)
            start = now
    print(f"prepare_new+sent, {args.orders} resting orders: median chunk "
          f"{statistics.median(chunks):.3f} us/order, last {chunks[-1]:.3f}, "
          f"mean {statistics.mean(chunks):.3f}")
    pauses = []
    for _ in range(3):
        t0 = time.perf_counter()
        gc.collect()
        pauses.append(round((time.perf_counter() - t0) * 1000))
    gc.enable()
    print(f"full gc.collect() over the book: {pauses} ms")


if __name__ == "__main__":
    main()
