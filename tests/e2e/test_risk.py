"""The risk gate end to end: a strategy's socket, a real `fixrouter run`, QuickFIX as IB.

Issue 5's "Must show", through the whole engine rather than the gate alone:

* a denial per control type, each with its exact code, limit and value in the `denied`
  event, and **nothing on the wire**. The proof is a sentinel: after the denial the test
  sends an order that passes and waits for it at the simulator. The FIX session keeps
  order, and the engine handled the denied request before the sentinel, so had the
  denied one gone out it would be there first. Both of the simulator's records are read:
  QuickFIX's message log and its own `sim-events.jsonl`;
* kill switches engaged and released with the operator's command (`fixrouter
  kill-switch`): new orders and replaces refused, cancels let through, and with
  `--cancel-all` every working order in scope cancelled at IB;
* an automatic trigger (too many denials from one strategy) acted on by the router;
* kill switches that survive `kill -9` of the engine;
* the throttle at its limit in queue mode, a cancel overtaking the queued orders at IB;
* a reload (SIGHUP and `fixrouter reload`) that tightens a limit without a new Logon.

The stateless denials share one engine (`limits`); tests that need their own throttle,
triggers or restarts build their own stack (each starts in about half a second).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from fixrouter.client import Denied, ExecKind, Execution, OrderStatus, RequestError
from fixrouter.codec import FixMessage
from integration.harness import wait_until, write_config

from .conftest import RISK, Stack, Strategy, cleanup_workdir, make_workdir

pytestmark = pytest.mark.integration

ORDER_MSGS = (b"D", b"F", b"G")

# One engine for every stateless denial, and the per-account ones that only need an
# account of their own. Each limit below exists for exactly one test.
LIMITS = """
[risk.global]
missing_reference = "warn"
max_order_qty = 1000
max_order_notional = 100000
price_collar_pct = 5
allowed_security_types = ["STK"]
allowed_destinations = ["SMART", "ISLAND"]
allowed_tifs = ["day", "ioc", "fok", "gtc"]
restricted_symbols = ["GME"]
max_open_orders_symbol_side = "off"
max_position = "off"
max_gross_daily_notional = "off"
duplicate_window_ms = 0
order_efficiency_warn = "off"
order_efficiency_block = "off"

[risk.symbols.MSFT]
missing_reference = "deny"

[risk.strategies.bound]
allowed_accounts = ["U1234567"]

[risk.strategies.limit-only]
allowed_order_types = ["limit"]

[risk.strategies.dup]
duplicate_window_ms = 60000

[risk.accounts.UNOMKT]
allow_market_orders = false

[risk.accounts.UOPEN]
max_open_orders = 2

[risk.accounts.USIDE]
max_open_orders_symbol_side = 1

[risk.accounts.UPOS]
max_position = 100

[risk.accounts.UGROSS]
max_gross_daily_notional = 5000

[risk.accounts.UOER]
order_efficiency_block = 1
order_efficiency_min_messages = 1

[risk.throttle]
rate = 2000
burst = 500

