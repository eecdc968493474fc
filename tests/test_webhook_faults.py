"""Outgoing webhooks when the receiver fails: back-off, Retry-After, give-up, and clicks unaffected."""
from __future__ import annotations

import csv
import json
import os
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests

from rcabot.outgoing.delivery import GIVE_UP_AFTER, Outgoing
from rcabot.outgoing.errors import retry_after_seconds
from rcabot.web import create_app
from tests.fakes.jobs import RecordingJobs
from tests.fakes.webhooks import SECRET, URL


@pytest.fixture
def app(webhook_app):
    return webhook_app


def wait_out(bot, clock, seconds, step=1):
    """Let `seconds` of bot time pass, the worker trying whenever something is due."""
    for _ in range(int(seconds / step)):
        clock.advance(step)
        bot.outgoing.pump()


def test_an_hour_down_then_back_delivers_each_event_once_in_order(client, bot, clock, receiver):
    receiver.down(503)
    tries_at = []
    answer = receiver.answer
    receiver.answer = lambda payload: (tries_at.append(clock()), answer(payload))[1]
    for n in range(1, 6):
        client.post("/tickets", json={"ticket_id": f"RCA-{n}"})
        wait_out(bot, clock, 600, step=5)  # tickets keep coming while it is down
    assert receiver.taken == []
    assert bot.status()["outgoing"][URL]["failing_since"] and bot.status()["outgoing"][URL]["backlog"] >= 5
    gaps = [(b - a).total_seconds() for a, b in zip(tries_at, tries_at[1:])]
    assert gaps[:4] == [5, 10, 20, 40] and max(gaps) <= 3600  # exponential back-off from 5 s
    assert any(row[0] == "Problem" and "Outgoing " + URL + " has failed since" in " ".join(row)
               for row in bot.status_rows())  # failing for long
    assert any(row[:2] == ["Outgoing", URL] and "nothing delivered yet" in row[2] and "waiting" in row[2]
               for row in bot.status_rows())  # and how it fares, in a row of its own

    receiver.up()
    wait_out(bot, clock, 3600, step=60)
    types = [(e["data"]["ticket_id"], e["type"]) for e in receiver.taken]
    expected = []
    for n in range(1, 6):
        expected += [(f"RCA-{n}", "ticket.started"), (f"RCA-{n}", "ticket.pinged")]
    assert [t for t in types if t[1] == "ticket.started"] == [t for t in expected if t[1] == "ticket.started"]
    assert len(receiver.ids()) == len(set(receiver.ids()))
    assert set(receiver.tries) == set(receiver.ids())  # every id tried was, in the end, taken
    assert bot.status()["outgoing"][URL]["backlog"] == 0 and bot.status()["outgoing"][URL]["failing_since"] is None


def test_500s_and_timeouts_are_retried(client, bot, clock, receiver):
    receiver.down(500)
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.outgoing.pump()
    assert bot.status()["outgoing"][URL]["last_error"] == "HTTP 500"
    receiver.timing_out()
    wait_out(bot, clock, 5)
    assert "ReadTimeout" in bot.status()["outgoing"][URL]["last_error"]
    receiver.up()
    wait_out(bot, clock, 10)
    assert receiver.types() == ["ticket.started", "ticket.pinged"]


def test_a_429_retry_after_is_honoured(client, bot, clock, receiver):
    receiver.down(429, {"Retry-After": "120"})
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.outgoing.pump()
    receiver.up()
    wait_out(bot, clock, 119)
    assert receiver.taken == [] and len(receiver.tries) == 1
    wait_out(bot, clock, 1)
    assert receiver.types() == ["ticket.started", "ticket.pinged"]


def test_retry_after_reads_seconds_and_dates():
    assert retry_after_seconds({"Retry-After": "30"}) == 30 and retry_after_seconds({}) is None
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=100), usegmt=True)
    assert 90 <= retry_after_seconds({"Retry-After": later}) <= 100


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_a_4xx_gives_the_event_up_at_once_and_the_next_goes(client, bot, clock, receiver, workbook_dir):
    receiver.answer = lambda payload: (410, {}, "") if payload["type"] == "ticket.started" else (204, {}, "")
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.outgoing.pump()
    assert receiver.types() == ["ticket.pinged"] and len(receiver.tries) == 2
    bot.flush()
    rows = [r for r in read(workbook_dir / "Tracker.csv") if r[3] == "Undelivered"]
    assert len(rows) == 1 and "ticket.started" in rows[0][5] and URL in rows[0][5] and "HTTP 410" in rows[0][5]
    assert any(row[0] == "Problem" and URL in " ".join(row) and "given up" in " ".join(row)
               for row in read(workbook_dir / "BotStatus.csv"))


