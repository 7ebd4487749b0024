"""/metrics scraped over HTTP while a strategy trades through the real engine and simulator.

10 orders from one strategy, 2 of them above a tight `[risk] max_order_qty`: the
counters must say exactly that (10 received, 2 denied by MAX_ORDER_QTY, 8 accepted, 8
acknowledged and filled, 800 shares), the latency histograms must hold one observation
per order, and the session gauges must match what `fixrouter seq show` says.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fixrouter.client import Denied
from integration.harness import wait_until  # type: ignore[import-not-found]

from .kit import Series, scrape_url, value

pytestmark = pytest.mark.integration

TIGHT = """
[risk.global]
missing_reference = "warn"
max_order_qty = 150
duplicate_window_ms = 0

[risk.kill_switch]
max_denials = 0
max_rejects = 0
"""


def test_counters_match_what_happened(ops_stack: Callable[..., object]) -> None:
    stack = ops_stack(risk=TIGHT)  # type: ignore[assignment]
    types, before = scrape_url(stack.metrics_url)  # type: ignore[attr-defined]
    # At start: up, logged on once, every labelled series already there at 0.
    assert value(before, "fixrouter_session_up", session="default") == 1
    assert value(before, "fixrouter_logons_total", session="default") == 1
    assert value(before, "fixrouter_orders_denied_total", code="MAX_ORDER_QTY") == 0
    assert value(before, "fixrouter_disconnects_total", session="default",
                 reason="SEQ_TOO_LOW") == 0
    assert types["fixrouter_tick_to_wire_seconds"] == "histogram"

    s = stack.strategy("metrics-strat")  # type: ignore[attr-defined]
    for i in range(10):
        qty = 500 if i in (3, 7) else 100
        s.client.new(f"m{i}", "AAPL", "buy", qty, "limit", price="190")
    for i in range(10):
        if i in (3, 7):
            denied = s.refused(f"m{i}")
            assert isinstance(denied, Denied) and denied.code == "MAX_ORDER_QTY"
        else:
            assert s.done(f"m{i}").cum_qty == 100

    series: Series = {}

    def settled() -> bool:
        _, found = scrape_url(stack.metrics_url)  # type: ignore[attr-defined]
        series.update(found)
        return value(found, "fixrouter_fills_total", session="default") == 8

    wait_until(settled, 5, "8 fills in /metrics")
    v = lambda name, **labels: value(series, name, **labels)  # noqa: E731
    assert v("fixrouter_orders_received_total") == 10
    assert v("fixrouter_orders_denied_total", code="MAX_ORDER_QTY") == 2
    assert sum(val for (name, _), val in series.items()
               if name == "fixrouter_orders_denied_total") == 2
    assert v("fixrouter_orders_accepted_total", session="default") == 8
    assert v("fixrouter_orders_rejected_total", session="default") == 0
    assert v("fixrouter_execution_reports_total", session="default", exec_type="new") == 8
    assert v("fixrouter_execution_reports_total", session="default", exec_type="fill") == 8
    assert v("fixrouter_fills_total", session="default") == 8
    assert v("fixrouter_filled_quantity_total", session="default") == 800
    assert v("fixrouter_open_orders", session="default") == 0
    assert v("fixrouter_strategies_connected") == 1
    assert v("fixrouter_kill_switch_engaged", scope="engine") == 0
    assert v("fixrouter_journal_write_errors_total", session="default") == 0
    # One latency per order: ticked on the way out, acknowledged, and two reports each
    # (New, Fill) written to the strategy.
    assert v("fixrouter_tick_to_wire_seconds_count") == 8
    assert v("fixrouter_order_ack_seconds_count", session="default") == 8
    assert v("fixrouter_exec_report_to_strategy_seconds_count") == 16
    assert v("fixrouter_journal_append_seconds_count", session="default") >= 8 + 16
    assert 0 < v("fixrouter_tick_to_wire_seconds_sum") < 8 * 0.05  # µs, not ms, each
    # The sequence gauges are the session's own numbers (as the admin command shows them).
    shown = stack.cli("seq", "show", "--json")  # type: ignore[attr-defined]
    assert shown.returncode == 0, shown.stderr
    import orjson

    (session,) = orjson.loads(shown.stdout)["sessions"]
    assert v("fixrouter_seqnum_next_outbound", session="default") <= session["next_out"]
    assert v("fixrouter_seqnum_next_outbound", session="default") >= 10  # logon + 8 orders + H
    assert v("fixrouter_seqnum_next_inbound", session="default") <= session["next_in"]
    assert v("fixrouter_session_state", session="default", state="ACTIVE") == 1
