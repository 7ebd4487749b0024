"""Prometheus metrics for the engine, at `[metrics] listen` (default 127.0.0.1:9464/metrics).

Nothing on the order path calls prometheus-client. Components count into plain integers
and bisect histograms as they work, and a custom collector turns those into metric
families when Prometheus scrapes (the library's own pattern for hot paths; the cost
figures are in the design notes, "Operations", and tests/bench/bench_metrics.py):

* `histogram`: `LatencyHistogram`, a `bisect` into fixed bounds and a list add;
* `flow`: `OrderFlow`, the order path's counters and latencies, owned by the router;
* `sessions`: `SessionEventCounter`, logons, resends, gap fills and heartbeat round trips
  from the engine's session events;
* `journal`: `MeteredJournalStore`, the journal with its appends timed and failures counted;
* `probe`: `EngineProbe`, every component read into one `EngineSample`;
* `collector`: `EngineCollector`, the sample as the families of the metric contract
  (deploy/README.md), every labelled series present from the start;
* `server`: the HTTP endpoint, and `LoopSampler`, which takes the sample on the loop;
* `settings`: the `[metrics]` table.

This package's namespace holds only the parts that never import prometheus-client, so
the order path (the router imports `OrderFlow`) does not load it; import `collector`,
`probe` and `server` by their module names.
"""

from .flow import OrderFlow, SessionFlow
from .histogram import LATENCY_BOUNDS_SECONDS, HistogramSample, LatencyHistogram
from .journal import JournalMeter, MeteredJournalStore
from .sessions import SessionEventCounter
from .settings import MetricsSettings

__all__ = [
    "LATENCY_BOUNDS_SECONDS",
    "HistogramSample",
    "JournalMeter",
    "LatencyHistogram",
    "MeteredJournalStore",
    "MetricsSettings",
    "OrderFlow",
    "SessionEventCounter",
    "SessionFlow",
]
