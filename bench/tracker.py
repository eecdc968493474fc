"""Start-up on a Tracker of years: how long until /healthz answers, the bot's peak resident memory,
and how much of the Tracker it read.

The Tracker holds `rows` rows at an even pace over two years (so its last month, the window the
bot keeps for `stats` and load balancing, is a twenty-fourth of it), with a team of 20 and no
ticket open. The bot runs in its own process, in Google mode, against the fakes served over HTTP.
Peak memory is the process's high-water mark (VmHWM), read from /proc while it runs: the bench's
sampler in the bot starts only once it is up.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote

from rcabot.state_tabs import MANAGER_HEADER, POINTER_HEADER, TICKET_HEADER, TRACKER_HEADER, iso
from rcabot.status_tab import STATUS_HEADER

from .fakegoogle import ServedGoogle, fake_google
from .process import BotProcess
from .report import NO_TARGET, Metric, Target, metric

SPAN = timedelta(days=730)
TEAM = 20
CONFIG = {"TicketTimeout": 300, "ManagerDNDTime": 3600, "TimeForDataFlush": 10, "NumberOfItemsInBatch": 50,
          "TimeForManagerDataReload": 300}
# Issue 14's targets, set for a Tracker of 1,000,000 rows.
STARTUP_TARGET_S, RSS_TARGET_MB, TARGET_ROWS = 3.0, 150.0, 1_000_000


SIZES = (10_000, 100_000, 1_000_000)  # rows, side by side


def run(sizes: tuple[int, ...], latency: float, home: Path) -> tuple[list[Metric], dict]:
    metrics: list[Metric] = []
    details: dict = {}
    for rows in sizes:
        found = details[str(rows)] = _start(rows, latency, home / str(rows))
        label = f"start-up on a Tracker of {rows:,} rows"
        judged = rows >= TARGET_ROWS  # the targets say nothing of a smaller Tracker
        key = f"tracker_{rows}"
        metrics += [
            metric(f"{key}_startup_s", f"{label} (to /healthz 200)", found["startup_s"], "s",
                   Target("<", STARTUP_TARGET_S) if judged else NO_TARGET),
            metric(f"{key}_peak_rss_mb", f"{label}: peak resident memory", found["peak_rss_mb"], "MB",
                   Target("<", RSS_TARGET_MB) if judged else NO_TARGET),
            metric(f"{key}_cells_read", f"{label}: Tracker cells read", found["tracker_cells_read"]),
            metric(f"{key}_sheets_requests", f"{label}: Sheets requests before /healthz", found["sheets_calls"]),
            metric(f"{key}_fake_work_s", f"{label}: the fake Sheets' own work in it", found["fake_work_s"], "s"),
        ]
    return metrics, details


def _start(rows: int, latency: float, home: Path) -> dict:
    fake = fake_google(TEAM, CONFIG, latency)
    now = datetime.now(timezone.utc)
    # Six columns: a grid of 26 would pass the 10 million cells a spreadsheet holds at 400,000 rows.
    fake.sheets.add_tab("Tracker", tracker(rows, now), col_count=len(TRACKER_HEADER))
    # Every tab a running deployment has: a restart, not a first start (which makes BotStatus).
    for tab, header in (("StateManagement", POINTER_HEADER), ("TicketState", TICKET_HEADER),
                        ("ManagerState", MANAGER_HEADER), ("BotStatus", STATUS_HEADER)):
        fake.sheets.add_tab(tab, [header])
    served = _timed(fake.sheets)
    google = ServedGoogle(fake)
    bot = BotProcess(google, home)
    try:
        startup = bot.start()
        peak = _peak_rss_mb(bot.process.pid)
        kept = bot.stats()
    finally:
        bot.stop()
        google.close()
    reads = [call for call in fake.sheets.reads() if "Tracker" in _ranges(call)]
    # The fake's own work, beyond the latency it plays: scanning and copying a tab of millions of
    # cells on the benchmark's cores, which Google does on its own.
    during = [seconds for at, seconds in served if at < startup]
    return {"rows": rows, "startup_s": startup, "peak_rss_mb": peak, "boot_s": kept["boot_seconds"],
            "fake_work_s": sum(during) - latency * len(during), "sheets_calls": len(during),
            "tracker_reads": len(reads), "tracker_cells_read": sum(_cells(call, "Tracker") for call in reads),
            "tracker_cells": rows * len(TRACKER_HEADER)}


def _timed(sheets) -> list[tuple[float, float]]:
    """(when, seconds) of each request the fake Sheets serves, from the first."""
    served: list[tuple[float, float]] = []
    handle, began = sheets.handle, time.monotonic()

    def timed(request):
        start = time.monotonic()
        try:
            return handle(request)
        finally:
            served.append((start - began, time.monotonic() - start))
    sheets.handle = timed
    return served


def tracker(rows: int, now: datetime) -> list[list[str]]:
    """`rows` Tracker rows, the last one a minute ago, the first two years before."""
    step = SPAN / max(rows, 1)
    first = now - timedelta(minutes=1) - step * (rows - 1)
    return [list(TRACKER_HEADER)] + [
        [iso(first + step * n), f"RCA-{n}", f"Manager {n % TEAM:05d}", "Accepted", f"users/{2_000_000 + n % TEAM}", ""]
        for n in range(rows)]


def _ranges(call) -> str:
    return " ".join(call.query.get("ranges", [])) + unquote(call.path)


def _cells(call, tab: str) -> int:
    """The cells `call` returned from ranges of `tab`."""
    answers = call.response.get("valueRanges", [call.response])
    return sum(len(row) for answer in answers if f"'{tab}'" in answer.get("range", "") or tab in answer.get("range", "")
               for row in answer.get("values", []))


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0
