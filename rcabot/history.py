"""What happened lately, from the Tracker: per-manager numbers for `stats`, the digest and the
load-balancing rotation. Plain data with the time passed in; no I/O.

The bot loads the Tracker's rows of the last `KEEP` at start-up (read back from the Tracker's end,
never the whole of it) and adds each new row as it is made, so every answer comes from memory. Rows
older than `KEEP` are let go.
"""
from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from .model import Track

KEEP = timedelta(days=31)


@dataclass(frozen=True)
class Event:
    at: datetime
    ticket_id: str
    status: Track
    manager_id: str = ""
    manager_name: str = ""


@dataclass
class ManagerStats:
    manager_id: str
    name: str = ""
    pinged: int = 0
    accepted: int = 0
    declined: int = 0
    timed_out: int = 0
    completed: int = 0
    seconds_to_accept: list[float] | None = None

    @property
    def median_seconds_to_accept(self) -> float | None:
        return statistics.median(self.seconds_to_accept) if self.seconds_to_accept else None


class History:
    def __init__(self, events: Iterable[Event] = ()) -> None:
        self._events: deque[Event] = deque()
        for event in sorted(events, key=lambda e: e.at):
            self.add(event)

    def __len__(self) -> int:
        return len(self._events)

    def add(self, event: Event) -> None:
        self._events.append(event)
        while self._events and self._events[0].at < event.at - KEEP:
            self._events.popleft()

    def since(self, moment: datetime) -> list[Event]:
        return [e for e in self._events if e.at >= moment]

    def stats(self, since: datetime) -> dict[str, ManagerStats]:
        """Per manager (by Chat id), what their pings came to since `since`."""
        out: dict[str, ManagerStats] = {}
        pinged_at: dict[tuple[str, str], datetime] = {}
        for e in self.since(since):
            if not e.manager_id:
                continue
            row = out.setdefault(e.manager_id, ManagerStats(e.manager_id, e.manager_name, seconds_to_accept=[]))
            row.name = e.manager_name or row.name
            if e.status is Track.PINGED:
                row.pinged += 1
                pinged_at[(e.ticket_id, e.manager_id)] = e.at
            elif e.status is Track.ACCEPTED:
                row.accepted += 1
                asked = pinged_at.pop((e.ticket_id, e.manager_id), None)
                if asked is not None:
                    row.seconds_to_accept.append((e.at - asked).total_seconds())
            elif e.status is Track.DECLINED:
                row.declined += 1
            elif e.status is Track.TIMED_OUT:
                row.timed_out += 1
            elif e.status is Track.COMPLETED:
                row.completed += 1
        return out

    def accepted_counts(self, since: datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in self.since(since):
            if e.status is Track.ACCEPTED:
                counts[e.manager_id] = counts.get(e.manager_id, 0) + 1
        return counts
