"""oms/clordid: format, uniqueness, day change, resuming after a restart; the map by
ClOrdID."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixrouter.oms import ClOrdIdError, ClOrdIdGenerator
from fixrouter.oms.clordid import ClOrdIdMap, day_of, parse, to_base36

from .conftest import DAY, T0

IB_SAFE = re.compile(r"[A-Za-z0-9.-]{1,20}")


def test_format() -> None:
    g = ClOrdIdGenerator("A")
    assert [g.next(T0) for _ in range(3)] == [f"{DAY}A-1", f"{DAY}A-2", f"{DAY}A-3"]
    assert parse(f"{DAY}A-3") == (DAY, "A", 3)
    assert day_of(T0) == DAY


@given(st.integers(min_value=0, max_value=36**13))
def test_base36_round_trip(n: int) -> None:
    s = to_base36(n)
    assert int(s, 36) == n
    assert s == "0" or not s.startswith("0")
    assert re.fullmatch(r"[0-9A-Z]+", s)


def test_unique_short_and_ib_safe_over_many() -> None:
    g = ClOrdIdGenerator("ABCDEF")  # the longest prefix
    ids = [g.next(T0) for _ in range(50_000)]
    assert len(set(ids)) == len(ids)
    assert all(IB_SAFE.fullmatch(i) for i in ids)
    g.counter = 36**7 - 2  # the largest counter that still fits in 20 characters
    last = g.next(T0)
    assert len(last) == 20 and parse(last) == (DAY, "ABCDEF", 36**7 - 1)
    with pytest.raises(ClOrdIdError):
        g.next(T0)


@pytest.mark.parametrize("prefix", ["", "ABCDEFG", "A-B", "A.B", "é"])
def test_bad_prefix(prefix: str) -> None:
    with pytest.raises(ClOrdIdError):
        ClOrdIdGenerator(prefix)


def test_prefixes_never_collide() -> None:
    # Without the separator, prefix A + counter 1Z would equal prefix A1 + counter Z.
    a, a1 = ClOrdIdGenerator("A"), ClOrdIdGenerator("A1")
    ids_a = {a.next(T0) for _ in range(2000)}
    ids_a1 = {a1.next(T0) for _ in range(2000)}
    assert not ids_a & ids_a1


def test_day_change_restarts_the_counter_and_changes_the_date() -> None:
    g = ClOrdIdGenerator("A")
    day1 = [g.next(T0) for _ in range(5)]
    next_day = T0 + 86_400
    day2 = [g.next(next_day) for _ in range(5)]
    assert day2[0] == f"{day_of(next_day)}A-1"
    assert not set(day1) & set(day2)
    # A clock stepping back over midnight resumes the old day's counter, not 1.
    assert g.next(T0) == f"{DAY}A-6"
    assert g.next(next_day) == f"{day_of(next_day)}A-6"


def test_observe_resumes_above_the_highest_used_today() -> None:
    g = ClOrdIdGenerator("A")
    for seen in [f"{DAY}A-5", f"{DAY}A-1Z", f"{DAY}B-ZZZ", f"{day_of(T0 - 86_400)}A-ZZ",
                 "foreign-id", f"{DAY}A-3"]:
        g.observe(seen)
    assert g.next(T0) == f"{DAY}A-20"  # 1Z + 1: other prefixes and days do not count
    g.observe(f"{DAY}A-30")  # observed after allocation started (same day)
    assert g.next(T0) == f"{DAY}A-31"


def test_resume_after_restart_never_reuses() -> None:
    first = ClOrdIdGenerator("A")
    used = [first.next(T0) for _ in range(1500)]  # beyond the two-digit table
    restarted = ClOrdIdGenerator("A")
    for cl in used:
        restarted.observe(cl)
    fresh = [restarted.next(T0 + 10) for _ in range(10)]
    assert not set(fresh) & set(used)
    assert parse(fresh[0]) == (DAY, "A", 1501)


@pytest.mark.parametrize("start", [0, 1290, 36**3 - 5, 1296 * 36 - 3, 36**4 - 2, 36**6 - 2])
def test_next_spells_every_counter_as_to_base36(start: int) -> None:
    # The digits before the last two are kept between calls: across each boundary where
    # they change, every id is still the stem plus the counter's own spelling.
    g = ClOrdIdGenerator("AB")
    g.next(T0)
    g.counter = start
    for n in range(start + 1, start + 2600):
        cl = g.next(T0)
        assert cl == f"{DAY}AB-{to_base36(n)}" and g.counter == n and g.stem == f"{DAY}AB-"


def test_next_after_a_day_change_uses_the_new_stem_beyond_the_pair_table() -> None:
    g = ClOrdIdGenerator("A")
    g.next(T0)
    g.counter = 5000
    assert g.next(T0) == f"{DAY}A-{to_base36(5001)}"
    next_day = T0 + 86_400
    g.observe(f"{day_of(next_day)}A-{to_base36(5001)}")  # the next day's ids resume here
    assert g.next(next_day) == f"{day_of(next_day)}A-{to_base36(5002)}"


_STEM = f"{DAY}A-"
_OTHER_STEM = f"{DAY}B-"


def _spellings(n: int) -> list[str]:
    """Our id for counter n, and strings that read as n to int(..., 36) but are not it."""
    digits = to_base36(n)
    return [_STEM + digits, _STEM + "0" + digits, _STEM + digits.lower(), _STEM + "+" + digits,
            _STEM + " " + digits, _OTHER_STEM + digits, f"{day_of(T0 - 86_400)}A-{digits}",
            f"{DAY}AB-{digits}", digits, "X" + _STEM + digits, _STEM + "0", _STEM,
            _STEM + "1" * 14, _STEM + digits + "-"]


_KEYS = st.integers(min_value=1, max_value=3000).flatmap(
    lambda n: st.sampled_from(_spellings(n))) | st.text(max_size=16)
_OPS = st.lists(st.tuples(st.sampled_from(["set", "del", "discard", "register", "get"]),
                          _KEYS, st.integers(min_value=0, max_value=3)), max_size=200)


@given(_OPS)
def test_map_answers_as_a_dict_of_the_strings(ops: list[tuple[str, str, int]]) -> None:
    model: dict[str, int] = {}
    values = [1000, 1001, 1002, 1003]  # distinct objects, compared by identity in discard
    m: ClOrdIdMap[int] = ClOrdIdMap()
    for op, key, v in ops:
        value = values[v]
        if op == "set":
            m[key] = value
            model[key] = value
        elif op == "del":
            if key in model:
                del m[key]
                del model[key]
            else:
                with pytest.raises(KeyError):
                    del m[key]
        elif op == "discard":
            m.discard(key, value)
            if model.get(key) is value:
                del model[key]
        elif op == "register":
            m.table(_STEM if v < 2 else _OTHER_STEM)
        assert m.get(key) == model.get(key)
        assert (key in m) == (key in model)
    assert len(m) == len(model)
    assert dict(m.items()) == model
    assert sorted(m.values()) == sorted(model.values())
    for key in model:
        assert m.get(key) is model[key]


def test_map_files_a_registered_stems_ids_by_counter_and_frees_chunks() -> None:
    m: ClOrdIdMap[str] = ClOrdIdMap()
    early = _STEM + to_base36(7)
    m[early] = "early"  # before the stem is registered: in the dict
    table = m.table(_STEM)  # registering moves it into the table
    assert m._other == {} and table.get(7, early) == "early"
    for n in range(1, 600):
        if n != 7:
            table.put(n, _STEM + to_base36(n), f"v{n}")
    assert len(m) == 599 and len(table._chunks) == 3  # 256 slots a chunk
    assert m.get(_STEM + to_base36(300)) == "v300"
    assert m.get(_STEM + "0" + to_base36(300)) is None  # another string, same counter
    assert m.get(_STEM + to_base36(300).lower()) is None
    for n in range(256, 512):
        del m[_STEM + to_base36(n)]
    assert len(table._chunks) == 2 and len(m) == 343
    m[_STEM + "0" + to_base36(5)] = "zero"  # not our spelling: kept apart from counter 5
    assert m.get(_STEM + to_base36(5)) == "v5" and m.get(_STEM + "0" + to_base36(5)) == "zero"
