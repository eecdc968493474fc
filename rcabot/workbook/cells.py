"""Cells a spreadsheet app would take for a formula are stored so that they open as text.

A leading apostrophe is what Sheets and Excel use to mark text; it is added on write and removed
on read, so the value the bot reads back is the value it wrote.
"""
from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SURROGATE = re.compile("[\ud800-\udfff]")


def escape(value: str) -> str:
    if value.startswith(FORMULA_STARTS) or value.startswith("'"):
        return "'" + value
    return value


def unescape(value: str) -> str:
    return value[1:] if value.startswith("'") else value


def plain(value: str) -> str:
    """`value` with each lone UTF-16 surrogate made U+FFFD.

    JSON allows a lone surrogate (`"\\ud83d"`, half an emoji cut by some client), UTF-8 does not:
    kept, it would make every later write of the cell fail (a CSV file cannot be encoded)."""
    if not _SURROGATE.search(value):
        return value
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def trimmed(row) -> list[str]:
    """A row as Sheets returns it: trailing empty cells dropped."""
    row = [str(cell) for cell in row]
    while row and row[-1] == "":
        row.pop()
    return row


def landed(tail, rows) -> int:
    """How many of `rows`, from the first, the tab already ends with (`tail`: its last rows).

    Appends are all or nothing and go in order, so what reached the tab of rows sent (and maybe
    sent again) is a head of them."""
    tail, rows = [trimmed(r) for r in tail], [trimmed(r) for r in rows]
    return next((k for k in range(min(len(tail), len(rows)), 0, -1) if tail[-k:] == rows[:k]), 0)


def column_letter(index: int) -> str:
    """A spreadsheet's column name for a 0-based index: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
