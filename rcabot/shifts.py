"""Which shift is on, and when the next one starts.

Shift start times are wall-clock times in the configured time zone. A shift runs from its start
to its end time if it has one, else to the next start in the day's table (wrapping over
midnight), on the weekdays it is set for and not on a holiday (unless the holiday says it still
runs). Outside every shift nobody is on: a ticket then waits for the next start.

Boundaries are computed as instants, so a start that falls in a daylight-saving gap or fold still
happens exactly once a day: a start inside a gap happens when the clocks jump past it, and a start
in a fold at its first occurrence.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from .availability import Holiday

DEFAULT_STARTS = (time(0), time(6), time(12), time(18))
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?$")
LOOKAHEAD_DAYS = 400  # how far `next_start` looks: a year of holidays and then some


class ShiftError(ValueError):
    """A shift start time or the shift table is not usable; the message says which (and `shift`
    which shift, where one is to blame)."""

    def __init__(self, message: str, shift: int = 0):
        super().__init__(message)
        self.shift = shift


def parse_start(text: str) -> time:
    """`06:30`, `6:30`, `6` or `06` (an hour); seconds are allowed and ignored."""
    match = _TIME.match(text.strip())
    if not match:
        raise ShiftError(f"{text!r} is not a time: write HH:MM or an hour, like 06:00 or 6")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise ShiftError(f"{text!r} is not a time of day: hours go 0-23, minutes 0-59")
    return time(hour, minute)


def parse_days(text: str) -> frozenset[int]:
    """`Mon-Fri`, `Mon,Wed,Fri`, `Sat-Sun`, `Fri-Mon` (wrapping), full names, or `all`: weekday
    numbers, Monday 0."""
    parts = [p for p in re.split(r"[,;\s]+", text.strip().lower()) if p]
    if parts in (["all"], ["daily"], ["every", "day"]):
        return frozenset(range(7))
    days: set[int] = set()
    for part in parts:
        ends = [_weekday(end, text) for end in part.split("-")] if part.count("-") <= 1 else None
        if ends is None:
            raise ShiftError(f"{text!r}: {part!r} is not a day or a range of days like Mon-Fri")
        first, last = ends[0], ends[-1]
        days.update((first + n) % 7 for n in range((last - first) % 7 + 1))
    if not days:
        raise ShiftError(f"{text!r} names no day: write Mon-Fri, Mon,Wed,Fri or Sat-Sun")
    return frozenset(days)


def _weekday(word: str, text: str) -> int:
    """`mo`, `mon`, `monday`: a day named by at least its first two letters."""
    for number, name in enumerate(_DAY_NAMES):
        if len(word) >= 2 and name.startswith(word):
            return number
    raise ShiftError(f"{text!r}: {word!r} is not a day of the week (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")


def days_text(days: frozenset[int] | None) -> str:
    """`Mon-Fri`, `Mon, Wed, Fri` or `every day`: how the days are shown back."""
    if days is None or len(days) == 7:
        return "every day"
    names = [WEEKDAYS[d].title() for d in sorted(days)]
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{names[0]}-{names[-1]}"
    return ", ".join(names)


@dataclass(frozen=True)
class HolidayCalendar:
    """The company's own days (the Holidays tab) and, with a country, its public holidays."""

    country: str = ""
    subdivision: str = ""
    listed: tuple[Holiday, ...] = ()

    def on(self, day: date) -> Holiday | None:
        """The holiday on local day `day`: the Holidays tab's row first (it may keep shifts running)."""
        for holiday in self.listed:
            if holiday.day == day:
                return holiday
        if not self.country:
            return None
        name = public_holiday(self.country, self.subdivision, day)
        return Holiday(day, name, source=self.country) if name else None


_HOLIDAYS_LOCK = threading.Lock()


def public_holiday(country: str, subdivision: str, day: date) -> str:
    """The public holiday's name on `day` ("" if none), from the `holidays` package."""
    table = _country_holidays(country, subdivision)
    with _HOLIDAYS_LOCK:  # the table fills in a year at a time on first use
        return table.get(day) or ""


