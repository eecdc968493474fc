"""Delivery: one lane per target, each with its own worker thread, in order, retried with back-off.

The bot records events under its lock (a short append to the store); the network I/O happens
here, in the lane's thread, never under the bot's lock: a hanging receiver delays nothing but
its own lane. Head-of-line: a lane's next event waits for the one before it, so each receiver
sees events in the order they happened. Time comes from the bot's clock, so tests can let a day
pass by calling `pump()` without sleeping.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from . import GiveUp, HookEvent, Target, TryLater
from .store import Store
from .webhook import WebhookTarget

log = logging.getLogger(__name__)
FIRST_RETRY, LONGEST_RETRY = 5.0, 3600.0  # seconds: back-off doubles from 5 s up to 1 h
GIVE_UP_AFTER = timedelta(hours=24)  # an event not delivered a day after it happened is given up
FAILING_LONG = timedelta(minutes=15)  # a lane failing this long is a BotStatus problem
MAX_BACKLOG = 50_000  # events held per target (a few hundred bytes each); past it new ones are given up
IDLE = 60.0  # seconds a worker sleeps with nothing due (a safety net: recording wakes it)


@dataclass(eq=False)
class Lane:
    target: Target
    pending: deque = field(default_factory=deque)
    failures: int = 0
    next_try: datetime | None = None
    failing_since: datetime | None = None
    last_success: datetime | None = None
    last_error: str = ""
    given_up: int = 0
    overflow: int = 0
    removed: bool = False
    wake: threading.Event = field(default_factory=threading.Event)
    busy: threading.Lock = field(default_factory=threading.Lock)  # one sender at a time per lane


class Outgoing:
    def __init__(self, clock: Callable[[], datetime], folder=None, secret: str = "",
                 on_give_up: Callable[[str, HookEvent, str], None] | None = None, max_backlog: int = MAX_BACKLOG):
        self.clock, self.secret, self.max_backlog = clock, secret, max_backlog
        self.on_give_up = on_give_up or (lambda target, event, why: None)
        self.store = Store(folder)
        self._lock = threading.Lock()
        self._lanes: dict[str, Lane] = {}
        self._webhooks: set[str] = set()  # the lanes `follow` made (the rest were added by code)
        self._config_problem = ""
        self._writeback: dict[str, tuple] = {}  # the lanes `follow_writeback` made: name -> what they were made of
        self._writeback_problems: list[str] = []
        self._running = False
        self._stopping = threading.Event()
        # Owed from before a restart: (event, names still to reach), handed to each target as it is added.
        self._open: dict[str, tuple[HookEvent, set[str]]] = {e.id: (e, set(t)) for e, t in self.store.load()}

    # --- targets -------------------------------------------------------------------------

    def follow(self, urls: tuple[str, ...]) -> None:
        """The Configuration's WebhookURL list, at boot and each reload: lanes added and removed."""
        if urls and not self.secret:
            self._config_problem = ("WebhookURL is set but RCABOT_WEBHOOK_SECRET is not: no webhook is sent "
                                    "(receivers refuse unsigned events)")
            urls = ()
        else:
            self._config_problem = ""
        for gone in self._webhooks - set(urls):
            self.remove_target(gone)
        for url in urls:
            if url not in self._webhooks:
                try:
                    target = WebhookTarget(url, self.secret)
                except Exception as exc:  # noqa: BLE001 - a secret the library refuses: said, not a crash
                    self._config_problem = f"RCABOT_WEBHOOK_SECRET cannot sign webhooks ({type(exc).__name__})"
                    continue
                self._webhooks.add(url)
                self.add_target(target)

    def follow_writeback(self, targets: list[Target], problems: list[str]) -> None:
        """The Jira / GitHub write-back the Configuration turns on (outgoing.writeback), at boot and
        each reload: a target turned off is removed, one whose settings changed is made again."""
        self._writeback_problems = list(problems)
        wanted = {target.name: target for target in targets}
        for gone in set(self._writeback) - set(wanted):
            del self._writeback[gone]
            self.remove_target(gone)
        for name, target in wanted.items():
            made_of = (repr(target), getattr(target, "done_label", ""))
            if self._writeback.get(name) != made_of:
                self._writeback[name] = made_of
                self.add_target(target)

    def add_target(self, target: Target) -> None:
        """Register a receiver (a webhook, the Jira or GitHub write-back); it gets every event it
        wants from now on, and what it was owed before a restart."""
        lane = Lane(target)
        with self._lock:
            old = self._lanes.get(target.name)
            if old is not None:
                old.removed = True
                old.wake.set()
            lane.pending.extend(e for e, names in self._open.values() if target.name in names)
            self._lanes[target.name] = lane
        if self._running:
            self._start(lane)

    def remove_target(self, name: str) -> None:
        """A target no longer wanted: what it was owed is given up (marked, so a restart does not revive it)."""
        self._webhooks.discard(name)
        why = "the target was removed from the configuration"
        with self._lock:
            lane = self._lanes.pop(name, None)
            if lane is None:
                return
            lane.removed = True
            lane.wake.set()
            owed = list(lane.pending)
            for event in owed:
                self._settle(event, name, why)
        if owed:
            log.warning("outgoing: %s removed with %d events owed; they are given up", name, len(owed))
        for event in owed:  # outside our lock: it takes the bot's
            self.on_give_up(name, event, why)

    @property
    def active(self) -> bool:
        return bool(self._lanes)

    # --- recording (called under the bot's lock: no network here) ---------------------------

    def record(self, events: list[HookEvent]) -> None:
        """Queue `events` for every target that wants them; on disk (fsynced) before this returns.
        OSError when the store cannot be written (the events are still queued in memory)."""
        if not events or not self._lanes:
            return
        owed = []
        with self._lock:
            for event in events:
                names = set()
                for name, lane in self._lanes.items():
                    if not lane.target.wants(event):
                        continue
                    if len(lane.pending) >= self.max_backlog:
                        lane.overflow += 1  # shown in problems(); memory stays bounded
                        continue
                    lane.pending.append(event)
                    names.add(name)
                if names:
                    self._open[event.id] = (event, names)
                    owed.append((event, sorted(names)))
            for lane in self._lanes.values():
                lane.wake.set()
            self.store.add(owed)

    # --- sending -------------------------------------------------------------------------

    def pump(self) -> None:
        """Send what is due on every lane, in this thread (the tests; the workers do it per lane)."""
        for lane in list(self._lanes.values()):
            self.pump_lane(lane)

    def pump_lane(self, lane: Lane) -> float | None:
        """Send the lane's due events in order until one fails; the seconds until its next try, or
        None when nothing waits."""
        with lane.busy:
            while True:
                with self._lock:
                    if lane.removed or not lane.pending:
                        return None
                    now = self.clock()
                    if lane.next_try is not None and now < lane.next_try:
                        return (lane.next_try - now).total_seconds()
                    event = lane.pending[0]
                failure: Exception | None = None
                try:
                    lane.target.send(event)
                except (TryLater, GiveUp) as exc:
                    failure = exc
                except Exception as exc:  # noqa: BLE001 - a target's own bug: retried, and given up after a day
                    log.exception("outgoing: %s failed unexpectedly on %s", lane.target.name, event.id)
                    failure = TryLater(f"{type(exc).__name__}: {exc}")
                now = self.clock()
                if failure is None:
                    self._sent(lane, event, now)
                    continue
                why = str(failure) or type(failure).__name__
                if isinstance(failure, TryLater) and now - event.at < GIVE_UP_AFTER:
                    return self._retry(lane, why, failure.after, now)
                if isinstance(failure, TryLater):
                    why = f"not delivered within {GIVE_UP_AFTER.total_seconds() / 3600:.0f} h (last: {why})"
                self._give_up(lane, event, why, now)

    def _sent(self, lane: Lane, event: HookEvent, now: datetime) -> None:
        with self._lock:
            if lane.pending and lane.pending[0] is event:
                lane.pending.popleft()
            lane.failures, lane.next_try, lane.failing_since, lane.last_success = 0, None, None, now
            self._settle(event, lane.target.name)
            if self.store.grown(all_done=not self._open):
                self.store.rewrite([(e, sorted(names)) for e, names in self._open.values()])

    def _retry(self, lane: Lane, why: str, after: float | None, now: datetime) -> float:
        with self._lock:
            lane.failures += 1
            delay = after if after is not None else min(FIRST_RETRY * 2 ** (lane.failures - 1), LONGEST_RETRY)
            delay = min(max(delay, 0.0), GIVE_UP_AFTER.total_seconds())
            lane.next_try = now + timedelta(seconds=delay)
            lane.failing_since = lane.failing_since or now
            lane.last_error = why
        log.warning("outgoing: %s: %s; trying again in %.0f s", lane.target.name, why, delay)
        return delay

    def _give_up(self, lane: Lane, event: HookEvent, why: str, now: datetime) -> None:
        with self._lock:
            if lane.pending and lane.pending[0] is event:
                lane.pending.popleft()
            lane.given_up += 1
            lane.last_error = why
            lane.next_try = None  # the next event is tried at once
            self._settle(event, lane.target.name, why)
        log.error("outgoing: %s %s to %s given up: %s", event.type, event.id, lane.target.name, why)
        self.on_give_up(lane.target.name, event, why)  # outside our lock: it takes the bot's

    def _settle(self, event: HookEvent, name: str, why: str | None = None) -> None:
        """The event is done with for `name` (delivered, or given up with `why`). Under self._lock."""
        self.store.mark(event.id, name, why)
        _, names = self._open.get(event.id, (None, set()))
        names.discard(name)
        if not names:
            self._open.pop(event.id, None)

    # --- workers -------------------------------------------------------------------------

    def start(self) -> None:
        """One daemon thread per lane (and per lane added later)."""
        self._running = True
        for lane in list(self._lanes.values()):
            self._start(lane)

    def stop(self) -> None:
        """The workers end after their current send; what they did not send stays in the store."""
        self._running = False
        self._stopping.set()
        for lane in list(self._lanes.values()):
            lane.wake.set()

    def _start(self, lane: Lane) -> None:
        threading.Thread(target=self._work, args=(lane,), name=f"outgoing {lane.target.name}", daemon=True).start()

    def _work(self, lane: Lane) -> None:
        while not self._stopping.is_set() and not lane.removed:
            lane.wake.clear()
            try:
                wait = self.pump_lane(lane)
            except Exception:  # noqa: BLE001 - the worker must outlive any fault
                log.exception("outgoing: the worker of %s failed", lane.target.name)
                wait = IDLE
            lane.wake.wait(IDLE if wait is None else min(max(wait, 0.01), IDLE))

    # --- views ---------------------------------------------------------------------------

    def view(self) -> dict[str, dict]:
        """Per target: last success, backlog, failing since, last error, given up (for /healthz and status)."""
        with self._lock:
            return {name: {"last_success": iso(lane.last_success), "backlog": len(lane.pending),
                           "failing_since": iso(lane.failing_since), "next_try": iso(lane.next_try),
                           "last_error": lane.last_error or None, "given_up": lane.given_up + lane.overflow}
                    for name, lane in self._lanes.items()}

    def problems(self) -> list[str]:
        """BotStatus lines: a target failing for long, or events given up."""
        now, out = self.clock(), ([self._config_problem] if self._config_problem else []) + self._writeback_problems
        with self._lock:
            for name, lane in self._lanes.items():
                if lane.failing_since and now - lane.failing_since >= FAILING_LONG:
                    out.append(f"Outgoing {name} has failed since {lane.failing_since:%Y-%m-%d %H:%M} UTC "
                               f"({lane.last_error}); {len(lane.pending)} events wait")
                if lane.given_up:
                    out.append(f"Outgoing {name}: {lane.given_up} events given up ({lane.last_error})")
                if lane.overflow:
                    out.append(f"Outgoing {name}: {lane.overflow} events given up, over {self.max_backlog} waiting")
        return out


def iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None
