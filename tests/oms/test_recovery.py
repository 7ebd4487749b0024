"""oms/recovery: the book rebuilt from a real JournalStore and intent log after a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from fixrouter.events import (
    CancelRejected,
    Denied,
    ErrorCode,
    Execution,
    OrderState,
    OrderStatus,
    RequestError,
)
from fixrouter.oms import (
    NOT_SENT,
    ORPHAN,
    Anomaly,
    CancelIntent,
    Order,
    OrderBook,
    ReplaceIntent,
    intent_log_path,
)
from fixrouter.oms.clordid import parse
from fixrouter.requests import CancelOrder, ReplaceOrder

from .conftest import DAY, T0, Broker, Engine, Files, new_order, new_order_fix

S = OrderStatus


def snapshot(book: OrderBook) -> dict[str, object]:
    """Everything a strategy or the risk gate can observe."""
    orders = sorted(
        (o.strategy, o.id, o.cl_ord_id, o.status.value, o.qty, o.cum_qty, o.leaves_qty,
         o.avg_px, o.order_id, o.price,
         o.pending_cancel.cl_ord_id if o.pending_cancel else None,
         o.pending_replace.cl_ord_id if o.pending_replace else None)
        for o in book.orders()
    )
    return {
        "orders": orders,
        "open": sorted(o.cl_ord_id for o in book.open_orders()),
        "positions": sorted((p.account, p.instrument, p.qty, p.avg_px, p.realized_pnl)
                            for p in book.positions()),
    }


def trading_day(engine: Engine, broker: Broker) -> dict[str, Order]:
    """A morning's work: every kind of state an order can be left in."""
    e = engine
    o1 = e.new(new_order("alpha", "o1", qty=100))  # acked, partly filled
    e.receive(broker.report(o1, "0", "0"))
    e.receive(broker.report(o1, "1", "1", last_qty=30, last_px="10"))
    o2 = e.new(new_order("beta", "o1", qty=10, price="20"))  # same id, other strategy
    e.receive(broker.report(o2, "0", "0"))
    o3 = e.new(new_order("alpha", "o3", qty=50))  # filled, then a resend
    e.receive(broker.report(o3, "2", "2", last_qty=50, last_px="10", exec_id="F3"))
    e.receive(broker.report(o3, "2", "2", last_qty=50, last_px="10", exec_id="F3",
                            possdup=True))
    o4 = e.new(new_order("alpha", "o4", qty=10))  # cancel sent, no answer yet
    e.receive(broker.report(o4, "0", "0"))
    e.cancel("alpha", "o4")
    o5 = e.new(new_order("alpha", "v1", qty=10))  # replaced, then filled a bit
    e.receive(broker.report(o5, "0", "0"))
    r = e.replace("alpha", "v1", "v2", price=Decimal("10.5"))
    e.receive(broker.report(o5, "5", "0", cl=r.cl_ord_id, orig=r.orig_cl_ord_id))
    e.receive(broker.report(o5, "1", "1", last_qty=4, last_px="10.5"))
    o6 = e.new(new_order("beta", "gone", qty=10))  # canceled by IB on its own
    e.receive(broker.report(o6, "0", "0"))
    e.receive(broker.report(o6, "4", "4", cl=None, text="IB cancel"))
    o7 = e.new(new_order("alpha", "rj", qty=10))  # rejected
    e.receive(broker.report(o7, "8", "8", text="Limit price too far outside NBBO"))
    o8 = e.new(new_order("alpha", "w1", qty=10))  # replace in flight
    e.receive(broker.report(o8, "0", "0"))
    e.replace("alpha", "w1", "w2", qty=Decimal(20))
    return {"o1": o1, "o2": o2, "o3": o3, "o4": o4, "o5": o5, "o6": o6, "o7": o7, "o8": o8}


