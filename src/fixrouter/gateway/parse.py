"""Request lines to typed requests: the gateway's whole notion of "valid input".

Theory of operation
-------------------
`LineParser.parse(line, strategy, received_ns)` turns one line (bytes, with or without its
newline) into exactly one value, and never raises:

- a `fixrouter.requests` value (`NewOrder`, `CancelOrder`, `ReplaceOrder`, `StatusQuery`,
  `OrdersQuery`) stamped with the connection's `strategy`, never a name from the line, so
  one strategy cannot act as another;
- a `Hello` or `Ping`, which the connection answers itself;
- a `RequestError` whose `code` says what kind of problem it was and whose `reason` names
  the field; `id` is set when the line carried a usable one.

It is returned with the line's `req` correlation value (a string or integer the client may
add to any request; the gateway echoes it on direct replies), or None.

The checks run in a fixed order, so a line with several faults always gets the same code:
JSON syntax (BAD_JSON), an object (NOT_OBJECT), `req`, `op` present (MISSING_FIELD) and
known (UNKNOWN_OP), `hello` first (NOT_HELLO / ALREADY_HELLO), then the op's fields: unknown
keys (UNKNOWN_FIELD), then each field in a fixed order (MISSING_FIELD / BAD_VALUE), then the
rules that tie fields together (price vs type, GTD expiry, contract details vs sec_type).
`spec/upstream-protocol.md` is the normative statement of every rule here.

The parser is pure: no I/O, no clock, and no state between lines that could change a
result (all it keeps are bounded memos of the prices, symbols and accounts it has already
checked). The clock is read by the caller (once per socket read) and passed in as
`received_ns`.

Speed: a typical `new` line costs one `orjson.loads`, one pass over its keys that picks out
the common fields (the rare keys are only looked at when one is present), dict look-ups
for the enums, a memo probe per price string (a regex match and a Decimal parse when it is
new), and a compiled `requests.new_order` for the result. Errors are raised as `_Bad`
inside and turned into `RequestError` at the top: exceptions cost nothing until raised, and
keep each field check a one-liner.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

import orjson

from fixrouter.events import ErrorCode, RequestError
from fixrouter.requests import (
    CancelOrder,
    Capacity,
    Derivative,
    NewOrder,
    OpenClose,
    OrdersQuery,
    OrderType,
    PutOrCall,
    ReplaceOrder,
    Request,
    SecurityType,
    Side,
    StatusQuery,
    TimeInForce,
    new_order,
)

from .config import CLIENT_NAME_RE, MAX_TOKEN_LEN

Req = str | int | None
"""The optional correlation value of a request line, echoed on direct replies."""

MAX_ID_LEN: Final = 64
MAX_SYMBOL_LEN: Final = 32
MAX_ACCOUNT_LEN: Final = 32
MAX_EXCHANGE_LEN: Final = 16
MAX_REQ_LEN: Final = 64
MAX_PRICE_DECIMALS: Final = 8
MAX_QTY_DECIMALS: Final = 8
MAX_INTEGER_DIGITS: Final = 12  # prices and quantities stay below 10**12
MAX_INT_QTY: Final = 10**12 - 1
_ABSURD_REPR: Final = 40  # longest slice of a bad value quoted back in an error message


@dataclass(frozen=True, slots=True)
class Hello:
    """`hello`: the connection names its strategy (and proves it with a token)."""

    client: str
    token: str | None = None

    def __repr__(self) -> str:  # the token is a secret: keep it out of logs and tracebacks
        return f"Hello(client={self.client!r}, token={'***' if self.token else None})"


@dataclass(frozen=True, slots=True)
class Ping:
    """`ping`: answered with `pong` by the gateway itself."""


PING: Final = Ping()

Parsed = Request | Hello | Ping | RequestError


class _Bad(Exception):
    """A field check failed; carries the event's code and reason."""

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


E = TypeVar("E")


def _table(enum_type: type[E]) -> Mapping[str, E]:
    return {member.value: member for member in enum_type}  # type: ignore[attr-defined]


# Look-ups are keyed by the wire strings, never by enum members: an Enum's __hash__ is
# Python code and costs ~80 ns a probe, a str's hash is cached.
_SIDES: Final = _table(Side)
_TYPES: Final = _table(OrderType)
_TIFS: Final = _table(TimeInForce)
_SEC_TYPES: Final = _table(SecurityType)
_PUT_CALL: Final = _table(PutOrCall)
_CAPACITY: Final = _table(Capacity)
_OPEN_CLOSE: Final = _table(OpenClose)

