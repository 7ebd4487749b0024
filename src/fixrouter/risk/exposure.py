"""Open exposure: the orders the gate counts, and the sums its limits compare against.

Theory of operation
-------------------
The gate keeps one `Working` record per order it let through (and per order it found
in the order book at a rebuild, orphans included), keyed by (strategy, id), the names
the strategy and the order book (`fixrouter.oms`) use. A record *contributes* to the
sums while its order is working:

* one to its account's open order count, and one to the count of its (account,
  instrument, side) — buy is one side, sell and short sell the other;
* its leaves quantity to the open quantity of that (account, instrument, side);
* its leaves × unit price × multiplier to the open notional of (account, currency).

The sums live in one `AccountExposure` per account and one `InstrumentExposure` per
(account, instrument), and each record holds its two, so checking an order is two dict
look-ups and then attribute reads, and updating one is no look-up at all.

An order counts from the moment the gate accepts it for sending (MiFID II RTS 6 Art. 15:
counted as soon as sent), so two orders checked back to back see each other. Every change
to a record goes through `Exposure` (`add`, `recount`, `remove`), which takes back exactly
what the record contributed before and adds what it contributes now: the sums are always
the sum over the working records, by construction, and the property test in `tests/risk`
checks it over random streams.

While a replace is pending, the order may still fill on its old terms or already on its
new ones, so it counts the larger of the two: max(old, new) quantity and max(old, new)
unit price. The confirmation (or the refusal) brings it back to one set of terms.

Filled notional (for the daily gross limit, per account and currency), positions (per
account and instrument), and the day's message and execution counts (for the order
efficiency ratio, per account) are kept here too. Positions start from the order book's
at a rebuild and move with every fill after it.

What the gate reads from the order book is the small `OrderSource` / `BookOrder`
protocol below, which `fixrouter.oms.OrderBook` and its `Order` satisfy; the gate never
changes the book.

A record lives only as long as its order: when the book reports an order *finished*
(`BookOrder.finished`: done, nothing of ours pending), the gate drops the record, as the
book retires the order (issue 7: nothing per order stays in memory after it is done).
What the day's limits need from done orders is already in the sums (filled notional,
positions, message and execution counts). If a late report brings a retired order back
(`BookOrder.recalled` holds what had been counted for it), the gate files a record again
from those figures and moves the sums by the report's difference only; after a restart
the retired orders' share of the day's totals comes from `OrderSource.retired_totals`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from mypy_extensions import mypyc_attr

from fixrouter.requests import NewOrder, TimeInForce

ZERO: Final = Decimal(0)


# ---- what the gate needs from the order book ---------------------------------------------


class BookReplace(Protocol):
    """A replace the book sent and the broker has not answered (`oms.ReplaceIntent`)."""

    @property
    def new_id(self) -> str: ...
    @property
    def qty(self) -> Decimal: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def stop_price(self) -> Decimal | None: ...
    @property
    def tif(self) -> TimeInForce: ...


class BookOrder(Protocol):
    """One order as the book knows it (`oms.Order`). `notional` is the sum of
    qty × price over its standing fills, without the contract multiplier."""

    @property
    def strategy(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def session(self) -> str: ...
    @property
    def req(self) -> NewOrder: ...
    @property
    def qty(self) -> Decimal: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def stop_price(self) -> Decimal | None: ...
    @property
    def tif(self) -> TimeInForce: ...
    @property
    def cum_qty(self) -> Decimal: ...
    @property
    def notional(self) -> Decimal: ...
    @property
    def is_working(self) -> bool: ...
    @property
    def pending_replace(self) -> BookReplace | None: ...
    @property
    def finished(self) -> bool:
        """Done, with no cancel or replace of ours awaiting an answer: the book retires
        it at its next call."""
        ...
    @property
    def recalled(self) -> tuple[Decimal, Decimal] | None:
        """For an order read back after it was retired: its (cum_qty, notional) before the
        report that brought it back, i.e. what the gate had counted for it."""
        ...


class BookPosition(Protocol):
    """`oms.PositionView`: a signed quantity per (account or "", instrument)."""

    @property
    def account(self) -> str: ...
    @property
    def instrument(self) -> str: ...
    @property
    def qty(self) -> Decimal: ...


class RetiredTotals(Protocol):
    """`oms.RetiredTotal`: the day's figures of the retired orders of one (strategy,
    account, symbol, instrument, currency, contract multiplier)."""

    @property
    def strategy(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def instrument(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def multiplier(self) -> Decimal | None: ...
    @property
    def orders(self) -> int: ...
    @property
    def filled(self) -> int: ...
    @property
    def notional(self) -> Decimal: ...


class OrderSource(Protocol):
    """What `RiskGate.rebuild` reads: `oms.OrderBook` once it is `ready`."""

    @property
    def ready(self) -> bool: ...
    def orders(self) -> Iterable[BookOrder]:
        """The orders the book holds (the live ones)."""
        ...
    def positions(self) -> Iterable[BookPosition]: ...
    def retired_totals(self) -> Iterable[RetiredTotals]: ...
    def last_prices(self) -> Mapping[str, Decimal]:
        """Average price of the latest retired order with fills, per instrument."""
        ...


# ---- records --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingReplace:
    """A replace the gate let through; `unit` is its price × multiplier for notional."""

    new_id: str
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    tif: TimeInForce
    unit: Decimal


class AccountExposure:
    """One account's sums. `open_notional` and `filled_notional` are per currency."""

    __slots__ = ("account", "executions", "filled_notional", "messages", "open_count",
                 "open_notional")

    def __init__(self, account: str) -> None:
        self.account = account
        self.open_count = 0
        self.open_notional: dict[str, Decimal] = {}
        self.filled_notional: dict[str, Decimal] = {}
        self.messages = 0  # today's submits + revisions + cancels
        self.executions = 0  # today's fills