def test_restart_rebuilds_the_book(files: Files) -> None:
    broker = Broker()
    engine, owed = files.start()
    assert owed == [] and engine.book.ready
    orders = trading_day(engine, broker)
    before = snapshot(engine.book)
    used = {o.cl_ord_id for o in orders.values()}
    files.close()

    engine2, owed = files.start(now=T0 + 999)
    book = engine2.book
    assert owed == [] and book.ready
    assert snapshot(book) == before
    # no anomaly invented by the replay; the journaled PossDup resend is dropped again
    # (o3 had finished and been retired: the resend read it back, as it did live)
    assert book.counters.snapshot() == {**dict.fromkeys(Anomaly, 0),
                                        Anomaly.DUPLICATE_REPORT: 1, Anomaly.RECALLED: 1}

    # every strategy gets the truth
    assert sorted(s.id for s in book.working_orders("alpha")) == ["o1", "o4", "v2", "w1"]
    assert [s.id for s in book.working_orders("beta")] == ["o1"]
    st = {s.id: s for s in book.working_orders("alpha")}
    assert st["o4"].status is S.PENDING_CANCEL and st["w1"].status is S.PENDING_REPLACE
    assert st["o1"].cum_qty == 30 and st["o1"].leaves_qty == 70
    replaced = book.status("alpha", "v1")
    assert isinstance(replaced, OrderState) and replaced.status is S.REPLACED
    pending = book.status("alpha", "w2")
    assert isinstance(pending, OrderState) and pending.status is S.PENDING_REPLACE
    for strategy, id, status in [("alpha", "o3", S.FILLED), ("beta", "gone", S.CANCELED),
                                 ("alpha", "rj", S.REJECTED)]:
        got = book.status(strategy, id)
        assert isinstance(got, OrderState) and got.status is status

    # ids stay taken, ClOrdIDs are never reused, and the book keeps working
    dup = book.prepare_new(new_order("alpha", "o3"), T0 + 1000)
    assert isinstance(dup, RequestError) and dup.code is ErrorCode.DUPLICATE_ID
    fresh = engine2.new(new_order("alpha", "after", qty=5), now=T0 + 1000)
    assert fresh.cl_ord_id not in used
    assert parse(fresh.cl_ord_id)[2] > max(parse(c)[2] for c in used)  # type: ignore[index]

    # later reports reach the right strategy under the right id
    o1 = book.order("alpha", "o1")
    assert o1 is not None
    (who, ev), = engine2.receive(broker.report(o1, "1", "1", last_qty=20, last_px="11"))
    assert who == "alpha" and isinstance(ev, Execution) and ev.cum_qty == 50
    o5 = book.order("alpha", "v2")
    assert o5 is not None
    (who, ev), = engine2.receive(broker.report(o5, "2", "2", last_qty=6, last_px="10.5"))
    assert who == "alpha" and isinstance(ev, Execution) and ev.id == "v2"
    assert ev.status is S.FILLED
    o4 = book.order("alpha", "o4")
    assert o4 is not None and o4.pending_cancel is not None
    engine2.receive(broker.report(o4, "4", "4", cl=o4.pending_cancel.cl_ord_id,
                                  orig=o4.cl_ord_id))
    assert o4.status is S.CANCELED
    # a resend of a report applied before the restart is still a duplicate (o3 is
    # finished and retired: it is read back to tell)
    assert book.order("alpha", "o3") is None and book.retired_status("alpha", "o3") is S.FILLED
    assert engine2.receive(broker.report(orders["o3"], "2", "2", last_qty=50, last_px="10",
                                         exec_id="F3", possdup=True)) == []
    assert book.counters[Anomaly.DUPLICATE_REPORT] == 2
    o3 = book.status("alpha", "o3")
    assert isinstance(o3, OrderState) and o3.cum_qty == 50


def test_restart_twice_is_stable(files: Files) -> None:
    broker = Broker()
    engine, _ = files.start()
    trading_day(engine, broker)
    files.close()
    engine, _ = files.start()
    first = snapshot(engine.book)
    files.close()
    engine, _ = files.start()
    assert snapshot(engine.book) == first


def test_not_ready_before_rebuild(files: Files) -> None:
    store, intents = files.open()
    book = OrderBook()
    book.add_session("s1", "A", intents)
    refused = book.prepare_new(new_order(), T0)
    assert isinstance(refused, RequestError) and refused.code is ErrorCode.ENGINE_UNAVAILABLE
    book.rebuild("s1", store)
    assert book.ready


def test_intent_without_fix_message_was_never_sent(files: Files) -> None:
    broker = Broker()
    engine, _ = files.start()
    o1 = engine.new(new_order("alpha", "o1", qty=100))
    engine.receive(broker.report(o1, "0", "0"))
    book = engine.book
    # the engine dies after each intent write, before the session journals the message
    lost = book.prepare_new(new_order("alpha", "lost", qty=7), T0 + 60)
    assert isinstance(lost, Order)
    assert isinstance(book.prepare_cancel(CancelOrder("alpha", "o1"), T0 + 60), CancelIntent)
    files.close()

    engine2, owed = files.start()
    book2 = engine2.book
    assert owed[0] == ("alpha", Denied("lost", ErrorCode.ENGINE_UNAVAILABLE.value, NOT_SENT))
    assert owed[1][0] == "alpha" and isinstance(owed[1][1], CancelRejected)
    assert owed[1][1].id == "o1" and NOT_SENT in owed[1][1].reason
    st = book2.status("alpha", "lost")
    assert isinstance(st, OrderState) and st.status is S.REJECTED
    assert (st.symbol, st.side, st.qty) == ("AAPL", "buy", 7)
    o1b = book2.order("alpha", "o1")
    assert o1b is not None and o1b.status is S.NEW and o1b.pending_cancel is None
    assert book2.counters[Anomaly.NOT_SENT] == 2
    assert [o.id for o in book2.open_orders()] == ["o1"]
    # the lost ClOrdID is burnt: never handed out again
    fresh = engine2.new(new_order("alpha", "next"))
    assert fresh.cl_ord_id not in {lost.cl_ord_id, o1.cl_ord_id}
    again = book2.prepare_new(new_order("alpha", "lost"), T0)
    assert isinstance(again, RequestError) and again.code is ErrorCode.DUPLICATE_ID


