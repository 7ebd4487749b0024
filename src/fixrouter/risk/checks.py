"""The pre-trade checks, one small pure function per control.

Each function takes the figures it compares (never the gate, never a clock) and returns
a `Denial` or None. They hold no state and do no I/O, so each is tested on its own at,
just under and just over its limit, and the gate is only the code that gathers the
figures and calls them in order (`fixrouter.risk.gate`).

Conventions, the same for every check:

* a limit is an inclusive maximum: a value *equal* to the limit passes, one unit more
  is denied; `None` for a limit means the control is off;
* a window ("within N ms", "in M seconds") is half-open: an event exactly N ms ago is
  outside it;
* `limit` and `value` in a denial are plain decimal strings or counts, so a strategy
  (or a regulator reading the log) sees exactly the figures that were compared;
* messages are built only on a denial, off the accepting path.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from decimal import Decimal

from fixrouter.requests import OrderType, SecurityType, TimeInForce
from fixrouter.risk.denial import Denial, DenialCode
from fixrouter.risk.exposure import ZERO
from fixrouter.risk.killswitch import Engagement
from fixrouter.risk.limits import MARKET_TYPES, MissingReference


def _s(value: object) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _not_allowed(code: DenialCode, what: str, value: str, allowed: Iterable[str]) -> Denial:
    """The denial of an allow-list check: the list itself is the `limit`."""
    return Denial(code, f"{what} {value} is not allowed", ",".join(sorted(allowed)), value)


def check_state(ready: bool) -> Denial | None:
    if ready:
        return None
    return Denial(
        DenialCode.RISK_STATE_UNKNOWN,
        "risk state is being rebuilt after a restart; new orders are refused until it is",
    )


def check_kill_switch(engagement: Engagement | None) -> Denial | None:
    if engagement is None:
        return None
    where = engagement.scope.value if not engagement.name else (
        f"{engagement.scope.value} {engagement.name}"
    )
    return Denial(
        DenialCode.KILL_SWITCH,
        f"kill switch engaged for {where}: {engagement.reason}",
        None,
        where,
    )


def check_account(account: str | None, allowed: Collection[str] | None) -> Denial | None:
    """An order with no account (the session's default) fails any allow-list: the gate
    cannot know which account IB will book it to."""
    if allowed is None or (account is not None and account in allowed):
        return None
    shown = "(none given)" if account is None else account
    return _not_allowed(DenialCode.ACCOUNT_NOT_ALLOWED, "account", shown, allowed)


def check_destination(exchange: str, allowed: Collection[str] | None) -> Denial | None:
    if allowed is None or exchange in allowed:
        return None
    return _not_allowed(DenialCode.DESTINATION_NOT_ALLOWED, "destination", exchange, allowed)


def check_security_type(
    sec_type: SecurityType, allowed: Collection[SecurityType] | None
) -> Denial | None:
    if allowed is None or sec_type in allowed:
        return None
    return _not_allowed(DenialCode.SECURITY_TYPE_NOT_ALLOWED, "security type", sec_type.value,
                        (t.value for t in allowed))


def check_symbol(
    symbol: str, allowed: Collection[str] | None, restricted: Collection[str]
) -> Denial | None:
    """Restricted beats allowed: a symbol on both lists is refused."""
    if symbol in restricted:
        return Denial(DenialCode.RESTRICTED_SYMBOL, f"{symbol} is restricted", None, symbol)
    if allowed is None or symbol in allowed:
        return None
    return Denial(
        DenialCode.SYMBOL_NOT_ALLOWED, f"{symbol} is not on the allowed list", None, symbol
    )


def check_order_type(
    order_type: OrderType, allowed: Collection[OrderType] | None
) -> Denial | None:
    if allowed is None or order_type in allowed:
        return None
    return _not_allowed(DenialCode.ORDER_TYPE_NOT_ALLOWED, "order type", order_type.value,
                        (t.value for t in allowed))


def check_market_order(order_type: OrderType, allowed: bool) -> Denial | None:
    """Market, market-on-close and plain stop orders (`limits.MARKET_TYPES`)."""
    if allowed or order_type not in MARKET_TYPES:
        return None
    return Denial(
        DenialCode.MARKET_ORDERS_NOT_ALLOWED,
        f"{order_type.value} orders are not allowed",
        None,
        order_type.value,
    )


def check_tif(tif: TimeInForce, allowed: Collection[TimeInForce] | None) -> Denial | None:
    if allowed is None or tif in allowed:
        return None
    return _not_allowed(DenialCode.TIF_NOT_ALLOWED, "time in force", tif.value,
                        (t.value for t in allowed))


def check_order_qty(qty: Decimal, limit: Decimal | None) -> Denial | None:
    if limit is None or qty <= limit:
        return None
    return Denial(
        DenialCode.MAX_ORDER_QTY,
        f"order quantity {_s(qty)} is above the maximum {_s(limit)}",
        _s(limit),
        _s(qty),
    )


def check_reference(
    reference: Decimal | None, mode: MissingReference, symbol: str
) -> Denial | None:
    """Deny a missing reference only in mode DENY; in mode WARN the gate logs instead."""
    if reference is not None or mode is MissingReference.WARN:
        return None
    return Denial(
        DenialCode.NO_REFERENCE_PRICE,
        f"no reference price for {symbol}: the price checks cannot run "
        "(set one with the admin command, or wait for a fill)",
        None,
        symbol,
    )


def check_price_collar(
    price: Decimal, reference: Decimal, fraction: Decimal | None, band: Decimal | None
) -> Denial | None:
    """`price` within ±`fraction` × `reference` (the configured percentage / 100) and
    within ±`band` (the configured ticks × tick size) of the reference. With both set,
    both must hold: the tighter band wins."""
    gap = price - reference
    # Against a Decimal zero, not the int 0: comparing a Decimal with an int converts
    # the int first, about 40 ns of the check.
    if gap < ZERO:
        gap = -gap
    if fraction is not None and gap > fraction * reference:
        pct = _s((fraction * 100).normalize())
        return Denial(
            DenialCode.PRICE_COLLAR,
            f"price {_s(price)} is more than {pct}% from the reference {_s(reference)}",
            f"±{pct}% of {_s(reference)}",
            _s(price),
        )
    if band is not None and gap > band:
        return Denial(
            DenialCode.PRICE_COLLAR,
            f"price {_s(price)} is more than {_s(band)} (the tick collar) from the "
            f"reference {_s(reference)}",
            f"±{_s(band)} around {_s(reference)}",
            _s(price),
        )
    return None


def check_order_notional(notional: Decimal, limit: Decimal | None) -> Denial | None:
    """`notional` is qty × price × multiplier (the reference price for market orders)."""
    if limit is None or notional <= limit:
        return None
    return Denial(
        DenialCode.MAX_ORDER_NOTIONAL,
        f"order notional {_s(notional)} is above the maximum {_s(limit)}",
        _s(limit),
        _s(notional),
    )


def check_duplicate(last_seen: float | None, now: float, window: float) -> Denial | None:
    """Same content (everything but the id) accepted less than `window` seconds ago."""
    if last_seen is None or now - last_seen >= window:
        return None
    ms = round((now - last_seen) * 1000, 3)
    return Denial(
        DenialCode.DUPLICATE_ORDER,
        f"the same order was accepted {ms:g} ms ago",
        f"{round(window * 1000, 3):g} ms",
        f"{ms:g} ms",
    )


def check_open_orders(
    account_count: int, account_limit: int | None, side_count: int, side_limit: int | None
) -> Denial | None:
    """Working orders before this one: the account's (MAX_OPEN_ORDERS; IB caps an account
    at 10,000) and the account's on this instrument and side (MAX_OPEN_ORDERS_SYMBOL_SIDE;
    IB allows about 15-20). Buy is one side; sell and short sell are the other."""
    if account_limit is not None and account_count >= account_limit:
        return Denial(
            DenialCode.MAX_OPEN_ORDERS,
            f"the account has {account_count} working orders, the maximum is "
            f"{account_limit}",
            str(account_limit),
            str(account_count + 1),
        )
    if side_limit is not None and side_count >= side_limit:
        return Denial(
            DenialCode.MAX_OPEN_ORDERS_SYMBOL_SIDE,
            f"{side_count} working orders on this symbol and side, the maximum is "
            f"{side_limit}",
            str(side_limit),
            str(side_count + 1),
        )
    return None


def check_position(
    position: Decimal, open_same_side: Decimal, qty: Decimal, limit: Decimal | None
) -> Denial | None:
    """`position` is signed in the order's direction (a buy sees the position, a sell
    sees minus it), so the check is the worst case if every same-side order fills:
    position + open same-side quantity + this order <= limit. An order that reduces the
    position therefore has room."""
    if limit is None:
        return None
    projected = position + open_same_side + qty
    if projected <= limit:
        return None
    return Denial(
        DenialCode.POSITION_LIMIT,
        f"position {_s(position)} + open {_s(open_same_side)} + order {_s(qty)} "
        f"would be {_s(projected)}, above the limit {_s(limit)}",
        _s(limit),
        _s(projected),
    )


def check_gross_notional(
    filled: Decimal, open_: Decimal, this: Decimal, limit: Decimal | None
) -> Denial | None:
    """Filled notional today + open-order notional + this order, one account and currency."""
    if limit is None:
        return None
    total = filled + open_ + this
    if total <= limit:
        return None
    return Denial(
        DenialCode.GROSS_DAILY_NOTIONAL,
        f"filled {_s(filled)} + open {_s(open_)} + order {_s(this)} would be "
        f"{_s(total)}, above the daily limit {_s(limit)}",
        _s(limit),
        _s(total),
    )


def efficiency_ratio(messages: int, executions: int) -> float:
    """(submits + revisions + cancels) / (executions + 1), IB's order efficiency ratio."""
    return messages / (executions + 1)


def check_efficiency_ratio(
    messages: int, executions: int, block: float | None, min_messages: int
) -> Denial | None:
    """`messages` counts this one. Not enforced below `min_messages` messages in the
    day, so a quiet morning's first orders are not refused for want of fills."""
    if block is None or messages < min_messages or messages <= block * (executions + 1):
        return None
    ratio = efficiency_ratio(messages, executions)
    return Denial(
        DenialCode.ORDER_EFFICIENCY_RATIO,
        f"order efficiency ratio would be {ratio:.2f} ({messages} messages, "
        f"{executions} executions today), above {block:g}",
        f"{block:g}",
        f"{ratio:.2f}",
    )


def check_rate(reason: str, limit: str, value: str) -> Denial:
    """The throttle refused (see `fixrouter.risk.throttle`); always a denial."""
    return Denial(DenialCode.RATE_LIMIT, reason, limit, value)