class InstrumentExposure:
    """One account's position and open orders in one instrument. `count` and `open_qty`
    are indexed by side: [0] sell and short sell, [1] buy."""

    __slots__ = ("account", "count", "instrument", "open_qty", "position")

    def __init__(self, account: str, instrument: str) -> None:
        self.account = account
        self.instrument = instrument
        self.position = ZERO  # signed: long > 0
        self.count = [0, 0]
        self.open_qty = [ZERO, ZERO]


class Terms(Protocol):
    """An order's changeable terms: a `NewOrder` until the order book has the order, then
    the book's own order (always current: a confirmed replace or a restatement changes
    it in place)."""

    @property
    def qty(self) -> Decimal: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def stop_price(self) -> Decimal | None: ...
    @property
    def tif(self) -> TimeInForce: ...


@mypyc_attr(acyclic=True)
class Working:
    """The gate's record of one order. Mutable, owned by `Exposure`.

    Compiled, the class is `acyclic`: the cyclic collector does not track its instances
    (one per working order: at a million resting orders, a million objects less for
    every full collection to walk, see `fixrouter.gc_policy`). That is sound because a
    record never takes part in a reference cycle: it refers to its request, the book's
    order (`terms`), its account's and instrument's sums, a `PendingReplace` and a list
    of ids, and none of those refers back to a record. Keep it so: a reference from
    anything a record reaches back to a record would make a cycle no collection could
    free.
    """

    __slots__ = (
        "acct", "buy", "c_leaves", "c_notional", "cum", "filled", "id", "inst",
        "multiplier", "old_ids", "pending", "req", "terms", "unit", "working",
    )  # fmt: skip

    def __init__(
        self,
        req: NewOrder,
        acct: AccountExposure,
        inst: InstrumentExposure,
        buy: int,
        multiplier: Decimal,
        unit: Decimal,
        leaves: Decimal,
        notional: Decimal,
    ) -> None:
        self.req = req
        self.terms: Terms = req
        self.id = req.id
        self.acct = acct
        self.inst = inst
        self.buy = buy  # 1 for a buy, 0 for a sell or short sell: the index into inst's lists
        self.multiplier = multiplier
        self.unit = unit  # price x multiplier used for open notional (0: unknown)
        self.cum = ZERO  # CumQty as the gate last saw it
        self.filled = ZERO  # filled qty x price (no multiplier), as the book counts it
        self.pending: PendingReplace | None = None
        self.old_ids: list[str] | None = None  # ids before confirmed replaces
        self.working = False
        # What the record contributes to the sums while working: `Exposure.add` adds these,
        # so they must equal `counted()` when it is called.
        self.c_leaves = leaves
        self.c_notional = notional

    @property
    def strategy(self) -> str:
        return self.req.strategy

    @property
    def account(self) -> str:
        return self.acct.account

    @property
    def instrument(self) -> str:
        return self.inst.instrument

    @property
    def symbol(self) -> str:
        return self.req.symbol

    @property
    def currency(self) -> str:
        return self.req.currency

    @property
    def qty(self) -> Decimal:
        return self.terms.qty

    def counted(self) -> tuple[Decimal, Decimal]:
        """(leaves, notional) this order should contribute: the larger terms while a
        replace is pending (see the module docstring)."""
        qty, unit = self.terms.qty, self.unit
        pending = self.pending
        if pending is not None:
            if pending.qty > qty:
                qty = pending.qty
            if pending.unit > unit:
                unit = pending.unit
        leaves = qty - self.cum
        if leaves < ZERO:  # a Decimal zero: against the int 0 the int is converted first
            leaves = ZERO
        return leaves, leaves * unit

    def __repr__(self) -> str:
        return (f"Working({self.strategy}/{self.id} {self.account} {self.instrument} "
                f"{'buy' if self.buy else 'sell'} {self.cum}/{self.qty} @{self.unit})")


