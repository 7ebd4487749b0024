"""Tests for fixrouter.hashed_dict: a plain dict in behaviour, the hash-keeping layout in
size, and it keeps that layout as it grows."""

from __future__ import annotations

import sys

from fixrouter.hashed_dict import hashed_dict


def test_it_behaves_as_a_dict_and_keeps_the_larger_layout_as_it_grows() -> None:
    keys = [f"o{i}" for i in range(10_000)]
    table = hashed_dict()
    assert table == {}
    for i, key in enumerate(keys):
        table[key] = i
    plain = dict(zip(keys, range(10_000), strict=True))
    assert table == plain and list(table) == keys
    # Same keys, same count, grown through the same resizes: only the layout differs.
    assert sys.getsizeof(table) > sys.getsizeof(plain)
    del table["o5"]
    assert "o5" not in table and len(table) == 9_999
