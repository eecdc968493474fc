"""The journal: every change not yet in the workbook, on local disk, fsynced before it is answered.

The workbook is written by the flush job, seconds later (or, while Sheets is down, much later).
A process killed in between would lose the clicks and starts it had answered. So each event
appends one JSON line with the rows it changed, and fsyncs, before the HTTP answer leaves;
start-up replays the lines over what the workbook holds.

A flush first *seals* the current file (renames it; new events go to a fresh one) and deletes
the sealed files only once the workbook has taken everything they hold. Entries carry whole rows
(never deltas), so replaying an entry the workbook already has changes nothing.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)

CURRENT = "journal.jsonl"
STATE = "state.json"  # the state tabs as the bot last wrote them, with that write's revision
SEALED = "journal.{:012d}.sealed.jsonl"
LOCK = "rcabot.lock"


class JournalError(Exception):
    """The journal could not be written."""


class JournalBusy(Exception):
    """Another live process owns this journal (and so runs the scheduler for this workbook)."""


class Journal:
    """Owned by one process at a time: opening it takes an exclusive lock, which the kernel
    releases when the process ends, however it ends (SIGKILL included)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._owner = _take_ownership(self.folder / LOCK)
        self._lock = threading.Lock()
        self._file = None
        self._next_seal = 1 + max((self._number(p) for p in self._sealed()), default=0)

    def record(self, entry: dict) -> None:
        """Append `entry` and fsync it."""
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            try:
                if self._file is None:
                    self._file = open(self.folder / CURRENT, "a", encoding="utf-8")
                    if not _ends_a_line(self.folder / CURRENT):
                        line = "\n" + line  # end a line torn by a crash, so that this one stays whole
                self._file.write(line)
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError as exc:
                raise JournalError(f"cannot write the journal in {self.folder}: {exc}") from exc

    def seal(self) -> list[Path]:
        """Close the current file under a sealed name; returns every sealed file (oldest first)."""
        with self._lock:
            current = self.folder / CURRENT
            if current.exists() and current.stat().st_size:
                if self._file is not None:
                    self._file.close()
                    self._file = None
                os.replace(current, self.folder / SEALED.format(self._next_seal))
                self._next_seal += 1
                _sync_folder(self.folder)
            return self._sealed()

    def discard(self, sealed: list[Path]) -> None:
        """The workbook holds everything in `sealed`: forget it."""
        for path in sealed:
            path.unlink(missing_ok=True)
        _sync_folder(self.folder)

    def entries(self) -> Iterator[dict]:
        """Every entry, oldest first: the sealed files, then the current one."""
        yield from self.sealed_entries()
        yield from self.current_entries()

    def sealed_entries(self) -> Iterator[dict]:
        """The entries of a flush that did not finish: the workbook may or may not hold them."""
        for path in self._sealed():
            yield from _read(path)

    def current_entries(self) -> Iterator[dict]:
        """The entries no flush has taken up yet."""
        if (self.folder / CURRENT).exists():
            yield from _read(self.folder / CURRENT)

    def save_state(self, revision: int, tables: dict) -> None:
        """Keep the state tabs just written (atomically: a crash leaves the old copy or this one)."""
        text = json.dumps({"revision": revision, "tables": tables}, separators=(",", ":"), ensure_ascii=False)
        tmp = self.folder / (STATE + ".tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.folder / STATE)
        except OSError as exc:
            log.error("journal: cannot keep the local copy of the state tabs (%s)", exc)

    def saved_state(self) -> tuple[int, dict] | None:
        """(revision, tables) of the last state write this machine made, or None."""
        try:
            saved = json.loads((self.folder / STATE).read_text(encoding="utf-8"))
            return int(saved["revision"]), saved["tables"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("journal: the local copy of the state tabs cannot be read (%s); the spreadsheet's is used", exc)
            return None

    def close(self) -> None:
        """Close the file and give up ownership (a process that ends does so anyway)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            if self._owner is not None:
                self._owner.close()
                self._owner = None

    def _sealed(self) -> list[Path]:
        return sorted(self.folder.glob("journal.*.sealed.jsonl"), key=self._number)

    @staticmethod
    def _number(path: Path) -> int:
        return int(path.name.split(".")[1])


def _ends_a_line(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return True
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _take_ownership(path: Path):
    owner = open(path, "a+", encoding="utf-8")
    try:
        fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        owner.seek(0)
        pid = owner.read().strip() or "unknown"
        owner.close()
        raise JournalBusy(f"another RCA Bot process (pid {pid}) already runs on this workbook and its "
                          f"journal ({path.parent}); one process per workbook, so that one scheduler runs") from None
    owner.seek(0)
    owner.truncate()
    owner.write(str(os.getpid()))
    owner.flush()
    return owner


def _read(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                # Only the last line can be torn (killed mid-write); it was never answered.
                log.warning("journal: %s line %d is incomplete and was skipped", path.name, number)


def _sync_folder(folder: Path) -> None:
    """Make a rename or unlink durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
