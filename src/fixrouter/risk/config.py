"""The `[risk]` section of the router config, read into a frozen `RiskConfig`.

Theory of operation
-------------------
The router's config loader parses the TOML file and hands this module the `[risk]`
table (a dict). Its shape::

    [risk.global]            # limits for every order
    [risk.accounts.U123]     # limits for orders on account U123
    [risk.strategies.momo]   # limits for orders from strategy "momo"
    [risk.symbols.AAPL]      # limits for orders in symbol AAPL
    [risk.throttle]          # message throttle, every session ...
    [risk.throttle.sessions.desk1]   # ... with per-session overrides
    [risk.kill_switch]       # automatic kill-switch triggers

Every limit key is one row of `LIMIT_KEYS`: the `Limits` field it sets, the converter
that checks and converts its TOML value, and the scopes it is meaningful in. A key the
table does not know, a key in a scope where it means nothing, or a value of the wrong
type or range is a `ConfigError` that names the table and the key (and the closest known
key, for a typo). Nothing is half-loaded: `from_toml_table` either returns a whole
config or raises, which is what lets `RiskGate.reload` refuse a bad config whole.

Numeric limits also take the string `"off"` (the control is switched off for that scope
and narrower ones that do not set it again); allow-lists take `"off"` for "anything".
Decimal values accept TOML integers, floats (read through their shortest repr, so
`0.01` is exactly 0.01) and decimal strings. Defaults are `limits.Limits`'s, documented
with their reasons in `fix/risk-reference.md`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from fixrouter.errors import ConfigError
from fixrouter.requests import OrderType, SecurityType, TimeInForce
from fixrouter.risk.killswitch import KillSwitchSettings
from fixrouter.risk.limits import DEFAULT_LIMITS, Layer, Limits, LimitTable, MissingReference
from fixrouter.risk.throttle import ThrottleMode, ThrottleSettings

OFF = "off"

_EMPTY: Mapping[str, Layer] = MappingProxyType({})
_NO_SESSIONS: Mapping[str, ThrottleSettings] = MappingProxyType({})


class _Mismatch(Exception):
    """A value of the wrong type or range; `expected` says what was wanted."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def _shown(value: object) -> str:
    kind = {bool: "boolean", int: "integer", float: "float", str: "string",
            list: "array", dict: "table"}.get(type(value), type(value).__name__)
    return f"{kind} {value!r}"


# ---- converters: TOML value -> Python value, or _Mismatch --------------------------------


