"""ClOrdID allocation: short, IB-safe, date-embedded, never reused.

Theory of operation
-------------------
A ClOrdID is ``YYMMDD`` + the session's prefix + ``-`` + a base-36 counter, e.g.
``260314A-1Z``: the UTC date of allocation, a prefix of 1 to 6 letters or digits that is
unique per FIX session (issue 8: several sessions share one book, and the prefix keeps
their ids apart), and a counter that restarts at 1 each day. Only ``[0-9A-Za-z-]`` is
used, so IB accepts it and it survives every log and shell untouched. With a 6-character
prefix the counter has 7 digits (36**7, about 78 billion per day) inside IB's 20-character
comfort zone.

Why it is unique:

* across days, because the date is part of it, and IB wants ClOrdIDs unique within the
  trading day at least (orders that live for days stay distinguishable);
* across sessions, because of the prefix, and the ``-`` ends the prefix, so prefix ``A``
  with counter ``1Z`` can never equal prefix ``A1`` with counter ``Z``;
* across restarts, because no counter value is ever handed out twice for a day: the
  order book's intent log records every ClOrdID *before* the FIX message carrying it is
  sent, and on start-up `observe()` is called with every ClOrdID found there and in the
  FIX journal, so the counter resumes above the highest one used today. No extra state
  file is needed.

`next()` is on the hot path: the date string is recomputed only when ``now`` leaves the
cached day, and the counter is rendered through a table of base-36 digit pairs.
"""

from __future__ import annotations

import re
import time
from typing import Final

from fixrouter.errors import FixRouterError

_DIGITS: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PAIRS: Final = [a + b for a in _DIGITS for b in _DIGITS]  # fixed width: 00 .. ZZ
_SHORT: Final = [p.lstrip("0") or "0" for p in _PAIRS]  # minimal width: 0 .. ZZ
_DAY: Final = 86_400
MAX_LENGTH: Final = 20
_PREFIX: Final = re.compile(r"[A-Za-z0-9]{1,6}")
_ID: Final = re.compile(r"(\d{6})([A-Za-z0-9]{1,6})-([0-9A-Z]{1,13})")


class ClOrdIdError(FixRouterError):
    """A prefix is not usable, or a day's counter is exhausted."""


def to_base36(n: int) -> str:
    """`n` (>= 0) in base 36 with upper-case digits, without leading zeros."""
    if n < 1296:
        return _SHORT[n]
    high, low = divmod(n, 1296)
    return to_base36(high) + _PAIRS[low]


def parse(cl_ord_id: str) -> tuple[str, str, int] | None:
    """``(YYMMDD, prefix, counter)`` of one of our ClOrdIDs, or None for anything else."""
    m = _ID.fullmatch(cl_ord_id)
    if m is None:
        return None
    return m.group(1), m.group(2), int(m.group(3), 36)


def day_of(now: float) -> str:
    """The ``YYMMDD`` (UTC) that a ClOrdID allocated at epoch second ``now`` carries."""
    return time.strftime("%y%m%d", time.gmtime(now))


class ClOrdIdGenerator:
    """Allocates the ClOrdIDs of one session. See the module docstring."""

    __slots__ = ("_counter", "_day_end", "_day_start", "_high", "_limit", "_stem", "prefix")

    def __init__(self, prefix: str) -> None:
        """Raises ClOrdIdError if the prefix is not 1 to 6 letters or digits."""
        if not _PREFIX.fullmatch(prefix):
            raise ClOrdIdError(
                f"ClOrdID prefix {prefix!r} must be 1 to 6 letters or digits"
            )
        self.prefix = prefix
        self._high: dict[str, int] = {}  # YYMMDD -> highest counter used that day
        self._stem = ""
        self._counter = 0
        self._day_start = 1.0
        self._day_end = 0.0  # empty range: the first next() computes the day
        self._limit = 36 ** (MAX_LENGTH - 7 - len(prefix))

    def next(self, now: float) -> str:
        """A fresh ClOrdID for epoch second ``now`` (UTC).

        Raises ClOrdIdError when the day's counter would no longer fit in 20 characters.
        """
        if not self._day_start <= now < self._day_end:
            self._roll(now)
        counter = self._counter + 1
        if counter >= self._limit:
            raise ClOrdIdError(f"ClOrdID counter exhausted for prefix {self.prefix}")
        self._counter = counter
        if counter < 1296:  # the common case, without a call
            return self._stem + _SHORT[counter]
        return self._stem + to_base36(counter)

    def observe(self, cl_ord_id: str) -> None:
        """Note a ClOrdID already used (found at recovery), so it is never handed out again.

        Ids of other prefixes, and strings that are not our ClOrdIDs, are ignored.
        """
        parsed = parse(cl_ord_id)
        if parsed is None or parsed[1] != self.prefix:
            return
        day, _, counter = parsed
        if self._stem[:6] == day:
            self._counter = max(self._counter, counter)
        if counter > self._high.get(day, 0):
            self._high[day] = counter

    def _roll(self, now: float) -> None:
        if self._stem:
            old_day = self._stem[:6]
            self._high[old_day] = max(self._high.get(old_day, 0), self._counter)
        start = float(int(now // _DAY) * _DAY)
        day = day_of(start)
        self._day_start = start
        self._day_end = start + _DAY
        self._stem = day + self.prefix + "-"
        self._counter = self._high.get(day, 0)
