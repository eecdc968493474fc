"""Google calls per ticket lifecycle, at low load and under a burst; the burst's pace and quotas.

Every ticket lives the same life: its first ping lapses (TicketTimeout), the second manager
declines THINK seconds after the card reaches the space, the third accepts THINK seconds after
theirs and presses Done WORK seconds later. Five ticket events: start, timeout, decline, accept,
done. The managers act on what the fake Chat API holds (a card is clickable once it is posted);
their clicks go through the Flask app as Google Chat sends them.

- low load: one ticket at a time, the next one a minute after the last one's Done;
- burst: all tickets started at the same moment.

Calls are counted from the fakes' logs, from the first start until the last Done is written
(start-up's reads and writes are left out; the periodic reloads are in). Simulated time (bench.sim)
with production's settings: TicketTimeout 300 s, ManagerDNDTime 3600 s, TimeForDataFlush 10 s,
NumberOfItemsInBatch 50, TimeForManagerDataReload 300 s.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

from tests.fakes.chat import CREATE, PATCH, UPDATE
from tests.fakes.google import SPACE

from .fakegoogle import refused_gaps
from .report import Metric, Target, metric
from .sim import Sim, simulated_bot

THINK, WORK, GAP = 30, 120, 60
EVENTS_PER_LIFECYCLE = 5  # start, timeout, decline, accept, done
STORY = ["Pinged", "TimedOut", "Pinged", "Declined", "Pinged", "Accepted", "Completed"]
CONFIG = {"TicketTimeout": 300, "ManagerDNDTime": 3600, "TimeForDataFlush": 10, "NumberOfItemsInBatch": 50,
          "TimeForManagerDataReload": 300}
MENTION = re.compile(r"<(users/\d+)>")


class Managers:
    """The people in the space: they see each new card and act on it as the story says."""

    def __init__(self, sim: Sim, on_done):
        self.sim, self.on_done = sim, on_done
        self.seen = 0
        self.first_ping: dict[str, float] = {}  # ticket -> when its first card reached the space
        self.completed = 0

    def watch(self) -> None:
        calls = self.sim.fake.chat.calls
        for call in calls[self.seen:]:
            if call.kind == CREATE and call.ok and call.response.get("cardsV2"):
                self._card(call.response, call.at)
        self.seen = len(calls)

    def _card(self, message: dict, posted_at: float) -> None:
        params = _button_parameters(message)
        ticket_id, attempt = params["ticket_id"], int(params["attempt"])
        user = MENTION.search(message["text"]).group(1)
        when = self.sim.clock() + timedelta(seconds=THINK)
        if attempt == 1:
            self.first_ping.setdefault(ticket_id, posted_at)
        elif attempt == 2:
            self.sim.jobs.at(when, lambda: self.sim.click("decline", ticket_id, attempt, user, message["name"]))
        else:
            self.sim.jobs.at(when, lambda: self.sim.click("accept", ticket_id, attempt, user, message["name"]))
            self.sim.jobs.at(when + timedelta(seconds=WORK), lambda: self._done(ticket_id, attempt, user, message))

    def _done(self, ticket_id: str, attempt: int, user: str, message: dict) -> None:
        self.sim.click("done", ticket_id, attempt, user, message["name"])
        self.completed += 1
        self.on_done(self.completed)


def run(low_count: int, burst_count: int, latency: float, home: Path) -> tuple[list[Metric], dict]:
    low = _lifecycles(low_count, latency, home / "low", burst=False)
    burst = _lifecycles(burst_count, latency, home / "burst", burst=True)
    metrics = []
    for load, label, key in ((low, "low load", "low"), (burst, f"burst of {burst_count}", "burst")):
        metrics += [metric(f"{key}_sheets_reads_per_lifecycle", f"{label}: Sheets reads per lifecycle",
                           load["sheets_reads"] / load["count"]),
                    metric(f"{key}_sheets_writes_per_lifecycle", f"{label}: Sheets writes per lifecycle",
                           load["sheets_writes"] / load["count"]),
                    metric(f"{key}_chat_writes_per_lifecycle", f"{label}: Chat writes per lifecycle",
                           load["chat_writes"] / load["count"])]
    per_event = (burst["sheets_reads"] + burst["sheets_writes"]) / (burst["count"] * EVENTS_PER_LIFECYCLE)
    floor = (burst_count - 1) // 60  # minutes the Chat quota holds back the last batch of 60 pings
    metrics += [
        metric("burst_sheets_requests_per_event", f"burst of {burst_count}: Sheets requests per ticket event",
               per_event, "", Target("<=", 1.0)),
        metric("burst_all_pinged_min", f"burst of {burst_count}: time until every ticket is pinged",
               burst["all_pinged_s"] / 60, "min", Target("", text=f"(Chat's 60 a minute: >= {floor} min)")),
        metric("burst_sheets_writes_peak_per_min", f"burst of {burst_count}: peak Sheets writes per minute",
               burst["sheets_peak"], "", Target("<=", 60)),
        metric("burst_chat_writes_peak_per_min", f"burst of {burst_count}: peak Chat writes per minute (space)",
               burst["chat_peak"], "", Target("<=", 60)),
        metric("burst_429", f"burst of {burst_count}: 429 answers seen (Sheets + Chat)", burst["http_429"], "",
               Target("==", 0)),
    ]
    return metrics, {"low": low, "burst": burst, "config": CONFIG, "think_s": THINK, "work_s": WORK}


def _lifecycles(count: int, latency: float, home: Path, burst: bool) -> dict:
    with simulated_bot(2 * count + 10, CONFIG, latency, home) as sim:
        began = sim.clock()
        sheets_from, chat_from = len(sim.fake.sheets.calls), len(sim.fake.chat.calls)
        ticket_ids = [f"RCA-{n}" for n in range(count)]

        def next_ticket(completed: int) -> None:
            if not burst and completed < count:
                sim.jobs.at(sim.clock() + timedelta(seconds=GAP), lambda: sim.start_ticket(ticket_ids[completed]))

        managers = Managers(sim, next_ticket)
        for ticket_id in ticket_ids if burst else ticket_ids[:1]:
            sim.start_ticket(ticket_id)
        managers.watch()
        sim.jobs.run(lambda: managers.completed == count and _all_written(sim), managers.watch,
                     limit=timedelta(days=2))
        sheets, chat = sim.fake.sheets.calls[sheets_from:], sim.fake.chat.calls[chat_from:]
        stories = _stories(sim)
        return {"count": count, "simulated_s": (sim.clock() - began).total_seconds(),
                "sheets_reads": sum(not c.write for c in sheets), "sheets_writes": sum(c.write for c in sheets),
                "chat_writes": sum(c.kind in (CREATE, PATCH, UPDATE) for c in chat),  # posts and redraws
                "all_pinged_s": max(managers.first_ping.values()) - began.timestamp(),
                "sheets_peak": sim.fake.sheets.peak_writes_per_minute(),
                "chat_peak": sim.fake.chat.peak_writes_per_minute(SPACE),
                "http_429": sum(c.status == 429 for c in sheets) + sum(c.status == 429 for c in chat),
                "sheets_429": sum(c.status == 429 for c in sheets), "chat_429": sum(c.status == 429 for c in chat),
                "chat_writes_peak_admitted": sim.fake.chat.peak_writes_per_minute(SPACE, admitted_only=True),
                "refused_after_s": {"sheets": refused_gaps(sim.fake.sheets.writes()),
                                    "chat": refused_gaps(sim.fake.chat.writes(SPACE))},
                "sheets_calls_by_kind": dict(Counter(c.kind for c in sheets)),
                "lifecycles_as_planned": sum(stories.get(t) == STORY for t in ticket_ids)}


def _all_written(sim: Sim) -> bool:
    """Nothing left for the spreadsheet or the space: every Tracker row appended, the state tabs current."""
    bot = sim.bot
    return not len(bot.tracker) and not len(bot.outbox) and not bot.cycle.state.tickets and \
        bot._written.get(bot.config.tabs.tickets, [None])[1:] == []


def _stories(sim: Sim) -> dict[str, list[str]]:
    stories: dict[str, list[str]] = {}
    for row in sim.fake.sheets.rows("Tracker")[1:]:
        stories.setdefault(row[1], []).append(row[3])
    return stories


def _button_parameters(message: dict) -> dict[str, str]:
    for section in message["cardsV2"][0]["card"]["sections"]:
        for widget in section["widgets"]:
            for button in widget.get("buttonList", {}).get("buttons", []):
                action = button["onClick"].get("action")
                if action:
                    return {p["key"]: p["value"] for p in action["parameters"]}
    raise ValueError("the card has no action button")
