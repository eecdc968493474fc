"""The delivery ids seen in the last 24 hours, so that a delivery sent again is not acted on twice."""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta

KEEP = timedelta(hours=24)
MAX_IDS = 10_000  # a day of hooks for a busy site; past it the oldest id is forgotten first


class Deliveries:
    def __init__(self, keep: timedelta = KEEP, max_ids: int = MAX_IDS):
        self.keep, self.max_ids = keep, max_ids
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, delivery_id: str, now: datetime) -> bool:
        """True (and remembered) the first time an id is offered within `keep`; False after."""
        with self._lock:
            while self._seen and (len(self._seen) >= self.max_ids or next(iter(self._seen.values())) < now - self.keep):
                self._seen.popitem(last=False)
            if delivery_id in self._seen:
                return False
            self._seen[delivery_id] = now
            return True

    def forget(self, delivery_id: str) -> None:
        """A delivery the bot could not act on (busy): the sender's retry must get through."""
        with self._lock:
            self._seen.pop(delivery_id, None)
