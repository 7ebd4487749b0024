"""The timing loop the micro-benchmarks share.

Each sample is the per-call time of a batch of `batch` calls, so the timer's own cost
(about 50 ns) stays out of figures of about a microsecond; the median and p99 are over
`rounds` samples. Benchmarks import it as a sibling module (`from batched import measure`)
because they run as plain scripts from this directory.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable, Mapping


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


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every micro-benchmark takes; a script adds its own before parsing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    return parser


def measure_cases(cases: Mapping[str, Callable[[], object]], rounds: int,
                  batch: int) -> dict[str, dict[str, float]]:
    """Run each case once (so a broken one fails before any timing), freeze what exists,
    then time each: the collector never walks the setup's objects mid-run."""
    for fn in cases.values():
        fn()
    gc.collect()
    gc.freeze()
    return {name: measure(fn, rounds, batch) for name, fn in cases.items()}


def report(results: Mapping[str, Mapping[str, float]], as_json: bool, header: str) -> None:
    """The figures as JSON, or as a table headed `header`."""
    if as_json:
        json.dump(results, sys.stdout, indent=2)
        print()
        return
    print(f"{header:44} {'median µs':>10} {'p99 µs':>8}")
    for name, figures in results.items():
        print(f"{name:44} {figures['median_us']:10.2f} {figures['p99_us']:8.2f}")
