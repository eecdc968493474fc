"""The ticket cycle: start, accept, decline, time out, done, wake waiting tickets.

Plain Python with the time passed in. Each call changes the in-memory `BotState` and returns the
effects the shell must carry out (post a ping, post a notice, write a Tracker row, set or cancel
a timer). Invariants kept after every call: a ticket holds at most one open ping, a manager holds
at most one ping, and no ticket waits while a manager could take it.
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import islice
from datetime import datetime, timedelta
from enum import Enum
from typing import Sequence, Union

from .availability import Availability, Away, Override, roster
from .history import History
from .model import Board, BotState, Manager, Ticket, TicketStatus, Track
from .rotation import eligible, on_shift, pick_manager
from .shifts import ShiftSchedule, Slot
from .ticket_index import TicketIndex

SHIFT_TIMER = "shift-boundary"


def timeout_timer(ticket_id: str) -> str:
    return f"ping-timeout:{ticket_id}"


def dnd_timer(chat_id: str) -> str:
    return f"dnd-expiry:{chat_id}"


def escalation_timer(ticket_id: str) -> str:
    return f"escalation:{ticket_id}"


def reminder_timer(ticket_id: str) -> str:
    return f"done-reminder:{ticket_id}"


LOAD_WINDOW = timedelta(days=30)  # load balancing counts the accepts of the last 30 days
NAMED_IN_NOTICE = 20  # waiting tickets the shift-start notice names; the rest are counted
SHOWN_TICKETS = 200  # the first tickets (and the first waiting) a board copies for the views


@dataclass(frozen=True)
class Rules:
    ticket_timeout: timedelta = timedelta(seconds=300)
    dnd: timedelta = timedelta(seconds=3600)
    schedule: ShiftSchedule = field(default_factory=ShiftSchedule)
    # Beyond the older bot; the defaults keep its behaviour.
    escalate_after: timedelta | None = None  # escalate a ticket not accepted this long after its start
    escalation_contacts: tuple[str, ...] = ()  # Chat ids to mention; none: no escalation at all
    remind_after: timedelta | None = None  # remind the assignee of an accepted ticket not Done
    max_reminders: int = 3
    load_balance: bool = False  # pick the eligible manager with the fewest recent accepts
    shift_notice: bool = False  # tell the space who is on at each shift start


@dataclass(frozen=True)
class Ping:
    """Post the ping card for `manager` in the ticket's thread; `note` says why it moved on."""

    ticket_id: str
    title: str
    url: str
    manager: Manager
    attempt: int
    deadline: datetime
    note: str = ""
    cycle: str = ""  # the ticket's cycle, carried by the card's buttons


@dataclass(frozen=True)
class Notice:
    """Post `text` in the ticket's thread: that it waits, an escalation, a Done reminder."""

    ticket_id: str
    text: str
    kind: str = "waiting"  # waiting, escalation, reminder
    number: int = 0  # waiting: the ticket's attempts; reminder: which one
    mentions: tuple[str, ...] = ()  # Chat ids mentioned before the text


@dataclass(frozen=True)
class Announce:
    """Post `text` in the space, outside any ticket's thread (the shift-start notice)."""

    key: str  # one post per key
    text: str


@dataclass(frozen=True)
class Lapsed:
    """A ping timed out: its card (`message_id`), still showing Accept and Decline, may be redrawn."""

    ticket_id: str
    message_id: str
    manager_name: str  # who let it lapse


@dataclass(frozen=True)
class Tracked:
    at: datetime
    ticket_id: str
    status: Track
    manager_name: str = ""
    manager_id: str = ""
    detail: str = ""


@dataclass(frozen=True)
class SetTimer:
    key: str
    at: datetime


@dataclass(frozen=True)
class CancelTimer:
    key: str


Effect = Union[Ping, Notice, Announce, Lapsed, Tracked, SetTimer, CancelTimer]


