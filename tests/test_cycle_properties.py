"""Properties of the ticket cycle over random days: starts, clicks (right and wrong people, fresh
and stale cards), clock jumps across timeouts, DND ends and shift changes, and reloads of the team.

After every step: nobody off shift, inactive or in DND is pinged; a ticket holds at most one open
ping and a manager at most one; no ticket is dropped; no ticket waits while someone could take it;
a refused click changes nothing; each ticket's Tracker rows read as a legal story. And within a
shift, with nothing else going on, pings go round robin in Managers-tab order.
"""
from __future__ import annotations

import copy
from datetime import datetime, time, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcabot.cycle import Cycle, Outcome, Ping, Rules, Tracked
from rcabot.model import BotState, Manager, TicketStatus, Track
from rcabot.shifts import ShiftSchedule

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)
SCHEDULE = ShiftSchedule((time(0), time(6), time(12), time(18)))
REFUSED = {Outcome.NOT_YOURS, Outcome.EXPIRED, Outcome.TAKEN, Outcome.NOT_ACCEPTED, Outcome.CLOSED}
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def managers_strategy():
    shifts = st.one_of(st.none(), st.frozensets(st.integers(1, 4), min_size=1, max_size=3))
    one = st.tuples(shifts, st.booleans().map(lambda inactive: not inactive) | st.just(True))
    return st.lists(one, min_size=3, max_size=7).map(
        lambda rows: [Manager(f"M{n}", f"users/{n}", shifts=s, active=a) for n, (s, a) in enumerate(rows)])


step = st.one_of(
    st.tuples(st.just("start"), st.integers(0, 14)),
    st.tuples(st.just("start"), st.integers(0, 14)),
    st.tuples(st.sampled_from(["accept", "decline", "done"]), st.integers(0, 14), st.sampled_from(["pinged", "other"]),
              st.sampled_from(["fresh", "stale"])),
    st.tuples(st.just("wait"), st.integers(1, 6 * 3600)),
    st.tuples(st.just("reload"), st.integers(0, 7), st.sampled_from(["deactivate", "reactivate", "all_shifts"])),
)


def on_shift(manager: Manager, now: datetime) -> bool:
    return manager.active and manager.works(SCHEDULE.current_shift(now))


def eligible_now(cycle: Cycle, now: datetime) -> list[Manager]:
    holding = {t.manager_id for t in cycle.state.tickets.values() if t.status is TicketStatus.PINGED}
    return [m for m in cycle.managers if on_shift(m, now) and not cycle.state.in_dnd(m.chat_id, now)
            and m.chat_id not in holding]


class Story:
    """Every effect seen, checked as it comes."""

    def __init__(self):
        self.rows: dict[str, list[Track]] = {}
        self.started: set[str] = set()
        self.completed: set[str] = set()

    def check(self, cycle: Cycle, effects, now: datetime) -> None:
        for effect in effects:
            if isinstance(effect, Ping):
                m = next(x for x in cycle.managers if x.chat_id == effect.manager.chat_id)
                assert on_shift(m, now), f"{m.name} pinged for {effect.ticket_id} while off shift or inactive"
                assert not cycle.state.in_dnd(m.chat_id, now), f"{m.name} pinged while in DND"
            if isinstance(effect, Tracked):
                self._track(effect)

    def _track(self, row: Tracked) -> None:
        story = self.rows.setdefault(row.ticket_id, [])
        last = story[-1] if story else None
        status = row.status
        if last is None:
            assert status in (Track.PINGED, Track.WAITING), f"{row.ticket_id} begins with {status}"
        elif status in (Track.ACCEPTED, Track.DECLINED, Track.TIMED_OUT):
            assert last is Track.PINGED, f"{row.ticket_id}: {status} after {last}"
        elif status is Track.COMPLETED:
            assert last is Track.ACCEPTED, f"{row.ticket_id}: Completed after {last}"
        elif status is Track.WAITING:
            assert last in (Track.DECLINED, Track.TIMED_OUT), f"{row.ticket_id}: Waiting after {last}"
        assert last is not Track.COMPLETED, f"{row.ticket_id}: {status} after Completed"
        story.append(status)
        if status is Track.COMPLETED:
            self.completed.add(row.ticket_id)


