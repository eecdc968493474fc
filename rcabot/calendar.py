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

from icalendar import Calendar, Event, vDuration, vText

from .availability import Availability
from .availability.plan import PlannedShift, plan_slot
from .model import Manager
from .shifts import ShiftSchedule

DAYS = 14
CALENDAR_NAME = "RCA shifts"
PRODID = "-//RCA Bot//Shift calendar//EN"
# The same on every host, so an event's UID depends on the shift occurrence only; .invalid is
# reserved (RFC 2606), so it cannot clash with anyone's real domain.
UID_DOMAIN = "rcabot.invalid"
REFRESH = timedelta(hours=1)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # not allowed in TEXT values (tab is)


@dataclass(frozen=True)
class ShiftOccurrence:
    shift: int
    start: datetime  # aware, UTC
    end: datetime
    managers: tuple[Manager, ...]  # who would be pinged, in turn order (cover in, leave out)
    away: tuple[str, ...] = ()  # the team's absences: "Dana Kim (Holiday)"
    covering: tuple[str, ...] = ()  # "Emeka Obi covers Dana Kim"

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
    return [_occurrence(plan_slot(s, managers, availability, now), managers)
            for s in slots if s.end > now and s.start < until]


def _occurrence(planned: PlannedShift, managers: Sequence[Manager]) -> ShiftOccurrence:
    names = {m.chat_id: m.name for m in managers}
    slot = planned.slot
    return ShiftOccurrence(slot.shift, slot.start, slot.end, planned.on,
                           tuple(f"{m.name} ({a.reason or 'away'})" for m, a in planned.away),
                           tuple(f"{names.get(by, by)} covers {names.get(instead, instead)}"
                                 for by, instead in planned.covering.items() if by in {m.chat_id for m in planned.on}))


def render(occurrences: Sequence[ShiftOccurrence], now: datetime, zone: ZoneInfo,
           name: str = CALENDAR_NAME) -> str:
    """The occurrences as a VCALENDAR, written by the icalendar library: CRLF line endings, long
    lines folded, text escaped."""
    calendar = Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", PRODID)
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("X-WR-CALNAME", _Text(_text(name)))  # an X- name: given as TEXT, or it goes out unescaped
    # The feed covers two weeks only: ask subscribers to fetch it again well before it runs out.
    calendar.add("REFRESH-INTERVAL", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(REFRESH))  # a bare timedelta would go out as "1:00:00"
    for occurrence in occurrences:
        calendar.add_component(_event(occurrence, now, zone))
    return calendar.to_ical(sorted=False).decode("utf-8")


def summary(occurrence: ShiftOccurrence) -> str:
    names = ", ".join(m.name for m in occurrence.managers) or "nobody on shift"
    return f"RCA shift {occurrence.shift}: {names}"


def description(occurrence: ShiftOccurrence, zone: ZoneInfo) -> str:
    start, end = (moment.astimezone(zone).strftime("%H:%M") for moment in (occurrence.start, occurrence.end))
    people = [f"{m.name} <{m.email}>" if m.email else m.name for m in occurrence.managers]
    who = "On shift:\n" + "\n".join(people) if people else "Nobody is on this shift."
    notes = [f"Away: {', '.join(occurrence.away)}"] if occurrence.away else []
    notes += list(occurrence.covering)
    return f"Shift {occurrence.shift}, {start} to {end} ({zone.key})\n{who}" + "".join(f"\n{n}" for n in notes)


def _event(occurrence: ShiftOccurrence, now: datetime, zone: ZoneInfo) -> Event:
    event = Event()
    event.add("UID", occurrence.uid)
    for key, moment in (("DTSTAMP", now), ("DTSTART", occurrence.start), ("DTEND", occurrence.end)):
        event.add(key, moment.astimezone(timezone.utc))  # UTC: written in the Z form, no VTIMEZONE needed
    event.add("SUMMARY", _Text(_text(summary(occurrence))))
    event.add("DESCRIPTION", _Text(_text(description(occurrence, zone))))
    # Shifts run round the clock: subscribing must not make anyone look busy all day.
    event.add("TRANSP", "TRANSPARENT")
    return event


def _text(text: str) -> str:
    """`text` fit for a TEXT value (RFC 5545 3.3.11): every line break a newline, and the other
    control characters, which TEXT cannot hold and the library would write as they are, removed."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


class _Text(vText):
    """A TEXT value escaped by icalendar, except that a backslash is always a backslash.

    icalendar 7.3's vText reads backslash-N in the text it is given as a line break (its escaping
    starts with `replace(r"\\N", "\\n")`), so a name such as "CORP\\Nina" would come out as two
    lines. The backslashes are set aside as NUL, which `_text` has removed from the text, and
    written back escaped after the library has done the rest."""

    def to_ical(self) -> bytes:
        return vText(str(self).replace("\\", "\0")).to_ical().replace(b"\0", b"\\\\")


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
