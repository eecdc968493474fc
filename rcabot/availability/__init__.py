"""Who is there: leave (Away), public and company holidays, and cover (Overrides).

Plain data and pure rules, like the rest of the core: the tabs' readers (`tabs.py`) and the
Calendar reader (`calendar_ooo.py`) turn what ops and managers wrote into these values, and the
cycle asks `Availability` who of a shift's team is really there at an instant.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Sequence

from ..model import Manager


@dataclass(frozen=True)
class Away:
    """`manager` (a Chat id) is away from `start` (inclusive) to `end` (exclusive), both aware instants.

    A whole-day row `2026-12-24` to `2026-12-24` is 00:00 on the 24th to 00:00 on the 25th, local time."""

    manager: str
    start: datetime
    end: datetime
    reason: str = ""
    source: str = "sheet"  # sheet, chat (the `away` command) or calendar (Google Calendar out of office)

    def covers(self, now: datetime) -> bool:
        return self.start <= now < self.end


@dataclass(frozen=True)
class Holiday:
    """A day off for the whole team: no shift runs on `day` (local) but those in `shifts`."""

    day: date
    name: str
    shifts: frozenset[int] = frozenset()  # the shifts that still run that day
    source: str = "sheet"  # sheet (the Holidays tab) or the HolidayCountry code


@dataclass(frozen=True)
class Override:
    """`covered_by` takes `instead_of`'s place in shift `shift` starting on local day `day`."""

    day: date
    shift: int
    instead_of: str  # Chat id
    covered_by: str  # Chat id
    row: int = field(default=0, compare=False)  # the Overrides tab's row it came from (0: from Chat)


@dataclass(frozen=True)
class Availability:
    """The leave and cover in force (from the Away and Overrides tabs and, optionally, calendars)."""

    away: tuple[Away, ...] = ()
    overrides: tuple[Override, ...] = ()
    # Managers back early (`away off`): an absence they were in at that instant ends there, whatever
    # its source (a row, a Calendar event the bot cannot edit).
    back: dict[str, datetime] = field(default_factory=dict)
    _by_manager: dict = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def away_at(self, chat_id: str, now: datetime) -> Away | None:
        """The absence that covers `now` for `chat_id` (the one that ends last), or None."""
        found = [a for a in self.absences(chat_id) if a.covers(now)]
        return max(found, key=lambda a: a.end) if found else None

    def with_leave(self, absence: Away) -> "Availability":
        return replace(self, away=self.away + (absence,), _by_manager=None)

    def with_cover(self, override: Override) -> "Availability":
        return replace(self, overrides=self.overrides + (override,), _by_manager=None)

    def with_back(self, back: dict[str, datetime]) -> "Availability":
        return replace(self, back=dict(back), _by_manager=None)

    def absences(self, chat_id: str) -> tuple[Away, ...]:
        """`chat_id`'s absences, each cut short where they came back early."""
        return tuple(self._index().get(chat_id, ()))

    def cover(self, day: date, shift: int) -> dict[str, str]:
        """{instead of: covered by} for one shift occurrence."""
        return {o.instead_of: o.covered_by for o in self.overrides if o.day == day and o.shift == shift}

    def _index(self) -> dict[str, list[Away]]:
        if self._by_manager is None:
            index: dict[str, list[Away]] = {}
            for absence in self.away:
                back = self.back.get(absence.manager)
                if back is not None and absence.start <= back < absence.end:
                    absence = replace(absence, end=back)
                if absence.start < absence.end:
                    index.setdefault(absence.manager, []).append(absence)
            object.__setattr__(self, "_by_manager", index)
        return self._by_manager


AWAY_HEADER = ["Manager", "From", "To", "Reason"]
OVERRIDES_HEADER = ["Date", "Shift", "Instead of", "Covered by", "Requested at", "Taken at"]


class CoverError(ValueError):
    """A `cover` request or a Take that cannot be; the message says why, to the manager."""


class LeaveError(ValueError):
    """An `away` the Away tab could not hold (a bad date, an end before the start); the message says why."""


def resolve(text: str, managers: Sequence[Manager]) -> Manager | None:
    """A manager named in a tab: by GChat ID (`users/123` or `123`) or by name (case-insensitive)."""
    wanted = text.strip()
    if not wanted:
        return None
    chat_id = wanted if wanted.startswith("users/") else f"users/{wanted}"
    for manager in managers:
        if manager.chat_id == chat_id:
            return manager
    matches = [m for m in managers if m.name.strip().casefold() == wanted.casefold()]
    return matches[0] if len(matches) == 1 else None


def roster(team: Sequence[Manager], managers: Sequence[Manager], day: date, shift: int,
           availability: Availability, now: datetime) -> list[Manager]:
    """Who is really on shift `shift` of local day `day` at `now`: its `team` in row order, each
    covered manager replaced in place by who covers them (from `managers`), less anyone away."""
    cover = availability.cover(day, shift)
    known = {m.chat_id: m for m in managers}
    on, seen = [], set()
    for manager in team:
        present = known.get(cover[manager.chat_id]) if manager.chat_id in cover else manager
        if present is None or not present.active or present.chat_id in seen:
            continue
        seen.add(present.chat_id)
        if availability.away_at(present.chat_id, now) is None:
            on.append(present)
    return on