def _decimal(value: object, expected: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Mismatch(expected)
    try:
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation:
        raise _Mismatch(expected) from None
    if not number.is_finite():
        raise _Mismatch(expected)
    return number


def _positive_decimal(value: object) -> Decimal:
    number = _decimal(value, "a number above 0")
    if number <= 0:
        raise _Mismatch("a number above 0")
    return number


def _positive_decimal_or_off(value: object) -> Decimal | None:
    if value == OFF:
        return None
    number = _decimal(value, 'a number above 0 or "off"')
    if number <= 0:
        raise _Mismatch('a number above 0 or "off"')
    return number


def _percent_or_off(value: object) -> Decimal | None:
    if value == OFF:
        return None
    number = _decimal(value, 'a percentage above 0 and at most 100, or "off"')
    if not 0 < number <= 100:
        raise _Mismatch('a percentage above 0 and at most 100, or "off"')
    return number


def _integer(value: object, expected: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _Mismatch(expected)
    return value


def _positive_int_or_off(value: object) -> int | None:
    if value == OFF:
        return None
    return _integer(value, 'an integer above 0 or "off"', 1)


def _count(value: object) -> int:
    return _integer(value, "an integer, 0 or more", 0)


def _ratio_or_off(value: object) -> float | None:
    if value == OFF:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise _Mismatch('a number above 0 or "off"')
    return float(value)


def _milliseconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _Mismatch("a number of milliseconds, 0 (off) or more")
    return float(value) / 1000.0


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise _Mismatch("a number of seconds above 0")
    return float(value)


def _rate(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise _Mismatch("a number of messages per second above 0")
    return float(value)


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Mismatch("true or false")
    return value


def _strings(value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _Mismatch("an array of non-empty strings")
    return frozenset(value)


def _strings_or_off(value: object) -> frozenset[str] | None:
    if value == OFF:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _Mismatch('an array of non-empty strings, or "off"')
    return frozenset(value)


def _enum_set(kind: type[OrderType] | type[TimeInForce] | type[SecurityType]) -> Callable[
    [object], frozenset[Any] | None
]:
    names = ", ".join(repr(m.value) for m in kind)
    expected = f'"off" or an array of {names}'

    def convert(value: object) -> frozenset[Any] | None:
        if value == OFF:
            return None
        if not isinstance(value, list):
            raise _Mismatch(expected)
        try:
            members = frozenset(kind(v) for v in value)
        except ValueError:
            raise _Mismatch(expected) from None
        if kind is SecurityType and members & {SecurityType.STK, SecurityType.CS}:
            # CS is IB's alias for STK: allowing one allows the other.
            members = members | {SecurityType.STK, SecurityType.CS}
        return members

    return convert


def _missing_reference(value: object) -> MissingReference:
    if value not in ("deny", "warn"):
        raise _Mismatch('"deny" or "warn"')
    return MissingReference(str(value))


def _throttle_mode(value: object) -> ThrottleMode:
    if value not in ("deny", "queue"):
        raise _Mismatch('"deny" or "queue"')
    return ThrottleMode(str(value))


# ---- the schema ----------------------------------------------------------------------------

G, A, T, S = "global", "accounts", "strategies", "symbols"
_ALL = frozenset({G, A, T, S})


@dataclass(frozen=True, slots=True)
class _Row:
    field: str
    convert: Callable[[object], Any]
    scopes: frozenset[str] = _ALL


LIMIT_KEYS: Mapping[str, _Row] = MappingProxyType({
    "max_order_qty": _Row("max_order_qty", _positive_decimal_or_off),
    "max_order_notional": _Row("max_order_notional", _positive_decimal_or_off),
    "price_collar_pct": _Row("price_collar_pct", _percent_or_off),
    "price_collar_ticks": _Row("price_collar_ticks", _positive_int_or_off),
    "tick_size": _Row("tick_size", _positive_decimal),
    "allow_market_orders": _Row("allow_market_orders", _boolean),
    "allowed_order_types": _Row("allowed_order_types", _enum_set(OrderType)),
    "allowed_tifs": _Row("allowed_tifs", _enum_set(TimeInForce)),
    "allowed_security_types": _Row("allowed_security_types", _enum_set(SecurityType)),
    "allowed_destinations": _Row("allowed_destinations", _strings_or_off),
    # Which accounts a strategy may trade: meaningless inside an account's own table.
    "allowed_accounts": _Row("allowed_accounts", _strings_or_off, frozenset({G, T})),
    # Symbol lists mean nothing inside one symbol's table.
    "allowed_symbols": _Row("allowed_symbols", _strings_or_off, frozenset({G, A, T})),
    "restricted_symbols": _Row("restricted_symbols", _strings, frozenset({G, A, T})),
    "max_open_orders": _Row("max_open_orders", _positive_int_or_off),
    "max_open_orders_symbol_side": _Row("max_open_orders_symbol_side", _positive_int_or_off),
    "max_position": _Row("max_position", _positive_decimal_or_off),
    "max_gross_daily_notional": _Row("max_gross_daily_notional", _positive_decimal_or_off),
    "duplicate_window_ms": _Row("duplicate_window", _milliseconds),
    "order_efficiency_warn": _Row("order_efficiency_warn", _ratio_or_off),
    "order_efficiency_block": _Row("order_efficiency_block", _ratio_or_off),
    "order_efficiency_min_messages": _Row("order_efficiency_min_messages", _count),
    "missing_reference": _Row("missing_reference", _missing_reference),
    "multiplier": _Row("multiplier", _positive_decimal),
})

THROTTLE_KEYS: Mapping[str, Callable[[object], Any]] = MappingProxyType({
    "rate": _rate,
    "burst": lambda v: _integer(v, "an integer, 1 or more", 1),
    "cancel_rate": _rate,
    "cancel_burst": lambda v: _integer(v, "an integer, 1 or more", 1),
    "mode": _throttle_mode,
    "queue_depth": _count,
})

KILL_SWITCH_KEYS: Mapping[str, Callable[[object], Any]] = MappingProxyType({
    "max_denials": _count,
    "max_rejects": _count,
    "window_seconds": _seconds,
    "on_position_breach": _boolean,
    "cancel_all": _boolean,
})

_TOP = ("global", "accounts", "strategies", "symbols", "throttle", "kill_switch")


def _unknown(key: str, where: str, known: object) -> ConfigError:
    names = list(known)  # type: ignore[call-overload]
    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"unknown key {key!r} in [{where}]{hint}")


def _table(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{where}] must be a table, got {_shown(value)}")
    return value


def _convert(key: str, value: object, convert: Callable[[object], Any], where: str) -> Any:
    try:
        return convert(value)
    except _Mismatch as exc:
        raise ConfigError(
            f"[{where}] {key}: expected {exc.expected}, got {_shown(value)}"
        ) from None


def _layer(table: Mapping[str, object], scope: str, where: str) -> Layer:
    out: dict[str, Any] = {}
    for key, value in table.items():
        row = LIMIT_KEYS.get(key)
        if row is None:
            raise _unknown(key, where, LIMIT_KEYS)
        if scope not in row.scopes:
            raise ConfigError(
                f"[{where}] {key}: not meaningful in a [risk.{scope}.*] table "
                f"(allowed in {', '.join(sorted('risk.' + s for s in row.scopes))})"
            )
        out[row.field] = _convert(key, value, row.convert, where)
    warn = out.get("order_efficiency_warn")
    block = out.get("order_efficiency_block")
    if warn is not None and block is not None and warn > block:
        raise ConfigError(
            f"[{where}] order_efficiency_warn ({warn:g}) is above order_efficiency_block "
            f"({block:g}): the warning would never come first"
        )
    return MappingProxyType(out)


def _named_layers(value: object, scope: str) -> Mapping[str, Layer]:
    where = f"risk.{scope}"
    tables = _table(value, where)
    out: dict[str, Layer] = {}
    for name, table in tables.items():
        if not name:
            raise ConfigError(f"[{where}] has a table with an empty name")
        inner = f"{where}.{name}"
        out[name] = _layer(_table(table, inner), scope, inner)
    return MappingProxyType(out)


def _settings(
    table: Mapping[str, object],
    keys: Mapping[str, Callable[[object], Any]],
    where: str,
    skip: tuple[str, ...] = (),
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in skip:
            continue
        convert = keys.get(key)
        if convert is None:
            raise _unknown(key, where, [*keys, *skip])
        out[key] = _convert(key, value, convert, where)
    return out


def _build(kind: Callable[..., Any], values: dict[str, Any], where: str) -> Any:
    try:
        return kind(**values)
    except ConfigError as exc:  # the settings' own range checks name the key
        raise ConfigError(f"[{where}] {exc}") from None


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """The whole `[risk]` section, validated. Build it with `from_toml_table`."""

    global_limits: Limits = DEFAULT_LIMITS
    accounts: Mapping[str, Layer] = field(default_factory=lambda: _EMPTY)
    strategies: Mapping[str, Layer] = field(default_factory=lambda: _EMPTY)
    symbols: Mapping[str, Layer] = field(default_factory=lambda: _EMPTY)
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)
    session_throttles: Mapping[str, ThrottleSettings] = field(default_factory=lambda: _NO_SESSIONS)
    kill_switch: KillSwitchSettings = field(default_factory=KillSwitchSettings)

    @classmethod
    def from_toml_table(cls, table: Mapping[str, object] | None) -> RiskConfig:
        """Read the `[risk]` table (None or empty: every default).

        Raises ConfigError naming the table and key for an unknown key, a key in a scope
        where it means nothing, or a bad value. Either the whole config is valid or
        nothing is returned.
        """
        if table is None:
            return cls()
        table = _table(table, "risk")
        for key in table:
            if key not in _TOP:
                raise _unknown(key, "risk", _TOP)
        global_limits = DEFAULT_LIMITS
        if "global" in table:
            layer = _layer(_table(table["global"], "risk.global"), G, "risk.global")
            global_limits = replace(DEFAULT_LIMITS, **layer)
            warn, block = global_limits.order_efficiency_warn, global_limits.order_efficiency_block
            if warn is not None and block is not None and warn > block:
                raise ConfigError(
                    f"[risk.global] order_efficiency_warn ({warn:g}) is above "
                    f"order_efficiency_block ({block:g}): the warning would never come first"
                )
        throttle_table = _table(table.get("throttle", {}), "risk.throttle")
        throttle_values = _settings(throttle_table, THROTTLE_KEYS, "risk.throttle",
                                    skip=("sessions",))
        throttle = _build(ThrottleSettings, throttle_values, "risk.throttle")
        sessions: dict[str, ThrottleSettings] = {}
        session_tables = _table(throttle_table.get("sessions", {}), "risk.throttle.sessions")
        for name, sub in session_tables.items():
            where = f"risk.throttle.sessions.{name}"
            values = _settings(_table(sub, where), THROTTLE_KEYS, where)
            sessions[name] = _build(ThrottleSettings, {**throttle_values, **values}, where)
        kill_table = _table(table.get("kill_switch", {}), "risk.kill_switch")
        kill = _build(
            KillSwitchSettings,
            _settings(kill_table, KILL_SWITCH_KEYS, "risk.kill_switch"),
            "risk.kill_switch",
        )
        return cls(
            global_limits=global_limits,
            accounts=_named_layers(table.get("accounts", {}), A),
            strategies=_named_layers(table.get("strategies", {}), T),
            symbols=_named_layers(table.get("symbols", {}), S),
            throttle=throttle,
            session_throttles=MappingProxyType(sessions),
            kill_switch=kill,
        )

    @property
    def max_duplicate_window(self) -> float:
        """The longest duplicate window of any scope (seconds): how long the gate must
        remember an accepted order's content."""
        windows = [self.global_limits.duplicate_window]
        for layers in (self.accounts, self.strategies, self.symbols):
            windows.extend(layer.get("duplicate_window", 0.0) for layer in layers.values())
        return max(windows)

    def limit_table(self) -> LimitTable:
        """A fresh resolver (with an empty memo) for this config."""
        return LimitTable(self.global_limits, self.accounts, self.strategies, self.symbols)

    def limits_for(self, account: str, strategy: str, symbol: str) -> Limits:
        """The limits in force for one order (uncached; for tools and tests)."""
        return self.limit_table().get(account, strategy, symbol)

    def throttle_for(self, session: str) -> ThrottleSettings:
        return self.session_throttles.get(session, self.throttle)
