"""oms/clordid: format, uniqueness, day change, resuming after a restart."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixrouter.oms import ClOrdIdError, ClOrdIdGenerator
from fixrouter.oms.clordid import day_of, parse, to_base36

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
    g._counter = 36**7 - 2  # the largest counter that still fits in 20 characters
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
