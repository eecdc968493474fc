"""The delivery ids seen in the last 24 hours, so that a delivery sent again is not acted on twice.

Kept on disk too (`deliveries.jsonl` in the journal folder), since a restart must not make an old
delivery new again: GitHub signs no timestamp, and a replayed "labeled" of a ticket reviewed and
closed would start its review over. One line per id, appended; the file is rewritten with just
the ids still kept at each start, so it holds about a day of hooks.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from pathlib import Path

from ..files import append_to, replace_whole

log = logging.getLogger(__name__)
KEEP = timedelta(hours=24)
MAX_IDS = 10_000  # a day of hooks for a busy site; past it the oldest id is forgotten first
FILE = "deliveries.jsonl"


class Deliveries:
    """`folder` None: memory only."""

    def __init__(self, folder: str | os.PathLike | None = None, keep: timedelta = KEEP, max_ids: int = MAX_IDS):
        self.keep, self.max_ids = keep, max_ids
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()
        self.path = Path(folder) / FILE if folder is not None else None
        if self.path is not None:
            self._load()

    def first(self, delivery_id: str, now: datetime) -> bool:
        """True (and remembered) the first time an id is offered within `keep`; False after."""
        with self._lock:
            while self._seen and (len(self._seen) >= self.max_ids or next(iter(self._seen.values())) < now - self.keep):
                self._seen.popitem(last=False)
            if delivery_id in self._seen:
                return False
            self._seen[delivery_id] = now
            self._append({"id": delivery_id, "at": now.isoformat()})
            return True

    def forget(self, delivery_id: str) -> None:
        """A delivery the bot could not act on (busy): the sender's retry must get through."""
        with self._lock:
            if self._seen.pop(delivery_id, None) is not None:
                self._append({"id": delivery_id, "forget": True})

    def _load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return
        except OSError as exc:
            log.warning("hooks: cannot read %s (%s); replays of earlier deliveries are not recognised", self.path, exc)
            return
        for line in lines:  # a line a crash cut short, or a hand edit, is passed over
            try:
                entry = json.loads(line)
                delivery_id = entry["id"]
                if entry.get("forget"):
                    self._seen.pop(delivery_id, None)
                else:
                    self._seen[delivery_id] = datetime.fromisoformat(entry["at"])
                    self._seen.move_to_end(delivery_id)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
        while len(self._seen) > self.max_ids:
            self._seen.popitem(last=False)
        self._rewrite()

    def _rewrite(self) -> None:
        lines = "".join(_line({"id": i, "at": at.isoformat()}) for i, at in self._seen.items())
        try:
            replace_whole(self.path, lines.encode("ascii"))
        except OSError as exc:
            log.warning("hooks: cannot rewrite %s (%s)", self.path, exc)

    def _append(self, entry: dict) -> None:
        if self.path is None:
            return
        try:
            append_to(self.path, _line(entry).encode("ascii"), sync=False)
        except OSError as exc:  # remembered in memory still; only a restart would forget it
            log.warning("hooks: cannot write %s (%s)", self.path, exc)


def _line(entry: dict) -> str:
    return json.dumps(entry, separators=(",", ":")) + "\n"
