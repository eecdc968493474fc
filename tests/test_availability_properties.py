"""Properties of availability (issue 12) over random schedules, holidays, leave and cover.

A driver plays the cycle directly with the time as an argument, as the shell would: tickets
start, pinged managers Accept or Decline, the clock moves on and every timer the cycle asked for
(the shift-boundary timer, ping timeouts, DND ends) fires at its time. Beside it an oracle built
from the rules as written (issue 12, DESIGN.md section 5, the docstrings of `shifts.py` and
`availability`) says who may be pinged at each instant. It does not call the core's schedule or
roster: shift occurrences are laid out again from the start and end times, the weekdays and the
holidays, and a wall-clock time inside a daylight-saving gap happens when the clocks jump past it.

The properties:

1. no ping goes to a manager who at that instant is away, outside every running shift occurrence
   (weekdays, end times), on a shift a holiday stopped, not on the shift's team (unless covering
   it by an override), or replaced by an override; nor to one in DND or holding a ping;
2. a covering manager is pinged in the covered occurrence when free (even when nobody else is);
3. no ticket waits while someone on the roster is free (checked after every step, between ticks);
4. the calendar feed (`upcoming_shifts`) and the cycle's `on_shift` agree occurrence by occurrence;
5. the SHIFT timer set after each tick is after now and never later than the next change of who
   is on (an occurrence starts or ends, someone's leave starts or ends).

Then a simulated month on simulated time (Europe/Berlin, German public holidays, leave on about
10% of manager-days, two cover swaps a week, about 30 tickets a working day) measures pings to
unavailable managers, tickets waiting while someone was free, round-robin skips and the spread of
accepts; run with `pytest -s` to see the figures.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays as holidays_package
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcabot.availability import Availability, Away, Holiday, Override
from rcabot.calendar import upcoming_shifts
from rcabot.chat.answers import who as who_answer
from rcabot.cycle import SHIFT_TIMER, CancelTimer, Cycle, Outcome, Ping, Rules, SetTimer, Tracked
from rcabot.model import BotState, Manager, TicketStatus, Track
from rcabot.shifts import HolidayCalendar, ShiftSchedule, parse_days

UTC = timezone.utc
BERLIN, NEW_YORK, SYDNEY, ZONE_UTC = (ZoneInfo(k) for k in
                                      ("Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"))
# The daylight-saving changes the random worlds are centred on.
DST_DAYS = {
    BERLIN: [date(2026, 3, 29), date(2026, 10, 25)],
    NEW_YORK: [date(2026, 3, 8), date(2026, 11, 1)],
    SYDNEY: [date(2026, 4, 5)],
    ZONE_UTC: [date(2026, 3, 29), date(2026, 10, 25)],
}
# Start and end times on the half hour, 02:30 (inside the spring-forward gap of Berlin and New York) included.
HALF_HOURS = [time(h, m) for h in range(24) for m in (0, 30)]
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


# --- the oracle: the rules as written, not the core's code ------------------------------------


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Wall-clock `at` on `day` as an instant: in a fold its first occurrence, in a gap the jump."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    moment = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)  # before the jump
    while moment.astimezone(zone).replace(tzinfo=None) < naive:
        moment += timedelta(minutes=1)
    return moment


def minutes_after(start: time, later: time) -> int:
    gap = (later.hour * 60 + later.minute) - (start.hour * 60 + start.minute)
    return gap % 1440 or 1440


@dataclass(frozen=True)
class Occurrence:
    shift: int
    day: date
    start: datetime
    end: datetime


class Oracle:
    """Who may be pinged when, from the schedule's parameters and the availability as data."""

    def __init__(self, starts, zone, days, ends, listed, country, managers, availability):
        self.starts, self.zone, self.days, self.ends = list(starts), zone, list(days), list(ends)
        self.listed = {h.day: h for h in listed}
        self.country = holidays_package.country_holidays(country) if country else None
        self.managers = list(managers)
        self.availability = availability
        self._cache: dict[date, list[Occurrence]] = {}

    def holiday(self, day: date) -> frozenset[int] | None:
        """The shifts still running on a holiday `day`, or None when it is no holiday."""
        if day in self.listed:
            return self.listed[day].shifts
        if self.country is not None and day in self.country:
            return frozenset()
        return None

    def occurrences(self, day: date, holidays: bool = True) -> list[Occurrence]:
        key = (day, holidays)
        if key not in self._cache:
            found = []
            still = self.holiday(day) if holidays else None
            for number, start in enumerate(self.starts, 1):
                days = self.days[number - 1] if number <= len(self.days) else None
                if days is not None and day.weekday() not in days:
                    continue
                if still is not None and number not in still:
                    continue
                end = self.ends[number - 1] if number <= len(self.ends) else None
                length = minutes_after(start, end) if end is not None else self.until_next(number, day)
                end_local = datetime.combine(day, start) + timedelta(minutes=length)
                occurrence = Occurrence(number, day, local_instant(day, start, self.zone),
                                        local_instant(end_local.date(), end_local.time(), self.zone))
                if occurrence.start < occurrence.end:  # a shift wholly inside a skipped hour never runs
                    found.append(occurrence)
            self._cache[key] = found
        return self._cache[key]

    def weekdays(self, number: int) -> frozenset[int] | None:
        return self.days[number - 1] if number <= len(self.days) else None

    def until_next(self, number: int, day: date) -> int:
        """Without an end time: to the next start within a day of a shift set to run on the day it
        falls (by weekday); when none runs then, to the next start of any shift."""
        start = self.starts[number - 1].hour * 60 + self.starts[number - 1].minute
        starts = [(later * 1440 + other.hour * 60 + other.minute - start, day + timedelta(days=later), n)
                  for n, other in enumerate(self.starts, 1) for later in (0, 1)]
        starts = [(gap, on, n) for gap, on, n in starts if 0 < gap <= 1440]
        running = [gap for gap, on, n in starts if self.weekdays(n) is None or on.weekday() in self.weekdays(n)]
        return min(running) if running else min(gap for gap, _, _ in starts)

    def running(self, now: datetime, holidays: bool = True) -> Occurrence | None:
        today = now.astimezone(self.zone).date()
        found = [o for d in (today - timedelta(days=1), today) for o in self.occurrences(d, holidays)
                 if o.start <= now < o.end]
        assert len(found) <= 1, f"the oracle's occurrences overlap at {now}: {found}"
        return found[0] if found else None

    def away(self, who: str, now: datetime) -> Away | None:
        return next((a for a in self.availability.away if a.manager == who and a.start <= now < a.end), None)

    def cover(self, occurrence: Occurrence) -> dict[str, str]:
        cover = {}
        for o in self.availability.overrides:
            if o.day == occurrence.day and o.shift == occurrence.shift:
                cover[o.instead_of] = o.covered_by
        return cover

    def team(self, shift: int) -> list[Manager]:
        return [m for m in self.managers if m.active and (m.shifts is None or shift in m.shifts)]

    def roster(self, occurrence: Occurrence, now: datetime) -> list[str]:
        """The team in Managers-tab order, each covered member replaced in place by their cover
        (if active), nobody twice, nobody away."""
        cover, active = self.cover(occurrence), {m.chat_id for m in self.managers if m.active}
        on: list[str] = []
        for member in self.team(occurrence.shift):
            present = cover.get(member.chat_id, member.chat_id)
            if present in active and present not in on and self.away(present, now) is None:
                on.append(present)
        return on

    def next_change(self, now: datetime) -> datetime | None:
        today = now.astimezone(self.zone).date()
        moments = [m for a in self.availability.away for m in (a.start, a.end) if m > now]
        for offset in range(-1, 400):
            moments += [m for o in self.occurrences(today + timedelta(days=offset)) for m in (o.start, o.end)
                        if m > now]
            if moments and offset > 2 and min(moments) < local_instant(today + timedelta(days=offset), time(0),
                                                                       self.zone):
                break
        return min(moments, default=None)

    def why_not(self, who: str, now: datetime) -> str | None:
        """Why `who` may not be pinged at `now` (None: they may, as far as availability goes)."""
        local = f"{now.astimezone(self.zone):%a %Y-%m-%d %H:%M %Z}"
        occurrence = self.running(now)
        if occurrence is None:
            stopped = self.running(now, holidays=False)
            if stopped is not None:
                return f"pinged at {local}, during shift {stopped.shift} of {stopped.day}, which a holiday stopped"
            return f"pinged at {local}, outside every running shift occurrence"
        if (away := self.away(who, now)) is not None:
            return f"pinged at {local} while away from {away.start} to {away.end}"
        if who in self.roster(occurrence, now):
            return None
        cover = self.cover(occurrence)
        if who in cover and who not in cover.values():
            return f"pinged at {local} in shift {occurrence.shift} of {occurrence.day}, where {cover[who]} covers them"
        if who in cover.values() and who not in {m.chat_id for m in self.managers if m.active}:
            return f"pinged at {local} in shift {occurrence.shift} of {occurrence.day}, covering it while inactive"
        return f"pinged at {local} in shift {occurrence.shift} of {occurrence.day}: not on its team, covering nobody"


