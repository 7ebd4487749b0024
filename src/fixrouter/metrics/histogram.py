"""Latency histograms the hot path can afford: a `bisect` into fixed bounds and a list add.

Theory of operation
-------------------
prometheus-client's `Histogram.observe` takes a lock, walks the buckets in Python and
costs about 0.8 µs here (design notes, "Operations"); the order path has 15 µs in all. A
`LatencyHistogram` is the same data kept the cheap way: the upper bounds are a sorted list
of integer nanoseconds fixed at start-up, `observe_ns(ns)` finds the bucket with
`bisect_left` (C code, about five comparisons for the ladder below) and adds one to a
plain per-bucket count, plus the value to a running sum. Nothing is cumulative and nothing
is locked: only the event-loop thread writes, and the exporter reads a copy taken on that
same thread (`snapshot`), so it never sees a half-made update.

`bisect_left(bounds, ns)` is the index of the first bound >= ns, which is exactly
Prometheus's `le` (less than or equal) bucket; an index past the last bound is `+Inf`.
The exporter turns the per-bucket counts into the cumulative `_bucket` series.

Values are integer nanoseconds from `time.monotonic_ns()` (the clock the gateway stamps
`received_ns` with), so the hot path never converts to float seconds; the exporter does,
once per scrape.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

LATENCY_BOUNDS_SECONDS: tuple[float, ...] = (
    1e-6, 2e-6, 3e-6, 5e-6, 7.5e-6,
    1e-5, 1.5e-5, 2e-5, 3e-5, 5e-5, 7.5e-5,
    1e-4, 2e-4, 5e-4,
    1e-3, 2e-3, 5e-3,
    1e-2, 2.5e-2, 5e-2,
    0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
"""One ladder for every latency in the engine, from the order path's microseconds to an
acknowledgement's or a heartbeat's seconds. The alert thresholds (50 µs tick-to-wire,
2 ms journal append, 250 ms acknowledgement) are bounds, so `histogram_quantile` is exact
at them rather than interpolated across a wide bucket."""


@dataclass(frozen=True, slots=True)
class HistogramSample:
    """A copy of one histogram: per-bucket (not cumulative) counts, the last one `+Inf`."""

    bounds: tuple[float, ...]
    """Upper bounds in seconds, without `+Inf`."""
    counts: tuple[int, ...]
    """len(bounds) + 1 counts; counts[i] are observations in (bounds[i-1], bounds[i]]."""
    sum_seconds: float

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, float]]:
        """(le, cumulative count) pairs, ending with ("+Inf", count), for the exporter."""
        out: list[tuple[str, float]] = []
        running = 0
        for bound, n in zip(self.bounds, self.counts, strict=False):
            running += n
            out.append((_le(bound), float(running)))
        running += self.counts[-1]
        out.append(("+Inf", float(running)))
        return out

    @classmethod
    def empty(cls, bounds: tuple[float, ...] = LATENCY_BOUNDS_SECONDS) -> HistogramSample:
        return cls(bounds, (0,) * (len(bounds) + 1), 0.0)


class LatencyHistogram:
    """A histogram written by the event-loop thread only. See the module docstring."""

    __slots__ = ("_bounds_ns", "bounds", "counts", "sum_ns")

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BOUNDS_SECONDS) -> None:
        """Raises ValueError for bounds that are empty, not increasing or not above 0."""
        if not bounds or any(b <= 0 for b in bounds) or list(bounds) != sorted(set(bounds)):
            raise ValueError("histogram bounds must be increasing and above 0")
        self.bounds = tuple(bounds)
        self._bounds_ns = [round(b * 1e9) for b in bounds]
        self.counts = [0] * (len(bounds) + 1)
        self.sum_ns = 0

    def observe_ns(self, ns: int) -> None:
        """Count one latency of `ns` nanoseconds (a negative one, from a clock that was
        not monotonic, lands in the first bucket)."""
        self.counts[bisect_left(self._bounds_ns, ns)] += 1
        self.sum_ns += ns

    def observe_seconds(self, seconds: float) -> None:
        """For the paths that are not hot and measure in float seconds (heartbeat RTT)."""
        self.observe_ns(round(seconds * 1e9))

    def snapshot(self) -> HistogramSample:
        return HistogramSample(self.bounds, tuple(self.counts), self.sum_ns / 1e9)


def _le(bound: float) -> str:
    # Prometheus's own float formatting (repr), so `le` values match client libraries'.
    return repr(float(bound))
