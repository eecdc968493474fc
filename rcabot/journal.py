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

import errno
import fcntl
import json
import logging
import os
import threading
from pathlib import Path
from typing import Iterator

from .files import append_to, append_whole, replace_whole

log = logging.getLogger(__name__)

CURRENT = "journal.jsonl"
STATE = "state.json"  # the state tabs as the bot last wrote them, with that write's revision
STATE_CHANGES = "state.changes.jsonl"  # the writes since, each the rows it changed
PACES = "paces.json"  # the Google writes of the last minute, for the quotas across a restart
CHANGES_UP_TO = 8 << 20  # bytes of changes kept beside the copy before it is written whole again
SEALED = "journal.{:012d}.sealed.jsonl"
LOCK = "rcabot.lock"
WORKBOOK = "workbook.txt"  # which workbook the journal belongs to


class JournalError(Exception):
    """The journal could not be written."""


class JournalMismatch(Exception):
    """The journal belongs to another workbook: replaying it would bring that one's state here."""


class JournalBusy(Exception):
    """Another live process owns this journal (and so runs the scheduler for this workbook)."""


class Journal:
    """Owned by one process at a time: opening it takes an exclusive lock, which the kernel
    releases when the process ends, however it ends (SIGKILL included)."""

    def __init__(self, folder: str | os.PathLike, workbook: str = "", adopt: bool = False):
        """`workbook` names the workbook this journal belongs to; a journal that names another is
        refused (JournalMismatch), so that a new workbook never replays another's changes, unless
        `adopt` (a folder bound to its workbook by where it is) records the new name instead."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._owner = _take_ownership(self.folder / LOCK)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self.lost = False  # the folder or file vanished since the last entry: earlier entries are gone
        self._copy: int | None = None  # the revision of the whole copy this process wrote (None: none yet)
        self._changes_bytes = 0
        if workbook:
            self._bind(workbook, adopt)
        self._next_seal = 1 + max((self._number(p) for p in self._sealed()), default=0)

    def _bind(self, workbook: str, adopt: bool) -> None:
        path = self.folder / WORKBOOK
        try:
            bound = path.read_text(encoding="utf-8", errors="replace").strip()
        except FileNotFoundError:
            bound = ""
        if not bound or (adopt and bound != workbook):
            path.write_text(workbook + "\n", encoding="utf-8")
            return
        if bound != workbook:
            self.close()
            raise JournalMismatch(
                f"the journal in {self.folder} belongs to {bound}, not to this {workbook}; set RCABOT_JOURNAL_DIR "
                f"to a folder of this workbook's own (or remove that folder if the other workbook's unsaved "
                f"changes are not wanted)")

    def record(self, entry: dict) -> None:
        """Append `entry` and fsync it; JournalError if it is not on disk.

        Written with one os.write on a descriptor of our own (no Python buffer that could hold a
        failed line and write it later). A write cut short (a full disk, a file-size limit) is cut
        off again, and the file is reopened before the next entry, so no torn line stays behind a
        whole one. A journal file deleted under the bot (its folder removed) fails here too: an
        entry written to a deleted file would be lost at the next crash.
        """
        # ASCII with escapes: any str, even a lone surrogate from a cut emoji, is valid JSON.
        data = (json.dumps(entry, separators=(",", ":")) + "\n").encode("ascii")
        with self._lock:
            try:
                fd = self._open()
                append_whole(fd, data)
            except OSError as exc:
                self._drop_file()
                raise JournalError(f"cannot write the journal in {self.folder}: {exc.strerror or exc}") from exc

    def _open(self) -> int:
        """The current file's descriptor, opened again (folder re-created) after a failure."""
        if self._fd is not None and os.fstat(self._fd).st_nlink == 0:
            self.lost = True  # deleted under us: its entries are gone, the next entry must hold all
            self._drop_file()
            raise OSError(errno.ENOENT, "the journal file was deleted")
        if self._fd is None:
            if not self.folder.is_dir():
                self.lost = True
                self.folder.mkdir(parents=True, exist_ok=True)
            if self._owner is None or os.fstat(self._owner.fileno()).st_nlink == 0:
                self._owner = _take_ownership(self.folder / LOCK)
            self._fd = os.open(self.folder / CURRENT, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        return self._fd

    def _drop_file(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def seal(self) -> list[Path]:
        """Close the current file under a sealed name; returns every sealed file (oldest first)."""
        with self._lock:
            current = self.folder / CURRENT
            try:
                if current.exists() and current.stat().st_size:
                    self._drop_file()
                    os.replace(current, self.folder / SEALED.format(self._next_seal))
                    self._next_seal += 1
                    _sync_folder(self.folder)
                return self._sealed()
            except OSError as exc:
                raise JournalError(f"cannot seal the journal in {self.folder}: {exc.strerror or exc}") from exc

    def discard(self, sealed: list[Path]) -> None:
        """The workbook holds everything in `sealed`: forget it (a file that cannot be removed now
        is replayed at the next start, which changes nothing: its rows are in the workbook)."""
        for path in sealed:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                log.error("journal: cannot remove %s (%s)", path.name, exc.strerror or exc)
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
        self._copy = None
        try:
            replace_whole(self.folder / STATE, text.encode("utf-8"))
            (self.folder / STATE_CHANGES).unlink(missing_ok=True)  # changes to older copies (a crash may leave them)
        except OSError as exc:
            log.error("journal: cannot keep the local copy of the state tabs (%s)", exc)
            return
        self._copy, self._changes_bytes = revision, 0

    def save_state_changes(self, revision: int, tables: dict, rows: dict[str, dict[int, list[str]]]) -> bool:
        """Keep a state write that replaced `tables` and wrote `rows` in place (by row number), as
        a line beside the copy: a flush of a few rows must not write a copy of 100,000. False when
        the copy must be written whole instead (none yet from this process, or changes enough)."""
        if self._copy is None or self._changes_bytes > CHANGES_UP_TO:
            return False
        line = json.dumps({"base": self._copy, "revision": revision, "tables": tables, "rows": rows},
                          separators=(",", ":"), ensure_ascii=False) + "\n"
        try:
            append_to(self.folder / STATE_CHANGES, line.encode("utf-8"))
        except OSError as exc:
            log.error("journal: cannot keep the local copy of the state tabs (%s); it is written whole next time", exc)
            self._copy = None
            return True  # nothing more to do now: the next state write keeps a whole copy
        self._changes_bytes += len(line)
        return True

    def save_paces(self, paces: dict[str, list[str]]) -> None:
        """Keep the last minute's Google writes (ISO times by quota): a process started after this
        one stops counts them, so a restart under load does not pass Google's per-minute quotas."""
        try:
            replace_whole(self.folder / PACES, json.dumps(paces).encode("utf-8"))
        except OSError as exc:
            log.warning("journal: cannot keep the last minute's Google writes (%s)", exc)

    def paces(self) -> dict[str, list[str]]:
        try:
            saved = json.loads((self.folder / PACES).read_text(encoding="utf-8"))
            return {str(k): [str(t) for t in v] for k, v in saved.items()} if isinstance(saved, dict) else {}
        except (OSError, ValueError, AttributeError, TypeError):
            return {}

    def saved_state(self) -> tuple[int, dict] | None:
        """(revision, tables) of the last state write this machine made, or None."""
        try:
            saved = json.loads((self.folder / STATE).read_text(encoding="utf-8"))
            revision, tables = int(saved["revision"]), saved["tables"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("journal: the local copy of the state tabs cannot be read (%s); the spreadsheet's is used", exc)
            return None
        base = revision
        changes, whole = _read_changes(self.folder / STATE_CHANGES, base)
        for change in changes:
            revision = int(change["revision"])
            tables.update(change["tables"])
            for tab, rows in change["rows"].items():
                table = tables.setdefault(tab, [])
                for number, row in sorted((int(n), row) for n, row in rows.items()):
                    table += [[] for _ in range(number - len(table))]
                    table[number - 1] = row
        # This process goes on adding changes to that copy (unless told it is not the newest state),
        # not after a line torn by a crash: lines after it would not be read.
        self._copy = base if whole else None
        self._changes_bytes = _size(self.folder / STATE_CHANGES)
        return revision, tables

    def forget_copy(self) -> None:
        """The copy read at start-up is not the state written last: the next state write keeps a whole one."""
        self._copy = None

    def close(self) -> None:
        """Close the file and give up ownership (a process that ends does so anyway)."""
        with self._lock:
            self._drop_file()
            if self._owner is not None:
                self._owner.close()
                self._owner = None

    def _sealed(self) -> list[Path]:
        return sorted(self.folder.glob("journal.*.sealed.jsonl"), key=self._number)

    @staticmethod
    def _number(path: Path) -> int:
        return int(path.name.split(".")[1])


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
    if not path.is_file():  # a device or a folder in its place: nothing a journal wrote
        log.error("journal: %s is not a regular file and was not read", path)
        return
    # Bad bytes (a disk's damage) only spoil their own line: it fails to parse and is skipped.
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                entry = None
            if isinstance(entry, dict):
                yield entry
            elif line.strip():
                # Only the last line can be torn (killed mid-write); it was never answered.
                log.warning("journal: %s line %d is incomplete or damaged and was skipped", path.name, number)


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


def _read_changes(path: Path, base: int) -> tuple[list[dict], bool]:
    """The changes kept since the copy of revision `base`, oldest first (lines written for an
    older copy, left by a crash, are passed over; a torn line ends them), and whether every line
    was whole."""
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return [], True
    except OSError as exc:
        log.error("journal: the changes to the local copy cannot be read (%s); the copy is used as it was", exc)
        return [], False
    changes = []
    for line in lines:
        try:
            change = json.loads(line)
            if change["base"] != base:
                continue
            int(change["revision"]), dict(change["tables"]), dict(change["rows"])
        except (ValueError, KeyError, TypeError):
            return changes, False
        changes.append(change)
    return changes, True


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
