"""Test harness for the order book.

`Engine` plays the router's part around an `OrderBook`: it builds the NewOrderSingle,
OrderCancelRequest and OrderCancelReplaceRequest a dialect would, journals them in a real
`MessageStore` before calling `sent`, and journals every inbound report before the book
sees it, exactly as the production path does, so a restart test can reopen the files.
`Broker` plays IB: it builds ExecutionReports and OrderCancelRejects as FIX frames
(`encode_fields` + `decode_frame`), numbering ExecIDs and OrderIDs itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from fixrouter.codec import FixMessage, decode_frame, encode_fields
from fixrouter.codec.encoder import Field
from fixrouter.events import Event
from fixrouter.oms import (
    CancelIntent,
    IntentLog,
    IntentSink,
    MemoryIntentLog,
    Order,
    OrderBook,
    ReplaceIntent,
    intent_log_path,
)
from fixrouter.requests import CancelOrder, NewOrder, OrderType, ReplaceOrder, Side, TimeInForce
from fixrouter.store import JournalStore, MemoryStore, MessageStore

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
DAY = "231114"
SENDING_TIME = "20231114-22:13:20.000"

SIDE_CODE = {Side.BUY: "1", Side.SELL: "2", Side.SHORT: "5"}
TYPE_CODE = {OrderType.MARKET: "1", OrderType.LIMIT: "2", OrderType.STOP: "3",
             OrderType.STOP_LIMIT: "4", OrderType.MOC: "5", OrderType.LOC: "B"}
TIF_CODE = {TimeInForce.DAY: "0", TimeInForce.GTC: "1", TimeInForce.OPG: "2",
            TimeInForce.IOC: "3", TimeInForce.FOK: "4", TimeInForce.GTD: "6"}


def frame(msg_type: str, fields: list[Field], seq: int = 1, possdup: bool = False,
          sender: str = "IB", target: str = "FIXR") -> bytes:
    head: list[Field] = [(35, msg_type), (49, sender), (56, target), (34, seq),
                         (52, SENDING_TIME)]
    if possdup:
        head += [(43, "Y"), (122, SENDING_TIME)]
    return encode_fields(head + fields)


def message(msg_type: str, fields: list[Field], **kw: object) -> FixMessage:
    return decode_frame(frame(msg_type, fields, **kw))  # type: ignore[arg-type]


def new_order(strategy: str = "alpha", id: str = "o1", qty: int | str = 100,
              side: Side = Side.BUY, price: str | None = "10", symbol: str = "AAPL",
              account: str | None = "U1234567", type: OrderType | None = None,
              tif: TimeInForce = TimeInForce.DAY) -> NewOrder:
    if type is None:
        type = OrderType.LIMIT if price is not None else OrderType.MARKET
    return NewOrder(strategy=strategy, id=id, symbol=symbol, side=side, qty=Decimal(qty),
                    type=type, tif=tif, price=None if price is None else Decimal(price),
                    account=account)


def new_order_fix(order: Order) -> bytes:
    r = order.req
    fields: list[Field] = [(11, order.cl_ord_id), (21, "2"), (55, r.symbol),
                           (54, SIDE_CODE[r.side]), (38, r.qty), (40, TYPE_CODE[r.type]),
                           (59, TIF_CODE[r.tif]), (60, SENDING_TIME), (100, r.exchange),
                           (15, r.currency), (167, r.sec_type.value)]
    if r.account:
        fields.append((1, r.account))
    if r.price is not None:
        fields.append((44, r.price))
    if r.stop_price is not None:
        fields.append((99, r.stop_price))
    return frame("D", fields, sender="FIXR", target="IB")


def cancel_fix(intent: CancelIntent) -> bytes:
    r = intent.order.req
    return frame("F", [(11, intent.cl_ord_id), (41, intent.orig_cl_ord_id), (55, r.symbol),
                       (54, SIDE_CODE[r.side]), (38, intent.order.qty), (60, SENDING_TIME)],
                 sender="FIXR", target="IB")


def replace_fix(intent: ReplaceIntent) -> bytes:
    r = intent.order.req
    fields: list[Field] = [(11, intent.cl_ord_id), (41, intent.orig_cl_ord_id), (21, "2"),
                           (55, r.symbol), (54, SIDE_CODE[r.side]), (38, intent.qty),
                           (40, TYPE_CODE[r.type]), (59, TIF_CODE[intent.tif]),
                           (60, SENDING_TIME), (100, r.exchange)]
    if intent.price is not None:
        fields.append((44, intent.price))
    return frame("G", fields, sender="FIXR", target="IB")


class Broker:
    """Builds the reports IB would send. ExecIDs and OrderIDs are numbered here."""

    def __init__(self) -> None:
        self._exec = itertools.count(1)
        self._oid = itertools.count(1)
        self.order_ids: dict[int, str] = {}  # id(order) -> OrderID

    def exec_id(self) -> str:
        return f"E{next(self._exec)}"

    def order_id(self, order: Order) -> str:
        key = id(order)
        if key not in self.order_ids:
            self.order_ids[key] = f"0000{next(self._oid):04x}.0001"
        return self.order_ids[key]

    def report(self, order: Order, exec_type: str, ord_status: str, *,
               last_qty: int | str = 0, last_px: str = "0", cl: str | None = "",
               orig: str | None = None, exec_id: str | None = None, trans: str = "0",
               ref: str | None = None, text: str | None = None, cum: str | int | None = None,
               qty: int | str | None = None, order_id: str | None = None,
               possdup: bool = False, seq: int = 1) -> bytes:
        """An ExecutionReport frame. `cl=""` means the order's current ClOrdID; None, none."""
        r = order.req
        fields: list[Field] = [
            (37, order_id or self.order_id(order)),
            (17, exec_id or self.exec_id()),
            (20, trans),
            (150, exec_type),
            (39, ord_status),
            (55, r.symbol),
            (54, SIDE_CODE[r.side]),
            (38, Decimal(qty) if qty is not None else order.qty),
            (32, Decimal(last_qty)),
            (31, Decimal(last_px)),
            (14, Decimal(cum) if cum is not None else order.cum_qty + Decimal(last_qty)),
            (151, Decimal(0)),
            (6, Decimal(0)),
        ]
        if cl is not None:
            fields.append((11, cl or order.cl_ord_id))
        if orig is not None:
            fields.append((41, orig))
        if ref is not None:
            fields.append((19, ref))
        if text is not None:
            fields.append((58, text))
        if r.account:
            fields.append((1, r.account))
        return frame("8", fields, seq=seq, possdup=possdup)

    def cancel_reject(self, order: Order, cl: str, orig: str, *, response_to: str = "1",
                      reason: str = "0", text: str | None = None, status: str = "0") -> bytes:
        fields: list[Field] = [(37, self.order_id(order)), (11, cl), (41, orig),
                               (39, status), (434, response_to), (102, reason)]
        if text is not None:
            fields.append((58, text))
        return frame("9", fields)


