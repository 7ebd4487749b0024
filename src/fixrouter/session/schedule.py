"""When a FIX session may be connected, and when its sequence numbers start again.

Theory of operation
-------------------
QuickFIX's schedule settings, with its semantics:

* `StartTime` / `EndTime` (`HH:MM:SS`, wall-clock time in `TimeZone`, default UTC) bound a
  **daily** session. If `StartTime > EndTime` the session wraps midnight (e.g. 17:05 to
  17:00 the next day). If they are equal the session never closes and each day's period
  begins at that instant.
* With `StartDay` and `EndDay` as well, the session is **weekly**: it runs from StartDay at
  StartTime to EndDay at EndTime, wrapping over the week end when the start comes later in
  the week than the end (e.g. Sunday 17:00 to Friday 17:00).
* Both ends are inclusive at one-second resolution, as QuickFIX compares whole seconds: with
  EndTime 17:00:00 the session is still open at 17:00:00.999.

A **period** is one stretch from a start boundary to the following end boundary. At the
start of each period QuickFIX resets both sequence numbers; the session core does the same
when the store's creation time lies before `period_start(now)` (see `Session`).

Every function takes epoch seconds (UTC) and returns epoch seconds: nothing here reads a
clock. Local wall times go through `zoneinfo`, so DST is handled: a boundary is a wall-clock
time, so it stays 17:00 local across a change of offset. A boundary inside a DST gap (e.g.
02:30 on the night clocks skip from 02:00 to 03:00) resolves, with fold=0, to the instant
the pre-transition offset gives, i.e. 03:30 local; one inside a repeated hour resolves to
its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
}  # fmt: skip
_ONE_SECOND = 1.0


def parse_weekday(value: str) -> int:
    """A QuickFIX StartDay/EndDay value (`Monday`, `mon`, `Mo`, any case) as Python's
    weekday number (Monday 0 ... Sunday 6).

    Raises:
        ValueError: not a weekday name or an unambiguous prefix of one (2 letters or more).
    """
    key = value.strip().lower()
    matches = [n for name, n in _WEEKDAYS.items() if len(key) >= 2 and name.startswith(key)]
    if len(matches) != 1:
        raise ValueError(f"not a weekday: {value!r}")
    return matches[0]


def parse_time_of_day(value: str) -> time:
    """A QuickFIX StartTime/EndTime value `HH:MM:SS` (or `HH:MM`).

    Raises:
        ValueError: not a time of day.
    """
    parts = value.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"not a time of day HH:MM:SS: {value!r}")
    hour, minute = int(parts[0]), int(parts[1])
    second = int(parts[2]) if len(parts) == 3 else 0
    return time(hour, minute, second)  # raises ValueError when out of range


@dataclass(frozen=True, slots=True)
class SessionSchedule:
    """StartTime/EndTime[/StartDay/EndDay] in `time_zone` (an IANA name, default UTC).

    `start_day` and `end_day` are Python weekday numbers (Monday 0); give both or neither.

    Raises:
        ValueError: only one of start_day/end_day, a day outside 0..6, or an unknown zone.
    """

    start_time: time
    end_time: time
    start_day: int | None = None
    end_day: int | None = None
    time_zone: str = "UTC"
    _tz: tzinfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.start_day is None) != (self.end_day is None):
            raise ValueError("StartDay and EndDay must be given together")
        for day in (self.start_day, self.end_day):
            if day is not None and not 0 <= day <= 6:
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {day}")
        tz: tzinfo = UTC
        if self.time_zone.upper() != "UTC":
            try:
                tz = ZoneInfo(self.time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown TimeZone {self.time_zone!r}") from None
        object.__setattr__(self, "_tz", tz)

    @property
    def weekly(self) -> bool:
        return self.start_day is not None

    def _local(self, now: float) -> datetime:
        return datetime.fromtimestamp(now, self._tz).replace(microsecond=0)

    def _at(self, day: date, at: time) -> float:
        return datetime.combine(day, at, tzinfo=self._tz).timestamp()

    def is_session_time(self, now: float) -> bool:
        """Whether `now` lies inside a session period (both ends inclusive)."""
        local = self._local(now)
        if self.start_day is None or self.end_day is None:
            here: tuple[int, time] = (0, local.time())
            start, end = (0, self.start_time), (0, self.end_time)
        else:
            here = (local.weekday(), local.time())
            start, end = (self.start_day, self.start_time), (self.end_day, self.end_time)
        if start == end:
            return True
        if start < end:
            return start <= here <= end
        return here >= start or here <= end

    def period_start(self, now: float) -> float:
        """The latest start boundary at or before `now` (whether or not `now` is in session)."""
        local = self._local(now)
        if self.start_day is None:
            back = 0 if local.time() >= self.start_time else 1
        else:
            back = (local.weekday() - self.start_day) % 7
            if back == 0 and local.time() < self.start_time:
                back = 7
        return self._at(local.date() - timedelta(days=back), self.start_time)

    def next_period_start(self, now: float) -> float:
        """The first start boundary strictly after `now`."""
        start_day = datetime.fromtimestamp(self.period_start(now), self._tz).date()
        step = 7 if self.weekly else 1
        return self._at(start_day + timedelta(days=step), self.start_time)

    def period_end(self, now: float) -> float:
        """The first instant after the period that began at `period_start(now)`.

        For a session that never closes (start == end) that is the next period start.
        Compare with `now`: if `now >= period_end(now)` the session is closed right now.
        """
        begin = datetime.fromtimestamp(self.period_start(now), self._tz)
        if self.start_day is None or self.end_day is None:
            if self.start_time == self.end_time:
                return self.next_period_start(now)
            days = 0 if self.end_time > self.start_time else 1
        else:
            days = (self.end_day - self.start_day) % 7
            if days == 0 and self.end_time <= self.start_time:
                if self.end_time == self.start_time:
                    return self.next_period_start(now)
                days = 7
        return self._at(begin.date() + timedelta(days=days), self.end_time) + _ONE_SECOND

    def is_same_period(self, earlier: float, now: float) -> bool:
        """Whether `earlier` (e.g. the store's creation time) falls in the period of `now`.

        False means the sequence numbers belong to a past period and must be reset.
        """
        return self.period_start(now) <= earlier
