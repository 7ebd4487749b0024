"""What the order book keeps of a finished order: its id's final status, and day totals.

Theory of operation
-------------------
A finished order (see `fixrouter.oms.order`) leaves the book's maps; two things must
outlive it in memory, because they are needed on hot or exact paths:

* **Its id is used for the day.** A strategy that sends a finished order's id again gets
  ``DUPLICATE_ID``, and a cancel of it ``ORDER_NOT_WORKING`` naming its final status, at
  the speed of a live order's. `RetiredIds` is an open-addressing hash set of 64-bit
  int64 slots: the high 60 bits of ``hash((strategy, id))`` and the final
  status in the low 4. No Python object per entry: 8 bytes a slot, at most 3/4 full, so
  10.7 to 21 bytes per id (16.8 at a million). A false match needs two different ids
  with the same 60-bit hash (about 1e-12 per look-up at a million ids), and errs on the
  safe side: a fresh id refused as a duplicate, never a duplicate sent. The slots (and
  the filter below) live in anonymous memory mappings of their own, not in the
  allocator's heap: a growth's old table goes back to the OS as soon as it has been
  moved out (a freed heap block of a few MB can stay in RSS for good, which measured
  as the sum of every generation, 31 MB at a million ids instead of 18). Slots are probed
  linearly, and in front of them sits a one-hash Bloom filter of 4 bits per slot (half
  a byte, another hash bits than the slot's): the common look-up, a fresh id, is
  answered by one bit 83 to 91% of the time, so its cost stays near 0.15 µs however
  full the table is (a linear probe of a 3/4 full table costs 1 µs). Growing doubles the
  table *incrementally*,
  as Redis does: the new table is allocated at once and each later insert moves a few
  dozen slots of the old one, so no call ever rehashes the whole table (a full rehash
  at a million ids would stall the loop for a few hundred milliseconds).
  Everything else about a finished order (quantities, prices, the fills, the ClOrdID
  chain) is read back from the journal when someone asks (`fixrouter.oms.recall`).

* **Its share of the day's totals.** After a restart the risk gate rebuilds the day's
  order count, filled notional and executions from the book; it used to read them off
  every order of the day. `RetiredTotal` keeps them summed per (strategy, account,
  symbol, instrument, currency, contract multiplier): bounded by what is traded, not by
  how many orders did it.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from fixrouter.events import OrderStatus

_STATUSES: tuple[OrderStatus, ...] = tuple(OrderStatus)
_CODE: Final = {status: i + 1 for i, status in enumerate(_STATUSES)}  # 0 marks an empty slot
_BY_CODE: tuple[OrderStatus | None, ...] = (None, *_STATUSES)
assert len(_BY_CODE) <= 16
_MIGRATE: Final = 64  # old slots moved per insert while the table grows
_FILTER_BITS: Final = 4  # Bloom filter bits per slot
_FILTER_SHIFT: Final = 28  # filter bit index: hash bits 32 and up (slot index: bits 4 and up)


def _mapped(size: int) -> memoryview:
    """`size` zeroed bytes in an anonymous mapping: unmapped when the view is dropped."""
    return memoryview(mmap.mmap(-1, max(size, 1), flags=mmap.MAP_PRIVATE))


def _empty(capacity: int) -> memoryview:
    return _mapped(capacity * 8).cast("q")


def _filter(capacity: int) -> memoryview:
    return _mapped(capacity * _FILTER_BITS // 8)


def _probe(slots: memoryview, bits: memoryview, mask: int, bmask: int, key: int) -> int:
    """The slot holding `key` in one table (its filter first), or 0 if it holds none."""
    b = (key >> _FILTER_SHIFT) & bmask
    if not bits[b >> 3] >> (b & 7) & 1:  # surely not in the table
        return 0
    i = key & mask
    while True:
        v: int = slots[i]
        if not v or v >> 4 == key:
            return v
        i = (i + 1) & mask


class RetiredIds:
    """(strategy, id) -> final status, for ids that no live order holds. See the module
    docstring."""

    __slots__ = ("_bits", "_bmask", "_limit", "_mask", "_moved", "_old", "_old_bits",
                 "_slots", "_used")

    def __init__(self, capacity: int = 1024) -> None:
        size = 8
        while size < capacity:
            size *= 2
        self._slots = _empty(size)
        self._mask = size - 1
        self._bits = _filter(size)
        self._bmask = size * _FILTER_BITS - 1
        self._limit = size * 3 // 4
        self._used = 0
        self._old: memoryview | None = None  # the table being moved out of while growing
        self._old_bits = self._bits  # and its filter
        self._moved = 0  # slots of `_old` moved so far

    def __len__(self) -> int:
        """Ids held (exact once no growth is in progress; an upper bound during one)."""
        old = self._old
        if old is None:
            return self._used
        return self._used + sum(1 for v in old[self._moved:] if v)

    @property
    def nbytes(self) -> int:
        """Memory held by the slots."""
        old = self._old
        size = len(self._slots) + (0 if old is None else len(old))
        return size * 8 + size * _FILTER_BITS // 8

    def get(self, strategy: str, order_id: str) -> OrderStatus | None:
        """The final status recorded for the id, or None if it was never retired."""
        key = hash((strategy, order_id)) >> 4
        v = _probe(self._slots, self._bits, self._mask, self._bmask, key)
        old = self._old
        if not v and old is not None:  # growing: the id may not have moved yet
            size = len(old)
            v = _probe(old, self._old_bits, size - 1, size * _FILTER_BITS - 1, key)
        return _BY_CODE[v & 15] if v else None

    def put(self, strategy: str, order_id: str, status: OrderStatus) -> None:
        """Record (or overwrite) the id's final status."""
        key = hash((strategy, order_id)) >> 4
        self._insert(key, (key << 4) | _CODE[status], True)
        if self._old is not None:
            self._migrate()
        elif self._used > self._limit:
            self._grow()

    def _insert(self, key: int, value: int, overwrite: bool) -> None:
        b = (key >> _FILTER_SHIFT) & self._bmask
        self._bits[b >> 3] |= 1 << (b & 7)
        slots = self._slots
        mask = self._mask
        i = key & mask
        while True:
            v = slots[i]
            if not v:
                slots[i] = value
                self._used += 1
                return
            if v >> 4 == key:
                if overwrite:
                    slots[i] = value
                return
            i = (i + 1) & mask

    def _grow(self) -> None:
        self._old = self._slots
        self._old_bits = self._bits
        self._moved = 0
        size = 2 * len(self._slots)
        self._slots = _empty(size)
        self._mask = size - 1
        self._bits = _filter(size)
        self._bmask = size * _FILTER_BITS - 1
        self._limit = size * 3 // 4
        self._used = 0
        self._migrate()

    def _migrate(self) -> None:
        old = self._old
        assert old is not None
        start = self._moved
        stop = min(start + _MIGRATE, len(old))
        for i in range(start, stop):
            v = old[i]
            if v:
                # An id re-retired since the growth began is already in the new table
                # with its newer status: keep that one.
                self._insert(v >> 4, v, False)
        self._moved = stop
        if stop == len(old):
            self._old = None
            self._old_bits = self._bits


@dataclass(slots=True)
class RetiredTotal:
    """The retired orders of one (strategy, account, symbol, instrument, currency,
    contract multiplier): how many, how many had fills, and their filled notional
    (sum of quantity x price, without a multiplier, as `Order.notional`)."""

    strategy: str
    account: str
    symbol: str
    instrument: str
    currency: str
    multiplier: Decimal | None
    """The order's own contract multiplier (derivatives), None for the limits' default."""
    orders: int = 0
    filled: int = 0
    notional: Decimal = Decimal(0)