# type -> (member, needs price, needs stop_price); the other two combinations forbid them.
_TYPE_RULES: dict[str, tuple[OrderType, bool, bool]] = {
    t.value: (t, t in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LOC),
              t in (OrderType.STOP, OrderType.STOP_LIMIT))
    for t in OrderType
}  # fmt: skip
# Enum members as module constants: compiled code reads these directly, where
# `TimeInForce.GTD` would be an attribute look-up on the class every time.
_STK: Final = SecurityType.STK
_DAY: Final = TimeInForce.DAY
_GTD: Final = TimeInForce.GTD
_OPTIONS: Final = frozenset({"OPT", "FOP"})
_HAS_STRIKE: Final = frozenset({"OPT", "FOP", "WAR"})
_HAS_MATURITY: Final = frozenset({"OPT", "FOP", "FUT", "WAR"})
_NEEDS_MATURITY: Final = frozenset({"OPT", "FOP", "FUT"})

_ENVELOPE: Final = frozenset({"op", "req"})
# `LineParser._new` picks these keys out one by one; keep the two in step (a key missing
# there would send its lines down the rare path, which test_parse_equivalence catches).
_NEW_COMMON: Final = _ENVELOPE | {
    "id", "symbol", "side", "qty", "type", "tif", "price", "stop_price", "account",
    "sec_type", "currency", "exchange",
}  # fmt: skip
_NEW_RARE: Final = frozenset({
    "expire_time", "expire_date", "maturity", "strike", "put_or_call", "multiplier",
    "local_symbol", "trading_class", "security_exchange", "capacity", "open_close",
    "force_only_rth", "what_if",
})  # fmt: skip
_NEW_ALL: Final = _NEW_COMMON | _NEW_RARE
_CANCEL: Final = _ENVELOPE | {"id"}
_REPLACE: Final = _ENVELOPE | {"id", "new_id", "qty", "price", "stop_price", "tif"}
_STATUS: Final = _ENVELOPE | {"id"}
_ORDERS: Final = _ENVELOPE
_PING: Final = _ENVELOPE
_HELLO: Final = _ENVELOPE | {"client", "token"}

# Decimal() alone would also take "NaN", "Infinity", "1e9", " 1", "1_000" and "+1".
# _PLAIN_* accept exactly the good values in one match; _DECIMAL_RE only diagnoses the rest.
_PLAIN_PRICE: Final = re.compile(
    rf"[0-9]{{1,{MAX_INTEGER_DIGITS}}}(?:\.[0-9]{{1,{MAX_PRICE_DECIMALS}}})?\Z"
).match
_DECIMAL_RE: Final = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?\Z")
_MATURITY_RE: Final = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})?\Z")
_DATE_RE: Final = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})\Z")
_UTC_TIMESTAMP_RE: Final = re.compile(
    r"([0-9]{4})([0-9]{2})([0-9]{2})-([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{3}))?\Z"
)
# Whole quantities up to this are served from a table: Decimal(int) costs ~100 ns.
_SMALL_QTY: Final = tuple(Decimal(i) for i in range(10_001))
# Price strings that passed `_price`, with their Decimal. Strategies send the same few
# prices over and over; a hit is one dict probe instead of a regex match and a Decimal
# parse. A Decimal is immutable, so sharing one between orders is safe. The memo never
# changes a result, and is emptied when full, so distinct prices cost memory only up to
# MEMO_LIMIT entries (as do the memos below).
MEMO_LIMIT: Final = 4096
_PRICES: Final[dict[str, Decimal]] = {}
# Symbols and accounts that passed their check, for the same reason: a few recur on every
# line, and a set probe costs a fifth of the three string scans of the check.
_SYMBOLS: Final[set[str]] = set()
_ACCOUNTS: Final[set[str]] = set()


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _ABSURD_REPR else text[: _ABSURD_REPR - 3] + "..."


def _missing(name: str, why: str = "is required") -> _Bad:
    return _Bad(ErrorCode.MISSING_FIELD, f"{name}: {why}")


def _bad(name: str, why: str) -> _Bad:
    return _Bad(ErrorCode.BAD_VALUE, f"{name}: {why}")


