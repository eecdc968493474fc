"""Properties of the ticket cycle over random days.

A driver plays what the bot's shell would feed the cycle: tickets started (new ids and ids already
seen), Accept, Decline and Done clicked by the right manager or anyone else, on the current card or
a stale one, late deliveries, the clock moving on (seconds to hours, across timeouts, DND ends and
shift changes) with the scheduler firing each timer the cycle asked for, or only one tick at the
end, reloads of the Managers tab (someone made inactive or active again, shifts changed, a row
removed, added or put back) or of the Configuration, and restarts on the saved state.

Beside the cycle the driver keeps its own picture, built only from the effects the cycle returned
and from the rules as written in DESIGN.md: who is on shift, who rests in DND, which pings are open,
which tickets wait. After every step it checks that:

1. nobody is pinged who is, at that moment, off the Managers tab, inactive, off shift or in DND;
2. a ticket has at most one open ping, a manager holds at most one unanswered ping, and a ping
   lapses TicketTimeout after it was posted (or delivered late);
3. no ticket is dropped: a ticket leaves the cycle only by its assignee's Done, and a click the
   cycle refuses (or answers as a repeat) changes nothing;
4. no ticket waits while a manager is free for it (active, on shift, not in DND, no ping held);
5. within a shift, with nothing else going on, pings go round robin in Managers-tab order, after
   the manager last pinged in that shift, to the oldest waiting ticket first;
6. each ticket's Tracker rows tell a legal story.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rcabot.cycle import CancelTimer, Cycle, Outcome, Ping, Rules, SetTimer, Tracked, timeout_timer
from rcabot.model import BotState, Manager, TicketStatus, Track
from rcabot.shifts import ShiftSchedule

MIDNIGHT = datetime(2026, 11, 23, tzinfo=timezone.utc)
SCHEDULE = ShiftSchedule((time(0), time(6), time(12), time(18)))
TICKET_IDS = 5  # few ids, so that clicks and repeated starts often land on a ticket in the cycle
STRANGER = "users/stranger"
REFUSED = {Outcome.NOT_YOURS, Outcome.EXPIRED, Outcome.TAKEN, Outcome.NOT_ACCEPTED, Outcome.CLOSED}
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# What may follow each Tracker row of a ticket (None: the ticket's first row).
NEXT_ROW = {
    None: {Track.PINGED, Track.WAITING},
    Track.PINGED: {Track.ACCEPTED, Track.DECLINED, Track.TIMED_OUT},
    Track.WAITING: {Track.PINGED},
    Track.DECLINED: {Track.PINGED, Track.WAITING},
    Track.TIMED_OUT: {Track.PINGED, Track.WAITING},
    Track.ACCEPTED: {Track.COMPLETED},
    Track.COMPLETED: set(),
}


# --- the steps ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    ticket: int


@dataclass(frozen=True)
class Click:
    button: str  # accept, decline, done
    ticket: int  # counting the tickets in the cycle (oldest first), then RCA-0, RCA-1...: see Day.ticket_id
    by: int | None  # None: the ticket's own manager; else a Managers-tab row (past the end: a stranger)
    card: str  # the attempt the card carries: current, stale, none


@dataclass(frozen=True)
class Delivered:
    ticket: int  # as for Click
    card: str


@dataclass(frozen=True)
class Wait:
    seconds: int
    timers: bool  # True: each due timer fires at its time; False: a single tick at the end


@dataclass(frozen=True)
class Reload:
    change: str  # deactivate, activate, shifts, remove, add, put_back (the row removed last)
    row: int  # which row changes, or where the new row goes
    shifts: frozenset[int] | None = None


@dataclass(frozen=True)
class Reconfigure:
    timeout: int
    dnd: int


@dataclass(frozen=True)
class Restart:
    """The bot restarts on its saved state: the scheduler's timers are gone, `resume` re-arms them."""


