"""The workbook as a folder of CSV files, one file per tab (`Tab Name.csv`)."""
from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO, Mapping, Sequence

from . import Older, Reach, Rows, TabDamaged, TabNotFound, WorkbookError, begins_older
from .cells import escape, plain, trimmed, unescape
from .csvfile import read_csv, separator

log = logging.getLogger(__name__)
TAIL_BYTES = 1 << 20  # recent_rows reads back a block of this size first, twice as large each time after


class LocalWorkbook:
    """Reads any tab; writes replace a file atomically (temporary file, then rename).

    Only the bot's own tabs are ever written, and every cell written carries the formula escape
    of `cells`; reading removes it (an apostrophe ops typed to force text goes too, as in Sheets).
    Files are read as `csvfile` reads them (any separator, damage found); the bot writes commas.
    """

    rows_in_place = False  # a file is text: written whole, whatever changed
    grid_growths = 0  # a file has no grid

    def grows_soon(self, tabs: Sequence[str]) -> bool:
        return False

    def __init__(self, folder: str | os.PathLike, tail_bytes: int = TAIL_BYTES):
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._tail_bytes = tail_bytes
        self._counts: dict[str, int] = {}  # rows below the header, per tab, once counted (row_count)

    @classmethod
    def from_templates(cls, folder: str | os.PathLike, templates: str | os.PathLike) -> "LocalWorkbook":
        """Open `folder`, first copying in any template tab it lacks (never overwriting one)."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        for template in sorted(Path(templates).glob("*.csv")):
            if not (target / template.name).exists():
                shutil.copyfile(template, target / template.name)
                log.info("workbook: created %s from the template", target / template.name)
        return cls(target)

    def path(self, tab: str) -> Path:
        return self.folder / f"{tab}.csv"

    def tab_names(self) -> set[str]:
        return {path.stem for path in self.folder.glob("*.csv")}

    def prefetch(self, whole: Sequence[str], firsts: Sequence[str], tail: str = "") -> None:
        """Nothing to do: a file is read when it is asked for, at no cost in requests."""

    def read_tabs(self, names: Sequence[str], strict: bool = False) -> dict[str, Rows]:
        return {name: self._read(name, strict) for name in names}

    def ensure_tabs(self, headers: Mapping[str, Sequence[str]]) -> list[str]:
        changed = []
        with self._lock:
            for tab, header in headers.items():
                if self.path(tab).exists() and self._first_row(tab) == list(header):
                    continue  # the usual case: no need to read a Tracker of years to see its header
                rows = self._read(tab) if self.path(tab).exists() else []
                if rows[:1] != [list(header)]:
                    self._write(tab, [list(header)] + rows[1:])
                    changed.append(tab)
        return changed

    def replace_tabs(self, tabs: Mapping[str, Sequence[Sequence[str]]]) -> None:
        with self._lock:
            for tab in tabs:
                if not self.path(tab).exists():
                    raise TabNotFound(tab)
            for tab, rows in tabs.items():
                self._write(tab, rows)

    def write(self, replace: Mapping[str, Sequence[Sequence[str]]],
              append: Mapping[str, Sequence[Sequence[str]]],
              update: Mapping[str, Mapping[int, Sequence[str]]] | None = None) -> None:
        """Each file is replaced atomically; a crash between two leaves the journal to replay.
        Rows are not written in place (`rows_in_place`): a file is written whole anyway."""
        if any(rows for rows in (update or {}).values()):
            raise ValueError("the CSV workbook writes whole tabs, not rows in place")
        self.replace_tabs(replace)
        for tab, rows in append.items():
            if rows:
                self.append_rows(tab, rows)

    def append_rows(self, tab: str, rows: Sequence[Sequence[str]]) -> None:
        # Copy, append, rename: a crash leaves the old file or the new one, never half a row.
        with self._lock:
            if not self.path(tab).exists():
                raise TabNotFound(tab)
            self._atomically(tab, _encode(rows), keep_existing=True)
            if tab in self._counts:
                self._counts[tab] += len(rows)

    def add_rows(self, tab: str, rows: Sequence[Sequence[str]]) -> None:
        self.append_rows(tab, rows)  # the file's end is its end now: nobody else writes between

    def last_rows(self, tab: str, count: int) -> Rows:
        return [trimmed(row) for row in self._read(tab)[1:][-count:]] if count > 0 else []

    def recent_rows(self, tab: str, older: Older, reach: Reach | None = None) -> Rows:
        """Reads the file back from its end in blocks (see `_tail`); a file cut mid-row gives
        its last row as it stands, and bytes that are not UTF-8 come as U+FFFD."""
        try:
            with open(self.path(tab), "rb") as f:
                return [trimmed(row) for row in _tail(f, older, self._tail_bytes)]
        except FileNotFoundError:
            raise TabNotFound(tab) from None
        except OSError as exc:
            raise WorkbookError(f"cannot read {self.path(tab)}: {exc}") from exc

    def _first_row(self, tab: str) -> list[str] | None:
        """The file's first row as `_read` would give it, from its first block (None: none there)."""
        try:
            with open(self.path(tab), "rb") as f:
                head = f.read(64 * 1024)
        except OSError:
            return None
        rows = _unescaped(read_csv(head[:head.rfind(b"\n") + 1]).rows) if b"\n" in head else []
        return rows[0] if rows else None

    def _read(self, tab: str, strict: bool = False) -> Rows:
        try:
            data = self.path(tab).read_bytes()
        except FileNotFoundError:
            raise TabNotFound(tab) from None
        except OSError as exc:
            raise WorkbookError(f"cannot read {self.path(tab)}: {exc}") from exc
        table = read_csv(data)
        if table.where and strict:
            raise TabDamaged(tab, table.where, table.why, _unescaped(table.before))
        if table.where:
            log.warning("workbook: %s %s: %s (read as it stands)", tab, table.where, table.why)
        return _unescaped(table.rows)

    def _write(self, tab: str, rows: Sequence[Sequence[str]]) -> None:
        self._atomically(tab, _encode(rows), keep_existing=False)
        self._counts[tab] = max(len(rows) - 1, 0)

    def row_count(self, tab: str) -> int:
        """Counted once (a pass over the file, none of it kept), then kept up to date by the
        writes: a flush asks each time, and the Tracker can be hundreds of thousands of rows."""
        with self._lock:
            if tab not in self._counts:
                self._counts[tab] = self._count(tab)
            return self._counts[tab]

    def _count(self, tab: str) -> int:
        try:
            with open(self.path(tab), newline="", encoding="utf-8", errors="replace") as f:
                filled = sum(1 for row in csv.reader(f) if any(cell.strip() for cell in row))
        except FileNotFoundError:
            raise TabNotFound(tab) from None
        except (OSError, csv.Error) as exc:
            raise WorkbookError(f"cannot read {self.path(tab)}: {exc}") from exc
        return max(filled - 1, 0)

    def roll_over(self, tab: str, archive: str, header: Sequence[str]) -> None:
        """A rename (the rows are never copied), then the new file. Killed between the two, the
        folder has the archive and no `tab`: start-up makes it again with its header."""
        source, target = self.path(tab), self.path(archive)
        with self._lock:
            if not source.exists():
                raise TabNotFound(tab)
            if target.exists():  # os.rename would replace it
                raise WorkbookError(f"cannot roll {tab} over: {target} exists already")
            try:
                os.rename(source, target)
            except OSError as exc:
                raise WorkbookError(f"cannot rename {source} to {target}: {exc}") from exc
            self._counts.pop(tab, None)
            self._counts.pop(archive, None)
            self._write(tab, [list(header)])

    def _atomically(self, tab: str, text: str, keep_existing: bool) -> None:
        target = self.path(tab)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{tab}.", suffix=".tmp", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as out:
                    if keep_existing:  # byte for byte: a file ops saved in another encoding stays as it was
                        out.write(_with_final_newline(target.read_bytes()))
                    out.write(text.encode("utf-8"))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise WorkbookError(f"cannot write {target}: {exc}") from exc


