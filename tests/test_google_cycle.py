"""The acceptance scenario again, in Google mode: the real gspread and googleapiclient against the
fake Google (Sheets, Chat, token endpoint), clicks carrying tokens signed as Google signs them.

It also counts the Google calls each step of a ticket's life costs (the issue asks for them)."""
from __future__ import annotations

import pytest
import responses

from rcabot.bootstrap import StartupError
from rcabot.web import create_app
from tests.fakes.google import SPACE, FakeGoogle
from tests.fakes.tokens import project_number_claims
from tests.google_fixtures import API_TOKEN, template

class Meter:
    """Google calls made between two readings, in the shape the closing note quotes."""

    def __init__(self, fake: FakeGoogle):
        self.fake = fake
        self.last = self.now()

    def now(self) -> tuple[int, int, int]:
        return len(self.fake.sheets.reads()), len(self.fake.sheets.writes()), len(self.fake.chat.writes())

    def step(self) -> dict[str, int]:
        current = self.now()
        spent = dict(zip(("sheets_reads", "sheets_writes", "chat_writes"),
                         (b - a for a, b in zip(self.last, current))))
        self.last = current
        return spent


def test_the_whole_cycle_on_google_and_what_each_step_costs(gspace, fake, jobs, clock):
    bot, client = gspace.bot, gspace.client
    meter = Meter(fake)
    headers = {"Authorization": f"Bearer {API_TOKEN}"}

    def settle() -> dict[str, int]:
        clock.advance(1)  # the space takes a write a second
        bot.deliver()
        bot.flush()
        return meter.step()

    assert client.post("/tickets", json={"ticket_id": "RCA-1", "title": "Checkout latency"},
                       headers=headers).status_code == 202
    start = settle()
    first = gspace.pinged("RCA-1")
    assert f"<{first}>" in gspace.last_card("RCA-1")["text"]

    answer = gspace.click(gspace.last_card("RCA-1"), "decline", first)
    assert answer.status_code == 200 and answer.json["actionResponse"] == {"type": "UPDATE_MESSAGE"}
    decline = settle()
    second = gspace.pinged("RCA-1")
    assert second != first

    clock.advance(bot.config.ticket_timeout)
    assert jobs.fire_due() == ["ping-timeout:RCA-1"]
    timeout = settle()
    third = gspace.pinged("RCA-1")
    assert third not in (first, second)
    assert gspace.last_card("RCA-1")["text"].startswith(f"Timed out for {bot.manager_name(second)}.")

    card = gspace.last_card("RCA-1")
    accepted = gspace.click(card, "accept", third)
    assert accepted.json["actionResponse"] == {"type": "UPDATE_MESSAGE"}
    accept = settle()
    # Google replaces the card with the answer; Done is a button of that card.
    shown = {**card, **{key: value for key, value in accepted.json.items() if key != "actionResponse"}}
    assert gspace.click(shown, "done", third).status_code == 200
    done = settle()

    assert len({m["thread"]["name"] for m in fake.chat.messages(SPACE)}) == 1
    tracker = [row[3] for row in fake.sheets.rows("Tracker")[1:] if row[1] == "RCA-1"]
    assert tracker == ["Pinged", "Declined", "Pinged", "TimedOut", "Pinged", "Accepted", "Completed"]
    assert fake.sheets.rows("TicketState") == [fake.sheets.rows("TicketState")[0]]

    # What a ticket's life costs in Google calls, flushed after every step (the worst case: the
    # flush timer batches steps that fall within TimeForDataFlush of each other).
    # one write per flush: the state tabs and the Tracker rows in one values.batchUpdate
    assert start == {"sheets_reads": 0, "sheets_writes": 1, "chat_writes": 1}
    assert decline == {"sheets_reads": 0, "sheets_writes": 1, "chat_writes": 1}
    assert timeout == {"sheets_reads": 0, "sheets_writes": 1, "chat_writes": 2}  # the lapsed card is redrawn too
    assert accept == {"sheets_reads": 0, "sheets_writes": 1, "chat_writes": 0}
    assert done == {"sheets_reads": 0, "sheets_writes": 1, "chat_writes": 0}
    assert all(call.query.get("valueInputOption", ["RAW"]) == ["RAW"] for call in fake.sheets.calls)
    print("\n".join(call_log(fake)))  # pytest -s shows every Google call of the scenario