class Outcome(str, Enum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"
    NOT_YOURS = "not_yours"  # someone other than the pinged manager (or the assignee) clicked
    EXPIRED = "expired"  # the card's ping is no longer the open one
    TAKEN = "taken"  # the ticket is already accepted
    NOT_ACCEPTED = "not_accepted"  # Done before Accept
    CLOSED = "closed"  # the ticket is not in the cycle


@dataclass
class Answer:
    outcome: Outcome
    ticket: Ticket | None
    effects: list[Effect] = field(default_factory=list)


class Cycle:
    RECENTLY_DONE = 1000  # completed tickets remembered so that a repeated Done click is answered alike

    def __init__(self, state: BotState, managers: Sequence[Manager], rules: Rules, history: History | None = None):
        self.state = state
        self.managers = list(managers)
        self.rules = rules
        self.history = history or History()  # the Tracker's recent rows, for load balancing
        self.recently_done: OrderedDict[str, Ticket] = OrderedDict()
        self.availability = Availability()  # leave and cover, from the Away and Overrides tabs
        self.index = TicketIndex(state.tickets.values())  # filed again after every change to a ticket

    # --- events -------------------------------------------------------------------------

    def start(self, ticket_id: str, title: str, url: str, now: datetime,
              cycle: str = "") -> tuple[Ticket, list[Effect]]:
        """Start a cycle (`cycle` names it, unique per start); a ticket already in the cycle is
        returned as it is, with no effects."""
        if ticket_id in self.state.tickets:
            return self.state.tickets[ticket_id], []
        ticket = Ticket(ticket_id, title, url, started_at=now, cycle=cycle)
        self.state.tickets[ticket_id] = ticket
        self.index.file(ticket)
        return ticket, self._ticket_timers(ticket) + self._wake(now, needs_manager={ticket_id: ""})

    def accept(self, ticket_id: str, user_id: str, now: datetime, attempt: int | None = None,
               cycle: str = "") -> Answer:
        ticket = self.state.tickets.get(ticket_id)
        if ticket is None:
            return Answer(Outcome.CLOSED, self.recently_done.get(ticket_id))
        if ticket.status is TicketStatus.ACCEPTED:
            same = user_id == ticket.manager_id
            return Answer(Outcome.ACCEPTED if same else Outcome.TAKEN, _copy(ticket))
        refused = self._refusal(ticket, user_id, attempt, cycle)
        if refused:
            return Answer(refused, _copy(ticket))
        ticket.status, ticket.deadline, ticket.accepted_at, ticket.reminders = TicketStatus.ACCEPTED, None, now, 0
        self.index.file(ticket)
        effects: list[Effect] = [CancelTimer(timeout_timer(ticket_id)), CancelTimer(escalation_timer(ticket_id)),
                                 self._track(now, ticket, Track.ACCEPTED)] + self._ticket_timers(ticket)
        effects += self._rest(user_id, now)
        return Answer(Outcome.ACCEPTED, _copy(ticket), effects + self._wake(now))

    def decline(self, ticket_id: str, user_id: str, now: datetime, attempt: int | None = None,
                cycle: str = "") -> Answer:
        ticket = self.state.tickets.get(ticket_id)
        if ticket is None:
            return Answer(Outcome.CLOSED, self.recently_done.get(ticket_id))
        if ticket.status is TicketStatus.ACCEPTED:
            return Answer(Outcome.TAKEN, _copy(ticket))
        refused = self._refusal(ticket, user_id, attempt, cycle)
        if refused:
            return Answer(refused, _copy(ticket))
        declined = _copy(ticket)
        effects: list[Effect] = [self._track(now, ticket, Track.DECLINED)] + self._rest(user_id, now)
        note = self._requeue(ticket, f"Declined by {ticket.manager_name}.")
        effects += self._wake(now, needs_manager={ticket_id: note})
        return Answer(Outcome.DECLINED, declined, effects + self._escalations(now))

    def done(self, ticket_id: str, user_id: str, now: datetime, cycle: str = "") -> Answer:
        ticket = self.state.tickets.get(ticket_id)
        if ticket is not None and _other_cycle(ticket, cycle):
            return Answer(Outcome.EXPIRED, _copy(ticket))
        if ticket is None:
            finished = self.recently_done.get(ticket_id)
            same = finished is not None and finished.manager_id == user_id
            return Answer(Outcome.COMPLETED if same else Outcome.CLOSED, finished)
        if ticket.status is not TicketStatus.ACCEPTED:
            return Answer(Outcome.NOT_ACCEPTED, _copy(ticket))
        if user_id != ticket.manager_id:
            return Answer(Outcome.NOT_YOURS, _copy(ticket))
        del self.state.tickets[ticket_id]
        self.index.drop(ticket_id)
        self._remember_done(ticket)
        self.state.last_activity[user_id] = now
        return Answer(Outcome.COMPLETED, _copy(ticket), [CancelTimer(reminder_timer(ticket_id)),
                                                          self._track(now, ticket, Track.COMPLETED)])

    def rest(self, user_id: str, until: datetime, now: datetime) -> list[Effect]:
        """A manager puts themselves in DND until `until` (replacing any DND they had).

        An open ping they hold stays theirs until it is answered or lapses; no new one comes."""
        self.state.dnd_until[user_id] = until
        self.state.last_activity[user_id] = now
        return [SetTimer(dnd_timer(user_id), until)]

    def come_back(self, user_id: str, now: datetime) -> list[Effect]:
        """A manager ends their DND early: a waiting ticket goes to them at once if it can."""
        if not self.state.in_dnd(user_id, now):
            return []
        self.state.dnd_until[user_id] = now
        self.state.last_activity[user_id] = now
        return [CancelTimer(dnd_timer(user_id))] + self._wake(now)

    def take_leave(self, absence: Away, now: datetime) -> list[Effect]:
        """A manager's own `away`: in force at once (the Away tab gets its row with the next flush).
        An open ping they hold stays theirs until it is answered or lapses, as with DND."""
        self.availability = self.availability.with_leave(absence)
        self.state.last_activity[absence.manager] = now
        return self._wake(now) + [SetTimer(SHIFT_TIMER, self._next_change(now))]

    def take_cover(self, override: Override, now: datetime) -> list[Effect]:
        """A Take: `override.covered_by` is on that shift occurrence in place of `instead_of`, at once."""
        self.availability = self.availability.with_cover(override)
        self.state.last_activity[override.covered_by] = now
        return self._wake(now) + [SetTimer(SHIFT_TIMER, self._next_change(now))]

    def end_leave(self, user_id: str, now: datetime) -> list[Effect]:
        """`away off`: the absence `user_id` is in ends now; later ones stand."""
        if self.availability.away_at(user_id, now) is None:
            return []
        self.state.back_at[user_id] = now
        self.state.last_activity[user_id] = now
        self.availability = self.availability.with_back(self.state.back_at)
        return self._wake(now) + [SetTimer(SHIFT_TIMER, self._next_change(now))]

    def board(self, now: datetime) -> Board:
        """A copy of where things stand, for the views (chat answers, the BotStatus tab, the digest)."""
        schedule, state = self.rules.schedule, self.state
        slot, on = self.on_shift(now)
        team = on_shift(self.managers, slot.shift) if slot else []
        away = {m.chat_id: a for m in self.managers if (a := self.availability.away_at(m.chat_id, now))}
        return Board(now=now, zone=schedule.zone, shift=slot.shift if slot else 0, shifts=schedule.count,
                     shift_started=slot.start if slot else None,
                     next_shift=slot.end if slot else schedule.next_start(now),
                     managers=tuple(self.managers), tickets=self._shown_tickets(), counts=self._counts(),
                     dnd_until={who: until for who, until in state.dnd_until.items() if until > now},
                     next_up=self.next_up(now), on=tuple(on), team=tuple(team), away=away,
                     holiday=schedule.holidays.on(now.astimezone(schedule.zone).date()),
                     covers=self.availability.cover(slot.day, slot.shift) if slot else {})

    def _shown_tickets(self) -> tuple[Ticket, ...]:
        """Copies of the tickets a view can show, in arrival order: the first ones, the first
        waiting ones and every pinged one, not a copy of each of 100,000 (made under the lock)."""
        shown = set(islice(self.state.tickets, SHOWN_TICKETS))
        shown.update(self.index.first_waiting(SHOWN_TICKETS), self.index.pinged())
        return tuple(_copy(self.state.tickets[tid]) for tid in sorted(shown, key=self.index.seq))

    def _counts(self) -> dict[TicketStatus, int]:
        return {status: self.index.count(status) for status in TicketStatus}

    def next_up(self, now: datetime) -> Manager | None:
        """Who a new ticket would be pinged to now (None: it would wait)."""
        slot, on = self.on_shift(now)
        if slot is None:
            return None
        return pick_manager(on, self.state.last_pinged.get(slot.shift, ""), self.busy(now), order=self._seats(slot))

    def on_shift(self, now: datetime) -> tuple[Slot | None, list[Manager]]:
        """The shift occurrence running at `now` (None: nobody's) and who of its team is there, in
        turn order: cover in place of the covered, nobody away."""
        slot = self.rules.schedule.slot_at(now)
        if slot is None:
            return None, []
        return slot, roster(on_shift(self.managers, slot.shift), self.managers, slot.day, slot.shift,
                            self.availability, now)

    def _seats(self, slot: Slot) -> list[str]:
        """The turn order of `slot`: the Managers tab's rows, each coverer seated just after the
        manager they cover (the turn goes on from a seat even when its manager is away since)."""
        seats = [m.chat_id for m in self.managers]
        for instead, by in self.availability.cover(slot.day, slot.shift).items():
            if instead in seats and by in seats:
                seats.remove(by)
                seats.insert(seats.index(instead) + 1, by)
        return seats

    def tick(self, now: datetime) -> list[Effect]:
        """Time out lapsed pings, then give free managers to waiting tickets (DND ends, shift changes).

        A ping not yet in the space does not lapse: its timeout starts when it is delivered."""
        lapsed = [self.state.tickets[tid] for tid in self.index.lapsed(now)]
        effects: list[Effect] = [self._track(now, t, Track.TIMED_OUT) for t in lapsed]
        effects += [Lapsed(t.ticket_id, t.message_id, t.manager_name) for t in lapsed]
        notes = {t.ticket_id: self._requeue(t, f"Timed out for {t.manager_name}.") for t in lapsed}
        effects += self._wake(now, notes) + self._escalations(now) + self._reminders(now)
        return effects + self._shift_notice(now) + [SetTimer(SHIFT_TIMER, self._next_change(now))]

    def _next_change(self, now: datetime) -> datetime:
        """When who is on may change next: a shift starts or ends, someone's leave starts or ends."""
        leave = [moment for a in self.availability.away for moment in (a.start, a.end) if moment > now]
        return min([self.rules.schedule.next_change(now)] + leave)

    def reload(self, managers: Sequence[Manager], rules: Rules, now: datetime,
               availability: Availability | None = None) -> list[Effect]:
        """New Managers and Configuration (and leave and cover): open pings keep their deadlines;
        waiting tickets get a look; escalation and reminder times follow the new values."""
        timed = _timer_rules(self.rules) != _timer_rules(rules)
        self.managers, self.rules = list(managers), rules
        if availability is not None:
            self.availability = availability.with_back(self.state.back_at)
        # Open pings keep their deadlines: the other timers are set again only when their rules
        # changed (a timer a ticket for each of 100,000 tickets at every reload is a long lock).
        timers = [timer for t in self.state.tickets.values() for timer in self._ticket_timers(t)
                  if not timer.key.startswith(timeout_timer(""))] if timed else []
        return timers + self.tick(now)

    def delivered(self, ticket_id: str, attempt: int, message_id: str, thread_id: str,
                  now: datetime, notice: bool = False) -> list[Effect]:
        """A message reached the space. A ping's timeout counts from now if delivery came late;
        a waiting ticket's notice is remembered, so that a restart does not post it again."""
        ticket = self.state.tickets.get(ticket_id)
        if ticket is None:
            return []
        try:
            return self._delivered(ticket, attempt, message_id, thread_id, now, notice)
        finally:
            self.index.file(ticket)

    def _delivered(self, ticket: Ticket, attempt: int, message_id: str, thread_id: str, now: datetime,
                   notice: bool) -> list[Effect]:
        ticket_id = ticket.ticket_id
        ticket.thread_id = thread_id or ticket.thread_id
        if ticket.attempts != attempt:
            return []
        if notice:
            if ticket.status is TicketStatus.WAITING:
                ticket.message_id = message_id
            return []
        if ticket.status is not TicketStatus.PINGED:
            return []
        ticket.message_id = message_id
        if ticket.deadline and self.posted_deadline(ticket.deadline, now) > ticket.deadline:
            ticket.deadline = self.posted_deadline(ticket.deadline, now)
            return [SetTimer(timeout_timer(ticket_id), ticket.deadline)]
        return []

    def posted_deadline(self, deadline: datetime, now: datetime) -> datetime:
        """A ping's deadline if it reaches the space at `now`: TicketTimeout from then, if later."""
        return max(deadline, self._deadline(now))

    def resume(self, now: datetime) -> list[Effect]:
        """After a restart: the timers the state implies, then whatever fell due meanwhile."""
        for ticket in self.state.tickets.values():  # rows of the older bot lack these: count from now
            if ticket.started_at is None or (ticket.status is TicketStatus.ACCEPTED and ticket.accepted_at is None):
                ticket.started_at = ticket.started_at or now
                if ticket.status is TicketStatus.ACCEPTED:
                    ticket.accepted_at = ticket.accepted_at or now
                self.index.file(ticket)
        timers: list[Effect] = [timer for t in self.state.tickets.values() for timer in self._ticket_timers(t)]
        timers += [SetTimer(dnd_timer(who), until) for who, until in self.state.dnd_until.items() if until > now]
        slot = self.rules.schedule.slot_at(now)
        self.state.announced_shift = slot.start if slot else None  # a restart announces nothing
        effects = timers + self._unposted_pings() + self.tick(now)
        return effects + self._unposted_notices(now, {e.ticket_id for e in effects if isinstance(e, Notice)})

    def _unposted_pings(self) -> list[Effect]:
        """Pings the space never confirmed: post them again (the same request id, so a ping that
        did reach the space is not posted twice). Their deadlines stand; delivery may extend them."""
        known = {m.chat_id: m for m in self.managers}
        return [Ping(t.ticket_id, t.title, t.url, known.get(t.manager_id, Manager(t.manager_name, t.manager_id)),
                     t.attempts, t.deadline, cycle=t.cycle)
                for t in self.state.tickets.values()
                if t.status is TicketStatus.PINGED and not t.message_id and t.deadline]

    def _unposted_notices(self, now: datetime, noticed: set[str]) -> list[Effect]:
        """Waiting tickets whose notice the space never confirmed: post it (again; the same
        request id, so one that did reach the space is not posted twice)."""
        why = self._why_waiting(now)
        return [Notice(t.ticket_id, _wait_text(t, why, ""), number=t.attempts) for t in self.state.tickets.values()
                if t.status is TicketStatus.WAITING and not t.message_id and t.ticket_id not in noticed]

    def _ticket_timers(self, ticket: Ticket) -> list[SetTimer]:
        """The one-off timers a ticket in the cycle needs: its ping's timeout, its escalation, its
        next Done reminder."""
        rules, timers = self.rules, []
        if ticket.status is TicketStatus.PINGED and ticket.deadline:
            timers.append(SetTimer(timeout_timer(ticket.ticket_id), ticket.deadline))
        if (ticket.status is not TicketStatus.ACCEPTED and not ticket.escalated and rules.escalation_contacts
                and rules.escalate_after and ticket.started_at):
            timers.append(SetTimer(escalation_timer(ticket.ticket_id), ticket.started_at + rules.escalate_after))
        if ticket.status is TicketStatus.ACCEPTED and rules.remind_after and ticket.accepted_at \
                and ticket.reminders < rules.max_reminders:
            due = ticket.accepted_at + rules.remind_after * (ticket.reminders + 1)
            timers.append(SetTimer(reminder_timer(ticket.ticket_id), due))
        return timers

    # --- beyond the older bot: escalation, Done reminders, the shift-start notice ------------

    def _escalations(self, now: datetime) -> list[Effect]:
        """Escalate, once, each ticket not accepted in time or passed on by everyone on shift."""
        if not self.rules.escalation_contacts:
            return []
        slot, on = self.on_shift(now)
        team = {m.chat_id for m in on}
        effects: list[Effect] = []
        after = self.rules.escalate_after
        for ticket in map(self.state.tickets.__getitem__,
                          self.index.escalation_candidates(now - after if after else None)):
            if ticket.status is TicketStatus.ACCEPTED or ticket.escalated:
                continue
            late = self.rules.escalate_after and ticket.started_at and \
                ticket.started_at + self.rules.escalate_after <= now
            if late:
                why = f"not accepted {_duration(self.rules.escalate_after)} after it was ready"
            elif team and team <= set(ticket.passed_by):
                why = f"declined or let lapse by every manager of shift {slot.shift}"
            else:
                continue
            ticket.escalated = True
            self.index.file(ticket)
            text = f"Escalation: {ticket.ticket_id} was {why}. {_where(ticket)}"
            effects += [CancelTimer(escalation_timer(ticket.ticket_id)),
                        Notice(ticket.ticket_id, text, kind="escalation", mentions=self.rules.escalation_contacts),
                        self._track(now, ticket, Track.ESCALATED, detail=why)]
        return effects

    def _reminders(self, now: datetime) -> list[Effect]:
        """Remind the assignee of each accepted ticket not Done in time, up to MaxDoneReminders.
        Reminders missed while the bot was down are not sent in a row: one goes, counting for them."""
        after = self.rules.remind_after
        if not after:
            return []
        effects: list[Effect] = []
        accepted_by = {sent: now - after * (sent + 1) for sent in range(self.rules.max_reminders)}
        for ticket in map(self.state.tickets.__getitem__, self.index.reminder_candidates(accepted_by)):
            if not (ticket.status is TicketStatus.ACCEPTED and ticket.accepted_at):
                continue
            due = min((now - ticket.accepted_at) // after, self.rules.max_reminders)
            if due <= ticket.reminders:
                continue
            ticket.reminders = due
            self.index.file(ticket)
            text = (f"A reminder: you accepted {ticket.ticket_id} "
                    f"{_duration(now - ticket.accepted_at)} ago and it is not marked Done yet. Press Done on "
                    f"its card when the review is finished.")
            effects += [Notice(ticket.ticket_id, text, kind="reminder", number=ticket.reminders,
                               mentions=(ticket.manager_id,)),
                        self._track(now, ticket, Track.REMINDED,
                                    detail=f"reminder {ticket.reminders} of {self.rules.max_reminders}")]
            effects += self._ticket_timers(ticket)
        return effects

    def _shift_notice(self, now: datetime) -> list[Effect]:
        """At a shift's start, tell the space who is on it and what waits."""
        schedule = self.rules.schedule
        slot, on = self.on_shift(now)
        if slot is None or self.state.announced_shift == slot.start:
            return []
        self.state.announced_shift = slot.start
        if not self.rules.shift_notice:
            return []
        started = slot.start
        resting = [f"{m.name} (until {self.state.dnd_until[m.chat_id].astimezone(schedule.zone):%H:%M})"
                   for m in on if self.state.in_dnd(m.chat_id, now)]
        away = [f"{m.name} ({a.reason or 'away'})" for m in on_shift(self.managers, slot.shift)
                if (a := self.availability.away_at(m.chat_id, now))]
        waiting = self.index.first_waiting(NAMED_IN_NOTICE)
        more = self.index.waiting_count() - len(waiting)
        if more:
            waiting.append(f"and {more:,} more")
        text = f"Shift {slot.shift} has begun. On shift: {', '.join(m.name for m in on) or 'nobody'}."
        holiday = schedule.holidays.on(slot.day)
        if holiday:  # a holiday whose row keeps this shift running
            text += f" Today is a holiday ({holiday.name})."
        if resting:
            text += f" In DND: {', '.join(resting)}."
        if away:
            text += f" Away: {', '.join(away)}."
        text += f" Waiting: {', '.join(waiting)}." if waiting else " No ticket is waiting."
        return [Announce(f"shift-{started:%Y%m%dT%H%MZ}", text)]

    # --- rules --------------------------------------------------------------------------

    def busy(self, now: datetime) -> set[str]:
        in_dnd = {who for who, until in self.state.dnd_until.items() if until > now}
        return in_dnd | self.index.holders()

    def _refusal(self, ticket: Ticket, user_id: str, attempt: int | None, cycle: str = "") -> Outcome | None:
        if ticket.status is TicketStatus.WAITING or (attempt is not None and attempt != ticket.attempts) \
                or _other_cycle(ticket, cycle):
            return Outcome.EXPIRED
        if user_id != ticket.manager_id:
            return Outcome.NOT_YOURS
        return None

    def _rest(self, user_id: str, now: datetime) -> list[Effect]:
        """Accept and Decline put the manager in DND; a longer DND they set themselves stands."""
        asked = self.state.dnd_until.get(user_id)
        return self.rest(user_id, max(now + self.rules.dnd, asked or now), now)

    def _requeue(self, ticket: Ticket, note: str) -> str:
        """Its ping is over: the ticket needs a manager again, and not the same one if avoidable."""
        ticket.passed_by = tuple(who for who in ticket.passed_by if who != ticket.manager_id) + (ticket.manager_id,)
        ticket.status, ticket.pinged_at, ticket.deadline = TicketStatus.WAITING, None, None
        ticket.manager_id = ticket.manager_name = ticket.message_id = ""
        self.index.file(ticket)
        return note

    def _wake(self, now: datetime, needs_manager: dict[str, str] | None = None) -> list[Effect]:
        """Give free managers to waiting tickets, oldest first.

        `needs_manager` names the tickets that have just come to need one (with the note their
        next message starts with): those that still wait get one notice saying so. A ticket's
        passed-over manager is offered to it only after every other waiting ticket had its turn.
        """
        needs_manager = needs_manager or {}
        slot, on = self.on_shift(now)
        busy = self.busy(now)
        effects: list[Effect] = []
        if eligible(on, busy):
            load = self.history.accepted_counts(now - LOAD_WINDOW) if self.rules.load_balance else None
            passes = ((last_resort, self.state.tickets[tid]) for last_resort in (False, True)
                      for tid in self.index.waiting())
            for last_resort, ticket in passes:
                if ticket.status is not TicketStatus.WAITING:
                    continue  # given a manager in the first pass
                manager = self._choose(ticket, on, slot, busy, last_resort, load)
                if manager is not None:
                    busy.add(manager.chat_id)
                    effects += self._ping(ticket, manager, slot.shift, now, needs_manager.pop(ticket.ticket_id, ""))
                    if not eligible(on, busy):
                        break  # nobody left to give: the rest keep waiting, and a long queue costs nothing
        why = self._why_waiting(now) if needs_manager else ""
        for ticket_id, note in needs_manager.items():
            effects += self._announce_wait(self.state.tickets[ticket_id], now, slot, why, note)
        return effects

    def _why_waiting(self, now: datetime) -> str:
        """Why a ticket waits now: everyone on shift is busy, or nobody is on shift (and until when)."""
        slot, _ = self.on_shift(now)
        if slot is not None:
            return f"Nobody on shift {slot.shift} is free right now"
        schedule = self.rules.schedule
        local = now.astimezone(schedule.zone)
        holiday = schedule.holidays.on(local.date())
        today = f"Today is a holiday ({holiday.name}). " if holiday else ""
        later = schedule.next_start(now)
        until = f"until {_day_and_time(later, now, schedule.zone)} ({schedule.zone.key})" if later else "for now"
        return f"{today}Nobody is on shift {until}"

    def _choose(self, ticket: Ticket, on: list[Manager], slot: Slot, busy: set[str], last_resort: bool,
                load: dict[str, int] | None) -> Manager | None:
        after = self.state.last_pinged.get(slot.shift, "")
        avoid = ticket.passed_over if last_resort else ""
        manager = pick_manager(on, after, busy, avoid, load, self._seats(slot))
        if not last_resort and manager is not None and manager.chat_id == ticket.passed_over:
            return None
        return manager

    def _ping(self, ticket: Ticket, manager: Manager, shift: int, now: datetime, note: str) -> list[Effect]:
        ticket.status, ticket.attempts = TicketStatus.PINGED, ticket.attempts + 1
        ticket.manager_id, ticket.manager_name, ticket.message_id = manager.chat_id, manager.name, ""
        ticket.pinged_at, ticket.deadline = now, self._deadline(now)
        self.state.last_pinged[shift], self.state.pointer_updated[shift] = manager.chat_id, now
        self.index.file(ticket)
        ping = Ping(ticket.ticket_id, ticket.title, ticket.url, manager, ticket.attempts, ticket.deadline, note,
                    ticket.cycle)
        return [ping, self._track(now, ticket, Track.PINGED, detail=f"shift {shift}, attempt {ticket.attempts}"),
                SetTimer(timeout_timer(ticket.ticket_id), ticket.deadline)]

    def _deadline(self, now: datetime) -> datetime:
        """TicketTimeout from now, rounded up to the second: the tabs store whole seconds, and a
        deadline read back after a restart must not come sooner than the one promised."""
        due = now + self.rules.ticket_timeout
        return due + timedelta(microseconds=-due.microsecond % 1_000_000) if due.microsecond else due

    def _announce_wait(self, ticket: Ticket, now: datetime, slot: Slot | None, why: str, note: str) -> list[Effect]:
        return [CancelTimer(timeout_timer(ticket.ticket_id)),
                Notice(ticket.ticket_id, _wait_text(ticket, why, note), number=ticket.attempts),
                self._track(now, ticket, Track.WAITING, detail=f"shift {slot.shift}" if slot else "no shift on")]

    def _track(self, now: datetime, ticket: Ticket, status: Track, detail: str = "") -> Tracked:
        return Tracked(now, ticket.ticket_id, status, ticket.manager_name, ticket.manager_id, detail)

    def _remember_done(self, ticket: Ticket) -> None:
        self.recently_done[ticket.ticket_id] = _copy(ticket)
        while len(self.recently_done) > self.RECENTLY_DONE:
            self.recently_done.popitem(last=False)


def _wait_text(ticket: Ticket, why: str, note: str) -> str:
    return f"{note} {why}: {ticket.ticket_id} waits and goes to the first manager who is.".strip()


def _day_and_time(moment: datetime, now: datetime, zone) -> str:
    """`14:00` today, else `Mon 07:00`, else `Mon 4 Jan 07:00` a week or more ahead (local time)."""
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    return f"{local:%a %H:%M}" if (local.date() - today).days < 7 else f"{local:%a} {local.day} {local:%b %H:%M}"


def _duration(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes % 60 else f"{minutes // 60} h"


def _where(ticket: Ticket) -> str:
    if ticket.status is TicketStatus.PINGED:
        return f"It is with {ticket.manager_name} now (ping {ticket.attempts})."
    return "It waits for a free manager."


def _copy(ticket: Ticket) -> Ticket:
    return dataclasses.replace(ticket)


def _other_cycle(ticket: Ticket, cycle: str) -> bool:
    """A card of an earlier cycle of the same ticket id (an RCA reopened): its buttons are stale."""
    return bool(cycle and ticket.cycle and cycle != ticket.cycle)


def _timer_rules(rules: Rules) -> tuple:
    """What the escalation and Done reminder timers of open tickets follow."""
    return rules.escalate_after, bool(rules.escalation_contacts), rules.remind_after, rules.max_reminders
