"""oms/recovery: refusals without a report (35=3, 35=j) replayed as the router made them live.

The live side is the real `Router` (order book, dialect, pass-through gate) over a real
`JournalStore` and `IntentLog`: what it sends is encoded and journaled as the session
does, and each of IB's messages is journaled first and then handed to the router as the
session hands it (a 35=3 as a REJECT_RECEIVED event carrying the Reject, the others
delivered). A restart is a fresh `Router` recovered from the same files, as `fixrouter
run` does after a kill. The book after it must be the book before it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fixrouter.codec import Encoder, FixMessage, decode_frame, encode_fields
from fixrouter.codec.encoder import Field
from fixrouter.dialect import Dialect, DialectSettings
from fixrouter.dictionary import CompiledValidator, load_dictionary
from fixrouter.events import Execution, OrderState, OrderStatus
from fixrouter.oms import IntentLog, IntentSink, MemoryIntentLog, Order, OrderBook, intent_log_path
from fixrouter.requests import CancelOrder, NewOrder, OrderType, ReplaceOrder, Side
from fixrouter.router import Router
from fixrouter.routing.config import RoutingConfig
from fixrouter.routing.gate import PassThroughGate
from fixrouter.routing.rejects import EXEC_ID_PREFIX
from fixrouter.session import EventKind, SessionEvent
from fixrouter.store import JournalStore, MemoryStore, MessageStore
from fixrouter.store.base import SearchableStore

from .test_recovery import snapshot as _snapshot

T0 = 1_700_000_000.0
SENDING_TIME = b"20231114-22:13:20.000"
VALIDATOR = CompiledValidator(load_dictionary())
S = OrderStatus


class JournalPort:
    """One FIX session as the router sees it: `send_app` journals the encoded message
    under the next MsgSeqNum, as the session layer does before it writes the socket."""

    def __init__(self, store: MessageStore) -> None:
        self.name = "s1"
        self.store = store
        self.logged_on = True
        self._encoder = Encoder("FIXR", "IB")
        self.sent: list[FixMessage] = []

    def send_app(self, msg_type: bytes, body: bytes) -> None:
        seq = self.store.next_sender_seq
        data = self._encoder.encode(msg_type, seq, SENDING_TIME, body)
        self.store.save_outbound(seq, data)
        self.sent.append(decode_frame(data))

    def send_admin(self, msg_type: bytes) -> int:
        """An admin message (journaled like every outbound one); returns its MsgSeqNum."""
        seq = self.store.next_sender_seq
        self.store.save_outbound(seq, self._encoder.encode(msg_type, seq, SENDING_TIME, b""))
        return seq

    def seq_of(self, msg_type: bytes, nth: int = -1) -> int:
        msg = [m for m in self.sent if m.msg_type == msg_type][nth]
        return int(msg.get_str(34) or 0)


class Live:
    """The router over one session's files (see the module docstring)."""

    def __init__(self, store: MessageStore, intents: IntentSink) -> None:
        self.store = store
        self.port = JournalPort(store)
        self.book = OrderBook()
        routes = RoutingConfig.from_toml_table({}).resolve(["s1"])
        self.router = Router(self.book, PassThroughGate(), Dialect(DialectSettings(), VALIDATOR),
                             routes, clock=lambda: T0 + 60, monotonic=lambda: 1000.0)
        self.router.add_session(self.port, intents)
        self.router.recover()
        self._exec = itertools.count(1)

    def new(self, id: str, strategy: str = "alpha", qty: int = 100) -> FixMessage:
        self.router.handle(NewOrder(strategy=strategy, id=id, symbol="AAPL", side=Side.BUY,
                                    qty=Decimal(qty), type=OrderType.LIMIT,
                                    price=Decimal("190")))
        return self.port.sent[-1]

    def receive(self, msg_type: str, fields: list[Field]) -> FixMessage:
        """IB's message: journaled, then handed over, as the session does."""
        seq = self.store.next_target_seq
        data = encode_fields([(35, msg_type), (49, "IB"), (56, "FIXR"), (34, seq),
                              (52, SENDING_TIME.decode()), *fields])
        msg = decode_frame(data)
        self.store.save_inbound(seq, data)
        if msg_type == "3":
            self.router.on_event("s1", SessionEvent(
                EventKind.REJECT_RECEIVED, "Reject", msg.get_int(45), msg))
        else:
            self.router.on_deliver("s1", msg)
        return msg

    def report(self, sent: FixMessage, exec_type: str, status: str, *, cum: int = 0,
               last: int = 0) -> FixMessage:
        qty = Decimal(sent.get_str(38) or "0")
        fields: list[Field] = [
            (37, "OID-" + (sent.get_str(11) or "")), (11, sent.get_str(11) or ""),
            (17, f"E{next(self._exec)}"), (20, "0"), (150, exec_type), (39, status),
            (55, "AAPL"), (54, "1"), (38, qty), (32, Decimal(last)), (31, Decimal("190")),
            (14, Decimal(cum)), (151, qty - cum), (6, Decimal("190")),
        ]
        if sent.get(41):
            fields.append((41, sent.get_str(41) or ""))
        return self.receive("8", fields)

    def session_reject(self, seq: int, text: str | None = "Invalid tag", reason: int = 5,
                       ) -> FixMessage:
        fields: list[Field] = [(45, seq), (371, 100), (373, reason)]
        if text is not None:
            fields.append((58, text))
        return self.receive("3", fields)

    def business_reject(self, seq: int | None, ref_msg_type: str = "D",
                        text: str | None = "Unsupported") -> FixMessage:
        fields: list[Field] = [] if seq is None else [(45, seq)]
        fields += [(372, ref_msg_type), (380, 3)]
        if text is not None:
            fields.append((58, text))
        return self.receive("j", fields)


