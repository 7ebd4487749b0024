"""The timing loop the micro-benchmarks share.

Each sample is the per-call time of a batch of `batch` calls, so the timer's own cost
(about 50 ns) stays out of figures of about a microsecond; the median and p99 are over
`rounds` samples. Benchmarks import it as a sibling module (`from batched import measure`)
because they run as plain scripts from this directory.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def measure(fn: Callable[[], object], rounds: int, batch: int) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter_ns() - start) / batch / 1000.0)
    samples.sort()
    return {
        "median_us": statistics.median(samples),
        "p99_us": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
    }