def _encode(rows: Sequence[Sequence[str]]) -> str:
    return "".join(_line([escape(plain(str(cell))) for cell in row]) for row in rows)


def _line(cells: list[str]) -> str:
    """One CSV line ending in "\n". The writer quotes a cell that holds a character of its line
    terminator: with "\n" alone, a cell holding a lone "\r" went unquoted and read back as two
    rows. Written with "\r\n", and that terminator swapped for "\n"."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()[:-2] + "\n"


def _unescaped(rows: Rows) -> Rows:
    return [[unescape(cell) for cell in row] for row in rows]


def _with_final_newline(data: bytes) -> bytes:
    return data if not data or data.endswith((b"\n", b"\r")) else data + b"\n"


def _tail(f: BinaryIO, older: Older, block: int) -> Rows:
    """The rows below the header, from the end back to the first block whose first row `older`
    can judge is older.

    Each block starts at a line break that is not inside a quoted cell: in a well-formed file a
    quote character count from there to the end of the file is even (every quoted cell holds an
    even number of them), and the blocks' own breaks fall at record ends the same way."""
    head = f.readline()
    sep = separator(head.removeprefix(codecs.BOM_UTF8).decode("utf-8", "replace"))
    start, cut = len(head), f.seek(0, os.SEEK_END)
    rows: Rows = []
    quotes = 0  # in the bytes from `cut` to the end
    while cut > start:
        f.seek(max(cut - block, start))
        data = f.read(cut - f.tell())
        begin = 0 if cut - len(data) == start else _record_start(data, quotes)
        if begin is None:  # one record longer than the block: read a larger one
            block *= 2
            continue
        chunk = [row for row in csv.reader(io.StringIO(data[begin:].decode("utf-8", "replace"), newline=""),
                                           delimiter=sep) if any(cell.strip() for cell in row)]
        rows[:0] = _unescaped(chunk)
        quotes += data.count(b'"', begin)
        cut -= len(data) - begin
        if begins_older(rows[:len(chunk)], older):
            break
        block *= 2
    return rows


def _record_start(data: bytes, quotes_after: int) -> int | None:
    """Where the first record that starts inside `data` begins (after a line break outside any
    quoted cell), given the quote characters that follow `data` in the file; None if none does."""
    odd = (data.count(b'"') + quotes_after) % 2
    for at, byte in enumerate(data):
        if byte == 0x22:
            odd ^= 1
        elif byte == 0x0A and not odd:
            return at + 1
    return None