@dataclass(frozen=True)
class SelfDnd:
    """A manager (a Managers-tab row) types `dnd <minutes>`, or `back` when minutes is 0."""

    row: int
    minutes: int


@dataclass(frozen=True)
class NewTicket:
    """A ticket never seen before."""


@dataclass(frozen=True)
class AcceptOpen:
    """The manager of one of the open pings accepts it on its current card."""

    pick: int


ticket_numbers = st.integers(0, TICKET_IDS - 1)
picks = st.one_of(st.integers(0, 2), st.integers(0, 9))  # mostly one of the first tickets in the cycle
cards = st.sampled_from(["current", "stale", "none"])
some_shifts = st.frozensets(st.integers(1, 4), min_size=1, max_size=2)
shift_sets = st.one_of(st.none(), some_shifts, some_shifts)  # thin shifts, so that tickets do wait
seconds = st.one_of(st.integers(1, 120), st.integers(1, 1800), st.integers(1800, 4 * 3600),
                    st.integers(4 * 3600, 12 * 3600))
waits = st.builds(Wait, seconds, st.booleans())
starts_of_day = st.integers(0, 24 * 3600 - 1).map(lambda s: MIDNIGHT + timedelta(seconds=s))
timeouts = st.sampled_from([120, 300, 900])
dnds = st.sampled_from([0, 300, 1800, 3600, 4 * 3600])


def teams(min_size: int = 5, max_size: int = 8):
    row = st.tuples(shift_sets, st.sampled_from([True, True, True, False]))
    return st.lists(row, min_size=min_size, max_size=max_size).map(
        lambda rows: [Manager(f"M{n}", f"users/{n}", shifts=s, active=a) for n, (s, a) in enumerate(rows)])


any_step = st.one_of(
    st.builds(Start, ticket_numbers),
    st.builds(Start, ticket_numbers),
    st.builds(Click, st.sampled_from(["accept", "decline"]), picks, st.none() | st.integers(0, 9), cards),
    st.builds(Click, st.sampled_from(["accept", "accept", "decline"]), picks, st.none(), st.just("current")),
    st.builds(Click, st.just("done"), picks, st.none() | st.integers(0, 9), st.just("none")),
    st.builds(Click, st.just("done"), picks, st.none(), st.just("none")),
    st.builds(Delivered, picks, cards),
    waits,
    waits,
    st.builds(Reload, st.sampled_from(["deactivate", "activate", "shifts", "remove", "add", "put_back"]),
              st.integers(0, 9), shift_sets),
    st.builds(Reconfigure, timeouts, dnds),
    st.just(Restart()),
    st.builds(SelfDnd, st.integers(0, 9), st.sampled_from([0, 0, 30, 120, 24 * 60])),
)

quiet_step = st.one_of(st.just(NewTicket()), st.builds(AcceptOpen, st.integers(0, 9)), waits)


# --- the independent picture --------------------------------------------------------------


def shift_at(schedule: ShiftSchedule, now: datetime) -> int:
    """The shift on at `now`, from the start times alone (UTC schedules): the latest start at or
    before the time of day, or, before the day's first start, the latest start of all."""
    of_day = now.astimezone(timezone.utc).time()
    numbered = sorted((start, number) for number, start in enumerate(schedule.starts, 1))
    begun = [number for start, number in numbered if start <= of_day]
    return begun[-1] if begun else numbered[-1][1]


def on_shift(manager: Manager, shift: int) -> bool:
    return manager.active and (manager.shifts is None or shift in manager.shifts)


