"""Simulated time, for the scenarios whose real length is set by Google's quotas (500 pings take
Chat more than 8 minutes at 60 posts a minute) or by the bot's timers (a 5-minute ping timeout).

The bot runs in this process in Google mode, its real gspread and googleapiclient clients reaching
the fakes through `responses` and an httplib2 stand-in, and everything reads one fake clock that
jumps from one due thing to the next: the bot (`CLOCK`), the 60-a-minute pacing in
rcabot/pacing.py, the fakes' per-minute quota windows and call logs, and the Google workbook's
backoff. Google's latency advances it too (the fakes' `sleep`), and so does the way there: a
request reaches the fake 0 to 10 % of the latency after the bot decided to send it (seeded
jitter), as a real request needs a moment, never the same, to be encoded and carried.

`SimJobs` stands in for APScheduler (rcabot/jobs.py) with the same rules: `deliver` every 60 s,
`flush` every TimeForDataFlush, `reload` every TimeForManagerDataReload; a kick makes a job due
now and a retry due later (APScheduler's modify_job); after a run the next one is an interval
later; a timer runs `tick` at its time. Jobs run one at a time here, where APScheduler would
overlap a delivery with a flush: times until something is done come out a little long.
"""
from __future__ import annotations

import heapq
import itertools
import json
import os
import random
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

import responses

import rcabot.workbook.google as google_workbook
from rcabot.config import Config
from rcabot.jobs import SAFETY_NET_SECONDS
from rcabot.web import create_app
from tests.fakes.clock import FakeClock
from tests.fakes.google import CHAT, SHEETS, FakeGoogle, service_account_info
from tests.fakes.tokens import PROJECT_NUMBER, GoogleCerts, project_number_claims
from tests.fakes.transport import HttplibFake

from .fakegoogle import API_TOKEN, fake_google
from .process import click_event


class SimJobs:
    def __init__(self, clock: FakeClock):
        self.clock = clock
        self.bot = None
        self.every: dict[str, float] = {}
        self.due: dict[str, datetime] = {}  # interval job -> its next run
        self.timers: dict[str, datetime] = {}
        self._actions: list[tuple[datetime, int, Callable[[], None]]] = []
        self._order = itertools.count()

    # --- what the bot asks of a scheduler (rcabot.bot.Jobs) --------------------------------

    def bind(self, bot) -> None:
        self.bot = bot
        self.every = {"deliver": SAFETY_NET_SECONDS, "flush": bot.config.flush_seconds,
                      "reload": bot.config.reload_seconds}
        self.due = {job: self.clock() + timedelta(seconds=s) for job, s in self.every.items()}

    def start(self) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def set_timer(self, key: str, at: datetime) -> None:
        self.timers[key] = at

    def cancel_timer(self, key: str) -> None:
        self.timers.pop(key, None)

    def kick(self, job: str) -> None:
        self.retry_later(job, 0)

    def retry_later(self, job: str, seconds: float) -> None:
        self.due[job] = self.clock() + timedelta(seconds=seconds)

    def configure(self, config: Config) -> None:
        for job, seconds in (("flush", config.flush_seconds), ("reload", config.reload_seconds)):
            if self.every.get(job) != seconds:
                self.every[job] = seconds
                self.due[job] = self.clock() + timedelta(seconds=seconds)

    # --- the simulation ---------------------------------------------------------------------

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        """Run `action` (a person's click, a new ticket) at `when`."""
        heapq.heappush(self._actions, (when, next(self._order), action))

    def run(self, done: Callable[[], bool], watch: Callable[[], None], limit: timedelta) -> None:
        """Run what falls due, in time order, until `done()`; `watch()` after each step."""
        end = self.clock() + limit
        while not done():
            when, run = self._next()
            if when > end:
                raise RuntimeError(f"the simulation did not finish within {limit}")
            self.clock.now = max(self.clock.now, when)
            run()
            watch()

    def _next(self) -> tuple[datetime, Callable[[], None]]:
        job = min(self.due, key=self.due.get)
        candidates = [(self.due[job], lambda: self._run_job(job))]
        if self.timers:
            key = min(self.timers, key=self.timers.get)
            candidates.append((self.timers[key], lambda: self._run_timer(key)))
        if self._actions:
            candidates.append((self._actions[0][0], lambda: heapq.heappop(self._actions)[2]()))
        return min(candidates, key=lambda c: c[0])

    def _run_job(self, job: str) -> None:
        self.due[job] = self.clock() + timedelta(seconds=self.every[job])
        getattr(self.bot, job)()

    def _run_timer(self, key: str) -> None:
        del self.timers[key]
        self.bot.tick()