# --- the driver ------------------------------------------------------------------------------


class Sim:
    """The cycle, driven with time as an argument, and the checks after every step."""

    def __init__(self, schedule: ShiftSchedule, managers: list[Manager], availability: Availability,
                 now: datetime, timeout: int = 300, dnd: int = 0, strict: bool = True):
        self.schedule, self.managers, self.now, self.strict = schedule, list(managers), now, strict
        self.rules = Rules(timedelta(seconds=timeout), timedelta(seconds=dnd), schedule)
        self.cycle = Cycle(BotState(), self.managers, self.rules)
        self.open: dict[str, tuple[str, int]] = {}  # ticket -> (manager, attempt) of its open ping
        self.dnd_until: dict[str, datetime] = {}
        self.timers: dict[str, datetime] = {}
        self.last_pinged: dict[tuple[int, date], str] = {}
        self.passed: dict[str, str] = {}  # ticket -> who last let it go
        self.next_ticket = 0
        self.pings = self.bad_pings = self.waits_while_free = self.skips = self.ticks = 0
        self.ping_log: list[tuple[datetime, str, str]] = []  # (when, ticket, manager)
        self.accept_log: list[tuple[datetime, str, Occurrence | None]] = []  # the occurrence of the ping
        self.ping_occurrence: dict[str, Occurrence | None] = {}  # ticket -> where its open ping was made
        self.waiting_rows = 0
        self.problems: list[str] = []
        self.set_availability(availability)
        self.check()

    def set_availability(self, availability: Availability) -> None:
        calendar = self.schedule.holidays
        self.oracle = Oracle(self.schedule.starts, self.schedule.zone, self.schedule.days, self.schedule.ends,
                             calendar.listed, calendar.country, self.managers, availability)
        self.see(self.cycle.reload(self.managers, self.rules, self.now, availability))

    def fail(self, message: str) -> None:
        if self.strict:
            raise AssertionError(message)
        self.problems.append(message)

    # --- steps ----------------------------------------------------------------------------

    def start(self) -> str:
        ticket_id = f"RCA-{self.next_ticket}"
        self.next_ticket += 1
        self.see(self.cycle.start(ticket_id, "title", "url", self.now)[1])
        self.check()
        return ticket_id

    def answer(self, ticket_id: str, button: str) -> None:
        if ticket_id not in self.open:
            return
        who, attempt = self.open[ticket_id]
        answer = getattr(self.cycle, button)(ticket_id, who, self.now, attempt)
        assert answer.outcome is (Outcome.ACCEPTED if button == "accept" else Outcome.DECLINED), \
            f"{who}'s {button} of {ticket_id} was {answer.outcome.value}"
        until = self.now + self.rules.dnd
        self.dnd_until[who] = max(until, self.dnd_until.get(who, until))
        if button == "accept":
            self.accept_log.append((self.now, who, self.ping_occurrence.get(ticket_id)))
        else:
            self.passed[ticket_id] = who
        self.see(answer.effects)
        self.check()

    def advance(self, end: datetime) -> None:
        """Move the clock to `end`, firing each due timer at its time (and ticking for it)."""
        fired = 0
        while due := sorted((at, key) for key, at in self.timers.items() if at <= end):
            at, key = due[0]
            del self.timers[key]
            fired += 1
            assert fired < 10_000, f"timers keep falling due before {end}"
            self.now = max(self.now, at)
            self.ticks += 1
            self.see(self.cycle.tick(self.now))
            self.check()
        self.now = end  # no tick here: every change the cycle cares about had a timer
        self.check()

    # --- effects --------------------------------------------------------------------------

    def see(self, effects) -> None:
        for effect in effects:
            if isinstance(effect, Ping):
                self.pinged(effect)
            elif isinstance(effect, Tracked):
                self.waiting_rows += effect.status is Track.WAITING
                if effect.status in (Track.ACCEPTED, Track.DECLINED, Track.TIMED_OUT):
                    who, _ = self.open.pop(effect.ticket_id)
                    if effect.status is Track.TIMED_OUT:
                        self.passed[effect.ticket_id] = who
            elif isinstance(effect, SetTimer):
                self.timers[effect.key] = effect.at
                if effect.key == SHIFT_TIMER:
                    self.shift_timer(effect.at)
            elif isinstance(effect, CancelTimer):
                self.timers.pop(effect.key, None)

    def shift_timer(self, at: datetime) -> None:
        # 5. the shift timer is after now and no later than the next change of who is on
        change = self.oracle.next_change(self.now)
        if not at > self.now:
            self.fail(f"the SHIFT timer set at {self.now} is due at {at}, not after now")
        if change is not None and at > change:
            self.fail(f"the SHIFT timer set at {self.now} is due at {at}, after the next change of who is on, "
                      f"{change} ({change.astimezone(self.oracle.zone):%a %H:%M %Z})")

    def pinged(self, ping: Ping) -> None:
        who, ticket_id = ping.manager.chat_id, ping.ticket_id
        self.pings += 1
        # 1. only a manager who is there, on a running occurrence, on its team or covering it
        why = self.oracle.why_not(who, self.now)
        if why is None and self.dnd_until.get(who, self.now) > self.now:
            why = f"pinged at {self.now} while in DND until {self.dnd_until[who]}"
        if why is None and who in {m for m, _ in self.open.values()}:
            why = f"pinged at {self.now} while holding another ping"
        if why is not None:
            self.bad_pings += 1
            self.fail(f"{ping.manager.name} ({who}) got the ping for {ticket_id}: {why}")
        self.round_robin(ticket_id, who)
        self.open[ticket_id] = (who, ping.attempt)
        self.ping_occurrence[ticket_id] = self.oracle.running(self.now)
        self.ping_log.append((self.now, ticket_id, who))
        effects = self.cycle.delivered(ticket_id, ping.attempt, f"spaces/S/messages/{self.pings}",
                                       "spaces/S/threads/T", self.now)
        assert effects == [], f"a ping posted the moment it was made moved its deadline: {effects}"

    def round_robin(self, ticket_id: str, who: str) -> None:
        """Between two pings of the same shift occurrence, nobody free was passed over: the turn
        goes round the team's seats in Managers-tab order, a coverer in the covered manager's seat,
        from the seat after the last one pinged (even if they are away since); it skips only the
        busy, the away and the manager who just let this ticket go (offered it again only if nobody
        else can take it)."""
        occurrence = self.oracle.running(self.now)
        if occurrence is None:
            return
        key = (occurrence.shift, occurrence.day)
        last = self.last_pinged.get(key)
        self.last_pinged[key] = who
        roster = self.oracle.roster(occurrence, self.now)
        if last is None or who not in roster:
            return
        cover, active = self.oracle.cover(occurrence), {m.chat_id for m in self.managers if m.active}
        seats: list[str] = []
        for member in self.oracle.team(occurrence.shift):
            held = cover.get(member.chat_id, member.chat_id)
            if held in active and held not in seats:
                seats.append(held)
        skipped = self.passed_by(ticket_id, who, roster, seats, last) if last in seats else None
        if skipped:
            self.skips += 1
            self.fail(f"{ticket_id} went to {who} at {self.now} while {skipped}, before them in turn after "
                      f"{last}, were free")

    def free_of(self, candidates: list[str], ticket_id: str) -> list[str]:
        holders = {m for m, _ in self.open.values()}
        return [m for m in candidates if m not in holders and m != self.passed.get(ticket_id)
                and self.dnd_until.get(m, self.now) <= self.now]

    def passed_by(self, ticket_id: str, who: str, roster: list[str], seats: list[str], after: str) -> list[str]:
        """Who free on the roster comes before `who` in turn, the turn starting at the seat after `after`'s."""
        begin = seats.index(after) + 1 if after in seats else 0
        turn = [m for m in seats[begin:] + seats[:begin] if m in roster]
        return self.free_of(turn[:turn.index(who)], ticket_id) if who in turn else []

    # --- after every step -----------------------------------------------------------------

    def check(self) -> None:
        # 3. nobody on the roster is free while a ticket waits
        state = self.cycle.state.tickets
        pinged = {t.ticket_id: (t.manager_id, t.attempts) for t in state.values() if t.status is TicketStatus.PINGED}
        assert pinged == self.open, f"open pings in the state {pinged}, seen {self.open}"
        waiting = [t.ticket_id for t in state.values() if t.status is TicketStatus.WAITING]
        if not waiting:
            return
        occurrence = self.oracle.running(self.now)
        if occurrence is None:
            return
        holders = {m for m, _ in self.open.values()}
        free = [m for m in self.oracle.roster(occurrence, self.now)
                if m not in holders and self.dnd_until.get(m, self.now) <= self.now]
        if free:
            self.waits_while_free += 1
            self.fail(f"{waiting} wait at {self.now} ({self.now.astimezone(self.oracle.zone):%a %H:%M %Z}, "
                      f"shift {occurrence.shift} of {occurrence.day}) while {free} could take them")