def test_a_day_down_gives_up_with_a_tracker_row_and_a_botstatus_problem(client, bot, clock, receiver,
                                                                           workbook_dir):
    receiver.down(503)
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    wait_out(bot, clock, GIVE_UP_AFTER.total_seconds() + 3600, step=600)
    assert receiver.taken == [] and bot.status()["outgoing"][URL]["backlog"] == 0
    assert bot.status()["outgoing"][URL]["given_up"] == 2
    bot.flush()
    rows = [r for r in read(workbook_dir / "Tracker.csv") if r[3] == "Undelivered"]
    assert [r[1] for r in rows] == ["RCA-1", "RCA-1"] and "not delivered within 24 h" in rows[0][5]
    problems = [" ".join(row) for row in read(workbook_dir / "BotStatus.csv") if row[0] == "Problem" or URL in
                " ".join(row)]
    assert any(URL in p and "given up" in p for p in problems)

    receiver.up()  # later events go again
    client.post("/tickets", json={"ticket_id": "RCA-2"})
    bot.outgoing.pump()
    assert receiver.types() == ["ticket.started", "ticket.pinged"]


def test_a_click_is_answered_while_the_endpoint_hangs(client, bot, space, receiver):
    sending, release = threading.Event(), threading.Event()

    def hang(payload):
        sending.set()
        release.wait(10)  # the receiver holds the request until the test lets go
        raise requests.exceptions.ReadTimeout("hung")
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    receiver.answer = hang
    worker = threading.Thread(target=bot.outgoing.pump)
    worker.start()
    try:
        assert sending.wait(10)
        manager = space.pinged("RCA-1")
        answer = space.click(space.last_card("RCA-1"), "accept", manager)  # the send is still hanging
        assert answer.status_code == 200 and bot.ticket("RCA-1")["status"] == "Accepted"
        assert worker.is_alive()
    finally:
        release.set()
        worker.join(10)
    assert bot.status()["outgoing"][URL]["backlog"] == 3  # started, pinged, accepted: none lost


def test_the_backlog_is_bounded_and_overflow_is_given_up_visibly(client, bot, receiver):
    receiver.down(503)
    bot.outgoing.max_backlog = 3
    for n in (1, 2):
        client.post("/tickets", json={"ticket_id": f"RCA-{n}"})
    view = bot.status()["outgoing"][URL]
    assert view["backlog"] == 3 and view["given_up"] == 1
    assert any("over 3 waiting" in " ".join(row) for row in bot.status_rows())


def test_the_workers_deliver_on_their_own(clock, tmp_path, http_fakes, receiver):
    from rcabot.outgoing import HookEvent, event_id

    out = Outgoing(clock, tmp_path, SECRET)
    out.follow((URL,))
    done = threading.Event()
    receiver.answer = lambda payload: (done.set(), (204, {}, ""))[1]
    out.start()
    try:
        out.record([HookEvent(event_id("RCA-1", "c", "ticket.started", clock()), "ticket.started", clock(), "RCA-1")])
        assert done.wait(10)
    finally:
        out.stop()


def test_metrics_show_each_targets_backlog(client, bot, receiver):
    receiver.down(503)
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    text = client.get("/metrics").get_data(as_text=True)
    assert f'rcabot_outgoing_backlog{{target="{URL}"}} 2.0' in text


def test_a_given_up_row_survives_a_crash_before_the_flush(client, bot, clock, receiver, workbook_dir):
    receiver.answer = lambda payload: (400, {}, "")
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.outgoing.pump()
    bot.journal.close()  # killed before any flush
    again = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": RecordingJobs(clock),
                        "CLOCK": clock}).extensions["rcabot"]
    again.flush()
    rows = [r for r in read(workbook_dir / "Tracker.csv") if r[3] == "Undelivered"]
    assert [r[5].split(" ")[0] for r in rows] == ["ticket.started", "ticket.pinged"]
    assert again.status()["outgoing"][URL]["backlog"] == 0  # given up stays given up


def test_an_outgoing_store_on_a_full_disk_is_shown_and_its_events_still_go(client, bot, receiver, workbook_dir):
    store = bot.outgoing.store.path
    store.unlink(missing_ok=True)
    os.symlink("/dev/full", store)  # every write to it: ENOSPC
    assert client.post("/tickets", json={"ticket_id": "RCA-1"}).status_code == 202
    assert "outgoing" in bot.degraded and "No space left" in bot.degraded["outgoing"]
    health = client.get("/healthz")
    assert health.status_code == 503 and "outgoing" in health.json["problems"]

    bot.outgoing.pump()  # what could not be kept on disk is still sent from memory
    assert receiver.types() == ["ticket.started", "ticket.pinged"]

    store.unlink()  # room again: the next event is kept, and the part recovers
    client.post("/tickets", json={"ticket_id": "RCA-2"})
    assert "outgoing" not in bot.degraded
    assert [line["event"]["ticket_id"] for line in map(json.loads, store.read_text().splitlines())
            if "event" in line] == ["RCA-2", "RCA-2"]
