"""Which shift is on, and when the next one starts.

Shift start times are wall-clock times in the configured time zone. A shift runs from its start
to the next start in time order, wrapping over midnight. Boundaries are computed as instants, so
a start that falls in a daylight-saving gap or fold still happens exactly once a day: a start
inside a gap happens when the clocks jump past it, and a start in a fold at its first occurrence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DEFAULT_STARTS = (time(0), time(6), time(12), time(18))
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?$")


class ShiftError(ValueError):
    """A shift start time or the shift table is not usable; the message says which."""


def parse_start(text: str) -> time:
    """`06:30`, `6:30`, `6` or `06` (an hour); seconds are allowed and ignored."""
    match = _TIME.match(text.strip())
    if not match:
        raise ShiftError(f"{text!r} is not a time: write HH:MM or an hour, like 06:00 or 6")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise ShiftError(f"{text!r} is not a time of day: hours go 0-23, minutes 0-59")
    return time(hour, minute)


@dataclass(frozen=True)
class ShiftSchedule:
    """Shift N starts at `starts[N - 1]` every day in `zone`."""

    starts: tuple[time, ...] = DEFAULT_STARTS
    zone: ZoneInfo = ZoneInfo("UTC")

    def __post_init__(self) -> None:
        if not self.starts:
            raise ShiftError("at least one shift start time is needed")
        if len(set(self.starts)) != len(self.starts):
            raise ShiftError("two shifts start at the same time")

    @property
    def count(self) -> int:
        return len(self.starts)

    def current_shift(self, now: datetime) -> int:
        return max(b for b in self._boundaries(now) if b[0] <= now)[1]

    def shift_started_at(self, now: datetime) -> datetime:
        return max(b for b in self._boundaries(now) if b[0] <= now)[0]

    def next_shift_start(self, now: datetime) -> datetime:
        return min(b for b in self._boundaries(now) if b[0] > now)[0]

    def boundaries(self, first: date, last: date) -> list[tuple[datetime, int]]:
        """Every shift start on the local days `first` to `last`, as (UTC instant, shift number), in
        time order. Shift N runs from its start to the next one in this list."""
        return sorted((_instant(first + timedelta(days=d), start, self.zone), number)
                      for d in range((last - first).days + 1) for number, start in enumerate(self.starts, 1))

    def _boundaries(self, now: datetime) -> list[tuple[datetime, int]]:
        """Every shift start from the day before `now` (local) to two days after."""
        today = now.astimezone(self.zone).date()
        return self.boundaries(today - timedelta(days=1), today + timedelta(days=2))


def _instant(day: date, start: time, zone: ZoneInfo) -> datetime:
    # fold=0: a time inside a gap takes the offset from before the jump, so it lands just after it.
    return datetime.combine(day, start, tzinfo=zone).astimezone(timezone.utc)
