"""Managers, tickets and statuses: plain data, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, tzinfo
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: availability builds on this module
    from .availability import Away, Holiday


class Track(str, Enum):
    """What a Tracker row says happened."""

    PINGED = "Pinged"
    ACCEPTED = "Accepted"
    DECLINED = "Declined"
    TIMED_OUT = "TimedOut"
    COMPLETED = "Completed"
    WAITING = "Waiting"
    ESCALATED = "Escalated"
    REMINDED = "Reminded"


class TicketStatus(str, Enum):
    """Where a ticket still in the cycle stands (the TicketState tab's Status column)."""

    PINGED = "Pinged"
    WAITING = "Waiting"
    ACCEPTED = "Accepted"


def chat_user_id(raw: str) -> str:
    """`123` and `users/123` name the same Chat user; keep the API form."""
    raw = raw.strip()
    if not raw:
        return ""
    return raw if raw.startswith("users/") else f"users/{raw}"


@dataclass(frozen=True)
class Manager:
    name: str
    chat_id: str
    email: str = ""
    shifts: frozenset[int] | None = None  # None: every shift
    active: bool = True
    lead: bool = False  # may ask for cover on someone else's behalf (a Lead column = yes)

    def works(self, shift: int) -> bool:
        return self.shifts is None or shift in self.shifts


@dataclass
class Ticket:
    ticket_id: str
    title: str = ""
    url: str = ""
    status: TicketStatus = TicketStatus.WAITING
    manager_id: str = ""
    manager_name: str = ""
    message_id: str = ""
    thread_id: str = ""
    pinged_at: datetime | None = None
    deadline: datetime | None = None
    attempts: int = 0
    started_at: datetime | None = None
    accepted_at: datetime | None = None
    escalated: bool = False
    reminders: int = 0  # Done reminders sent since it was accepted
    passed_by: tuple[str, ...] = ()  # who declined it or let it lapse, the latest last
    cycle: str = ""  # this cycle's id: a ticket id started again (an RCA reopened) is a new cycle

    @property
    def passed_over(self) -> str:
        """Who let its last ping go: pinged for it again only when nobody else can be."""
        return self.passed_by[-1] if self.passed_by else ""


@dataclass
class BotState:
    """Everything the bot owns, in memory; the bot-owned tabs are a copy of it."""

    tickets: dict[str, Ticket] = field(default_factory=dict)  # arrival order
    dnd_until: dict[str, datetime] = field(default_factory=dict)
    last_activity: dict[str, datetime] = field(default_factory=dict)
    last_pinged: dict[int, str] = field(default_factory=dict)  # shift -> chat id
    pointer_updated: dict[int, datetime] = field(default_factory=dict)
    announced_shift: datetime | None = None  # the start of the last shift the space was told of
    back_at: dict[str, datetime] = field(default_factory=dict)  # `away off`: back early, at that instant
    # `cover cancel`: a manager's withdrawn requests ("2026-12-03/2"); a Take on their card is refused
    withdrawn: dict[str, frozenset[str]] = field(default_factory=dict)

    def in_dnd(self, chat_id: str, now: datetime) -> bool:
        until = self.dnd_until.get(chat_id)
        return until is not None and until > now

    def holding_ping(self) -> set[str]:
        return {t.manager_id for t in self.tickets.values() if t.status is TicketStatus.PINGED}


@dataclass(frozen=True)
class Board:
    """A consistent copy of what the chat commands show, taken in one go from memory."""

    now: datetime
    zone: tzinfo
    shift: int  # 0: no shift is on (a gap, a day off, a holiday)
    shifts: int
    shift_started: datetime | None  # None: no shift is on
    next_shift: datetime | None  # when this shift ends, or when the next one starts; None: none ahead
    managers: tuple[Manager, ...]
    tickets: tuple[Ticket, ...]  # arrival order: all, or the first of them and every pinged one (see counts)
    dnd_until: dict[str, datetime]  # only DNDs still in force
    next_up: Manager | None  # who a new ticket would be pinged to; None: it would wait
    on: tuple[Manager, ...] = ()  # who is on shift and there, in turn order (cover in, leave out)
    team: tuple[Manager, ...] = ()  # the shift's team before leave and cover
    away: dict[str, "Away"] = field(default_factory=dict)  # every manager away now
    holiday: "Holiday | None" = None  # today's (local)
    covers: dict[str, str] = field(default_factory=dict)  # this shift's cover: instead of -> covered by
    # Tickets in the cycle by status, when `tickets` holds only some of them (the first in arrival
    # order, the first waiting and every pinged one: what the views show); None: `tickets` is all.
    counts: dict[TicketStatus, int] | None = None

    def count(self, status: TicketStatus | None = None) -> int:
        """How many tickets are in the cycle (with `status`), whether `tickets` holds all or not."""
        if self.counts is None:
            return sum(status is None or t.status is status for t in self.tickets)
        return sum(n for s, n in self.counts.items() if status is None or s is status)

    def holding(self, chat_id: str) -> Ticket | None:
        """The open ping `chat_id` holds (the earliest ticket's, were there two)."""
        return self._held.get(chat_id)

    @cached_property
    def _held(self) -> dict[str, Ticket]:
        # Built once per board: a view asks this of every manager, and a scan of every ticket for
        # each made the BotStatus rows quadratic (8 s of start-up with 10,000 managers and tickets).
        held: dict[str, Ticket] = {}
        for t in self.tickets:
            if t.status is TicketStatus.PINGED:
                held.setdefault(t.manager_id, t)
        return held


@dataclass(frozen=True)
class DndChange:
    """What a manager's own `dnd` or `back` came to."""

    name: str
    at: datetime  # when the change was made
    until: datetime | None  # the DND in force now; None: none
    was_until: datetime | None  # the DND in force before
    holding: Ticket | None  # the open ping they still hold
    pinged: tuple[str, ...] = ()  # tickets pinged to them at once (after `back`)
    on_shift: bool = True
