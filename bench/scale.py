"""Per-event cost against the number of open tickets (issue 14, item 1): the same events timed with
1,000, 10,000 and 100,000 tickets open, side by side.

For each size, TicketState is seeded as a real backlog has it: a team of TEAM managers each holding
one ping (its card in the space), every other ticket waiting. The bot is started on it in its own
process (bench.child) as production runs it: served by waitress with rcabot/serve.py's settings,
the real scheduler running the flush (every FLUSH_S seconds, and sooner when NumberOfItemsInBatch
Tracker rows wait: about every 2 s at the small sizes' pace), the deliveries and the reloads, the
fake Google answering each call after `latency` seconds, with Google's quotas.

After a warm-up, the client sends rounds of: a ticket start (POST /tickets; the ticket waits, as
every manager holds a ping), an Accept of one pinged ticket and a Decline of another. ManagerDNDTime
is 0, so each click frees its manager, who is at once given the oldest waiting ticket. The client
knows which one (the bot gives them in TicketState's order, a decliner last) and asks for it with
GET /tickets/<id> (not timed) for its attempt number. Times are CLIENT-SIDE: from sending the
request to its whole response, in this process. The rounds are spread over at least `window`
seconds, so that several flushes run while clicks are timed; they stop after `budget` seconds
whatever is left (a slow bot at 100,000 would take long for its full count).

In the child, each flush's work under the bot's lock (`RcaBot._flush_snapshot`) is timed. The fake
Google runs in a process of its own (parsing a flush's 25 MB of JSON in this one would stall the
timing client); it counts the 429s it answered and the body bytes of the Sheets writes
(values.batchUpdate, what a flush sends).
"""
from __future__ import annotations

import bisect
import multiprocessing
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

from rcabot.state_tabs import MANAGER_HEADER, POINTER_HEADER, TICKET_HEADER, TRACKER_HEADER, iso
from tests.fakes.google import SPACE
from tests.fakes.tokens import GoogleCerts

from .fakegoogle import ServedGoogle, fake_google, manager_id
from .process import SKIPPED, BotProcess, Clients
from .report import Metric, Target, metric, percentile

TEAM = 50
FLUSH_S = 5  # TimeForDataFlush: a flush every 5 s, several while the clicks are timed
CONFIG = {"TicketTimeout": 3600, "ManagerDNDTime": 0, "TimeForDataFlush": FLUSH_S, "NumberOfItemsInBatch": 50,
          "TimeForManagerDataReload": 300}
WARM_UP = 5  # rounds before the timings are reset
TARGET_MS = 20.0
SIZES = (1_000, 10_000, 100_000)
ROUNDS = 200  # timed rounds (a start, an Accept, a Decline) at each size
WINDOW_S = 3.2 * FLUSH_S  # the rounds are spread over at least this long ...
BUDGET_S = 60.0  # ... and stop after this long, however many are left
WRITE_PATH = "/values:batchUpdate"


def run(sizes: tuple[int, ...], latency: float, home: Path, rounds: int = ROUNDS, window: float = WINDOW_S,
        budget: float = BUDGET_S) -> tuple[list[Metric], dict]:
    metrics: list[Metric] = []
    details: dict = {"config": CONFIG, "team": TEAM, "latency_s": latency, "window_s": window, "budget_s": budget,
                     "rounds_asked": rounds, "server": "waitress (rcabot/serve.py)"}
    largest = max(sizes)
    for count in sizes:
        found = _size(count, latency, home / f"open-{count}", rounds, window, budget)
        details[str(count)] = found
        metrics += _metrics(count, found, judged=count == largest)
    return metrics, details


def _metrics(count: int, found: dict, judged: bool) -> list[Metric]:
    at = f"{count:,} open"
    target = Target("<", TARGET_MS) if judged else Target("")
    out = []
    for kind, label in (("start", "ticket start"), ("accept", "Accept"), ("decline", "Decline")):
        values = found["client_ms"][kind]
        out += [metric(f"scale_{count}_{kind}_p50_ms", f"{at}: {label}, client-side p50", percentile(values, 50), "ms"),
                metric(f"scale_{count}_{kind}_p99_ms", f"{at}: {label}, client-side p99", percentile(values, 99), "ms",
                       target)]
    flush = found["flush_ms"]
    out += [metric(f"scale_{count}_flush_p50_ms", f"{at}: flush under the bot's lock p50", percentile(flush, 50), "ms"),
            metric(f"scale_{count}_flush_p99_ms", f"{at}: flush under the bot's lock p99", percentile(flush, 99), "ms",
                   target),
            metric(f"scale_{count}_flush_max_ms", f"{at}: flush under the bot's lock max", max(flush, default=0.0),
                   "ms"),
            metric(f"scale_{count}_sheets_mb_per_write", f"{at}: Sheets bytes per flush write (mean)",
                   found["sheets_write_mb_mean"], "MB"),
            metric(f"scale_{count}_startup_s", f"{at}: start-up (to /healthz 200)", found["startup_s"], "s"),
            metric(f"scale_{count}_429", f"{at}: 429 answers seen (Sheets + Chat)", found["http_429"], "",
                   Target("==", 0))]
    return out


