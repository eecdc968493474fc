"""In Google mode a flush sends the TicketState rows that changed, each in its place, not the whole
tab (at 100,000 open tickets the whole tab was 24 MB a flush): checked on what the fake Sheets
API received and what the tab holds, across Done (a row blanked), new tickets (rows after the
last) and a restart (the rows read back are where the bot left them)."""
from __future__ import annotations

import re

import pytest
import responses

from rcabot.state_tabs import TRACKER_HEADER, state_rows
from rcabot.web import create_app
from tests.google_fixtures import API_TOKEN, GoogleSpace

HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}


def ticket_state_ranges(fake, since: int) -> list[str]:
    """The TicketState ranges of the values.batchUpdate calls after the first `since` calls."""
    ranges = []
    for call in fake.sheets.calls[since:]:
        if call.kind == "values.batchUpdate":
            ranges += [data["range"] for data in call.body["data"] if "TicketState" in data["range"]]
    return ranges


def tab_matches_bot(fake, bot) -> None:
    tickets = state_rows(bot.cycle.state, bot.config.tabs)[bot.config.tabs.tickets]
    assert [row for row in fake.sheets.rows("TicketState") if row] == [_trim(row) for row in tickets]


def _trim(row: list[str]) -> list[str]:
    row = list(row)
    while row and row[-1] == "":
        row.pop()
    return row


def accept(gspace: GoogleSpace, ticket_id: str) -> tuple[dict, str]:
    """Accept `ticket_id` as its pinged manager: the card Google shows then (with Done), and who."""
    card, pinged = gspace.last_card(ticket_id), gspace.pinged(ticket_id)
    answer = gspace.click(card, "accept", pinged)
    assert answer.status_code == 200
    return {**card, **{key: value for key, value in answer.json.items() if key != "actionResponse"}}, pinged


def settle(gspace: GoogleSpace, clock) -> None:
    clock.advance(1)
    gspace.bot.deliver()
    gspace.bot.flush(paced=False)


def test_a_flush_writes_only_the_rows_that_changed_each_in_its_place(gspace, fake, clock, jobs):
    client = gspace.client
    for n in range(1, 7):
        assert client.post("/tickets", json={"ticket_id": f"RCA-{n}"}, headers=HEADERS).status_code == 202
        settle(gspace, clock)
    tab_matches_bot(fake, gspace.bot)

    since = len(fake.sheets.calls)
    card, pinged = accept(gspace, "RCA-1")
    settle(gspace, clock)
    ranges = ticket_state_ranges(fake, since)
    assert ranges and not any(re.search(r"!A1:", r) for r in ranges), ranges  # rows, not the whole tab
    tab_matches_bot(fake, gspace.bot)

    # Done blanks RCA-1's row; a new ticket takes the row after the last; the tab reads as the bot's state.
    since = len(fake.sheets.calls)
    assert gspace.click(card, "done", pinged).status_code == 200
    assert client.post("/tickets", json={"ticket_id": "RCA-7"}, headers=HEADERS).status_code == 202
    settle(gspace, clock)
    assert fake.sheets.rows("TicketState")[1] == []  # RCA-1's row, blanked in place
    assert fake.sheets.rows("TicketState")[7][0] == "RCA-7"
    assert not any(re.search(r"!A1:", r) for r in ticket_state_ranges(fake, since))
    tab_matches_bot(fake, gspace.bot)


def test_after_a_restart_rows_are_still_written_in_place_where_the_tab_holds_them(gspace, fake, clock, jobs,
                                                                                    google_app):
    client = gspace.client
    for n in range(1, 5):
        client.post("/tickets", json={"ticket_id": f"RCA-{n}"}, headers=HEADERS)
        settle(gspace, clock)
    card, pinged = accept(gspace, "RCA-2")
    settle(gspace, clock)
    assert gspace.click(card, "done", pinged).status_code == 200  # a blank row between RCA-1 and RCA-3
    settle(gspace, clock)
    gspace.bot.close()

    app = create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": fake.http()})
    again = GoogleSpace(app.test_client(), app.extensions["rcabot"], fake, gspace.certs)
    assert sorted(again.bot.cycle.state.tickets) == ["RCA-1", "RCA-3", "RCA-4"]
    since = len(fake.sheets.calls)
    client = again.client
    client.post("/tickets", json={"ticket_id": "RCA-5"}, headers=HEADERS)
    settle(again, clock)
    # The tab was packed whole once at most (the read gave no blank row back), then rows in place.
    tab_matches_bot(fake, again.bot)
    client.post("/tickets", json={"ticket_id": "RCA-6"}, headers=HEADERS)
    settle(again, clock)
    tab_matches_bot(fake, again.bot)
    later = ticket_state_ranges(fake, since)
    assert sum(bool(re.search(r"!A1:", r)) for r in later) <= 1 and not re.search(r"!A1:", later[-1])
    again.bot.close()


