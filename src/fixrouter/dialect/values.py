"""Turning the variable values of an order into checked wire bytes.

Theory of operation
-------------------
The dictionary's shape checks (which tags, which are required, no repeats) are proved once
per message shape by `Dialect`; what is left to check on every message is the *values*
that vary. They come in three kinds:

* **Enums** come from `tables` and were proved against the dictionary at start-up.
* **Numbers** (`Decimal` quantities and prices) are rendered with `str()`, four times
  cheaper than `format(value, "f")`. A finite Decimal's `str()` is plain `[-]digits[.digits]`
  unless it switches to exponent notation, so the fast path accepts the result when it is
  digits with at most one point, and anything else (exponent, sign, NaN, infinity) takes
  `plain_decimal`, which renders it without exponent or refuses it.
* **Strings** (symbol, account, exchange, currency, maturity, ...) repeat heavily from
  order to order, so each is checked once and remembered: a `FieldRule` keeps a cache from
  the `str` to its wire bytes, and a hit (one dict look-up) is proof the value passed. A
  miss runs the whole check, which is stricter than the dictionary's own: printable ASCII
  only (so no SOH and no other control character), non-empty, not longer than the
  configured limit, and the dictionary's syntax and enum checks for the tag's type (e.g.
  Currency is three upper-case letters). The cache is cleared when it reaches
  `CACHE_LIMIT` entries, so a stream of distinct values costs a check each, never memory.

Identifiers (ClOrdID and friends) are new on every message, so they are checked, not
cached, with `id_bytes`. TransactTime gets `TimestampCheck`, which runs the dictionary's
pattern once per second and, within the second, checks only the fraction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from fixrouter.dictionary import Dictionary
from fixrouter.dictionary.formats import Checker, checker_for, expected_syntax
from fixrouter.errors import LocalProtocolError

CACHE_LIMIT: Final = 4096


def text_problem(value: object, limit: int) -> str | None:
    """Why `value` cannot be a free-text FIX value, or None if it can."""
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not value:
        return "is empty"
    if len(value) > limit:
        return f"is {len(value)} characters long; the limit is {limit}"
    if "\x01" in value:
        return "contains the SOH delimiter"
    for char in value:
        if not (char.isascii() and char.isprintable()):
            kind = "a control" if char.isascii() else "a non-ASCII"
            return f"contains {kind} character {char!r}"
    return None


def id_bytes(label: str, value: str, limit: int) -> bytes:
    """An identifier (ClOrdID, OrigClOrdID, OrderID) as wire bytes.

    Raises:
        LocalProtocolError: the value is empty, too long, or not printable ASCII.
    """
    if isinstance(value, str) and 0 < len(value) <= limit and value.isascii() \
            and value.isprintable():
        return value.encode("ascii")
    raise LocalProtocolError(f"{label}={value!r} {text_problem(value, limit)}")


class FieldRule:
    """Check-once-then-cache for one string-valued tag. See the module docstring.

    Hot path: `rule.cache.get(value) or rule.admit(value)`; cached bytes are never empty.
    """

    __slots__ = ("allowed", "cache", "label", "limit", "syntax", "type_name")

    def __init__(self, dictionary: Dictionary, tag: int, limit: int) -> None:
        field = dictionary.fields[tag]
        self.label = f"{field.name}({tag})"
        self.limit = limit
        self.type_name = field.type
        self.syntax: Checker | None = checker_for(field.type)
        self.allowed = frozenset(v.encode("ascii") for v in field.values) or None
        self.cache: dict[str, bytes] = {}

    def problem(self, value: object) -> str | None:
        """Why `value` cannot go in this tag, or None if it can."""
        problem = text_problem(value, self.limit)
        if problem is not None:
            return problem
        assert isinstance(value, str)
        raw = value.encode("ascii")
        if self.syntax is not None and not self.syntax(raw):
            return f"is not {expected_syntax(self.type_name)}"
        if self.allowed is not None and raw not in self.allowed:
            shown = ", ".join(sorted(v.decode("ascii") for v in self.allowed))
            return f"is not an allowed value ({shown})"
        return None

    def admit(self, value: str) -> bytes:
        """Check `value` thoroughly, remember it, and return its wire bytes.

        Raises:
            LocalProtocolError: naming the field, the value and what is wrong with it.
        """
        problem = self.problem(value)
        if problem is not None:
            raise LocalProtocolError(f"{self.label}={value!r} {problem}")
        raw = value.encode("ascii")
        if len(self.cache) >= CACHE_LIMIT:
            self.cache.clear()
        self.cache[value] = raw
        return raw

    def wire(self, value: str) -> bytes:
        """The checked wire bytes of `value`, from the cache when it has been seen."""
        return self.cache.get(value) or self.admit(value)


def plain_decimal(label: str, value: Decimal, *, positive: bool = False) -> bytes:
    """A number as FIX wants it: no exponent, no `+`, finite. The slow path of rendering.

    Raises:
        LocalProtocolError: not a Decimal or int (a float misprices), not finite, or not
            positive when `positive` is set.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise LocalProtocolError(
            f"{label}={value!r} must be a Decimal, not {type(value).__name__}"
        )
    if isinstance(value, Decimal) and not value.is_finite():
        raise LocalProtocolError(f"{label}={value} is not a finite number")
    if positive and value <= 0:
        raise LocalProtocolError(f"{label}={value} must be positive")
    return format(value, "f").encode("ascii")


def qty_bytes(label: str, value: Decimal) -> bytes:
    """A positive quantity. Whole quantities, the usual case, cost one `str()`."""
    raw = str(value).encode("ascii")
    if raw.isdigit() and raw[0] != 0x30:  # "0" would be a zero quantity
        return raw
    return plain_decimal(label, value, positive=True)


def price_bytes(label: str, value: Decimal) -> bytes:
    """A price; negative prices are legal (spreads, some futures)."""
    raw = str(value).encode("ascii")
    # A float's str() would pass the digit test, so its type is checked too: binary
    # floats misprice. (A float quantity always has a point, so never passes `isdigit`.)
    if raw.replace(b".", b"", 1).isdigit() and type(value) is Decimal:
        return raw
    return plain_decimal(label, value)


class TimestampCheck:
    """Checks UTCTimestamp values (TransactTime) our own clock produced.

    The full pattern runs once per distinct second; within the second only the fraction
    (3 or 6 digits after the point) is checked, since the prefix is the proven one.
    """

    __slots__ = ("_label", "_prefix", "_syntax")

    def __init__(self, dictionary: Dictionary, tag: int) -> None:
        field = dictionary.fields[tag]
        self._label = f"{field.name}({tag})"
        syntax = checker_for(field.type)
        if syntax is None:
            raise LocalProtocolError(f"{self._label} has no timestamp syntax in the dictionary")
        self._syntax = syntax
        self._prefix = b"?"  # matches no timestamp

    def check(self, value: bytes) -> bytes:
        """`value` itself if it is a valid timestamp.

        Raises:
            LocalProtocolError: it is not bytes in the dictionary's UTCTimestamp syntax.
        """
        if (len(value) == 21 or len(value) == 24) and value[:18] == self._prefix \
                and value[18:].isdigit():
            return value
        if not isinstance(value, bytes) or not self._syntax(value):
            raise LocalProtocolError(
                f"{self._label}={value!r} is not YYYYMMDD-HH:MM:SS[.sss[sss]] bytes"
            )
        if len(value) > 18:
            self._prefix = value[:18]
        return value
