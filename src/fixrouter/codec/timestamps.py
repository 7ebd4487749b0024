"""UTC timestamps in FIX's `YYYYMMDD-HH:MM:SS[.sss[sss]]` form.

Formatting is on the send path of every message (SendingTime, TransactTime), so the
`YYYYMMDD-HH:MM:SS` prefix is cached per whole second: within one second only the
fraction is formatted. The cache holds one entry, which is all a monotonic clock needs.
Millisecond stamps go one step further: the whole stamp of the last millisecond is kept
(orders sent back to back share it, and a router's TransactTime and the session's
SendingTime of one order nearly always do), and a new one joins the second's prefix to
the millisecond's text from a table instead of `%`-formatting it.
Time is always passed in as epoch seconds; nothing here reads a clock.

Parsing is on the receive path of every message (SendingTime), so it caches the other
way: the epoch of the last `YYYYMMDD-HH:MM` prefix it converted. A SendingTime in the same
minute as the previous one (nearly all of them) costs the seconds and the fraction only,
not `calendar.timegm`; one in the same second as the previous one costs the fraction
only. A prefix's validity is a function of its bytes alone, so a cache hit accepts and
rejects exactly what a full parse does.
"""

from __future__ import annotations

import time
from calendar import timegm
from collections.abc import Callable
from typing import Final, Literal

Precision = Literal["ms", "us"]

_last_second = -1
_last_prefix = b""
_last_ms = -1
_last_ms_stamp = b""
_MS_TEXT: Final = tuple(b".%03d" % ms for ms in range(1000))
# The digits a fraction may have, to what they are divided by (`10 ** len`, precomputed).
_FRACTION_SCALE: Final = {3: 1_000, 6: 1_000_000, 9: 1_000_000_000}
# The parse cache: a `YYYYMMDD-HH:MM` prefix that parsed, and its epoch seconds.
_last_minute = b""
_last_minute_epoch = 0
# And the whole second, `YYYYMMDD-HH:MM:SS`, of the last stamp that parsed (a report's
# SendingTime mostly repeats the one before), with its epoch seconds (second 60 as 59).
# Starts as a true pair, so that no other value can match it unparsed.
_parsed_second = b"19700101-00:00:00"
_parsed_second_epoch = 0


def _second_prefix(second: int) -> bytes:
    global _last_second, _last_prefix
    if second != _last_second:
        _last_prefix = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(second)).encode("ascii")
        _last_second = second
    return _last_prefix


def format_utc_ms(epoch: float) -> bytes:
    """`YYYYMMDD-HH:MM:SS.sss`: FIX 4.2's UTCTimestamp with milliseconds."""
    global _last_ms, _last_ms_stamp
    ms = int(epoch * 1000.0)
    if ms != _last_ms:
        second, frac = divmod(ms, 1000)
        _last_ms_stamp = _second_prefix(second) + _MS_TEXT[frac]
        _last_ms = ms
    return _last_ms_stamp


def format_utc_us(epoch: float) -> bytes:
    """`YYYYMMDD-HH:MM:SS.ssssss`: microseconds, for counterparties that accept them."""
    us = int(epoch * 1_000_000.0)
    second, frac = divmod(us, 1_000_000)
    return b"%s.%06d" % (_second_prefix(second), frac)


def formatter(precision: Precision) -> Callable[[float], bytes]:
    """The formatting function for a precision setting (`ms` or `us`)."""
    return format_utc_us if precision == "us" else format_utc_ms


def parse_utc_timestamp(value: bytes) -> float:
    """Parse a FIX UTCTimestamp to epoch seconds.

    Accepts no fraction, milliseconds, or microseconds (FIX 4.2 allows the first two;
    many engines send the third).

    Raises:
        ValueError: the value is not a UTCTimestamp.
    """
    global _parsed_second, _parsed_second_epoch
    if value[:17] == _parsed_second:
        # The same second as the last stamp that parsed: only the fraction is left.
        return _with_fraction(value, _parsed_second_epoch)
    if len(value) < 17 or value[8:9] != b"-" or value[11:12] != b":" or value[14:15] != b":":
        raise ValueError(f"not a UTCTimestamp: {value!r}")
    if value[:14] != _last_minute:
        return _parse_full(value)
    # The prefix parsed before: only the seconds and the fraction are left to check.
    try:
        second = int(value[15:17])
    except ValueError:
        raise ValueError(f"not a UTCTimestamp: {value!r}") from None
    if not second < 61:
        raise ValueError(f"not a UTCTimestamp: {value!r}")
    whole = _last_minute_epoch + min(second, 59)
    parsed = _with_fraction(value, whole)
    _parsed_second = value[:17]
    _parsed_second_epoch = whole
    return parsed


def _with_fraction(value: bytes, whole: int) -> float:
    """`whole` (the epoch of `value`'s second) plus `value`'s fraction after byte 17.

    Raises:
        ValueError: the fraction is not `.` and 3, 6 or 9 digits.
    """
    rest = value[17:]
    if not rest:
        return float(whole)
    digits = rest[1:]
    scale = _FRACTION_SCALE.get(len(digits), 0)
    if not scale or rest[:1] != b"." or not digits.isdigit():
        raise ValueError(f"not a UTCTimestamp: {value!r}")
    fraction: float = int(digits) / scale
    return whole + fraction


def _parse_full(value: bytes) -> float:
    """Every field parsed and checked; a success caches the minute's and the second's epoch."""
    global _last_minute, _last_minute_epoch, _parsed_second, _parsed_second_epoch
    try:
        year = int(value[0:4])
        month = int(value[4:6])
        day = int(value[6:8])
        hour = int(value[9:11])
        minute = int(value[12:14])
        second = int(value[15:17])
    except ValueError:
        raise ValueError(f"not a UTCTimestamp: {value!r}") from None
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise ValueError(f"not a UTCTimestamp: {value!r}")
    fraction = 0.0
    rest = value[17:]
    if rest:
        digits = rest[1:]
        if rest[:1] != b"." or len(digits) not in (3, 6, 9) or not digits.isdigit():
            raise ValueError(f"not a UTCTimestamp: {value!r}")
        fraction = int(digits) / (10 ** len(digits))
    whole = timegm((year, month, day, hour, minute, min(second, 59), 0, 0, 0))
    _last_minute_epoch = whole - min(second, 59)
    _last_minute = value[:14]
    _parsed_second_epoch = whole
    _parsed_second = value[:17]
    return whole + fraction