class Sim:
    """The bot on simulated time, and its clients: the ticket system and the managers."""

    def __init__(self, app, fake, certs: GoogleCerts, jobs: SimJobs, clock: FakeClock):
        self.app, self.fake, self.certs, self.jobs, self.clock = app, fake, certs, jobs, clock
        self.bot = app.extensions["rcabot"]
        self.client = app.test_client()

    def start_ticket(self, ticket_id: str) -> None:
        answer = self.client.post("/tickets", json={"ticket_id": ticket_id, "title": "Checkout latency"},
                                  headers={"Authorization": f"Bearer {API_TOKEN}"})
        if answer.status_code != 202:
            raise RuntimeError(f"POST /tickets answered {answer.status_code}: {answer.get_data(as_text=True)}")

    def click(self, action: str, ticket_id: str, attempt: int, user: str, message: str) -> dict:
        event = click_event(action, ticket_id, attempt, user, message)
        answer = self.client.post("/chat/events", json=event,
                                  headers={"Authorization": self.certs.bearer(project_number_claims()),
                                           "X-Bench-Kind": action})
        if answer.status_code != 200:
            raise RuntimeError(f"{action} answered {answer.status_code}: {answer.get_data(as_text=True)}")
        return answer.get_json()


@contextmanager
def simulated_bot(managers: int, config: dict, latency: float, home: Path,
                  tabs: dict[str, list[list[str]]] | None = None) -> Iterator[Sim]:
    """The bot on a team of `managers`, with the bot's own `tabs` as a previous run left them."""
    clock = FakeClock()
    fake = fake_google(managers, config, latency, clock=clock, sleep=clock.advance)
    for title, rows in (tabs or {}).items():
        fake.sheets.add_tab(title, rows)
    certs, jobs = GoogleCerts(), SimJobs(clock)
    _on_the_way(fake, clock, latency / 10)
    env = {"RCABOT_BACKEND": "google", "RCABOT_SPREADSHEET_ID": fake.sheets.spreadsheet_id,
           "RCABOT_SERVICE_ACCOUNT_JSON": json.dumps(service_account_info()), "RCABOT_CHAT_AUDIENCE": PROJECT_NUMBER,
           "RCABOT_API_TOKEN": API_TOKEN, "RCABOT_JOURNAL_DIR": str(home / "journal")}
    with _environment(env), _backoff_on(clock), responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        certs.install(rsps)
        app = create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": _Uncopied(fake.router)})
        try:
            yield Sim(app, fake, certs, jobs, clock)
        finally:
            app.extensions["rcabot"].journal.close()


def _on_the_way(fake: FakeGoogle, clock: FakeClock, most: float, seed: int = 1) -> None:
    """Each Sheets and Chat request arrives up to `most` seconds after it was sent."""
    jitter = random.Random(seed)

    def delayed(handle):
        def arrive(request):
            clock.advance(jitter.uniform(0, most))
            return handle(request)
        return arrive

    for base in (SHEETS, CHAT):
        fake.router.routes[base] = delayed(fake.router.routes[base])


class _Uncopied(HttplibFake):
    """google-auth deep-copies the transport before each Chat call, to look up the service account's
    "regional access boundary" in a thread; a copy of this one would walk every message the fake
    holds (and then fail on its lock), so the run would slow down as the space fills. It refuses
    at once, and google-auth skips the lookup as it did."""

    def __deepcopy__(self, memo):
        raise TypeError("the fake Google's transport is not copied")


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in [*values, "GOOGLE_APPLICATION_CREDENTIALS"]}
    os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _backoff_on(clock: FakeClock) -> Iterator[None]:
    """The Google workbook's retry waits pass on the simulated clock (its documented seam)."""
    real = google_workbook.pause
    google_workbook.pause = clock.advance
    try:
        yield
    finally:
        google_workbook.pause = real
