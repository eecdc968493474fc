"""The outgoing events not yet delivered, on local disk next to the journal (`outgoing.jsonl`).

Append-only JSON lines, three kinds:
  {"event": {...}, "to": ["https://a", "jira"]}  an event and the targets that want it (fsynced
                                                 with the journal entry, before the answer)
  {"done": "evt_...", "to": "https://a"}        delivered to that target
  {"gave_up": "evt_...", "to": "...", "why": ""} given up for that target
Marks are not fsynced: a mark lost in a crash means one more send of the same id, which the
receiver drops. Loading keeps what some target still owes; the file is then rewritten atomically
with just that, and again (past 256 KiB) once everything is done or it has doubled since: it never
grows for ever, and a large backlog is not rewritten after every send.
"""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path

from ..files import append_to, replace_whole
from . import HookEvent

log = logging.getLogger(__name__)
FILE = "outgoing.jsonl"
COMPACT_AT = 256 * 1024  # bytes: the smallest file worth rewriting


def to_json(event: HookEvent) -> dict:
    return {"id": event.id, "type": event.type, "at": event.at.isoformat(), "ticket_id": event.ticket_id,
            "title": event.title, "url": event.url, "cycle": event.cycle, "manager_name": event.manager_name,
            "manager_id": event.manager_id, "detail": event.detail, "extra": event.extra}


def from_json(data: dict) -> HookEvent:
    return HookEvent(**{**data, "at": datetime.fromisoformat(data["at"])})


class Store:
    """`folder` None: memory only (a bot without a journal)."""

    def __init__(self, folder: str | os.PathLike | None):
        self.path = Path(folder) / FILE if folder is not None else None
        self._rewritten = 0  # the file's size after the last rewrite

    def load(self) -> list[tuple[HookEvent, list[str]]]:
        """What is owed, oldest first: each event with the targets it has not reached yet."""
        if self.path is None or not self.path.is_file():
            return []
        owed: dict[str, tuple[HookEvent, list[str]]] = {}
        with open(self.path, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                    if "event" in entry:
                        event = from_json(entry["event"])
                        owed[event.id] = (event, list(entry["to"]))
                    elif entry.get("done") in owed or entry.get("gave_up") in owed:
                        targets = owed[entry.get("done") or entry["gave_up"]][1]
                        if entry["to"] in targets:
                            targets.remove(entry["to"])
                except (ValueError, KeyError, TypeError, AttributeError):
                    if line.strip():  # only a line torn by a crash; its event was never answered
                        log.warning("outgoing: a damaged line in %s was skipped", self.path.name)
        pending = [(event, targets) for event, targets in owed.values() if targets]
        self.rewrite(pending)
        return pending

    def add(self, owed: list[tuple[HookEvent, list[str]]]) -> None:
        """Append events with their targets, fsynced (OSError when they are not on disk)."""
        self._append([{"event": to_json(e), "to": targets} for e, targets in owed], sync=True)

    def mark(self, event_id: str, target: str, why: str | None = None) -> None:
        line = {"done": event_id, "to": target} if why is None else {"gave_up": event_id, "to": target, "why": why}
        try:
            self._append([line], sync=False)
        except OSError as exc:  # at worst the event goes once more after a restart
            log.error("outgoing: cannot mark %s in %s (%s)", event_id, FILE, exc)

    def grown(self, all_done: bool) -> bool:
        """Worth compacting: past COMPACT_AT, and all done or twice its size after the last rewrite."""
        try:
            size = self.path.stat().st_size if self.path is not None else 0
        except OSError:
            return False
        return size >= COMPACT_AT and (all_done or size >= 2 * self._rewritten)

    def rewrite(self, pending: list[tuple[HookEvent, list[str]]]) -> None:
        """Replace the file with just `pending` (atomically: a crash leaves the old file or this one)."""
        if self.path is None:
            return
        try:
            replace_whole(self.path, "".join(_line({"event": to_json(e), "to": t}) for e, t in pending).encode("ascii"))
            self._rewritten = self.path.stat().st_size
        except OSError as exc:
            log.error("outgoing: cannot compact %s (%s); it keeps its old lines", FILE, exc)

    def _append(self, lines: list[dict], sync: bool) -> None:
        if self.path is not None and lines:
            append_to(self.path, "".join(_line(x) for x in lines).encode("ascii"), sync)


def _line(entry: dict) -> str:
    return json.dumps(entry, separators=(",", ":")) + "\n"