class Day:
    """A session's journal and intent log on disk, opened once per process life."""

    def __init__(self, tmp_path: Path) -> None:
        self.stem = tmp_path / "FIX.4.2-FIXR-IB"
        self.opened: list[JournalStore | IntentLog] = []

    def start(self, now: float = T0) -> Live:
        store = JournalStore(self.stem, now=now)
        intents = IntentLog(intent_log_path(self.stem))
        self.opened += [store, intents]
        return Live(store, intents)

    def restart(self) -> Live:
        for f in self.opened:
            f.close()
        self.opened.clear()
        return self.start(now=T0 + 999)


@pytest.fixture
def day(tmp_path: Path) -> Iterator[Day]:
    d = Day(tmp_path)
    yield d
    for f in d.opened:
        f.close()


def snapshot(book: OrderBook) -> dict[str, object]:
    """`test_recovery.snapshot` once the book has retired what finished (a live book does
    it at its next call, a rebuilt one at the end of the rebuild)."""
    book.retire_finished()
    return _snapshot(book)


def statuses(book: OrderBook, ids: dict[str, list[str]]) -> dict[tuple[str, str], object]:
    """What `status` answers for each id, the way a strategy asks after a restart."""
    out: dict[tuple[str, str], object] = {}
    for strategy, names in ids.items():
        for name in names:
            state = book.status(strategy, name)
            out[(strategy, name)] = (
                (state.status, state.cum_qty, state.leaves_qty)
                if isinstance(state, OrderState) else state
            )
    return out


def test_a_session_rejected_order_stays_rejected_after_a_restart(day: Day) -> None:
    live = day.start()
    d1 = live.new("o1")
    d2 = live.new("o2")
    live.report(d2, "0", "0")
    live.session_reject(int(d1.get_str(34) or 0), text="Invalid tag 100")
    o1 = live.book.status("alpha", "o1")
    assert isinstance(o1, OrderState) and o1.status is S.REJECTED
    before = snapshot(live.book)
    asked = statuses(live.book, {"alpha": ["o1", "o2"]})

    after = day.restart()
    assert snapshot(after.book) == before
    assert statuses(after.book, {"alpha": ["o1", "o2"]}) == asked
    assert [s.id for s in after.book.working_orders("alpha")] == ["o2"]
    o1 = after.book.status("alpha", "o1")  # retired: read back from the journal
    assert isinstance(o1, OrderState) and o1.status is S.REJECTED and o1.leaves_qty == 0
    # the made-up report was derived again, with the live reason
    assert _kept(after.store, d1).text == "session reject: Invalid tag 100"


