"""Simulator scenarios: what the fake IB does with each order, loaded from TOML.

Theory of operation: a scenario is a default *rule*, optional per-symbol rules that
override keys of the default, and a list of *tricks* (IB certification events) fired by
triggers. Everything is parsed once at start-up into frozen values; the order-handling
logic in `fixrouter.sim.book` only reads them. Every table rejects keys it does not know,
naming the key and its place in the file, because a misspelt key silently ignored would make
a test pass for the wrong reason. `fix/README.md` documents the format.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fixrouter.errors import ConfigError


class Behaviour(enum.StrEnum):
    """What happens to an accepted order after its New acknowledgement."""

    FILL = "fill"  # one full fill straight away
    PARTIAL = "partial"  # `partials` fills, `interval_ms` apart, the last one completing it
    REST = "rest"  # nothing: it works until cancelled (or an admin command acts on it)
    REJECT = "reject"  # rejected instead of acknowledged (39=8, 103=0, reject_text in 58)


class TrickKind(enum.StrEnum):
    """IB certification events the simulator can stage."""

    UNSOLICITED_CANCEL = "unsolicited_cancel"
    BUST = "bust"
    CORRECT = "correct"
    NEWS = "news"
    DROP = "drop"


class Trigger(enum.StrEnum):
    """When a scenario trick fires (after its `delay_ms`)."""

    LOGON = "logon"  # a session logged on
    NEW = "new"  # an order was acknowledged (the trick targets that order)
    FILL = "fill"  # a fill was reported (the trick targets that execution)


# Kinds that need an order or an execution to act on, and the triggers that supply one.
_TRIGGERS_FOR: dict[TrickKind, frozenset[Trigger]] = {
    TrickKind.UNSOLICITED_CANCEL: frozenset({Trigger.NEW, Trigger.FILL}),
    TrickKind.BUST: frozenset({Trigger.FILL}),
    TrickKind.CORRECT: frozenset({Trigger.FILL}),
    TrickKind.NEWS: frozenset(Trigger),
    TrickKind.DROP: frozenset(Trigger),
}


@dataclass(frozen=True, slots=True)
class Rule:
    """How orders in one symbol are handled. Defaults are documented in fix/README.md."""

    behaviour: Behaviour = Behaviour.FILL
    # Fill price of orders without a limit price, and the centre of the price collar.
    reference_price: Decimal = Decimal("100.00")
    partials: int = 3
    interval_ms: int = 50
    reject_text: str = "Order rejected: trading is not allowed for this contract"
    # Orders for more than this are rejected with 103=3 ("order exceeds limit"). None: no cap.
    reject_qty_above: Decimal | None = None
    # Limit prices further than this many percent from reference_price are rejected, as IB
    # does for stock limits more than 10% through the NBBO. None: no collar.
    collar_pct: Decimal | None = Decimal("10")


@dataclass(frozen=True, slots=True)
class Trick:
    """One scheduled certification event. See `_TRIGGERS_FOR` for legal kind/trigger pairs."""

    kind: TrickKind
    on: Trigger
    symbol: str | None = None  # only orders in this symbol (ignored for on="logon")
    delay_ms: int = 0
    times: int = 1  # how many times it may fire in a run; 0 means every time
    text: str | None = None  # 58 on the unsolicited cancel; the news story's text
    headline: str | None = None  # news only
    qty: Decimal | None = None  # correct only: corrected LastShares (default: unchanged)
    price: Decimal | None = None  # correct only: corrected LastPx (default: original + 0.01)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole scenario file, parsed."""

    default: Rule = field(default_factory=Rule)
    symbols: Mapping[str, Rule] = field(default_factory=dict)
    tricks: tuple[Trick, ...] = ()
    description: str = ""

    def rule_for(self, symbol: str) -> Rule:
        return self.symbols.get(symbol, self.default)


