"""metrics/histogram: the bisect histogram agrees with prometheus-client's own."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry, Histogram

from fixrouter.metrics import LATENCY_BOUNDS_SECONDS, HistogramSample, LatencyHistogram


def test_buckets_are_le_bounds_with_inf_last() -> None:
    h = LatencyHistogram((1e-6, 1e-5))
    for ns in (0, 1000, 1001, 10_000, 10_001, 5 * 10**9):
        h.observe_ns(ns)
    # 0 and exactly 1 µs are <= 1 µs; 1001 ns and exactly 10 µs are <= 10 µs; the rest +Inf.
    assert h.counts == [2, 2, 2]
    sample = h.snapshot()
    assert sample.cumulative() == [("1e-06", 2.0), ("1e-05", 4.0), ("+Inf", 6.0)]
    assert sample.count == 6
    assert sample.sum_seconds == pytest.approx((1000 + 1001 + 10_000 + 10_001 + 5e9) / 1e9)


def test_matches_prometheus_client_histogram_on_random_latencies() -> None:
    rng = random.Random(7)
    ours = LatencyHistogram()
    theirs = Histogram("t", "t", buckets=LATENCY_BOUNDS_SECONDS, registry=CollectorRegistry())
    for _ in range(5000):
        ns = int(rng.lognormvariate(10, 3))  # ~1 µs .. seconds
        ours.observe_ns(ns)
        theirs.observe(ns / 1e9)
    (family,) = theirs.collect()
    expected = [(s.labels["le"], s.value) for s in family.samples if s.name == "t_bucket"]
    assert ours.snapshot().cumulative() == expected


def test_alert_thresholds_are_bucket_bounds() -> None:
    # deploy/prometheus/alerts.yml: tick-to-wire p99 > 50 µs, journal append > 2 ms,
    # acknowledgement > 250 ms. histogram_quantile is exact only at a bound.
    for threshold in (50e-6, 2e-3, 0.25):
        assert threshold in LATENCY_BOUNDS_SECONDS


def test_bad_bounds_are_refused() -> None:
    for bounds in ((), (2.0, 1.0), (0.0, 1.0), (1.0, 1.0)):
        with pytest.raises(ValueError):
            LatencyHistogram(bounds)


def test_empty_sample_has_every_bucket() -> None:
    sample = HistogramSample.empty()
    assert len(sample.cumulative()) == len(LATENCY_BOUNDS_SECONDS) + 1
    assert sample.count == 0
