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
cached day, and the counter is rendered through a table of base-36 digit pairs: the
last two digits from the table, the ones before them (which change once every 1,296
ids) kept as a string with the stem.

**The map by ClOrdID** (`ClOrdIdMap`). The order book finds an order by any ClOrdID it
has had, and it holds every working order's: a dict keyed by these strings was the
largest map of the engine (350k-1M entries in a saturated run), each insert a cache miss
at a random place of its table, and each doubling of the table a pause of 50-160 ms.
Our own ClOrdIDs are a stem and a counter, so the map files the ones of a *registered*
stem (the sessions' current ones, `table()`) by counter, in chunks of 256 slots: the
ids allocated one after the other sit side by side, a chunk is allocated when its first
id is filed and freed when its last one leaves, and nothing is ever rehashed. Every
other string (another day's ids, an id whose stem was not registered when it was filed,
a broker's or a corrupt one, and any spelling of a counter that `to_base36` would not
write, like lower case or leading zeros) goes to a plain dict. A look-up by string finds
the registered stem it starts with (there are a few: sessions x days), reads the
counter from the digits after it only if they are spelled as we spell them, and returns
the slot's value only if the string filed there is *equal* to the one asked for; any
other string is looked up in the dict. So the map answers exactly as a dict of the
strings would, whatever the string.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Final, Generic, TypeVar

from fixrouter.errors import FixRouterError

_DIGITS: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PAIRS: Final = [a + b for a in _DIGITS for b in _DIGITS]  # fixed width: 00 .. ZZ
_SHORT: Final = [p.lstrip("0") or "0" for p in _PAIRS]  # minimal width: 0 .. ZZ
_DAY: Final = 86_400
MAX_LENGTH: Final = 20
_PREFIX: Final = re.compile(r"[A-Za-z0-9]{1,6}")
_ID: Final = re.compile(r"(\d{6})([A-Za-z0-9]{1,6})-([0-9A-Z]{1,13})")
_CHUNK_BITS: Final = 8  # 256 slots a chunk of `ClOrdIdMap`
_CHUNK_MASK: Final = (1 << _CHUNK_BITS) - 1

V = TypeVar("V")


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

    __slots__ = ("_day_end", "_day_start", "_head", "_head_high", "_high", "_limit", "counter",
                 "prefix", "stem")

    def __init__(self, prefix: str) -> None:
        """Raises ClOrdIdError if the prefix is not 1 to 6 letters or digits."""
        if not _PREFIX.fullmatch(prefix):
            raise ClOrdIdError(
                f"ClOrdID prefix {prefix!r} must be 1 to 6 letters or digits"
            )
        self.prefix = prefix
        self._high: dict[str, int] = {}  # YYMMDD -> highest counter used that day
        self.stem = ""
        """``YYMMDD`` + prefix + ``-`` of the ids `next()` allocates now (read-only)."""
        self.counter = 0
        """The counter of the latest id `next()` allocated (read-only)."""
        self._head = ""  # stem + the digits of counter // 1296, for `_head_high`
        self._head_high = -1
        self._day_start = 1.0
        self._day_end = 0.0  # empty range: the first next() computes the day
        self._limit = 36 ** (MAX_LENGTH - 7 - len(prefix))

    def next(self, now: float) -> str:
        """A fresh ClOrdID for epoch second ``now`` (UTC).

        Raises ClOrdIdError when the day's counter would no longer fit in 20 characters.
        """
        if not self._day_start <= now < self._day_end:
            self._roll(now)
        counter = self.counter + 1
        if counter >= self._limit:
            raise ClOrdIdError(f"ClOrdID counter exhausted for prefix {self.prefix}")
        self.counter = counter
        if counter < 1296:
            return self.stem + _SHORT[counter]
        high = counter // 1296
        if high != self._head_high:  # once every 1,296 ids
            self._head = self.stem + to_base36(high)
            self._head_high = high
        return self._head + _PAIRS[counter - high * 1296]

    def observe(self, cl_ord_id: str) -> None:
        """Note a ClOrdID already used (found at recovery), so it is never handed out again.

        Ids of other prefixes, and strings that are not our ClOrdIDs, are ignored.
        """
        parsed = parse(cl_ord_id)
        if parsed is None or parsed[1] != self.prefix:
            return
        day, _, counter = parsed
        if self.stem[:6] == day:
            self.counter = max(self.counter, counter)
        if counter > self._high.get(day, 0):
            self._high[day] = counter

    def _roll(self, now: float) -> None:
        if self.stem:
            old_day = self.stem[:6]
            self._high[old_day] = max(self._high.get(old_day, 0), self.counter)
        start = float(int(now // _DAY) * _DAY)
        day = day_of(start)
        self._day_start = start
        self._day_end = start + _DAY
        self.stem = day + self.prefix + "-"
        self.counter = self._high.get(day, 0)
        self._head_high = -1


class _Chunk(Generic[V]):
    """256 slots of a `CounterTable`: the ClOrdID filed in each, its value, how many."""

    __slots__ = ("keys", "used", "values")

    def __init__(self) -> None:
        self.keys: list[str | None] = [None] * (1 << _CHUNK_BITS)
        self.values: list[V | None] = [None] * (1 << _CHUNK_BITS)
        self.used = 0


class CounterTable(Generic[V]):
    """The slots of one stem's ClOrdIDs in a `ClOrdIdMap`, by counter (see the module
    docstring). `put` is for the allocator's caller, who knows the id's counter."""

    __slots__ = ("_chunks", "_last", "_last_no", "stem")

    def __init__(self, stem: str) -> None:
        self.stem = stem
        self._chunks: dict[int, _Chunk[V]] = {}
        self._last: _Chunk[V] | None = None  # the chunk used last (most ids are recent)
        self._last_no = -1

    def _chunk(self, no: int) -> _Chunk[V] | None:
        if no == self._last_no:
            return self._last
        chunk = self._chunks.get(no)
        if chunk is not None:
            self._last = chunk
            self._last_no = no
        return chunk

    def put(self, counter: int, cl_ord_id: str, value: V) -> None:
        """File `value` under `cl_ord_id`, which must be ``stem + to_base36(counter)``."""
        no = counter >> _CHUNK_BITS
        chunk = self._chunk(no)
        if chunk is None:
            chunk = self._chunks[no] = self._last = _Chunk()
            self._last_no = no
        i = counter & _CHUNK_MASK
        if chunk.keys[i] is None:
            chunk.used += 1
        chunk.keys[i] = cl_ord_id
        chunk.values[i] = value

    def get(self, counter: int, cl_ord_id: str) -> V | None:
        """The value filed under exactly `cl_ord_id` in the slot of `counter`, else None."""
        chunk = self._chunk(counter >> _CHUNK_BITS)
        if chunk is None:
            return None
        i = counter & _CHUNK_MASK
        if chunk.keys[i] == cl_ord_id:
            return chunk.values[i]
        return None

    def pop(self, counter: int, cl_ord_id: str, value: V | None = None) -> bool:
        """Empty the slot of `counter` if `cl_ord_id` is filed there (and, given `value`,
        maps to that very object); True if it was emptied."""
        no = counter >> _CHUNK_BITS
        chunk = self._chunk(no)
        if chunk is None:
            return False
        i = counter & _CHUNK_MASK
        if chunk.keys[i] != cl_ord_id or (value is not None and chunk.values[i] is not value):
            return False
        chunk.keys[i] = None
        chunk.values[i] = None
        chunk.used -= 1
        if not chunk.used:
            del self._chunks[no]
            self._last = None
            self._last_no = -1
        return True

    def __len__(self) -> int:
        return sum(chunk.used for chunk in self._chunks.values())

    def items(self) -> Iterator[tuple[str, V]]:
        for no in sorted(self._chunks):
            chunk = self._chunks[no]
            for key, value in zip(chunk.keys, chunk.values, strict=True):
                if key is not None:
                    assert value is not None
                    yield key, value


def _counter(cl_ord_id: str, start: int) -> int:
    """The counter that ``cl_ord_id[start:]`` spells as `to_base36` does (1 to 13 digits
    0-9 and A-Z, no leading zero), or -1 for any other text."""
    end = len(cl_ord_id)
    if not 0 < end - start <= 13 or cl_ord_id[start] == "0":
        return -1
    n = 0
    for i in range(start, end):
        c = ord(cl_ord_id[i])
        if 48 <= c <= 57:
            n = n * 36 + c - 48
        elif 65 <= c <= 90:
            n = n * 36 + c - 55
        else:
            return -1
    return n


class ClOrdIdMap(Generic[V]):
    """ClOrdID -> value, answering exactly as a dict of the strings would, with our own
    ids filed by counter (see the module docstring). Values are never None."""

    __slots__ = ("_other", "_tables")

    def __init__(self) -> None:
        # Registered stems' tables, newest first (a session's current day's is looked
        # up most). No stem starts another's ids: each ends at its "-", which no prefix
        # contains, so at most one table can hold a given string.
        self._tables: list[CounterTable[V]] = []
        self._other: dict[str, V] = {}  # every string not filed by counter

    def table(self, stem: str) -> CounterTable[V]:
        """The counter table of `stem` (``YYMMDD`` + prefix + ``-``), registered on the
        first call: ids of the stem already in the map move into it."""
        for table in self._tables:
            if table.stem == stem:
                return table
        table = CounterTable(stem)
        self._tables.insert(0, table)
        other = self._other
        size = len(stem)
        for key in [k for k in other if k.startswith(stem)]:
            counter = _counter(key, size)
            if counter >= 0:
                table.put(counter, key, other.pop(key))
        return table

    def _find(self, cl_ord_id: str) -> tuple[CounterTable[V] | None, int]:
        """The table that files `cl_ord_id` by counter if it is filed anywhere, and the
        counter; (None, -1) for a string kept in `_other` if anywhere."""
        for table in self._tables:
            stem = table.stem
            if cl_ord_id.startswith(stem):
                counter = _counter(cl_ord_id, len(stem))
                if counter >= 0:
                    return table, counter
                break
        return None, -1

    def get(self, cl_ord_id: str) -> V | None:
        # `_find` inlined: every report's look-up comes here, and its tuple would be the
        # one allocation of the call.
        for table in self._tables:
            stem = table.stem
            if cl_ord_id.startswith(stem):
                counter = _counter(cl_ord_id, len(stem))
                if counter >= 0:
                    return table.get(counter, cl_ord_id)
                break
        other = self._other
        return other.get(cl_ord_id) if other else None

    def __contains__(self, cl_ord_id: str) -> bool:
        return self.get(cl_ord_id) is not None

    def __setitem__(self, cl_ord_id: str, value: V) -> None:
        table, counter = self._find(cl_ord_id)
        if table is not None:
            table.put(counter, cl_ord_id, value)
        else:
            self._other[cl_ord_id] = value

    def __delitem__(self, cl_ord_id: str) -> None:
        """Raises KeyError if the map does not hold `cl_ord_id`."""
        table, counter = self._find(cl_ord_id)
        if table is None:
            del self._other[cl_ord_id]
        elif not table.pop(counter, cl_ord_id):
            raise KeyError(cl_ord_id)

    def discard(self, cl_ord_id: str, value: V) -> None:
        """Take `cl_ord_id` out if it maps to `value` (the same object)."""
        table, counter = self._find(cl_ord_id)
        if table is not None:
            table.pop(counter, cl_ord_id, value)
            return
        other = self._other
        if other and other.get(cl_ord_id) is value:
            del other[cl_ord_id]

    def __len__(self) -> int:
        return len(self._other) + sum(len(t) for t in self._tables)

    def items(self) -> Iterator[tuple[str, V]]:
        """Every (ClOrdID, value): the counter tables' by counter, then the others."""
        for table in self._tables:
            yield from table.items()
        yield from self._other.items()

    def values(self) -> Iterator[V]:
        for _, value in self.items():
            yield value
