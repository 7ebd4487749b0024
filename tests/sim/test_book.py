"""The simulator's order logic, driven directly with a fake clock: no QuickFIX, no sockets."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixrouter.sim.book import (
    Book,
    CancelReject,
    CancelRequest,
    CxlRejReason,
    CxlRejResponseTo,
    Disposition,
    Drop,
    ExecReport,
    ExecTransType,
    IdSource,
    NewOrder,
    News,
    OrdRejReason,
    OrdStatus,
    ReplaceRequest,
    SimCommandError,
    StatusRequest,
)
from fixrouter.sim.scenario import parse_scenario

D = Decimal
SCENARIO = """
[default]
reference_price = "100"
reject_qty_above = 10000
[symbols.PART]
behaviour = "partial"
partials = 3
interval_ms = 50
[symbols.REST]
behaviour = "rest"
[symbols.BAD]
behaviour = "reject"
reject_text = "No trading permissions"
"""


def make_book(text: str = SCENARIO, known: set[str] | None = None) -> Book:
    scenario = parse_scenario(tomllib.loads(text))
    return Book(
        scenario,
        IdSource(boot=7, started=0x603C7978, session_no=1),
        set() if known is None else known,
    )


def new(cl: str, symbol: str = "REST", qty: str = "100", price: str | None = "100", **kw: object
        ) -> NewOrder:  # fmt: skip
    return NewOrder(
        cl_ord_id=cl, symbol=symbol, side="1", qty=D(qty),
        ord_type="1" if price is None else "2", price=None if price is None else D(price),
        echo=((1, "U1"), (167, "STK")), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def reports(actions: tuple[object, ...]) -> list[ExecReport]:
    assert all(isinstance(a, ExecReport) for a in actions), actions
    return list(actions)  # type: ignore[arg-type]


def test_fill_acks_then_fills_at_the_limit() -> None:
    book = make_book()
    out = book.on_new(new("A", symbol="AAPL", price="101.5"), now=0)
    assert out.disposition is Disposition.EXECUTED
    ack, fill = reports(out.actions)
    assert re.fullmatch(r"[0-9a-f]{8}\.[0-9a-f]{8}\.603c7978\.0001", ack.order_id)
    assert (ack.exec_type, ack.ord_status, ack.leaves_qty, ack.cum_qty) == ("0", "0", 100, 0)
    assert ack.echo == ((1, "U1"), (167, "STK"))
    assert (fill.exec_type, fill.ord_status) == ("2", OrdStatus.FILLED)
    assert (fill.last_qty, fill.last_px, fill.cum_qty, fill.leaves_qty, fill.avg_px) == (
        100, D("101.5"), 100, 0, D("101.5"),
    )  # fmt: skip
    assert ack.exec_id != fill.exec_id


def test_market_order_fills_at_reference() -> None:
    _, fill = reports(make_book().on_new(new("A", symbol="AAPL", price=None), 0).actions)
    assert fill.last_px == D(100)


def test_partials_are_timed_and_never_overfill() -> None:
    book = make_book()
    (_ack,) = reports(book.on_new(new("P", symbol="PART", qty="100"), now=10.0).actions)
    assert book.next_deadline() == pytest.approx(10.05)
    assert book.on_timer(10.04) == ()
    fills: list[ExecReport] = []
    t = 10.0
    while (deadline := book.next_deadline()) is not None:
        t = deadline
        fills += reports(book.on_timer(t))
    assert [f.last_qty for f in fills] == [33, 33, 34]
    assert [f.ord_status for f in fills] == ["1", "1", "2"]
    assert fills[-1].cum_qty == 100 and fills[-1].leaves_qty == 0
    assert t == pytest.approx(10.15)


def test_fractional_partials_keep_precision() -> None:
    book = make_book()
    book.on_new(new("P", symbol="PART", qty="1.000"), now=0)
    fills = reports(book.on_timer(1)) + reports(book.on_timer(2)) + reports(book.on_timer(3))
    assert [f.last_qty for f in fills] == [D("0.333"), D("0.333"), D("0.334")]


@pytest.mark.parametrize(
    ("order", "reason", "text"),
    [
        (new("R", symbol="BAD"), OrdRejReason.BROKER_OPTION, "No trading permissions"),
        (new("R", qty="10001"), OrdRejReason.EXCEEDS_LIMIT, "exceeds the size limit of 10000"),
        (new("R", price="110.01"), OrdRejReason.BROKER_OPTION, "Limit price too far outside"),
        (new("R", price="89.99"), OrdRejReason.BROKER_OPTION, "Limit price too far outside"),
    ],
)
def test_rejects(order: NewOrder, reason: OrdRejReason, text: str) -> None:
    book = make_book()
    out = book.on_new(order, 0)
    assert out.disposition is Disposition.REJECTED
    (rej,) = reports(out.actions)
    assert (rej.exec_type, rej.ord_status, rej.ord_rej_reason) == ("8", "8", reason)
    assert rej.text is not None and text in rej.text
    assert rej.leaves_qty == 0


def test_collar_edge_is_accepted() -> None:
    out = make_book().on_new(new("E", price="110"), 0)
    assert out.disposition is Disposition.EXECUTED


def test_cancel() -> None:
    book = make_book()
    book.on_new(new("A"), 0)
    out = book.on_cancel(CancelRequest("A-c", "A", "REST", "1"), 0)
    (rep,) = reports(out.actions)
    assert (rep.exec_type, rep.ord_status, rep.cl_ord_id, rep.orig_cl_ord_id) == (
        "4", "4", "A-c", "A",
    )  # fmt: skip
    assert rep.leaves_qty == 0


def test_cancel_unknown_and_too_late() -> None:
    book = make_book()
    out = book.on_cancel(CancelRequest("X-c", "X", "REST", "1"), 0)
    (rej,) = out.actions
    assert isinstance(rej, CancelReject)
    assert (rej.reason, rej.order_id, rej.response_to) == (
        CxlRejReason.UNKNOWN_ORDER, "NONE", CxlRejResponseTo.CANCEL,
    )  # fmt: skip
    book.on_new(new("F", symbol="AAPL"), 0)
    (late,) = book.on_cancel(CancelRequest("F-c", "F", "AAPL", "1"), 0).actions
    assert isinstance(late, CancelReject)
    assert (late.reason, late.ord_status) == (CxlRejReason.TOO_LATE, OrdStatus.FILLED)


def test_replace_chain_uses_previous_cl_ord_id() -> None:
    book = make_book()
    book.on_new(new("A"), 0)
    (r1,) = reports(book.on_replace(ReplaceRequest("B", "A", "REST", "1", D(200), "2", D(99)), 0)
                    .actions)  # fmt: skip
    assert (r1.exec_type, r1.cl_ord_id, r1.orig_cl_ord_id, r1.order_qty, r1.price) == (
        "5", "B", "A", 200, 99,
    )  # fmt: skip
    assert r1.leaves_qty == 200 and r1.ord_status == "0"
    (r2,) = reports(book.on_replace(ReplaceRequest("C", "B", "REST", "1", D(300), "2", D(98)), 0)
                    .actions)  # fmt: skip
    assert (r2.cl_ord_id, r2.orig_cl_ord_id) == ("C", "B")
    # Naming the first ClOrdID instead of the previous one is refused, as IB does.
    out = book.on_replace(ReplaceRequest("D", "A", "REST", "1", D(400), "2", D(97)), 0)
    assert out.disposition is Disposition.REPLACE_REJECTED
    (rej,) = out.actions
    assert isinstance(rej, CancelReject)
    assert rej.response_to is CxlRejResponseTo.REPLACE
    assert "latest is C" in rej.text
    # Status may name any ClOrdID of the chain and reports the latest.
    (st_,) = reports(book.on_status(StatusRequest("A"), 0).actions)
    assert (st_.exec_trans_type, st_.cl_ord_id, st_.order_qty) == (ExecTransType.STATUS, "C", 300)


def test_replace_refusals() -> None:
    book = make_book()
    book.on_new(new("P", symbol="PART", qty="90"), 0)
    book.on_timer(1)  # 30 filled
    low = book.on_replace(ReplaceRequest("P2", "P", "PART", "1", D(30), "2", D(100)), 1)
    assert "not above the filled quantity" in low.actions[0].text  # type: ignore[union-attr]
    far = book.on_replace(ReplaceRequest("P3", "P", "PART", "1", D(90), "2", D(200)), 1)
    assert "too far" in far.actions[0].text  # type: ignore[union-attr]
    book.on_new(new("F", symbol="AAPL"), 0)
    late = book.on_replace(ReplaceRequest("F2", "F", "AAPL", "1", D(200), "2", D(100)), 1)
    assert late.actions[0].reason is CxlRejReason.TOO_LATE  # type: ignore[union-attr]


def test_replace_of_partial_order_resizes_remaining_fills() -> None:
    book = make_book()
    book.on_new(new("P", symbol="PART", qty="90"), 0)
    book.on_timer(1)  # 30 of 90
    (rep,) = reports(book.on_replace(ReplaceRequest("Q", "P", "PART", "1", D(60), "2", D(100)), 1)
                     .actions)  # fmt: skip
    assert (rep.ord_status, rep.cum_qty, rep.leaves_qty) == ("1", 30, 30)
    fills = reports(book.on_timer(2)) + reports(book.on_timer(3))
    assert [f.last_qty for f in fills] == [15, 15]
    assert fills[-1].cl_ord_id == "Q" and fills[-1].ord_status == "2"


def test_status_all_and_unknown() -> None:
    book = make_book()
    book.on_new(new("A"), 0)
    book.on_new(new("B"), 0)
    book.on_new(new("C", symbol="AAPL"), 0)  # filled: not open
    book.on_cancel(CancelRequest("B-c", "B", "REST", "1"), 0)
    (only,) = reports(book.on_status(StatusRequest("*"), 0).actions)
    assert (only.cl_ord_id, only.exec_type, only.ord_status) == ("A", "0", "0")
    (unknown,) = reports(book.on_status(StatusRequest("ZZ", "MSFT", "2"), 0).actions)
    assert (unknown.ord_status, unknown.order_id, unknown.text) == ("8", "NONE", "Unknown order")
    assert (unknown.symbol, unknown.side) == ("MSFT", "2")


def test_duplicates() -> None:
    book = make_book()
    first = book.on_new(new("A", symbol="AAPL"), 0)
    assert first.disposition is Disposition.EXECUTED
    for flags in ({"poss_dup": True}, {"poss_resend": True}):
        again = book.on_new(new("A", symbol="AAPL", **flags), 0)
        assert again == type(again)(Disposition.DUPLICATE_IGNORED)
    plain = book.on_new(new("A", symbol="AAPL"), 0)
    assert plain.disposition is Disposition.DUPLICATE_REJECTED
    (rej,) = reports(plain.actions)
    assert rej.ord_status == "8" and "Duplicate" in (rej.text or "")
    assert len(book.orders()) == 1


def test_duplicate_cancel_is_not_applied_twice() -> None:
    book = make_book()
    book.on_new(new("A"), 0)
    book.on_cancel(CancelRequest("A-c", "A", "REST", "1"), 0)
    dup = book.on_cancel(CancelRequest("A-c", "A", "REST", "1", poss_dup=True), 0)
    assert dup.disposition is Disposition.DUPLICATE_IGNORED and dup.actions == ()


def test_dedupe_survives_via_registry() -> None:
    known: set[str] = set()
    make_book(known=known).on_new(new("A"), 0)
    # A new Book (a restarted simulator) sharing the persisted registry.
    out = make_book(known=known).on_new(new("A", poss_resend=True), 0)
    assert out.disposition is Disposition.DUPLICATE_IGNORED


def test_unsolicited_cancel_has_no_cl_ord_id() -> None:
    book = make_book()
    book.on_new(new("A"), 0)
    (rep,) = reports(book.unsolicited_cancel("A", "RTH only"))
    assert (rep.exec_type, rep.ord_status, rep.cl_ord_id, rep.text) == ("4", "4", None, "RTH only")
    with pytest.raises(SimCommandError, match="not working"):
        book.unsolicited_cancel("A")
    with pytest.raises(SimCommandError, match="no order"):
        book.unsolicited_cancel("nope")


def test_bust_reinstates_and_correct_adjusts() -> None:
    book = make_book()
    _, fill = reports(book.on_new(new("A", symbol="AAPL", price="100"), 0).actions)
    (corr,) = reports(book.correct(exec_id=fill.exec_id, qty=D(60)))
    assert (corr.exec_trans_type, corr.exec_ref_id, corr.last_qty, corr.last_px) == (
        ExecTransType.CORRECT, fill.exec_id, 60, D("100.01"),
    )  # fmt: skip
    assert (corr.cum_qty, corr.leaves_qty, corr.ord_status) == (60, 40, "1")
    (bust,) = reports(book.bust(ref="A"))
    assert (bust.exec_trans_type, bust.exec_ref_id, bust.last_qty) == (
        ExecTransType.CANCEL, corr.exec_id, 60,
    )  # fmt: skip
    assert (bust.cum_qty, bust.leaves_qty, bust.ord_status, bust.avg_px) == (0, 100, "0", 0)
    with pytest.raises(SimCommandError, match="already busted"):
        book.bust(exec_id=corr.exec_id)
    with pytest.raises(SimCommandError):
        book.correct(exec_id=fill.exec_id, qty=D(1000))


def test_admin_fill_is_clamped() -> None:
    book = make_book()
    book.on_new(new("A", qty="10"), 0)
    with pytest.raises(SimCommandError, match="not in"):
        book.fill("A", D(11))
    (f,) = reports(book.fill("A", D(4), D("99.5")))
    assert (f.last_qty, f.last_px, f.ord_status) == (4, D("99.5"), "1")
    (g,) = reports(book.fill("A"))
    assert (g.last_qty, g.cum_qty, g.ord_status) == (6, 10, "2")


def test_scenario_tricks_follow_their_trigger() -> None:
    book = make_book(
        SCENARIO
        + """
