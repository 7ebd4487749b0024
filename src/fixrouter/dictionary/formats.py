"""The syntax of FIX data types, as checks on raw field values.

Theory of operation: `checker_for(type_name)` returns a function `bytes -> bool`, or None
for a type whose every non-empty value is legal (STRING, EXCHANGE, DATA, ...). The
validator looks the checker up once per tag at start-up, so the hot path pays one call per
typed field and nothing for free-text fields.

The checks run on every outbound field, so they avoid regular expressions where a C-level
bytes method does the job. Measured on the development machine: a whole quantity costs
one `isdigit()` (about 10 ns), a price such as `187.25` about 95 ns against 130 ns for a
regex, and a timestamp, which does use a regex, about 185 ns; the engine sends one or two
of those per message.

What is accepted (FIX 4.2, volume 1, "Data types", with QuickFIX's later type names):
- INT: optional `-`, digits. SEQNUM, LENGTH, NUMINGROUP: digits only.
- FLOAT, QTY, PRICE, PRICEOFFSET, AMT, PERCENTAGE: optional `-`, digits with at most one
  `.`; no exponent, no `+`, no NaN or infinity.
- CHAR: one byte. BOOLEAN: `Y` or `N`. CURRENCY: three upper-case letters.
- UTCTIMESTAMP: `YYYYMMDD-HH:MM:SS` with optional `.sss` or `.ssssss`; second 60 (a leap
  second) is allowed, as FIX allows it.
- UTCTIMEONLY: `HH:MM:SS[.sss]`. UTCDATE, UTCDATEONLY, LOCALMKTDATE: `YYYYMMDD`.
- MONTHYEAR: `YYYYMM`, optionally followed by a day `DD` or a week `wN` (IB sends dated
  futures and options as `YYYYMMDD`). DAYOFMONTH: 1 to 31.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A syntax check: its result is truthy when the value is well-formed. Regex checks return
# the Match itself, because wrapping them in a Python function doubles their cost.
Checker = Callable[[bytes], object]

_DATE = rb"[0-9]{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_TIME = rb"(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)"
UTC_TIMESTAMP = re.compile(_DATE + rb"-" + _TIME + rb"(?:\.[0-9]{3}(?:[0-9]{3})?)?")
UTC_TIMESTAMP_SECOND = re.compile(_DATE + rb"-" + _TIME)
"""The fixed-width `YYYYMMDD-HH:MM:SS` part of a UTCTIMESTAMP (17 bytes when it matches)."""
_UTC_TIME_ONLY = re.compile(_TIME + rb"(?:\.[0-9]{3}(?:[0-9]{3})?)?")
_DATE_ONLY = re.compile(_DATE)
_MONTH_YEAR = re.compile(rb"[0-9]{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]|w[1-5])?")


def is_int(value: bytes) -> bool:
    return value.isdigit() or (value[:1] == b"-" and value[1:].isdigit())


def is_decimal(value: bytes) -> bool:
    if value.isdigit():
        return True
    if value[:1] == b"-":
        value = value[1:]
    # Dropping the one allowed point must leave only digits: a second point, a sign after
    # the first byte, an exponent, NaN or a lone "." all fail isdigit().
    return value.replace(b".", b"", 1).isdigit()


def is_char(value: bytes) -> bool:
    return len(value) == 1


def is_boolean(value: bytes) -> bool:
    return value == b"Y" or value == b"N"


def is_currency(value: bytes) -> bool:
    # Three C-level tests beat a regex call by half.
    return len(value) == 3 and value.isalpha() and value.isupper()


def is_day_of_month(value: bytes) -> bool:
    return value.isdigit() and 1 <= int(value) <= 31


def _matches(pattern: re.Pattern[bytes]) -> Checker:
    return pattern.fullmatch


_CHECKERS: dict[str, Checker] = {
    "INT": is_int,
    "SEQNUM": bytes.isdigit,
    "LENGTH": bytes.isdigit,
    "NUMINGROUP": bytes.isdigit,
    "TAGNUM": bytes.isdigit,
    "FLOAT": is_decimal,
    "QTY": is_decimal,
    "PRICE": is_decimal,
    "PRICEOFFSET": is_decimal,
    "AMT": is_decimal,
    "PERCENTAGE": is_decimal,
    "CHAR": is_char,
    "BOOLEAN": is_boolean,
    "CURRENCY": is_currency,
    "UTCTIMESTAMP": _matches(UTC_TIMESTAMP),
    "TIME": _matches(UTC_TIMESTAMP),  # FIX 4.0/4.1's name for UTCTIMESTAMP
    "UTCTIMEONLY": _matches(_UTC_TIME_ONLY),
    "UTCDATE": _matches(_DATE_ONLY),
    "UTCDATEONLY": _matches(_DATE_ONLY),
    "LOCALMKTDATE": _matches(_DATE_ONLY),
    "DATE": _matches(_DATE_ONLY),
    "MONTHYEAR": _matches(_MONTH_YEAR),
    "DAYOFMONTH": is_day_of_month,
}

# Human wording of each type's syntax, for error messages.
_EXPECTED: dict[str, str] = {
    "INT": "an integer",
    "SEQNUM": "a non-negative integer",
    "LENGTH": "a non-negative integer",
    "NUMINGROUP": "a non-negative integer",
    "TAGNUM": "a non-negative integer",
    "CHAR": "a single character",
    "BOOLEAN": "Y or N",
    "CURRENCY": "a three-letter ISO 4217 code",
    "UTCTIMESTAMP": "YYYYMMDD-HH:MM:SS[.sss[sss]]",
    "TIME": "YYYYMMDD-HH:MM:SS[.sss[sss]]",
    "UTCTIMEONLY": "HH:MM:SS[.sss[sss]]",
    "UTCDATE": "YYYYMMDD",
    "UTCDATEONLY": "YYYYMMDD",
    "LOCALMKTDATE": "YYYYMMDD",
    "DATE": "YYYYMMDD",
    "MONTHYEAR": "YYYYMM[DD|wN]",
    "DAYOFMONTH": "a day of the month, 1-31",
}
_DECIMAL_WORDING = "a decimal number without exponent"


def checker_for(type_name: str) -> Checker | None:
    """The syntax check for a FIX type, or None when any non-empty value will do.

    An unknown type name is treated as free-form: the dictionary may use a type from a
    later FIX version, and refusing to start over it would help no one.
    """
    return _CHECKERS.get(type_name.upper())


def excludes_empty_and_soh(type_name: str) -> bool:
    """Whether every value the type's syntax check accepts is non-empty and free of SOH.

    True for every checked type but CHAR (one byte, which may be SOH); False for the
    free-form types. The inbound fast tier relies on it to skip its own emptiness and SOH
    tests on such fields.
    """
    name = type_name.upper()
    return name in _CHECKERS and name != "CHAR"


def expected_syntax(type_name: str) -> str:
    """How a value of this type must look, in words."""
    name = type_name.upper()
    if _CHECKERS.get(name) is is_decimal:
        return _DECIMAL_WORDING
    return _EXPECTED.get(name, "any non-empty value")
