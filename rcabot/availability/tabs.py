"""The Away, Holidays and Overrides tabs, parsed and validated: rows in, values and problems out.

Ops edit these tabs by hand, like the Configuration and Managers tabs, so the layout is forgiving
(headers in any case, spacing and order, extra columns ignored, short rows padded with blanks, fully
blank rows skipped) and the values are strict: a row with a problem is left out and reported with
its cell, and the other rows stand. One bad leave row must not undo everyone else's leave.

A row counts as blank when every column the tab reads is blank (a note in an extra column alone
is not a row). A duplicate header takes its first column.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from ..config import Parsed, normalize
from ..model import Manager
from ..workbook.cells import column_letter
from . import Away, Holiday, Override, resolve

FIRST_YEAR, LAST_YEAR = 1900, 2999  # outside these a year is a typo (and instants near year 1 overflow)
_WHEN = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:\s+|T)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?")
_SHOWN = 60  # characters of a cell quoted in a problem
_HEADINGS = {"manager": "Manager", "from": "From", "to": "To", "reason": "Reason", "date": "Date", "name": "Name",
             "shifts": "Shifts", "shift": "Shift", "instead_of": "Instead of", "covered_by": "Covered by"}


# --- Shared: header, rows, cells --------------------------------------------------------------

@dataclass
class _Row:
    """One data row's cells by column key, and the problems found in it (named by cell)."""

    tab: str
    number: int  # 1-based, as the sheet shows it
    columns: Mapping[str, int]
    cells: Mapping[str, str]
    problems: list[str] = field(default_factory=list)

    def text(self, key: str) -> str:
        return self.cells.get(key, "")

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.tab} {column_letter(self.columns[key])}{self.number}: {message}")


def _read(rows: Sequence[Sequence[str]], tab: str, keys: Sequence[str], required: Sequence[str],
          read_row: Callable[[_Row], object]) -> Parsed:
    """Every non-blank data row through `read_row` (which returns a value, or None after reporting
    a problem). An empty tab or a header alone is no leave at all, which is a valid state."""
    if not rows:
        return Parsed((), [])
    wanted = {normalize(_HEADINGS[key]): key for key in keys}
    columns: dict[str, int] = {}
    for index, header in enumerate(rows[0]):
        key = wanted.get(normalize(header))
        if key is not None:
            columns.setdefault(key, index)
    absent = [_HEADINGS[key] for key in required if key not in columns]
    if absent:
        return Parsed((), [f"{tab} row 1: the header row has no {' or '.join(absent)} column"])
    values, problems = [], []
    for number, raw in enumerate(rows[1:], 2):
        cells = {key: (raw[i].strip() if i < len(raw) else "") for key, i in columns.items()}
        if not any(cells.values()):
            continue
        row = _Row(tab, number, columns, cells)
        value = read_row(row)
        problems.extend(row.problems)
        if value is not None and not row.problems:
            values.append(value)
    return Parsed(tuple(values), problems)


def _quoted(text: str) -> str:
    """A cell as a problem quotes it: printable (control characters and lone surrogates escaped,
    so the message can be logged and written back) and short."""
    shown = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text[:_SHOWN])
    return f'"{shown}{"…" if len(text) > _SHOWN else ""}"'


def _when(row: _Row, key: str, times: bool) -> tuple[date, time | None] | None:
    """The day (and, where `times`, the time of day) a date cell holds, or None after a problem.

    `2026-12-24`, and with `times` also `2026-12-24 13:00`, `2026-12-24T13:00` and seconds."""
    text = row.text(key)
    form = "2026-12-24 or 2026-12-24 13:00" if times else "2026-12-24"
    if not text:
        row.problem(key, f"{_heading(key)} is blank: write a date like {form}")
        return None
    match = _WHEN.fullmatch(text)
    if not match or (match.group(4) and not times):
        row.problem(key, f"{_quoted(text)} is not a date: write {form}")
        return None
    year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        row.problem(key, f"{_quoted(text)} is out of range: the year must be {FIRST_YEAR} to {LAST_YEAR}")
        return None
    try:
        found = date(year, month, day)
    except ValueError:
        row.problem(key, f"{_quoted(text)} is not a day on the calendar")
        return None
    if not match.group(4):
        return found, None
    hour, minute, second = int(match.group(4)), int(match.group(5)), int(match.group(6) or 0)
    if hour > 23 or minute > 59 or second > 59:
        row.problem(key, f"{_quoted(text)} is not a time of day: hours go 0-23, minutes 0-59")
        return None
    return found, time(hour, minute, second)


def _heading(key: str) -> str:
    return _HEADINGS[key]


def _manager(row: _Row, key: str, managers: Sequence[Manager]) -> Manager | None:
    """The manager a cell names (a name or a GChat ID), or None after a problem."""
    text = row.text(key)
    if not text:
        row.problem(key, f"{_heading(key)} is blank: write a name or a GChat ID from the Managers tab")
        return None
    found = resolve(text, managers)
    if found is None:
        same_name = sum(1 for m in managers if m.name.strip().casefold() == text.casefold())
        row.problem(key, f"two managers are named {_quoted(text)}: write the GChat ID instead" if same_name > 1
                    else f"{_quoted(text)} is not a manager in the Managers tab (a name or a GChat ID)")
    return found


def _shift(text: str, shift_count: int) -> tuple[int | None, str]:
    """A shift number in 1..shift_count, or the problem with it (the sentence after the cell)."""
    if not text:
        return None, f"Shift is blank: write a shift number, 1 to {shift_count}"
    if not re.fullmatch(r"[0-9]+", text):
        return None, f"{_quoted(text)} is not a shift number (the Configuration has shifts 1 to {shift_count})"
    digits = text.lstrip("0") or "0"
    if len(digits) > 6 or not 1 <= int(digits) <= shift_count:  # int() of thousands of digits raises
        return None, f"shift {_quoted(digits)[1:-1]} does not exist (the Configuration has shifts 1 to {shift_count})"
    return int(digits), ""