def test_replace_intent_without_fix_message(files: Files) -> None:
    broker = Broker()
    engine, _ = files.start()
    o = engine.new(new_order("alpha", "v1"))
    engine.receive(broker.report(o, "0", "0"))
    replace = ReplaceOrder("alpha", "v1", "v2", qty=Decimal(5))
    assert isinstance(engine.book.prepare_replace(replace, T0 + 60), ReplaceIntent)
    files.close()
    engine2, owed = files.start()
    (_who, ev), = owed
    assert isinstance(ev, CancelRejected) and ev.id == "v1" and "v2" in ev.reason
    st = engine2.book.status("alpha", "v2")
    assert isinstance(st, OrderState) and st.status is S.REJECTED
    st = engine2.book.status("alpha", "v1")
    assert isinstance(st, OrderState) and st.status is S.NEW


def test_send_failure_recorded_is_not_owed_again(files: Files) -> None:
    engine, _ = files.start()
    o = engine.book.prepare_new(new_order("alpha", "o1"), T0 + 60)
    assert isinstance(o, Order)
    engine.book.send_failed(o, "journal full", T0 + 60)
    files.close()
    engine2, owed = files.start()
    assert owed == []
    st = engine2.book.status("alpha", "o1")
    assert isinstance(st, OrderState) and st.status is S.REJECTED


def test_torn_intent_log_tail(files: Files) -> None:
    broker = Broker()
    engine, _ = files.start()
    o = engine.new(new_order("alpha", "o1"))
    engine.receive(broker.report(o, "0", "0"))
    files.close()
    path = intent_log_path(files.stem)
    whole = path.read_bytes()
    with open(path, "ab") as f:
        f.write(b'["N",1700000100.0,"231114A-9","alpha","to')  # cut by kill -9
    engine2, owed = files.start()
    assert path.read_bytes() == whole  # truncated back to whole records
    assert engine2.book.counters[Anomaly.INTENT_TORN] == 1
    assert owed == []
    assert [s.id for s in engine2.book.working_orders("alpha")] == ["o1"]
    engine2.new(new_order("alpha", "o2"))  # appends cleanly after the truncation
    files.close()
    engine3, _ = files.start()
    assert sorted(s.id for s in engine3.book.working_orders("alpha")) == ["o1", "o2"]
    assert engine3.book.counters.total() == 0


def test_corrupt_intent_line_makes_an_orphan(files: Files) -> None:
    broker = Broker()
    engine, _ = files.start()
    o1 = engine.new(new_order("alpha", "o1"))
    o2 = engine.new(new_order("alpha", "o2"))
    engine.receive(broker.report(o2, "0", "0"))
    files.close()
    path = intent_log_path(files.stem)
    lines = path.read_bytes().split(b"\n")
    lines[0] = b"garbage" + lines[0][7:]
    path.write_bytes(b"\n".join(lines))
    engine2, _ = files.start()
    book = engine2.book
    assert book.counters[Anomaly.INTENT_CORRUPT] == 1
    assert book.counters[Anomaly.ORPHAN_ORDER] == 1
    # the order is still tracked (risk sees it), under no strategy
    orphan = book.order(ORPHAN, o1.cl_ord_id)
    assert orphan is not None and orphan in book.open_orders()
    assert [s.id for s in book.working_orders("alpha")] == ["o2"]


def test_missing_intent_log_keeps_every_journaled_order(files: Files) -> None:
    engine, _ = files.start()
    engine.new(new_order("alpha", "o1"))
    files.close()
    intent_log_path(files.stem).unlink()
    engine2, _ = files.start()
    (orphan,) = engine2.book.open_orders()
    assert orphan.strategy == ORPHAN and orphan.symbol == "AAPL" and orphan.qty == 100


