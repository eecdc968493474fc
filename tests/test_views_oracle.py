"""The views of a Board (the BotStatus rows, the `who` answer) look up what each manager holds in
a table built once per board. Checked against the plain scan of every ticket they used before,
kept here as the oracle, over random boards; and checked to go through the tickets a fixed number
of times, however many managers there are (the scan made a start-up with 10,000 quadratic)."""
from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from rcabot.chat.answers import who
from rcabot.model import Board, Manager, Ticket, TicketStatus
from rcabot.status_tab import status_rows

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)
IDS = [f"users/{n}" for n in range(6)] + [""]  # "" : a ticket with no manager; users/5: off the team
PROBLEMS = ["Configuration B2: TicketTimeout is 'soon'; it must be a whole number of at least 1"]


class ScanBoard(Board):
    """The oracle: what a manager holds, found by scanning every ticket, as before."""

    def holding(self, chat_id: str) -> Ticket | None:
        return next((t for t in self.tickets if t.status is TicketStatus.PINGED and t.manager_id == chat_id), None)


class CountedTickets(tuple):
    """Tickets that count how many times a view goes through them."""

    passes = 0

    def __iter__(self):
        CountedTickets.passes += 1
        return super().__iter__()


def as_scan(board: Board) -> ScanBoard:
    return ScanBoard(**{f.name: getattr(board, f.name) for f in fields(Board)})


minutes = st.integers(min_value=-120, max_value=600).map(lambda m: NOW + timedelta(minutes=m))
managers = st.lists(st.builds(Manager, name=st.sampled_from(["Ada", "Bea", "Chen", "Dev", "Eun"]),
                              chat_id=st.sampled_from(IDS[:5]),
                              shifts=st.none() | st.frozensets(st.integers(1, 4), max_size=3),
                              active=st.booleans()),
                    max_size=5, unique_by=lambda m: m.chat_id)
tickets = st.lists(st.builds(Ticket, ticket_id=st.sampled_from([f"RCA-{n}" for n in range(12)]),
                             status=st.sampled_from(list(TicketStatus)), manager_id=st.sampled_from(IDS),
                             manager_name=st.sampled_from(["", "Ada", "Someone"]),
                             deadline=st.none() | minutes, started_at=st.none() | minutes),
                   max_size=12)


@st.composite
def boards(draw) -> Board:
    team, shift = tuple(draw(managers)), draw(st.integers(1, 4))
    on = tuple(m for m in team if m.active and m.works(shift))
    return Board(now=NOW, zone=timezone.utc, shift=shift, shifts=4, on=on, team=on,
                 shift_started=NOW - timedelta(hours=1), next_shift=NOW + timedelta(hours=5), managers=team,
                 tickets=tuple(draw(tickets)),
                 dnd_until=draw(st.dictionaries(st.sampled_from(IDS[:6]), minutes, max_size=4)),
                 next_up=draw(st.none() | st.sampled_from(team)) if team else None)


@settings(max_examples=300, deadline=None)
@given(boards(), st.booleans())
def test_the_views_give_exactly_the_rows_of_a_scan_of_every_ticket(board, with_problems):
    oracle = as_scan(board)
    problems = PROBLEMS if with_problems else []
    assert [board.holding(who_) for who_ in IDS] == [oracle.holding(who_) for who_ in IDS]
    assert status_rows(board, problems) == status_rows(oracle, problems)
    assert who(board) == who(oracle)


def test_the_bot_status_rows_go_through_the_tickets_twice_however_many_managers_there_are():
    team = tuple(Manager(f"Manager {n}", f"users/{n}") for n in range(300))
    held = CountedTickets(Ticket(f"RCA-{n}", status=TicketStatus.PINGED, manager_id=f"users/{n}",
                                 deadline=NOW + timedelta(minutes=5)) for n in range(300))
    board = Board(now=NOW, zone=timezone.utc, shift=1, shifts=4, shift_started=NOW, next_shift=NOW,
                  managers=team, tickets=held, dnd_until={}, next_up=None, on=team, team=team)
    CountedTickets.passes = 0
    rows = status_rows(board, [])
    assert ["On shift", "Manager 299", "pinged for RCA-299 until 07:05"] in rows
    # the table of who holds what, the waiting tickets, and their count (a board the cycle makes
    # carries the counts; this one, built by hand, holds every ticket): a few passes, not one a manager
    assert CountedTickets.passes == 3