def _word(value: object, name: str, max_len: int) -> str:
    """A short printable-ASCII string without spaces (ids, accounts, exchanges)."""
    if (
        type(value) is str
        and 0 < len(value) <= max_len
        and value.isascii()
        and value.isprintable()
        and " " not in value
    ):
        return value
    raise _text_error(value, name, max_len, False)


def _phrase(value: object, name: str, max_len: int) -> str:
    """Like `_word`, but inner spaces are allowed (IB symbols such as "BRK B")."""
    if (
        type(value) is str
        and 0 < len(value) <= max_len
        and value.isascii()
        and value.isprintable()
        and value[0] != " "
        and value[-1] != " "
    ):
        return value
    raise _text_error(value, name, max_len, True)


def _text_error(value: object, name: str, max_len: int, spaces: bool) -> _Bad:
    """Why `value` is not a safe string. Printable ASCII only: no SOH, no control
    character, nothing that could split or corrupt a FIX field."""
    if value is None:
        return _missing(name)
    if type(value) is not str:
        return _bad(name, f"expected a string, got {_show(value)}")
    if not value:
        return _bad(name, "must not be empty")
    if len(value) > max_len:
        return _bad(name, f"longer than {max_len} characters")
    if not (value.isascii() and value.isprintable()):
        return _bad(name, "only printable ASCII characters are allowed")
    if spaces:
        return _bad(name, "leading or trailing spaces")
    return _bad(name, "must not contain spaces")


def _choice(table: Mapping[str, E], value: object, name: str) -> E:
    try:
        return table[value]  # type: ignore[index]
    except (KeyError, TypeError):  # TypeError: an unhashable value such as a list
        raise _choice_error(table, value, name) from None


def _choice_error(table: Mapping[str, object], value: object, name: str) -> _Bad:
    if value is None:
        return _missing(name)
    return _bad(name, f"{_show(value)} is not one of {', '.join(table)}")


def _flag(value: object, name: str) -> bool:
    if type(value) is not bool:
        raise _bad(name, f"expected true or false, got {_show(value)}")
    return value


def _decimal_text(value: object, name: str) -> str:
    """The plain decimal spelling of a JSON number or string, checked for syntax only."""
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    if type(value) is float:
        text = repr(value)  # shortest round-trip spelling: 187.25 stays "187.25"
        if "e" in text:  # 1e-05, 1e+16; orjson never yields inf or nan
            text = format(Decimal(text), "f")
        return text
    raise _bad(name, f"expected a decimal string or number, got {_show(value)}")


def _price(value: object, name: str) -> Decimal:
    """A positive price with at most 8 decimals and 12 integer digits."""
    if type(value) is str:
        price = _PRICES.get(value)
        if price is not None:
            return price
        if _PLAIN_PRICE(value) is not None:
            price = Decimal(value)
            if price:
                if len(_PRICES) >= MEMO_LIMIT:
                    _PRICES.clear()
                _PRICES[value] = price
                return price
    return _price_slow(value, name)


def _price_slow(value: object, name: str) -> Decimal:
    """`_price` for JSON numbers, and the diagnosis of every bad price."""
    text = _decimal_text(value, name)
    if _PLAIN_PRICE(text) is not None:
        price = Decimal(text)
        if price:
            return price
        raise _bad(name, "must be positive, got 0")
    m = _DECIMAL_RE.match(text)
    if m is None:
        raise _bad(name, f"{_show(value)} is not a plain decimal number")
    sign, whole, _ = m.groups()
    if sign:
        raise _bad(name, f"must be positive, got {text}")
    if len(whole) > MAX_INTEGER_DIGITS:
        raise _bad(name, f"{_show(text)} is too large")
    raise _bad(name, f"more than {MAX_PRICE_DECIMALS} decimal places in {_show(text)}")


def _qty(value: object, name: str, fractional: bool, sec_type: str | None) -> Decimal:
    """A positive quantity: a JSON integer, or a decimal string (fractional if allowed)."""
    if type(value) is int and 0 < value <= MAX_INT_QTY:
        return _SMALL_QTY[value] if value <= 10_000 else Decimal(value)
    return _qty_slow(value, name, fractional, sec_type)


