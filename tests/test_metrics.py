"""GET /metrics: Prometheus's text, parsed as Prometheus parses it, following real cycles."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from rcabot.web import JsonLines, create_app
from tests.conftest import drain
from tests.google_fixtures import API_TOKEN

BEARER = {"Authorization": f"Bearer {API_TOKEN}"}


def scrape(client, headers: dict | None = None) -> dict[tuple, float]:
    """Every sample, keyed by its name and its labels (`("rcabot_degraded", "part=chat")`)."""
    answer = client.get("/metrics", headers=headers or {})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    samples = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[(sample.name, labels) if labels else sample.name] = sample.value
    return samples


def test_the_counters_and_gauges_follow_a_ticket_through_decline_timeout_accept_and_done(
        client, bot, space, jobs, clock):
    started_at = clock()
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    started = scrape(client)
    assert (started["rcabot_pings_total"], started["rcabot_open_tickets"], started["rcabot_flush_backlog"]) == (1, 1, 1)

    clock.advance(1)  # the space takes a write a second
    space.click(space.last_card("RCA-1"), "decline", space.pinged("RCA-1"))
    clock.advance(bot.config.ticket_timeout)
    jobs.fire_due()
    drain(bot, clock)
    clock.advance(10)
    space.click(space.last_card("RCA-1"), "accept", space.pinged("RCA-1"))
    accepted = scrape(client)
    took = (clock() - started_at).total_seconds()

    space.click(space.last_card("RCA-1"), "done", space.pinged("RCA-1"))
    done = scrape(client)
    events = ("pings", "declines", "timeouts", "accepts", "completions")
    assert {name: done[f"rcabot_{name}_total"] for name in events} == \
        {"pings": 3, "declines": 1, "timeouts": 1, "accepts": 1, "completions": 1}
    assert (accepted["rcabot_open_tickets"], done["rcabot_open_tickets"]) == (1, 0)
    assert done["rcabot_time_to_accept_seconds_count"] == 1
    assert done["rcabot_time_to_accept_seconds_sum"] == took > 60
    assert (done[("rcabot_time_to_accept_seconds_bucket", "le=60.0")],
            done[("rcabot_time_to_accept_seconds_bucket", "le=120.0")]) == (0, 1)
    assert done["rcabot_flush_backlog"] == 7
    bot.flush()
    assert scrape(client)["rcabot_flush_backlog"] == 0


def test_tickets_past_the_free_managers_count_as_waiting_and_their_notices_as_outbox_backlog(client, bot):
    on_shift = sum(m["on_shift"] for m in bot.status()["managers"])
    for n in range(on_shift + 2):
        client.post("/tickets", json={"ticket_id": f"RCA-{n}"})
    metrics = scrape(client)
    assert (metrics["rcabot_open_tickets"], metrics["rcabot_waiting_tickets"]) == (on_shift + 2, 2)
    # One write went at once; the other pings and the two notices wait for the space's pace.
    assert metrics["rcabot_outbox_backlog"] == on_shift + 1


def test_a_degraded_part_reads_1_and_the_others_0(client, bot):
    bot.degraded["workbook"] = "writing failed (a test)"
    metrics = scrape(client)
    assert {key[1]: value for key, value in metrics.items() if key[0] == "rcabot_degraded"} == \
        {"part=chat": 0, "part=journal": 0, "part=scheduler": 0, "part=workbook": 1}


def test_metrics_need_the_api_token_when_one_is_set(workbook_dir, jobs, clock):
    client = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock,
                         "API_TOKEN": API_TOKEN}).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert scrape(client, BEARER)["rcabot_open_tickets"] == 0


def test_each_bot_counts_in_a_registry_of_its_own(client, tmp_path, jobs, clock):
    other = create_app({"WORKBOOK_DIR": str(tmp_path / "other"), "JOBS": jobs, "CLOCK": clock}).test_client()
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    assert (scrape(client)["rcabot_pings_total"], scrape(other)["rcabot_pings_total"]) == (1, 0)


def test_local_mode_makes_no_google_call(client):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    metrics = scrape(client)
    assert {key: value for key, value in metrics.items() if key[0].startswith("rcabot_google_")} == \
        {(name, f"api={api}"): 0 for name in ("rcabot_google_calls_total", "rcabot_google_errors_total",
                                              "rcabot_google_throttled_total") for api in ("sheets", "chat")}


def google_counts(metrics: dict, api: str) -> tuple[float, float, float]:
    return tuple(metrics[(f"rcabot_google_{name}_total", f"api={api}")] for name in ("calls", "errors", "throttled"))


def test_google_calls_errors_and_429s_are_counted_per_api_as_google_saw_them(gspace, fake, clock):
    fake.sheets.fail_next(429, count=2, kind="values.batchUpdate")  # the workbook's own retries get through
    fake.chat.fail_next(429, count=1)
    gspace.client.post("/tickets", json={"ticket_id": "RCA-1"}, headers=BEARER)
    gspace.bot.flush()
    throttled = scrape(gspace.client, BEARER)
    assert throttled[("rcabot_degraded", "part=chat")] == 1
    clock.advance(2)
    gspace.bot.deliver()
    metrics = scrape(gspace.client, BEARER)

    assert google_counts(metrics, "sheets") == (fake.sheets.count(), 2, 2)
    assert google_counts(metrics, "chat") == (fake.chat.count(), 1, 1) == (2, 1, 1)
    assert metrics[("rcabot_degraded", "part=chat")] == 0


def test_a_scrape_asks_google_nothing(gspace, fake):
    gspace.client.post("/tickets", json={"ticket_id": "RCA-1"}, headers=BEARER)
    before = (fake.sheets.count(), fake.chat.count())
    for _ in range(3):
        scrape(gspace.client, BEARER)
    assert (fake.sheets.count(), fake.chat.count()) == before


def test_a_sheets_error_that_is_not_a_429_counts_as_an_error_only(gspace, fake):
    fake.sheets.fail_next(503, count=1, kind="values.batchUpdate")
    gspace.client.post("/tickets", json={"ticket_id": "RCA-1"}, headers=BEARER)
    gspace.bot.flush()
    calls, errors, throttled = google_counts(scrape(gspace.client, BEARER), "sheets")
    assert (calls, errors, throttled) == (fake.sheets.count(), 1, 0)


def test_a_request_that_gets_no_answer_counts_as_an_error(gspace, fake, clock):
    fake.sheets.timeout_next(1, kind="values.batchUpdate")
    fake.chat.timeout_next(1)
    gspace.client.post("/tickets", json={"ticket_id": "RCA-1"}, headers=BEARER)
    gspace.bot.flush()
    clock.advance(2)
    gspace.bot.deliver()
    metrics = scrape(gspace.client, BEARER)
    assert google_counts(metrics, "sheets") == (fake.sheets.count(), 1, 0)
    assert google_counts(metrics, "chat") == (fake.chat.count(), 1, 0) == (2, 1, 0)

def test_google_mode_keeps_metrics_behind_the_token(gspace):
    assert gspace.client.get("/metrics").status_code == 401


def test_json_logs_make_every_line_an_object_with_time_level_logger_and_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCABOT_")} | {"RCABOT_LOG_FORMAT": "json"}
    start = ("from rcabot.web import create_app; "
             f"create_app({{'WORKBOOK_DIR': {str(tmp_path)!r}, 'START_SCHEDULER': False}})")
    run = subprocess.run([sys.executable, "-c", start], env=env, cwd=Path(__file__).parents[1], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stderr.splitlines()]
    assert any(line["message"].startswith("RCA Bot ready") for line in lines)
    assert all(set(line) == {"time", "level", "logger", "message"} for line in lines)
    assert datetime.fromisoformat(lines[0]["time"]).utcoffset() == timedelta(0)


def test_a_json_log_line_keeps_its_traceback_inside_it():
    try:
        raise ValueError("the journal folder is gone")
    except ValueError:
        record = logging.LogRecord("rcabot.bot", logging.ERROR, __file__, 1, "flush failed: %s", ("disk",),
                                   sys.exc_info())
    line = json.loads(JsonLines().format(record))
    assert (line["level"], line["logger"], line["message"]) == ("ERROR", "rcabot.bot", "flush failed: disk")
    assert line["exception"].endswith("ValueError: the journal folder is gone")