class CountingGoogle(ServedGoogle):
    """The served fakes, noting the body size of each Sheets write (from Content-Length: no copy),
    and forgetting the parsed body the fake keeps of each write (25 MB a flush at 100,000 open)."""

    def __init__(self, fake, certs: GoogleCerts):
        super().__init__(fake, certs)
        self.write_bytes: list[tuple[float, int]] = []  # (monotonic, bytes)
        inner, calls, seen = self._server.app, fake.sheets.calls, [0]

        def app(environ, start_response):
            if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").endswith(WRITE_PATH):
                self.write_bytes.append((time.monotonic(), int(environ.get("CONTENT_LENGTH") or 0)))
            try:
                return inner(environ, start_response)
            finally:
                for call in calls[seen[0]:]:
                    if call.write:
                        call.body = None
                seen[0] = max(seen[0], len(calls) - 8)  # a few back: concurrent calls may still be appending

        self._server.app = app


class ForkedGoogle:
    """A CountingGoogle in a process of its own (forked: it takes `certs` along). In this process,
    its parsing of each flush's JSON (25 MB at 100,000 open) would hold the interpreter lock the
    timing client needs, and the client's timings would show the fake's work, not the bot's."""

    def __init__(self, count: int, team: int, latency: float):
        self.certs = GoogleCerts()
        self.certs.published()  # its key made here, before the fork: both processes must have the same
        context = multiprocessing.get_context("fork")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=_serve_fake, args=(count, team, latency, self.certs, theirs),
                                        name="scale-fake-google", daemon=True)
        self._process.start()
        self.base, spreadsheet_id, self.seeded_s = self._pipe.recv()
        self.fake = SimpleNamespace(sheets=SimpleNamespace(spreadsheet_id=spreadsheet_id))

    bot_env = ServedGoogle.bot_env  # needs only .fake.sheets.spreadsheet_id and .base

    def counts(self) -> dict:
        self._pipe.send("counts")
        return self._pipe.recv()

    def close(self) -> None:
        try:
            self._pipe.send("close")
            self._pipe.recv()
        except (BrokenPipeError, EOFError):
            pass
        self._process.join(30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)


def _serve_fake(count: int, team: int, latency: float, certs: GoogleCerts, pipe) -> None:
    began = time.monotonic()
    fake = fake_google(team, CONFIG, latency)
    for tab, rows in tabs(count, team, datetime.now(timezone.utc)).items():
        fake.sheets.add_tab(tab, rows)
    google = CountingGoogle(fake, certs)
    pipe.send((google.base, fake.sheets.spreadsheet_id, time.monotonic() - began))
    while (command := pipe.recv()) != "close":
        if command == "counts":
            pipe.send({"sheets_429": fake.sheets.count(status=429), "chat_429": fake.chat.count(status=429),
                       "write_bytes": list(google.write_bytes)})
    google.close()
    pipe.send("closed")