def _qty_slow(value: object, name: str, fractional: bool, sec_type: str | None) -> Decimal:
    if value is None:
        raise _missing(name)
    if type(value) is int:
        if value <= 0:
            raise _bad(name, f"must be positive, got {value}")
        raise _bad(name, f"{value} is too large")
    if type(value) is float:
        raise _bad(name, f"write a JSON integer or a decimal string, not {_show(value)}")
    if type(value) is not str:
        raise _bad(name, f"expected an integer or a decimal string, got {_show(value)}")
    m = _DECIMAL_RE.match(value)
    if m is None:
        raise _bad(name, f"{_show(value)} is not a plain decimal number")
    sign, whole, frac = m.groups()
    if sign:
        raise _bad(name, f"must be positive, got {value}")
    if len(whole) > MAX_INTEGER_DIGITS:
        raise _bad(name, f"{_show(value)} is too large")
    if frac is not None and frac.strip("0"):
        if not fractional:
            where = f" for sec_type {sec_type}" if sec_type is not None else ""
            raise _bad(name, f"fractional quantity {value} is not allowed{where}")
        if len(frac) > MAX_QTY_DECIMALS:
            raise _bad(name, f"more than {MAX_QTY_DECIMALS} decimal places in {_show(value)}")
        qty = Decimal(value)
    else:
        qty = Decimal(whole)  # "100.00" travels on as 100, not 100.00
    if not qty:
        raise _bad(name, "must be positive, got 0")
    return qty


def _remember(memo: set[str], checked: str) -> str:
    """Add a value that passed its check to `memo`, emptied first when full."""
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo.add(checked)
    return checked


def _multiplier(value: object) -> Decimal:
    text = _decimal_text(value, "multiplier")
    m = _DECIMAL_RE.match(text)
    if m is None or m.group(1) or len(m.group(2)) > MAX_INTEGER_DIGITS:
        raise _bad("multiplier", f"{_show(value)} is not a positive decimal number")
    if m.group(3) is not None and len(m.group(3)) > MAX_PRICE_DECIMALS:
        raise _bad("multiplier", f"more than {MAX_PRICE_DECIMALS} decimal places")
    result = Decimal(text)
    if not result:
        raise _bad("multiplier", "must be positive, got 0")
    return result


def _maturity(value: object) -> tuple[str, str | None]:
    """`YYYYMM` or `YYYYMMDD` -> (MaturityMonthYear, MaturityDay)."""
    if type(value) is not str or (m := _MATURITY_RE.match(value)) is None:
        raise _bad("maturity", f"expected YYYYMM or YYYYMMDD, got {_show(value)}")
    year, month, day = m.groups()
    try:
        date(int(year), int(month), int(day) if day else 1)
    except ValueError:
        raise _bad("maturity", f"{value} is not a real month or date") from None
    return year + month, day


def _expire_date(value: object) -> str:
    if type(value) is not str or (m := _DATE_RE.match(value)) is None:
        raise _bad("expire_date", f"expected YYYYMMDD, got {_show(value)}")
    try:
        date(*(int(g) for g in m.groups()))
    except ValueError:
        raise _bad("expire_date", f"{value} is not a real date") from None
    return value


def _expire_time(value: object) -> str:
    if type(value) is not str or (m := _UTC_TIMESTAMP_RE.match(value)) is None:
        raise _bad("expire_time", f"expected UTC YYYYMMDD-HH:MM:SS[.sss], got {_show(value)}")
    try:
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise _bad("expire_time", f"{value} is not a real time") from None
    return value


def _check_keys(obj: dict[str, Any], allowed: frozenset[str], op: str) -> None:
    if obj.keys() <= allowed:
        return
    unknown = sorted(k for k in obj if k not in allowed)
    raise _Bad(ErrorCode.UNKNOWN_FIELD, f"{unknown[0]}: not a field of {op}")


def _order_id(obj: dict[str, Any], name: str = "id") -> str:
    return _word(obj.get(name), name, MAX_ID_LEN)


def _usable_id(obj: dict[str, Any]) -> str | None:
    """The line's `id` if it is one we could have accepted: put on the error event."""
    value = obj.get("id")
    if (
        type(value) is str
        and 0 < len(value) <= MAX_ID_LEN
        and value.isascii()
        and value.isprintable()
        and " " not in value
    ):
        return value
    return None


