"""The Tracker rows waiting for the next flush, which writes them with the state tabs.

A row leaves the buffer only once the workbook has taken it, so a failed flush loses nothing:
the same rows, in the same order, go with the next one.
"""
from __future__ import annotations

from collections import deque
from typing import Sequence

from .cycle import Tracked
from .state_tabs import iso


def tracker_row(event: Tracked) -> list[str]:
    return [iso(event.at), event.ticket_id, event.manager_name, event.status.value, event.manager_id, event.detail]


class TrackerBuffer:
    def __init__(self) -> None:
        self._rows: deque[list[str]] = deque()

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, events: Sequence[Tracked]) -> None:
        self._rows.extend(tracker_row(e) for e in events)

    def add_rows(self, rows: Sequence[Sequence[str]]) -> None:
        """Rows the journal kept from before a restart."""
        self._rows.extend(list(row) for row in rows)

    def waiting(self) -> list[list[str]]:
        """The rows waiting, oldest first (they stay until `written`)."""
        return list(self._rows)

    def written(self, count: int) -> None:
        """The workbook took the first `count` rows: they leave the buffer."""
        for _ in range(count):
            self._rows.popleft()
