"""The pre-trade risk gate: every order request passes here before it gets a ClOrdID.

Theory of operation
-------------------
The router calls the gate between the gateway and the order book::

    gateway -> RiskGate.check_* -> OrderBook.prepare_* -> dialect -> session -> journal

The gate is synchronous and pure apart from logging: time is always an argument (`now`,
monotonic seconds), and it never touches a socket or a file.

**Requests.** `check_new`, `check_replace` and `check_cancel` answer:

* None: send it now. A new order or replace is *counted* from this moment (RTS 6
  Art. 15: counted as soon as accepted for sending).
* a `Denial`: refuse it; nothing was counted and nothing may be sent. The router turns it
  into the upstream `denied` event (`Denial.to_event`).
* a `throttle.Queue`: the session's throttle holds the request (mode `queue`); it is
  counted already, and `drain(session, now)` hands it back when a token is there (arm a
  timer for `next_release(session, now)`).
* `Withdrawn` (cancels only): the order the cancel names never left our queue; it is
  taken out and released, and no FIX message is needed.

The checks run in a fixed order, cheapest and most fundamental first, so the code a
strategy sees is stable: state unknown, kill switch, account, destination, security type,
symbol (restricted, then allowed), order type, market orders, TIF, quantity, id reuse,
reference price, price collar, order notional, duplicate content, open orders (account,
then symbol and side), position, gross daily notional, order efficiency ratio, and last
the throttle (so a refused order never spends a token). A replace is checked on its
*new* terms, each against the controls it touches (a new quantity against the maximum
quantity and notional, a new price against the collar and notional, a new TIF against
the list; the kill switch always), and the exposure checks see only its *increase*, so a
replace that shrinks an order always has room. A cancel is never refused: no kill switch
and no exposure check applies to it, only the throttle can delay it, and it jumps every
queued order.

**Events.** After the order book has applied anything to an order (an execution report,
a cancel reject, a failed send), the router calls `on_report(order, now, exec_type)`
with the book's order. The gate compares the order with its record and moves its sums by
the difference: a fill (or bust, or correction) moves the position and the day's filled
notional; a terminal status releases the open exposure; a confirmed replace takes its
new terms, a refused one keeps the old. Working from the book's numbers rather than from
each message keeps the gate right whatever the order of reports. Once the book says the
order is *finished* the record is dropped (the book retires the order at its next call);
a report that brings a retired order back is counted from what the book says had been
counted (`BookOrder.recalled`), so it moves the sums by its own difference only. A
request the book refused, or that could not be sent, is released with
`on_send_failed(strategy, id)` (`id` is a new order's id or a replace's `new_id`).

**Restart.** A new gate fails closed: every new order and replace is refused with
RISK_STATE_UNKNOWN until `rebuild(book)` has read the order book's orders, positions and
the totals of its retired orders, and `rebuild_complete()` is called. A reused id is
refused here while the gate knows the order (it is working); for the rest of the day the
order book refuses it (DUPLICATE_ID), and the router hands back what the gate counted
(`on_send_failed`).

**Kill switch, reload, reporting.** See `killswitch`, `config` and `denial`. Every
denial is logged on `fixrouter.risk` and counted in `denials` by code. Automatic
kill-switch engagements are queued in `engagements` for the router to act on (it reads
and clears the list after each call that can cause one: a denial or `on_report`). Every
engagement and release is handed to `kill_journal`, when one is set, before it is
reported (the engine's is `persist.KillSwitchLog`, a file, so a switch survives a restart).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from fixrouter.errors import FixRouterError
from fixrouter.events import ExecKind
from fixrouter.hashed_dict import hashed_dict
from fixrouter.oms.positions import instrument_key
from fixrouter.requests import CancelOrder, NewOrder, OrderRequest, ReplaceOrder, Side
from fixrouter.risk.checks import (
    check_account,
    check_destination,
    check_duplicate,
    check_efficiency_ratio,
    check_gross_notional,
    check_kill_switch,
    check_market_order,
    check_open_orders,
    check_order_notional,
    check_order_qty,
    check_order_type,
    check_position,
    check_price_collar,
    check_rate,
    check_reference,
    check_security_type,
    check_state,
    check_symbol,
    check_tif,
    efficiency_ratio,
)
from fixrouter.risk.config import RiskConfig
from fixrouter.risk.denial import Denial, DenialCode, DenialCounter
from fixrouter.risk.exposure import (
    ZERO,
    AccountExposure,
    BookOrder,
    Exposure,
    InstrumentExposure,
    OrderSource,
    PendingReplace,
    Working,
)
from fixrouter.risk.killswitch import Engagement, KillScope, KillSwitch, SlidingCount
from fixrouter.risk.limits import ONE, Limits, LimitTable
from fixrouter.risk.reference import ReferencePrices
from fixrouter.risk.throttle import ADMIT, Admit, Deny, MsgKind, Queue, Throttle

log = logging.getLogger("fixrouter.risk")

_BUY: Final = Side.BUY
_NEW: Final = MsgKind.NEW
_REPLACE: Final = MsgKind.REPLACE
_CANCEL: Final = MsgKind.CANCEL
_STATE_UNKNOWN: Final = check_state(False) or Denial(DenialCode.RISK_STATE_UNKNOWN, "")
_PASSED_CAP: Final = 100_000  # distinct static terms remembered; past it the memory restarts
_SWEEP_EVERY: Final = 1.0  # seconds between sweeps of the duplicate check's memory
_NOT_STRATEGY_FAULT: Final = frozenset({DenialCode.KILL_SWITCH, DenialCode.RISK_STATE_UNKNOWN})


class RiskError(FixRouterError):
    """The gate was used wrongly (rebuilt from a book that is not ready, opened before a
    rebuild, a kill switch without the name its scope needs)."""


@dataclass(frozen=True, slots=True)
class Withdrawn:
    """A cancel named an order still in the throttle's queue: it was taken out and never
    sent. Tell the strategy its order is cancelled; send nothing."""

    order: NewOrder


@dataclass(frozen=True, slots=True)
class KillSwitchEngaged:
    """A switch was engaged (by an admin, or automatically). `working` lists the
    (strategy, id) of every working order in scope: cancel them when `cancel_all`.
    `dropped` are queued requests in scope that were taken out of the throttle and will
    never be sent: answer each with a KILL_SWITCH denial."""

    engagement: Engagement
    cancel_all: bool
    working: tuple[tuple[str, str], ...]
    dropped: tuple[NewOrder | ReplaceOrder, ...]


class KillSwitchJournal(Protocol):
    """Where the gate records kill-switch engagements and releases so they survive a
    restart (`fixrouter.risk.persist.KillSwitchLog`). Each call is durable when it
    returns, and raises OSError when it cannot be made so."""

    def engaged(self, engagement: Engagement) -> None: ...

    def released(self, scope: KillScope, name: str) -> None: ...


class RiskGate:
    """See the module docstring. One per engine, shared by every session."""

    def __init__(self, config: RiskConfig) -> None:
        self._config = config
        self._table: LimitTable = config.limit_table()
        self._ready = False
        self._rebuilt = False
        # Records by strategy, then by order id (every id the order has had today): one
        # key object per order rather than a (strategy, id) tuple, which the collector
        # would also track. Each inner map is a `hashed_dict`.
        self._records: dict[str, dict[str, Working]] = {}
        self._aliases: dict[str, dict[str, Working]] = {}  # pending replace new_id -> rec
        self._queued: dict[tuple[str, str], str] = {}  # queued new orders -> session
        self._throttles: dict[str, Throttle[OrderRequest]] = {}
        # Static order terms that passed the list checks -> (limits, the account's and the
        # symbol's exposure). Emptied by a reload (new limits) and a rebuild (new sums).
        self._passed: dict[tuple[object, ...],
                           tuple[Limits, AccountExposure, InstrumentExposure]] = {}
        # The duplicate check: order content -> when last accepted (swept once a second).
        self._recent: dict[tuple[object, ...], float] = {}
        # The content `check_new` filed in `_recent` for the order it is checking, until
        # that order is accepted or refused (a refusal takes it out again).
        self._filing: tuple[object, ...] | None = None
        self._sweep_at = 0.0
        self._oer_warned: set[str] = set()
        self.exposure = Exposure()
        self.references = ReferencePrices()
        self._prices = self.references.prices
        self.kill_switch = KillSwitch()
        ks = config.kill_switch
        self._denial_window = SlidingCount(ks.max_denials, ks.window_seconds)
        self._reject_window = SlidingCount(ks.max_rejects, ks.window_seconds)
        self.denials = DenialCounter()
        self.warnings = DenialCounter()  # checks that let an order through with a warning
        self.engagements: list[KillSwitchEngaged] = []
        self.kill_journal: KillSwitchJournal | None = None
        """Records engagements and releases before they take effect outside the gate
        (None: in memory only, as in unit tests)."""

    # -- state ---------------------------------------------------------------------------

    @property
    def config(self) -> RiskConfig:
        return self._config

    @property
    def ready(self) -> bool:
        return self._ready

    def limits(self, account: str | None, strategy: str, symbol: str) -> Limits:
        """The limits in force for an order (for the admin status command and tests)."""
        return self._table.get(account or "", strategy, symbol)

    def working(self) -> Iterator[Working]:
        """The records of every working order the gate counts, once each (a replaced
        order is also filed under its earlier ids)."""
        return (rec for ids in self._records.values() for order_id, rec in ids.items()
                if rec.working and order_id == rec.id)

    def filed(self) -> int:
        """How many ids records are filed under (a working order's id, and the new id of
        a replace in flight): what the gate holds per order, for memory reports."""
        return sum(len(ids) for ids in self._records.values())

    def record(self, strategy: str, order_id: str) -> Working | None:
        """The gate's record of an order, by any id it has had today."""
        ids = self._records.get(strategy)
        rec = None if ids is None else ids.get(order_id)
        if rec is None:
            aliases = self._aliases.get(strategy)
            if aliases is not None:
                rec = aliases.get(order_id)
        return rec

    def _ids(self, strategy: str) -> dict[str, Working]:
        """The strategy's record map, created on first use."""
        ids = self._records.get(strategy)
        if ids is None:
            ids = self._records[strategy] = hashed_dict()
        return ids

    def _alias_ids(self, strategy: str) -> dict[str, Working]:
        """The strategy's map of pending replaces' new ids, created on first use."""
        aliases = self._aliases.get(strategy)
        if aliases is None:
            aliases = self._aliases[strategy] = hashed_dict()
        return aliases

    # -- new orders ------------------------------------------------------------------------

    def check_new(self, order: NewOrder, session: str, now: float) -> Denial | Queue | None:
        """Check a new order; on None (or a Queue) it is counted as open exposure."""
        if not self._ready:
            return self._deny(order.strategy, order.id, session, _STATE_UNKNOWN, now)
        strategy = order.strategy
        account = order.account or ""
        symbol = order.symbol
        kill = self.kill_switch
        if kill.active and (kill.engine is not None or account in kill.accounts
                            or strategy in kill.strategies):
            denial = check_kill_switch(kill.blocking(account, strategy))
            if denial is not None:
                return self._deny(strategy, order.id, session, denial, now)
        # The list checks depend only on these terms and the limits, so a combination
        # that passed once passes until a reload; finding it also finds the limits and
        # the account's and symbol's exposure (`_passed`).
        terms = (order.account, strategy, symbol, order.exchange, order.sec_type, order.type,
                 order.tif)
        found = self._passed.get(terms)
        if found is None:
            lim = self._table.get(account, strategy, symbol)
            denial = (
                check_account(order.account, lim.allowed_accounts)
                or check_destination(order.exchange, lim.allowed_destinations)
                or check_security_type(order.sec_type, lim.allowed_security_types)
                or check_symbol(symbol, lim.allowed_symbols, lim.restricted_symbols)
                or check_order_type(order.type, lim.allowed_order_types)
                or check_market_order(order.type, lim.allow_market_orders)
                or check_tif(order.tif, lim.allowed_tifs)
            )
            if denial is not None:
                return self._deny(strategy, order.id, session, denial, now)
            if len(self._passed) >= _PASSED_CAP:
                self._passed.clear()
            found = self._passed[terms] = (lim, self.exposure.account(account),
                                           self.exposure.instrument(account, symbol))
        lim, acct, inst = found
        qty = order.qty
        denial = check_order_qty(qty, lim.max_order_qty)
        if denial is not None:
            return self._deny(strategy, order.id, session, denial, now)
        oid = order.id
        orders = self._records.get(strategy)
        if orders is None:
            orders = self._records[strategy] = hashed_dict()
        aliases = self._aliases.get(strategy)
        buy = 1 if order.side is _BUY else 0
        # The record is filed by the same look-up that finds the id free: with every
        # working order in `_records` that look-up is a cache miss, and a separate insert
        # after the checks would be a second probe. Until `exp.add` it counts toward
        # nothing (`working` is False), and every later denial, or an exception, takes it
        # out again (`_unfile_new`), so a denied order leaves no trace.
        rec = Working(order, acct, inst, buy, lim.multiplier, ZERO, qty, ZERO)
        if (aliases and oid in aliases) or orders.setdefault(oid, rec) is not rec:
            return self._deny(strategy, oid, session, _id_in_use(oid), now)
        try:
            denial, verdict = self._check_filed(order, session, now, lim, acct, inst, rec)
        except BaseException:
            self._unfile_new(orders, oid)
            raise
        if denial is not None:
            self._unfile_new(orders, oid)
            return self._deny(strategy, oid, session, denial, now)
        if verdict is ADMIT:
            return None
        self._queued[(strategy, oid)] = session
        return verdict if isinstance(verdict, Queue) else None

    def _check_filed(self, order: NewOrder, session: str, now: float, lim: Limits,
                     acct: AccountExposure, inst: InstrumentExposure, rec: Working,
                     ) -> tuple[Denial | None, Admit | Queue | Deny | None]:
        """The checks of `check_new` after its record is filed, and on success the
        bookkeeping of an accepted order. Returns (a denial, None) or (None, the
        throttle's verdict); on a denial the caller takes out what was filed for the
        order (`_unfile_new`)."""
        strategy = order.strategy
        account = acct.account
        symbol = order.symbol
        qty = order.qty
        derivative = order.derivative
        if derivative is None:
            instrument = symbol
            multiplier = lim.multiplier
        else:  # a derivative: its own instrument (the contract), not the underlying's
            instrument = instrument_key(symbol, order.sec_type, derivative)
            multiplier = derivative.multiplier or lim.multiplier
            inst = rec.inst = self.exposure.instrument(account, instrument)
            rec.multiplier = multiplier
        ref = self._prices.get(instrument)
        price = order.price
        stop = order.stop_price
        if ref is None:
            denial = check_reference(None, lim.missing_reference, instrument)
            if denial is not None:
                return denial, None
            self._warn_no_reference(strategy, order.id, instrument)
        else:
            fraction = lim.collar_fraction
            band = lim.collar_band
            if fraction is not None or band is not None:
                denial = (
                    (None if price is None else check_price_collar(price, ref, fraction, band))
                    or (None if stop is None else check_price_collar(stop, ref, fraction, band))
                )
                if denial is not None:
                    return denial, None
        # Limit orders are worth their limit, stops about their trigger, market orders
        # about the last trade.
        px = price if price is not None else stop if stop is not None else ref
        if px is None:
            unit = notional = ZERO  # unknown (missing_reference = warn): counted as 0
        else:
            unit = px if multiplier is ONE else px * multiplier
            notional = qty * unit
            denial = check_order_notional(notional, lim.max_order_notional)
            if denial is not None:
                return denial, None
        window = lim.duplicate_window
        content: tuple[object, ...] | None = None
        if window:
            # Numbers as their text: hashing a fresh Decimal like 190.25 costs 0.3 µs
            # (a modular inverse), its str() 0.04 µs. A resent order repeats the text.
            content = (strategy, account, instrument, order.side, order.type, str(qty),
                       str(price), None if stop is None else str(stop), order.tif,
                       order.exchange)
            # An expired entry denies nothing (the window test below), so old entries
            # are swept only once a second, in one pass.
            if now >= self._sweep_at:
                self._sweep_recent(now)
            # One probe looks the content up and, when it is new (nearly always), files
            # it with this order's time; a later denial takes it out again.
            recent = self._recent
            size = len(recent)
            seen = recent.setdefault(content, now)
            if len(recent) != size:
                self._filing = content
                content = None  # filed: nothing more to do on acceptance
            else:
                denial = check_duplicate(seen, now, window)
                if denial is not None:
                    return denial, None
        exp = self.exposure
        ccy = order.currency
        buy = rec.buy
        # A control that is off is skipped before its figures are gathered: they cost two
        # dict look-ups, and a sell's position is negated into a new Decimal.
        max_position = lim.max_position
        max_gross = lim.max_gross_daily_notional
        denial = (
            check_open_orders(acct.open_count, lim.max_open_orders, inst.count[buy],
                              lim.max_open_orders_symbol_side)
            or (None if max_position is None else check_position(
                inst.position if buy else -inst.position, inst.open_qty[buy], qty,
                max_position))
            or (None if max_gross is None else check_gross_notional(
                acct.filled_notional.get(ccy, ZERO), acct.open_notional.get(ccy, ZERO),
                notional, max_gross))
        )
        if denial is not None:
            return denial, None
        messages = acct.messages + 1
        denial = check_efficiency_ratio(messages, acct.executions, lim.order_efficiency_block,
                                        lim.order_efficiency_min_messages)
        if denial is not None:
            return denial, None
        warn = lim.order_efficiency_warn
        if (warn is not None and messages > warn * (acct.executions + 1)) or self._oer_warned:
            self._ratio_warning(acct, messages, lim)
        throttle = self._throttles.get(session) or self._throttle(session)
        verdict = throttle.admit(_NEW, order, now)
        if verdict is not ADMIT and isinstance(verdict, Deny):
            return check_rate(verdict.reason, verdict.limit, verdict.value), None
        # Accepted for sending: counted from here.
        if content is not None:
            self._recent[content] = now  # seen before, outside the window: now is latest
        rec.unit = unit
        rec.c_notional = notional
        exp.add(rec)
        acct.messages = messages
        self._filing = None
        return None, verdict

    def _unfile_new(self, orders: dict[str, Working], order_id: str) -> None:
        """Take out what `check_new` filed for an order it then refused: its record (in
        its strategy's map `orders`) and, if this order filed it, its duplicate-check
        content."""
        del orders[order_id]
        filing = self._filing
        if filing is not None:
            self._filing = None
            del self._recent[filing]

    def _sweep_recent(self, now: float) -> None:
        """Forget accepted contents older than the longest duplicate window in force."""
        horizon = now - self._config.max_duplicate_window
        self._recent = {key: at for key, at in self._recent.items() if at > horizon}
        self._sweep_at = now + _SWEEP_EVERY

    def _ratio(self, acct: AccountExposure, messages: int, lim: Limits) -> Denial | None:
        """The order efficiency ratio with this message counted: a denial past the block
        level, else a warning once per crossing of the warning level."""
        denial = check_efficiency_ratio(messages, acct.executions, lim.order_efficiency_block,
                                        lim.order_efficiency_min_messages)
        if denial is None:
            self._ratio_warning(acct, messages, lim)
        return denial

    def _ratio_warning(self, acct: AccountExposure, messages: int, lim: Limits) -> None:
        executions = acct.executions
        warn = lim.order_efficiency_warn
        account = acct.account
        if warn is not None and messages >= lim.order_efficiency_min_messages \
                and messages > warn * (executions + 1):
            if account not in self._oer_warned:
                self._oer_warned.add(account)
                self.warnings.inc(DenialCode.ORDER_EFFICIENCY_RATIO)
                log.warning("order efficiency ratio of account %r is %.2f (%d messages, %d "
                            "executions today), above the warning level %g", account,
                            efficiency_ratio(messages, executions), messages, executions, warn)
        elif account in self._oer_warned:
            self._oer_warned.discard(account)  # back under: warn again on the next crossing

    def _throttle(self, session: str) -> Throttle[OrderRequest]:
        throttle = self._throttles.get(session)
        if throttle is None:
            throttle = self._throttles[session] = Throttle(self._config.throttle_for(session))
        return throttle

    def _deny(self, strategy: str, order_id: str, session: str, denial: Denial,
              now: float) -> Denial:
        self.denials.inc(denial.code)
        log.warning("denied %s/%s on session %s: %s: %s (limit %s, value %s)", strategy,
                    order_id, session, denial.code.value, denial.message, denial.limit,
                    denial.value)
        if strategy and denial.code not in _NOT_STRATEGY_FAULT:
            count = self._denial_window.hit(strategy, now)
            if count:
                self._auto_engage(strategy, (
                    f"{count} risk denials within {self._denial_window.window:g} s "
                    f"(more than max_denials = {self._denial_window.limit})"), now)
        return denial

    def _warn_no_reference(self, strategy: str, order_id: str, instrument: str) -> None:
        self.warnings.inc(DenialCode.NO_REFERENCE_PRICE)
        log.warning("no reference price for %s: %s/%s passes without the price collar or "
                    "a notional for market orders (missing_reference = warn)", instrument,
                    strategy, order_id)

    # -- replaces --------------------------------------------------------------------------

    def check_replace(self, req: ReplaceOrder, session: str, now: float) -> Denial | Queue | None:
        """Check a replace on the terms it changes and on the increase in exposure it makes
        (see the module docstring).

        None without counting anything when the gate has no working order for `req.id`,
        or the order has a replace pending or is still queued: the order book answers
        those (UNKNOWN_ORDER, ORDER_NOT_WORKING).
        """
        strategy = req.strategy
        if not self._ready:
            return self._deny(strategy, req.new_id, session, _STATE_UNKNOWN, now)
        orders = self._records.get(strategy)
        if orders is None:
            return None
        rec = orders.get(req.id)
        if rec is None or not rec.working or rec.pending is not None \
                or (self._queued and (strategy, req.id) in self._queued):
            return None
        new_id = req.new_id
        aliases = self._aliases.get(strategy)
        if new_id in orders or (aliases is not None and new_id in aliases):
            return self._deny(strategy, new_id, session, _id_in_use(new_id), now)
        acct = rec.acct
        inst = rec.inst
        lim = self._table.get(acct.account, strategy, rec.req.symbol)
        kill = self.kill_switch
        # Each per-order check runs on what the replace changes: the rest was checked when
        # it was set, and a tighter limit since then must not stop a harmless change (a
        # smaller quantity on an order whose price the market has moved away from).
        terms = rec.terms
        qty = terms.qty if req.qty is None else req.qty
        tif = terms.tif if req.tif is None else req.tif
        denial = (
            (check_kill_switch(kill.blocking(acct.account, strategy)) if kill.active else None)
            or (None if req.tif is None else check_tif(tif, lim.allowed_tifs))
            or (None if req.qty is None else check_order_qty(qty, lim.max_order_qty))
        )
        if denial is not None:
            return self._deny(strategy, req.new_id, session, denial, now)
        price = terms.price if req.price is None else req.price
        stop = terms.stop_price if req.stop_price is None else req.stop_price
        unit = rec.unit
        if req.price is not None or req.stop_price is not None:
            ref = self._prices.get(inst.instrument)
            if ref is None:
                denial = check_reference(None, lim.missing_reference, inst.instrument)
                if denial is not None:
                    return self._deny(strategy, req.new_id, session, denial, now)
                self._warn_no_reference(strategy, req.new_id, inst.instrument)
            else:
                fraction, band = lim.collar_fraction, lim.collar_band
                new_price, new_stop = req.price, req.stop_price
                denial = (
                    (None if new_price is None
                     else check_price_collar(new_price, ref, fraction, band))
                    or (None if new_stop is None
                        else check_price_collar(new_stop, ref, fraction, band))
                )
                if denial is not None:
                    return self._deny(strategy, req.new_id, session, denial, now)
            px = price if price is not None else stop
            if px is not None:
                unit = px * rec.multiplier
        if unit and (req.qty is not None or unit != rec.unit):
            denial = check_order_notional(qty * unit, lim.max_order_notional)
            if denial is not None:
                return self._deny(strategy, req.new_id, session, denial, now)
        # What the order would count while the replace is pending, against what it counts
        # now: only an increase needs room.
        held = qty if qty > terms.qty else terms.qty
        leaves = held - rec.cum
        if leaves < ZERO:
            leaves = ZERO
        more_qty = leaves - rec.c_leaves
        more_notional = leaves * (unit if unit > rec.unit else rec.unit) - rec.c_notional
        ccy = rec.req.currency
        denial = (
            (check_position(inst.position if rec.buy else -inst.position,
                            inst.open_qty[rec.buy], more_qty, lim.max_position)
             if more_qty > ZERO else None)
            or (check_gross_notional(acct.filled_notional.get(ccy, ZERO),
                                     acct.open_notional.get(ccy, ZERO), more_notional,
                                     lim.max_gross_daily_notional)
                if more_notional > ZERO else None)
        )
        if denial is not None:
            return self._deny(strategy, req.new_id, session, denial, now)
        messages = acct.messages + 1
        denial = self._ratio(acct, messages, lim)
        if denial is not None:
            return self._deny(strategy, req.new_id, session, denial, now)
        verdict = self._throttle(session).admit(_REPLACE, req, now)
        if isinstance(verdict, Deny):
            return self._deny(strategy, req.new_id, session,
                              check_rate(verdict.reason, verdict.limit, verdict.value), now)
        rec.pending = PendingReplace(new_id, qty, price, stop, tif, unit)
        self._alias_ids(strategy)[new_id] = rec
        self.exposure.recount(rec)
        acct.messages = messages
        return verdict if isinstance(verdict, Queue) else None

    # -- cancels ---------------------------------------------------------------------------

    def check_cancel(self, req: CancelOrder, session: str, now: float) -> Withdrawn | Queue | None:
        """Never a denial: no kill switch or exposure check applies to a cancel. Only the
        throttle can hold it (`Queue`), and it jumps every queued order."""
        strategy = req.strategy
        order_id = req.id
        if self._queued:
            queued_on = self._queued.get((strategy, order_id))
            if queued_on is not None:
                queued = self._records[strategy][order_id]
                order = queued.req
                self._throttles[queued_on].remove(lambda item: item is order)
                self._forget_new(queued)
                log.info("cancel of %s/%s: the order was still queued, withdrawn unsent",
                         strategy, order_id)
                return Withdrawn(order)
        rec = self.record(strategy, order_id)
        if rec is not None:
            rec.acct.messages += 1
        verdict = (self._throttles.get(session) or self._throttle(session)).admit(
            _CANCEL, req, now)
        return verdict if isinstance(verdict, Queue) else None

    # -- the throttle's queue ----------------------------------------------------------------

    def drain(self, session: str, now: float) -> list[OrderRequest]:
        """Requests held by the session's throttle that may go now (cancels first), already
        checked and counted: hand them to the order book and send them."""
        throttle = self._throttles.get(session)
        if throttle is None:
            return []
        items = throttle.drain(now)
        if self._queued:
            for item in items:
                if type(item) is NewOrder:
                    self._queued.pop((item.strategy, item.id), None)
        return items

    def next_release(self, session: str, now: float) -> float | None:
        """When `drain(session, ...)` next has something (None: nothing is held)."""
        throttle = self._throttles.get(session)
        return None if throttle is None else throttle.next_release(now)

    def queue_depth(self, session: str) -> int:
        """Requests the session's throttle holds now (for the metrics exporter)."""
        throttle = self._throttles.get(session)
        return 0 if throttle is None else throttle.queued

    # -- outcomes ----------------------------------------------------------------------------

    def on_send_failed(self, strategy: str, request_id: str) -> None:
        """A request the gate passed was not sent after all (the order book refused it, or
        the session could not take it): stop counting it. `request_id` is a new order's
        id or a replace's `new_id`."""
        aliases = self._aliases.get(strategy)
        rec = None if aliases is None else aliases.pop(request_id, None)
        if rec is not None:
            pending = rec.pending
            if pending is not None and pending.new_id == request_id:
                rec.pending = None
                self.exposure.recount(rec)
            _uncount_message(rec.acct)
            return
        orders = self._records.get(strategy)
        rec = None if orders is None else orders.get(request_id)
        if rec is not None and rec.id == request_id and rec.cum == 0:
            self._forget_new(rec)

    def _forget_new(self, rec: Working) -> None:
        strategy = rec.req.strategy
        if self._queued:
            self._queued.pop((strategy, rec.id), None)
        self.exposure.remove(rec)
        del self._records[strategy][rec.id]
        _uncount_message(rec.acct)

    def on_report(self, order: BookOrder, now: float, exec_type: ExecKind | None = None) -> None:
        """The order book changed `order` (an execution report, a cancel reject, a failed
        send): bring the gate's record of it up to date. `exec_type` is the report's, if it
        was an execution report; REJECTED counts toward the broker-reject trigger."""
        strategy = order.strategy
        rec = self.record(strategy, order.id)
        if rec is None and (order.is_working or order.cum_qty):
            rec = self._adopt(order, rebuilt=False, counted=order.recalled)
        if rec is not None:
            self._sync(rec, order, now)
            if not rec.working and order.finished:
                self._drop(rec)
        if exec_type is ExecKind.REJECTED and strategy:
            count = self._reject_window.hit(strategy, now)
            if count:
                self._auto_engage(strategy, (
                    f"{count} broker rejects within {self._reject_window.window:g} s "
                    f"(more than max_rejects = {self._reject_window.limit})"), now)

    def _sync(self, rec: Working, order: BookOrder, now: float) -> None:
        exp = self.exposure
        cum = order.cum_qty
        filled = order.notional
        # Compared before subtracted: most reports (an acknowledgement, a cancel) carry no
        # new fill, and a comparison makes no Decimal where a subtraction makes one.
        if cum != rec.cum or filled != rec.filled:
            more_qty = cum - rec.cum
            more_notional = filled - rec.filled
            rec.cum = cum
            rec.filled = filled
            position = exp.fill(rec, more_qty, more_notional * rec.multiplier)
            if more_qty > ZERO:
                rec.acct.executions += 1
                if more_notional > ZERO:
                    self.references.prices[rec.inst.instrument] = more_notional / more_qty
            self._check_breach(rec, position, now)
        pending = rec.pending
        if pending is not None and order.pending_replace is None:
            strategy = rec.req.strategy
            aliases = self._aliases.get(strategy)
            if aliases is not None:
                aliases.pop(pending.new_id, None)
            rec.pending = None
            if order.id == pending.new_id:  # confirmed: the order goes by its new id
                if rec.old_ids is None:
                    rec.old_ids = [rec.id]
                else:
                    rec.old_ids.append(rec.id)
                rec.id = pending.new_id
                self._ids(strategy)[pending.new_id] = rec
                rec.unit = pending.unit
        rec.terms = order
        if order.is_working:
            if rec.working:
                exp.recount(rec)
            else:  # working again (a bust on a filled order)
                rec.c_leaves, rec.c_notional = rec.counted()
                exp.add(rec)
        elif rec.working:
            exp.remove(rec)

    def _check_breach(self, rec: Working, position: Decimal, now: float) -> None:
        strategy = rec.req.strategy
        if not strategy or not self._config.kill_switch.on_position_breach:
            return
        limit = self._table.get(rec.acct.account, strategy, rec.req.symbol).max_position
        if limit is not None and abs(position) > limit:
            self._auto_engage(strategy, (
                f"a fill took the position of account {rec.acct.account!r} in "
                f"{rec.inst.instrument} to {position}, past max_position {limit}"), now)

    def _drop(self, rec: Working) -> None:
        """Forget a finished order's record, under every id it had."""
        strategy = rec.req.strategy
        orders = self._records.get(strategy)
        if orders is not None:
            old_ids = rec.old_ids
            if orders.get(rec.id) is rec:
                del orders[rec.id]
            if old_ids is not None:
                for order_id in old_ids:
                    if orders.get(order_id) is rec:
                        del orders[order_id]
        pending = rec.pending
        if pending is not None:
            aliases = self._aliases.get(strategy)
            if aliases is not None:
                aliases.pop(pending.new_id, None)

    def _adopt(self, order: BookOrder, rebuilt: bool,
               counted: tuple[Decimal, Decimal] | None = None) -> Working:
        """A record for an order the gate did not let through (found at a rebuild, or
        adopted by the book from an unsolicited report). At a rebuild its fills so far are
        already in the book's positions; otherwise `_sync` applies them, beyond what was
        `counted` already (an order the book read back after retiring it)."""
        req = order.req
        account = req.account or ""
        instrument = instrument_key(req.symbol, req.sec_type, req.derivative)
        lim = self._table.get(account, order.strategy, req.symbol)
        derivative = req.derivative
        multiplier = lim.multiplier if derivative is None or derivative.multiplier is None \
            else derivative.multiplier
        ref = self.references.prices.get(instrument)
        px = order.price if order.price is not None else \
            order.stop_price if order.stop_price is not None else ref
        unit = ZERO if px is None else px * multiplier
        exp = self.exposure
        if req.strategy != order.strategy:
            req = req._replace(strategy=order.strategy)
        rec = Working(req, exp.account(account),
                      exp.instrument(account, instrument), 1 if req.side is _BUY else 0,
                      multiplier, unit, ZERO, ZERO)
        rec.id = order.id
        rec.terms = order
        if rebuilt:
            rec.cum = order.cum_qty
            rec.filled = order.notional
        elif counted is not None:
            rec.cum, rec.filled = counted
        pr = order.pending_replace
        if pr is not None and order.is_working:
            ppx = pr.price if pr.price is not None else \
                pr.stop_price if pr.stop_price is not None else ref
            rec.pending = PendingReplace(pr.new_id, pr.qty, pr.price, pr.stop_price, pr.tif,
                                         unit if ppx is None else ppx * multiplier)
            self._alias_ids(order.strategy)[pr.new_id] = rec
        self._ids(order.strategy)[order.id] = rec
        if order.is_working:
            rec.c_leaves, rec.c_notional = rec.counted()
            exp.add(rec)
        if counted is not None:
            log.info("risk: order %s/%s is back from retirement for a late report",
                     order.strategy, order.id)
        elif not rebuilt:
            log.warning("risk: counting order %s/%s that the gate did not pass (adopted by "
                        "the order book)", order.strategy, order.id)
        return rec

    # -- restart ---------------------------------------------------------------------------

    def rebuild(self, book: OrderSource) -> None:
        """Rebuild every sum from the order book (after a restart, once `book.ready`).
        The gate stays closed until `rebuild_complete()`.

        Exact: open orders, their pending replaces, positions, filled notional (the book's
        live orders and the totals of its retired ones). Estimated (the book keeps no
        message counts): the day's messages as the number of orders, executions as the
        number of orders with fills. Reference prices are each filled instrument's average
        price on its latest order; set exact ones by admin command.

        Raises RiskError if the book is not ready or requests are still queued.
        """
        if not book.ready:
            raise RiskError("the order book is not rebuilt yet; rebuild the gate after it")
        if any(t.queued for t in self._throttles.values()):
            raise RiskError("requests are queued in a throttle; rebuild only at start-up")
        self._ready = False
        self._records.clear()
        self._aliases.clear()
        self._queued.clear()
        self._recent.clear()
        self.exposure = exp = Exposure()
        self._passed.clear()
        references = self.references.prices
        for total in book.retired_totals():
            acct = exp.account(total.account)
            acct.messages += total.orders
            if total.filled:
                multiplier = total.multiplier
                if multiplier is None:
                    multiplier = self._table.get(total.account, total.strategy,
                                                 total.symbol).multiplier
                filled = acct.filled_notional
                filled[total.currency] = filled.get(total.currency, ZERO) + \
                    total.notional * multiplier
                acct.executions += total.filled
        for instrument, px in book.last_prices().items():
            if px > 0:
                references[instrument] = px
        for order in book.orders():
            rec = self._adopt(order, rebuilt=True)
            acct = rec.acct
            acct.messages += 1
            if order.cum_qty:
                filled = acct.filled_notional
                ccy = rec.req.currency
                filled[ccy] = filled.get(ccy, ZERO) + order.notional * rec.multiplier
                acct.executions += 1
                if order.notional > 0:
                    self.references.prices[rec.inst.instrument] = order.notional / order.cum_qty
        for pos in book.positions():
            if pos.qty:
                exp.instrument(pos.account, pos.instrument).position = pos.qty
        self._rebuilt = True
        log.info("risk state rebuilt: %d working orders", sum(1 for _ in self.working()))

    def rebuild_complete(self) -> None:
        """Open the gate. Raises RiskError if `rebuild` has not run."""
        if not self._rebuilt:
            raise RiskError("rebuild(book) must run before the gate opens")
        self._ready = True
        log.info("risk gate open")

    # -- kill switch -----------------------------------------------------------------------

    def engage(self, scope: KillScope, name: str = "", *, reason: str = "admin command",
               cancel_all: bool = False, now: float = 0.0,
               automatic: bool = False) -> KillSwitchEngaged:
        """Engage a kill switch by hand (or, `automatic`, for a fault the engine found on
        its own). `name` is the account or strategy ("" for the engine). Queued requests
        in scope are dropped (see `KillSwitchEngaged`). Recorded in `kill_journal` before
        this returns.

        Raises RiskError for a missing or extra name.
        """
        if (scope is KillScope.ENGINE) != (not name):
            raise RiskError(f"a {scope.value} kill switch needs "
                            f"{'no name' if scope is KillScope.ENGINE else 'a name'}")
        engagement = self.kill_switch.engage(scope, name, reason, now, automatic)
        self._record_engaged(engagement)
        log.error("kill switch engaged for %s %s: %s (cancel all: %s)", scope.value, name,
                  reason, cancel_all)
        return self._engaged(engagement, cancel_all)

    def release(self, scope: KillScope, name: str = "") -> Engagement | None:
        """Release a kill switch (the only way one is ever released). The release is
        recorded in `kill_journal` first; RiskError if it cannot be, and the switch stays
        engaged (a release that is not durable would undo itself at the next start)."""
        journal = self.kill_journal
        if journal is not None and self._is_engaged(scope, name):
            try:
                journal.released(scope, name)
            except OSError as exc:
                log.error("kill switch for %s %s NOT released: the release cannot be "
                          "recorded: %s", scope.value, name, exc)
                raise RiskError(f"the release cannot be recorded ({exc}); the switch stays "
                                "engaged") from exc
        found = self.kill_switch.release(scope, name)
        if found is not None:
            # `since` is on the monotonic clock, meaningless in a log: say why it was on.
            log.warning("kill switch released for %s (it was engaged for: %s)",
                        f"{scope.value} {name}".rstrip(), found.reason)
            if scope is KillScope.STRATEGY:
                self._denial_window.forget(name)
                self._reject_window.forget(name)
        return found

    def _auto_engage(self, strategy: str, reason: str, now: float) -> None:
        if strategy in self.kill_switch.strategies:
            return
        engagement = self.kill_switch.engage(KillScope.STRATEGY, strategy, reason, now, True)
        self._record_engaged(engagement)
        cancel_all = self._config.kill_switch.cancel_all
        log.error("kill switch engaged automatically for strategy %s: %s (cancel all: %s)",
                  strategy, reason, cancel_all)
        self.engagements.append(self._engaged(engagement, cancel_all))

    def _is_engaged(self, scope: KillScope, name: str) -> bool:
        kill = self.kill_switch
        if scope is KillScope.ENGINE:
            return kill.engine is not None
        return name in (kill.accounts if scope is KillScope.ACCOUNT else kill.strategies)

    def _record_engaged(self, engagement: Engagement) -> None:
        """Make the engagement durable before anyone hears of it. If it cannot be, the
        switch stays engaged anyway: blocking is the safe side, and refusing would leave
        a runaway strategy running."""
        journal = self.kill_journal
        if journal is None:
            return
        try:
            journal.engaged(engagement)
        except OSError as exc:
            log.critical("kill switch for %s %s is engaged but could not be recorded (%s): "
                         "it will NOT survive a restart", engagement.scope.value,
                         engagement.name, exc)

    def _engaged(self, engagement: Engagement, cancel_all: bool) -> KillSwitchEngaged:
        scope, name = engagement.scope, engagement.name

        def covers(rec: Working) -> bool:
            if scope is KillScope.ENGINE:
                return True
            return (rec.acct.account if scope is KillScope.ACCOUNT else rec.req.strategy) \
                == name

        def queued_in_scope(item: OrderRequest) -> bool:
            if type(item) is CancelOrder:
                return False
            orders = self._records.get(item.strategy)
            rec = None if orders is None else orders.get(item.id)
            return rec is not None and covers(rec)

        dropped: list[NewOrder | ReplaceOrder] = []
        for throttle in self._throttles.values():
            for item in throttle.remove(queued_in_scope):
                if isinstance(item, NewOrder):
                    self._forget_new(self._records[item.strategy][item.id])
                    dropped.append(item)
                elif isinstance(item, ReplaceOrder):
                    self.on_send_failed(item.strategy, item.new_id)
                    dropped.append(item)
        working = tuple((rec.req.strategy, rec.id) for rec in self.working() if covers(rec))
        return KillSwitchEngaged(engagement, cancel_all, working, tuple(dropped))

    # -- admin -----------------------------------------------------------------------------

    def set_reference(self, instrument: str, price: Decimal) -> None:
        """Set the reference price of an instrument (the symbol, for stocks). It stands
        until the next fill in it. Raises ValueError for a price not above 0."""
        self.references.set(instrument, price)
        log.info("reference price of %s set to %s by admin", instrument, price)

    def reload(self, config: RiskConfig | Mapping[str, object]) -> RiskConfig:
        """Swap in new limits, throttle and trigger settings at once; exposure, positions,
        kill switches and queued requests are kept. A `[risk]` table is read first: if it
        is invalid, ConfigError is raised and the old config stays in force, whole."""
        new = config if isinstance(config, RiskConfig) else RiskConfig.from_toml_table(config)
        table = new.limit_table()
        throttles = {name: new.throttle_for(name) for name in self._throttles}
        ks = new.kill_switch
        # Nothing below raises: the swap is all or nothing.
        self._config = new
        self._table = table
        self._passed = {}
        for name, settings in throttles.items():
            self._throttles[name].retune(settings)
        self._denial_window.retune(ks.max_denials, ks.window_seconds)
        self._reject_window.retune(ks.max_rejects, ks.window_seconds)
        self._oer_warned.clear()
        log.warning("risk limits reloaded")
        return new

    def new_day(self) -> None:
        """Start a trading day: daily notional, message and execution counts and the
        duplicate memory start again, and done orders are forgotten. Positions, working
        orders and kill switches carry over."""
        self.exposure.new_day()
        self._recent.clear()
        self._oer_warned.clear()
        kept: dict[str, dict[str, Working]] = {}
        for strategy, ids in self._records.items():
            working = hashed_dict()
            for order_id, rec in ids.items():
                if rec.working:
                    working[order_id] = rec
            if working:
                kept[strategy] = working
        self._records = kept


def _uncount_message(acct: AccountExposure) -> None:
    if acct.messages > 0:
        acct.messages -= 1


def _id_in_use(order_id: str) -> Denial:
    return Denial(DenialCode.DUPLICATE_ORDER, f"id {order_id!r} is already in use today",
                  None, order_id)