def test_orders_from_an_earlier_journal_period(files: Files) -> None:
    """A GTC order sent before a sequence reset is filed under its strategy on its next
    report, thanks to its intent (the archived journal is not replayed)."""
    broker = Broker()
    engine, _ = files.start()
    o = engine.new(new_order("alpha", "gtc"), now=T0 + 10)
    engine.store.reset(T0 + 100)
    files.close()
    engine2, owed = files.start()
    assert owed == [] and not list(engine2.book.open_orders())
    (who, ev), = engine2.receive(broker.report(o, "1", "1", last_qty=5, last_px="10"))
    assert who == "alpha" and isinstance(ev, Execution) and ev.id == "gtc"
    assert engine2.book.order("alpha", "gtc") is not None


def test_journaled_order_survives_a_bad_message(files: Files) -> None:
    store, intents = files.open()
    book = OrderBook()
    book.add_session("s1", "A", intents)
    book.rebuild("s1", store)
    o = book.prepare_new(new_order("alpha", "o1"), T0 + 1)
    assert isinstance(o, Order)
    store.save_outbound(1, new_order_fix(o))
    store.save_inbound(1, b"8=FIX.4.2\x019=5\x0135=8\x0110=000\x01")  # bad checksum
    files.close()
    engine2, _ = files.start()
    assert engine2.book.counters[Anomaly.GARBLED_JOURNAL_MESSAGE] == 1
    assert [s.id for s in engine2.book.working_orders("alpha")] == ["o1"]


CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from pathlib import Path
    from oms.conftest import Broker, Files, new_order, T0

    files = Files(Path(sys.argv[1]))
    broker = Broker()
    engine, _ = files.start()
    a = engine.new(new_order("alpha", "a", qty=100))
    engine.receive(broker.report(a, "0", "0", order_id="IB-A"))
    engine.receive(broker.report(a, "1", "1", last_qty=25, last_px="10", exec_id="FA1"))
    b = engine.new(new_order("beta", "b", qty=10))
    engine.receive(broker.report(b, "0", "0", order_id="IB-B"))
    engine.book.prepare_new(new_order("alpha", "unsent", qty=1), T0 + 60)
    print("ready", flush=True)
    sys.stdin.read()
""")


def test_kill_9_then_restart(tmp_path: Path) -> None:
    tests_dir = str(Path(__file__).resolve().parents[1])
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), tests_dir],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    files = Files(tmp_path)
    try:
        engine, owed = files.start(now=T0 + 500)
        book = engine.book
        assert owed == [("alpha", Denied("unsent", "ENGINE_UNAVAILABLE", NOT_SENT))]
        alpha = {s.id: s for s in book.working_orders("alpha")}
        beta = {s.id: s for s in book.working_orders("beta")}
        assert set(alpha) == {"a"} and set(beta) == {"b"}
        assert alpha["a"].cum_qty == 25 and alpha["a"].status is S.PARTIALLY_FILLED
        # a fill after the restart goes to its strategy, found by OrderID alone
        a = book.order("alpha", "a")
        assert a is not None
        (who, ev), = engine.receive(Broker().report(a, "2", "2", last_qty=75, last_px="10",
                                                    cl=None, order_id="IB-A", exec_id="FA2"))
        assert who == "alpha" and isinstance(ev, Execution) and ev.status is S.FILLED
        pos = book.position("U1234567", "AAPL")
        assert pos is not None and pos.qty == 100
        assert f"{DAY}A-" in a.cl_ord_id
    finally:
        files.close()


@pytest.mark.parametrize("kill_after", [1, 2])
def test_kill_between_intent_and_journal_in_replace_chain(files: Files, kill_after: int) -> None:
    """Replace chains survive a restart at either point of the second replace."""
    broker = Broker()
    engine, _ = files.start()
    o = engine.new(new_order("alpha", "v1"))
    engine.receive(broker.report(o, "0", "0"))
    r1 = engine.replace("alpha", "v1", "v2", price=Decimal("11"))
    engine.receive(broker.report(o, "5", "0", cl=r1.cl_ord_id, orig=r1.orig_cl_ord_id))
    if kill_after == 1:
        engine.book.prepare_replace(ReplaceOrder("alpha", "v2", "v3", price=Decimal(12)), T0)
    else:
        engine.replace("alpha", "v2", "v3", price=Decimal("12"))
    files.close()
    engine2, owed = files.start()
    book = engine2.book
    live = book.order("alpha", "v2")
    assert live is not None and live.cl_ord_id == r1.cl_ord_id
    if kill_after == 1:
        assert live.status is S.NEW and len(owed) == 1
    else:
        assert live.status is S.PENDING_REPLACE and owed == []
        assert live.pending_replace is not None
        assert live.pending_replace.orig_cl_ord_id == r1.cl_ord_id
        engine2.receive(broker.report(live, "5", "0", cl=live.pending_replace.cl_ord_id,
                                      orig=r1.cl_ord_id))
        assert live.id == "v3" and live.price == 12