def call_log(fake: FakeGoogle) -> list[str]:
    calls = [(c.at, "sheets", c.kind, c.status, c.path) for c in fake.sheets.calls]
    calls += [(c.at, "chat", c.kind, c.status, c.path) for c in fake.chat.calls]
    return [f"{api:6} {kind:26} {status} {path}" for _, api, kind, status, path in calls]


def test_a_click_without_a_valid_google_token_is_refused_and_changes_nothing(gspace, certs):
    gspace.client.post("/tickets", json={"ticket_id": "RCA-1"}, headers={"Authorization": f"Bearer {API_TOKEN}"})
    gspace.bot.deliver()
    card = gspace.last_card("RCA-1")
    pinged = gspace.pinged("RCA-1")
    forged = project_number_claims(project_number="999999999999")
    for authorization in ("", "Bearer not-a-jwt", certs.bearer(forged)):
        answer = gspace.click(card, "accept", pinged, authorization=authorization)
        assert answer.status_code == 401 and "unauthorized" in answer.json["error"]
    assert gspace.bot.ticket("RCA-1")["status"] == "Pinged"


def test_the_ticket_api_requires_the_token_in_google_mode(gspace):
    assert gspace.client.post("/tickets", json={"ticket_id": "RCA-1"}).status_code == 401
    assert gspace.client.post("/tickets", json={"ticket_id": "RCA-1"},
                              headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert gspace.bot.ticket("RCA-1") is None


def test_google_mode_names_every_missing_setting(monkeypatch):
    for name in ("RCABOT_SPREADSHEET_ID", "GOOGLE_APPLICATION_CREDENTIALS", "RCABOT_SERVICE_ACCOUNT_JSON",
                 "RCABOT_CHAT_AUDIENCE", "RCABOT_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RCABOT_BACKEND", "google")
    with pytest.raises(StartupError) as refused:
        create_app()
    message = str(refused.value)
    for name in ("RCABOT_SPREADSHEET_ID", "GOOGLE_APPLICATION_CREDENTIALS", "RCABOT_CHAT_AUDIENCE",
                 "RCABOT_API_TOKEN"):
        assert name in message


def test_google_mode_refuses_to_start_without_a_space_id(google_env, jobs, clock):
    fresh = FakeGoogle()  # its Configuration tab leaves SpaceId empty
    fresh.sheets.add_tab("Configuration", template("Configuration"))
    fresh.sheets.add_tab("Managers", template("Managers"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fresh.install(rsps)
        with pytest.raises(StartupError) as refused:
            create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": fresh.http()})
    assert "SpaceId" in str(refused.value)


def test_a_sheets_outage_at_start_up_is_waited_out(google_env, fake, certs, jobs, clock, no_backoff):
    fake.sheets.fail_next(503, count=12)  # more than the workbook's 5 tries, twice over
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        bot = create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": fake.http()}).extensions["rcabot"]
    assert fake.sheets.pending_faults() == 0 and bot.status()["managers"]
    assert [w for w in no_backoff if w in (2, 4)] == [2, 4]  # start-up's own waits (the workbook's have jitter)


def test_a_spreadsheet_not_shared_stops_the_start_with_what_to_fix(google_env, fake, jobs, clock, no_backoff):
    fake.sheets.fail_next(403, count=1)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        with pytest.raises(StartupError) as refused:
            create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": fake.http()})
    assert "share it" in str(refused.value)
