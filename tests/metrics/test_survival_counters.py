"""metrics: what the engine survived rather than did, on the exporter.

`fixrouter_order_anomalies_total{kind}` (the order book's `AnomalyCounter`),
`fixrouter_request_errors_total{code}`, `fixrouter_requests_not_sent_total{reason}`,
`fixrouter_events_dropped_total{reason}`, `fixrouter_gateway_connections_total{event}`,
`fixrouter_gateway_lines_total`, `fixrouter_news_messages_total` and
`fixrouter_order_status_requests_total`: every label value present at 0 from the first
scrape, and counting what a real `OrderBook`, `Router` and `Gateway` did, read through
`EngineProbe` with the arguments `fixrouter run` gives it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from types import MappingProxyType

from prometheus_client import CollectorRegistry

from fixrouter.dialect import Dialect, DialectSettings
from fixrouter.events import ErrorCode
from fixrouter.gateway import Gateway, GatewayConfig, ListenAddress
from fixrouter.gateway.config import ClientConfig
from fixrouter.metrics.collector import (
    ANOMALY_KINDS,
    CONNECTION_EVENTS,
    DROP_REASONS,
    NOT_SENT_REASONS,
    REQUEST_ERROR_CODES,
    EngineCollector,
    EngineSample,
    SessionSample,
)
from fixrouter.metrics.probe import EngineProbe
from fixrouter.oms import Anomaly, AnomalyCounter, MemoryIntentLog, OrderBook
from fixrouter.requests import NewOrder, OrderType, SecurityType, Side
from fixrouter.router import Router
from fixrouter.routing.config import RoutingConfig
from fixrouter.routing.gate import PassThroughGate
from fixrouter.session import EventKind, SessionEvent, SessionState
from fixrouter.store import StoreError
from gateway.conftest import LineClient, connect  # type: ignore[import-not-found]
from router.conftest import (  # type: ignore[import-not-found]
    VALIDATOR,
    Broker,
    FakePort,
    Stack,
)

from .kit import Series, scrape_registry, value
from .test_probe import FakeEngineSession, FakeSession

ANOMALIES = "fixrouter_order_anomalies_total"
ERRORS = "fixrouter_request_errors_total"
NOT_SENT = "fixrouter_requests_not_sent_total"
DROPPED = "fixrouter_events_dropped_total"
CONNECTIONS = "fixrouter_gateway_connections_total"


def scrape(sample: EngineSample) -> Series:
    registry = CollectorRegistry()
    registry.register(EngineCollector(lambda: sample))
    return scrape_registry(registry)[1]


def labelled(series: Series, name: str) -> dict[str, float]:
    return {dict(labels).popitem()[1]: v for (n, labels), v in series.items() if n == name}


def probe_of(stack: Stack, gateway: Gateway | None = None) -> EngineProbe:
    """The probe as `Operations._probe` builds it, over a stack's real components."""
    router = stack.router
    return EngineProbe({name: FakeEngineSession(FakeSession()) for name in stack.ports},
                       anomalies=router.book.counters, router_stats=router.stats,
                       gateway=gateway, gateway_counters=gateway.stats if gateway else None)


def test_every_label_value_is_exported_at_zero_from_the_first_scrape() -> None:
    series = scrape(EngineSample([SessionSample("s1", SessionState.ACTIVE, True, 1, 1)]))
    assert labelled(series, ANOMALIES) == dict.fromkeys(ANOMALY_KINDS, 0)
    assert set(ANOMALY_KINDS) == {k.name.lower() for k in Anomaly}
    assert {"overfill", "orphan_order", "garbled_journal_message"} <= set(ANOMALY_KINDS)
    assert labelled(series, ERRORS) == dict.fromkeys(REQUEST_ERROR_CODES, 0)
    assert set(REQUEST_ERROR_CODES) == {c.value for c in ErrorCode}
    assert labelled(series, NOT_SENT) == dict.fromkeys(NOT_SENT_REASONS, 0)
    assert labelled(series, DROPPED) == dict.fromkeys(DROP_REASONS, 0)
    assert labelled(series, CONNECTIONS) == dict.fromkeys(CONNECTION_EVENTS, 0)
    for name in ("fixrouter_gateway_lines_total", "fixrouter_news_messages_total",
                 "fixrouter_order_status_requests_total"):
        assert value(series, name) == 0


