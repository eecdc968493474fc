"""Many tickets in the cycle at once: resident memory, threads, how late timeouts fire, and how long
a start-up takes with them all in TicketState.

TicketState is seeded with `count` pinged tickets whose cards are in the space, one per manager
(the bot lets a manager hold one ping at a time, so 10,000 open pings take 10,000 managers), and
the bot is started on it, in its own process, with the real scheduler and the real clock. Their
deadlines fall one after the other, RATE a second, starting LEAD seconds after the seeding; the
timeouts of the first OBSERVE seconds are watched (the rest stay armed: every ticket is in the
cycle throughout). RATE is about 17 times what the Chat quota allows in steady state: a ping's
timeout runs from its delivery, and the bot delivers 60 pings a minute at most.

The same is done with a tenth of the tickets, so that threads and memory can be compared.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rcabot.state_tabs import MANAGER_HEADER, POINTER_HEADER, TICKET_HEADER, TRACKER_HEADER, iso
from tests.fakes.google import SPACE

from .fakegoogle import ServedGoogle, fake_google, manager_id, refused_gaps
from .process import SKIPPED, BotProcess
from .report import Metric, Target, metric, percentile

RATE = 1000 / 60  # deadlines a second
OBSERVE = 60.0  # seconds of timeouts watched
TIMEOUT = 300  # TicketTimeout: pings re-posted after a timeout do not lapse again while we watch
CONFIG = {"TicketTimeout": TIMEOUT, "ManagerDNDTime": 3600, "TimeForDataFlush": 10, "NumberOfItemsInBatch": 50,
          "TimeForManagerDataReload": 300}
RSS_TARGET_MB, LATE_TARGET_S, STARTUP_TARGET_S = 200.0, 1.0, 5.0
# The threads a bot process has whatever it holds: main, APScheduler's own, the 10 workers of its
# default executor (rcabot/jobs.py keeps BackgroundScheduler's defaults), the HTTP server's thread for
# the request being served, and the benchmark's sampler. A thread per ticket would show far above it.
THREAD_CAP = 1 + 1 + 10 + 1 + 1


def run(count: int, latency: float, home: Path) -> tuple[list[Metric], dict]:
    small = _load(max(1, count // 10), latency, home / "small")
    large = _load(count, latency, home / "large")
    late = large["lateness_s"]
    metrics = [
        metric("open_rss_mb", f"{count:,} open tickets: resident memory (max)", large["rss_mb"], "MB",
               Target("<", RSS_TARGET_MB)),
        metric("open_threads_small", f"{small['count']:,} open tickets: threads (max)", small["threads"]),
        metric("open_threads", f"{count:,} open tickets: threads (max)", large["threads"], "",
               Target("<=", THREAD_CAP, f"<= {THREAD_CAP}, whatever the tickets")),
        metric("timeout_late_p50_ms", f"{count:,} open tickets: timeout lateness p50", percentile(late, 50) * 1000,
               "ms"),
        metric("timeout_late_p99_ms", f"{count:,} open tickets: timeout lateness p99", percentile(late, 99) * 1000,
               "ms", Target("<", LATE_TARGET_S * 1000)),
        metric("startup_s", f"start-up with {count:,} open tickets (to /healthz 200)", large["startup_s"], "s",
               Target("<", STARTUP_TARGET_S)),
    ]
    per_ticket = (large["rss_mb"] - small["rss_mb"]) * 1024 / max(1, count - small["count"])
    return metrics, {"small": _summary(small), "large": _summary(large), "rate_per_s": RATE,
                     "observe_s": OBSERVE, "config": CONFIG, "rss_kb_per_open_ticket": per_ticket}


def _load(count: int, latency: float, home: Path) -> dict:
    fake = fake_google(count, CONFIG, latency)
    lead = 5 + count / 1000  # the start-up should be over before the first deadline
    seeded_at = datetime.now(timezone.utc)
    # A restart of a running deployment: every tab is there already.
    fake.sheets.add_tab("TicketState", ticket_state(count, seeded_at + timedelta(seconds=lead)))
    for tab, header in (("StateManagement", POINTER_HEADER), ("ManagerState", MANAGER_HEADER),
                        ("Tracker", TRACKER_HEADER)):
        fake.sheets.add_tab(tab, [header])
    google = ServedGoogle(fake)
    bot = BotProcess(google, home)
    try:
        startup = bot.start()
        watched = min(count / RATE, OBSERVE)
        end = seeded_at + timedelta(seconds=lead + watched + 2)
        time.sleep(max(0.0, (end - datetime.now(timezone.utc)).total_seconds()))
        stats = bot.stats()
    finally:
        bot.stop()
        google.close()
    window = [rss for _, rss, _ in stats["memory"]]
    return {"count": count, "startup_s": startup, "boot_s": stats["boot_seconds"],
            "ready_s": stats["ready_seconds"], "rss_mb": max(window, default=stats["rss_mb"]),
            "threads": max((t for _, _, t in stats["memory"]), default=stats["threads"]),
            "lateness_s": stats["lateness"], "ticks": len(stats["tick_seconds"]),
            "tick_p99_ms": percentile(stats["tick_seconds"], 99) * 1000, "open_at_end": stats["open_tickets"],
            "outbox_at_end": stats["outbox"], "degraded": stats["degraded"], "lead_s": lead,
            "sheets_writes": len(fake.sheets.writes()), "chat_writes": len(fake.chat.writes()),
            "sheets_429": fake.sheets.count(status=429), "chat_429": fake.chat.count(status=429),
            "refused_after_s": {"sheets": refused_gaps(fake.sheets.writes()),
                                "chat": refused_gaps(fake.chat.writes(SPACE))},
            "thread_names": stats["thread_names"], "skipped_job_runs": bot.log_count(SKIPPED)}


def ticket_state(count: int, first_deadline: datetime) -> list[list[str]]:
    """TicketState with `count` pinged tickets, each card in the space, deadlines RATE a second."""
    rows = [list(TICKET_HEADER)]
    for n in range(count):
        deadline = first_deadline + timedelta(seconds=n / RATE)
        rows.append([f"CAP-{n}", f"Ticket {n}", f"https://tickets.example.com/browse/CAP-{n}", "Pinged",
                     f"Manager {n:05d}", manager_id(n), f"{SPACE}/messages/seed{n}", f"{SPACE}/threads/seed{n}",
                     iso(deadline - timedelta(seconds=TIMEOUT)), _iso_ms(deadline), "1"])
    return rows


def _iso_ms(moment: datetime) -> str:
    # Deadlines a fraction of a second apart: whole seconds would make them fire in bunches.
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _summary(load: dict) -> dict:
    late = load["lateness_s"]
    return {**{k: v for k, v in load.items() if k != "lateness_s"}, "timeouts_seen": len(late),
            "late_p50_s": percentile(late, 50), "late_p99_s": percentile(late, 99),
            "late_max_s": max(late, default=0.0)}
