"""Server-side latency of a ticket start, an Accept and a Decline.

The bot runs in its own process (bench.child) against the fakes served over HTTP, every Sheets
and Chat call answering after `latency` seconds. One client drives whole cycles, one after the
other: start a ticket, its manager declines, the next one accepts, then Done. The time measured
is the time inside the Flask app (a WSGI timer in the bot's process); the Google calls those
events cause run meanwhile in the bot's background jobs, so they load the process but are not
waited for.

Clicks come as soon as the ping is decided, not once its card is in the space: at 60 Chat posts a
minute, waiting for each card would take 1,000 cycles half an hour. The click's server-side work
is the same either way (the card is not read); undelivered pings of declined or accepted tickets
are dropped from the outbox instead of posted late.
"""
from __future__ import annotations

import base64
import socket
from pathlib import Path

from .fakegoogle import ServedGoogle, fake_google, refused_gaps
from .process import SKIPPED, BotProcess, Clients
from .report import Metric, Target, metric, percentile

TEAM = 20
WARM_UP = 20
CLICK_TARGET_MS = 20.0
# Production's defaults, except DND: a team of 20 takes 1,000 tickets in a few seconds only if a
# manager is free again right after answering (with an hour of DND it would take 2,000 managers).
CONFIG = {"TicketTimeout": 300, "ManagerDNDTime": 0, "TimeForDataFlush": 10, "NumberOfItemsInBatch": 50,
          "TimeForManagerDataReload": 300}


def run(cycles: int, latency: float, home: Path, dead_webhook: bool = False) -> tuple[list[Metric], dict]:
    """`dead_webhook`: the Configuration names a WebhookURL that accepts connections and never
    answers (every send waits out its timeout, and the outgoing backlog grows): the clicks must not
    notice. Its metrics are named `dead_webhook_...`."""
    hole = BlackHole() if dead_webhook else None
    config = {**CONFIG, "WebhookURL": hole.url} if hole else CONFIG
    fake = fake_google(TEAM, config, latency)
    google = ServedGoogle(fake)
    # Served as in production (waitress, as serve.py sets it up), timed both inside the app and
    # by the clients, from sending a request to the last byte of its answer.
    bot = BotProcess(google, home, env={"RCABOT_WEBHOOK_SECRET": WEBHOOK_SECRET} if hole else None,
                     production_server=True)
    client_seconds: dict[str, list[float]] = {}
    try:
        bot.start()
        clients = Clients(bot, google.certs, client_seconds)
        for n in range(min(WARM_UP, cycles)):
            _cycle(clients, f"WARM-{n}")
        bot.reset()
        client_seconds.clear()
        calls_before = len(fake.sheets.calls), len(fake.chat.calls)
        for n in range(cycles):
            _cycle(clients, f"LAT-{n}")
        stats = bot.stats()
        skipped = bot.log_count(SKIPPED)
        outgoing = bot.status().get("outgoing", {}) if hole else {}
    finally:
        bot.stop()
        google.close()
        if hole:
            hole.close()
    timings = {kind: [s * 1000 for s in values] for kind, values in stats["requests"].items()}
    client = {kind: [s * 1000 for s in values] for kind, values in client_seconds.items()}
    metrics = []
    prefix, aside = ("dead_webhook_", " (a WebhookURL that never answers)") if hole else ("", "")
    for kind, label in (("start", "ticket start"), ("accept", "Accept"), ("decline", "Decline")):
        target = Target("<", CLICK_TARGET_MS) if kind != "start" else Target("")
        if hole and kind != "accept":
            continue  # one figure says it: the click with the busiest outgoing work
        metrics += [metric(f"{prefix}{kind}_p50_ms", f"{label}: server-side p50{aside}",
                           percentile(timings.get(kind, []), 50), "ms"),
                    metric(f"{prefix}{kind}_p99_ms", f"{label}: server-side p99{aside}",
                           percentile(timings.get(kind, []), 99), "ms", target),
                    metric(f"{prefix}{kind}_client_p99_ms", f"{label}: client-side p99{aside}",
                           percentile(client.get(kind, []), 99), "ms", target)]
    details = {"cycles": cycles, "team": TEAM, "config": CONFIG, "latency_s": latency,
               "samples": {kind: len(values) for kind, values in timings.items()},
               "max_ms": {kind: max(values, default=0) for kind, values in timings.items()},
               "done_p99_ms": percentile(timings.get("done", []), 99),
               "google_calls_during_run": {"sheets": len(fake.sheets.calls) - calls_before[0],
                                           "chat": len(fake.chat.calls) - calls_before[1]},
               "http_429": fake.sheets.count(status=429) + fake.chat.count(status=429),
               "refused_after_s": {"sheets": refused_gaps(fake.sheets.writes()),
                                   "chat": refused_gaps(fake.chat.writes())},
               "outgoing": outgoing,  # with the dead WebhookURL: its backlog and last error, proof it was tried
               "skipped_job_runs": skipped, "bot_rss_mb": stats["rss_mb"], "bot_threads": stats["threads"]}
    return metrics, details


WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"bench-placeholder-not-a-secret").decode()


class BlackHole:
    """A TCP endpoint that takes connections and never answers: a receiver that hangs."""

    def __init__(self):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(1024)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/rca-events"

    def close(self) -> None:
        self._socket.close()


def _cycle(clients: Clients, ticket_id: str) -> None:
    ticket = clients.start(ticket_id)
    if ticket["status"] != "Pinged":
        raise RuntimeError(f"{ticket_id} was not pinged at once: {ticket}")
    clients.click("decline", ticket)
    ticket = clients.ticket(ticket_id)
    clients.click("accept", ticket)
    clients.click("done", ticket)
