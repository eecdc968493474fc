"""Start-up reads the Tracker's last month, not the whole of it: a Tracker of years is read back
from its end, by numbered ranges, until the rows are older than the window the bot keeps."""
from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from rcabot.bootstrap import SHEETS_SCOPE
from rcabot.history import KEEP
from rcabot.state_tabs import TRACKER_HEADER, iso, parse_iso, rows_to_reach
from rcabot.web import create_app
from rcabot.workbook.cells import trimmed
from rcabot.workbook.google import GoogleWorkbook
from rcabot.workbook.local import LocalWorkbook

OLD_ROWS, RECENT_ROWS = 49_000, 1_000  # two years of history, the last month of it
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)


def a_tracker_of_years(now) -> list[list[str]]:
    """OLD_ROWS rows spread over the two years before the window, then RECENT_ROWS inside it, and
    a note without a time among them."""
    start, old_span = now - timedelta(days=730), timedelta(days=730) - KEEP - timedelta(days=1)
    old = [[iso(start + old_span * n / OLD_ROWS), f"RCA-{n}", "Ada", "Pinged", "users/1", "shift 1, attempt 1"]
           for n in range(OLD_ROWS)]
    recent = [[iso(now - timedelta(days=30) + timedelta(days=30) * n / RECENT_ROWS), f"NEW-{n}", "Bea",
               "Accepted", "users/2", ""] for n in range(RECENT_ROWS)]
    return [list(TRACKER_HEADER)] + old + recent[:500] + [["a note from ops"]] + recent[500:]


def cells_read(calls) -> int:
    """Every cell the reads among `calls` returned."""
    total = 0
    for call in calls:
        ranges = call.response.get("valueRanges", [call.response]) if call.kind.startswith("values") else []
        total += sum(len(row) for vr in ranges for row in vr.get("values", []))
    return total


@pytest.fixture
def booted_on_years(google_env, fake, certs, jobs, clock, no_backoff):
    """The bot started in Google mode on a spreadsheet whose Tracker holds 50,000 rows."""
    fake.sheets.add_tab("Tracker", a_tracker_of_years(clock()))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        certs.install(rsps)
        yield create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": fake.http()}).extensions["rcabot"]


def test_start_up_reads_a_tenth_of_a_tracker_of_years_by_numbered_ranges(booted_on_years, fake):
    reads = fake.sheets.reads()
    ranges = [r for c in reads if c.kind == "values.batchGet" for r in c.query["ranges"]]
    ranges += [unquote(c.path).rpartition("/")[2] for c in reads if c.kind == "values.get"]
    tracker = [r for r in ranges if r.startswith("'Tracker'")]
    assert tracker and all(r.partition("!")[2][:1].isdigit() for r in tracker)  # numbered rows, never all of it
    assert cells_read(reads) < (OLD_ROWS + RECENT_ROWS) * 6 // 10


def test_start_up_keeps_exactly_the_last_month_of_the_tracker(booted_on_years):
    assert len(booted_on_years.history) == RECENT_ROWS


def test_the_first_flush_after_start_up_appends_after_the_last_row_without_reading_the_tracker_again(
        booted_on_years, fake):
    bot = booted_on_years
    before = len(fake.sheets.calls)
    bot.start_ticket("RCA-NEW", "A new one", "")
    bot.flush()
    assert [c.kind for c in fake.sheets.calls[before:] if c.kind in ("values.get", "values.batchGet")] == []
    assert fake.sheets.rows("Tracker")[OLD_ROWS + RECENT_ROWS + 2][1] == "RCA-NEW"


def test_a_local_start_up_keeps_exactly_the_last_month_of_a_tracker_of_years(tmp_path, jobs, clock):
    folder = tmp_path / "workbook"
    folder.mkdir()
    with open(folder / "Tracker.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(a_tracker_of_years(clock()))
    bot = create_app({"WORKBOOK_DIR": str(folder), "JOBS": jobs, "CLOCK": clock}).extensions["rcabot"]
    assert len(bot.history) == RECENT_ROWS
    assert bot.history.since(clock() - KEEP)[0].ticket_id == "NEW-0"


# --- the CSV file read back from its end --------------------------------------------------------

cell = st.text(alphabet='ab,;"\n\r =é', max_size=6)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(cell, min_size=1, max_size=4), max_size=12), block=st.integers(1, 40),
       newline=st.sampled_from(["\n", "\r\n"]), sep=st.sampled_from([",", ";"]), bom=st.booleans())
