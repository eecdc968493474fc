"""What the people who run the bot watch, in Prometheus's text format.

The event counters and the time-to-accept histogram move with the Tracker events the bot makes
(a dictionary lookup and an increment per event, however many tickets are open). Everything else
is read from memory when Prometheus scrapes: tickets, backlogs, degraded parts and the Google call
counts the adapters keep, so nothing is kept twice and a scrape never calls Google.

Each bot has a registry of its own, not prometheus_client's global one: one process may build
many bots (the tests build an app per test), and a second registration of a name would fail.
Metric names start with `rcabot_`: dashboards and tests outside the repository rely on it.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, ContextManager, Iterator, Mapping

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, disable_created_metrics,
                               generate_latest)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .cycle import Tracked
from .model import Ticket, Track

if TYPE_CHECKING:
    from .bot import RcaBot

# A `_created` series beside every counter only says when the process started (Prometheus sees a
# restart's reset without it) and doubles what each scrape carries. The switch is the library's,
# for the whole process, and the bot's metrics are the only ones in it.
disable_created_metrics()

EVENTS = {
    Track.PINGED: ("rcabot_pings", "Pings made (a manager asked to accept or decline a ticket)"),
    Track.TIMED_OUT: ("rcabot_timeouts", "Pings that lapsed unanswered"),
    Track.DECLINED: ("rcabot_declines", "Pings declined"),
    Track.ACCEPTED: ("rcabot_accepts", "Tickets accepted"),
    Track.COMPLETED: ("rcabot_completions", "Tickets marked Done"),
}
# From a quick accept to a ticket that waited through a shift or a night.
ACCEPT_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)
# Shown at 0 when healthy, so that an alert on `== 1` has a series to watch before anything fails.
KNOWN_PARTS = ("chat", "journal", "scheduler", "workbook")
APIS = ("sheets", "chat")


class GoogleCalls:
    """The requests one Google API was sent, counted by its adapter: all of them, those that failed
    (an error status or no answer), and those Google throttled (429)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the jobs and the request threads call Google side by side
        self.sent = self.failed = self.throttled = 0

    def count(self, status: int) -> None:
        """One request; `status` is its HTTP status, 0 when no answer came (a timeout, no network)."""
        with self._lock:
            self.sent += 1
            self.failed += status == 0 or status >= 400
            self.throttled += status == 429


class Metrics:
    """One bot's metrics."""

    def __init__(self, bot: RcaBot, lock: ContextManager):
        """`lock` is the bot's own: the tickets are copied under it at scrape time."""
        self.registry = CollectorRegistry()
        self._events = {track: Counter(name, text, registry=self.registry) for track, (name, text) in EVENTS.items()}
        self._to_accept = Histogram("rcabot_time_to_accept_seconds", "Seconds from a ticket's start to its accept",
                                    buckets=ACCEPT_BUCKETS, registry=self.registry)
        self.registry.register(_Snapshot(bot, lock))

    def tracked(self, event: Tracked, ticket: Ticket | None) -> None:
        """A Tracker event the bot made; `ticket` is the ticket as it stands after it (None once done)."""
        counter = self._events.get(event.status)
        if counter is not None:
            counter.inc()
        if event.status is Track.ACCEPTED and ticket is not None and ticket.started_at is not None:
            self._to_accept.observe(max((event.at - ticket.started_at).total_seconds(), 0.0))

    def exposition(self) -> tuple[bytes, str]:
        """The scrape's body and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _Snapshot:
    """The gauges and the Google counts, read from the bot at scrape time."""

    def __init__(self, bot: RcaBot, lock: ContextManager):
        self.bot, self.lock = bot, lock

    def collect(self) -> Iterator[Metric]:
        with self.lock:  # only for the copies: a click must not wait while a scrape counts
            tickets = len(self.bot.cycle.state.tickets)
            waiting = self.bot.cycle.index.waiting_count()
            degraded = set(self.bot.degraded_now())
        yield from self._tickets(tickets, waiting)
        yield GaugeMetricFamily("rcabot_outbox_backlog", "Messages waiting to be posted in Chat",
                                value=len(self.bot.outbox))
        yield GaugeMetricFamily("rcabot_flush_backlog", "Tracker rows waiting to be written to the spreadsheet",
                                value=len(self.bot.tracker))
        yield self._degraded(degraded)
        yield from self._google()
        yield from self._outgoing(self.bot.outgoing.view())  # its own lock, not the bot's

    @staticmethod
    def _outgoing(targets: dict[str, dict]) -> Iterator[Metric]:
        backlog = GaugeMetricFamily("rcabot_outgoing_backlog", "Events waiting for an outgoing target (a webhook "
                                    "URL, jira, github)", labels=["target"])
        given_up = GaugeMetricFamily("rcabot_outgoing_given_up", "Events given up for an outgoing target since "
                                     "the start", labels=["target"])
        for name, view in targets.items():
            backlog.add_metric([name], view["backlog"])
            given_up.add_metric([name], view["given_up"])
        yield backlog
        yield given_up

    @staticmethod
    def _tickets(tickets: int, waiting: int) -> Iterator[Metric]:
        yield GaugeMetricFamily("rcabot_open_tickets", "Tickets in the cycle (pinged, waiting or accepted)",
                                value=tickets)
        yield GaugeMetricFamily("rcabot_waiting_tickets", "Tickets waiting for a free manager", value=waiting)

    def _degraded(self, degraded: set[str]) -> Metric:
        family = GaugeMetricFamily("rcabot_degraded", "1 while a part of the bot is degraded (as /healthz says)",
                                   labels=["part"])
        for part in sorted(degraded | set(KNOWN_PARTS)):
            family.add_metric([part], int(part in degraded))
        return family

    def _google(self) -> Iterator[Metric]:
        counts = {api: getattr(adapter, "calls", None) or GoogleCalls()  # local mode: no Google, all 0
                  for api, adapter in zip(APIS, (self.bot.workbook, self.bot.chat))}
        for name, text, field in (("rcabot_google_calls", "Requests sent to Google", "sent"),
                                  ("rcabot_google_errors", "Requests to Google that failed (an error status or "
                                                           "no answer)", "failed"),
                                  ("rcabot_google_throttled", "Requests Google answered 429 (throttled)",
                                   "throttled")):
            family = CounterMetricFamily(name, text, labels=["api"])
            for api, calls in counts.items():
                family.add_metric([api], getattr(calls, field))
            yield family


class TeamLabels:
    """Many teams' bots (a Teams file) as one scrape: each bot's series with a `team` label, the
    families of the same name joined (Prometheus wants a name's series under one HELP and TYPE)."""

    def __init__(self, bots: Mapping[str, RcaBot]):
        self.bots = bots

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for team, bot in self.bots.items():
            for family in bot.metrics.registry.collect():
                joined = families.setdefault(family.name, Metric(family.name, family.documentation, family.type,
                                                                 family.unit))
                for sample in family.samples:
                    joined.add_sample(sample.name, {"team": team, **sample.labels}, sample.value, sample.timestamp,
                                      sample.exemplar)
        yield from families.values()


def teams_exposition(bots: Mapping[str, RcaBot]) -> tuple[bytes, str]:
    """The scrape's body and content type for every team's bot."""
    registry = CollectorRegistry()
    registry.register(TeamLabels(bots))
    return generate_latest(registry), CONTENT_TYPE_LATEST
