"""Prometheus metrics for the engine, at `[metrics] listen` (default 127.0.0.1:9464/metrics).

Nothing on the order path calls prometheus-client. Components count into plain integers
and bisect histograms as they work, and a custom collector turns those into metric
families when Prometheus scrapes (the library's own pattern for hot paths; the cost
figures are in the design notes, "Operations", and tests/bench/bench_metrics.py):

* `histogram`: `LatencyHistogram`, a `bisect` into fixed bounds and a list add;
* `flow`: `OrderFlow`, the order path's counters and latencies, fed by the router;
* `sessions`: `SessionEventCounter`, logons, resends, gap fills and heartbeat round trips
  from the engine's session events;
* `journal`: `MeteredJournalStore`, the journal with its appends timed and failures counted;
* `probe`: `EngineProbe`, every component read into one `EngineSample`;
* `collector`: `EngineCollector`, the sample as the families of the metric contract
  (deploy/README.md), every labelled series present from the start;
* `server`: the HTTP endpoint, and `LoopSampler`, which takes the sample on the loop;
* `settings`: the `[metrics]` table.
"""

from .collector import CONTRACT, EngineCollector, EngineSample, SessionSample
from .flow import OrderFlow, SessionFlow
from .histogram import LATENCY_BOUNDS_SECONDS, HistogramSample, LatencyHistogram
from .journal import JournalMeter, MeteredJournalStore
from .probe import EngineProbe
from .server import LoopSampler, MetricsError, MetricsServer, build_registry
from .sessions import SessionEventCounter
from .settings import MetricsSettings

__all__ = [
    "CONTRACT",
    "LATENCY_BOUNDS_SECONDS",
    "EngineCollector",
    "EngineProbe",
    "EngineSample",
    "HistogramSample",
    "JournalMeter",
    "LatencyHistogram",
    "LoopSampler",
    "MeteredJournalStore",
    "MetricsError",
    "MetricsServer",
    "MetricsSettings",
    "OrderFlow",
    "SessionEventCounter",
    "SessionFlow",
    "SessionSample",
    "build_registry",
]