class LineParser:
    """Parses request lines. One per gateway; holds only settings, no per-line state."""

    __slots__ = ("_fractional", "_ops", "_stk_fractional")

    def __init__(self, fractional_qty: frozenset[SecurityType] = frozenset()) -> None:
        self._fractional = frozenset(t.value for t in fractional_qty)
        self._stk_fractional = "STK" in self._fractional  # the default sec_type's answer
        self._ops: dict[str, Callable[[dict[str, Any], str, int], Parsed]] = {
            "new": self._new,
            "cancel": _cancel,
            "replace": _replace,
            "status": _status,
            "orders": _orders,
        }

    def parse(self, line: bytes, strategy: str | None, received_ns: int) -> tuple[Parsed, Req]:
        """One line -> (value, req). `strategy` is None until the connection's `hello`."""
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            return RequestError(ErrorCode.BAD_JSON, f"not valid JSON: {e}"), None
        if type(obj) is not dict:
            return RequestError(ErrorCode.NOT_OBJECT, "a request must be a JSON object"), None
        req = obj.get("req")
        if req is not None and not _is_req(req):
            return (
                RequestError(
                    ErrorCode.BAD_VALUE,
                    f"req: expected an integer or a string of up to {MAX_REQ_LEN} printable "
                    f"ASCII characters, got {_show(req)}",
                    _usable_id(obj),
                ),
                None,
            )
        op = obj.get("op")
        try:
            if type(op) is str:
                if op == "new" and strategy is not None:  # the hot path: a direct call
                    return self._new(obj, strategy, received_ns), req
                handler = self._ops.get(op)
                if handler is not None:
                    if strategy is None:
                        return (
                            RequestError(
                                ErrorCode.NOT_HELLO,
                                f"say hello before {op}",
                                _usable_id(obj),
                            ),
                            req,
                        )
                    return handler(obj, strategy, received_ns), req
                if op == "hello":
                    if strategy is not None:
                        return (
                            RequestError(
                                ErrorCode.ALREADY_HELLO, f"already said hello as {strategy}"
                            ),
                            req,
                        )
                    return _hello(obj), req
                if op == "ping":
                    _check_keys(obj, _PING, "ping")
                    return PING, req
            if op is None:
                raise _missing("op")
            raise _Bad(ErrorCode.UNKNOWN_OP, f"op: {_show(op)} is not a known operation")
        except _Bad as e:
            return RequestError(e.code, e.reason, _usable_id(obj)), req

    def _new(self, obj: dict[str, Any], strategy: str, received_ns: int) -> NewOrder:
        # One pass over the line's keys picks out the common fields and notices any other
        # key, instead of a subset test of the keys plus a `get` per field: a key compares
        # against a literal by length and memcmp, cheaper than a set probe or a dict probe.
        # A JSON null reads as None here, as it does from `get`.
        order_id: object = None
        symbol_value: object = None
        side_value: object = None
        qty_value: object = None
        type_value: object = None
        tif_value: object = None
        price_value: object = None
        stop_value: object = None
        account_value: object = None
        sec_text: Any = None
        currency_value: object = None
        exchange_value: object = None
        rare = False
        for key, value in obj.items():
            if key == "id":
                order_id = value
            elif key == "symbol":
                symbol_value = value
            elif key == "side":
                side_value = value
            elif key == "qty":
                qty_value = value
            elif key == "type":
                type_value = value
            elif key == "price":
                price_value = value
            elif key == "op":
                pass
            elif key == "tif":
                tif_value = value
            elif key == "account":
                account_value = value
            elif key == "stop_price":
                stop_value = value
            elif key == "sec_type":
                sec_text = value
            elif key == "currency":
                currency_value = value
            elif key == "exchange":
                exchange_value = value
            elif key != "req":
                rare = True
        if rare:
            _check_keys(obj, _NEW_ALL, "new")
        order_id = _word(order_id, "id", MAX_ID_LEN)
        if type(symbol_value) is str and symbol_value in _SYMBOLS:
            symbol: str = symbol_value
        else:
            symbol = _remember(_SYMBOLS, _phrase(symbol_value, "symbol", MAX_SYMBOL_LEN))
        side = _choice(_SIDES, side_value, "side")
        if sec_text is None:
            sec_type = _STK
            sec_text = "STK"
            fractional = self._stk_fractional
        else:
            sec_type = _choice(_SEC_TYPES, sec_text, "sec_type")
            fractional = sec_text in self._fractional
        qty = _qty(qty_value, "qty", fractional, sec_text)
        try:
            order_type, needs_price, needs_stop = _TYPE_RULES[type_value]  # type: ignore[index]
        except (KeyError, TypeError):
            raise _choice_error(_TYPES, type_value, "type") from None
        tif = _DAY if tif_value is None else _choice(_TIFS, tif_value, "tif")
        price = None if price_value is None else _price(price_value, "price")
        stop_price = None if stop_value is None else _price(stop_value, "stop_price")
        if account_value is None:
            account = None
        elif type(account_value) is str and account_value in _ACCOUNTS:
            account = account_value
        else:
            account = _remember(_ACCOUNTS, _word(account_value, "account", MAX_ACCOUNT_LEN))
        currency = "USD" if currency_value is None else _currency(currency_value)
        exchange = (
            "SMART"
            if exchange_value is None
            else _word(exchange_value, "exchange", MAX_EXCHANGE_LEN)
        )

        if needs_price:
            if price is None:
                raise _missing("price", f"required for a {order_type} order")
        elif price is not None:
            raise _bad("price", f"not allowed for a {order_type} order")
        if needs_stop:
            if stop_price is None:
                raise _missing("stop_price", f"required for a {order_type} order")
        elif stop_price is not None:
            raise _bad("stop_price", f"not allowed for a {order_type} order")

        if not rare:
            # The common case: none of the rare fields is present, so only their absence
            # needs checking.
            if tif is _GTD:
                raise _missing("expire_time", "a gtd order needs expire_time or expire_date")
            if sec_text in _NEEDS_MATURITY:
                raise _missing("maturity", f"required for sec_type {sec_text}")
            return new_order(
                strategy, order_id, symbol, side, qty, order_type, tif, price, stop_price,
                account, sec_type, currency, exchange, None, None, None, None, None, False,
                False, received_ns,
            )  # fmt: skip
        return _new_rare(
            obj, strategy, received_ns, order_id, symbol, side, qty, order_type, tif, price,
            stop_price, account, sec_type, currency, exchange,
        )  # fmt: skip


