"""The bot's effects as outgoing events: each Tracker row is one event, plus `ticket.started`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from ..cycle import Tracked
from ..model import Ticket, Track
from . import (ACCEPTED, COMPLETED, DECLINED, ESCALATED, PINGED, REMINDED, STARTED, TIMED_OUT, WAITING,
               HookEvent, event_id)

TYPES = {Track.PINGED: PINGED, Track.ACCEPTED: ACCEPTED, Track.DECLINED: DECLINED, Track.TIMED_OUT: TIMED_OUT,
         Track.COMPLETED: COMPLETED, Track.WAITING: WAITING, Track.ESCALATED: ESCALATED, Track.REMINDED: REMINDED}


@dataclass(frozen=True)
class Started:
    """A marker effect: start_ticket opened a new cycle (the cycle itself has no Tracker row for it)."""

    at: datetime
    ticket_id: str


def hook_events(effects: Iterable, ticket_of: Callable[[str], Ticket | None]) -> list[HookEvent]:
    """The events `effects` make, in order; `ticket_of` finds the ticket (in the cycle or just done)
    for its title, url and cycle id."""
    out = []
    for effect in effects:
        if isinstance(effect, Started):
            type_, manager_name, manager_id, detail = STARTED, "", "", ""
        elif isinstance(effect, Tracked) and effect.status in TYPES:
            type_, manager_name, manager_id, detail = (TYPES[effect.status], effect.manager_name,
                                                       effect.manager_id, effect.detail)
        else:
            continue
        ticket = ticket_of(effect.ticket_id) or Ticket(effect.ticket_id)
        out.append(HookEvent(event_id(effect.ticket_id, ticket.cycle, type_, effect.at, manager_id), type_,
                             effect.at, effect.ticket_id, ticket.title, ticket.url, ticket.cycle, manager_name,
                             manager_id, detail))
    return out