[risk.kill_switch]
max_denials = 0
max_rejects = 0
"""

# More than 3 denials of one strategy within 10 s engage its switch and cancel its orders.
TRIGGERS = RISK.replace("max_denials = 0", "max_denials = 3\nwindow_seconds = 10").replace(
    "[risk.global]\n", "[risk.global]\nmax_order_qty = 100\n")


# ---- helpers ---------------------------------------------------------------------------


class Wire:
    """What the simulator has received so far, to compare with what it receives later."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.events = len(stack.sim.events())
        self.messages = len(stack.sim.messages("FIXROUTER"))

    def since(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(QuickFIX's log, the simulator's events): (MsgType, ClOrdID) of every order
        message received since this snapshot."""
        logged = [(m.msg_type.decode(), m.get_str(11) or "")
                  for m in self.stack.sim.messages("FIXROUTER")[self.messages:]
                  if m.msg_type in ORDER_MSGS]
        recorded = [(e["msg_type"], e.get("cl_ord_id", "")) for e in self.stack.sim.events()
                    [self.events:] if e.get("dir") == "in" and e.get("msg_type") in
                    ("D", "F", "G")]
        return logged, recorded


def only_sentinel_after(wire: Wire, s: Strategy, sentinel: str, **fields: Any) -> None:
    """Send an order that passes and wait for it at IB: it must be the only order message
    IB got since `wire`, in both of the simulator's records."""
    s.client.new(sentinel, "AAPL", "buy", 1, "limit", price="190", **fields)
    cl = s.accepted(sentinel).cl_ord_id
    wait_until(lambda: wire.since()[1] == [("D", cl)] or len(wire.since()[1]) > 1, 10,
               f"the sentinel {cl} in sim-events.jsonl")
    assert wire.since() == ([("D", cl)], [("D", cl)])


def denied(s: Strategy, order_id: str) -> Denied:
    event = s.refused(order_id)
    assert isinstance(event, Denied), event
    assert event.reason  # a human message too
    return event


def figures(event: Denied) -> tuple[str, str | None, str | None]:
    return event.code, event.limit, event.value


def admin(stack: Stack, *args: str, ok: bool = True) -> str:
    """`fixrouter ARGS --config FILE`, as an operator runs it against the engine."""
    result = subprocess.run(
        [sys.executable, "-m", "fixrouter.cli", *args, "--config", str(stack.config)],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert (result.returncode == 0) is ok, result.stdout + result.stderr
    return result.stdout + result.stderr


def cancelled_at_ib(stack: Stack, cl_ord_id: str) -> str:
    """The ClOrdID of the cancel IB received for the order `cl_ord_id`: QuickFIX logged
    it, and the simulator acted on it."""
    found: list[FixMessage] = []

    def logged() -> bool:
        found[:] = [m for m in stack.sim.messages("FIXROUTER")
                    if m.msg_type == b"F" and m.get_str(41) == cl_ord_id]
        return bool(found)

    wait_until(logged, 10, f"a cancel of {cl_ord_id} at the simulator")
    assert any(e.get("dir") == "in" and e.get("msg_type") == "F"
               and e.get("orig_cl_ord_id") == cl_ord_id for e in stack.sim.events())
    return found[0].get_str(11) or ""


def logons(stack: Stack) -> int:
    return sum(1 for m in stack.sim.messages("FIXROUTER") if m.msg_type == b"A")


def sim_time(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(event["ts"]).replace("Z", "+00:00")).timestamp()


# ---- one engine for the denials ----------------------------------------------------------


@pytest.fixture(scope="module")
def limits(request: pytest.FixtureRequest) -> Iterator[Stack]:
    path = make_workdir()
    failed_before = request.session.testsfailed
    built = Stack(path, LIMITS)
    try:
        # The reference price for the collar is the last fill: AAPL fills at 190.
        s = built.strategy("prime")
        s.client.new("prime", "AAPL", "buy", 1, "limit", price="190")
        assert s.done("prime").status is OrderStatus.FILLED
        yield built
    finally:
        built.stop()
        cleanup_workdir(path, request.session.testsfailed > failed_before)


STATELESS = [
    # (case, order fields, (code, limit, value), sentinel fields)
    ("qty", dict(symbol="IBM", qty=1001, price="150"),
     ("MAX_ORDER_QTY", "1000", "1001"), {}),
    ("notional", dict(symbol="IBM", qty=700, price="150"),
     ("MAX_ORDER_NOTIONAL", "100000", "105000"), {}),
    ("collar", dict(symbol="AAPL", qty=10, price="200"),
     ("PRICE_COLLAR", "±5% of 190", "200"), {}),
    ("no-market", dict(symbol="AAPL", qty=10, type="market", account="UNOMKT"),
     ("MARKET_ORDERS_NOT_ALLOWED", None, "market"), {}),
    ("restricted", dict(symbol="GME", qty=10, price="20"),
     ("RESTRICTED_SYMBOL", None, "GME"), {}),
    ("sec-type", dict(symbol="SPY", qty=2, price="1.05", sec_type="OPT", maturity="20991217",
                      strike="450", put_or_call="call", multiplier=100),
     ("SECURITY_TYPE_NOT_ALLOWED", "CS,STK", "OPT"), {}),
    ("bound", dict(symbol="AAPL", qty=10, price="190", account="U7654321"),
     ("ACCOUNT_NOT_ALLOWED", "U1234567", "U7654321"), {"account": "U1234567"}),
    ("destination", dict(symbol="AAPL", qty=10, price="190", exchange="ARCA"),
     ("DESTINATION_NOT_ALLOWED", "ISLAND,SMART", "ARCA"), {}),
    ("limit-only", dict(symbol="AAPL", qty=10, type="stop", stop_price="195"),
     ("ORDER_TYPE_NOT_ALLOWED", "limit", "stop"), {}),
    ("tif", dict(symbol="AAPL", qty=10, price="190", tif="opg"),
     ("TIF_NOT_ALLOWED", "day,fok,gtc,ioc", "opg"), {}),
    ("no-reference", dict(symbol="MSFT", qty=10, price="410"),
     ("NO_REFERENCE_PRICE", None, "MSFT"), {}),
]


@pytest.mark.parametrize(("case", "fields", "expected", "sentinel"), STATELESS,
                         ids=[c[0] for c in STATELESS])
def test_a_denial_per_control_and_nothing_on_the_wire(
        limits: Stack, case: str, fields: dict[str, Any],
        expected: tuple[str, str | None, str | None], sentinel: dict[str, Any]) -> None:
    s = limits.strategy(case)  # strategy tables `bound` and `limit-only` are named so
    wire = Wire(limits)
    fields = {"side": "buy", "type": "limit", **fields}
    s.client.new("x", fields.pop("symbol"), fields.pop("side"), fields.pop("qty"),
                 fields.pop("type"), **fields)
    assert figures(denied(s, "x")) == expected
    only_sentinel_after(wire, s, "sentinel", **sentinel)
    assert [type(e).__name__ for e in s.of("x")] == ["Denied"]  # never accepted


def test_open_orders_per_account_and_per_symbol_side(limits: Stack) -> None:
    s = limits.strategy("open-orders")
    for order_id in ("o1", "o2"):
        s.client.new(order_id, "IBM", "buy", 10, "limit", price="150", account="UOPEN")
        s.exec(order_id, "new")
    wire = Wire(limits)
    s.client.new("o3", "IBM", "sell", 10, "limit", price="151", account="UOPEN")
    assert figures(denied(s, "o3")) == ("MAX_OPEN_ORDERS", "2", "3")
    only_sentinel_after(wire, s, "sentinel-1")
    # A cancel releases the count: the same order now passes.
    s.client.cancel("o1")
    s.done("o1")
    s.client.new("o4", "IBM", "sell", 10, "limit", price="151", account="UOPEN")
    s.exec("o4", "new")

    s.client.new("side1", "IBM", "buy", 10, "limit", price="150", account="USIDE")
    s.exec("side1", "new")
    wire = Wire(limits)
    s.client.new("side2", "IBM", "buy", 10, "limit", price="149", account="USIDE")
    assert figures(denied(s, "side2")) == ("MAX_OPEN_ORDERS_SYMBOL_SIDE", "1", "2")
    only_sentinel_after(wire, s, "sentinel-2")
    s.client.new("side3", "IBM", "sell", 10, "limit", price="151", account="USIDE")
    s.exec("side3", "new")  # the other side has room
    for order_id in ("o2", "o4", "side1", "side3"):
        s.client.cancel(order_id)
        s.done(order_id)


def test_position_and_gross_daily_notional_count_fills_and_open_orders(limits: Stack) -> None:
    s = limits.strategy("exposure")
    s.client.new("p1", "AAPL", "buy", 60, "limit", price="190", account="UPOS")
    assert s.done("p1").cum_qty == 60
    wire = Wire(limits)
    s.client.new("p2", "AAPL", "buy", 50, "limit", price="190", account="UPOS")
    assert figures(denied(s, "p2")) == ("POSITION_LIMIT", "100", "110")
    only_sentinel_after(wire, s, "sentinel-1")

    s.client.new("g1", "AAPL", "buy", 10, "limit", price="190", account="UGROSS")  # filled
    s.done("g1")
    s.client.new("g2", "IBM", "buy", 20, "limit", price="150", account="UGROSS")  # open
    s.exec("g2", "new")
    wire = Wire(limits)
    s.client.new("g3", "IBM", "buy", 1, "limit", price="150", account="UGROSS")
    assert figures(denied(s, "g3")) == ("GROSS_DAILY_NOTIONAL", "5000", "5050")
    only_sentinel_after(wire, s, "sentinel-2")
    s.client.cancel("g2")
    s.done("g2")


def test_duplicates_by_content_and_by_id(limits: Stack) -> None:
    s = limits.strategy("dup")  # duplicate_window_ms = 60000 for this strategy only
    s.client.new("d1", "IBM", "buy", 10, "limit", price="150")
    s.exec("d1", "new")
    wire = Wire(limits)
    s.client.new("d2", "IBM", "buy", 10, "limit", price="150")
    code, limit, value = figures(denied(s, "d2"))
    assert (code, limit) == ("DUPLICATE_ORDER", "60000 ms")
    match = re.fullmatch(r"(\d+(?:\.\d+)?) ms", value or "")
    assert match is not None and 0 < float(match.group(1)) < 60000, value
    # A reused id is the protocol's DUPLICATE_ID: the engine knows the id is taken.
    s.client.new("d1", "IBM", "buy", 5, "limit", price="148")
    refused = s.wait(lambda e: isinstance(e, RequestError) and e.id == "d1", "error for d1")
    assert refused.code == "DUPLICATE_ID"
    only_sentinel_after(wire, s, "sentinel")
    s.client.cancel("d1")
    s.done("d1")


def test_order_efficiency_ratio_blocks_orders_but_never_cancels(limits: Stack) -> None:
    s = limits.strategy("oer")
    s.client.new("e1", "IBM", "buy", 10, "limit", price="150", account="UOER")
    s.exec("e1", "new")  # 1 message, 0 executions: a ratio of 1, not above 1
    wire = Wire(limits)
    s.client.new("e2", "IBM", "buy", 10, "limit", price="149", account="UOER")
    assert figures(denied(s, "e2")) == ("ORDER_EFFICIENCY_RATIO", "1", "2.00")
    only_sentinel_after(wire, s, "sentinel")
    s.client.cancel("e1")  # counted, never refused
    assert s.done("e1").status is OrderStatus.CANCELED


# ---- the throttle ------------------------------------------------------------------------


def test_rate_limit_in_deny_mode_refuses_at_once_and_cancels_still_pass(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(RISK.replace("rate = 2000\nburst = 500", "rate = 0.001\nburst = 1"))
    s = stack.strategy("rate")
    s.client.new("r1", "IBM", "buy", 10, "limit", price="150")
    cl = s.accepted("r1").cl_ord_id
    s.exec("r1", "new")
    wire = Wire(stack)
    s.client.new("r2", "IBM", "buy", 10, "limit", price="149")
    # The bucket's one token is spent; at 0.001/s it holds 0.00 for seconds.
    assert figures(denied(s, "r2")) == ("RATE_LIMIT", "0.001/s burst 1", "0.00 tokens")
    s.client.cancel("r1")  # cancels have a bucket of their own
    assert s.done("r1").status is OrderStatus.CANCELED
    assert wire.since() == ([("F", cancelled_at_ib(stack, cl))],) * 2


def test_throttle_at_its_limit_queues_orders_and_cancels_overtake_them(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(RISK.replace(
        "rate = 2000\nburst = 500",
        'rate = 5\nburst = 2\nmode = "queue"\nqueue_depth = 3\ncancel_rate = 100\n'
        "cancel_burst = 50"))
    s = stack.strategy("queue")
    wire = Wire(stack)
    # All written back to back: the engine reads them within a few ms, far inside the
    # 200 ms a token takes to come back.
    for order_id in ("r1", "r2", "q1", "q2", "q3", "q4"):
        s.client.new(order_id, "IBM", "buy", 10, "limit", price="150")
    s.client.cancel("r1")  # working: its cancel goes at once, ahead of q1..q3
    s.client.cancel("q3")  # still queued: taken out, never sent
    # q4 found the queue full.
    assert figures(denied(s, "q4")) == ("RATE_LIMIT", "queue_depth 3", "3")
    gone = s.done("q3")
    assert (gone.exec_type, gone.status) == (ExecKind.CANCELED, OrderStatus.CANCELED)
    assert gone.reason == "cancelled before it was sent (throttle)"
    assert s.done("r1").status is OrderStatus.CANCELED
    cl = {i: s.accepted(i).cl_ord_id for i in ("r1", "r2", "q1", "q2")}
    s.exec("q2", "new")
    s.read(0.3)  # anything else would have arrived by now (q3's slot was at +0.6 s)
    expected = [("D", cl["r1"]), ("D", cl["r2"]), ("F", cancelled_at_ib(stack, cl["r1"])),
                ("D", cl["q1"]), ("D", cl["q2"])]
    logged, recorded = wire.since()
    assert logged == expected and recorded == expected
    # At the limit: the queued orders reached IB a token apart (5/s), not in a burst.
    times = {e.get("cl_ord_id"): sim_time(e) for e in stack.sim.events()
             if e.get("dir") == "in" and e.get("msg_type") == "D"}
    assert times[cl["q1"]] - times[cl["r2"]] >= 0.15
    assert times[cl["q2"]] - times[cl["q1"]] >= 0.15
    assert not any(isinstance(e, Execution) and e.id == "q4" for e in s.events)


# ---- kill switches -----------------------------------------------------------------------


def test_kill_switch_blocks_new_orders_and_replaces_lets_cancels_through_and_cancels_all(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    a, b, c = (stack.strategy(n) for n in ("ks-a", "ks-b", "ks-c"))
    working = [(a, "a1", "UA"), (a, "a2", "UA"), (b, "b1", "UB"), (c, "c1", "UA")]
    for s, order_id, account in working:
        s.client.new(order_id, "IBM", "buy", 10, "limit", price="150", account=account)
    cl = {order_id: s.accepted(order_id).cl_ord_id for s, order_id, _ in working}
    for s, order_id, _ in working:
        s.exec(order_id, "new")

    # A strategy's switch: its new orders and replaces are refused, its cancels go.
    out = admin(stack, "kill-switch", "on", "--strategy", "ks-a", "--reason", "e2e test")
    assert "kill switch ENGAGED for strategy ks-a: e2e test" in out
    wire = Wire(stack)
    a.client.new("a3", "IBM", "buy", 10, "limit", price="150", account="UA")
    assert figures(denied(a, "a3")) == ("KILL_SWITCH", None, "strategy ks-a")
    a.client.replace("a1", "a1-r", price="149")
    assert figures(denied(a, "a1-r")) == ("KILL_SWITCH", None, "strategy ks-a")
    only_sentinel_after(wire, c, "c-sentinel")  # the same account's other strategy trades
    a.client.cancel("a2")
    assert a.done("a2").status is OrderStatus.CANCELED
    cancelled_at_ib(stack, cl["a2"])

    # An account's switch with --cancel-all: that account's working orders go, others stay.
    out = admin(stack, "kill-switch", "on", "--account", "UB", "--cancel-all")
    assert "cancels sent: 1" in out
    assert b.done("b1").status is OrderStatus.CANCELED
    cancelled_at_ib(stack, cl["b1"])
    b.client.new("b2", "AAPL", "buy", 1, "limit", price="190", account="UB")
    assert figures(denied(b, "b2")) == ("KILL_SWITCH", None, "account UB")

    # The engine's switch with --cancel-all: everything left is cancelled at IB.
    out = admin(stack, "kill-switch", "on", "--cancel-all")
    assert "kill switch ENGAGED for engine" in out
    for s, order_id in ((a, "a1"), (c, "c1")):
        assert s.done(order_id).status is OrderStatus.CANCELED
        cancelled_at_ib(stack, cl[order_id])
    wire = Wire(stack)
    c.client.new("c2", "AAPL", "buy", 1, "limit", price="190", account="UA")
    assert figures(denied(c, "c2")) == ("KILL_SWITCH", None, "engine")
    assert c.client.orders() == [] and a.client.orders() == [] and b.client.orders() == []

    # Releasing is a manual act, one switch at a time.
    admin(stack, "kill-switch", "off")
    a.client.new("a4", "AAPL", "buy", 1, "limit", price="190", account="UA")
    assert figures(denied(a, "a4")) == ("KILL_SWITCH", None, "strategy ks-a")
    admin(stack, "kill-switch", "off", "--strategy", "ks-a")
    admin(stack, "kill-switch", "off", "--account", "UB")
    assert wire.since() == ([], [])  # nothing was sent while the switches were on
    for s, order_id, account in ((a, "a5", "UA"), (b, "b3", "UB"), (c, "c3", "UA")):
        s.client.new(order_id, "AAPL", "buy", 1, "limit", price="190", account=account)
        assert s.done(order_id).status is OrderStatus.FILLED


def trip(s: Strategy, prefix: str) -> None:
    """Four orders over max_order_qty (100): one denial more than max_denials (3)."""
    for i in range(4):
        s.client.new(f"{prefix}{i}", "AAPL", "buy", 101, "limit", price="190")
        assert figures(denied(s, f"{prefix}{i}"))[0] == "MAX_ORDER_QTY"


def test_too_many_denials_engage_the_strategys_switch_and_cancel_its_orders(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(TRIGGERS)
    runaway, calm = stack.strategy("runaway"), stack.strategy("calm")
    runaway.client.new("w1", "IBM", "buy", 10, "limit", price="150")
    calm.client.new("k1", "IBM", "buy", 10, "limit", price="150")
    cl = runaway.accepted("w1").cl_ord_id
    runaway.exec("w1", "new")
    calm.exec("k1", "new")
    trip(runaway, "big")
    # The router acted on the engagement at once: the working order is cancelled at IB.
    assert runaway.done("w1").status is OrderStatus.CANCELED
    cancelled_at_ib(stack, cl)
    wire = Wire(stack)
    runaway.client.new("w2", "AAPL", "buy", 1, "limit", price="190")
    event = denied(runaway, "w2")
    assert figures(event) == ("KILL_SWITCH", None, "strategy runaway")
    assert "4 risk denials within 10 s" in event.reason
    only_sentinel_after(wire, calm, "k2")  # other strategies trade on
    # The simulator fills the sentinel; until its fill is back, k2 is still working.
    assert calm.done("k2").status is OrderStatus.FILLED
    assert [o.id for o in calm.client.orders()] == ["k1"]
    switches = json.loads(admin(stack, "status", "--json"))["kill_switches"]
    assert [(k["scope"], k["name"], k["automatic"]) for k in switches] == [
        ("strategy", "runaway", True)]
    admin(stack, "kill-switch", "off", "--strategy", "runaway")
    runaway.client.new("w3", "AAPL", "buy", 1, "limit", price="190")
    assert runaway.done("w3").status is OrderStatus.FILLED


def test_kill_switches_survive_kill_9_and_so_do_releases(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(TRIGGERS)
    runaway = stack.strategy("crash-runaway")
    trip(runaway, "big")  # an automatic engagement...
    admin(stack, "kill-switch", "on", "--account", "UHALT")  # ...and an operator's
    records = (stack.workdir / "store" / "killswitch.log").read_text().splitlines()
    assert len(records) == 2  # on disk before either was reported

    def crash_and_restart() -> tuple[Strategy, Strategy]:
        os.kill(stack.engine.proc.pid, signal.SIGKILL)
        stack.engine.proc.wait()
        stack.start_engine()
        return stack.strategy("crash-runaway"), stack.strategy("crash-other")

    runaway, other = crash_and_restart()
    assert "kill switch for strategy crash-runaway restored" in stack.engine.log()
    wire = Wire(stack)
    runaway.client.new("after-1", "AAPL", "buy", 1, "limit", price="190")
    event = denied(runaway, "after-1")
    assert figures(event) == ("KILL_SWITCH", None, "strategy crash-runaway")
    assert "4 risk denials within 10 s" in event.reason  # the original engagement
    other.client.new("after-2", "AAPL", "buy", 1, "limit", price="190", account="UHALT")
    assert figures(denied(other, "after-2")) == ("KILL_SWITCH", None, "account UHALT")
    only_sentinel_after(wire, other, "after-3")

    # A release survives too: the strategy is free after the next crash, the account not.
    admin(stack, "kill-switch", "off", "--strategy", "crash-runaway")
    runaway, other = crash_and_restart()
    runaway.client.new("after-4", "AAPL", "buy", 1, "limit", price="190")
    assert runaway.done("after-4").status is OrderStatus.FILLED
    other.client.new("after-5", "AAPL", "buy", 1, "limit", price="190", account="UHALT")
    assert figures(denied(other, "after-5")) == ("KILL_SWITCH", None, "account UHALT")


# ---- reload ------------------------------------------------------------------------------


def test_reload_tightens_a_limit_without_a_reconnect(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    s = stack.strategy("reload")
    s.client.new("big", "IBM", "buy", 500, "limit", price="150")
    s.exec("big", "new")
    logged_on = logons(stack)
    assert logged_on == 1

    def rewrite(risk: str) -> None:
        write_config(stack.config, stack.sim.port, stack.workdir / "store", heartbeat=5,
                     gateway_port=stack.gateway_port, tables=risk)

    tightened = RISK.replace("[risk.global]\n", "[risk.global]\nmax_order_qty = 100\n")
    rewrite(tightened)
    os.kill(stack.engine.proc.pid, signal.SIGHUP)
    stack.engine.wait_log("SIGHUP: risk limits reloaded")
    wire = Wire(stack)
    s.client.new("o1", "IBM", "buy", 200, "limit", price="150")
    assert figures(denied(s, "o1")) == ("MAX_ORDER_QTY", "100", "200")
    only_sentinel_after(wire, s, "sentinel-1")
    # The working order is not touched by a tighter limit.
    assert s.client.status("big").status is OrderStatus.NEW

    # An invalid file is refused whole; the limits in force stay.
    rewrite(tightened.replace("max_order_qty = 100", "max_order_qty = 10\nmax_order_qtty = 5"))
    assert "max_order_qtty" in admin(stack, "reload", ok=False)
    s.client.new("o2", "IBM", "buy", 150, "limit", price="150")
    assert figures(denied(s, "o2")) == ("MAX_ORDER_QTY", "100", "150")

    rewrite(tightened.replace("max_order_qty = 100", "max_order_qty = 50"))
    assert "risk limits reloaded" in admin(stack, "reload")
    s.client.new("o3", "IBM", "buy", 60, "limit", price="150")
    assert figures(denied(s, "o3")) == ("MAX_ORDER_QTY", "50", "60")
    s.client.new("o4", "IBM", "buy", 50, "limit", price="150")
    s.exec("o4", "new")
    # No reconnect at any point: one Logon at IB, one session start in the engine.
    assert logons(stack) == 1
    assert stack.engine.log().count("asked IB for every open order") == 1
    for order_id in ("big", "o4"):
        s.client.cancel(order_id)
        s.done(order_id)
