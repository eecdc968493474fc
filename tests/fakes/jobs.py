"""A scheduler that records timers and runs kicked jobs at once, in the caller's thread.

Tests move a FakeClock and call `fire_due()` to run the timers that fell due, as APScheduler would.
"""
from __future__ import annotations

from datetime import datetime


class RecordingJobs:
    def __init__(self, clock):
        self.clock = clock
        self.bot = None
        self.timers: dict[str, datetime] = {}
        self.kicked: list[str] = []
        self.retries: list[tuple[str, float]] = []
        self.configured = None

    def bind(self, bot) -> None:
        self.bot = bot

    def start(self) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def set_timer(self, key: str, at: datetime) -> None:
        self.timers[key] = at

    def cancel_timer(self, key: str) -> None:
        self.timers.pop(key, None)

    def kick(self, job: str) -> None:
        self.kicked.append(job)
        getattr(self.bot, job)()

    def retry_later(self, job: str, seconds: float) -> None:
        self.retries.append((job, seconds))

    def configure(self, config) -> None:
        self.configured = config

    def fire_due(self) -> list[str]:
        """Run `tick` once if any timer is due (each timer job runs tick), and drop the due timers."""
        due = sorted(k for k, at in self.timers.items() if at <= self.clock())
        for key in due:
            del self.timers[key]
        if due:
            self.bot.tick()
        return due
