"""SeqIndex: the sparse seq -> offset columns behind resends, and rewinds."""

from __future__ import annotations

from fixrouter.store.index import SeqIndex


def make(*seqs: int, every: int = 1) -> SeqIndex:
    idx = SeqIndex(every)
    for s in seqs:
        idx.add(s, s * 100)
    return idx


def test_an_entry_every_n_saves_and_start_finds_the_one_at_or_below() -> None:
    idx = make(*range(1, 11), every=4)
    assert list(idx.seqs) == [1, 5, 9]
    assert list(idx.offsets) == [100, 500, 900]
    assert (idx.saved, idx.last_seq) == (10, 10)
    assert idx.start(1) == 100
    assert idx.start(4) == 100
    assert idx.start(5) == 500
    assert idx.start(100) == 900
    assert SeqIndex().start(1) is None


def test_drop_from_forgets_entries_and_records_the_rewind() -> None:
    idx = make(1, 2, 3, 7, 8)
    idx.drop_from(5, 1000)
    assert list(idx.seqs) == [1, 2, 3]
    assert list(idx.offsets) == [100, 200, 300]
    assert idx.rewinds == [(1000, 5)] and idx.last_seq == 4
    idx.add(5, 1100)  # the first save after a rewind always gets an entry
    sparse = make(1, 2, 3, every=64)
    sparse.drop_from(2, 400)
    sparse.add(2, 500)
    assert list(sparse.seqs) == [1, 2]


def test_staleness_marks_records_a_later_rewind_superseded() -> None:
    idx = make(1, 2, 3, 4)  # offsets 100..400
    idx.drop_from(3, 450)  # seqs >= 3 saved before 450 are superseded
    idx.add(3, 500)
    idx.drop_from(2, 550)
    idx.add(2, 600)
    check = idx.staleness(0)
    assert [check.stale(o, s) for o, s in ((100, 1), (200, 2), (300, 3), (400, 4),
                                           (500, 3), (600, 2))] == [
        False, True, True, True, True, False]
    assert not idx.staleness(560).stale(600, 2)


def test_compact_and_clear() -> None:
    idx = make(*range(1, 1001), every=64)
    assert len(idx) == 16 and idx.seqs.itemsize == idx.offsets.itemsize == 8
    idx.clear()
    assert len(idx) == 0 and idx.rewinds == [] and idx.last_seq == 0
