"""A router with real stages (order book, dialect, risk gate or pass-through) and fake ends.

`FakePort` plays one FIX session: `send_app` encodes and journals the message in a
`MemoryStore` exactly as the session layer would (so a Reject can name its MsgSeqNum),
and records what the intent log held at that moment, to check write-before-send. It can
be logged off or made to fail. `Outlet` records every event per strategy; `Timers` keeps
deferred callbacks until the test runs them. `reports` builds IB's answers as real frames.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from fixrouter.codec import Encoder, FixMessage, decode_frame, encode_fields
from fixrouter.codec.encoder import Field
from fixrouter.dialect import Dialect, DialectSettings
from fixrouter.dictionary import CompiledValidator, load_dictionary
from fixrouter.events import Event, SessionChanged
from fixrouter.oms import MemoryIntentLog, OrderBook
from fixrouter.requests import NewOrder, OrderType, Side
from fixrouter.risk import RiskConfig, RiskGate
from fixrouter.router import Router
from fixrouter.routing.config import RoutingConfig
from fixrouter.routing.gate import OrderGate, PassThroughGate
from fixrouter.routing.risk import RiskGateAdapter
from fixrouter.session import NotLoggedOn
from fixrouter.store import MemoryStore

T0 = 1_700_000_000.0
VALIDATOR = CompiledValidator(load_dictionary())


class FakePort:
    def __init__(self, name: str, intents: MemoryIntentLog) -> None:
        self.name = name
        self.store = MemoryStore(now=T0 - 60)
        self.logged_on = True
        self.fail: Exception | None = None
        self.sent: list[FixMessage] = []
        self.intents_at_send: list[int] = []
        self._intents = intents
        self._encoder = Encoder("FIXROUTER", "IB")

    def send_app(self, msg_type: bytes, body: bytes) -> None:
        if not self.logged_on:
            raise NotLoggedOn("not logged on (fake)")
        if self.fail is not None:
            raise self.fail
        seq = self.store.next_sender_seq
        data = self._encoder.encode(msg_type, seq, b"20231114-22:13:20.000", body)
        self.store.save_outbound(seq, data)
        self.sent.append(decode_frame(data))
        self.intents_at_send.append(len(self._intents.lines))

    def of_type(self, msg_type: bytes) -> list[FixMessage]:
        return [m for m in self.sent if m.msg_type == msg_type]


class Outlet:
    def __init__(self) -> None:
        self.events: dict[str, list[Event]] = {}
        self.broadcasts: list[SessionChanged] = []

    def deliver(self, strategy: str, event: Event) -> None:
        self.events.setdefault(strategy, []).append(event)

    def broadcast_session(self, event: SessionChanged) -> None:
        self.broadcasts.append(event)

    def of(self, strategy: str) -> list[Event]:
        return self.events.get(strategy, [])

    def take(self, strategy: str) -> list[Event]:
        return self.events.pop(strategy, [])


class Timers:
    def __init__(self) -> None:
        self.soon: list[Callable[[], None]] = []
        self.later: list[tuple[float, Callable[[], None]]] = []

    def call_soon(self, callback: Callable[[], None]) -> None:
        self.soon.append(callback)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        self.later.append((delay, callback))

    def run_soon(self) -> None:
        work, self.soon = self.soon, []
        for callback in work:
            callback()


class Clock:
    """Epoch and monotonic time the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.mono += seconds


class Stack:
    """A router over one or more fake sessions, recovered and ready unless asked not."""

    def __init__(self, gate: OrderGate, sessions: tuple[str, ...] = ("s1",),
                 routing: dict[str, Any] | None = None, recover: bool = True) -> None:
        self.clock = Clock()
        self.book = OrderBook()
        self.gate = gate
        self.outlet = Outlet()
        self.timers = Timers()
        self.intents = {name: MemoryIntentLog() for name in sessions}
        self.ports = {name: FakePort(name, self.intents[name]) for name in sessions}
        routes = RoutingConfig.from_toml_table(routing or {}).resolve(list(sessions))
        self.router = Router(
            self.book, gate, Dialect(DialectSettings(), VALIDATOR), routes,
            clock=lambda: self.clock.now, monotonic=lambda: self.clock.mono,
        )
        self.router.outlet = self.outlet
        self.router.timers = self.timers
        for name in sessions:
            self.router.add_session(self.ports[name], self.intents[name])
        if recover:
            self.router.recover()

    @property
    def port(self) -> FakePort:
        return next(iter(self.ports.values()))

    def new(self, id: str, strategy: str = "alpha", **kw: Any) -> NewOrder:
        fields: dict[str, Any] = {"symbol": "AAPL", "side": Side.BUY, "qty": Decimal(100),
                                  "type": OrderType.LIMIT, "price": Decimal("190")}
        fields.update(kw)
        order = NewOrder(strategy=strategy, id=id, **fields)
        self.router.handle(order)
        return order


class Broker:
    """IB's side: execution reports and cancel rejects as decoded frames."""

    def __init__(self) -> None:
        self._exec = itertools.count(1)
        self._seq = itertools.count(1)

    def _frame(self, msg_type: str, fields: list[Field]) -> FixMessage:
        head: list[Field] = [(35, msg_type), (49, "IB"), (56, "FIXROUTER"),
                             (34, next(self._seq)), (52, "20231114-22:13:20.000")]
        return decode_frame(encode_fields(head + fields))

    def report(self, sent: FixMessage, exec_type: str, status: str, *, cum: str = "0",
               last: str = "0", px: str = "0", order_id: str = "OID1",
               text: str | None = None) -> FixMessage:
        qty = sent.get_str(38) or "0"
        fields: list[Field] = [
            (37, order_id), (11, sent.get_str(11) or ""), (17, f"E{next(self._exec)}"),
            (20, "0"), (150, exec_type), (39, status), (55, sent.get_str(55) or ""),
            (54, sent.get_str(54) or "1"), (38, qty), (32, last), (31, px), (14, cum),
            (151, str(Decimal(qty) - Decimal(cum))), (6, px),
        ]
        if sent.get(41):
            fields.append((41, sent.get_str(41) or ""))
        if text is not None:
            fields.append((58, text))
        return self._frame("8", fields)

    def cancel_reject(self, sent: FixMessage, reason: str = "0",
                      text: str = "Too late to cancel") -> FixMessage:
        return self._frame("9", [
            (37, "OID1"), (11, sent.get_str(11) or ""), (41, sent.get_str(41) or ""),
            (39, "2"), (434, "1" if sent.msg_type == b"F" else "2"), (102, reason), (58, text),
        ])

    def unsolicited(self, msg_type: str, fields: list[Field]) -> FixMessage:
        return self._frame(msg_type, fields)


@pytest.fixture
def stack() -> Stack:
    return Stack(PassThroughGate())


def risk_stack(table: dict[str, Any] | None = None, **kw: Any) -> Stack:
    """A stack with the real risk gate; `table` is the [risk] table (references warn)."""
    config: dict[str, Any] = {"global": {"missing_reference": "warn"}}
    for key, value in (table or {}).items():
        config.setdefault(key, {}).update(value)
    return Stack(RiskGateAdapter(RiskGate(RiskConfig.from_toml_table(config))), **kw)


@pytest.fixture
def broker() -> Iterator[Broker]:
    yield Broker()