def test_the_reason_without_text_is_the_live_one(day: Day) -> None:
    live = day.start()
    d1 = live.new("o1")
    events: list[Execution] = []
    live.router.outlet = _Collect(events)  # type: ignore[assignment]
    live.session_reject(int(d1.get_str(34) or 0), text=None, reason=1)
    (event,) = events
    assert event.reason == "session reject: SessionRejectReason 1"
    assert event.exec_id == f"{EXEC_ID_PREFIX}s1-{d1.get_str(34)}"

    after = day.restart()
    order = _kept(after.store, d1)
    assert order.status is S.REJECTED
    assert order.text == "session reject: SessionRejectReason 1"


class _Collect:
    def __init__(self, into: list[Execution]) -> None:
        self.into = into

    def deliver(self, strategy: str, event: object) -> None:
        if isinstance(event, Execution):
            self.into.append(event)

    def broadcast_session(self, event: object) -> None:
        pass


def _kept(store: MessageStore, sent: FixMessage) -> Order:
    """The order `sent` created, in a book rebuilt from `store` that keeps finished
    orders (without the intent log: only the order's FIX state is looked at)."""
    book = OrderBook(retire=False)
    book.add_session("s1", "A", MemoryIntentLog())
    book.rebuild("s1", store)
    (order,) = [o for o in book.orders() if o.cl_ord_id == sent.get_str(11)]
    return order


def test_refusals_of_cancels_and_replaces_are_cancel_rejects_after_a_restart(day: Day) -> None:
    live = day.start()
    d1 = live.new("c1")
    live.report(d1, "0", "0")
    d2 = live.new("r1")
    live.report(d2, "0", "0")
    live.router.handle(CancelOrder("alpha", "c1"))
    f = live.port.seq_of(b"F")
    live.router.handle(ReplaceOrder("alpha", "r1", "r2", price=Decimal("191")))
    g = live.port.seq_of(b"G")
    live.business_reject(f, "F", text="cancel not supported")
    live.session_reject(g, text="bad price")
    working = {s.id: s.status for s in live.book.working_orders("alpha")}
    assert working == {"c1": S.NEW, "r1": S.NEW}
    before = snapshot(live.book)
    asked = statuses(live.book, {"alpha": ["c1", "r1", "r2"]})
    assert asked[("alpha", "r2")] == (S.REJECTED, 0, 0)  # the refused replace's new id

    after = day.restart()
    assert snapshot(after.book) == before
    assert statuses(after.book, {"alpha": ["c1", "r1", "r2"]}) == asked
    assert {s.id: s.status for s in after.book.working_orders("alpha")} == working


def test_refusals_naming_no_order_message_change_nothing(day: Day) -> None:
    live = day.start()
    d1 = live.new("o1")
    hb = live.port.send_admin(b"0")
    live.session_reject(hb, text="heartbeat refused")  # names an admin message
    live.session_reject(999, text="unknown")  # names a number never sent
    live.business_reject(None, "D", text="no RefSeqNum")  # names none at all
    live.business_reject(hb, "0", text="heartbeat, as a business reject")
    # a RefSeqNum of our order that is not a number, and a 35=j naming a number never sent
    live.receive("j", [(45, "x1"), (372, "D"), (380, 0)])
    live.business_reject(998)
    state = live.book.status("alpha", "o1")
    assert isinstance(state, OrderState) and state.status is S.PENDING_NEW
    before = snapshot(live.book)

    after = day.restart()
    assert snapshot(after.book) == before
    state = after.book.status("alpha", "o1")
    assert isinstance(state, OrderState) and state.status is S.PENDING_NEW
    assert d1.get(11) in {o.cl_ord_id.encode() for o in after.book.open_orders()}


def test_a_reject_naming_a_number_sent_after_it_settles_nothing(day: Day) -> None:
    """The RefSeqNum is read as of the Reject's place in the journal: a number we had not
    used yet names nothing, even if a later order got it (as live, where `find_sent`
    found nothing at that moment)."""
    live = day.start()
    d1 = live.new("o1")
    next_seq = live.store.next_sender_seq
    live.session_reject(next_seq, text="from the future")
    d2 = live.new("o2")
    assert d2.get_str(34) == str(next_seq)
    before = snapshot(live.book)
    assert sorted(o.id for o in live.book.open_orders()) == ["o1", "o2"]

    after = day.restart()
    assert snapshot(after.book) == before
    assert d1.get(11) != d2.get(11)