def _size(count: int, latency: float, home: Path, rounds: int, window: float, budget: float) -> dict:
    team = max(1, min(TEAM, count // 2))
    google = ForkedGoogle(count, team, latency)
    bot = BotProcess(google, home, production_server=True, flush_probe=True)
    timings: dict[str, list[float]] = {}
    try:
        startup = bot.start()
        served_by = bot.session.get(f"{bot.url}/healthz", timeout=30).headers.get("Server", "")
        clients = Clients(bot, google.certs, timings)
        backlog = Backlog(count, team)
        for n in range(WARM_UP):
            backlog.round(clients, f"WARM-{n}")
        bot.reset()
        timings.clear()
        window_began = time.monotonic()
        spacing = window / max(1, rounds)
        done = 0
        for n in range(rounds):
            due = window_began + n * spacing
            time.sleep(max(0.0, due - time.monotonic()))
            if time.monotonic() - window_began > budget:
                break
            backlog.round(clients, f"SCALE-{n}")
            done += 1
        # Let the window hold its flushes even when the rounds were quick.
        time.sleep(max(0.0, window_began + window - time.monotonic()))
        window_s = time.monotonic() - window_began
        stats = bot.stats()
        skipped = bot.log_count(SKIPPED)
        counts = google.counts()
    finally:
        bot.stop()
        google.close()
    writes = [size for at, size in counts["write_bytes"] if at >= window_began]
    client_ms = {kind: [s * 1000 for s in timings.get(kind, [])] for kind in ("start", "accept", "decline")}
    server_ms = {kind: [s * 1000 for s in stats["requests"].get(kind, [])] for kind in ("start", "accept", "decline")}
    flush_ms = [s * 1000 for s in stats["flush_seconds"]]
    return {"count": count, "team": team, "served_by": served_by, "seeded_s": google.seeded_s, "startup_s": startup,
            "boot_s": stats["boot_seconds"], "rounds": done, "window_s": window_s, "client_ms": client_ms,
            "flush_ms": flush_ms, "flushes": len(flush_ms),
            "server_p99_ms": {kind: percentile(v, 99) for kind, v in server_ms.items()},
            "client_max_ms": {kind: max(v, default=0.0) for kind, v in client_ms.items()},
            "sheets_writes_in_window": len(writes), "sheets_write_bytes": writes,
            "sheets_write_mb_mean": sum(writes) / len(writes) / 1e6 if writes else 0.0,
            "http_429": counts["sheets_429"] + counts["chat_429"],
            "sheets_429": counts["sheets_429"], "chat_429": counts["chat_429"],
            "open_at_end": stats["open_tickets"], "outbox_at_end": stats["outbox"], "degraded": stats["degraded"],
            "rss_mb": stats["rss_mb"], "threads": stats["threads"], "skipped_job_runs": skipped}


def tabs(count: int, team: int, now: datetime) -> dict[str, list[list[str]]]:
    """The bot's tabs: `team` tickets pinged (their cards posted), the rest waiting (notice posted)."""
    tickets = [list(TICKET_HEADER)]
    deadline = now + timedelta(seconds=CONFIG["TicketTimeout"])
    # As this bot writes them (Started At filled): a restart, not the first start on the older bot's
    # rows, which lack it and have every row rewritten once, by the first flush.
    started = iso(now - timedelta(minutes=5))
    for n in range(count):
        ticket = [_id(n), f"Ticket {n}", f"https://tickets.example.com/browse/{_id(n)}"]
        if n < team:
            tickets.append(ticket + ["Pinged", f"Manager {n:05d}", manager_id(n), f"{SPACE}/messages/ping{n}",
                                     f"{SPACE}/threads/sc{n}", iso(now), iso(deadline), "1", started])
        else:
            tickets.append(ticket + ["Waiting", "", "", f"{SPACE}/messages/notice{n}", f"{SPACE}/threads/sc{n}",
                                     "", "", "0", started])
    return {"TicketState": tickets, "StateManagement": [POINTER_HEADER], "ManagerState": [MANAGER_HEADER],
            "Tracker": [TRACKER_HEADER]}


def _id(n: int) -> str:
    return f"SC-{n}"


class Backlog:
    """The client's picture of the bot's queue: which tickets are pinged (to whom), and the waiting
    ones in the bot's order (TicketState's: seeded, then started), each with the manager who last
    declined it. A freed manager gets the first waiting ticket they did not decline (a ticket's
    decliner is its last resort)."""

    def __init__(self, count: int, team: int):
        self.order: dict[str, int] = {_id(n): n for n in range(count)}
        self.pinged: list[dict] = []  # ticket views, oldest ping first
        self.waiting: list[tuple[int, str]] = [(n, _id(n)) for n in range(team, count)]
        self.declined_by: dict[str, str] = {}
        self._seeded_pings = [_id(n) for n in range(team)]

    def round(self, clients: Clients, ticket_id: str) -> None:
        if self._seeded_pings:
            self.pinged = [clients.ticket(t) for t in self._seeded_pings]
            self._seeded_pings = []
        started = clients.start(ticket_id)
        self.order[ticket_id] = len(self.order)
        if started["status"] == "Pinged":
            self.pinged.append(started)
        else:
            bisect.insort(self.waiting, (self.order[ticket_id], ticket_id))
        for action in ("accept", "decline"):
            if not self.pinged:
                raise RuntimeError(f"no pinged ticket left to {action}")
            ticket = self.pinged.pop(0)
            clients.click(action, ticket)
            manager = ticket["manager"]["chat_id"]
            if action == "decline":
                self.declined_by[ticket["ticket_id"]] = manager
                bisect.insort(self.waiting, (self.order[ticket["ticket_id"]], ticket["ticket_id"]))
            self._given(clients, manager)

    def _given(self, clients: Clients, manager: str) -> None:
        """Find the ticket the freed `manager` was given, from the front of the queue."""
        if not self.waiting:
            return
        first = next(([w] for w in self.waiting if self.declined_by.get(w[1]) != manager), self.waiting[:1])
        candidates = first + [w for w in self.waiting[:8] if w not in first]
        for entry in candidates:
            view = clients.ticket(entry[1])
            if view.get("status") == "Pinged" and view["manager"]["chat_id"] == manager:
                self.waiting.remove(entry)
                self.pinged.append(view)
                return
        raise RuntimeError(f"{manager} was freed, and none of {[c[1] for c in candidates]} was given to them")