def _new_rare(
    obj: dict[str, Any],
    strategy: str,
    received_ns: int,
    order_id: str,
    symbol: str,
    side: Side,
    qty: Decimal,
    order_type: OrderType,
    tif: TimeInForce,
    price: Decimal | None,
    stop_price: Decimal | None,
    account: str | None,
    sec_type: SecurityType,
    currency: str,
    exchange: str,
) -> NewOrder:
    """The rest of `new` when the line has expiry, contract or IB-flag fields."""
    get = obj.get
    value = get("expire_time")
    expire_time = None if value is None else _expire_time(value)
    value = get("expire_date")
    expire_date = None if value is None else _expire_date(value)
    if tif is _GTD:
        if expire_time is None and expire_date is None:
            raise _missing("expire_time", "a gtd order needs expire_time or expire_date")
        if expire_time is not None and expire_date is not None:
            raise _bad("expire_date", "give expire_time or expire_date, not both")
    elif expire_time is not None:
        raise _bad("expire_time", f"only for tif gtd, not {tif}")
    elif expire_date is not None:
        raise _bad("expire_date", f"only for tif gtd, not {tif}")

    sec_text = sec_type.value
    value = get("maturity")
    maturity = None if value is None else _maturity(value)
    value = get("strike")
    strike = None if value is None else _price(value, "strike")
    value = get("put_or_call")
    put_or_call = None if value is None else _choice(_PUT_CALL, value, "put_or_call")
    value = get("multiplier")
    multiplier = None if value is None else _multiplier(value)
    value = get("local_symbol")
    local_symbol = None if value is None else _phrase(value, "local_symbol", MAX_SYMBOL_LEN)
    value = get("trading_class")
    trading_class = None if value is None else _word(value, "trading_class", MAX_SYMBOL_LEN)
    value = get("security_exchange")
    security_exchange = (
        None if value is None else _word(value, "security_exchange", MAX_EXCHANGE_LEN)
    )
    if sec_text in _NEEDS_MATURITY and maturity is None:
        raise _missing("maturity", f"required for sec_type {sec_text}")
    if sec_text in _OPTIONS:
        if strike is None:
            raise _missing("strike", f"required for sec_type {sec_text}")
        if put_or_call is None:
            raise _missing("put_or_call", f"required for sec_type {sec_text}")
    if sec_text not in _HAS_STRIKE:
        if strike is not None:
            raise _bad("strike", f"not allowed for sec_type {sec_text}")
        if put_or_call is not None:
            raise _bad("put_or_call", f"not allowed for sec_type {sec_text}")
    if sec_text not in _HAS_MATURITY:
        if maturity is not None:
            raise _bad("maturity", f"not allowed for sec_type {sec_text}")
        if multiplier is not None:
            raise _bad("multiplier", f"not allowed for sec_type {sec_text}")

    derivative = None
    if any((maturity, strike, put_or_call, multiplier, local_symbol, trading_class)) or (
        security_exchange
    ):
        derivative = Derivative(
            maturity_month_year=maturity[0] if maturity else None,
            maturity_day=maturity[1] if maturity else None,
            strike=strike,
            put_or_call=put_or_call,
            multiplier=multiplier,
            local_symbol=local_symbol,
            trading_class=trading_class,
            security_exchange=security_exchange,
        )
    value = get("capacity")
    capacity = None if value is None else _choice(_CAPACITY, value, "capacity")
    value = get("open_close")
    open_close = None if value is None else _choice(_OPEN_CLOSE, value, "open_close")
    value = get("force_only_rth")
    force_only_rth = False if value is None else _flag(value, "force_only_rth")
    value = get("what_if")
    what_if = False if value is None else _flag(value, "what_if")
    return new_order(
        strategy, order_id, symbol, side, qty, order_type, tif, price, stop_price, account,
        sec_type, currency, exchange, expire_time, expire_date, derivative, capacity,
        open_close, force_only_rth, what_if, received_ns,
    )  # fmt: skip