def story_error(ticket_id: str, story: list[Track], row: Track) -> str | None:
    last = story[-1] if story else None
    if row in NEXT_ROW[last]:
        return None
    said = f"{ticket_id}'s Tracker rows {[s.value for s in story]} go on with {row.value}"
    if last is None:
        return f"{said}: a ticket's first row is Pinged or Waiting"
    if last is Track.COMPLETED:
        return f"{said}: nothing may follow Completed"
    if row in (Track.ACCEPTED, Track.DECLINED, Track.TIMED_OUT):
        return f"{said}: {row.value} only directly after Pinged"
    if row is Track.COMPLETED:
        return f"{said}: Completed only after Accepted"
    if row is Track.WAITING and Track.PINGED not in story[story.index(Track.WAITING):]:
        return f"{said}: Waiting twice without a Pinged between"
    return f"{said}: not a legal story"


class Day:
    """The cycle, and beside it what a careful observer of its effects knows."""

    def __init__(self, team: list[Manager], rules: Rules, now: datetime, round_robin: bool = False):
        self.team, self.rules, self.now = list(team), rules, now
        self.round_robin = round_robin
        self.cycle = self.make_cycle(BotState())
        self.removed: list[Manager] = []
        self.next_id = len(team)
        self.tickets: dict[str, str] = {}  # ticket -> waiting, pinged or accepted; arrival order
        self.open: dict[str, tuple[str, int]] = {}  # ticket -> (manager pinged, attempt)
        self.deadlines: dict[str, datetime] = {}  # ticket -> when its open ping lapses
        self.dnd_until: dict[str, datetime] = {}
        self.last_pinged: dict[int, str] = {}  # shift -> manager
        self.stories: dict[str, list[Track]] = {}
        self.started: dict[str, datetime] = {}  # ticket -> when it entered the cycle
        self.accepted_at: dict[str, datetime] = {}
        self.escalated: set[str] = set()
        self.reminded: dict[str, int] = {}
        self.timers: dict[str, datetime] = {}
        self.completing = ""  # the ticket whose assignee just clicked Done
        self.resuming = False
        self.see(self.cycle.resume(now))  # what the shell does when it starts
        self.check()

    def make_cycle(self, state: BotState) -> Cycle:
        return Cycle(state, self.team, self.rules)

    # --- steps --------------------------------------------------------------------------

    def run(self, step) -> None:
        getattr(self, type(step).__name__.lower())(step)
        self.check()

    def start(self, step: Start) -> None:
        ticket_id = f"RCA-{step.ticket}"
        if ticket_id in self.tickets:
            before = copy.deepcopy(self.cycle.state)
            _, effects = self.cycle.start(ticket_id, "title", "url", self.now)
            assert effects == [] and self.cycle.state == before, \
                f"starting {ticket_id} again, while it is in the cycle, changed something: {effects}"
            return
        self.tickets[ticket_id] = "waiting"
        self.stories[ticket_id] = []  # a finished id that comes back starts a new story
        self.started[ticket_id] = self.now
        self.escalated.discard(ticket_id)
        self.reminded[ticket_id] = 0
        self.see(self.cycle.start(ticket_id, "title", "url", self.now)[1])

    def ticket_id(self, pick: int) -> str:
        """Mostly a ticket in the cycle: `pick` counts those first, oldest first, then RCA-0, RCA-1..."""
        targets = list(self.cycle.state.tickets) + [f"RCA-{n}" for n in range(TICKET_IDS)]
        return targets[pick % len(targets)]

    def click(self, step: Click) -> None:
        ticket_id = self.ticket_id(step.ticket)
        before, done_before = copy.deepcopy(self.cycle.state), copy.deepcopy(self.cycle.recently_done)
        ticket = before.tickets.get(ticket_id)
        user = self.clicker(step, ticket_id, ticket)
        attempt = self.attempt(step.card, ticket)
        if step.button == "done":
            answer = self.cycle.done(ticket_id, user, self.now)
        else:
            answer = getattr(self.cycle, step.button)(ticket_id, user, self.now, attempt)
        repeat = (ticket is None and answer.outcome is Outcome.COMPLETED) or (
            ticket is not None and ticket.status is TicketStatus.ACCEPTED and answer.outcome is Outcome.ACCEPTED)
        if answer.outcome in REFUSED or repeat:
            assert answer.effects == [], \
                f"{step.button} by {user} on {ticket_id} was answered {answer.outcome.value} yet had effects"
            assert self.cycle.state == before and self.cycle.recently_done == done_before, \
                f"{step.button} by {user} on {ticket_id} was answered {answer.outcome.value} yet changed the state"
            self.expect_not_refused(step, ticket, user, attempt, answer.outcome)
            return
        assert ticket is not None, f"{step.button} on {ticket_id}, not in the cycle, was {answer.outcome.value}"
        assert attempt in (None, ticket.attempts), \
            f"{step.button} on {ticket_id}'s old card (attempt {attempt}, now {ticket.attempts}) " \
            f"was {answer.outcome.value}"
        if answer.outcome is Outcome.COMPLETED:
            assert ticket.status is TicketStatus.ACCEPTED and user == ticket.manager_id, \
                f"{ticket_id} was completed by {user}, not by its assignee {ticket.manager_id or 'nobody'}"
            self.completing = ticket_id
        else:
            assert ticket.status is TicketStatus.PINGED and user == ticket.manager_id, \
                f"{ticket_id} was {answer.outcome.value} by {user}, but its open ping is {ticket.manager_id!r}'s"
            self.rest(user, self.now + self.rules.dnd)  # Accept and Decline put the manager in DND
        self.see(answer.effects)
        self.completing = ""

    def delivered(self, step: Delivered) -> None:
        ticket_id = self.ticket_id(step.ticket)
        attempt = self.attempt(step.card, self.cycle.state.tickets.get(ticket_id)) or 1
        effects = self.cycle.delivered(ticket_id, attempt, f"spaces/S/messages/{attempt}", "spaces/S/threads/T",
                                       self.now)
        assert all(isinstance(e, SetTimer) for e in effects), f"a delivery did more than move a timeout: {effects}"
        self.see(effects)

    def wait(self, step: Wait) -> None:
        end = self.now + timedelta(seconds=step.seconds)
        if not step.timers:
            self.timers = {key: at for key, at in self.timers.items() if at > end}
            self.now = end
            self.see(self.cycle.tick(end))
            return
        fired_now = 0
        while due := sorted((at, key) for key, at in self.timers.items() if at <= end):
            at, key = due[0]
            del self.timers[key]
            fired_now = fired_now + 1 if at <= self.now else 1
            assert fired_now < 100, f"timers keep falling due at {self.now} without end"
            self.now = max(self.now, at)
            self.see(self.cycle.tick(self.now))
            self.check()
        self.now = end  # no tick here: every change the cycle cares about had a timer

    def reload(self, step: Reload) -> None:
        team = list(self.team)
        change = step.change if team or step.change in ("add", "put_back") else "add"
        row = step.row % max(len(team), 1)
        if change in ("deactivate", "activate"):
            team[row] = Manager(team[row].name, team[row].chat_id, shifts=team[row].shifts,
                                active=change == "activate")
        elif change == "shifts":
            team[row] = Manager(team[row].name, team[row].chat_id, shifts=step.shifts, active=team[row].active)
        elif change == "remove":
            self.removed.append(team.pop(row))
        elif change == "add":
            team.insert(step.row % (len(team) + 1), Manager(f"M{self.next_id}", f"users/{self.next_id}",
                                                            shifts=step.shifts))
            self.next_id += 1
        elif self.removed:
            team.insert(step.row % (len(team) + 1), self.removed.pop())
        self.team = team
        self.see(self.cycle.reload(team, self.rules, self.now))

    def reconfigure(self, step: Reconfigure) -> None:
        self.rules = replace(self.rules, ticket_timeout=timedelta(seconds=step.timeout),
                             dnd=timedelta(seconds=step.dnd))
        self.see(self.cycle.reload(self.team, self.rules, self.now))

    def restart(self, step: Restart) -> None:
        self.cycle = self.make_cycle(copy.deepcopy(self.cycle.state))
        self.timers, self.resuming = {}, True
        self.see(self.cycle.resume(self.now))
        self.resuming = False

    def rest(self, who: str, until: datetime) -> None:
        """A click's DND does not cut short a longer one the manager set themselves."""
        self.dnd_until[who] = max(until, self.dnd_until.get(who, until))

    def selfdnd(self, step: SelfDnd) -> None:
        if not self.team:
            return
        who = self.team[step.row % len(self.team)].chat_id
        if step.minutes:
            self.dnd_until[who] = self.now + timedelta(minutes=step.minutes)  # replaces any DND
            self.see(self.cycle.rest(who, self.dnd_until[who], self.now))
        else:
            if self.in_dnd(who):
                self.dnd_until[who] = self.now
            self.see(self.cycle.come_back(who, self.now))

    def newticket(self, step: NewTicket) -> None:
        self.start(Start(100 + len(self.stories)))

    def acceptopen(self, step: AcceptOpen) -> None:
        if self.open:
            ticket_id = list(self.open)[step.pick % len(self.open)]
            manager, attempt = self.open[ticket_id]
            self.rest(manager, self.now + self.rules.dnd)
            answer = self.cycle.accept(ticket_id, manager, self.now, attempt)
            assert answer.outcome is Outcome.ACCEPTED, \
                f"{manager}'s Accept of {ticket_id} was {answer.outcome.value}"
            self.see(answer.effects)

    # --- what a click would be -------------------------------------------------------------

    def clicker(self, step: Click, ticket_id: str, ticket) -> str:
        if step.by is None:
            if ticket is not None:
                return ticket.manager_id or ticket.passed_over or STRANGER  # a waiting ticket: its last manager
            finished = self.cycle.recently_done.get(ticket_id)
            return finished.manager_id if finished else STRANGER
        rows = [m.chat_id for m in self.team] + [STRANGER]
        return rows[step.by % len(rows)]

    @staticmethod
    def attempt(card: str, ticket) -> int | None:
        current = ticket.attempts if ticket is not None else 1
        return {"current": current, "stale": current - 1, "none": None}[card]

    @staticmethod
    def expect_not_refused(step: Click, ticket, user: str, attempt: int | None, outcome: Outcome) -> None:
        if ticket is None or user != ticket.manager_id:
            return
        if step.button == "done":
            rightful = ticket.status is TicketStatus.ACCEPTED
        else:
            rightful = ticket.status is TicketStatus.PINGED and attempt in (None, ticket.attempts)
        assert not rightful, f"{ticket.ticket_id}: its manager's own {step.button} on the current card " \
                             f"was refused ({outcome.value})"

    # --- reading the effects ---------------------------------------------------------------

    def see(self, effects) -> None:
        for effect in effects:
            if isinstance(effect, Ping):
                self.pinged(effect)
            elif isinstance(effect, Tracked):
                self.tracked(effect)
            elif isinstance(effect, SetTimer):
                self.timers[effect.key] = effect.at
                if effect.key.startswith(timeout_timer("")):  # a late delivery moved the deadline
                    self.deadlines[effect.key.removeprefix(timeout_timer(""))] = effect.at
            elif isinstance(effect, CancelTimer):
                self.timers.pop(effect.key, None)

    def pinged(self, ping: Ping) -> None:
        who, ticket_id = ping.manager.chat_id, ping.ticket_id
        if self.resuming and self.open.get(ticket_id, ("", 0))[1] == ping.attempt:
            # a ping that may not have reached the space, posted again: same manager, same deadline
            assert (who, ping.deadline) == (self.open[ticket_id][0], self.deadlines[ticket_id]), \
                f"after a restart {ticket_id}'s ping {ping.attempt} went to {who}, due {ping.deadline}; it was " \
                f"{self.open[ticket_id][0]}'s, due {self.deadlines[ticket_id]}"
            return
        shift = shift_at(self.rules.schedule, self.now)
        row = next((m for m in self.team if m.chat_id == who), None)
        # 1. only a manager who is on shift and free right now
        assert row is not None, f"{ping.manager.name} was pinged for {ticket_id} but is not on the Managers tab"
        assert row.active, f"{row.name} was pinged for {ticket_id} while inactive"
        assert on_shift(row, shift), \
            f"{row.name} (shifts {sorted(row.shifts or [])}) was pinged for {ticket_id} during shift {shift}"
        assert not self.in_dnd(who), \
            f"{row.name} was pinged for {ticket_id} while in DND until {self.dnd_until[who]:%H:%M:%S}"
        # 2. one open ping per ticket, one unanswered ping per manager
        assert ticket_id not in self.open, \
            f"{ticket_id} got a second open ping (to {row.name}) while {self.open[ticket_id][0]}'s is unanswered"
        holding = {m: t for t, (m, _) in self.open.items()}
        assert who not in holding, \
            f"{row.name} was pinged for {ticket_id} while holding the ping of {holding.get(who)}"
        assert self.tickets.get(ticket_id) == "waiting", \
            f"{ticket_id} was pinged while {self.tickets.get(ticket_id, 'not in the cycle')}"
        # 5. round robin: the next free manager after the last one pinged in this shift, oldest ticket first
        if self.round_robin:
            oldest = next(t for t, phase in self.tickets.items() if phase == "waiting")
            assert ticket_id == oldest, f"{ticket_id} was pinged before {oldest}, which has waited longer"
            expected = self.next_in_turn(shift)
            assert who == expected, f"shift {shift}: {row.name} was pinged, but it was {expected}'s turn " \
                                    f"(last pinged {self.last_pinged.get(shift, 'nobody')})"
        assert ping.deadline == self.now + self.rules.ticket_timeout, \
            f"{ticket_id}'s ping to {row.name} lapses at {ping.deadline}, not TicketTimeout from now"
        self.last_pinged[shift] = who
        self.open[ticket_id] = (who, ping.attempt)
        self.deadlines[ticket_id] = ping.deadline
        self.tickets[ticket_id] = "pinged"
        self.post(ping)

    def post(self, ping: Ping) -> None:
        """The shell posts each ping at once (a ping not yet in the space does not lapse)."""
        effects = self.cycle.delivered(ping.ticket_id, ping.attempt, f"spaces/S/messages/{ping.attempt}",
                                       "spaces/S/threads/T", self.now)
        assert effects == [], f"a ping posted the moment it was made moved its deadline: {effects}"

    def tracked(self, row: Tracked) -> None:
        ticket_id, status = row.ticket_id, row.status
        assert row.at == self.now, f"a Tracker row for {ticket_id} is dated {row.at}, not now ({self.now})"
        if status in (Track.ESCALATED, Track.REMINDED):
            return self.escalated_or_reminded(ticket_id, status, row.detail)
        story = self.stories.setdefault(ticket_id, [])
        error = story_error(ticket_id, story, status)
        assert error is None, error
        story.append(status)
        if status is Track.PINGED:
            assert row.manager_id == self.open[ticket_id][0], \
                f"{ticket_id}'s Pinged row names {row.manager_id}, the ping went to {self.open[ticket_id][0]}"
        elif status in (Track.ACCEPTED, Track.DECLINED, Track.TIMED_OUT):
            pinged, _ = self.open.pop(ticket_id)
            assert row.manager_id == pinged, \
                f"{ticket_id}: the {status.value} row names {row.manager_id}, the ping went to {pinged}"
            self.tickets[ticket_id] = "accepted" if status is Track.ACCEPTED else "waiting"
            if status is Track.ACCEPTED:
                self.accepted_at[ticket_id] = self.now
        elif status is Track.COMPLETED:
            assert self.completing == ticket_id, f"{ticket_id} was completed without its assignee's Done"
            del self.tickets[ticket_id]

    def escalated_or_reminded(self, ticket_id: str, status: Track, detail: str) -> None:
        """Escalated: once per stay in the cycle, never once accepted, only if turned on. Reminded:
        only while accepted, reminder n not before n intervals after the Accept, n at most
        MaxDoneReminders (one reminder may stand for several missed while the scheduler slept)."""
        rules, phase = self.rules, self.tickets.get(ticket_id)
        if status is Track.ESCALATED:
            assert rules.escalation_contacts, f"{ticket_id} was escalated with no EscalationContacts"
            assert phase in ("waiting", "pinged"), f"{ticket_id} was escalated while {phase}"
            assert ticket_id not in self.escalated, f"{ticket_id} was escalated twice"
            self.escalated.add(ticket_id)
            return
        assert rules.remind_after, f"{ticket_id} got a Done reminder with DoneReminderAfterSeconds off"
        assert phase == "accepted", f"{ticket_id} got a Done reminder while {phase}"
        n = int(detail.split()[1])  # "reminder N of M"
        assert n > self.reminded[ticket_id], f"{ticket_id} got reminder {n} after {self.reminded[ticket_id]}"
        self.reminded[ticket_id] = n
        assert n <= rules.max_reminders, f"{ticket_id} got reminder {n} of {rules.max_reminders}"
        assert self.now >= self.accepted_at[ticket_id] + rules.remind_after * n, \
            f"{ticket_id}'s reminder {n} came at {self.now}, before its time"

    # --- after every step ------------------------------------------------------------------

    def in_dnd(self, chat_id: str) -> bool:
        return self.dnd_until.get(chat_id, self.now) > self.now

    def free(self) -> list[str]:
        shift = shift_at(self.rules.schedule, self.now)
        holding = {m for m, _ in self.open.values()}
        return [m.chat_id for m in self.team
                if on_shift(m, shift) and not self.in_dnd(m.chat_id) and m.chat_id not in holding]

    def next_in_turn(self, shift: int) -> str | None:
        rows = [m.chat_id for m in self.team]
        last = self.last_pinged.get(shift)
        after = rows.index(last) + 1 if last in rows else 0
        free = set(self.free())
        return next((m for m in rows[after:] + rows[:after] if m in free), None)

    def check(self) -> None:
        state = self.cycle.state.tickets
        # escalations and reminders that fell due have happened (time moves only with the timers)
        rules = self.rules
        if rules.escalation_contacts and rules.escalate_after:
            late = [t for t, phase in self.tickets.items() if phase != "accepted" and t not in self.escalated
                    and self.started[t] + rules.escalate_after <= self.now]
            assert not late, f"{late} are not accepted {rules.escalate_after} after their start, yet not escalated"
        if rules.remind_after:
            unreminded = [t for t, phase in self.tickets.items() if phase == "accepted"
                          and self.reminded[t] < rules.max_reminders
                          and self.accepted_at[t] + rules.remind_after * (self.reminded[t] + 1) <= self.now]
            assert not unreminded, f"{unreminded} are due a Done reminder at {self.now:%H:%M:%S} and got none"
        # 3. no ticket dropped, none appears from nowhere
        dropped, appeared = set(self.tickets) - set(state), set(state) - set(self.tickets)
        assert not dropped, f"tickets dropped from the cycle: {sorted(dropped)}"
        assert not appeared, f"tickets in the cycle that were never started: {sorted(appeared)}"
        phases = {t.ticket_id: t.status.value.lower() for t in state.values()}
        assert phases == self.tickets, f"the cycle's tickets {phases} are not what its effects said {self.tickets}"
        # 2. the open pings in the state are exactly the pings posted and not yet answered
        open_in_state = {t.ticket_id: (t.manager_id, t.attempts) for t in state.values()
                         if t.status is TicketStatus.PINGED}
        assert open_in_state == self.open, f"open pings in the state {open_in_state}, posted {self.open}"
        holders = [m for m, _ in self.open.values()]
        assert len(holders) == len(set(holders)), f"a manager holds two pings: {sorted(holders)}"
        lapsed = sorted(t for t in self.open if self.deadlines[t] <= self.now)
        assert not lapsed, f"the pings of {lapsed} are still open at {self.now:%H:%M:%S}, past their deadlines"
        # 4. nobody free while a ticket waits
        waiting = [t for t, phase in self.tickets.items() if phase == "waiting"]
        free = self.free()
        assert not (waiting and free), \
            f"{waiting} wait at {self.now:%H:%M:%S} (shift {shift_at(self.rules.schedule, self.now)}) " \
            f"while {free} could take them"


