"""Property: over random streams of orders, fills, cancels, rejects and replaces, open
exposure always equals the sum over working orders, and no accepted order or replace
ever takes a limit in force past it.

The oracle is computed here from the stand-in book's orders alone (`FakeOrder`), with
the rules the gate documents: an order counts leaves x unit price, the larger terms while
a replace is pending, market orders at the reference price when accepted, and a replace
that changes no price keeps the order's unit.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal as D
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from fixrouter.events import ExecKind
from fixrouter.requests import CancelOrder, OrderType, ReplaceOrder, Side
from fixrouter.risk import RiskGate

from .conftest import SESSION, FakeBook, FakeOrder, loose, open_gate, order

LIMITS: dict[str, Any] = {
    "max_order_qty": 500,
    "max_order_notional": 40_000,
    "price_collar_pct": 10,
    "max_open_orders": 6,
    "max_open_orders_symbol_side": 3,
    "max_position": 800,
    "max_gross_daily_notional": 150_000,
}
L = {k: D(v) for k, v in LIMITS.items()}
ZERO = D(0)
REFS = {"AAPL": D(100), "MSFT": D(50)}

accounts = st.sampled_from(["U1", "U2"])
symbols = st.sampled_from(["AAPL", "MSFT"])
sides = st.sampled_from([Side.BUY, Side.SELL, Side.SHORT])
qtys = st.integers(min_value=1, max_value=600)
offsets = st.integers(min_value=-15, max_value=15)  # price = reference x (1 + offset %)


class Tracked:
    """A stand-in book order plus what the oracle must remember about it."""

    def __init__(self, book: FakeOrder, unit: D) -> None:
        self.book = book
        self.unit = unit  # price used for its notional
        self.pending_unit: D | None = None


class GateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.gate: RiskGate = open_gate(loose(**LIMITS), refs={k: str(v) for k, v in
                                                               REFS.items()}, book=FakeBook())
        self.orders: list[Tracked] = []
        self.fills: dict[tuple[str, str], D] = defaultdict(lambda: ZERO)  # position
        self.filled_notional: dict[str, D] = defaultdict(lambda: ZERO)
        self.now = 1000.0

    # -- oracle ------------------------------------------------------------------------------

    def working(self) -> list[Tracked]:
        return [t for t in self.orders if t.book.is_working]

    def counted(self, t: Tracked) -> tuple[D, D]:
        b = t.book
        qty, unit = b.qty, t.unit
        if b.pending_replace is not None and t.pending_unit is not None:
            qty = max(qty, b.pending_replace.qty)
            unit = max(unit, t.pending_unit)
        leaves = max(qty - b.cum_qty, ZERO)
        return leaves, leaves * unit

    def oracle(self) -> dict[str, dict[Any, Any]]:
        count: dict[str, int] = defaultdict(int)
        side_count: dict[tuple[str, str, int], int] = defaultdict(int)
        open_qty: dict[tuple[str, str, int], D] = defaultdict(lambda: ZERO)
        open_notional: dict[str, D] = defaultdict(lambda: ZERO)
        for t in self.working():
            req = t.book.req
            side = (req.account or "", req.symbol, 1 if req.side is Side.BUY else 0)
            leaves, notional = self.counted(t)
            count[side[0]] += 1
            side_count[side] += 1
            open_qty[side] += leaves
            open_notional[side[0]] += notional
        return {"count": count, "side_count": side_count, "open_qty": open_qty,
                "open_notional": open_notional}

    def within_limits(self, account: str, symbol: str, buy: int) -> None:
        """The limits an accepted request must not have taken past their value."""
        o = self.oracle()
        assert o["count"][account] <= L["max_open_orders"]
        assert o["side_count"][(account, symbol, buy)] <= L["max_open_orders_symbol_side"]
        position = self.fills[(account, symbol)]
        direction = position if buy else -position
        assert direction + o["open_qty"][(account, symbol, buy)] <= L["max_position"]
        total = self.filled_notional[account] + o["open_notional"][account]
        assert total <= L["max_gross_daily_notional"]

    # -- rules ---------------------------------------------------------------------------------

    @rule(account=accounts, symbol=symbols, side=sides, qty=qtys, offset=offsets,
          market=st.booleans())
    def new(self, account: str, symbol: str, side: Side, qty: int, offset: int,
            market: bool) -> None:
        ref = self.gate.references.get(symbol)
        assert ref is not None
        price = None if market else (ref * (100 + offset) / 100).quantize(D("0.01"))
        req = order(account=account, symbol=symbol, side=side, qty=qty,
                    type=OrderType.MARKET if market else OrderType.LIMIT,
                    price=None if price is None else str(price))
        verdict = self.gate.check_new(req, SESSION, self.now)
        if verdict is not None:
            return
        unit = ref if price is None else price
        assert req.qty <= L["max_order_qty"]
        assert req.qty * unit <= L["max_order_notional"]
        if price is not None:
            assert abs(price - ref) <= ref * D("0.10")
        self.orders.append(Tracked(FakeOrder(req), unit))
        self.within_limits(account, symbol, 1 if side is Side.BUY else 0)

    @rule(data=st.data(), part=st.integers(min_value=1, max_value=4),
          offset=st.integers(min_value=-5, max_value=5))
    def fill(self, data: st.DataObject, part: int, offset: int) -> None:
        live = self.working()
        if not live:
            return
        t = data.draw(st.sampled_from(live))
        b = t.book
        qty = max(D(1), ((b.qty - b.cum_qty) / part).quantize(D(1)))
        qty = min(qty, b.qty - b.cum_qty)
        if qty <= 0:
            return
        ref = REFS[b.req.symbol]
        px = (ref * (100 + offset) / 100).quantize(D("0.01"))
        b.fill(qty, px)
        self.fills[(b.req.account or "", b.req.symbol)] += qty if b.req.side is Side.BUY \
            else -qty
        self.filled_notional[b.req.account or ""] += qty * px
        self.gate.on_report(b, self.now)

    @rule(data=st.data(), rejected=st.booleans())
    def done(self, data: st.DataObject, rejected: bool) -> None:
        """Cancelled (the cancel always passes the gate) or rejected by the broker."""
        live = self.working()
        if not live:
            return
        t = data.draw(st.sampled_from(live))
        if not rejected:
            assert self.gate.check_cancel(CancelOrder(t.book.strategy, t.book.id),
                                          SESSION, self.now) is None
        t.book.done()
        t.book.pending_replace = None
        t.pending_unit = None
        self.gate.on_report(t.book, self.now, ExecKind.REJECTED if rejected else None)

    @rule(data=st.data(), qty=st.none() | qtys, offset=st.none() | offsets)
    def replace(self, data: st.DataObject, qty: int | None, offset: int | None) -> None:
        live = [t for t in self.working() if t.book.pending_replace is None]
        if not live or (qty is None and offset is None):
            return
        t = data.draw(st.sampled_from(live))
        b = t.book
        ref = self.gate.references.get(b.req.symbol)
        assert ref is not None
        price = None if offset is None or b.price is None else \
            (ref * (100 + offset) / 100).quantize(D("0.01"))
        new_id = f"{b.id}r"
        req = ReplaceOrder(b.strategy, b.id, new_id, qty=None if qty is None else D(qty),
                           price=price)
        leaves_before = self.counted(t)
        verdict = self.gate.check_replace(req, SESSION, self.now)
        if verdict is not None:
            return
        b.start_replace(new_id, qty=qty, price=None if price is None else str(price))
        # A replace that changes no price keeps the unit the order was counted at.
        t.pending_unit = t.unit if price is None else price
        assert b.pending_replace.qty <= L["max_order_qty"]  # type: ignore[union-attr]
        req_side = 1 if b.req.side is Side.BUY else 0
        leaves_after = self.counted(t)
        if leaves_after[0] > leaves_before[0] or leaves_after[1] > leaves_before[1]:
            self.within_limits(b.req.account or "", b.req.symbol, req_side)
        self.gate.on_report(b, self.now, ExecKind.PENDING_REPLACE)

    @rule(data=st.data(), confirm=st.booleans())
    def answer_replace(self, data: st.DataObject, confirm: bool) -> None:
        pending = [t for t in self.working() if t.book.pending_replace is not None]
        if not pending:
            return
        t = data.draw(st.sampled_from(pending))
        b = t.book
        if confirm:
            pr = b.pending_replace
            assert pr is not None
            if pr.qty <= b.cum_qty:  # the book refuses such a replace; so would IB
                b.refuse_replace()
            else:
                b.confirm_replace()
                assert t.pending_unit is not None
                t.unit = t.pending_unit
        else:
            b.refuse_replace()
        t.pending_unit = None
        self.gate.on_report(b, self.now, ExecKind.REPLACED if confirm else None)

    @rule()
    def tick(self) -> None:
        self.now += 0.5

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def sums_equal_the_working_orders(self) -> None:
        o = self.oracle()
        exp = self.gate.exposure
        for account, acct in exp.accounts.items():
            assert acct.open_count == o["count"][account]
            assert acct.open_notional.get("USD", ZERO) == o["open_notional"][account]
            assert acct.filled_notional.get("USD", ZERO) == self.filled_notional[account]
        for (account, symbol), inst in exp.instruments.items():
            assert inst.position == self.fills[(account, symbol)]
            for side in (0, 1):
                assert inst.count[side] == o["side_count"][(account, symbol, side)]
                assert inst.open_qty[side] == o["open_qty"][(account, symbol, side)]
        # And the gate's records agree with its own sums (nothing counted twice).
        records = list(self.gate.working())
        assert len(records) == len(self.working())
        assert sum(a.open_count for a in exp.accounts.values()) == len(records)


GateMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestGateProperty = GateMachine.TestCase
