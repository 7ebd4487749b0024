"""The engine process's garbage-collector policy: out of the order path's way.

Theory of operation
-------------------
CPython frees almost everything by reference counting; the cyclic collector only exists
for reference cycles, and it pays for them by walking every tracked container of the
generations it collects. The order path makes no cycles: after 130,000 orders through
gateway, risk gate, book, dialect, session and journal, a full collection found 0
unreachable objects (`fixrouter bench`, tests/bench/README.md). So on the order path
every collection is pure cost, and its cost grows with what the engine keeps: every
order of the day stays in the book and the risk gate. With CPython's defaults
(700, 10, 10) a full collection walks all of it, and at a few hundred thousand orders
that is a pause of 100-400 ms in the middle of trading.

`apply()` runs once, after start-up (recovery done, listeners bound), from `fixrouter
run`:

1. `gc.collect()`, then `gc.freeze()`: everything start-up built (the dictionary, the
   recovered book, compiled tables, imported modules) moves to the permanent
   generation, which no collection walks.
2. Thresholds `YOUNG`, `MIDDLE`, `OLD`: young collections every 10,000 net container
   allocations instead of 700 (they still catch the short-lived cycles other code makes,
   such as an exception kept with its traceback), and *no automatic full collection*
   (`OLD` is far beyond any day's count). What survives the young generations is, on
   this path, a long-lived order record, not garbage.

The price: a cycle that survives two young collections and then dies is not freed until
the process restarts (engines restart daily) or `collect_all()` runs. Call that when a
pause does not matter, e.g. after the last session logged out.
"""

from __future__ import annotations

import gc

YOUNG = 10_000
MIDDLE = 10
OLD = 1_000_000_000
"""Full collections need this many middle-generation collections: never, in practice."""


def apply() -> None:
    """Freeze what start-up built and set the thresholds (see the module docstring)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)


def collect_all() -> int:
    """A full collection of everything, frozen objects included, when a pause is fine.

    Returns the number of unreachable objects found. The thresholds stay as they are.
    """
    gc.unfreeze()
    found = gc.collect()
    gc.freeze()
    return found