def invariants(cycle: Cycle, story: Story, now: datetime) -> None:
    tickets = cycle.state.tickets
    holders = [t.manager_id for t in tickets.values() if t.status is TicketStatus.PINGED]
    assert len(holders) == len(set(holders)), f"a manager holds two pings: {holders}"
    for ticket in tickets.values():
        assert (ticket.status is TicketStatus.PINGED) == bool(ticket.deadline), f"{ticket.ticket_id} ping/deadline"
    lost = story.started - set(tickets) - story.completed
    assert not lost, f"tickets dropped: {lost}"
    if any(t.status is TicketStatus.WAITING for t in tickets.values()):
        assert not eligible_now(cycle, now), "a ticket waits while a manager could take it"


@PROPERTY_SETTINGS
@given(managers=managers_strategy(), steps=st.lists(step, max_size=60))
def test_the_cycle_keeps_its_promises_over_random_days(managers, steps):
    rules = Rules(timedelta(seconds=300), timedelta(seconds=1800), SCHEDULE)
    cycle, story, now = Cycle(BotState(), managers, rules), Story(), T0
    team = list(managers)
    for action in steps:
        before = copy.deepcopy(cycle.state)
        kind = action[0]
        if kind == "start":
            ticket_id = f"RCA-{action[1]}"
            if ticket_id in story.completed:
                continue  # a finished id coming back is a new cycle; keep stories simple
            story.started.add(ticket_id)
            _, effects = cycle.start(ticket_id, "", "", now)
        elif kind in ("accept", "decline", "done"):
            ticket = cycle.state.tickets.get(f"RCA-{action[1]}")
            who = ticket.manager_id if ticket and action[2] == "pinged" else "users/stranger"
            attempt = (ticket.attempts if ticket else 1) - (1 if action[3] == "stale" else 0)
            if kind == "done":
                answer = cycle.done(f"RCA-{action[1]}", who, now)
            else:
                answer = getattr(cycle, kind)(f"RCA-{action[1]}", who, now, attempt)
            effects = answer.effects
            if answer.outcome in REFUSED or (answer.outcome is Outcome.ACCEPTED and not effects):
                assert effects == [] and cycle.state == before, f"a refused {kind} changed something"
        elif kind == "wait":
            now += timedelta(seconds=action[1])
            effects = cycle.tick(now)
        else:
            index, change = action[1] % len(team), action[2]
            m = team[index]
            team[index] = Manager(m.name, m.chat_id, shifts=None if change == "all_shifts" else m.shifts,
                                  active=change != "deactivate")
            effects = cycle.reload(team, rules, now)
        story.check(cycle, effects, now)
        invariants(cycle, story, now)


@PROPERTY_SETTINGS
@given(managers=managers_strategy(), tickets=st.integers(1, 12))
def test_within_a_shift_pings_go_round_robin_in_managers_tab_order(managers, tickets):
    rules = Rules(timedelta(seconds=300), timedelta(seconds=0), SCHEDULE)  # no DND: only the rotation decides
    cycle, now = Cycle(BotState(), managers, rules), T0
    on = [m.chat_id for m in managers if on_shift(m, now)]
    pinged = []
    for n in range(tickets):
        _, effects = cycle.start(f"RCA-{n}", "", "", now)
        for ping in (e for e in effects if isinstance(e, Ping)):
            pinged.append(ping.manager.chat_id)
            cycle.accept(ping.ticket_id, ping.manager.chat_id, now, ping.attempt)
    expected = [on[i % len(on)] for i in range(tickets)] if on else []
    assert pinged == expected
