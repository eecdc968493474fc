"""The Tracker's rollover: a Tracker about to pass `TrackerMaxRows` rows is renamed to an archive
tab (`Tracker until 2026-12-01`, the bot's local date) and a new Tracker, header only, takes the
rows; and the spreadsheet's limit of cells, told to ops when Google answers with it.

A Google spreadsheet holds at most 10 million cells, so a Tracker appended to for years stops
taking rows, and every flush with it. The rollover renames, never copies: in Google mode it is one
batchUpdate (done whole or not at all), in a CSV folder a rename then a new file, and a crash
between leaves the rows all in the archive and no Tracker, which start-up makes again. It runs in
the flush, which holds the bot's flush lock, before the waiting rows are appended: nothing else
appends meanwhile. Reading back (the last month at start-up, the Tracker's end that the journal is
compared with) goes on into the newest archive where the Tracker is too young or too short.
"""
from __future__ import annotations

import logging
import re
from datetime import date
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from .state_tabs import headers
from .workbook import Older, Reach, Rows, SpreadsheetFull, TabNotFound, Workbook, WorkbookError, begins_older

if TYPE_CHECKING:
    from .bot import RcaBot

log = logging.getLogger(__name__)
FULL = "Spreadsheet full"  # how the BotStatus problem line about the cell limit starts
MOST_ARCHIVES_READ = 12  # at start-up, for the last month (a tiny TrackerMaxRows makes several a month)


def archive_name(tab: str, day: date, taken: Iterable[str]) -> str:
    """`Tracker until 2026-12-01`, then ` (2)`, ` (3)`... when taken (tab names match in any case, as in Sheets)."""
    folded = {name.casefold() for name in taken}
    base = f"{tab} until {day.isoformat()}"
    name, number = base, 1
    while name.casefold() in folded:
        number += 1
        name = f"{base} ({number})"
    return name


def archives(names: Iterable[str], tab: str) -> list[str]:
    """The archive tabs the rollover made of `tab`, newest first."""
    pattern = re.compile(rf"{re.escape(tab)} until (\d{{4}}-\d\d-\d\d)(?: \((\d+)\))?")
    found = [(match.group(1), int(match.group(2) or 1), name) for name in names
             if (match := pattern.fullmatch(name))]
    return [name for _, _, name in sorted(found, reverse=True)]


def recent_rows(workbook: Workbook, tab: str, older: Older, reach: Reach | None = None) -> Rows:
    """The Tracker's recent rows (`Workbook.recent_rows`), preceded by the newest archives' while
    the Tracker does not reach back to an older row: right after a rollover, the month is there."""
    rows = workbook.recent_rows(tab, older, reach)
    if begins_older(rows, older):
        return rows
    for archive in archives(workbook.tab_names(), tab)[:MOST_ARCHIVES_READ]:
        more = workbook.recent_rows(archive, older, reach)
        rows = more + rows
        if begins_older(more, older):
            break
    return rows


def tracker_end(workbook: Workbook, tab: str, count: int) -> Rows:
    """The last `count` rows appended, the newest archive's last ones first where the Tracker holds
    fewer: what the journal's rows are compared with at start-up, so that a flush cut short by a
    crash around a rollover writes none of them twice."""
    rows = workbook.last_rows(tab, count)
    if len(rows) < count:
        newest = archives(workbook.tab_names(), tab)[:1]
        if newest:
            rows = workbook.last_rows(newest[0], count - len(rows)) + rows
    return rows


class Rollover:
    """The flush's write, with the rollover before it and the cell limit told to ops after it."""

    def __init__(self, bot: "RcaBot"):
        self.bot = bot

    def write(self, replace: Mapping[str, Sequence[Sequence[str]]],
              append: Mapping[str, Sequence[Sequence[str]]],
              update: Mapping[str, Mapping[int, Sequence[str]]] | None = None) -> None:
        bot = self.bot
        tab = bot.config.tabs.tracker
        rows = append.get(tab, [])
        try:
            if rows:
                self._roll_over_if_due(tab, len(rows))
            bot.workbook.write(replace, append, update)
        except SpreadsheetFull as full:  # the new Tracker's grid counts too
            self._full(full, len(rows))
            raise
        self._room_again()

    def _roll_over_if_due(self, tab: str, adding: int) -> None:
        bot, workbook = self.bot, self.bot.workbook
        header = headers(bot.config.tabs)[tab]
        try:
            count = workbook.row_count(tab)
        except TabNotFound:
            if not archives(workbook.tab_names(), tab):
                raise  # deleted by hand: the flush makes it again and says so
            workbook.ensure_tabs({tab: header})
            log.warning("tracker: the %s tab was missing and an archive of it exists: a rollover cut short "
                        "(a crash after the rename) is finished now", tab)
            return
        # After a write that failed, it may still land late, at the rows after the Tracker's end:
        # the retry goes to the same rows, and the rollover waits for one write that went through.
        if count == 0 or count + adding <= bot.config.tracker_max_rows or "workbook" in bot.degraded:
            return
        day = bot.clock().astimezone(bot.config.schedule.zone).date()
        archive = archive_name(tab, day, workbook.tab_names())
        workbook.roll_over(tab, archive, header)
        note = (f"{tab} rolled over: {count:,} rows moved to tab {archive!r} (TrackerMaxRows "
                f"{bot.config.tracker_max_rows:,}); a new {tab} takes the rows from now on")
        log.warning("tracker: %s", note)
        self._tell(note)

    def _full(self, full: SpreadsheetFull, waiting: int) -> None:
        """One problem line (not one a flush), and the BotStatus tab written alone, which needs no
        new cells: the flush that would have carried it cannot."""
        if any(p.startswith(FULL) for p in self.bot.problems):
            return
        what = str(full).partition("the spreadsheet is full: ")[2] or str(full)
        note = f"{FULL}: {waiting:,} Tracker rows cannot be added. {what}"
        log.error("tracker: %s", note)
        self._tell(note)
        bot = self.bot
        now = bot.clock()
        if bot.sheets_pace.take(now, 1) > 0:
            return  # within the quota or not at all: the log said it, a later flush may write it
        try:
            bot.workbook.replace_tabs({bot.config.tabs.status: bot.status_rows()})
        except WorkbookError as exc:
            log.error("tracker: the BotStatus tab could not be written either (%s)", exc)

    def _room_again(self) -> None:
        bot = self.bot
        if not any(p.startswith(FULL) for p in bot.problems):
            return
        log.info("tracker: the spreadsheet took the Tracker rows again")
        with bot._lock:
            bot.problems = [p for p in bot.problems if not p.startswith(FULL)]
        bot._refresh_status()

    def _tell(self, note: str) -> None:
        """A BotStatus problem line until the next reload rereads the tabs."""
        bot = self.bot
        with bot._lock:
            bot.problems = [*bot.problems, note]
        bot._refresh_status()