# --- Away ---------------------------------------------------------------------------------

def parse_away(rows: Sequence[Sequence[str]], managers: Sequence[Manager], zone: ZoneInfo) -> Parsed:
    """`Manager, From, To[, Reason]` as tuple[Away] in row order, instants in UTC.

    From/To are a date (a whole day: From at 00:00 local, To until 00:00 local the next day) or a
    date-time in `zone`. A blank To means until the end of From's day (a date: that one day)."""
    return _read(rows, "Away", ("manager", "from", "to", "reason"), ("manager", "from", "to"),
                 lambda row: _away(row, managers, zone))


def _away(row: _Row, managers: Sequence[Manager], zone: ZoneInfo) -> Away | None:
    manager = _manager(row, "manager", managers)
    start = _when(row, "from", times=True)
    end = _when(row, "to", times=True) if row.text("to") else (start[0], None) if start else None
    if manager is None or start is None or end is None:
        return None
    begins, ends = _instant(*start, zone, end_of_day=False), _instant(*end, zone, end_of_day=True)
    if ends <= begins:
        relation = "before" if ends < begins else "the same moment as"
        row.problem("to", f"To {row.text('to')} is {relation} From {row.text('from')}: the absence would be empty")
        return None
    return Away(manager.chat_id, begins, ends, row.text("reason"), source="sheet")


def _instant(day: date, at: time | None, zone: ZoneInfo, end_of_day: bool) -> datetime:
    """A local date or date-time as a UTC instant; a bare date as an end means the next midnight.

    fold=0, as for shift starts: a time in a daylight-saving gap takes the offset from before the
    jump (so lands just after it); a time in a fold is its first occurrence."""
    if at is None:
        day, at = (day + timedelta(days=1) if end_of_day else day), time(0)
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)


# --- Holidays -----------------------------------------------------------------------------

def parse_holidays(rows: Sequence[Sequence[str]], shift_count: int) -> Parsed:
    """`Date, Name[, Shifts]` as tuple[Holiday] in row order. Shifts lists the shifts that still
    run that day (`1,3`, `1;3`, `1 3`; blank: none; `all`: every one). A date given twice is a
    problem on the second row: which name and shifts hold would otherwise be a guess."""
    seen: dict[date, int] = {}
    return _read(rows, "Holidays", ("date", "name", "shifts"), ("date", "name"),
                 lambda row: _holiday(row, shift_count, seen))


def _holiday(row: _Row, shift_count: int, seen: dict[date, int]) -> Holiday | None:
    when = _when(row, "date", times=False)
    shifts = _shift_list(row, shift_count)
    if when is None or shifts is None:
        return None
    day = when[0]
    if day in seen:
        row.problem("date", f"{day.isoformat()} is already a holiday in row {seen[day]}: keep one row per date")
        return None
    seen[day] = row.number
    return Holiday(day, row.text("name"), shifts, source="sheet")


def _shift_list(row: _Row, shift_count: int) -> frozenset[int] | None:
    text = row.text("shifts")
    if text.lower() == "all":
        return frozenset(range(1, shift_count + 1))
    parts = [p for p in re.split(r"[,;\s]+", text) if p]
    if not all(re.fullmatch(r"[0-9]+", p) for p in parts):
        row.problem("shifts", f"{_quoted(text)} is not a list of shifts: write the shifts that still run that day, "
                              f"like 1,3, or all, or leave it blank for none")
        return None
    numbers = set()
    for part in parts:
        number, problem = _shift(part, shift_count)
        if problem:
            row.problem("shifts", problem)
            return None
        numbers.add(number)
    return frozenset(numbers)


# --- Overrides ----------------------------------------------------------------------------

_OVERRIDE_COLUMNS = ("date", "shift", "instead_of", "covered_by")


def parse_overrides(rows: Sequence[Sequence[str]], managers: Sequence[Manager], shift_count: int) -> Parsed:
    """`Date, Shift, Instead of, Covered by[, Requested at, Taken at]` as tuple[Override] in row
    order (the last two are a record for people and are not read). A row whose shift no longer
    exists is reported, and one covering the same person twice in a shift is reported on the later
    row: two people standing in for one would be a guess."""
    seen: dict[tuple[date, int, str], int] = {}
    return _read(rows, "Overrides", _OVERRIDE_COLUMNS, _OVERRIDE_COLUMNS,
                 lambda row: _override(row, managers, shift_count, seen))


def _override(row: _Row, managers: Sequence[Manager], shift_count: int,
              seen: dict[tuple[date, int, str], int]) -> Override | None:
    when = _when(row, "date", times=False)
    shift, problem = _shift(row.text("shift"), shift_count)
    if problem:
        row.problem("shift", problem)
    absent, cover = _manager(row, "instead_of", managers), _manager(row, "covered_by", managers)
    if absent is not None and cover is not None and absent.chat_id == cover.chat_id:
        row.problem("covered_by", f"Covered by names the same manager as Instead of ({_quoted(cover.name)}): "
                                  f"a manager cannot cover for themselves")
        return None
    if when is None or shift is None or absent is None or cover is None:
        return None
    key = (when[0], shift, absent.chat_id)
    if key in seen:
        row.problem("instead_of", f"{_quoted(absent.name)} is already covered on {when[0].isoformat()} shift {shift} "
                                  f"in row {seen[key]}: keep one row per person and shift")
        return None
    seen[key] = row.number
    return Override(when[0], shift, absent.chat_id, cover.chat_id, row=row.number)