def test_a_csv_file_read_back_in_blocks_gives_the_rows_a_whole_read_gives(tmp_path_factory, rows, block, newline,
                                                                             sep, bom):
    """Quoted separators, quotes and line breaks, either line ending, the separator of a spreadsheet
    app set to a language with decimal commas, a byte order mark: blocks never split a record."""
    folder = tmp_path_factory.mktemp("workbook")
    with open(folder / "Tracker.csv", "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        csv.writer(f, delimiter=sep, lineterminator=newline).writerows([["Timestamp", "Ticket", "Status"]] + rows)
    workbook = LocalWorkbook(folder, tail_bytes=block)
    whole = [trimmed(row) for row in workbook.read_tabs(["Tracker"])["Tracker"][1:]]
    assert workbook.recent_rows("Tracker", lambda row: None) == whole


def test_a_tracker_grid_far_longer_than_its_rows_is_walked_back_in_doubling_chunks(fake):
    """Ops added 100,000 blank rows below 100 rows: a few reads find them, and the end is known."""
    fake.sheets.add_tab("Tracker", a_tracker_of_years(NOW)[-100:], row_count=100_100)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        workbook = GoogleWorkbook(fake.sheets.spreadsheet_id, fake.credentials(SHEETS_SCOPE), sleep=lambda s: None)
        assert len(workbook.recent_rows("Tracker", lambda row: False)) == 99  # below the first, as a header
        workbook.append_rows("Tracker", [["t", "RCA-NEW", "Ada", "Pinged"]])
    # The tab list (once: no gspread Spreadsheet reads it again), 5,000 rows, then 10,000, 20,000,
    # 40,000, 80,000, the write.
    assert [c.kind for c in fake.sheets.calls] == ["spreadsheets.get"] + ["values.get"] * 5 + \
        ["values.batchUpdate"]
    assert fake.sheets.calls[-1].body["data"][0]["range"].startswith("'Tracker'!A101:")


def test_a_busy_trackers_month_is_read_back_in_two_requests_not_in_doubling_chunks(fake):
    """20,000 rows over 60 days: a month is 10,000 rows; read from 500 rows a chunk, doubling would
    take five requests. The pace of the first chunk says how far back the month starts."""
    start = NOW - timedelta(days=60)
    rows = [[iso(start + timedelta(days=60) * n / 20_000), f"RCA-{n}", "Ada", "Pinged"] for n in range(20_000)]
    fake.sheets.add_tab("Tracker", [list(TRACKER_HEADER)] + rows, col_count=6)
    since = NOW - KEEP
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        workbook = GoogleWorkbook(fake.sheets.spreadsheet_id, fake.credentials(SHEETS_SCOPE), sleep=lambda s: None,
                                  tail_rows=500)
        recent = workbook.recent_rows("Tracker", lambda row: parse_iso(row[0]) < since,
                                      lambda read: rows_to_reach(read, since))
    reads = [c for c in fake.sheets.calls if c.kind == "values.get"]
    assert len(reads) == 2
    kept = [row for row in recent if parse_iso(row[0]) >= since]
    assert len(kept) == sum(parse_iso(row[0]) >= since for row in rows)  # the whole month, none missed
    assert len(recent) < len(kept) * 1.3  # and not much more than it


def test_a_restart_reads_the_state_the_headers_and_the_trackers_month_in_one_request(
        google_env, fake, certs, jobs, clock, no_backoff):
    """A spreadsheet the bot has run on: the tab list, the Configuration and Managers, then one
    batchGet for the rest (state tabs, header rows, the Tracker's last 5,000 rows), and no write."""
    from rcabot.state_tabs import headers
    from rcabot.config import TabNames
    from rcabot.status_tab import STATUS_HEADER
    for tab, header in {**headers(TabNames()), "BotStatus": STATUS_HEADER}.items():
        if tab != "Tracker":
            fake.sheets.add_tab(tab, [header])
    fake.sheets.add_tab("Tracker", a_tracker_of_years(clock()))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        certs.install(rsps)
        bot = create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": fake.http()}).extensions["rcabot"]
    assert [c.kind for c in fake.sheets.calls] == ["spreadsheets.get", "values.batchGet", "values.batchGet"]
    assert len(bot.history) == RECENT_ROWS


cells = st.one_of(st.text(max_size=30), st.datetimes(timezones=st.just(timezone.utc)).map(iso))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cells, max_size=4), min_size=1, max_size=30))
def test_the_guess_of_how_far_back_the_month_starts_takes_any_rows(rows):
    """Ops' notes, cut rows and times out of order among the Tracker's: a guess or none, never an error."""
    guess = rows_to_reach(rows, NOW - KEEP)
    assert guess is None or (isinstance(guess, int) and guess >= 0)
