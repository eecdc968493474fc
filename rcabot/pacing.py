"""Outgoing writes paced to Google's per-minute quotas, instead of fired and retried on 429.

Chat allows 60 message writes a minute per space; Sheets 60 write requests a minute per user
(the service account). A sliding window is stricter than Google's per-minute buckets, so staying
inside it stays inside theirs. The bot counts a call when it sends it and Google when it arrives:
the window is a second longer than a minute, so that a call slow on its way does not make the
next minute's first one look early (the benchmark saw 429s at 59.98 s without this margin).
"""
from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

CHAT_WRITES_PER_MINUTE = 60
SHEETS_WRITES_PER_MINUTE = 60
WINDOW = timedelta(seconds=61)  # a minute, and a second for the time a call takes to arrive


class Pace:
    def __init__(self, limit: int, window: timedelta = WINDOW):
        self.limit, self.window = limit, window
        self._sent: deque[datetime] = deque()

    def delay(self, now: datetime, calls: int = 1) -> float:
        """Seconds to wait before `calls` more calls fit in the window (0: go now)."""
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        over = len(self._sent) + calls - self.limit
        if over <= 0:
            return 0.0
        return (self._sent[over - 1] + self.window - now).total_seconds()

    def record(self, now: datetime, calls: int = 1) -> None:
        self._sent.extend([now] * calls)
