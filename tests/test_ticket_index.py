"""The cycle's index against plain scans: the same random days played by a cycle that looks
tickets up in its index and by one that scans every open ticket for each question (the oracle,
below, written as the cycle asked before it had an index) must make exactly the same decisions."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rcabot.cycle import Cycle, Rules
from rcabot.config import TabNames
from rcabot.model import BotState, Ticket, TicketStatus
from rcabot.state_tabs import TicketRows, state_rows
from rcabot.ticket_index import TicketIndex

from test_cycle_properties import FAST, SCHEDULE, Day, any_step, dnds, extras, starts_of_day, teams, timeouts


TABS = TabNames()


class ScanIndex:
    """Every answer by a scan of the open tickets, in arrival order."""

    def __init__(self, state: BotState) -> None:
        self.state = state

    def _tickets(self) -> list[Ticket]:
        return list(self.state.tickets.values())

    def file(self, ticket: Ticket) -> None:
        pass

    def drop(self, ticket_id: str) -> None:
        pass

    def holders(self) -> set[str]:
        return {t.manager_id for t in self._tickets() if t.status is TicketStatus.PINGED}

    def waiting(self):
        for ticket in [t for t in self._tickets() if t.status is TicketStatus.WAITING]:
            if ticket.status is TicketStatus.WAITING:
                yield ticket.ticket_id

    def first_waiting(self, count: int) -> list[str]:
        return [t.ticket_id for t in self._tickets() if t.status is TicketStatus.WAITING][:count]

    def waiting_count(self) -> int:
        return sum(t.status is TicketStatus.WAITING for t in self._tickets())

    def lapsed(self, now: datetime) -> list[str]:
        return [t.ticket_id for t in sorted((t for t in self._tickets() if t.status is TicketStatus.PINGED
                                             and t.message_id and t.deadline and t.deadline <= now),
                                            key=lambda t: t.deadline)]

    def escalation_candidates(self, started_by) -> list[str]:
        return [t.ticket_id for t in self._tickets()]  # the cycle tests each as it did before

    def reminder_candidates(self, accepted_by) -> list[str]:
        return [t.ticket_id for t in self._tickets()]


class ScanDay(Day):
    def make_cycle(self, state: BotState) -> Cycle:
        cycle = Cycle(state, self.team, self.rules)
        cycle.index = ScanIndex(state)
        return cycle


class Recorded:
    """A day that keeps every effect it saw, in order."""

    def __init__(self, day_class, *args):
        self.log: list = []
        original = day_class.see

        class Logging(day_class):
            def see(inner, effects) -> None:  # noqa: N805 - the day itself
                self.log.append(list(effects))
                original(inner, effects)

        self.day = Logging(*args)


@FAST
@given(team=teams(), now=starts_of_day, timeout=timeouts, dnd=dnds, steps=st.lists(any_step, min_size=10, max_size=60),
       extras=extras)
def test_the_index_decides_exactly_as_a_scan_of_every_ticket(team, now, timeout, dnd, steps, extras):
    rules = replace(Rules(timedelta(seconds=timeout), timedelta(seconds=dnd), SCHEDULE), **extras)
    indexed, scanned = Recorded(Day, team, rules, now), Recorded(ScanDay, team, rules, now)
    rows = _rows(indexed.day.cycle)
    tab: list[list[str]] = []  # the TicketState tab, as flushes after each step leave it
    for number, step in enumerate(steps):
        cycle = indexed.day.cycle
        indexed.day.run(step)
        scanned.day.run(step)
        assert indexed.log == scanned.log, f"step {number} ({step}) decided differently"
        assert indexed.day.cycle.state == scanned.day.cycle.state
        _index_matches(indexed.day.cycle.index, indexed.day.cycle.state, indexed.day.now)
        if indexed.day.cycle is not cycle:  # a restart: the bot builds its rows again from the state read
            rows = _rows(indexed.day.cycle)
        # The flush's rows, kept from the tickets the index says changed, are those of a full rebuild.
        rows.update(indexed.day.cycle.state, indexed.day.cycle.index, indexed.day.cycle.index.take_changed())
        tab = _flushed(tab, rows)
        assert [row for row in tab if row] == state_rows(indexed.day.cycle.state, TABS)[TABS.tickets]


def _rows(cycle: Cycle) -> TicketRows:
    rows = TicketRows(cycle.state, cycle.index)
    rows.PACK_AT = 2  # blank rows packed away often, not after a thousand
    return rows


def _flushed(tab: list[list[str]], rows: TicketRows) -> list[list[str]]:
    """The tab after a flush that wrote `rows` as the bot does: whole, or the changed rows in place."""
    changes, whole = rows.changes(), rows.whole
    if whole:
        tab = [list(row) for row in rows.table()]
    else:
        tab = [list(row) for row in tab]
        for number, row in changes.items():
            tab += [[] for _ in range(number - len(tab))]
            tab[number - 1] = list(row)
    rows.written(whole, changes)
    assert not rows.changes() and not rows.whole
    return tab


def _index_matches(index: TicketIndex, state: BotState, now: datetime) -> None:
    scan = ScanIndex(state)
    assert index.holders() == scan.holders()
    assert list(index.waiting()) == list(scan.waiting())
    assert index.lapsed(now) == scan.lapsed(now)
    for status in TicketStatus:
        assert index.count(status) == sum(t.status is status for t in state.tickets.values())
    assert all(index.filed_as_is(t) for t in state.tickets.values())
    assert [index.seq(tid) for tid in state.tickets] == sorted(index.seq(tid) for tid in state.tickets)


def test_a_ticket_started_again_after_done_comes_after_every_other():
    index = TicketIndex([Ticket("A"), Ticket("B")])
    index.drop("A")
    index.file(Ticket("A"))
    assert list(index.waiting()) == ["B", "A"]
    assert index.take_changed() == ["A", "B"] and index.take_changed() == []


def test_filing_while_walking_the_waiting_tickets_neither_skips_nor_repeats_one():
    tickets = [Ticket(f"T{n}") for n in range(5)]
    index = TicketIndex(tickets)
    seen = []
    for tid in index.waiting():
        seen.append(tid)
        pinged = next(t for t in tickets if t.ticket_id == tid)
        pinged.status, pinged.manager_id = TicketStatus.PINGED, f"users/{tid}"
        index.file(pinged)
    assert seen == [f"T{n}" for n in range(5)] and index.holders() == {f"users/T{n}" for n in range(5)}


def test_a_ticket_that_leaves_blanks_its_row_a_new_one_takes_the_next_and_blanks_are_packed_away():
    state = BotState({tid: Ticket(tid) for tid in ("A", "B", "C")})
    index = TicketIndex(state.tickets.values())
    rows = TicketRows(state, index)
    rows.PACK_AT = 2
    index.take_changed()  # all in the rows just built, as at start-up
    rows.written(True, rows.changes())
    del state.tickets["A"]
    index.drop("A")
    state.tickets["D"] = Ticket("D")
    index.file(state.tickets["D"])
    rows.update(state, index, index.take_changed())
    assert {n: row[:1] for n, row in rows.changes().items()} == {2: [], 5: ["D"]} and not rows.whole
    rows.written(False, rows.changes())
    for gone in ("B", "C"):
        del state.tickets[gone]
        index.drop(gone)
    rows.update(state, index, index.take_changed())  # three blank rows for one ticket: packed
    assert rows.whole and [row[:1] for row in rows.table()[1:]] == [["D"]]


def test_a_board_copies_only_what_the_views_show_and_they_read_as_from_every_ticket():
    from dataclasses import replace as replaced

    from rcabot.chat import answers
    from rcabot.cycle import Cycle, Rules
    from rcabot.model import Manager
    from rcabot.status_tab import status_rows
    from test_cycle_properties import MIDNIGHT

    team = [Manager(f"M{n}", f"users/{n}") for n in range(300)]  # the first 300 tickets pinged, the rest wait
    cycle = Cycle(BotState(), team, Rules(schedule=SCHEDULE))
    now = MIDNIGHT + timedelta(hours=7)
    for n in range(1000):
        cycle.start(f"RCA-{n}", "", "", now + timedelta(seconds=n))
    for n in range(0, 300, 7):  # some accepted, their managers pinged the next waiting ones
        ticket = next(t for t in cycle.state.tickets.values() if t.manager_id == f"users/{n}")
        cycle.accept(ticket.ticket_id, f"users/{n}", now + timedelta(seconds=1000), attempt=ticket.attempts)
    board = cycle.board(now + timedelta(seconds=1001))
    assert len(board.tickets) < 600  # not a copy of a thousand
    whole = replaced(board, tickets=tuple(cycle.state.tickets.values()), counts=None)
    assert status_rows(board, []) == status_rows(whole, [])
    assert answers.tickets(board) == answers.tickets(whole) and answers.who(board) == answers.who(whole)