def test_a_restart_on_a_tab_that_holds_the_tickets_where_the_bot_left_them_writes_no_whole_tab(
        gspace, fake, clock, jobs, google_app):
    for n in range(1, 4):
        gspace.client.post("/tickets", json={"ticket_id": f"RCA-{n}"}, headers=HEADERS)
        settle(gspace, clock)
    gspace.bot.close()
    app = create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": fake.http()})
    again = GoogleSpace(app.test_client(), app.extensions["rcabot"], fake, gspace.certs)
    since = len(fake.sheets.calls)
    again.client.post("/tickets", json={"ticket_id": "RCA-4"}, headers=HEADERS)
    settle(again, clock)
    ranges = ticket_state_ranges(fake, since)
    assert ranges and not any(re.search(r"!A1:", r) for r in ranges), ranges
    tab_matches_bot(fake, again.bot)
    again.bot.close()


def test_rows_someone_moved_in_the_tab_by_hand_are_put_right_by_the_hourly_whole_write(gspace, fake, clock, jobs):
    for n in range(1, 4):
        gspace.client.post("/tickets", json={"ticket_id": f"RCA-{n}"}, headers=HEADERS)
        settle(gspace, clock)
    tab = fake.sheets._tab("TicketState")  # a person sorts the tab: rows 2 and 3 change places
    for column in range(1, 18):
        tab.cells[(2, column)], tab.cells[(3, column)] = tab.cells.get((3, column), ""), tab.cells.get((2, column), "")
    accept(gspace, "RCA-1")
    settle(gspace, clock)  # RCA-1's row goes to row 2, where the bot left it
    ids = [row[0] for row in fake.sheets.rows("TicketState")[1:] if row]
    assert ids.count("RCA-1") == 2  # for now, the tab is wrong (the bot's state is not)
    clock.advance(3600)
    gspace.client.post("/tickets", json={"ticket_id": "RCA-4"}, headers=HEADERS)
    settle(gspace, clock)
    tab_matches_bot(fake, gspace.bot)


@pytest.fixture
def full_tracker_bot(google_env, fake, certs, jobs, clock, no_backoff):
    """A bot on a spreadsheet whose Tracker grid is full (one row, its header) and one ticket
    started: the next flush must first grow the grid."""
    fake.sheets.add_tab("Tracker", [TRACKER_HEADER], row_count=1, col_count=6)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        certs.install(rsps)
        app = create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": fake.http()})
        app.test_client().post("/tickets", json={"ticket_id": "RCA-1"}, headers=HEADERS)
        yield app.extensions["rcabot"]


def test_a_write_that_first_grows_a_grid_counts_two_writes_in_the_quota(full_tracker_bot, fake, clock):
    bot = full_tracker_bot
    before, calls = 60 - bot.sheets_pace.room(clock()), len(fake.sheets.writes())
    bot.flush()
    made = len(fake.sheets.writes()) - calls
    assert made == 2  # the grid's growth, then the values
    assert 60 - bot.sheets_pace.room(clock()) == before + made


def test_a_write_that_must_grow_a_grid_waits_for_room_for_both_requests(full_tracker_bot, fake, clock, jobs):
    bot = full_tracker_bot
    bot.sheets_pace.record(clock(), bot.sheets_pace.room(clock()) - 1)  # room for one write, not two
    writes = len(fake.sheets.writes())
    bot.flush()
    assert len(fake.sheets.writes()) == writes and jobs.retries[-1][0] == "flush"  # it waits its turn
