"""Outgoing webhooks (issue 13): every cycle event reaches each WebhookURL, signed, once, in order."""
from __future__ import annotations

import csv
import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st

from rcabot.outgoing import GiveUp, HookEvent, TryLater, event_id
from rcabot.outgoing.delivery import Outgoing
from rcabot.outgoing.store import FILE
from rcabot.web import create_app
from tests.conftest import set_configuration
from tests.fakes.clock import FakeClock
from tests.fakes.jobs import RecordingJobs
from tests.fakes.webhooks import SECRET, URL, Receiver


@pytest.fixture
def app(webhook_app):
    return webhook_app


def journal_folder(workbook_dir):
    return workbook_dir / ".journal"


def test_a_whole_cycle_goes_out_as_signed_events_in_order(client, bot, space, clock, receiver):
    assert client.post("/tickets", json={"ticket_id": "RCA-1", "title": "Checkout latency",
                                         "url": "https://t.example/RCA-1"}).status_code == 202
    first = space.pinged("RCA-1")
    clock.advance(1)
    space.click(space.last_card("RCA-1"), "decline", first)
    second = space.pinged("RCA-1")
    space.click(space.last_card("RCA-1"), "accept", second)
    space.click(space.last_card("RCA-1"), "done", second)
    assert receiver.taken == []  # nothing is sent on the request's path
    bot.outgoing.pump()

    assert receiver.types() == ["ticket.started", "ticket.pinged", "ticket.declined", "ticket.pinged",
                                "ticket.accepted", "ticket.completed"]
    assert len(set(receiver.ids())) == 6 and receiver.tries == receiver.ids()  # each once, none retried
    cycles = {e["data"]["cycle"] for e in receiver.taken}
    assert len(cycles) == 1 and cycles != {""}
    accepted = receiver.taken[4]
    assert accepted["data"]["title"] == "Checkout latency" and accepted["data"]["url"] == "https://t.example/RCA-1"
    assert accepted["data"]["manager"] == {"name": bot.manager_name(second), "chat_id": second}
    assert accepted["timestamp"].endswith("Z")

    view = client.get("/healthz").json["outgoing"][URL]
    assert view["backlog"] == 0 and view["last_success"] and view["last_error"] is None
    assert bot.status()["outgoing"][URL]["backlog"] == 0


def test_event_ids_are_stable_and_distinct():
    at = datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert event_id("RCA-1", "c1", "ticket.pinged", at, "users/1") == event_id("RCA-1", "c1", "ticket.pinged", at,
                                                                                 "users/1")
    assert event_id("RCA-1", "c1", "ticket.pinged", at) != event_id("RCA-1", "c2", "ticket.pinged", at)


def test_events_are_on_disk_before_the_answer_and_the_file_is_compacted(client, bot, workbook_dir, receiver):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    lines = (journal_folder(workbook_dir) / FILE).read_text().splitlines()
    assert [json.loads(line)["event"]["type"] for line in lines] == ["ticket.started", "ticket.pinged"]
    bot.outgoing.pump()
    bot.outgoing.store.rewrite([])  # what a grown, all-done file gets
    assert bot.outgoing.store.load() == []


def test_without_a_webhook_url_nothing_is_recorded(workbook_dir, jobs, clock, monkeypatch):
    monkeypatch.setenv("RCABOT_WEBHOOK_SECRET", SECRET)
    app = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock})
    app.test_client().post("/tickets", json={"ticket_id": "RCA-1"})
    assert not (journal_folder(workbook_dir) / FILE).exists() or \
        (journal_folder(workbook_dir) / FILE).read_text() == ""
    assert app.extensions["rcabot"].status()["outgoing"] == {}


def test_a_webhook_url_without_a_secret_sends_nothing_and_says_so(workbook_dir, jobs, clock, monkeypatch, http_fakes,
                                                                    receiver):
    monkeypatch.delenv("RCABOT_WEBHOOK_SECRET", raising=False)
    app = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock})
    set_configuration(workbook_dir, WebhookURL=URL)
    bot = app.extensions["rcabot"]
    bot.reload()
    app.test_client().post("/tickets", json={"ticket_id": "RCA-1"})
    bot.outgoing.pump()
    assert receiver.tries == []
    assert any("RCABOT_WEBHOOK_SECRET" in " ".join(row) for row in bot.status_rows())


def test_a_reload_follows_the_webhook_urls(client, bot, workbook_dir, http_fakes, receiver):
    other = Receiver(http_fakes, "https://other.example.com/hook")
    set_configuration(workbook_dir, WebhookURL=f"{URL}, {other.url}")
    bot.reload()
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    set_configuration(workbook_dir, WebhookURL=other.url)
    bot.reload()
    client.post("/tickets", json={"ticket_id": "RCA-2"})
    bot.outgoing.pump()
    assert {e["data"]["ticket_id"] for e in other.taken} == {"RCA-1", "RCA-2"}
    assert {e["data"]["ticket_id"] for e in receiver.taken} <= {"RCA-1"}
    assert set(bot.status()["outgoing"]) == {other.url}


def test_a_url_removed_with_events_owed_gives_them_up_in_the_tracker(client, bot, workbook_dir, receiver):
    client.post("/tickets", json={"ticket_id": "RCA-1"})  # started and pinged: two events owed, none sent
    set_configuration(workbook_dir, WebhookURL="")
    bot.reload()
    bot.flush(paced=False)

    undelivered = [row for row in read_tab(workbook_dir, "Tracker") if row[3] == "Undelivered"]
    assert [row[1] for row in undelivered] == ["RCA-1", "RCA-1"]
    assert all(URL in row[5] and "removed from the configuration" in row[5] for row in undelivered)
    assert receiver.taken == []