@lru_cache(maxsize=8)
def _country_holidays(country: str, subdivision: str):
    import holidays  # only a sheet that names a country pays for the import

    return holidays.country_holidays(country, subdiv=subdivision or None)


@dataclass(frozen=True)
class Slot:
    """One occurrence of a shift: shift `shift` of local day `day`, from `start` to `end` (UTC)."""

    shift: int
    day: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ShiftSchedule:
    """Shift N starts at `starts[N - 1]` in `zone`, on the weekdays `days[N - 1]` (None or absent:
    every day), and ends at `ends[N - 1]` (None or absent: when the next one starts)."""

    starts: tuple[time, ...] = DEFAULT_STARTS
    zone: ZoneInfo = ZoneInfo("UTC")
    days: tuple[frozenset[int] | None, ...] = ()
    ends: tuple[time | None, ...] = ()
    holidays: HolidayCalendar = field(default_factory=HolidayCalendar)
    # Each day's occurrences, worked out once: the cycle asks who is on at every event.
    _days: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.starts:
            raise ShiftError("at least one shift start time is needed")
        if len(set(self.starts)) != len(self.starts):
            raise ShiftError("two shifts start at the same time")
        # Nothing set is the same as not given: a schedule equals the one the older bot read.
        for name in ("days", "ends"):
            if all(value is None for value in getattr(self, name)):
                object.__setattr__(self, name, ())
        for number, end in enumerate(self.ends, 1):
            if end is None:
                continue
            for day in _A_WEEK:
                if self.weekdays(number) is None or day.weekday() in self.weekdays(number):
                    if _minutes_after(self.starts[number - 1], end) > (self._room(number, day) or 24 * 60):
                        raise ShiftError(f"shift {number} would end at {end:%H:%M} on {WEEKDAYS[day.weekday()].title()}, "
                                         f"after the next shift starts (it may end at that start at the latest)",
                                         shift=number)

    @property
    def count(self) -> int:
        return len(self.starts)

    def weekdays(self, shift: int) -> frozenset[int] | None:
        return self.days[shift - 1] if shift <= len(self.days) else None

    def end_time(self, shift: int) -> time | None:
        return self.ends[shift - 1] if shift <= len(self.ends) else None

    # --- the questions the cycle and the views ask ------------------------------------------

    def slot_at(self, now: datetime) -> Slot | None:
        """The shift occurrence running at `now`, or None (a gap, a day off, a holiday)."""
        today = now.astimezone(self.zone).date()
        return next((s for s in self.slots(today - timedelta(days=1), today) if s.start <= now < s.end), None)

    def current_shift(self, now: datetime) -> int:
        """The number of the shift on at `now`; 0 when none is."""
        slot = self.slot_at(now)
        return slot.shift if slot else 0

    def next_start(self, now: datetime) -> datetime | None:
        """When the next shift occurrence starts after `now` (None: none within a year and more)."""
        today = now.astimezone(self.zone).date()
        for first in range(-1, LOOKAHEAD_DAYS, 7):
            later = [s.start for s in self.slots(today + timedelta(days=first), today + timedelta(days=first + 6))
                     if s.start > now]
            if later:
                return min(later)
        return None

    def next_change(self, now: datetime) -> datetime:
        """The next instant a shift starts or ends: when who is on may change."""
        today = now.astimezone(self.zone).date()
        moments = [m for s in self.slots(today - timedelta(days=1), today + timedelta(days=2))
                   for m in (s.start, s.end) if m > now]
        return min(moments, default=None) or self.next_start(now) or now + timedelta(days=1)

    def slots(self, first: date, last: date) -> list[Slot]:
        """Every shift occurrence that starts on the local days `first` to `last`, in time order."""
        found = [slot for offset in range((last - first).days + 1) for slot in self._day(first + timedelta(days=offset))]
        return sorted(found, key=lambda s: s.start)

    def _day(self, day: date) -> tuple[Slot, ...]:
        """The occurrences that start on local day `day` (safe from any thread: at worst worked out twice)."""
        slots = self._days.get(day)
        if slots is None:
            holiday = self.holidays.on(day)
            slots = tuple(slot for number in range(1, self.count + 1)
                          if self.runs(number, day, holiday)
                          and (slot := self._slot(number, day)).end > slot.start)  # not lost in a DST gap
            if len(self._days) > 64:  # a few days around now are asked again and again; keep those
                self._days.clear()
            self._days[day] = slots
        return slots

    def runs(self, shift: int, day: date, holiday: Holiday | None = None) -> bool:
        """Whether shift `shift` runs on local day `day` (its weekdays; a holiday's exceptions)."""
        days = self.weekdays(shift)
        if days is not None and day.weekday() not in days:
            return False
        return holiday is None or shift in holiday.shifts

    def occurrence(self, shift: int, day: date) -> Slot:
        """Shift `shift` of local day `day`, whether or not it runs that day."""
        return self._slot(shift, day)

    def _slot(self, shift: int, day: date) -> Slot:
        start = self.starts[shift - 1]
        end = self.end_time(shift)
        minutes = self._length(shift, day) if end is None else _minutes_after(start, end)
        end_local = datetime.combine(day, start) + timedelta(minutes=minutes)
        return Slot(shift, day, _instant(day, start, self.zone), _instant(end_local.date(), end_local.time(), self.zone))

    def _length(self, shift: int, day: date) -> int:
        """Minutes from shift `shift`'s start on `day` to the next start (within a day) of a shift
        set to run on the day it falls (by weekday; a holiday changes no length); when none runs
        then, to the next start in the table. Without ShiftNDays that is the next start in the
        table, as it always was; with them, a weekend shift at 09:00 does not cut the weekday shift
        that starts at 07:00, and a shift before days off still ends at its usual time."""
        return self._room(shift, day) or self._room(shift, day, any_day=True) or 24 * 60

    def _room(self, shift: int, day: date, any_day: bool = False) -> int | None:
        """Minutes from shift `shift`'s start on `day` to the next start within a day of a shift set
        to run on the day it falls (`any_day`: of any shift); None when there is none."""
        start = _minute_of_day(self.starts[shift - 1])
        gaps = [later * 24 * 60 + _minute_of_day(other) - start
                for number, other in enumerate(self.starts, 1) for later in (0, 1)
                if any_day or self.weekdays(number) is None
                or (day + timedelta(days=later)).weekday() in self.weekdays(number)]
        return min((gap for gap in gaps if 0 < gap <= 24 * 60), default=None)


_A_WEEK = tuple(date(2024, 1, 1) + timedelta(days=n) for n in range(7))  # Monday to Sunday


def _minute_of_day(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _minutes_after(start: time, later: time) -> int:
    """Wall-clock minutes from `start` to the next `later` (a full day if they are equal)."""
    gap = (later.hour * 60 + later.minute) - (start.hour * 60 + start.minute)
    return gap % (24 * 60) or 24 * 60


def _instant(day: date, start: time, zone: ZoneInfo) -> datetime:
    """Wall-clock `start` on `day` as an instant: in a fold its first occurrence (fold=0); in a
    gap (a time the clocks skip) the jump itself, so that boundaries keep their order."""
    local = datetime.combine(day, start, tzinfo=zone)
    first, later = local.astimezone(timezone.utc), local.replace(fold=1).astimezone(timezone.utc)
    if later >= first:  # an ordinary time or a fold: fold=0 is the first occurrence
        return first
    # A gap: `later` is before the jump and `first` after it. Find the jump to the second.
    before, after = later, first
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(zone).utcoffset() == before.astimezone(zone).utcoffset():
            before = middle
        else:
            after = middle
    return after.replace(microsecond=0) if after.microsecond == 0 else after
