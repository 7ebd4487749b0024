"""Typed requests to IB CTCI message bodies: D, F, G and H.

Theory of operation
-------------------
Each message type has a *layout*: every body tag the dialect can write for it, in the
order it writes them, each marked either as always present or with the bit that says it
is present. Building a body appends the wire values in layout order to a list and ORs the
bits of the optional tags that are present into an int, the *shape*. The shape picks a
`BodyTemplate` (one `%`-format for exactly those tags) from a per-message-type cache, so a
plain limit order is one dict look-up and one `%` format once its values are known.

Validation (house rule 9) is split by what can vary:

* **The shape** (which tags, none repeated, all required present, each allowed in this
  message) is the same for every message of that shape. The first time a shape occurs,
  the whole body is run through the dictionary's `validate_outbound`; only if it passes
  is the template cached. A cached template is therefore a proved shape.
* **Enum values** come from `tables`, each proved against the dictionary at construction.
* **Free values** (identifiers, strings, numbers, timestamps) are checked on every message
  by `values`, with checks at least as strict as the dictionary's for their tag.

So no message leaves here without having passed, in effect, the full dictionary check;
`validate_every_message` runs the full check anyway, for certification runs. Anything
wrong is a `LocalProtocolError` raised before a single byte is produced.

IB-specific rules enforced beyond the dictionary (IB would reject these on the wire):
Price(44)/StopPx(99) exactly as the order type needs them; ExpireTime(126) or
ExpireDate(432), exactly one, with GTD and never without it; options and futures must say
which contract (LocalSymbol(6035), or maturity and, for options, strike and put/call).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from fixrouter.codec import BodyTemplate
from fixrouter.dictionary import CompiledValidator
from fixrouter.errors import ConfigError, LocalProtocolError
from fixrouter.requests import (
    Capacity,
    Derivative,
    NewOrder,
    OpenClose,
    OrderType,
    ReplaceOrder,
    SecurityType,
    Side,
    TimeInForce,
)

from . import tables as t
from .settings import DialectSettings
from .terms import ReplacedTerms, Terms
from .values import FieldRule, TimestampCheck, id_bytes, plain_decimal, price_bytes, qty_bytes

ALL_OPEN_ORDERS: Final = "*"
"""ClOrdID of an OrderStatusRequest that asks IB for every open order."""

# Presence bits of the optional tags. A shape is the OR of the bits of the tags present.
_ORDER_ID: Final = 1 << 0
_ACCOUNT: Final = 1 << 1
_PRICE: Final = 1 << 2
_STOP: Final = 1 << 3
_EXPIRE_TIME: Final = 1 << 4
_EXPIRE_DATE: Final = 1 << 5
_TRANSACT: Final = 1 << 6
_MATURITY: Final = 1 << 7
_MATURITY_DAY: Final = 1 << 8
_PUT_OR_CALL: Final = 1 << 9
_STRIKE: Final = 1 << 10
_MULTIPLIER: Final = 1 << 11
_SEC_EXCHANGE: Final = 1 << 12
_LOCAL_SYMBOL: Final = 1 << 13
_TRADING_CLASS: Final = 1 << 14
_CAPACITY: Final = 1 << 15
_OPEN_CLOSE: Final = 1 << 16
_RTH: Final = 1 << 17
_WHAT_IF: Final = 1 << 18
_INSTRUMENT: Final = 1 << 19  # H: Symbol, SecurityType and Side, when the order is named
_ALWAYS: Final = 0

Layout = tuple[tuple[int, int], ...]

_CONTRACT: Layout = (
    (t.MATURITY_MONTH_YEAR, _MATURITY),
    (t.MATURITY_DAY, _MATURITY_DAY),
    (t.PUT_OR_CALL, _PUT_OR_CALL),
    (t.STRIKE_PRICE, _STRIKE),
    (t.CONTRACT_MULTIPLIER, _MULTIPLIER),
    (t.SECURITY_EXCHANGE, _SEC_EXCHANGE),
)
_IB_CONTRACT: Layout = ((t.IB_LOCAL_SYMBOL, _LOCAL_SYMBOL), (t.TRADING_CLASS, _TRADING_CLASS))

# The order terms as D and G both restate them, from Account(1) on.
_ORDER_TERMS: Layout = (
    (t.ACCOUNT, _ACCOUNT),
    (t.HANDL_INST, _ALWAYS),
    (t.SYMBOL, _ALWAYS),
    (t.SECURITY_TYPE, _ALWAYS),
    (t.SIDE, _ALWAYS),
    (t.ORDER_QTY, _ALWAYS),
    (t.ORD_TYPE, _ALWAYS),
    (t.PRICE, _PRICE),
    (t.STOP_PX, _STOP),
    (t.TIME_IN_FORCE, _ALWAYS),
    (t.EXPIRE_TIME, _EXPIRE_TIME),
    (t.EXPIRE_DATE, _EXPIRE_DATE),
    (t.TRANSACT_TIME, _TRANSACT),
    (t.EX_DESTINATION, _ALWAYS),
    (t.CURRENCY, _ALWAYS),
    *_CONTRACT,
    *_IB_CONTRACT,
    (t.CUSTOMER_OR_FIRM, _CAPACITY),
    (t.OPEN_CLOSE, _OPEN_CLOSE),
    (t.FORCE_ONLY_RTH, _RTH),
)

LAYOUTS: Mapping[bytes, Layout] = MappingProxyType({
    b"D": ((t.CL_ORD_ID, _ALWAYS), *_ORDER_TERMS, (t.WHAT_IF, _WHAT_IF)),
    b"G": (
        (t.ORIG_CL_ORD_ID, _ALWAYS),
        (t.ORDER_ID, _ORDER_ID),
        (t.CL_ORD_ID, _ALWAYS),
        *_ORDER_TERMS,
    ),
    b"F": (
        (t.ORIG_CL_ORD_ID, _ALWAYS),
        (t.ORDER_ID, _ORDER_ID),
        (t.CL_ORD_ID, _ALWAYS),
        (t.ACCOUNT, _ACCOUNT),
        (t.SYMBOL, _ALWAYS),
        (t.SECURITY_TYPE, _ALWAYS),
        (t.SIDE, _ALWAYS),
        (t.ORDER_QTY, _ALWAYS),
        (t.TRANSACT_TIME, _TRANSACT),
        *_CONTRACT,
        *_IB_CONTRACT,
    ),
    b"H": (
        (t.ORDER_ID, _ORDER_ID),
        (t.CL_ORD_ID, _ALWAYS),
        (t.ACCOUNT, _ACCOUNT),
        (t.SYMBOL, _INSTRUMENT),
        (t.SECURITY_TYPE, _INSTRUMENT),
        (t.SIDE, _INSTRUMENT),
        *_CONTRACT,  # H has no LocalSymbol/TradingClass in IB's dictionary
    ),
})
"""Every body tag the dialect may write per message type, in order, with its presence bit."""

_GTD: Final = TimeInForce.GTD
# IB resolves an option or future from LocalSymbol, or from these contract fields.
_OPTION_TYPES: Final = frozenset({SecurityType.OPT, SecurityType.FOP})
_CONTRACT_TYPES: Final = frozenset({SecurityType.OPT, SecurityType.FOP, SecurityType.FUT})

_SIDES: Final = dict(t.SIDES)
_ORD_TYPES: Final = dict(t.ORD_TYPES)
_TIFS: Final = dict(t.TIME_IN_FORCE_VALUES)
_SEC_TYPES: Final = dict(t.SECURITY_TYPES)
_CAPACITIES: Final = dict(t.CAPACITIES)
_OPEN_CLOSES: Final = dict(t.OPEN_CLOSE_VALUES)
_PUT_OR_CALLS: Final = dict(t.PUT_OR_CALL_VALUES)
_RTH_ON: Final = t.FORCE_ONLY_RTH_ON
_WHAT_IF_ON: Final = t.WHAT_IF_ON


class Dialect:
    """Builds IB CTCI message bodies from typed requests. One per engine; not thread-safe.

    Every method returns the rendered body (`tag=value|...`, no header or trailer) for
    `fixrouter.codec.Encoder.encode`, and raises `LocalProtocolError` naming the field
    when the message would not be valid for IB's dictionary; nothing is produced then.
    `transact_time` is a UTCTimestamp as bytes, e.g. from `codec.format_utc_ms`.
    """

    __slots__ = (
        "_account",
        "_currency",
        "_default_account",
        "_default_capacity",
        "_default_currency",
        "_default_exchange",
        "_exchange",
        "_expire_date",
        "_expire_time",
        "_handl_inst",
        "_local_symbol",
        "_maturity",
        "_maturity_day",
        "_max_id",
        "_sec_exchange",
        "_send_transact_time",
        "_symbol",
        "_templates",
        "_trading_class",
        "_transact_time",
        "_validate_all",
        "_validator",
        "settings",
    )

    def __init__(self, settings: DialectSettings, validator: CompiledValidator) -> None:
        """Raises:
        ConfigError: a setting or an enum table value is not allowed by the dictionary,
            or the dictionary lacks a message type or tag the dialect writes.
        """
        self.settings = settings
        self._validator = validator
        dictionary = validator.dictionary
        for msg_type, layout in LAYOUTS.items():
            spec = dictionary.message(msg_type)
            if spec is None:
                raise ConfigError(f"dictionary {dictionary.source} lacks MsgType {msg_type!r}")
            missing = [tag for tag, _ in layout if tag not in spec.body.tags]
            if missing:
                raise ConfigError(
                    f"dictionary {dictionary.source}: {spec.name} does not allow tags {missing}"
                )
        for tag, table in t.ENUM_TABLES:
            _prove_enum(validator, tag, table.values())
        _prove_enum(validator, t.HANDL_INST, [settings.handl_inst.encode("ascii", "replace")])

        text_limit = settings.max_text_length
        self._symbol = FieldRule(dictionary, t.SYMBOL, text_limit)
        self._account = FieldRule(dictionary, t.ACCOUNT, settings.max_account_length)
        self._exchange = FieldRule(dictionary, t.EX_DESTINATION, text_limit)
        self._currency = FieldRule(dictionary, t.CURRENCY, text_limit)
        self._expire_time = FieldRule(dictionary, t.EXPIRE_TIME, text_limit)
        self._expire_date = FieldRule(dictionary, t.EXPIRE_DATE, text_limit)
        self._maturity = FieldRule(dictionary, t.MATURITY_MONTH_YEAR, text_limit)
        self._maturity_day = FieldRule(dictionary, t.MATURITY_DAY, text_limit)
        self._sec_exchange = FieldRule(dictionary, t.SECURITY_EXCHANGE, text_limit)
        self._local_symbol = FieldRule(dictionary, t.IB_LOCAL_SYMBOL, text_limit)
        self._trading_class = FieldRule(dictionary, t.TRADING_CLASS, text_limit)
        self._transact_time = TimestampCheck(dictionary, t.TRANSACT_TIME)
        self._max_id = settings.max_cl_ord_id_length
        self._send_transact_time = settings.send_transact_time
        self._validate_all = settings.validate_every_message
        self._handl_inst = settings.handl_inst.encode("ascii")
        self._default_exchange = settings.default_exchange
        self._default_currency = settings.default_currency
        self._default_account = settings.default_account
        self._default_capacity = settings.default_capacity
        # Defaults are checked now, so a bad one stops start-up rather than every order.
        for rule, value in (
            (self._exchange, settings.default_exchange),
            (self._currency, settings.default_currency),
            (self._account, settings.default_account),
        ):
            if value is not None:
                problem = rule.problem(value)
                if problem is not None:
                    raise ConfigError(f"dialect default for {rule.label}: {value!r} {problem}")
        self._templates: dict[bytes, dict[int, BodyTemplate]] = {m: {} for m in LAYOUTS}

    # The four messages.

    def new_order_body(self, order: NewOrder, cl_ord_id: str, transact_time: bytes) -> bytes:
        """NewOrderSingle (35=D) body for `order`, sent as ClOrdID `cl_ord_id`.

        Raises:
            LocalProtocolError: see the class docstring.
        """
        # Inlined `id_bytes`: this is the hottest call in the dialect.
        if (
            isinstance(cl_ord_id, str)
            and 0 < len(cl_ord_id) <= self._max_id
            and cl_ord_id.isascii()
            and cl_ord_id.isprintable()
        ):
            values: list[bytes] = [cl_ord_id.encode("ascii")]
        else:
            values = [id_bytes("ClOrdID(11)", cl_ord_id, self._max_id)]
        # `order` is statically a NewOrder, so each field read below is a tuple item read;
        # through the `Terms` protocol each would be a generic attribute look-up.
        shape = self._order_terms(
            values, order.account, order.symbol, order.sec_type, order.side, order.qty,
            order.type, order.price, order.stop_price, order.tif, order.expire_time,
            order.expire_date, order.exchange, order.currency, order.derivative,
            order.capacity, order.open_close, order.force_only_rth, transact_time,
        )  # fmt: skip
        if order.what_if:
            values.append(_WHAT_IF_ON)
            shape |= _WHAT_IF
        return self._render(b"D", shape, values)

    def cancel_body(
        self,
        original: Terms,
        cl_ord_id: str,
        orig_cl_ord_id: str,
        transact_time: bytes,
        *,
        order_id: str | None = None,
    ) -> bytes:
        """OrderCancelRequest (35=F) body.

        `original` is the order as it currently stands (after any replaces);
        `orig_cl_ord_id` is the ClOrdID of the latest accepted version of it, not the
        first; `order_id` is IB's OrderID(37), when known.

        Raises:
            LocalProtocolError: see the class docstring.
        """
        limit = self._max_id
        values = [id_bytes("OrigClOrdID(41)", orig_cl_ord_id, limit)]
        shape = 0
        if order_id is not None:
            values.append(id_bytes("OrderID(37)", order_id, limit))
            shape = _ORDER_ID
        values.append(id_bytes("ClOrdID(11)", cl_ord_id, limit))
        account = original.account or self._default_account
        if account:
            values.append(self._account.wire(account))
            shape |= _ACCOUNT
        values.append(self._symbol.wire(original.symbol))
        values.append(_SEC_TYPES[original.sec_type])
        values.append(_SIDES[original.side])
        values.append(qty_bytes("OrderQty(38)", original.qty))
        if self._send_transact_time:
            values.append(self._transact_time.check(transact_time))
            shape |= _TRANSACT
        shape |= self._contract(values, original.sec_type, original.derivative, True)
        return self._render(b"F", shape, values)

    def replace_body(
        self,
        original: Terms,
        change: ReplaceOrder,
        cl_ord_id: str,
        orig_cl_ord_id: str,
        transact_time: bytes,
        *,
        order_id: str | None = None,
    ) -> bytes:
        """OrderCancelReplaceRequest (35=G) body: the whole order, with `change` merged in.

        `original` and `orig_cl_ord_id` are as for `cancel_body`. The replace restates
        every term (IB, like FIX, takes G as the complete new order), so the result is
        `merge_replace(original, change)`; the order book should keep that as the order's
        terms once IB confirms the replace (39=5), not before: IB may refuse it.

        Raises:
            LocalProtocolError: see the class docstring; e.g. a new price on a market order.
        """
        limit = self._max_id
        values = [id_bytes("OrigClOrdID(41)", orig_cl_ord_id, limit)]
        shape = 0
        if order_id is not None:
            values.append(id_bytes("OrderID(37)", order_id, limit))
            shape = _ORDER_ID
        values.append(id_bytes("ClOrdID(11)", cl_ord_id, limit))
        m = ReplacedTerms(original, change)
        shape |= self._order_terms(
            values, m.account, m.symbol, m.sec_type, m.side, m.qty, m.type, m.price,
            m.stop_price, m.tif, m.expire_time, m.expire_date, m.exchange, m.currency,
            m.derivative, m.capacity, m.open_close, m.force_only_rth, transact_time,
        )  # fmt: skip
        return self._render(b"G", shape, values)

    def status_body(
        self,
        cl_ord_id: str = ALL_OPEN_ORDERS,
        original: Terms | None = None,
        *,
        order_id: str | None = None,
    ) -> bytes:
        """OrderStatusRequest (35=H) body.

        With the default ClOrdID `*`, IB reports every open order. For one order, pass
        its latest ClOrdID and, when known, its terms (Symbol, SecurityType, Side and the
        contract are then sent, as standard FIX 4.2 expects) and IB's OrderID(37).

        Raises:
            LocalProtocolError: see the class docstring.
        """
        limit = self._max_id
        values: list[bytes] = []
        shape = 0
        if order_id is not None:
            values.append(id_bytes("OrderID(37)", order_id, limit))
            shape = _ORDER_ID
        values.append(id_bytes("ClOrdID(11)", cl_ord_id, limit))
        if original is not None:
            account = original.account or self._default_account
            if account:
                values.append(self._account.wire(account))
                shape |= _ACCOUNT
            values.append(self._symbol.wire(original.symbol))
            values.append(_SEC_TYPES[original.sec_type])
            values.append(_SIDES[original.side])
            shape |= _INSTRUMENT
            shape |= self._contract(values, original.sec_type, original.derivative, False)
        return self._render(b"H", shape, values)

    # Introspection, for tests and the start-up log.

    def proven_shapes(self) -> dict[bytes, list[tuple[int, ...]]]:
        """Per message type, the tag lists proved so far (each passed `validate_outbound`)."""
        return {
            msg_type: [template.tags for template in templates.values()]
            for msg_type, templates in self._templates.items()
        }

    # The parts.

    def _order_terms(
        self,
        values: list[bytes],
        account: str | None,
        symbol: str,
        sec_type: SecurityType,
        side: Side,
        qty: Decimal,
        order_type: OrderType,
        price: Decimal | None,
        stop: Decimal | None,
        tif: TimeInForce,
        expire_time: str | None,
        expire_date: str | None,
        exchange: str,
        currency: str,
        derivative: Derivative | None,
        capacity: Capacity | None,
        open_close: OpenClose | None,
        force_only_rth: bool,
        transact_time: bytes,
    ) -> int:
        """Append the order terms D and G share, from Account(1) on; return their shape.

        The terms come as arguments, each read once by the caller from its own type (a
        `NewOrder` or a `ReplacedTerms`), so none is looked up by name here.
        """
        shape = 0
        account = account or self._default_account
        if account:
            values.append(self._account.cache.get(account) or self._account.admit(account))
            shape = _ACCOUNT
        values.append(self._handl_inst)
        values.append(self._symbol.cache.get(symbol) or self._symbol.admit(symbol))
        values.append(_SEC_TYPES[sec_type])
        values.append(_SIDES[side])
        values.append(qty_bytes("OrderQty(38)", qty))
        rule = _ORD_TYPES[order_type]
        values.append(rule.wire)
        if price is not None:
            if not rule.price:
                raise LocalProtocolError(
                    f"Price(44)={price} is not allowed on a {order_type.value} order"
                )
            values.append(price_bytes("Price(44)", price))
            shape |= _PRICE
        elif rule.price:
            raise LocalProtocolError(f"a {order_type.value} order needs Price(44)")
        if stop is not None:
            if not rule.stop:
                raise LocalProtocolError(
                    f"StopPx(99)={stop} is not allowed on a {order_type.value} order"
                )
            values.append(price_bytes("StopPx(99)", stop))
            shape |= _STOP
        elif rule.stop:
            raise LocalProtocolError(f"a {order_type.value} order needs StopPx(99)")
        values.append(_TIFS[tif])
        if tif is _GTD or expire_time is not None or expire_date is not None:
            shape |= self._expiry(values, tif, expire_time, expire_date)
        if self._send_transact_time:
            values.append(self._transact_time.check(transact_time))
            shape |= _TRANSACT
        exchange = exchange or self._default_exchange
        values.append(self._exchange.cache.get(exchange) or self._exchange.admit(exchange))
        currency = currency or self._default_currency
        values.append(self._currency.cache.get(currency) or self._currency.admit(currency))
        if derivative is not None or sec_type in _CONTRACT_TYPES:
            shape |= self._contract(values, sec_type, derivative, True)
        capacity = capacity or self._default_capacity
        if capacity is not None:
            values.append(_CAPACITIES[capacity])
            shape |= _CAPACITY
        if open_close is not None:
            values.append(_OPEN_CLOSES[open_close])
            shape |= _OPEN_CLOSE
        if force_only_rth:
            values.append(_RTH_ON)
            shape |= _RTH
        return shape

    def _expiry(
        self,
        values: list[bytes],
        tif: TimeInForce,
        expire_time: str | None,
        expire_date: str | None,
    ) -> int:
        """ExpireTime(126) or ExpireDate(432): exactly one with GTD, neither without."""
        if tif is not _GTD:
            raise LocalProtocolError(
                f"ExpireTime(126)/ExpireDate(432) are only allowed with GTD, "
                f"not with {tif.value.upper()}"
            )
        if expire_time is not None and expire_date is not None:
            raise LocalProtocolError("GTD takes ExpireTime(126) or ExpireDate(432), not both")
        if expire_time is not None:
            values.append(self._expire_time.wire(expire_time))
            return _EXPIRE_TIME
        if expire_date is not None:
            values.append(self._expire_date.wire(expire_date))
            return _EXPIRE_DATE
        raise LocalProtocolError("a GTD order needs ExpireTime(126) or ExpireDate(432)")

    def _contract(
        self,
        values: list[bytes],
        sec_type: SecurityType,
        derivative: Derivative | None,
        ib_fields: bool,
    ) -> int:
        """Append the option/future fields present; return their bits.

        `ib_fields` adds LocalSymbol(6035)/TradingClass(6058), which H does not carry.
        """
        if sec_type in _CONTRACT_TYPES:
            _require_contract(sec_type, derivative)
        if derivative is None:
            return 0
        shape = 0
        d = derivative
        if d.maturity_month_year is not None:
            values.append(self._maturity.wire(d.maturity_month_year))
            shape |= _MATURITY
        if d.maturity_day is not None:
            values.append(self._maturity_day.wire(d.maturity_day))
            shape |= _MATURITY_DAY
        if d.put_or_call is not None:
            values.append(_PUT_OR_CALLS[d.put_or_call])
            shape |= _PUT_OR_CALL
        if d.strike is not None:
            values.append(price_bytes("StrikePrice(202)", d.strike))
            shape |= _STRIKE
        if d.multiplier is not None:
            values.append(plain_decimal("ContractMultiplier(231)", d.multiplier, positive=True))
            shape |= _MULTIPLIER
        if d.security_exchange is not None:
            values.append(self._sec_exchange.wire(d.security_exchange))
            shape |= _SEC_EXCHANGE
        if ib_fields:
            if d.local_symbol is not None:
                values.append(self._local_symbol.wire(d.local_symbol))
                shape |= _LOCAL_SYMBOL
            if d.trading_class is not None:
                values.append(self._trading_class.wire(d.trading_class))
                shape |= _TRADING_CLASS
        return shape

    def _render(self, msg_type: bytes, shape: int, values: list[bytes]) -> bytes:
        template = self._templates[msg_type].get(shape)
        if template is None:
            template = self._prove(msg_type, shape, values)
        elif self._validate_all:
            body = list(zip(template.tags, values, strict=True))
            self._validator.validate_outbound(msg_type, body)
        return template.render(tuple(values))

    def _prove(self, msg_type: bytes, shape: int, values: list[bytes]) -> BodyTemplate:
        """First message of a shape: check it against the whole dictionary, then cache it.

        Raises:
            LocalProtocolError: the dictionary refuses the body; the shape is not cached.
        """
        tags = tuple(tag for tag, bit in LAYOUTS[msg_type] if bit == _ALWAYS or shape & bit)
        if len(tags) != len(values):  # a bug in this module, never the caller's input
            raise LocalProtocolError(
                f"dialect built {len(values)} values for the {len(tags)} tags {tags} "
                f"of a {msg_type.decode()} body"
            )
        self._validator.validate_outbound(msg_type, list(zip(tags, values, strict=True)))
        template = BodyTemplate(tags)
        self._templates[msg_type][shape] = template
        return template


def _require_contract(sec_type: SecurityType, derivative: Derivative | None) -> None:
    """Options and futures must name the contract: LocalSymbol, or its fields."""
    if derivative is not None and derivative.local_symbol is not None:
        return
    needed = ["maturity_month_year"]
    if sec_type in _OPTION_TYPES:
        needed += ["strike", "put_or_call"]
    missing = [name for name in needed if derivative is None or getattr(derivative, name) is None]
    if missing:
        raise LocalProtocolError(
            f"a {sec_type.value} order needs LocalSymbol(6035) or the contract's "
            f"{', '.join(missing)}"
        )


def _prove_enum(validator: CompiledValidator, tag: int, wire_values: Any) -> None:
    field = validator.dictionary.fields.get(tag)
    allowed = set(field.values) if field is not None else set()
    for raw in wire_values:
        value = raw.decode("ascii", "replace")
        if field is None or (allowed and value not in allowed):
            raise ConfigError(
                f"dictionary {validator.dictionary.source} does not allow "
                f"{validator.dictionary.field_name(tag)}({tag})={value!r}, which the "
                "dialect sends"
            )
