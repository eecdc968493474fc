"""How the older bot failed against a throttled Google, each one a case here (Google mode, the
real clients against the fake Google). A 429 that outlasts the adapter's retries is what the bot
itself must ride out, so most faults below are injected more times than the adapter retries."""
from __future__ import annotations

import pytest

from rcabot.web import create_app
from tests.fakes.jobs import RecordingJobs
from tests.fakes.google import SPACE
from tests.google_fixtures import API_TOKEN

OUTLASTS_RETRIES = 5  # the Google workbook tries 5 times per flush


@pytest.fixture
def api(gspace):
    def start(ticket_id: str):
        return gspace.client.post("/tickets", json={"ticket_id": ticket_id},
                                  headers={"Authorization": f"Bearer {API_TOKEN}"})
    return start


def tracker_rows(fake, ticket_id: str) -> list[str]:
    return [row[3] for row in fake.sheets.rows("Tracker")[1:] if row[1] == ticket_id]


def test_a_429_on_the_state_write_during_accept_loses_neither_the_acceptance_nor_the_dnd(
        gspace, fake, api, jobs, clock, google_env, certs):
    api("RCA-1")
    gspace.bot.deliver()
    gspace.bot.flush()
    manager = gspace.pinged("RCA-1")
    fake.sheets.fail_next(429, count=OUTLASTS_RETRIES, kind="values.batchUpdate")
    answer = gspace.click(gspace.last_card("RCA-1"), "accept", manager)
    assert answer.status_code == 200 and answer.json["cardsV2"][0]["card"]["header"]["title"].startswith("Assigned")
    gspace.bot.flush()  # throttled throughout
    assert "workbook" in gspace.bot.degraded
    assert gspace.bot.ticket("RCA-1")["status"] == "Accepted"

    # Killed now, restarted: the journal still has the acceptance; nobody is pinged again.
    gspace.bot.journal.close()
    later = RecordingJobs(clock)
    again = create_app({"JOBS": later, "CLOCK": clock, "CHAT_TRANSPORT": fake.http()}).extensions["rcabot"]
    assert again.ticket("RCA-1")["status"] == "Accepted"
    assert "ping-timeout:RCA-1" not in later.timers
    again.deliver()
    assert fake.chat.count("spaces.messages.create") == 1
    assert any(m["dnd_until"] for m in again.status()["managers"] if m["chat_id"] == manager)
    again.flush()
    assert tracker_rows(fake, "RCA-1") == ["Pinged", "Accepted"]


def test_a_429_on_the_write_of_an_accept_and_a_redelivered_click_write_one_accepted_row(
        gspace, fake, api):
    api("RCA-1")
    gspace.bot.deliver()
    manager = gspace.pinged("RCA-1")
    card = gspace.last_card("RCA-1")
    fake.sheets.fail_next(429, count=OUTLASTS_RETRIES, kind="values.batchUpdate")
    assert gspace.click(card, "accept", manager).status_code == 200
    gspace.bot.flush()
    assert gspace.click(card, "accept", manager).status_code == 200  # Chat redelivers the event
    gspace.bot.flush()
    assert tracker_rows(fake, "RCA-1") == ["Pinged", "Accepted"]
    assert fake.sheets.rows("TicketState")[1][3] == "Accepted"


def test_a_429_on_a_read_is_reported_and_leaves_no_orphan_row(gspace, fake, api):
    api("RCA-1")
    gspace.bot.deliver()
    gspace.bot.flush()
    fake.sheets.fail_next(429, count=OUTLASTS_RETRIES, kind="values.batchGet")
    gspace.bot.reload()
    assert "reload failed" in gspace.bot.degraded["workbook"]
    manager = gspace.pinged("RCA-1")
    gspace.click(gspace.last_card("RCA-1"), "accept", manager)
    gspace.click(_assigned(gspace, "RCA-1"), "done", manager)
    gspace.bot.flush()
    assert fake.sheets.rows("TicketState") == [fake.sheets.rows("TicketState")[0]]
    assert tracker_rows(fake, "RCA-1") == ["Pinged", "Accepted", "Completed"]