class Engine:
    """The router's part: journal before send, journal before the book sees a report."""

    def __init__(self, book: OrderBook, store: MessageStore, session: str = "s1") -> None:
        self.book = book
        self.store = store
        self.session = session
        self.events: list[tuple[str, Event]] = []

    def new(self, req: NewOrder, now: float = T0 + 60) -> Order:
        order = self.book.prepare_new(req, now, self.session)
        assert isinstance(order, Order), order
        self.store.save_outbound(self.store.next_sender_seq, new_order_fix(order))
        accepted = self.book.sent(order)
        assert accepted is not None
        self.events.append((req.strategy, accepted))
        return order

    def cancel(self, strategy: str, id: str, now: float = T0 + 60) -> CancelIntent:
        intent = self.book.prepare_cancel(CancelOrder(strategy, id), now)
        assert isinstance(intent, CancelIntent), intent
        self.store.save_outbound(self.store.next_sender_seq, cancel_fix(intent))
        assert self.book.sent(intent) is None
        return intent

    def replace(self, strategy: str, id: str, new_id: str, now: float = T0 + 60,
                **changes: object) -> ReplaceIntent:
        req = ReplaceOrder(strategy, id, new_id, **changes)  # type: ignore[arg-type]
        intent = self.book.prepare_replace(req, now)
        assert isinstance(intent, ReplaceIntent), intent
        self.store.save_outbound(self.store.next_sender_seq, replace_fix(intent))
        return intent

    def receive(self, data: bytes) -> list[tuple[str, Event]]:
        self.store.save_inbound(self.store.next_target_seq, data)
        out = self.book.on_message(decode_frame(data), self.session)
        self.events.extend(out)
        return out


def ready_book(intents: IntentSink | None = None, store: MessageStore | None = None,
               prefix: str = "A") -> OrderBook:
    book = OrderBook()
    book.add_session("s1", prefix, intents if intents is not None else MemoryIntentLog())
    book.rebuild("s1", store if store is not None else MemoryStore(now=T0))
    return book


@pytest.fixture
def book() -> OrderBook:
    return ready_book()


@pytest.fixture
def broker() -> Broker:
    return Broker()


@pytest.fixture
def engine() -> Engine:
    store = MemoryStore(now=T0)
    return Engine(ready_book(store=store), store)


class Files:
    """A session's journal and intent log under tmp_path, reopened like a restart."""

    def __init__(self, tmp_path: Path) -> None:
        self.stem = tmp_path / "FIX.4.2-FIXR-IB"
        self.opened: list[JournalStore | IntentLog] = []

    def open(self, now: float = T0) -> tuple[JournalStore, IntentLog]:
        store = JournalStore(self.stem, now=now)
        intents = IntentLog(intent_log_path(self.stem))
        self.opened += [store, intents]
        return store, intents

    def start(self, now: float = T0) -> tuple[Engine, list[tuple[str, Event]]]:
        """Open the files and rebuild a fresh book from them, as the engine's start does."""
        store, intents = self.open(now)
        book = OrderBook()
        book.add_session("s1", "A", intents)
        owed = book.rebuild("s1", store)
        return Engine(book, store), owed

    def close(self) -> None:
        for f in self.opened:
            f.close()
        self.opened.clear()


@pytest.fixture
def files(tmp_path: Path) -> Iterator[Files]:
    f = Files(tmp_path)
    yield f
    f.close()
