"""Empty dicts in CPython's *general* layout, for maps of str keys that grow large.

A dict whose keys are all str uses a compact layout that does not store the keys'
hashes, so each collision on a probe reads the colliding key object to compare hashes:
in a map of every working order (hundreds of thousands in a saturated run) that is one
more cache miss per collision. One non-str key, inserted and removed, switches the table
to the layout that keeps each entry's hash beside it, and it stays there as it grows
(CPython 3.11's `dictresize` keeps the kind; `clear()` does not). Contents and behaviour
are those of any dict; only the speed depends on it, and each entry costs 8 bytes more.
"""

from __future__ import annotations

from typing import Any


def hashed_dict() -> dict[Any, Any]:
    """An empty dict that keeps each entry's hash (see the module docstring)."""
    table: dict[Any, Any] = {0: None}
    del table[0]
    return table