class Exposure:
    """The sums, by account and by (account, instrument); the gate's hot path reads the
    two objects an order touches and then only attributes."""

    __slots__ = ("accounts", "instruments")

    def __init__(self) -> None:
        self.accounts: dict[str, AccountExposure] = {}
        self.instruments: dict[tuple[str, str], InstrumentExposure] = {}

    def account(self, account: str) -> AccountExposure:
        found = self.accounts.get(account)
        if found is None:
            found = self.accounts[account] = AccountExposure(account)
        return found

    def instrument(self, account: str, instrument: str) -> InstrumentExposure:
        key = (account, instrument)
        found = self.instruments.get(key)
        if found is None:
            found = self.instruments[key] = InstrumentExposure(account, instrument)
        return found

    def add(self, rec: Working) -> None:
        """Start counting a record; its `c_leaves` and `c_notional` are its `counted()`."""
        acct = rec.acct
        inst = rec.inst
        side = rec.buy
        acct.open_count += 1
        inst.count[side] += 1
        inst.open_qty[side] += rec.c_leaves
        ccy = rec.req.currency
        on = acct.open_notional
        on[ccy] = on.get(ccy, ZERO) + rec.c_notional
        rec.working = True

    def remove(self, rec: Working) -> None:
        """Stop counting a record (its order is done, or never went out)."""
        if not rec.working:
            return
        acct = rec.acct
        inst = rec.inst
        acct.open_count -= 1
        inst.count[rec.buy] -= 1
        inst.open_qty[rec.buy] -= rec.c_leaves
        acct.open_notional[rec.req.currency] -= rec.c_notional
        rec.c_leaves = rec.c_notional = ZERO
        rec.working = False

    def recount(self, rec: Working) -> None:
        """The record's terms changed: move the sums by the difference."""
        if not rec.working:
            return
        leaves, notional = rec.counted()
        if leaves != rec.c_leaves:
            rec.inst.open_qty[rec.buy] += leaves - rec.c_leaves
            rec.c_leaves = leaves
        if notional != rec.c_notional:
            rec.acct.open_notional[rec.req.currency] += notional - rec.c_notional
            rec.c_notional = notional

    def fill(self, rec: Working, qty: Decimal, notional: Decimal) -> Decimal:
        """Apply a change in the order's fills (negative for a bust): the position moves by
        `qty` in the order's direction and the day's filled notional by `notional`
        (multiplier included, always counted as gross). Returns the new position."""
        inst = rec.inst
        inst.position += qty if rec.buy else -qty
        filled = rec.acct.filled_notional
        ccy = rec.req.currency
        filled[ccy] = filled.get(ccy, ZERO) + notional
        return inst.position

    def new_day(self) -> None:
        """Daily figures start again; positions and open orders carry over."""
        for acct in self.accounts.values():
            acct.filled_notional.clear()
            acct.messages = 0
            acct.executions = 0
