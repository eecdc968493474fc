"""Clicks with 10,000 tickets open the way a real backlog has them: a team of TEAM managers, each
holding one ping, and every other ticket waiting for one of them.

In this process on simulated time (bench.sim), with production's settings, background jobs left
out: what is measured is the work of the event itself. Rounds of: each pinged manager clicks,
Accept and Decline in turn, through the Flask app (the time inside it is measured); then their
DND (an hour) runs out, a few managers at a time, and each expiry's `tick` gives the freed
managers the oldest waiting tickets. A tick runs under the bot's lock, like every event, so a
click that arrives meanwhile waits for it: its duration is measured too.
"""
from __future__ import annotations

import math
import time
from datetime import timedelta
from pathlib import Path

from rcabot.cycle import dnd_timer
from rcabot.model import TicketStatus
from rcabot.state_tabs import MANAGER_HEADER, POINTER_HEADER, TICKET_HEADER, TRACKER_HEADER, iso
from tests.fakes.clock import FakeClock
from tests.fakes.google import SPACE

from .fakegoogle import manager_id
from .report import Metric, Target, metric, percentile
from .sim import Sim, simulated_bot

TEAM = 50
CLICKS = 1000
EXPIRIES_PER_ROUND = 10  # DND expiries are spread over this many moments in a round
CLICK_TARGET_MS = 20.0
CONFIG = {"TicketTimeout": 300, "ManagerDNDTime": 3600, "TimeForDataFlush": 10, "NumberOfItemsInBatch": 50,
          "TimeForManagerDataReload": 300}


def run(count: int, home: Path) -> tuple[list[Metric], dict]:
    team = max(1, min(TEAM, count // 2))
    rounds = math.ceil(min(CLICKS, count) / team)
    with simulated_bot(team, CONFIG, 0.0, home, tabs=_tabs(count, team, FakeClock()())) as sim:
        timings: dict[str, list[float]] = {"accept": [], "decline": [], "expiry": []}
        sim.app.wsgi_app = _timed(sim.app.wsgi_app, timings)
        for _ in range(rounds):
            _clicks(sim, team, len(timings["accept"]) + len(timings["decline"]))
            _expiries(sim, timings["expiry"])
        waiting = sum(t.status is TicketStatus.WAITING for t in sim.bot.cycle.state.tickets.values())
    label = f"{count:,} open, {count - team:,} waiting on {team}"
    metrics = [metric(f"backlog_{kind}_p99_ms", f"{label}: {name} p99", percentile(timings[kind], 99), "ms",
                      Target("<", CLICK_TARGET_MS)) for kind, name in (("accept", "Accept"), ("decline", "Decline"))]
    group = math.ceil(team / EXPIRIES_PER_ROUND)
    metrics.append(metric("backlog_expiry_p99_ms", f"{label}: {group} DND expiries lock the bot, p99",
                          percentile(timings["expiry"], 99), "ms"))
    details = {"count": count, "team": team, "rounds": rounds, "waiting_at_end": waiting, "config": CONFIG,
               "samples": {kind: len(values) for kind, values in timings.items()},
               **{f"{kind}_{stat}_ms": f(values) for kind, values in timings.items()
                  for stat, f in (("p50", lambda v: percentile(v, 50)), ("max", lambda v: max(v, default=0.0)))}}
    return metrics, details


def _tabs(count: int, team: int, now) -> dict[str, list[list[str]]]:
    """The bot's tabs: `team` tickets pinged (their cards posted), the rest waiting (notice posted)."""
    tickets = [list(TICKET_HEADER)]
    for n in range(count):
        ticket = [f"BL-{n}", f"Ticket {n}", f"https://tickets.example.com/browse/BL-{n}"]
        if n < team:
            tickets.append(ticket + ["Pinged", f"Manager {n:05d}", manager_id(n), f"{SPACE}/messages/ping{n}",
                                     f"{SPACE}/threads/bl{n}", iso(now), iso(now + timedelta(minutes=5)), "1"])
        else:
            tickets.append(ticket + ["Waiting", "", "", f"{SPACE}/messages/notice{n}", f"{SPACE}/threads/bl{n}",
                                     "", "", "0"])
    return {"TicketState": tickets, "StateManagement": [POINTER_HEADER], "ManagerState": [MANAGER_HEADER],
            "Tracker": [TRACKER_HEADER]}


def _clicks(sim: Sim, team: int, made: int) -> None:
    """Every pinged manager answers, a few seconds apart, so that their DND ends at different times."""
    pinged = [t for t in sim.bot.cycle.state.tickets.values() if t.status is TicketStatus.PINGED]
    group = max(1, math.ceil(team / EXPIRIES_PER_ROUND))
    for n, ticket in enumerate(pinged):
        if n % group == 0:
            sim.clock.advance(1)
        action = "accept" if (made + n) % 2 else "decline"
        sim.click(action, ticket.ticket_id, ticket.attempts, ticket.manager_id, ticket.message_id or "unposted")


def _expiries(sim: Sim, durations: list[float]) -> None:
    """Let the DND timers run out in time order, timing the `tick` of each moment (the one that
    frees its managers; APScheduler would run one more, with nothing left to do, per timer)."""
    moments: dict = {}
    for key, at in sim.jobs.timers.items():
        if key.startswith(dnd_timer("")):
            moments.setdefault(at, []).append(key)
    for at in sorted(moments):
        for key in moments[at]:
            sim.jobs.timers.pop(key, None)
        sim.clock.now = max(sim.clock.now, at)
        began = time.perf_counter()
        sim.bot.tick()
        durations.append((time.perf_counter() - began) * 1000)


def _timed(wsgi, timings: dict[str, list[float]]):
    def app(environ, start_response):
        kind = environ.get("HTTP_X_BENCH_KIND", "")
        began = time.perf_counter()
        body = list(wsgi(environ, start_response))
        if kind in timings:
            timings[kind].append((time.perf_counter() - began) * 1000)
        return body
    return app