# --- the properties -----------------------------------------------------------------------


# Escalation and Done reminders, off (the default) or on at various settings.
extras = st.one_of(st.just({}), st.fixed_dictionaries({
    "escalation_contacts": st.sampled_from([(), ("users/77",)]),
    "escalate_after": st.sampled_from([None, timedelta(minutes=10), timedelta(hours=1)]),
    "remind_after": st.sampled_from([None, timedelta(minutes=30), timedelta(hours=2)]),
    "max_reminders": st.integers(1, 3),
}))

ALONE = [Manager("Ada", "users/1", shifts=frozenset({2})), Manager("Nia", "users/9", shifts=frozenset({3}))]


@FAST
# Nia's shift begins at noon while RCA-1 waits: the shift-boundary timer alone must wake it.
@example(team=ALONE, now=MIDNIGHT + timedelta(hours=11), timeout=300, dnd=4 * 3600,
         steps=[Start(0), Click("accept", 0, None, "current"), Start(1), Wait(3 * 3600, True)], extras={})
# Ada's DND ends while RCA-1 waits: the DND timer alone must wake it.
@example(team=ALONE, now=MIDNIGHT + timedelta(hours=7), timeout=300, dnd=1800,
         steps=[Start(0), Click("accept", 0, None, "current"), Start(1), Wait(2000, True)], extras={})
