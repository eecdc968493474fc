"""What the cycle's hot paths look up, kept filed as tickets change, so that a start, a click or
a tick costs the same with 100 tickets open or 100,000: who holds a ping, which tickets wait (in
arrival order), which pings lapse next, which tickets may be due an escalation or a Done reminder,
and which tickets changed since the flush last asked.

Plain data, no I/O. The cycle files a ticket after every change it makes to it (`file`) and drops
it when it leaves (`drop`); each query gives exactly what a scan of every open ticket would (the
property tests keep such a scan as the oracle).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Iterator

from sortedcontainers import SortedDict, SortedList

from .model import Ticket, TicketStatus


@dataclass(frozen=True)
class _Filed:
    """Where one ticket is filed now, so that it can be taken out again before it is filed anew."""

    seq: int
    status: TicketStatus
    manager_id: str
    lapses: datetime | None  # a posted ping's deadline
    started: datetime | None  # not accepted and not escalated: when it started
    passed: bool  # not accepted, not escalated, and someone let it go
    accepted: tuple[int, datetime] | None  # accepted: (reminders sent, accepted at)


class TicketIndex:
    def __init__(self, tickets: Iterable[Ticket] = ()) -> None:
        self._next_seq = 0
        self._filed: dict[str, _Filed] = {}
        self._holding: dict[str, dict[str, None]] = {}  # manager -> the tickets they hold a ping of
        self._waiting: SortedDict = SortedDict()  # seq -> ticket id
        self._lapses: SortedList = SortedList()  # (deadline, seq, ticket id)
        self._started: SortedList = SortedList()  # (started at, seq, ticket id)
        self._passed: SortedDict = SortedDict()  # seq -> ticket id
        self._accepted: dict[int, SortedList] = {}  # reminders sent -> (accepted at, seq, ticket id)
        self.changed: dict[str, None] = {}  # ticket ids changed (or gone) since `take_changed`
        self._file_all(tickets)

    def _file_all(self, tickets: Iterable[Ticket]) -> None:
        """`file` each ticket, in arrival order, building the sorted lists in one go (start-up)."""
        lapses, started, accepted = [], [], {}
        for seq, ticket in enumerate(tickets):
            tid, filed = ticket.ticket_id, _filing(ticket, seq)
            self._filed[tid] = filed
            if filed.status is TicketStatus.PINGED:
                self._holding.setdefault(filed.manager_id, {})[tid] = None
            elif filed.status is TicketStatus.WAITING:
                self._waiting[seq] = tid
            if filed.lapses is not None:
                lapses.append((filed.lapses, seq, tid))
            if filed.started is not None:
                started.append((filed.started, seq, tid))
            if filed.passed:
                self._passed[seq] = tid
            if filed.accepted is not None:
                accepted.setdefault(filed.accepted[0], []).append((filed.accepted[1], seq, tid))
            self.changed[tid] = None
        self._next_seq = len(self._filed)
        self._lapses, self._started = SortedList(lapses), SortedList(started)
        self._accepted = {sent: SortedList(rows) for sent, rows in accepted.items()}

    # --- filing ---------------------------------------------------------------------------

    def file(self, ticket: Ticket) -> None:
        """(Re)file `ticket` as it is now. A ticket not filed before comes after every other."""
        old = self._filed.get(ticket.ticket_id)
        if old is not None:
            self._unfile(ticket.ticket_id, old)
            seq = old.seq
        else:
            seq, self._next_seq = self._next_seq, self._next_seq + 1
        filed = _filing(ticket, seq)
        self._filed[ticket.ticket_id] = filed
        tid = ticket.ticket_id
        if filed.status is TicketStatus.PINGED:
            self._holding.setdefault(filed.manager_id, {})[tid] = None
        elif filed.status is TicketStatus.WAITING:
            self._waiting[seq] = tid
        if filed.lapses is not None:
            self._lapses.add((filed.lapses, seq, tid))
        if filed.started is not None:
            self._started.add((filed.started, seq, tid))
        if filed.passed:
            self._passed[seq] = tid
        if filed.accepted is not None:
            reminders, at = filed.accepted
            self._accepted.setdefault(reminders, SortedList()).add((at, seq, tid))
        self.changed[tid] = None

    def drop(self, ticket_id: str) -> None:
        """The ticket left the cycle (Done)."""
        old = self._filed.pop(ticket_id, None)
        if old is not None:
            self._unfile(ticket_id, old)
        self.changed[ticket_id] = None

    def _unfile(self, tid: str, old: _Filed) -> None:
        if old.status is TicketStatus.PINGED:
            held = self._holding[old.manager_id]
            del held[tid]
            if not held:
                del self._holding[old.manager_id]
        elif old.status is TicketStatus.WAITING:
            del self._waiting[old.seq]
        if old.lapses is not None:
            self._lapses.remove((old.lapses, old.seq, tid))
        if old.started is not None:
            self._started.remove((old.started, old.seq, tid))
        if old.passed:
            del self._passed[old.seq]
        if old.accepted is not None:
            reminders, at = old.accepted
            self._accepted[reminders].remove((at, old.seq, tid))

    # --- queries --------------------------------------------------------------------------

    def seq(self, ticket_id: str) -> int:
        """Its place in arrival order (a ticket started again after Done has a new, later one)."""
        return self._filed[ticket_id].seq

    def holders(self) -> set[str]:
        """Who holds an open ping."""
        return set(self._holding)

    def pinged(self) -> list[str]:
        """Every ticket with an open ping."""
        return [tid for held in self._holding.values() for tid in held]

    def held_by(self, manager_id: str) -> list[str]:
        """The tickets whose open ping `manager_id` holds, earliest first (one, by the cycle's rules)."""
        return sorted(self._holding.get(manager_id, ()), key=self.seq)

    def waiting(self) -> Iterator[str]:
        """The waiting tickets, oldest first, looked up one at a time (a loop that stops early costs
        what it took). Filing while iterating is allowed: each step finds the next one after the last."""
        after = -1
        while True:
            place = self._waiting.bisect_right(after)
            if place >= len(self._waiting):
                return
            after = self._waiting.keys()[place]
            yield self._waiting[after]

    def first_waiting(self, count: int) -> list[str]:
        return list(self._waiting.values()[:count])

    def waiting_count(self) -> int:
        return len(self._waiting)

    def count(self, status: TicketStatus) -> int:
        if status is TicketStatus.WAITING:
            return len(self._waiting)
        if status is TicketStatus.PINGED:
            return sum(map(len, self._holding.values()))
        return sum(map(len, self._accepted.values()))

    def lapsed(self, now: datetime) -> list[str]:
        """Posted pings whose deadline is past, the earliest deadline first (arrival order among equals)."""
        end = self._lapses.bisect_right((now, float("inf"), ""))
        return [tid for _, _, tid in self._lapses[:end]]

    def escalation_candidates(self, started_by: datetime | None) -> list[str]:
        """Tickets that may be due an escalation, in arrival order: not accepted nor escalated, and
        started by `started_by` (None: none is late) or let go by someone."""
        seqs = dict(self._passed)
        if started_by is not None:
            end = self._started.bisect_right((started_by, float("inf"), ""))
            seqs.update((seq, tid) for _, seq, tid in self._started[:end])
        return [seqs[seq] for seq in sorted(seqs)]

    def reminder_candidates(self, accepted_by: dict[int, datetime]) -> list[str]:
        """Accepted tickets, in arrival order, that have had `r` reminders and were accepted by
        `accepted_by[r]`."""
        found: list[tuple[int, str]] = []
        for reminders, before in accepted_by.items():
            bucket = self._accepted.get(reminders)
            if bucket:
                end = bucket.bisect_right((before, float("inf"), ""))
                found += [(seq, tid) for _, seq, tid in bucket[:end]]
        return [tid for _, tid in sorted(found)]

    def filed_as_is(self, ticket: Ticket) -> bool:
        """Whether `ticket` is filed as it is now (a check for tests: the cycle files every change)."""
        filed = self._filed.get(ticket.ticket_id)
        return filed is not None and filed == _filing(ticket, filed.seq)

    def take_changed(self) -> list[str]:
        """The tickets changed or gone since the last call (first change first), forgotten here."""
        changed, self.changed = list(self.changed), {}
        return changed


def _filing(ticket: Ticket, seq: int) -> _Filed:
    open_ = ticket.status is not TicketStatus.ACCEPTED and not ticket.escalated
    posted = ticket.status is TicketStatus.PINGED and ticket.message_id and ticket.deadline
    return _Filed(seq=seq, status=ticket.status, manager_id=ticket.manager_id,
                  lapses=ticket.deadline if posted else None,
                  started=ticket.started_at if open_ else None,
                  passed=open_ and bool(ticket.passed_by),
                  accepted=(ticket.reminders, ticket.accepted_at)
                  if ticket.status is TicketStatus.ACCEPTED and ticket.accepted_at else None)
