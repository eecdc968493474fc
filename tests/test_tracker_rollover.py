"""The Tracker rolls over past TrackerMaxRows, through the bot, on a CSV folder and on the fake
Sheets API (the real gspread client): every row lands once, in order, across the archive tabs and
the Tracker; a crash at any step of the flush around a rollover loses and repeats none; start-up
right after one still has the month; and the spreadsheet's cell limit is told to ops plainly."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
import responses

from rcabot.bootstrap import TEMPLATES
from rcabot.config import parse_configuration
from rcabot.rollover import archive_name, archives
from rcabot.state_tabs import TRACKER_HEADER
from rcabot.web import create_app
from rcabot.workbook.local import LocalWorkbook
from tests.conftest import set_configuration
from tests.fakes.google import SHEETS
from tests.fakes.jobs import RecordingJobs

MAX_ROWS = 5


class Killed(BaseException):
    """The process dies here: nothing after this point of the flush runs (a BaseException, so no
    `except WorkbookError` or `except OSError` of the bot takes it for a failure to recover from)."""


class Killer:
    """Kills the flush at its `at`-th step, before the step is carried out or just after it. The
    steps are every file operation that commits something (os.rename, os.replace, os.unlink: the
    CSV workbook's and the journal's) and, in Google mode, every request the fake Sheets receives."""

    def __init__(self, monkeypatch, fake=None):
        self.at, self.when, self.steps = None, "", 0
        for name in ("rename", "replace", "unlink"):
            monkeypatch.setattr(os, name, self._step(getattr(os, name)))
        if fake is not None:
            fake.router.routes[SHEETS] = self._step(fake.router.routes[SHEETS])

    def arm(self, at: int, when: str) -> None:
        self.at, self.when, self.steps = at, when, 0

    def disarm(self) -> int:
        self.at = None
        return self.steps

    def _step(self, real):
        def step(*args, **kwargs):
            if self.at is None:
                return real(*args, **kwargs)
            n, self.steps = self.steps, self.steps + 1
            if n == self.at and self.when == "before":
                self.at = None
                raise Killed
            result = real(*args, **kwargs)
            if n == self.at:
                self.at = None
                raise Killed
            return result
        return step


class LocalWorld:
    mode = "local"

    def __init__(self, tmp_path, clock):
        self.folder, self.clock, self.fake = tmp_path / "workbook", clock, None

    def configure(self, **values) -> None:
        LocalWorkbook.from_templates(self.folder, TEMPLATES)
        set_configuration(self.folder, **values)

    def start(self):
        app = create_app({"WORKBOOK_DIR": str(self.folder), "JOBS": RecordingJobs(self.clock), "CLOCK": self.clock})
        return app.extensions["rcabot"]

    def tabs(self) -> list[str]:
        return sorted(path.stem for path in self.folder.glob("*.csv"))

    def rows(self, tab: str) -> list[list[str]]:
        return LocalWorkbook(self.folder).read_tabs([tab])[tab][1:]


class GoogleWorld:
    mode = "google"

    def __init__(self, fake, clock):
        self.fake, self.clock = fake, clock

    def configure(self, **values) -> None:
        tab = next(t for t in self.fake.sheets.tabs if t.title == "Configuration")
        columns = {value: col for (row, col), value in tab.cells.items() if row == 1}
        for name, value in values.items():
            col = columns.get(name) or max(col for _, col in tab.cells) + 1
            tab.cells[(1, col)], tab.cells[(2, col)] = name, str(value)
            tab.cols = max(tab.cols, col)

    def start(self):
        app = create_app({"JOBS": RecordingJobs(self.clock), "CLOCK": self.clock, "CHAT_TRANSPORT": self.fake.http()})
        return app.extensions["rcabot"]

    def tabs(self) -> list[str]:
        return self.fake.sheets.tab_titles()

    def rows(self, tab: str) -> list[list[str]]:
        return [row + [""] * (6 - len(row)) for row in self.fake.sheets.rows(tab)[1:]]


@pytest.fixture(params=["local", "google"])
def world(request, tmp_path, clock):
    if request.param == "local":
        yield LocalWorld(tmp_path, clock)
        return
    for name in ("google_env", "no_backoff"):
        request.getfixturevalue(name)
    fake, certs = request.getfixturevalue("fake"), request.getfixturevalue("certs")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        certs.install(rsps)
        yield GoogleWorld(fake, clock)


def start_tickets(bot, clock, first: int, count: int) -> list[list[str]]:
    """`count` new tickets, a second apart; the Tracker rows now waiting for the flush."""
    for n in range(first, first + count):
        clock.advance(1)
        bot.start_ticket(f"RCA-{n}", "", "")
    return bot.tracker.waiting()


def flushed(bot) -> list[list[str]]:
    """Flush; the rows that went."""
    rows = bot.tracker.waiting()
    bot.flush(paced=False)
    assert len(bot.tracker) == 0, bot.degraded
    return rows


def all_rows(world) -> list[list[str]]:
    """The archives' rows, oldest first, then the Tracker's."""
    tabs = archives(world.tabs(), "Tracker")[::-1] + ["Tracker"]
    return [row for tab in tabs for row in world.rows(tab)]


def padded(rows):
    return [list(row) + [""] * (6 - len(row)) for row in rows]


# --- the parameter --------------------------------------------------------------------------------

def test_tracker_max_rows_defaults_to_half_a_million_and_a_bad_value_is_named_with_its_cell():
    assert parse_configuration([["TicketTimeout"], ["300"]]).value.tracker_max_rows == 300_000
    assert parse_configuration([["TrackerMaxRows"], ["5"]]).value.tracker_max_rows == 5
    for bad in ("4", "lots", "-1"):
        assert parse_configuration([["Parameter", "Value"], ["TrackerMaxRows", bad]]).problems == [
            f"Configuration B2: TrackerMaxRows is {bad!r}; it must be a whole number of at least 5"]


def test_archive_names_carry_the_day_and_a_number_when_taken():
    from datetime import date
    day = date(2026, 12, 1)
    assert archive_name("Tracker", day, ["Tracker"]) == "Tracker until 2026-12-01"
    assert archive_name("Tracker", day, ["tracker UNTIL 2026-12-01"]) == "Tracker until 2026-12-01 (2)"
    names = ["Tracker until 2026-12-01", "Tracker until 2026-12-01 (2)", "Tracker until 2026-11-02", "Tracker",
             "Tracker until someday", "Log until 2026-12-02"]
    assert archives(names, "Tracker") == ["Tracker until 2026-12-01 (2)", "Tracker until 2026-12-01",
                                          "Tracker until 2026-11-02"]


# --- the rollover, through the bot ------------------------------------------------------------------

def test_the_tracker_rolls_over_at_a_tiny_threshold_and_every_row_lands_once_in_order(world, clock):
    world.configure(TrackerMaxRows=MAX_ROWS)
    bot = world.start()
    made = []
    for n in range(1, 9, 2):  # 2 rows a flush: 2, 4, then 6 would pass 5: the third flush rolls over
        start_tickets(bot, clock, n, 2)
        made += flushed(bot)
    assert world.tabs().count("Tracker until 2026-11-23") == 1
    assert world.rows("Tracker until 2026-11-23") == padded(made[:4])
    assert world.rows("Tracker") == padded(made[4:])
    note = "Tracker rolled over: 4 rows moved to tab 'Tracker until 2026-11-23'"
    assert any(p.startswith(note) for p in bot.status()["problems"])
    bot.flush(paced=False)  # BotStatus goes with the next flush
    assert ["Problem", "Tracker rolled over"] in [row[:2] for row in world.rows("BotStatus")]


def test_a_second_rollover_the_same_day_gets_a_numbered_archive(world, clock):
    world.configure(TrackerMaxRows=MAX_ROWS)
    bot = world.start()
    made = []
    for n in range(1, 13, 2):  # 2 rows a flush: the third and the fifth flush roll over
        start_tickets(bot, clock, n, 2)
        made += flushed(bot)
    assert archives(world.tabs(), "Tracker") == ["Tracker until 2026-11-23 (2)", "Tracker until 2026-11-23"]
    assert all_rows(world) == padded(made)


def test_the_archive_is_named_after_the_configured_tracker_tab(world, clock):
    world.configure(TrackerMaxRows=MAX_ROWS, TrackerSheetName="Events")
    bot = world.start()
    made = []
    for n in range(1, 9, 2):
        start_tickets(bot, clock, n, 2)
        made += flushed(bot)
    assert "Events until 2026-11-23" in world.tabs()
    assert world.rows("Events until 2026-11-23") + world.rows("Events") == padded(made)


def test_start_up_right_after_a_rollover_still_has_the_month(world, clock):
    world.configure(TrackerMaxRows=MAX_ROWS)
    bot = world.start()
    for n in range(1, 4):  # Pinged and Accepted: 2 rows a flush, and the third flush rolls over
        start_tickets(bot, clock, n, 1)
        clock.advance(60)
        bot.click("accept", f"RCA-{n}", bot.ticket(f"RCA-{n}")["manager"]["chat_id"], None)
        flushed(bot)
    assert len(world.rows("Tracker until 2026-11-23")) == 4 and len(world.rows("Tracker")) == 2
    before = bot.stats(timedelta(days=30))[1]
    assert sum(s.pinged for s in before.values()) == 3 and sum(s.accepted for s in before.values()) == 3
    bot.close()
    again = world.start()
    assert again.stats(timedelta(days=30))[1] == before


# --- killed at every step --------------------------------------------------------------------------

STEPS = 12  # more than the scenario's flush takes (checked below)


def kill(*args, **kwargs):
    raise Killed


def near_the_threshold(world, clock, monkeypatch):
    """A bot whose Tracker holds 4 rows with 2 more waiting: the next flush rolls over. The flush
    of the 4 was killed before the journal forgot them, so the journal still holds them, as the
    Tracker does (and, after the rollover, the archive). Returns the bot and every row made, in order."""
    world.configure(TrackerMaxRows=MAX_ROWS)
    bot = world.start()
    made = flushed(bot) + start_tickets(bot, clock, 1, 4)
    monkeypatch.setattr(bot.journal, "discard", kill)
    with pytest.raises(Killed):
        bot.flush(paced=False)
    bot.journal.close()
    bot = world.start()
    assert len(bot.tracker) == 0  # the Tracker has them: none goes again
    return bot, made + start_tickets(bot, clock, 5, 2)


def test_the_kill_sweep_covers_every_step_of_the_flush(world, clock, monkeypatch):
    killer = Killer(monkeypatch, world.fake)
    bot, _ = near_the_threshold(world, clock, monkeypatch)
    killer.arm(10 ** 6, "before")
    bot.flush(paced=False)
    assert "Tracker until 2026-11-23" in world.tabs()
    steps = killer.disarm()
    print(f"{world.mode}: the flush took {steps} steps")
    assert 3 <= steps <= STEPS


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("step", range(STEPS))
def test_killed_at_any_step_of_a_rollover_flush_every_row_lands_once_in_order(world, clock, monkeypatch, step,
                                                                                when):
    """Among the steps: after the rename but before the append (the new Tracker empty, or in a CSV
    folder not there yet), and after the append but before the journal forgot the rows."""
    killer = Killer(monkeypatch, world.fake)
    bot, made = near_the_threshold(world, clock, monkeypatch)
    killer.arm(step, when)
    try:
        bot.flush(paced=False)
    except Killed:
        pass
    killer.disarm()
    bot.journal.close()  # the kernel lets go of the journal's lock; nothing else of the process runs

    clock.advance(5)
    again = world.start()
    again.flush(paced=False)
    again.flush(paced=False)
    assert len(again.tracker) == 0, again.degraded
    rows = all_rows(world)
    assert rows[:len(made)] == padded(made)
    assert len({tuple(row) for row in rows}) == len(rows)  # nothing twice, the new bot's rows included
    assert "Tracker" in world.tabs()


def test_a_csv_rollover_cut_short_after_the_rename_is_finished_quietly_by_the_next_flush(tmp_path, clock,
                                                                                       monkeypatch, caplog):
    world = LocalWorld(tmp_path, clock)
    world.configure(TrackerMaxRows=MAX_ROWS)
    bot = world.start()
    made = start_tickets(bot, clock, 1, 4)
    flushed(bot)
    renamed, rename, replace = [], os.rename, os.replace

    def rename_and_note(*args):
        rename(*args)
        renamed.append(args)

    def disk_full_once(*args):
        if renamed and renamed.pop():
            raise OSError(28, "No space left on device")
        return replace(*args)
    monkeypatch.setattr(os, "rename", rename_and_note)
    monkeypatch.setattr(os, "replace", disk_full_once)
    made += start_tickets(bot, clock, 5, 2)
    bot.flush(paced=False)  # renamed, then the new Tracker could not be written
    assert "Tracker" not in world.tabs() and len(bot.tracker) == 2
    clock.advance(10)
    bot.flush(paced=False)  # degraded since: no rollover, but the Tracker is made again
    assert len(bot.tracker) == 0
    assert all_rows(world) == padded(made)
    assert world.rows("Tracker until 2026-11-23") == padded(made[:4])
    assert not any("deleted?" in p for p in bot.status()["problems"])
    assert any("a rollover cut short" in r.getMessage() for r in caplog.records)


# --- the cell limit (Google) ---------------------------------------------------------------------------

@pytest.fixture
def google(world):
    if world.mode != "google":
        pytest.skip("Google Sheets only")
    return world


def tight_tracker(google, rows: int) -> None:
    """A Tracker whose grid has `rows` rows: the rows past them must grow it."""
    google.fake.sheets.add_tab("Tracker", [list(TRACKER_HEADER)], row_count=rows, col_count=len(TRACKER_HEADER))


def test_the_cell_limit_keeps_the_rows_tells_ops_once_and_they_land_once_after_room_is_made(google, clock, caplog):
    tight_tracker(google, 1)
    bot = google.start()
    made = flushed(bot)
    sheets = google.fake.sheets
    sheets.max_cells = sheets.cells() + 5
    waiting = start_tickets(bot, clock, 1, 3)
    for _ in range(3):
        bot.flush(paced=False)
        clock.advance(10)
    assert bot.tracker.waiting() == waiting  # kept, in order
    full = [p for p in bot.status()["problems"] if p.startswith("Spreadsheet full")]
    assert len(full) == 1
    assert "3 Tracker rows cannot be added" in full[0]
    assert "Delete old archive tabs or move them to another spreadsheet" in full[0]
    assert "Rolling the Tracker over would not help" in full[0]
    status = sheets.rows("BotStatus")
    assert any(row[:2] == ["Problem", "Spreadsheet full"] for row in status)  # written alone, no new cells
    assert sum("Spreadsheet full" in r.getMessage() for r in caplog.records) == 1
    assert not any(r.exc_info for r in caplog.records)

    sheets.max_cells = 10_000_000  # ops deleted an archive tab
    bot.flush(paced=False)
    assert len(bot.tracker) == 0
    assert google.rows("Tracker") == padded(made + waiting)
    assert not any(p.startswith("Spreadsheet full") for p in bot.status()["problems"])


def test_a_rollover_is_not_tried_while_the_spreadsheet_is_full(google, clock):
    google.configure(TrackerMaxRows=MAX_ROWS)
    tight_tracker(google, 5)
    bot = google.start()
    made = start_tickets(bot, clock, 1, 4)
    flushed(bot)
    sheets = google.fake.sheets
    sheets.max_cells = sheets.cells()  # not one cell more: no new Tracker either
    made += start_tickets(bot, clock, 5, 2)
    for _ in range(3):
        bot.flush(paced=False)
    assert len(bot.tracker) == 2
    sheets.max_cells = 10_000_000
    bot.flush(paced=False)  # the write goes in first, to the old Tracker
    made += start_tickets(bot, clock, 7, 1)
    bot.flush(paced=False)  # then the rollover
    assert all_rows(google) == padded(made)
    assert "Tracker until 2026-11-23" in google.tabs()


def test_a_rollover_with_no_room_for_the_new_tracker_is_told_as_the_cell_limit(google, clock):
    google.configure(TrackerMaxRows=MAX_ROWS)
    bot = google.start()
    made = flushed(bot) + start_tickets(bot, clock, 1, 4)
    flushed(bot)
    sheets = google.fake.sheets
    sheets.max_cells = sheets.cells()  # the Tracker's grid has blank rows left, but no new tab fits
    made += start_tickets(bot, clock, 5, 2)
    bot.flush(paced=False)
    assert len(bot.tracker) == 2 and "Tracker until 2026-11-23" not in google.tabs()
    assert [p for p in bot.status()["problems"] if p.startswith("Spreadsheet full: 2 Tracker rows")]
    sheets.max_cells = 10_000_000
    bot.flush(paced=False)  # the rows go to the old Tracker (no rollover right after a failed write)
    made += start_tickets(bot, clock, 7, 1)
    bot.flush(paced=False)
    assert all_rows(google) == padded(made) and "Tracker until 2026-11-23" in google.tabs()
