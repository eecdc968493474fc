"""The shift calendar: the shifts of the coming days and who is on each, as iCalendar (RFC 5545).

Plain Python like the rest of the core: it takes the schedule, the team and the time, and returns
data or text. The shift boundaries are the schedule's own, so the calendar and the bot never
disagree on when a shift starts, daylight-saving days included.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Sequence
from zoneinfo import ZoneInfo

from .availability import Availability, roster
from .model import Manager
from .rotation import on_shift
from .shifts import ShiftSchedule

DAYS = 14
CALENDAR_NAME = "RCA shifts"
PRODID = "-//RCA Bot//Shift calendar//EN"
# The same on every host, so an event's UID depends on the shift occurrence only; .invalid is
# reserved (RFC 2606), so it cannot clash with anyone's real domain.
UID_DOMAIN = "rcabot.invalid"
LINE_OCTETS = 75  # RFC 5545 3.1: longer content lines are folded
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # not allowed in TEXT values (tab is)


@dataclass(frozen=True)
class ShiftOccurrence:
    shift: int
    start: datetime  # aware, UTC
    end: datetime
    managers: tuple[Manager, ...]  # active, working this shift, in Managers-tab order

    @property
    def uid(self) -> str:
        # From the occurrence alone: a calendar app then updates the event in place when the team changes.
        return f"{_utc(self.start)}-shift{self.shift}@{UID_DOMAIN}"


def upcoming_shifts(schedule: ShiftSchedule, managers: Sequence[Manager], now: datetime,
                    days: int = DAYS, availability: Availability = Availability()) -> list[ShiftOccurrence]:
    """The shift occurrences that overlap the next `days` days: the running shift (from its start)
    and every shift that starts before the same local wall-clock time `days` days from now. Each
    lists who would be pinged at its start (or now, for the running one): cover in, leave out."""
    local_now = now.astimezone(schedule.zone)
    until = (local_now + timedelta(days=days)).astimezone(timezone.utc)  # wall-clock days across DST
    slots = schedule.slots(local_now.date() - timedelta(days=1), until.astimezone(schedule.zone).date())
    return [ShiftOccurrence(s.shift, s.start, s.end,
                            tuple(roster(on_shift(managers, s.shift), managers, s.day, s.shift, availability,
                                         max(s.start, now))))
            for s in slots if s.end > now and s.start < until]


def render(occurrences: Sequence[ShiftOccurrence], now: datetime, zone: ZoneInfo,
           name: str = CALENDAR_NAME) -> str:
    """The occurrences as a VCALENDAR: CRLF line endings, long lines folded, text escaped."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{escape(name)}",
             # The feed covers two weeks only: ask subscribers to fetch it again well before it runs out.
             "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H"]
    for occurrence in occurrences:
        lines += _event(occurrence, now, zone)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def summary(occurrence: ShiftOccurrence) -> str:
    names = ", ".join(m.name for m in occurrence.managers) or "nobody on shift"
    return f"RCA shift {occurrence.shift}: {names}"


def description(occurrence: ShiftOccurrence, zone: ZoneInfo) -> str:
    start, end = (moment.astimezone(zone).strftime("%H:%M") for moment in (occurrence.start, occurrence.end))
    people = [f"{m.name} <{m.email}>" if m.email else m.name for m in occurrence.managers]
    who = "On shift:\n" + "\n".join(people) if people else "Nobody is on this shift."
    return f"Shift {occurrence.shift}, {start} to {end} ({zone.key})\n{who}"


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline escaped."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split `line` into lines of at most 75 octets, each continuation starting with a space;
    never inside a UTF-8 character."""
    parts, current, size = [], "", 0
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > LINE_OCTETS:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += octets
    parts.append(current)
    return "\r\n".join(parts)


def _event(occurrence: ShiftOccurrence, now: datetime, zone: ZoneInfo) -> list[str]:
    return ["BEGIN:VEVENT", f"UID:{occurrence.uid}", f"DTSTAMP:{_utc(now)}",
            f"DTSTART:{_utc(occurrence.start)}", f"DTEND:{_utc(occurrence.end)}",
            f"SUMMARY:{escape(summary(occurrence))}", f"DESCRIPTION:{escape(description(occurrence, zone))}",
            # Shifts run round the clock: subscribing must not make anyone look busy all day.
            "TRANSP:TRANSPARENT", "END:VEVENT"]


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