def test_a_throttled_tracker_write_drops_no_row_and_keeps_the_order(gspace, fake, api):
    for n in range(3):
        api(f"RCA-{n}")
    gspace.bot.deliver()
    fake.sheets.fail_next(429, count=OUTLASTS_RETRIES, kind="values.batchUpdate")
    gspace.bot.flush()
    assert fake.sheets.rows("Tracker")[1:] == []
    gspace.bot.flush()
    assert [row[1] for row in fake.sheets.rows("Tracker")[1:]] == ["RCA-0", "RCA-1", "RCA-2"]


def test_a_start_while_sheets_and_chat_throttle_is_accepted_and_pinged_later(gspace, fake, api, jobs, clock):
    fake.sheets.fail_next(429, count=OUTLASTS_RETRIES)
    fake.chat.fail_next(429, count=3)
    assert api("RCA-1").status_code == 202
    gspace.bot.flush()
    for _ in range(4):
        clock.advance(1)  # the space takes a write (or a try) a second
        gspace.bot.deliver()
    assert fake.chat.count("spaces.messages.create", status=200) == 1
    gspace.bot.flush()
    assert tracker_rows(fake, "RCA-1") == ["Pinged"]
    assert gspace.bot.degraded == {}


def test_a_forged_click_carrying_the_pinged_managers_id_is_refused(gspace, fake, api, certs):
    from tests.fakes.tokens import sign

    api("RCA-1")
    gspace.bot.deliver()
    forged = sign({"iss": "chat@system.gserviceaccount.com", "aud": "123456789012", "iat": 0, "exp": 4102444800},
                  key_id="attacker-key")  # signed with a key Google does not publish
    answer = gspace.click(gspace.last_card("RCA-1"), "accept", gspace.pinged("RCA-1"), authorization=f"Bearer {forged}")
    assert answer.status_code == 401
    assert gspace.bot.ticket("RCA-1")["status"] == "Pinged"


def _assigned(gspace, ticket_id: str) -> dict:
    """The card Google shows after an Accept: the answer replaced it; Done is on it."""
    from rcabot.chat.cards import assigned_message

    return {**gspace.last_card(ticket_id), **assigned_message(gspace.bot.cycle.state.tickets[ticket_id])}


def test_a_crash_after_the_tracker_append_but_before_the_journal_is_cleared_writes_no_row_twice(
        gspace, fake, api, clock, monkeypatch):
    api("RCA-1")
    gspace.bot.deliver()
    monkeypatch.setattr(gspace.bot.journal, "discard", lambda sealed: None)  # killed right after the append
    gspace.bot.flush()
    gspace.click(gspace.last_card("RCA-1"), "decline", gspace.pinged("RCA-1"))  # journaled, not flushed
    gspace.bot.journal.close()

    again = create_app({"JOBS": RecordingJobs(clock), "CLOCK": clock, "CHAT_TRANSPORT": fake.http()})
    again.extensions["rcabot"].flush()
    assert tracker_rows(fake, "RCA-1") == ["Pinged", "Declined", "Pinged"]


def test_a_message_chat_refuses_as_invalid_is_dropped_and_holds_up_nothing(gspace, fake, api, clock, jobs):
    fake.chat.fail_next(400, count=1)
    api("RCA-1")
    api("RCA-2")
    clock.advance(1)  # the space takes a write (or a try) a second
    gspace.bot.deliver()
    posted = [m["text"] for m in fake.chat.messages(SPACE)]
    assert len(posted) == 1 and "RCA-2" in posted[0]  # RCA-1's ping was refused; RCA-2's went
    assert "chat" not in gspace.bot.degraded
    clock.advance(gspace.bot.config.ticket_timeout)
    jobs.fire_due()
    gspace.bot.deliver()
    assert gspace.bot.ticket("RCA-1")["attempts"] == 2  # its time ran: the next manager got it
