"""oms/retired: the compact table of finished orders' ids, and its incremental growth."""

from __future__ import annotations

from fixrouter.events import OrderStatus
from fixrouter.oms.retired import RetiredIds

S = OrderStatus


def test_put_get_overwrite() -> None:
    ids = RetiredIds()
    assert ids.get("alpha", "o1") is None
    ids.put("alpha", "o1", S.FILLED)
    ids.put("beta", "o1", S.CANCELED)
    assert ids.get("alpha", "o1") is S.FILLED and ids.get("beta", "o1") is S.CANCELED
    assert ids.get("alpha", "o2") is None and ids.get("", "o1") is None
    ids.put("alpha", "o1", S.REPLACED)  # an id retired again keeps its latest status
    assert ids.get("alpha", "o1") is S.REPLACED and len(ids) == 2
    for status in S:
        ids.put("gamma", status.value, status)
        assert ids.get("gamma", status.value) is status


def test_growth_is_incremental_and_loses_nothing() -> None:
    ids = RetiredIds(capacity=8)
    n = 50_000
    grew = 0
    for i in range(n):
        had = ids.nbytes
        ids.put("s", f"o{i}", S.FILLED)
        if ids.nbytes > had:
            grew += 1
        if i % 997 == 0:  # look-ups keep working while a growth is half done
            assert all(ids.get("s", f"o{j}") is S.FILLED for j in range(0, i + 1, 101))
    assert ids.get("s", f"o{n}") is None
    assert all(ids.get("s", f"o{i}") is S.FILLED for i in range(n))
    assert len(ids) == n and grew > 5
    ids.put("s", "o7", S.CANCELED)  # overwritten, maybe while a growth is half done
    assert ids.get("s", "o7") is S.CANCELED
    extra = 0
    while ids._old is not None:  # finish that growth: the older entry does not come back
        ids.put("t", str(extra), S.FILLED)
        extra += 1
    assert ids.get("s", "o7") is S.CANCELED and len(ids) == n + extra


def test_about_sixteen_bytes_an_id() -> None:
    ids = RetiredIds()
    for i in range(1_000_000):
        ids.put("strategy", str(i), S.FILLED)
    for i in range(2 ** 21):  # let any growth in progress finish
        if ids._old is None:
            break
        ids.put("strategy", f"extra{i}", S.FILLED)
    assert ids.nbytes / len(ids) <= 21  # 2**21 slots of 8 bytes at a million ids


def test_the_tables_live_in_mappings_of_their_own() -> None:
    # Not in the allocator's heap: an old table freed after a growth goes back to the OS
    # at once, instead of staying in RSS (which measured as every generation summed).
    import mmap

    ids = RetiredIds(capacity=8)
    for i in range(100):
        ids.put("s", str(i), S.FILLED)
    assert isinstance(ids._slots.obj, mmap.mmap) and isinstance(ids._bits.obj, mmap.mmap)
    assert ids._slots.itemsize == 8