# --- random worlds ---------------------------------------------------------------------------


@dataclass
class World:
    zone: ZoneInfo
    schedule: ShiftSchedule
    managers: list[Manager]
    availability: Availability
    other: Availability  # the leave and cover after a reload of the tabs
    now: datetime
    first: date  # the days the holidays, leave and cover fall on
    last: date


def half_hours_after(start: time, minutes: int) -> time:
    moment = datetime.combine(date(2026, 1, 1), start) + timedelta(minutes=minutes)
    return moment.time()


@st.composite
def availabilities(draw, managers: list[Manager], count: int, zone: ZoneInfo, first: date, last: date):
    ids = [m.chat_id for m in managers]
    # mostly the days the driver plays (from the day before the change to the day after), else any
    days = st.one_of(st.integers(2, 4), st.integers(0, (last - first).days)).map(lambda n: first + timedelta(days=n))
    away = []
    for _ in range(draw(st.integers(0, 6))):
        who = draw(st.sampled_from(ids))
        start_day = draw(days)
        if draw(st.booleans()):  # whole days, From and To inclusive
            to = start_day + timedelta(days=draw(st.integers(0, 2)))
            away.append(Away(who, local_instant(start_day, time(0), zone),
                             local_instant(to + timedelta(days=1), time(0), zone)))
        else:  # date-times, in TimeZone
            at = draw(st.sampled_from(HALF_HOURS))
            end_local = datetime.combine(start_day, at) + timedelta(minutes=30 * draw(st.integers(1, 6 * 48)))
            away.append(Away(who, local_instant(start_day, at, zone),
                             local_instant(end_local.date(), end_local.time(), zone)))
    overrides = []
    if len(ids) > 1:
        for _ in range(draw(st.integers(0, 5))):
            instead_of, covered_by = draw(st.lists(st.sampled_from(ids), min_size=2, max_size=2, unique=True))
            overrides.append(Override(draw(days), draw(st.integers(1, count)), instead_of, covered_by))
    return Availability(tuple(away), tuple(overrides))


