"""metrics: the router's routing counters and session-level refusals on the exporter.

`fixrouter_failovers_total{from_session, to_session}`, `fixrouter_cancels_queued_total`
and `fixrouter_session_refusals_total`: present at 0 from the first scrape, and counting
what a real `Router` did (a failover, a cancel held for a session that is down, an order
refused with a session Reject), read through `EngineProbe` as `fixrouter run` wires it.
"""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry

from fixrouter.codec import decode_frame, encode_fields
from fixrouter.metrics.collector import EngineCollector, EngineSample, SessionSample
from fixrouter.metrics.probe import EngineProbe
from fixrouter.requests import CancelOrder
from fixrouter.router import RouterStats
from fixrouter.routing.gate import PassThroughGate
from fixrouter.routing.table import RoutingStats
from fixrouter.session import EventKind, SessionEvent, SessionState
from router.conftest import Stack  # type: ignore[import-not-found]

from .kit import Series, scrape_registry, value
from .test_probe import FakeEngineSession, FakeSession

FAILOVERS = "fixrouter_failovers_total"


def scrape(sample: EngineSample) -> Series:
    registry = CollectorRegistry()
    registry.register(EngineCollector(lambda: sample))
    return scrape_registry(registry)[1]


def sessions(*names: str) -> list[SessionSample]:
    return [SessionSample(n, SessionState.ACTIVE, True, 1, 1) for n in names]


def test_every_ordered_pair_of_sessions_starts_at_zero() -> None:
    series = scrape(EngineSample(sessions("a", "b", "c")))
    pairs = {dict(labels)["from_session"] + ">" + dict(labels)["to_session"]: v
             for (name, labels), v in series.items() if name == FAILOVERS}
    assert pairs == {"a>b": 0, "a>c": 0, "b>a": 0, "b>c": 0, "c>a": 0, "c>b": 0}
    assert value(series, "fixrouter_cancels_queued_total") == 0
    assert value(series, "fixrouter_session_refusals_total") == 0


def test_counts_reach_their_series() -> None:
    series = scrape(EngineSample(
        sessions("a", "b"), failovers={("a", "b"): 3, ("x", "a"): 1}, cancels_queued=2,
        session_refusals=4,
    ))
    assert value(series, FAILOVERS, from_session="a", to_session="b") == 3
    assert value(series, FAILOVERS, from_session="b", to_session="a") == 0
    # a pair outside the sessions sampled is not hidden
    assert value(series, FAILOVERS, from_session="x", to_session="a") == 1
    assert value(series, "fixrouter_cancels_queued_total") == 2
    assert value(series, "fixrouter_session_refusals_total") == 4


def test_the_probe_copies_the_routing_counters() -> None:
    stats = RoutingStats()
    stats.failover("a", "b")
    stats.failover("a", "b")
    stats.cancels_queued = 1
    router_stats = RouterStats()
    router_stats.session_refusals = 5
    probe = EngineProbe({"a": FakeEngineSession(FakeSession()),
                         "b": FakeEngineSession(FakeSession())},
                        routing=stats, router_stats=router_stats)
    sample = probe.sample()
    stats.failover("a", "b")  # after the sample: not in it
    router_stats.session_refusals = 6
    assert dict(sample.failovers) == {("a", "b"): 2}
    assert (sample.cancels_queued, sample.session_refusals) == (1, 5)
    bare = EngineProbe({"a": FakeEngineSession(FakeSession())}).sample()
    assert (dict(bare.failovers), bare.cancels_queued, bare.session_refusals) == ({}, 0, 0)


def test_what_a_real_router_did_is_scraped() -> None:
    stack = Stack(PassThroughGate(), sessions=("s1", "s2"), routing={
        "failover": True, "cancel_while_down": "queue",
        "strategies": {"alpha": ["s1", "s2"]},
    })
    router = stack.router
    probe = EngineProbe({name: FakeEngineSession(FakeSession()) for name in stack.ports},
                        flow=router.flow, routing=router.routing_stats,
                        router_stats=router.stats)
    before = scrape(probe.sample())
    assert value(before, FAILOVERS, from_session="s1", to_session="s2") == 0

    stack.ports["s1"].logged_on = False
    stack.new("o1")  # s1 is down: it goes out on s2
    stack.new("o2", qty=Decimal(5))
    assert [m.get_str(55) for m in stack.ports["s2"].of_type(b"D")] == ["AAPL", "AAPL"]
    stack.ports["s1"].logged_on = True
    stack.new("o3", qty=Decimal(7))  # on s1 again
    stack.ports["s2"].logged_on = False
    router.handle(CancelOrder("alpha", "o1"))  # o1 lives on s2, which is down: held
    seq = stack.ports["s1"].of_type(b"D")[0].get_int(34)
    reject = decode_frame(encode_fields([(35, "3"), (49, "IB"), (56, "FIXROUTER"), (34, 9),
                                         (52, "20231114-22:13:20.000"), (45, seq or 0),
                                         (373, 5), (58, "bad tag")]))
    router.on_event("s1", SessionEvent(EventKind.REJECT_RECEIVED, "Reject", seq, reject))

    after = scrape(probe.sample())
    assert value(after, FAILOVERS, from_session="s1", to_session="s2") == 2
    assert value(after, FAILOVERS, from_session="s2", to_session="s1") == 0
    assert value(after, "fixrouter_cancels_queued_total") == 1
    assert value(after, "fixrouter_session_refusals_total") == 1
    assert value(after, "fixrouter_orders_accepted_total", session="s2") == 2
