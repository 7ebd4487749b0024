"""SeqIndex: the sorted seq -> offset columns behind resends."""

from __future__ import annotations

from fixrouter.store.index import SeqIndex


def make(*seqs: int) -> SeqIndex:
    idx = SeqIndex()
    for s in seqs:
        idx.add(s, s * 100)
    return idx


def test_span() -> None:
    idx = make(1, 2, 3, 7, 8, 20)
    assert idx.span(1, 0) == (0, 6)
    assert idx.span(3, 7) == (2, 4)
    assert idx.span(4, 6) == (3, 3)
    assert idx.span(9, 100) == (5, 6)
    assert idx.span(21, 0) == (6, 6)
    assert idx.span(8, 2) == (4, 4)  # inverted range: empty


def test_drop_from() -> None:
    idx = make(1, 2, 3, 7, 8)
    idx.drop_from(5)
    assert list(idx.seqs) == [1, 2, 3]
    assert list(idx.offsets) == [100, 200, 300]
    idx.drop_from(1)
    assert len(idx) == 0


def test_compact() -> None:
    idx = make(*range(1, 1001))
    assert idx.seqs.itemsize == idx.offsets.itemsize == 8
    idx.clear()
    assert len(idx) == 0