def read_tab(workbook_dir, tab: str) -> list[list[str]]:
    with open(workbook_dir / f"{tab}.csv", newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_a_restart_delivers_what_was_pending(client, bot, clock, workbook_dir, receiver):
    receiver.down()
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.outgoing.pump()
    assert receiver.taken == [] and len(receiver.tries) == 1
    bot.journal.close()  # killed: no flush, no goodbye

    receiver.up()
    app = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": RecordingJobs(clock), "CLOCK": clock})
    again = app.extensions["rcabot"]
    assert again.status()["outgoing"][URL]["backlog"] == 2
    clock.advance(3600)
    again.outgoing.pump()
    assert receiver.types("RCA-1") == ["ticket.started", "ticket.pinged"]
    again.outgoing.pump()
    assert len(receiver.taken) == 2


def test_another_target_can_be_registered_and_gets_what_it_wants(client, bot, space, receiver):
    class WriteBack:
        name = "jira"

        def __init__(self):
            self.sent = []

        def wants(self, event):
            return event.type in ("ticket.accepted", "ticket.completed")

        def send(self, event):
            self.sent.append(event.type)

    jira = WriteBack()
    bot.outgoing.add_target(jira)
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    manager = space.pinged("RCA-1")
    space.click(space.last_card("RCA-1"), "accept", manager)
    bot.outgoing.pump()
    assert jira.sent == ["ticket.accepted"]
    assert receiver.types() == ["ticket.started", "ticket.pinged", "ticket.accepted"]


# --- the outbox alone, under generated failure patterns -------------------------------------

class Flaky:
    """A target whose answers are drawn by the test; it keeps what it took, deduped by id."""

    name = "flaky"

    def __init__(self, outcomes):
        self.outcomes, self.taken, self.seen = list(outcomes), [], set()

    def wants(self, event):
        return True

    def send(self, event):
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == "later":
            raise TryLater("HTTP 503")
        if outcome == "wait":
            raise TryLater("HTTP 429", after=90)
        if outcome == "bug":
            raise RuntimeError("a target's own fault")
        if outcome == "refuse":
            raise GiveUp("HTTP 400")
        if event.id not in self.seen:
            self.seen.add(event.id)
            self.taken.append(event.id)


def events(clock, n, start=0):
    return [HookEvent(event_id(f"T-{i}", "c", "ticket.pinged", clock()), "ticket.pinged", clock(), f"T-{i}")
            for i in range(start, start + n)]


steps = st.lists(st.one_of(st.tuples(st.just("record"), st.integers(1, 3)),
                           st.tuples(st.just("wait"), st.integers(0, 7200)),
                           st.tuples(st.just("restart"), st.just(0))), max_size=25)


@settings(max_examples=60, deadline=None)
@given(steps=steps, outcomes=st.lists(st.sampled_from(["ok", "later", "wait", "bug", "refuse"]), max_size=40))
def test_every_event_is_delivered_once_or_given_up_and_order_is_kept(tmp_path_factory, steps, outcomes):
    folder, clock = tmp_path_factory.mktemp("outgoing"), FakeClock()
    target, given_up, recorded = Flaky(outcomes), [], []

    def make():
        out = Outgoing(clock, folder, on_give_up=lambda name, event, why: given_up.append(event.id))
        out.add_target(target)
        return out

    out = make()
    for kind, n in steps:
        if kind == "record":
            batch = events(clock, n, len(recorded))
            out.record(batch)
            recorded += [e.id for e in batch]
        elif kind == "wait":
            clock.advance(n)
        else:
            out = make()  # a crash: the marks so far are on disk, the rest comes back
        out.pump()
    for _ in range(200):  # long enough for every back-off, or the day's give-up
        clock.advance(3600)
        out.pump()
    assert sorted(target.taken + given_up) == sorted(recorded)
    assert not set(target.taken) & set(given_up)
    assert target.taken == [i for i in recorded if i in set(target.taken)]  # in the order they happened
    assert out.view()["flaky"]["backlog"] == 0


def test_the_store_is_compacted_as_it_grows_and_keeps_what_is_owed(tmp_path, monkeypatch):
    from rcabot.outgoing import store

    monkeypatch.setattr(store, "COMPACT_AT", 2000)
    clock, target = FakeClock(), Flaky(["later"])
    out = Outgoing(clock, tmp_path)
    out.add_target(target)
    out.record(events(clock, 40))
    out.pump()  # the first fails: all 40 owed
    clock.advance(5)
    out.record(events(clock, 1, 40))
    out.pump()
    assert len(target.taken) == 41
    assert (tmp_path / FILE).stat().st_size < 2000 * 2
    assert Outgoing(clock, tmp_path).store.load() == []  # nothing owed after a restart


def test_a_repeated_start_is_one_event_and_a_reused_ticket_id_gets_new_ids(client, bot, space, clock, receiver):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    client.post("/tickets", json={"ticket_id": "RCA-1"})  # already in the cycle: nothing happened
    manager = space.pinged("RCA-1")
    space.click(space.last_card("RCA-1"), "accept", manager)
    space.click(space.last_card("RCA-1"), "done", manager)
    client.post("/tickets", json={"ticket_id": "RCA-1"})  # the same id, a new cycle
    bot.outgoing.pump()
    started = [e for e in receiver.taken if e["type"] == "ticket.started"]
    assert len(started) == 2 and started[0]["data"]["cycle"] != started[1]["data"]["cycle"]
    assert len(set(receiver.ids())) == len(receiver.taken)
