"""metrics/collector: the families of the deploy kit's metric contract, zeros included."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from fixrouter.events import ExecKind
from fixrouter.metrics import LatencyHistogram
from fixrouter.metrics.collector import (
    CONTRACT,
    DENIAL_CODES,
    DISCONNECT_REASONS,
    EngineCollector,
    EngineSample,
    SessionSample,
)
from fixrouter.metrics.flow import SessionFlowSample
from fixrouter.metrics.sessions import SessionCountsSample
from fixrouter.risk import DenialCode
from fixrouter.session import DisconnectReason, SessionState

from .kit import deploy_kit, scrape_registry, value


def scrape(sample: EngineSample) -> tuple[dict[str, str], dict]:  # type: ignore[type-arg]
    registry = CollectorRegistry()
    registry.register(EngineCollector(lambda: sample))
    return scrape_registry(registry)


def idle(*names: str) -> EngineSample:
    return EngineSample([SessionSample(n, SessionState.DISCONNECTED, True, 1, 1) for n in names])


def test_contract_is_the_deploy_kits() -> None:
    kit = deploy_kit()
    ours = {name for name, (kind, _) in CONTRACT.items()}
    assert ours == kit.DOCUMENTED
    for name, (kind, _labels) in CONTRACT.items():
        assert name in {"counter": kit.COUNTERS, "gauge": kit.GAUGES,
                        "histogram": kit.HISTOGRAMS}[kind], name


def test_exports_every_contract_family_with_its_type_and_labels() -> None:
    types, series = scrape(idle("ib-main", "ib-backup"))
    for name, (kind, labels) in CONTRACT.items():
        family = name.removesuffix("_total") if kind == "counter" else name
        assert types.get(family) == kind, name
        sample_name = f"{name}_count" if kind == "histogram" else name
        found = [key for key in series if key[0] == sample_name]
        if name == "fixrouter_position":
            assert not found  # no position in configured symbols yet
            continue
        assert found, name
        for _, label_items in found:
            assert {k for k, _ in label_items} == set(labels), (name, label_items)


def test_every_labelled_counter_starts_at_zero_for_every_label_value() -> None:
    _, series = scrape(idle("s1"))
    for reason in DisconnectReason:
        assert value(series, "fixrouter_disconnects_total", session="s1", reason=reason) == 0
    assert "SEQ_TOO_LOW" in DISCONNECT_REASONS and "OPERATOR_ACTION_REQUIRED" in DISCONNECT_REASONS
    for code in (*DenialCode, "ENGINE_UNAVAILABLE"):
        assert value(series, "fixrouter_orders_denied_total", code=code) == 0
    assert len(DENIAL_CODES) == len(DenialCode) + 1
    for kind in ExecKind:
        assert value(series, "fixrouter_execution_reports_total", session="s1",
                     exec_type=kind.value) == 0
    for direction in ("sent", "received"):
        assert value(series, "fixrouter_resend_requests_total", session="s1",
                     direction=direction) == 0
    for scope in ("engine", "account", "strategy"):
        assert value(series, "fixrouter_kill_switch_engaged", scope=scope) == 0
    for state in SessionState:
        expected = 1.0 if state is SessionState.DISCONNECTED else 0.0
        assert value(series, "fixrouter_session_state", session="s1", state=state) == expected


def test_values_reach_their_series() -> None:
    ack = LatencyHistogram()
    ack.observe_ns(3_000_000)  # 3 ms
    session = SessionSample(
        "s1", SessionState.ACTIVE, True, 42, 17, reconnects=2,
        disconnects={"SEQ_TOO_LOW": 1, "CONNECTION_LOST": 3},
        throttle_queue_depth=4, open_orders=5, journal_write_errors=1,
        events=SessionCountsSample(3, 1, 2, 1, ack.snapshot()),
        flow=SessionFlowSample(8, {ExecKind.NEW: 8, ExecKind.FILL: 7, ExecKind.REJECTED: 1}, 1,
                               7, 700.0, ack.snapshot()),
    )  # fmt: skip
    t2w = LatencyHistogram()
    for ns in (9_000, 11_000, 60_000):
        t2w.observe_ns(ns)
    _, series = scrape(EngineSample(
        [session], orders_received=10, denied={"MAX_ORDER_QTY": 2},
        tick_to_wire=t2w.snapshot(), positions=[("U1", "AAPL", -300.0)],
        kill_switches={"engine": 1, "strategy": 2}, strategies_connected=3,
        slow_client_disconnects=1, gc_collections={"idle_young": 5, "forced_full": 1},
        gc_pauses={"idle_young": t2w.snapshot()}, gc_freezes=4,
    ))  # fmt: skip
    assert value(series, "fixrouter_gc_collections_total", kind="idle_young") == 5
    assert value(series, "fixrouter_gc_collections_total", kind="forced_full") == 1
    assert value(series, "fixrouter_gc_collections_total", kind="forced_young") == 0
    assert value(series, "fixrouter_gc_pause_seconds_count", kind="idle_young") == 3
    assert value(series, "fixrouter_gc_pause_seconds_count", kind="idle_full") == 0
    assert value(series, "fixrouter_gc_freezes_total") == 4
    assert value(series, "fixrouter_session_up", session="s1") == 1
    assert value(series, "fixrouter_seqnum_next_outbound", session="s1") == 42
    assert value(series, "fixrouter_seqnum_next_inbound", session="s1") == 17
    assert value(series, "fixrouter_reconnects_total", session="s1") == 2
    assert value(series, "fixrouter_disconnects_total", session="s1", reason="SEQ_TOO_LOW") == 1
    assert value(series, "fixrouter_logons_total", session="s1") == 3
    assert value(series, "fixrouter_orders_received_total") == 10
    assert value(series, "fixrouter_orders_accepted_total", session="s1") == 8
    assert value(series, "fixrouter_orders_denied_total", code="MAX_ORDER_QTY") == 2
    assert value(series, "fixrouter_orders_rejected_total", session="s1") == 1
    assert value(series, "fixrouter_fills_total", session="s1") == 7
    assert value(series, "fixrouter_filled_quantity_total", session="s1") == 700
    assert value(series, "fixrouter_execution_reports_total", session="s1",
                 exec_type="fill") == 7
    assert value(series, "fixrouter_position", account="U1", symbol="AAPL") == -300
    assert value(series, "fixrouter_kill_switch_engaged", scope="engine") == 1
    assert value(series, "fixrouter_kill_switch_engaged", scope="strategy") == 2
    assert value(series, "fixrouter_throttle_queue_depth", session="s1") == 4
    assert value(series, "fixrouter_open_orders", session="s1") == 5
    assert value(series, "fixrouter_journal_write_errors_total", session="s1") == 1
    assert value(series, "fixrouter_strategies_connected") == 3
    assert value(series, "fixrouter_slow_client_disconnects_total") == 1
    assert value(series, "fixrouter_tick_to_wire_seconds_bucket", le="1e-05") == 1
    assert value(series, "fixrouter_tick_to_wire_seconds_bucket", le="5e-05") == 2
    assert value(series, "fixrouter_tick_to_wire_seconds_bucket", le="+Inf") == 3
    assert value(series, "fixrouter_tick_to_wire_seconds_count") == 3
    assert value(series, "fixrouter_order_ack_seconds_bucket", session="s1", le="0.005") == 1
    assert value(series, "fixrouter_order_ack_seconds_bucket", session="s1", le="0.002") == 0