# The same after a restart: resume must set the DND timer again.
@example(team=ALONE, now=MIDNIGHT + timedelta(hours=7), timeout=300, dnd=1800,
         steps=[Start(0), Click("accept", 0, None, "current"), Start(1), Restart(), Wait(2000, True)],
         extras={})
@given(team=teams(), now=starts_of_day, timeout=timeouts, dnd=dnds,
       steps=st.lists(any_step, min_size=10, max_size=50), extras=extras)
def test_the_cycle_keeps_its_promises_over_random_days(team, now, timeout, dnd, steps, extras):
    rules = Rules(timedelta(seconds=timeout), timedelta(seconds=dnd), SCHEDULE)
    day = Day(team, replace(rules, **extras), now)
    for step in steps:
        day.run(step)


@settings(FAST, max_examples=100)
@given(team=teams(), now=starts_of_day, steps=st.lists(quiet_step, min_size=5, max_size=40))
def test_within_a_shift_pings_go_round_robin_in_managers_tab_order(team, now, steps):
    # No DND and no timeouts: only the rotation decides who is next.
    day = Day(team, Rules(timedelta(days=60), timedelta(0), SCHEDULE), now, round_robin=True)
    for step in steps:
        day.run(step)


def test_the_oracle_knows_the_shifts():
    hours = (0, 5, 6, 11, 12, 18, 23)
    assert [shift_at(SCHEDULE, MIDNIGHT + timedelta(hours=h)) for h in hours] == [1, 1, 2, 2, 3, 4, 4]
    late_first = ShiftSchedule((time(22), time(8)))
    assert [shift_at(late_first, MIDNIGHT + timedelta(hours=h)) for h in (0, 7, 8, 21, 22)] == [1, 1, 2, 2, 1]
