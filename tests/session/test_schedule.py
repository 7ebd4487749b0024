"""Session periods: daily and weekly, wrapping, inclusive ends, DST (session.schedule)."""

from __future__ import annotations

from calendar import timegm
from datetime import time

import pytest

from fixrouter.session.schedule import (
    SessionSchedule,
    parse_time_of_day,
    parse_weekday,
)


def utc(*parts: int) -> float:
    """Epoch seconds for (Y, M, D, h, m[, s])."""
    y, mo, d, hh, mm, *rest = parts
    return float(timegm((y, mo, d, hh, mm, rest[0] if rest else 0, 0, 0, 0)))


NY = "America/New_York"


def test_daily_utc_with_inclusive_ends() -> None:
    s = SessionSchedule(time(8, 0), time(17, 0))
    assert not s.is_session_time(utc(2024, 5, 6, 7, 59, 59))
    assert s.is_session_time(utc(2024, 5, 6, 8, 0))
    assert s.is_session_time(utc(2024, 5, 6, 17, 0) + 0.999)  # 17:00:00 is still in
    assert not s.is_session_time(utc(2024, 5, 6, 17, 0, 1))
    now = utc(2024, 5, 6, 12, 0)
    assert s.period_start(now) == utc(2024, 5, 6, 8, 0)
    assert s.period_end(now) == utc(2024, 5, 6, 17, 0, 1)
    assert s.next_period_start(now) == utc(2024, 5, 7, 8, 0)
    # Before today's start, the latest start was yesterday's.
    assert s.period_start(utc(2024, 5, 6, 7, 0)) == utc(2024, 5, 5, 8, 0)


def test_daily_wrapping_midnight_in_new_york() -> None:
    """17:05 to 17:00 the next day, New York time (EDT, UTC-4, in June)."""
    s = SessionSchedule(time(17, 5), time(17, 0), time_zone=NY)
    monday_10 = utc(2024, 6, 3, 14, 0)
    assert s.is_session_time(monday_10)
    assert s.period_start(monday_10) == utc(2024, 6, 2, 21, 5)  # Sunday 17:05 EDT
    assert s.period_end(monday_10) == utc(2024, 6, 3, 21, 0, 1)
    assert not s.is_session_time(utc(2024, 6, 3, 21, 2))  # 17:02, the daily break
    assert s.is_session_time(utc(2024, 6, 3, 21, 5))


def test_daily_start_across_spring_forward() -> None:
    """2024-03-10: New York moves from EST (UTC-5) to EDT (UTC-4); 17:00 stays 17:00."""
    s = SessionSchedule(time(17, 0), time(16, 0), time_zone=NY)
    before = utc(2024, 3, 10, 20, 0)  # 16:00 EDT, before that day's start
    assert s.period_start(before) == utc(2024, 3, 9, 22, 0)  # Saturday 17:00 EST
    after = utc(2024, 3, 10, 22, 0)  # 18:00 EDT
    assert s.period_start(after) == utc(2024, 3, 10, 21, 0)  # Sunday 17:00 EDT
    assert s.next_period_start(before) - s.period_start(before) == 23 * 3600


def test_daily_start_across_fall_back() -> None:
    s = SessionSchedule(time(17, 0), time(16, 0), time_zone=NY)
    now = utc(2024, 11, 3, 23, 0)  # 18:00 EST on the day clocks went back
    assert s.period_start(now) == utc(2024, 11, 3, 22, 0)
    assert s.period_start(now) - s.period_start(now - 86_400) == 25 * 3600


def test_boundary_inside_the_dst_gap_resolves_to_the_pre_transition_offset() -> None:
    s = SessionSchedule(time(2, 30), time(1, 0), time_zone=NY)
    now = utc(2024, 3, 10, 12, 0)
    assert s.period_start(now) == utc(2024, 3, 10, 7, 30)  # 02:30 EST == 03:30 EDT