@st.composite
def worlds(draw) -> World:
    zone = draw(st.sampled_from(list(DST_DAYS)))
    dst = draw(st.sampled_from(DST_DAYS[zone]))
    count = draw(st.integers(1, 4))
    starts = draw(st.lists(st.sampled_from(HALF_HOURS), min_size=count, max_size=count, unique=True))
    days = tuple(draw(st.none() | st.frozensets(st.integers(0, 6), min_size=1)) for _ in range(count))
    ends = []
    for start in starts:
        length = min((minutes_after(start, other) for other in starts if other != start), default=1440)
        end = None
        if draw(st.booleans()):  # ends before the next start (or at it)
            end = half_hours_after(start, 30 * draw(st.integers(1, length // 30)))
            end = end if end in HALF_HOURS else None
        ends.append(end)
    first, last = dst - timedelta(days=3), dst + timedelta(days=6)
    holiday_days = draw(st.lists(st.one_of(st.integers(2, 4), st.integers(0, (last - first).days)), max_size=3,
                                 unique=True))
    listed = tuple(Holiday(first + timedelta(days=n), f"Day {n}",
                           draw(st.frozensets(st.integers(1, count), max_size=count))) for n in holiday_days)
    schedule = ShiftSchedule(tuple(starts), zone, days, tuple(ends), HolidayCalendar(listed=listed))
    rows = draw(st.lists(st.tuples(st.none() | st.frozensets(st.integers(1, count), min_size=1),
                                   st.sampled_from([True, True, True, True, False])), min_size=2, max_size=6))
    managers = [Manager(f"M{n}", f"users/{n}", shifts=s, active=a) for n, (s, a) in enumerate(rows)]
    availability = draw(availabilities(managers, count, zone, first, last))
    other = draw(availabilities(managers, count, zone, first, last))
    # mostly just before the night of the change, else anywhere in the days around it
    minutes = draw(st.one_of(st.integers(12 * 60, 28 * 60), st.integers(0, 72 * 60)))
    now = local_instant(dst - timedelta(days=1), time(0), zone) + timedelta(minutes=minutes)
    return World(zone, schedule, managers, availability, other, now, first, last)


@dataclass(frozen=True)
class Step:
    kind: str  # start, accept, decline, wait, reload
    pick: int = 0
    seconds: int = 0


steps = st.one_of(
    st.builds(Step, st.just("start")),
    st.builds(Step, st.just("start")),
    st.builds(Step, st.sampled_from(["accept", "accept", "decline"]), st.integers(0, 9)),
    st.builds(Step, st.just("wait"), st.just(0), st.integers(1, 900)),
    st.builds(Step, st.just("wait"), st.just(0), st.integers(900, 4 * 3600)),
    st.builds(Step, st.just("wait"), st.just(0), st.integers(4 * 3600, 16 * 3600)),
    st.builds(Step, st.just("reload")),
)


def play(world: World, plan: list[Step], timeout: int, dnd: int) -> Sim:
    sim = Sim(world.schedule, world.managers, world.availability, world.now, timeout, dnd)
    swapped = False
    for step in plan:
        if step.kind == "start":
            sim.start()
        elif step.kind in ("accept", "decline"):
            if sim.open:
                sim.answer(list(sim.open)[step.pick % len(sim.open)], step.kind)
        elif step.kind == "wait":
            sim.advance(sim.now + timedelta(seconds=step.seconds))
        else:
            swapped = not swapped
            sim.set_availability(world.other if swapped else world.availability)
            sim.check()
    return sim


# --- the properties ---------------------------------------------------------------------------


@FAST
@given(world=worlds(), plan=st.lists(steps, min_size=10, max_size=60),
       timeout=st.sampled_from([120, 300, 900]), dnd=st.sampled_from([0, 300, 1800, 3600]))
def test_nobody_unavailable_is_pinged_and_no_ticket_waits_while_someone_is_free(world, plan, timeout, dnd):
    """Properties 1, 3 and 5 over random schedules, holidays, leave, cover and events."""
    play(world, plan, timeout, dnd)


@FAST
@given(world=worlds(), minutes=st.integers(0, 6 * 24 * 60), data=st.data())
def test_a_coverer_is_pinged_in_the_covered_occurrence_even_when_alone(world, minutes, data):
    """Every team member of the running occurrence is covered by one manager off the team: a new
    ticket goes to them (unless they are away, or nobody is covered)."""
    now = world.now + timedelta(minutes=minutes)
    oracle = Oracle(world.schedule.starts, world.zone, world.schedule.days, world.schedule.ends,
                    world.schedule.holidays.listed, "", world.managers, Availability())
    occurrence = oracle.running(now)
    team = [m.chat_id for m in oracle.team(occurrence.shift)] if occurrence else []
    outsiders = [m for m in world.managers if m.active and m.chat_id not in team]
    if occurrence is None or not team or not outsiders:
        return
    coverer = data.draw(st.sampled_from(outsiders)).chat_id
    cover = tuple(Override(occurrence.day, occurrence.shift, member, coverer) for member in team)
    leave = tuple(a for a in world.availability.away if data.draw(st.booleans()))
    sim = Sim(world.schedule, world.managers, Availability(leave, cover), now)
    ticket_id = sim.start()
    there = sim.oracle.away(coverer, now) is None
    assert sim.cycle.on_shift(now)[1] == ([m for m in world.managers if m.chat_id == coverer] if there else [])
    if there:
        assert sim.open.get(ticket_id, ("nobody",))[0] == coverer, \
            f"{ticket_id} started in shift {occurrence.shift} of {occurrence.day}, which {coverer} covers for " \
            f"the whole team, went to {sim.open.get(ticket_id)}"
    else:
        assert ticket_id not in sim.open


@FAST
@given(world=worlds(), minutes=st.integers(0, 4 * 24 * 60))
def test_the_calendar_feed_and_the_cycle_agree_occurrence_by_occurrence(world, minutes):
    """For each occurrence of the feed, at its start (or now, for the running one): the cycle's
    `on_shift` and `who` name the same shift and the same managers, and so do the rules."""
    now = world.now + timedelta(minutes=minutes)
    cycle = Cycle(BotState(), world.managers, Rules(schedule=world.schedule))
    cycle.reload(world.managers, cycle.rules, now, world.availability)
    oracle = Oracle(world.schedule.starts, world.zone, world.schedule.days, world.schedule.ends,
                    world.schedule.holidays.listed, "", world.managers, world.availability)
    feed = upcoming_shifts(world.schedule, world.managers, now, 3, world.availability)
    for occurrence in feed:
        assert occurrence.start <= occurrence.end, f"the feed has shift {occurrence.shift} ending before it starts"
        if occurrence.start == occurrence.end:
            continue  # an empty occurrence (a start and an end inside the same DST jump): nobody is pinged in it
        at = max(occurrence.start, now)
        slot, on = cycle.on_shift(at)
        listed = [m.chat_id for m in occurrence.managers]
        assert slot is not None and (slot.shift, slot.start) == (occurrence.shift, occurrence.start), \
            f"the feed has shift {occurrence.shift} from {occurrence.start}; at {at} the cycle sees {slot}"
        assert [m.chat_id for m in on] == listed, \
            f"shift {occurrence.shift} from {occurrence.start}: the feed lists {listed}, the cycle pings from " \
            f"{[m.chat_id for m in on]}"
        board = cycle.board(at)  # what `who` shows at that instant
        assert board.shift == occurrence.shift and [m.chat_id for m in board.on] == listed
        shown = who_answer(board)
        assert all(f"• {m.name}" in shown for m in occurrence.managers), f"`who` at {at} shows\n{shown}\nnot {listed}"
        expected = oracle.running(at)
        assert expected is not None and (expected.shift, expected.start, expected.end) == \
            (occurrence.shift, occurrence.start, occurrence.end), \
            f"the feed has shift {occurrence.shift} {occurrence.start}-{occurrence.end}, the rules say {expected}"
        assert listed == oracle.roster(expected, at), \
            f"shift {occurrence.shift} from {occurrence.start}: the feed lists {listed}, the rules say " \
            f"{oracle.roster(expected, at)}"
    # and the feed misses no occurrence the rules have in its window
    until = (now.astimezone(world.zone) + timedelta(days=3)).astimezone(UTC)
    today = now.astimezone(world.zone).date()
    expected = sorted((o.start, o.shift) for d in range(-1, 5) for o in oracle.occurrences(today + timedelta(days=d))
                      if o.end > now and o.start < until and o.start < o.end)
    assert sorted((o.start, o.shift) for o in feed if o.start < o.end) == expected


# --- examples --------------------------------------------------------------------------------


def test_a_ticket_in_a_covered_slot_goes_to_the_coverer_when_only_they_are_there():
    ada = Manager("Ada", "users/1", shifts=frozenset({1}))
    ben = Manager("Ben", "users/2", shifts=frozenset({2}))
    schedule = ShiftSchedule((time(7), time(15)), BERLIN, (parse_days("Mon-Fri"), parse_days("Mon-Fri")),
                             (None, time(23)))
    thursday = date(2026, 12, 3)
    cover = Availability((), (Override(thursday, 1, ada.chat_id, ben.chat_id),))
    sim = Sim(schedule, [ada, ben], cover, datetime(2026, 12, 3, 9, 0, tzinfo=BERLIN))
    ticket_id = sim.start()
    assert sim.open[ticket_id][0] == ben.chat_id
    # the next day Ada is back on her own shift
    sim.answer(ticket_id, "accept")
    sim.advance(datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN))
    assert sim.open[sim.start()][0] == ada.chat_id


def test_the_oracle_places_gap_and_fold_times_as_the_docstring_says():
    assert local_instant(date(2026, 3, 29), time(2, 30), BERLIN) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert local_instant(date(2026, 10, 25), time(2, 30), BERLIN) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert local_instant(date(2026, 3, 8), time(2, 0), NEW_YORK) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_a_shift_boundary_inside_the_spring_forward_gap_happens_at_the_jump():
    schedule = ShiftSchedule((time(0), time(2, 30), time(3)), BERLIN)
    slots = schedule.slots(date(2026, 3, 29), date(2026, 3, 29))
    assert all(s.start <= s.end for s in slots), [(s.shift, s.start, s.end) for s in slots]
    # 03:15 CEST: shift 3 began at 03:00 local (shift 2, at 02:30, is swallowed by the jump)
    assert schedule.current_shift(datetime(2026, 3, 29, 1, 15, tzinfo=UTC)) == 3


def test_after_a_manager_goes_away_the_turn_goes_on_from_their_seat_when_a_coverer_sits_at_the_top():
    ada, ben, cem, dana = (Manager(n, f"users/{i}", shifts=frozenset({1}))
                           for i, n in enumerate(["Ada", "Ben", "Cem", "Dana"], 1))
    gus = Manager("Gus", "users/7", shifts=frozenset({2}))
    thursday = date(2026, 12, 3)
    availability = Availability(
        (Away(cem.chat_id, datetime(2026, 12, 3, 10, 0, tzinfo=BERLIN), datetime(2026, 12, 3, 15, 0, tzinfo=BERLIN)),),
        (Override(thursday, 1, ada.chat_id, gus.chat_id),))  # Gus covers Ada: the turn goes Gus, Ben, Cem, Dana
    sim = Sim(ShiftSchedule((time(7), time(15)), BERLIN), [ada, ben, cem, dana, gus], availability,
              datetime(2026, 12, 3, 8, 0, tzinfo=BERLIN))
    for hour, expected in ((8, gus), (9, ben), (9.5, cem)):
        sim.advance(datetime(2026, 12, 3, 7, 0, tzinfo=BERLIN) + timedelta(hours=hour - 7))
        ticket_id = sim.start()
        assert sim.open[ticket_id][0] == expected.chat_id
        sim.answer(ticket_id, "accept")
    sim.advance(datetime(2026, 12, 3, 10, 30, tzinfo=BERLIN))  # Cem is away since 10:00
    ticket_id = sim.start()
    assert sim.open[ticket_id][0] == dana.chat_id, \
        f"after Cem (away since) the turn is Dana's; it went to {sim.open[ticket_id][0]}"


# --- a simulated month ------------------------------------------------------------------------


@pytest.mark.parametrize("dnd", [0, 3600], ids=["no-dnd", "dnd-1h"])
def test_a_simulated_month_pings_nobody_unavailable_and_keeps_the_turns(dnd):
    """31 days from Mon 9 March 2026 in Europe/Berlin (Good Friday, Easter Monday, the spring-forward
    night inside the weekend shift): 8 managers, Mon-Fri 07:00-15:00 and 15:00-23:00 and a Sat-Sun
    shift, German public holidays, leave on about 10% of manager-days (whole and half days), two
    cover swaps a week, about 30 tickets a working day, each accepted after a short delay by whoever
    is pinged, declined 10% of the time, left to time out 5%.

    The weekend shift is a night shift (Sat-Sun 23:00-07:00): a Sat-Sun day shift such as 09:00-17:00
    cannot be declared beside the weekday shifts, because the end-time check and the default length
    count every start time whatever its weekdays (ShiftError "shift 3 would end at 17:00, after the
    next shift starts")."""
    rng = random.Random(20260309)
    names = ["Ada", "Ben", "Cem", "Dana", "Emeka", "Fay", "Gus", "Hana"]
    rows = [{1}, {1}, {1, 3}, {1, 3}, {2}, {2}, {2, 3}, {2, 3}]
    managers = [Manager(n, f"users/{i + 1}", shifts=frozenset(s)) for i, (n, s) in enumerate(zip(names, rows))]
    ids = [m.chat_id for m in managers]
    schedule = ShiftSchedule((time(7), time(15), time(23)), BERLIN,
                             (parse_days("Mon-Fri"), parse_days("Mon-Fri"), parse_days("Sat-Sun")),
                             (None, time(23), None), HolidayCalendar("DE"))
    first = date(2026, 3, 9)
    days = [first + timedelta(days=n) for n in range(31)]
    # leave: 7% whole days, 3% half days (a half of the manager's weekday shift)
    away, leave_days = [], 0
    for who, shifts in zip(ids, rows):
        for day in days:
            roll = rng.random()
            if roll < 0.07:
                away.append(Away(who, local_instant(day, time(0), BERLIN),
                                 local_instant(day + timedelta(days=1), time(0), BERLIN), "leave"))
                leave_days += 1
            elif roll < 0.10:
                begin = rng.choice([time(7), time(11)] if 1 in shifts else [time(15), time(19)])
                end = time(begin.hour + 4)
                away.append(Away(who, local_instant(day, begin, BERLIN), local_instant(day, end, BERLIN), "half"))
                leave_days += 1
    # two swaps a week: someone of the early shift and someone of the late shift trade one weekday
    overrides = []
    weekdays = [d for d in days if d.weekday() < 5]
    for week in range(0, len(weekdays), 5):
        for day in rng.sample(weekdays[week:week + 5], min(2, len(weekdays[week:week + 5]))):
            early, late = rng.choice(ids[:4]), rng.choice(ids[4:])
            overrides += [Override(day, 1, early, late), Override(day, 2, late, early)]
    availability = Availability(tuple(away), tuple(overrides))
    # tickets: about 30 a working day between 07:00 and 23:00, 4 a weekend night
    arrivals = []
    for day in days:
        if day.weekday() < 5:
            window, count = (local_instant(day, time(7), BERLIN), 16 * 3600), rng.randint(25, 35)
        else:
            window, count = (local_instant(day, time(23), BERLIN), 8 * 3600 - 1), rng.randint(2, 6)
        arrivals += [window[0] + timedelta(seconds=rng.randrange(window[1])) for _ in range(count)]
    arrivals.sort()

    sim = Sim(schedule, managers, availability, local_instant(first, time(0), BERLIN), timeout=300, dnd=dnd,
              strict=False)
    answers: dict[tuple[str, int], tuple[datetime, str]] = {}  # open ping -> (when, accept/decline)
    dones: list[tuple[datetime, str]] = []
    queue = list(arrivals)
    end = local_instant(first + timedelta(days=31), time(0), BERLIN)
    declined = 0
    while True:
        for ticket_id, (who, attempt) in sim.open.items():  # each new ping: how its manager answers
            if (ticket_id, attempt) not in answers:
                roll = rng.random()
                kind = "accept" if roll < 0.85 else "decline" if roll < 0.95 else "none"
                delay = timedelta(seconds=rng.randint(10, 240))
                answers[(ticket_id, attempt)] = (sim.now + delay, kind)
        pending = [(at, "answer", key) for key, (at, kind) in answers.items() if key[0] in sim.open
                   and sim.open[key[0]][1] == key[1] and kind != "none"]
        events = sorted(pending + [(at, "done", t) for at, t in dones] + ([(queue[0], "start", "")] if queue else []))
        if not events or events[0][0] >= end:
            break
        next_timer = min(sim.timers.values(), default=end)
        if next_timer < events[0][0]:  # a timer first: fire it, then answer the pings it made
            sim.advance(next_timer)
            continue
        at, kind, what = events[0]
        sim.advance(at)
        if kind == "start":
            queue.pop(0)
            sim.start()
        elif kind == "done":
            dones.remove((at, what))
            assert sim.cycle.done(what, sim.cycle.state.tickets[what].manager_id, sim.now).outcome is Outcome.COMPLETED
        elif what[0] in sim.open and sim.open[what[0]][1] == what[1]:
            button = answers[what][1]
            declined += button == "decline"
            sim.answer(what[0], button)
            if button == "accept":
                dones.append((sim.now + timedelta(minutes=rng.randint(10, 90)), what[0]))
    sim.advance(end)
    timed_out = sum(1 for _, kind in answers.values() if kind == "none")

    # fairness, per shift occurrence: among the managers on its roster all through it
    present_minutes: dict[tuple[int, str], int] = {}
    occurrence_spreads, ping_spreads = [], []
    for occurrence in [o for d in days for o in sim.oracle.occurrences(d)]:
        samples = []
        moment = occurrence.start
        while moment < occurrence.end:
            samples.append(set(sim.oracle.roster(occurrence, moment)))
            moment += timedelta(minutes=5)
        for roster in samples:
            for who in roster:
                key = (occurrence.shift, who)
                present_minutes[key] = present_minutes.get(key, 0) + 5
        steady = set.intersection(*samples) if samples else set()
        accepts = {who: 0 for who in steady}
        turns = {who: 0 for who in steady}
        for _, who, o in sim.accept_log:
            if o == occurrence and who in accepts:
                accepts[who] += 1
        for when, _, who in sim.ping_log:
            if occurrence.start <= when < occurrence.end and who in turns:
                turns[who] += 1
        if len(steady) > 1 and sum(turns.values()):
            occurrence_spreads.append(max(accepts.values()) - min(accepts.values()))
            ping_spreads.append(max(turns.values()) - min(turns.values()))
    accepted = {}
    for _, who, o in sim.accept_log:
        if o is not None:
            accepted[(o.shift, who)] = accepted.get((o.shift, who), 0) + 1
    rates = {}
    for shift in (1, 2, 3):
        home = {m.chat_id for m in managers if shift in m.shifts}  # coverers' few days are left out
        per_day = {who: accepted.get((shift, who), 0) / (minutes / (8 * 60))
                   for (s, who), minutes in present_minutes.items() if s == shift and who in home}
        rates[shift] = per_day
    within_one = sum(1 for s in occurrence_spreads if s <= 1)
    pings_within_one = sum(1 for s in ping_spreads if s <= 1)
    print(f"\nsimulated month {first} + 31 days, Europe/Berlin, DND after an answer {dnd} s, holidays "
          f"{[str(d) for d in days if sim.oracle.holiday(d) is not None]}")
    print(f"  leave on {leave_days} of {len(ids) * len(days)} manager-days "
          f"({100 * leave_days / (len(ids) * len(days)):.1f}%), {len(overrides) // 2} cover swaps")
    print(f"  tickets {len(arrivals)}, pings {sim.pings}, accepts {len(sim.accept_log)}, declines {declined}, "
          f"left to time out {timed_out}, Waiting rows {sim.waiting_rows}, ticks {sim.ticks}")
    print(f"  pings to unavailable managers {sim.bad_pings}, checks where a ticket waited while someone on the "
          f"roster was free {sim.waits_while_free}, round-robin skips of a free manager {sim.skips}")
    print(f"  occurrences with 2+ steady managers: {len(occurrence_spreads)}; accepts differ by <= 1 in "
          f"{within_one} ({100 * within_one / max(len(occurrence_spreads), 1):.0f}%), max spread "
          f"{max(occurrence_spreads, default=0)}; pings (turns) differ by <= 1 in {pings_within_one} "
          f"({100 * pings_within_one / max(len(ping_spreads), 1):.0f}%), max spread {max(ping_spreads, default=0)}")
    for shift, per_day in rates.items():
        if per_day:
            shown = ", ".join(f"{names[ids.index(w)]} {r:.2f}" for w, r in sorted(per_day.items()))
            print(f"  shift {shift}, its team's accepts per 8 h on its roster: {shown}; max-min "
                  f"{max(per_day.values()) - min(per_day.values()):.2f}")
    assert sim.problems == [], sim.problems[:5]
    assert sim.bad_pings == 0 and sim.waits_while_free == 0 and sim.skips == 0
    assert len(sim.accept_log) > 0.8 * len(arrivals)
