"""Outgoing writes paced to Google's quotas, instead of fired and retried on 429.

Chat allows 60 message writes a minute per space (the usage-limits page also states it per second
in some versions: one a second); Sheets 60 write requests a minute per user (the service account).
A sliding window is stricter than Google's per-minute buckets, so staying inside it stays inside
theirs. The bot counts a call when it sends it and Google when it arrives: the window is a second
longer than a minute, so that a call slow on its way does not make the next minute's first one
look early (the benchmark saw 429s at 59.98 s without this margin).

A space's writes are also spaced a second apart: at most one in any second. It costs nothing at
the minute's pace (60 in 61 s); it spreads a burst's first minute instead of sending 60 at once.

One Pace may be shared by bots that flush side by side (many teams share one project's Sheets
quota): `take` checks and counts under a lock, so that two of them never both take the last call.
"""
from __future__ import annotations

import threading
from collections import Counter, deque
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Iterable

CHAT_WRITES_PER_MINUTE = 60
CHAT_PROJECT_WRITES_PER_MINUTE = 3000  # every space's together: many teams' bots share it (bootstrap.build_teams)
SHEETS_WRITES_PER_MINUTE = 60
WINDOW = timedelta(seconds=61)  # a minute, and a second for the time a call takes to arrive
CHAT_SPACING = timedelta(seconds=1)  # between two writes in a space


class Pace:
    def __init__(self, limit: int, window: timedelta = WINDOW, spacing: timedelta = timedelta(0)):
        """At most `limit` calls in any `window`, and `spacing` at least between two calls."""
        self.limit, self.window, self.spacing = limit, window, spacing
        self._sent: deque[datetime] = deque()
        self._last: datetime | None = None
        self._lock = threading.RLock()

    def take(self, now: datetime, calls: int = 1) -> float:
        """Count `calls` if they fit now and return 0; else count nothing and return the seconds to wait."""
        with self._lock:
            wait = self.delay(now, calls)
            if wait <= 0:
                self.record(now, calls)
            return wait

    def delay(self, now: datetime, calls: int = 1) -> float:
        """Seconds to wait before `calls` more calls fit in the window (0: go now)."""
        with self._lock:
            return self._delay(now, calls)

    def _delay(self, now: datetime, calls: int) -> float:
        self._forget(now)
        gap = (self._last + self.spacing - now).total_seconds() if self._last and self.spacing else 0.0
        over = len(self._sent) + calls - self.limit
        full = (self._sent[over - 1] + self.window - now).total_seconds() if over > 0 else 0.0
        return max(gap, full, 0.0)

    def room(self, now: datetime) -> int:
        """How many more calls the window takes now (spacing aside)."""
        with self._lock:
            self._forget(now)
            return max(self.limit - len(self._sent), 0)

    def record(self, now: datetime, calls: int = 1) -> None:
        with self._lock:
            self._sent.extend([now] * calls)
            if calls:
                self._last = now

    def sent(self, now: datetime) -> list[datetime]:
        """The calls still in the window: what a restarted process must count too."""
        with self._lock:
            self._forget(now)
            return list(self._sent)

    def restore(self, times: Iterable[datetime], now: datetime) -> None:
        """Count the calls an earlier process sent (`sent` as it saved it) that are still in the window.
        A call counted already is not counted twice: a pace many teams' bots share is in each one's
        journal, and each restores it (a union, each moment as often as the most that name it)."""
        recent = Counter(t for t in times if now - self.window < t <= now)
        with self._lock:
            self._sent = deque(sorted((Counter(self._sent) | recent).elements()))
            if recent:
                self._last = max(self._last or max(recent), max(recent))

    def _forget(self, now: datetime) -> None:
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()


class Paces:
    """Paces as one: calls go when each has room (a space's own, and the project's all spaces share).
    The same methods as a Pace; its locks are taken in the order given."""

    def __init__(self, *paces: Pace):
        self.paces = paces

    def take(self, now: datetime, calls: int = 1) -> float:
        with ExitStack() as held:
            for pace in self.paces:
                held.enter_context(pace._lock)
            wait = self.delay(now, calls)
            if wait <= 0:
                self.record(now, calls)
            return wait

    def delay(self, now: datetime, calls: int = 1) -> float:
        return max(pace.delay(now, calls) for pace in self.paces)

    def room(self, now: datetime) -> int:
        return min(pace.room(now) for pace in self.paces)

    def record(self, now: datetime, calls: int = 1) -> None:
        for pace in self.paces:
            pace.record(now, calls)

    def sent(self, now: datetime) -> list[datetime]:
        """The first pace's (a space's own): a journal keeps what its bot sent."""
        return self.paces[0].sent(now)

    def restore(self, times: Iterable[datetime], now: datetime) -> None:
        for pace in self.paces:
            pace.restore(times, now)