[symbols.BUST]
[symbols.UCXL]
behaviour = "rest"
[[tricks]]
kind = "bust"
on = "fill"
symbol = "BUST"
[[tricks]]
kind = "correct"
on = "fill"
symbol = "BUST"
price = "101"
delay_ms = 10
[[tricks]]
kind = "unsolicited_cancel"
on = "new"
symbol = "UCXL"
text = "IB cancelled"
[[tricks]]
kind = "news"
on = "logon"
headline = "Welcome"
[[tricks]]
kind = "drop"
on = "new"
symbol = "DROP"
delay_ms = 5
"""
    )
    book.on_logon(0)
    assert book.on_timer(0) == (News("Welcome"),)
    ack_fill = reports(book.on_new(new("B", symbol="BUST"), 1).actions)
    (bust,) = reports(book.on_timer(1))  # delay 0: right after the fill
    assert bust.exec_ref_id == ack_fill[1].exec_id
    assert book.on_timer(1.01) == ()  # the correction's fill was busted meanwhile: skipped
    book.on_new(new("U", symbol="UCXL"), 2)
    (ucxl,) = reports(book.on_timer(2))
    assert (ucxl.cl_ord_id, ucxl.ord_status, ucxl.text) == (None, "4", "IB cancelled")
    book.on_new(new("X", symbol="DROP"), 3)
    assert book.on_timer(3.004) == ()
    assert book.on_timer(3.005) == (Drop(),)
    # times = 1: a second bust-symbol fill is not busted again.
    book.on_new(new("B2", symbol="BUST"), 4)
    assert book.on_timer(5) == ()


@settings(max_examples=150, deadline=None)
@given(
    qty=st.integers(1, 10_000),
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("timer"), st.floats(0, 0.2)),
            st.tuples(st.just("fill"), st.integers(1, 5000)),
            st.tuples(st.just("replace"), st.integers(1, 12_000)),
            st.tuples(st.just("bust"), st.integers(0, 0)),
            st.tuples(st.just("cancel"), st.integers(0, 0)),
        ),
        max_size=12,
    ),
)
def test_never_overfills(qty: int, steps: list[tuple[str, float]]) -> None:
    """Whatever mix of timers, admin fills, replaces, busts and cancels: CumQty <= OrderQty."""
    book = make_book()
    book.on_new(new("O0", symbol="PART", qty=str(qty)), 0)
    now, current, n = 0.0, "O0", 0
    for kind, arg in steps:
        out: tuple[object, ...] = ()
        try:
            if kind == "timer":
                now += float(arg)
                out = book.on_timer(now)
            elif kind == "fill":
                out = book.fill(current, D(int(arg)))
            elif kind == "replace":
                n += 1
                req = ReplaceRequest(f"O{n}", current, "PART", "1", D(int(arg)), "2", D(100))
                res = book.on_replace(req, now)
                out = res.actions
                if res.disposition is Disposition.REPLACED:
                    current = f"O{n}"
            elif kind == "bust":
                out = book.bust(ref=current)
            else:
                n += 1
                out = book.on_cancel(CancelRequest(f"O{n}", current, "PART", "1"), now).actions
                if isinstance(out[0], ExecReport):
                    current = f"O{n}"
        except SimCommandError:
            pass
        for a in out:
            if isinstance(a, ExecReport):
                assert 0 <= a.cum_qty <= a.order_qty
                assert a.leaves_qty >= 0
                assert a.cum_qty + a.leaves_qty <= a.order_qty
    (view,) = book.orders()
    assert view.cum_qty <= view.qty