_RULE_KEYS = frozenset(Rule.__dataclass_fields__)
_TRICK_KEYS = frozenset(Trick.__dataclass_fields__)
_TOP_KEYS = frozenset({"description", "default", "symbols", "tricks"})


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file.

    Raises ConfigError naming the file and the offending key or value.
    """
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read scenario: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    return parse_scenario(data, source=str(path))


def parse_scenario(data: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """Build a Scenario from already-parsed TOML. Raises ConfigError."""
    _check_keys(data, _TOP_KEYS, source, "")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{source}: description must be a string")
    default_table = _table(data.get("default", {}), source, "default")
    default = _rule(default_table, Rule(), source, "default")
    symbols: dict[str, Rule] = {}
    for symbol, table in _table(data.get("symbols", {}), source, "symbols").items():
        where = f"symbols.{symbol}"
        # A symbol rule overrides only the keys it names; the rest come from [default].
        symbols[symbol] = _rule(_table(table, source, where), default, source, where)
    raw_tricks = data.get("tricks", [])
    if not isinstance(raw_tricks, list):
        raise ConfigError(f"{source}: tricks must be an array of tables ([[tricks]])")
    tricks = tuple(
        _trick(_table(t, source, f"tricks[{i}]"), source, f"tricks[{i}]")
        for i, t in enumerate(raw_tricks)
    )
    return Scenario(default=default, symbols=symbols, tricks=tricks, description=description)


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], source: str, where: str) -> None:
    for key in table:
        if key not in allowed:
            place = f"{where}.{key}" if where else key
            raise ConfigError(
                f"{source}: unknown key {place!r} (allowed here: {', '.join(sorted(allowed))})"
            )


def _table(value: object, source: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {where} must be a table")
    return value


def _rule(table: Mapping[str, Any], base: Rule, source: str, where: str) -> Rule:
    _check_keys(table, _RULE_KEYS, source, where)

    def get(key: str, conv: Any, current: Any) -> Any:
        return conv(table[key], source, f"{where}.{key}") if key in table else current

    rule = Rule(
        behaviour=get("behaviour", _enum(Behaviour), base.behaviour),
        reference_price=get("reference_price", _positive_decimal, base.reference_price),
        partials=get("partials", _int_at_least(1), base.partials),
        interval_ms=get("interval_ms", _int_at_least(0), base.interval_ms),
        reject_text=get("reject_text", _str, base.reject_text),
        reject_qty_above=get(
            "reject_qty_above", _optional(_positive_decimal), base.reject_qty_above
        ),
        collar_pct=get("collar_pct", _optional(_positive_decimal), base.collar_pct),
    )
    return rule


def _trick(table: Mapping[str, Any], source: str, where: str) -> Trick:
    _check_keys(table, _TRICK_KEYS, source, where)
    for required in ("kind", "on"):
        if required not in table:
            raise ConfigError(f"{source}: {where} needs key {required!r}")

    def get(key: str, conv: Any, default: Any) -> Any:
        return conv(table[key], source, f"{where}.{key}") if key in table else default

    trick = Trick(
        kind=get("kind", _enum(TrickKind), None),
        on=get("on", _enum(Trigger), None),
        symbol=get("symbol", _str, None),
        delay_ms=get("delay_ms", _int_at_least(0), 0),
        times=get("times", _int_at_least(0), 1),
        text=get("text", _str, None),
        headline=get("headline", _str, None),
        qty=get("qty", _positive_decimal, None),
        price=get("price", _positive_decimal, None),
    )
    if trick.on not in _TRIGGERS_FOR[trick.kind]:
        allowed = ", ".join(sorted(_TRIGGERS_FOR[trick.kind]))
        raise ConfigError(
            f"{source}: {where}.on = {trick.on.value!r} cannot trigger {trick.kind.value!r} "
            f"(it needs one of: {allowed})"
        )
    if (trick.qty is not None or trick.price is not None) and trick.kind is not TrickKind.CORRECT:
        raise ConfigError(f"{source}: {where}: qty and price apply only to kind = 'correct'")
    if trick.headline is not None and trick.kind is not TrickKind.NEWS:
        raise ConfigError(f"{source}: {where}: headline applies only to kind = 'news'")
    return trick


# Converters: (value, source, "dotted.key") -> typed value, raising ConfigError.


def _str(value: object, source: str, key: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{source}: {key} must be a string, not {value!r}")
    return value


def _positive_decimal(value: object, source: str, key: str) -> Decimal:
    # Floats are accepted for convenience but go through str() so 0.1 stays 0.1.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(f"{source}: {key} must be a decimal string or number, not {value!r}")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{source}: {key} is not a number: {value!r}") from None
    if not d.is_finite() or d <= 0:
        raise ConfigError(f"{source}: {key} must be positive, not {value!r}")
    return d


def _int_at_least(minimum: int) -> Any:
    def conv(value: object, source: str, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"{source}: {key} must be an integer >= {minimum}, not {value!r}")
        return value

    return conv


def _optional(conv: Any) -> Any:
    # TOML has no null, so "off" spells "no limit" (e.g. collar_pct = "off").
    def wrapped(value: object, source: str, key: str) -> Any:
        return None if value == "off" else conv(value, source, key)

    return wrapped


def _enum(kind: type[enum.StrEnum]) -> Any:
    def conv(value: object, source: str, key: str) -> enum.StrEnum:
        try:
            return kind(str(value))
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in kind)
            raise ConfigError(f"{source}: {key} = {value!r} is not one of {allowed}") from None

    return conv