def _currency(value: object) -> str:
    if (
        type(value) is str
        and len(value) == 3
        and value.isascii()
        and value.isalpha()
        and value.isupper()
    ):
        return value
    raise _bad("currency", f"expected a 3-letter upper-case code, got {_show(value)}")


def _cancel(obj: dict[str, Any], strategy: str, received_ns: int) -> CancelOrder:
    _check_keys(obj, _CANCEL, "cancel")
    return CancelOrder(strategy, _order_id(obj), received_ns)


def _replace(obj: dict[str, Any], strategy: str, received_ns: int) -> ReplaceOrder:
    _check_keys(obj, _REPLACE, "replace")
    order_id = _order_id(obj)
    new_id = _order_id(obj, "new_id")
    if new_id == order_id:
        raise _bad("new_id", "must differ from id")
    get = obj.get
    value = get("qty")
    # The gateway does not know the order's instrument; a decimal string is let through and
    # the order book, which does, refuses a fraction for a whole-unit instrument.
    qty = None if value is None else _qty(value, "qty", True, None)
    value = get("price")
    price = None if value is None else _price(value, "price")
    value = get("stop_price")
    stop_price = None if value is None else _price(value, "stop_price")
    value = get("tif")
    tif = None if value is None else _choice(_TIFS, value, "tif")
    if tif is _GTD:
        raise _bad("tif", "cannot change to gtd in a replace (it carries no expiry)")
    if qty is None and price is None and stop_price is None and tif is None:
        raise _missing("qty", "a replace must change qty, price, stop_price or tif")
    return ReplaceOrder(strategy, order_id, new_id, qty, price, stop_price, tif, received_ns)


def _status(obj: dict[str, Any], strategy: str, received_ns: int) -> StatusQuery:
    _check_keys(obj, _STATUS, "status")
    return StatusQuery(strategy, _order_id(obj))


def _orders(obj: dict[str, Any], strategy: str, received_ns: int) -> OrdersQuery:
    _check_keys(obj, _ORDERS, "orders")
    return OrdersQuery(strategy)


def _hello(obj: dict[str, Any]) -> Hello:
    _check_keys(obj, _HELLO, "hello")
    client = obj.get("client")
    if client is None:
        raise _missing("client")
    if type(client) is not str or not CLIENT_NAME_RE.match(client):
        raise _bad("client", "a strategy name is 1-32 of A-Z a-z 0-9 _ . - (starting alphanumeric)")
    token = obj.get("token")
    if token is not None and not (
        type(token) is str
        and 0 < len(token) <= MAX_TOKEN_LEN
        and token.isascii()
        and token.isprintable()
    ):
        # Never quote the value: a wrongly typed token is still likely a secret.
        raise _bad("token", f"expected a string of 1-{MAX_TOKEN_LEN} printable ASCII characters")
    return Hello(client, token)


def _is_req(value: object) -> bool:
    if type(value) is int:
        return -(2**53) < value < 2**53  # stays exact in a JavaScript client
    return (
        type(value) is str and len(value) <= MAX_REQ_LEN and value.isascii() and value.isprintable()
    )