def test_a_second_reject_of_the_same_message_is_deduplicated(day: Day) -> None:
    live = day.start()
    d1 = live.new("o1")
    seq = int(d1.get_str(34) or 0)
    events: list[Execution] = []
    live.router.outlet = _Collect(events)  # type: ignore[assignment]
    live.session_reject(seq, text="first")
    live.business_reject(seq, text="second")
    assert [e.exec_type.value for e in events] == ["rejected"]
    before = snapshot(live.book)

    after = day.restart()
    assert snapshot(after.book) == before
    order = _kept(after.store, d1)
    assert order.status is S.REJECTED
    assert order.text == "session reject: first"  # the first one won, as live
    assert after.book.counters.snapshot() == live.book.counters.snapshot()


def test_a_reject_is_applied_at_its_place_among_the_reports(day: Day) -> None:
    """A refused cancel, then a second cancel IB takes: replayed in journal order the
    order ends canceled with nothing pending, exactly as live; the refusal applied after
    the cancel would have been a cancel reject of a finished order."""
    live = day.start()
    d1 = live.new("o1")
    live.report(d1, "0", "0")
    live.router.handle(CancelOrder("alpha", "o1"))
    f1 = live.port.sent[-1]
    live.session_reject(int(f1.get_str(34) or 0), text="throttled")
    live.router.handle(CancelOrder("alpha", "o1"))
    f2 = live.port.sent[-1]
    assert f2.get(11) != f1.get(11)
    live.report(f2, "4", "4")
    before = snapshot(live.book)
    counters = live.book.counters.snapshot()
    asked = statuses(live.book, {"alpha": ["o1"]})

    after = day.restart()
    assert snapshot(after.book) == before
    assert after.book.counters.snapshot() == counters
    assert statuses(after.book, {"alpha": ["o1"]}) == asked


class OnlyMessageStore:
    """A store that is a `MessageStore` but not a `SearchableStore`: recovery merges
    its two directions by causality (`recovery._merged`)."""

    def __init__(self, inner: MemoryStore) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name in ("iter_messages", "find_last", "scan", "history_end"):
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_the_causal_merge_replays_refusals_too() -> None:
    store = MemoryStore(now=T0)
    intents = MemoryIntentLog()
    live = Live(store, intents)
    d1 = live.new("o1")
    d2 = live.new("o2")
    live.report(d2, "0", "0")
    live.router.handle(CancelOrder("alpha", "o2"))
    f = live.port.seq_of(b"F")
    hb = live.port.send_admin(b"0")
    live.session_reject(int(d1.get_str(34) or 0))
    live.business_reject(f, "F")
    live.session_reject(hb)
    before = snapshot(live.book)

    merged = OnlyMessageStore(store)
    assert not isinstance(merged, SearchableStore)
    book = OrderBook()
    book.add_session("s1", "A", intents)
    book.rebuild("s1", merged)  # type: ignore[arg-type]
    assert snapshot(book) == before
    assert [s.id for s in book.working_orders("alpha")] == ["o2"]


def test_a_reject_after_a_sequence_reset_names_this_periods_message(day: Day) -> None:
    """After a reset both sides number from 1 again, so a RefSeqNum names a message of
    the new journal period, never one of the archived period, live and after a restart:
    the GTC order sent as 1 before the reset is untouched, the order sent as 1 after it
    is the one refused."""
    live = day.start()
    gtc = live.new("gtc")
    assert gtc.get_str(34) == "1"
    live.report(gtc, "0", "0")
    live.store.reset(T0 + 100)  # a new session period: the journal is archived
    live.session_reject(1, text="before anything was sent in this period")
    fresh = live.new("fresh")
    assert fresh.get_str(34) == "1"
    live.session_reject(1, text="refuses fresh")
    assert {s.id: s.status for s in live.book.working_orders("alpha")} == {"gtc": S.NEW}

    after = day.restart()
    book = after.book
    fresh_state = book.status("alpha", "fresh")
    assert isinstance(fresh_state, OrderState) and fresh_state.status is S.REJECTED
    assert _kept(after.store, fresh).text == "session reject: refuses fresh"
    # The GTC order is not in this period's journal: nothing here settles it; it is
    # learned again from IB's answer to the status request after logon.
    assert all(o.cl_ord_id != gtc.get_str(11) for o in book.orders())
    assert [s.id for s in book.working_orders("alpha")] == []