def test_every_anomaly_kind_reaches_its_own_series() -> None:
    counter = AnomalyCounter()
    for kind in Anomaly:
        counter.inc(kind, kind.value + 1)  # a distinct count per kind: no two can swap
    series = scrape(EngineProbe({}, anomalies=counter).sample())
    assert labelled(series, ANOMALIES) == {k.name.lower(): k.value + 1 for k in Anomaly}


def test_the_sample_is_a_copy_taken_at_scrape_time() -> None:
    counter = AnomalyCounter()
    probe = EngineProbe({}, anomalies=counter)
    counter.inc(Anomaly.OVERFILL)
    sample = probe.sample()
    counter.inc(Anomaly.OVERFILL)  # after the sample: not in it
    assert sample.anomalies["overfill"] == 1
    assert probe.sample().anomalies["overfill"] == 2


def test_what_a_real_book_survived_is_scraped() -> None:
    """A restart over a journal with an order but no intent, an intent with no journaled
    order and a garbled message; then live reports the book can only survive."""
    broker = Broker()
    before = Stack(PassThroughGate())
    before.new("o1")
    before.new("o2", qty=5)
    o1, o2 = before.port.sent
    intent_of_o2 = [line for line in before.intents["s1"].lines
                    if (o2.get_str(11) or "").encode() in line]
    assert len(intent_of_o2) == 1

    stack = Stack(PassThroughGate(), recover=False)
    store = stack.port.store
    store.save_outbound(1, o1.raw)  # journaled, but its intent is gone: an orphan
    store.save_inbound(1, b"8=FIX.4.2\x019=5\x0135=8\x0110=000\x01")  # bad checksum
    # o2's intent survived but its message never reached the journal: not sent
    stack.intents["s1"].lines[:] = intent_of_o2
    probe = probe_of(stack)
    assert sum(labelled(scrape(probe.sample()), ANOMALIES).values()) == 0
    stack.router.recover()

    stack.new("o3", qty=10)
    d = stack.port.sent[-1]
    router = stack.router
    router.on_deliver("s1", broker.report(d, "0", "0"))
    partial = broker.report(d, "1", "1", cum="6", last="6", px="190")
    router.on_deliver("s1", partial)
    router.on_deliver("s1", partial)  # the same ExecID again
    router.on_deliver("s1", broker.report(d, "I", "1", cum="5"))  # IB's CumQty says 5
    router.on_deliver("s1", broker.report(d, "1", "1", cum="7", last="ten"))  # unreadable
    router.on_deliver("s1", broker.unsolicited("9", [
        (37, "OID1"), (11, "NOT-OURS-1"), (41, d.get_str(11) or ""), (39, "1"), (434, "1"),
        (102, "1"), (58, "Unknown order")]))  # no cancel of ours is pending
    router.on_deliver("s1", broker.report(d, "2", "2", cum="12", last="6", px="190"))
    router.on_deliver("s1", broker.unsolicited("8", [
        (37, "IB-OWN"), (17, "X1"), (20, "0"), (150, "0"), (39, "0"), (55, "IBM"), (54, "1"),
        (38, "5"), (32, "0"), (31, "0"), (14, "0"), (151, "5"), (6, "0"),
    ]))  # an order IB has and nobody here sent

    book = stack.book.counters
    series = scrape(probe.sample())
    anomalies = labelled(series, ANOMALIES)
    expected = {
        "orphan_order": 1, "garbled_journal_message": 1, "not_sent": 1,
        "duplicate_report": 1, "overfill": 1, "stale_cancel_reject": 1,
        "cum_qty_mismatch": 1, "bad_report": 1, "unknown_order_report": 1,
    }
    for kind, count in expected.items():
        assert anomalies[kind] == count, kind
    # and every kind, counted or not, is the book's own count
    assert anomalies == {k.name.lower(): book[k] for k in Anomaly}
    # the orphan's own ack had nobody to go to
    assert value(series, DROPPED, reason="orphan") == router.stats.orphan_events == 1


