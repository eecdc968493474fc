"""Who would be pinged in each shift of a given day: `who tomorrow`, `who 2026-12-24`.

Pure, like the rotation it mirrors: each shift occurrence of the day, its team with cover in the
covered manager's place and leave left out, as of the occurrence's start (or now, if it runs).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Sequence

from ..model import Manager
from ..rotation import on_shift
from ..shifts import ShiftSchedule, Slot
from . import Availability, Away, Holiday, roster


@dataclass(frozen=True)
class PlannedShift:
    slot: Slot
    on: tuple[Manager, ...]  # who would be pinged, in turn order
    away: tuple[tuple[Manager, Away], ...]  # of the shift's team, who is away at its start
    covering: dict[str, str]  # covered by -> instead of (Chat ids)


@dataclass(frozen=True)
class DayPlan:
    day: date
    holiday: Holiday | None
    shifts: tuple[PlannedShift, ...]


def plan_day(schedule: ShiftSchedule, managers: Sequence[Manager], availability: Availability, day: date,
             now: datetime) -> DayPlan:
    """The shifts that start on local day `day` and who would be on each."""
    return DayPlan(day, schedule.holidays.on(day),
                   tuple(plan_slot(slot, managers, availability, now) for slot in schedule.slots(day, day)))


def plan_slot(slot: Slot, managers: Sequence[Manager], availability: Availability, now: datetime) -> PlannedShift:
    """Who would be on `slot`, as of its start (or now, if it runs): the calendar feed's view too."""
    at = max(slot.start, now)
    team = on_shift(managers, slot.shift)
    away = tuple((m, a) for m in team if (a := availability.away_at(m.chat_id, at)))
    covering = {by: instead for instead, by in availability.cover(slot.day, slot.shift).items()}
    return PlannedShift(slot, tuple(roster(team, managers, slot.day, slot.shift, availability, at)), away, covering)
