"""Every admin command against a running engine (`fixrouter run`, the real simulator).

The CLI runs as an operator runs it, in its own process, finding the socket from the
engine's config file; what the strategy sees and what /metrics says confirm the effect.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import orjson
import pytest

from fixrouter.client import Denied, OrderStatus
from integration.harness import RouterProcess, journal_seqs, wait_until  # type: ignore[import-not-found]

from .stack import LOOSE_RISK, OpsStack

pytestmark = pytest.mark.integration

Stacks = Callable[..., OpsStack]


def metric(stack: OpsStack, name: str, **labels: str) -> float:
    # Imported here: tests/metrics' helpers, reused rather than copied.
    from metrics.kit import scrape_url, value  # type: ignore[import-not-found]

    return value(scrape_url(stack.metrics_url)[1], name, **labels)  # type: ignore[no-any-return]


def ok(result: object) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    return result.stdout  # type: ignore[attr-defined,no-any-return]


def test_status_kill_switch_ref_price_reload_and_sighup(ops_stack: Stacks) -> None:
    stack = ops_stack()
    out = ok(stack.cli("status"))
    assert "session default: ACTIVE (logged on)" in out and "kill switches: none" in out
    assert "risk gate: open" in out

    s = stack.strategy("ks-strat")
    s.client.new("rest1", "IBM", "buy", 10, "limit", price="150")
    s.exec("rest1", "new")
    out = ok(stack.cli("status", "--orders"))
    assert "strategies connected: 1 (ks-strat)" in out and "open orders: 1" in out
    assert "ks-strat/rest1" in out and "buy 10 IBM @ 150" in out

    # A strategy's switch, cancelling its working orders.
    out = ok(stack.cli("kill-switch", "on", "--strategy", "ks-strat", "--cancel-all",
                       "--reason", "runaway test"))
    assert "kill switch ENGAGED for strategy ks-strat: runaway test" in out
    assert "cancels sent: 1" in out
    assert s.done("rest1").status is OrderStatus.CANCELED
    s.client.new("blocked1", "AAPL", "buy", 10, "limit", price="190")
    denied = s.refused("blocked1")
    assert isinstance(denied, Denied) and denied.code == "KILL_SWITCH"
    assert "KILL SWITCH ENGAGED: strategy ks-strat, by hand" in ok(stack.cli("status"))
    assert metric(stack, "fixrouter_kill_switch_engaged", scope="strategy") == 1
    assert "released" in ok(stack.cli("kill-switch", "off", "--strategy", "ks-strat"))
    s.client.new("free1", "AAPL", "buy", 10, "limit", price="190")
    assert s.done("free1").status is OrderStatus.FILLED

    # The engine's switch.
    ok(stack.cli("kill-switch", "on"))
    assert metric(stack, "fixrouter_kill_switch_engaged", scope="engine") == 1
    s.client.new("blocked2", "AAPL", "buy", 10, "limit", price="190")
    assert s.refused("blocked2").code == "KILL_SWITCH"  # type: ignore[union-attr]
    ok(stack.cli("kill-switch", "off"))
    assert "was not engaged" in ok(stack.cli("kill-switch", "off"))
    assert metric(stack, "fixrouter_kill_switch_engaged", scope="engine") == 0

    # Reference price.
    assert "reference price of AAPL set to 191.25" in ok(stack.cli("ref-price", "AAPL", "191.25"))
    assert "(was 191.25)" in ok(stack.cli("ref-price", "AAPL", "191.30"))
    bad = stack.cli("ref-price", "AAPL", "-3")
    assert bad.returncode == 2 and "must be above 0" in bad.stderr

    # Reload: a tighter limit takes effect; an invalid file changes nothing, whole.
    stack.write_config(LOOSE_RISK.replace("max_order_qty = 500", "max_order_qty = 50"))
    assert "risk limits reloaded from" in ok(stack.cli("reload"))
    s.client.new("big1", "AAPL", "buy", 100, "limit", price="190")
    assert s.refused("big1").code == "MAX_ORDER_QTY"  # type: ignore[union-attr]
    stack.write_config(LOOSE_RISK.replace("max_order_qty = 500", "max_order_qtty = 5000"))
    refused = stack.cli("reload")
    assert refused.returncode == 1
    assert "refused: nothing changed" in refused.stderr and "max_order_qtty" in refused.stderr
    s.client.new("big2", "AAPL", "buy", 100, "limit", price="190")
    assert s.refused("big2").code == "MAX_ORDER_QTY"  # type: ignore[union-attr]  # still 50
    s.client.new("small", "AAPL", "buy", 40, "limit", price="190")
    assert s.done("small").status is OrderStatus.FILLED

    # SIGHUP (systemctl reload) does the same, and never ends the engine.
    stack.write_config(LOOSE_RISK)
    os.kill(stack.engine.proc.pid, signal.SIGHUP)
    stack.engine.wait_log("SIGHUP: risk limits reloaded")
    assert stack.engine.alive
    s.client.new("big3", "AAPL", "buy", 100, "limit", price="190")
    assert s.done("big3").status is OrderStatus.FILLED

    # check-config agrees with the engine about the file it runs.
    assert ok(stack.cli("check-config", str(stack.config))).startswith("OK:")
    assert stack.engine.terminate() == 0


def test_seq_show_and_set_after_ib_says_msgseqnum_too_low(ops_stack: Stacks) -> None:
    stack = ops_stack()
    refused = stack.cli("seq", "set", "--next-out", "5", "--yes")
    assert refused.returncode == 1
    assert "can only be set while the session is logged out" in refused.stderr
    assert "(ACTIVE)" in ok(stack.cli("seq", "show"))

    # IB "lost" messages while we were stopped: it expects more than we will send.
    assert stack.engine.terminate() == 0
    stack.sim.stop()
    next_out, _ = journal_seqs(stack.store)
    stack.sim.set_expected_from_router(next_out + 10)
    stack.sim.start()
    engine = RouterProcess(stack.workdir, stack.config, tag="engine-case15")
    stack.engines.append(engine)
    engine.wait_log("staying down")
    shown = orjson.loads(ok(stack.cli("seq", "show", "--json")))["sessions"][0]
    assert shown["operator_action_required"] is True and shown["state"] == "DISCONNECTED"
    assert "OPERATOR ACTION REQUIRED" in ok(stack.cli("status"))
    assert metric(stack, "fixrouter_disconnects_total", session="default",
                  reason="SEQ_TOO_LOW") == 1

    # No terminal and no --yes: refused, nothing changed.
    unconfirmed = stack.cli("seq", "set", "--next-out", str(next_out + 10), stdin="yes\n")
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    wanted = stack.sim.status()["next_target_seq"]
    out = ok(stack.cli("seq", "set", "--next-out", str(wanted), "--yes"))
    assert f"next out {wanted}" in out and "resumed" in out
    engine.wait_log("LOGGED_ON")
    wait_until(lambda: "(ACTIVE)" in ok(stack.cli("seq", "show")), 10, "the session back up")
    assert metric(stack, "fixrouter_session_up", session="default") == 1
    assert engine.terminate() == 0
