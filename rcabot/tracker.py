"""The batched Tracker writer: rows wait in memory and are appended in one request per flush.

A row leaves the buffer only once the workbook has taken it, so a failed flush loses nothing:
the same rows, in the same order, go with the next one.
"""
from __future__ import annotations

import threading
from collections import deque
from typing import Sequence

from .cycle import Tracked
from .state_tabs import iso
from .workbook import Workbook


def tracker_row(event: Tracked) -> list[str]:
    return [iso(event.at), event.ticket_id, event.manager_name, event.status.value, event.manager_id, event.detail]


class TrackerBuffer:
    def __init__(self) -> None:
        self._rows: deque[list[str]] = deque()
        self._lock = threading.Lock()  # one flush at a time, so rows go out once and in order

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, events: Sequence[Tracked]) -> None:
        self._rows.extend(tracker_row(e) for e in events)

    def add_rows(self, rows: Sequence[Sequence[str]]) -> None:
        """Rows the journal kept from before a restart."""
        self._rows.extend(list(row) for row in rows)

    def flush(self, workbook: Workbook, tab: str, limit: int | None = None) -> int:
        """Append the waiting rows (the first `limit` of them); returns how many went.
        Raises what the workbook raised, and then keeps every row."""
        with self._lock:
            batch = list(self._rows)[:limit]
            if not batch:
                return 0
            workbook.append_rows(tab, batch)
            for _ in batch:
                self._rows.popleft()
            return len(batch)
