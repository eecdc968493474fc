"""A CSV file read as ops' tools leave it: written by any spreadsheet app (comma, semicolon or tab
separated, with or without a byte order mark), saved in the wrong encoding, or cut short by a save
that did not finish.

Damage is found, never guessed around: the rows come back with a note of where the file stops
making sense, and the caller decides (an ops tab keeps its last good version in force).
"""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field

from .cells import column_letter

Rows = list[list[str]]
SEPARATORS = ",;\t"


@dataclass
class CsvTable:
    rows: Rows  # the rows with a value, as well as they can be read
    where: str = ""  # the damaged cell or row ("D9", "row 9"); "" when the file is whole
    why: str = ""
    before: Rows = field(default_factory=list)  # the rows with a value before the damaged one


def read_csv(data: bytes) -> CsvTable:
    data = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    try:
        return _table(data.decode("utf-8"), cut_mid_character=False)
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(data):
            return _table(data[:exc.start].decode("utf-8", "replace"), cut_mid_character=True)
        return _not_utf8(data, exc.start)


def _not_utf8(data: bytes, position: int) -> CsvTable:
    """Saved as Latin-1 or Windows-1252 rather than UTF-8: read with U+FFFD in place of what is
    not UTF-8, and say where the first such byte is."""
    rows = _records(data.decode("utf-8", "replace"))[0]
    row = data.count(b"\n", 0, position) + 1
    why = (f"the file is not UTF-8 text (byte 0x{data[position]:02X} at byte {position + 1}); save it as "
           f"CSV UTF-8")
    kept = [r for r in rows if _filled(r)]
    return CsvTable(kept, f"row {row}", why, kept)


def _table(text: str, cut_mid_character: bool) -> CsvTable:
    rows, starts, sep, unreadable = _records(text)
    kept = [r for r in rows if _filled(r)]
    if unreadable:
        return CsvTable(kept, f"row {len(rows) + 1}", f"a cell is longer than {csv.field_size_limit()} characters "
                        f"(a quote that is never closed?)", kept)
    where, why = _cut(text, rows, starts, sep, cut_mid_character)
    before = [r for r in rows[:-1] if _filled(r)]
    return CsvTable(kept, where, why, before) if where else CsvTable(kept)


CUT = "it looks cut short (by a save that did not finish?)"


def _cut(text: str, rows: Rows, starts: list[int], sep: str, cut_mid_character: bool) -> tuple[str, str]:
    """Where and why the file looks cut short, or ("", "").

    A cut that falls just after a line break leaves a file that is whole as far as anyone can
    tell; every other cut leaves one of these signs."""
    if not rows:
        return ("A1", f"the file is part of a character and nothing else: {CUT}") if cut_mid_character else ("", "")
    last, number = rows[-1], len(rows)
    if _ends_in_quotes(text[starts[-1]:], sep):
        return f"{column_letter(len(last) - 1)}{number}", f"the file ends inside this quoted cell: {CUT}"
    if cut_mid_character:
        return f"{column_letter(max(len(last) - 1, 0))}{number}", f"the file ends in the middle of a character: {CUT}"
    above = next((r for r in reversed(rows[:-1]) if _filled(r)), None)
    if _filled(last) and above and len(last) < len(above) and not text.endswith(("\n", "\r")):
        return f"{column_letter(len(last))}{number}", (f"row {number} stops after {_cells(len(last))} where the row "
                                                 f"above has {len(above)}, with no line break at the end: {CUT}")
    return "", ""


def _records(text: str) -> tuple[Rows, list[int], str, bool]:
    """Every record (blank ones too, so that numbers are the rows a spreadsheet app shows), the
    offset in `text` where each starts, the separator, and whether reading stopped at a cell too
    large for the csv module."""
    lines = list(io.StringIO(text, newline=""))
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    sep = separator(text)
    reader = csv.reader(lines, delimiter=sep)
    rows: Rows = []
    starts: list[int] = []
    previous = 0  # lines read before the record: a quoted cell can span several
    try:
        for row in reader:
            starts.append(offsets[previous])
            rows.append(row)
            previous = reader.line_num
    except csv.Error:
        return rows, starts, sep, True
    return rows, starts, sep, False


def separator(text: str) -> str:
    """The separator of the header row: `,` unless `;` or a tab splits it into more cells (a CSV
    export of a spreadsheet app set to a language that writes decimal commas uses `;`)."""
    header = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    counts = {sep: len(next(csv.reader([header], delimiter=sep), [])) for sep in SEPARATORS}
    return max(SEPARATORS, key=lambda sep: (counts[sep], sep == ","))


def _ends_in_quotes(record: str, sep: str) -> bool:
    """True when the text stops inside a quoted cell: its last line was cut before the closing
    quote. The csv module's own states, followed as its lenient reader follows them (its strict
    one would stop at the first stray quote instead, before reaching the end)."""
    state = "start"  # of a cell; "plain": in an unquoted one; "quoted"; "quote": a quote in a quoted one
    for char in record:
        if state == "quoted":
            state = "quote" if char == '"' else "quoted"
        elif char == sep or char in "\r\n":
            state = "start"
        elif state == "start" and char == '"':
            state = "quoted"
        elif state == "quote" and char == '"':
            state = "quoted"  # a doubled quote: a quote character in the cell
        else:
            state = "plain"
    return state == "quoted"


def _cells(count: int) -> str:
    return f"{count} cell" if count == 1 else f"{count} cells"


def _filled(row: list[str]) -> bool:
    return any(cell.strip() for cell in row)