def test_what_a_real_router_did_is_scraped() -> None:
    stack = Stack(PassThroughGate())
    router = stack.router
    probe = probe_of(stack)
    stack.port.fail = StoreError("disk full")
    stack.new("o1")  # the session would not take them
    stack.new("o2")
    stack.port.fail = None
    stack.new("o3", sec_type=SecurityType.OPT)  # an option without its contract
    broker = Broker()
    for _ in range(2):
        router.on_deliver("s1", broker.unsolicited("B", [(148, "IB bulletin"), (33, "0")]))
    router.on_event("s1", SessionEvent(EventKind.LOGGED_ON, "logged on"))
    stack.timers.run_soon()  # the status request goes after the logon has finished
    series = scrape(probe.sample())
    assert value(series, NOT_SENT, reason="send_failed") == 2
    assert value(series, NOT_SENT, reason="unbuildable") == 1
    assert value(series, "fixrouter_news_messages_total") == 2
    assert value(series, "fixrouter_order_status_requests_total") == 1
    assert [m.get_str(11) for m in stack.port.of_type(b"H")] == ["*"]
    assert value(series, DROPPED, reason="not_started") == 0


def test_events_of_a_router_without_a_gateway_yet_are_counted_as_dropped() -> None:
    intents = MemoryIntentLog()
    port = FakePort("s1", intents)
    router = Router(OrderBook(), PassThroughGate(), Dialect(DialectSettings(), VALIDATOR),
                    RoutingConfig.from_toml_table({}).resolve(["s1"]))
    router.add_session(port, intents)
    router.recover()
    probe = EngineProbe({"s1": FakeEngineSession(FakeSession())}, router_stats=router.stats)
    router.handle(NewOrder("alpha", "o1", "AAPL", Side.BUY, Decimal(1), OrderType.MARKET))
    assert len(port.sent) == 1  # sent; its `accepted` had no gateway to go to
    assert value(scrape(probe.sample()), DROPPED, reason="not_started") == 1


def test_what_a_real_gateway_saw_is_scraped() -> None:
    """Over loopback: a refused hello, a malformed line, a duplicate id refused by the
    order book, and a report for a strategy that has gone while another stays."""
    stack = Stack(PassThroughGate())
    config = replace(GatewayConfig(), listen=(ListenAddress("tcp", "127.0.0.1", 0),),
                     clients=MappingProxyType({"locked": ClientConfig("locked", "s3cret-t0ken")}))
    gateway = Gateway(config, stack.router)
    stack.router.outlet = gateway
    probe = probe_of(stack, gateway)

    async def scenario() -> tuple[Series, Series]:
        await gateway.start()
        try:
            first = scrape(probe.sample())
            intruder = await LineClient.open(gateway.addresses[0])
            refused = await intruder.hello("locked", "wrong-t0ken")
            assert refused["ev"] == "error" and refused["code"] == "BAD_TOKEN", refused
            assert await intruder.closed_by_peer()
            await intruder.close()
            beta = await connect(gateway, "beta")  # stays connected
            alpha = await connect(gateway, "alpha")
            error = await alpha.request(b"{not json\n")
            assert error["code"] == "BAD_JSON", error
            order = {"op": "new", "id": "o1", "symbol": "AAPL", "side": "buy", "qty": 10,
                     "type": "limit", "price": "190"}
            assert (await alpha.request(order))["ev"] == "accepted"
            again = await alpha.request(order)
            assert again["code"] == "DUPLICATE_ID", again
            await alpha.close()
            while len(gateway._connections) > 1:
                await asyncio.sleep(0.01)  # until connection_lost has run for alpha
            assert gateway.connected() == ["beta"]
            d = stack.port.sent[0]
            stack.router.on_deliver("s1", Broker().report(d, "0", "0"))  # alpha is gone
            last = scrape(probe.sample())
            await beta.close()
            return first, last
        finally:
            await gateway.close()

    with asyncio.Runner() as runner:
        first, series = runner.run(asyncio.wait_for(scenario(), 60))
    assert labelled(first, CONNECTIONS) == {"opened": 0, "closed": 0, "hello_refused": 0}
    assert labelled(series, CONNECTIONS) == {"opened": 3, "closed": 2, "hello_refused": 1}
    assert value(series, "fixrouter_gateway_lines_total") == 6  # 3 hellos, bad, new, new
    errors = labelled(series, ERRORS)
    assert {code: n for code, n in errors.items() if n} == {
        "BAD_TOKEN": 1, "BAD_JSON": 1, "DUPLICATE_ID": 1}
    assert value(series, DROPPED, reason="disconnected") == 1
    assert value(series, DROPPED, reason="orphan") == 0