def test_start_equal_end_never_closes_and_resets_daily() -> None:
    s = SessionSchedule(time(0, 0), time(0, 0))
    now = utc(2024, 5, 6, 12, 0)
    assert s.is_session_time(now) and s.is_session_time(utc(2024, 5, 6, 0, 0))
    assert s.period_start(now) == utc(2024, 5, 6, 0, 0)
    assert s.period_end(now) == utc(2024, 5, 7, 0, 0)
    assert not s.is_same_period(utc(2024, 5, 5, 23, 59), now)
    assert s.is_same_period(utc(2024, 5, 6, 0, 0), now)


def test_weekly_sunday_to_friday_new_york() -> None:
    s = SessionSchedule(time(17, 0), time(17, 0), start_day=6, end_day=4, time_zone=NY)
    sunday_18 = utc(2024, 6, 2, 22, 0)
    wednesday = utc(2024, 6, 5, 15, 0)
    assert s.is_session_time(sunday_18) and s.is_session_time(wednesday)
    assert s.period_start(wednesday) == utc(2024, 6, 2, 21, 0)
    assert s.period_end(wednesday) == utc(2024, 6, 7, 21, 0, 1)  # Friday 17:00:00 inclusive
    assert s.next_period_start(wednesday) == utc(2024, 6, 9, 21, 0)
    assert not s.is_session_time(utc(2024, 6, 8, 16, 0))  # Saturday
    assert not s.is_session_time(utc(2024, 6, 2, 20, 59))  # Sunday 16:59
    assert s.is_same_period(utc(2024, 6, 3, 0, 0), wednesday)
    assert not s.is_same_period(utc(2024, 6, 1, 0, 0), wednesday)


def test_weekly_range_wrapping_the_week_end() -> None:
    """Friday 18:00 to Monday 06:00 UTC: start later in the week than the end."""
    s = SessionSchedule(time(18, 0), time(6, 0), start_day=4, end_day=0)
    saturday = utc(2024, 6, 8, 12, 0)
    monday_5 = utc(2024, 6, 10, 5, 0)
    assert s.is_session_time(saturday) and s.is_session_time(monday_5)
    assert not s.is_session_time(utc(2024, 6, 5, 12, 0))  # Wednesday
    assert s.period_start(monday_5) == utc(2024, 6, 7, 18, 0)
    assert s.period_end(saturday) == utc(2024, 6, 10, 6, 0, 1)


def test_weekly_same_day_end_before_start_spans_the_week() -> None:
    s = SessionSchedule(time(9, 0), time(8, 0), start_day=0, end_day=0)
    monday_830 = utc(2024, 6, 10, 8, 30)
    assert not s.is_session_time(monday_830)
    assert s.is_session_time(utc(2024, 6, 12, 8, 30))
    now = utc(2024, 6, 12, 0, 0)
    assert s.period_end(now) == utc(2024, 6, 17, 8, 0, 1)


def test_weekly_start_day_today_before_start_time_goes_back_a_week() -> None:
    s = SessionSchedule(time(17, 0), time(17, 0), start_day=6, end_day=4)
    sunday_morning = utc(2024, 6, 9, 9, 0)
    assert s.period_start(sunday_morning) == utc(2024, 6, 2, 17, 0)


def test_parsers() -> None:
    assert parse_weekday("Sunday") == 6 and parse_weekday("mo") == 0 and parse_weekday("THU") == 3
    assert parse_time_of_day("17:05:30") == time(17, 5, 30)
    assert parse_time_of_day("08:00") == time(8, 0)
    for bad in ("T", "x", ""):
        with pytest.raises(ValueError):
            parse_weekday(bad)
    for bad in ("25:00:00", "8:00", "08-00-00"):
        with pytest.raises(ValueError):
            parse_time_of_day(bad)


def test_invalid_schedules() -> None:
    with pytest.raises(ValueError):
        SessionSchedule(time(1), time(2), start_day=1)
    with pytest.raises(ValueError):
        SessionSchedule(time(1), time(2), start_day=1, end_day=7)
    with pytest.raises(ValueError):
        SessionSchedule(time(1), time(2), time_zone="Mars/Olympus")
