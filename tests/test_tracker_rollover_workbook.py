"""The Workbook's part of the Tracker rollover, the same promises from the CSV folder and from
Google Sheets (the real gspread client against the fake Sheets API): `row_count` and `roll_over`,
and the cell limit as Google answers it."""
from __future__ import annotations

import pytest

from rcabot.workbook import SpreadsheetFull, TabNotFound, WorkbookError
from tests.fakes.sheets import BATCH_UPDATE
from tests.test_workbook_contract import GoogleSide, LocalSide, side  # noqa: F401  (the fixture, both sides)

HEADERS = {"TicketState": ["Ticket", "Status"], "Tracker": ["Timestamp", "Ticket", "Status"]}
ROWS = [[f"t{n}", f"RCA-{n}", "Pinged"] for n in range(1, 4)]


def test_row_count_is_the_rows_below_the_header_and_follows_the_writes(side):
    side.workbook.ensure_tabs(HEADERS)
    assert side.workbook.row_count("Tracker") == 0
    side.workbook.append_rows("Tracker", ROWS)
    assert side.workbook.row_count("Tracker") == 3
    side.workbook.write({"TicketState": [["Ticket", "Status"], ["RCA-1", "Pinged"]]}, {"Tracker": ROWS[:1]})
    assert (side.workbook.row_count("Tracker"), side.workbook.row_count("TicketState")) == (4, 1)


def test_row_count_of_a_tab_the_bot_has_not_looked_at_yet_counts_it(side):
    side.workbook.ensure_tabs(HEADERS)
    side.workbook.append_rows("Tracker", ROWS)
    fresh = side.small_chunks()  # another adapter on the same workbook: nothing known of it yet
    assert fresh.row_count("Tracker") == 3


def test_row_count_of_a_missing_tab_names_it(side):
    with pytest.raises(TabNotFound) as missing:
        side.workbook.row_count("Tracker")
    assert missing.value.tab == "Tracker"


def test_roll_over_renames_the_tab_and_a_new_one_with_the_header_takes_the_next_rows(side):
    side.workbook.ensure_tabs(HEADERS)
    side.workbook.append_rows("Tracker", ROWS)
    side.workbook.roll_over("Tracker", "Tracker until 2026-11-23", HEADERS["Tracker"])
    assert {"Tracker", "Tracker until 2026-11-23"} <= side.workbook.tab_names()
    assert side.workbook.row_count("Tracker") == 0
    side.workbook.append_rows("Tracker", [["t4", "RCA-4", "Pinged"]])
    tables = side.workbook.read_tabs(["Tracker until 2026-11-23", "Tracker"])
    assert tables["Tracker until 2026-11-23"] == [HEADERS["Tracker"], *ROWS]
    assert tables["Tracker"] == [HEADERS["Tracker"], ["t4", "RCA-4", "Pinged"]]
    assert side.workbook.row_count("Tracker until 2026-11-23") == 3
    assert side.workbook.last_rows("Tracker until 2026-11-23", 2) == ROWS[1:]


def test_roll_over_onto_a_name_taken_changes_nothing(side):
    side.workbook.ensure_tabs({**HEADERS, "Tracker until 2026-11-23": HEADERS["Tracker"]})
    side.workbook.append_rows("Tracker", ROWS)
    with pytest.raises(WorkbookError, match="exists already"):
        side.workbook.roll_over("Tracker", "Tracker until 2026-11-23", HEADERS["Tracker"])
    assert side.workbook.read_tabs(["Tracker"])["Tracker"] == [HEADERS["Tracker"], *ROWS]
    assert side.workbook.row_count("Tracker until 2026-11-23") == 0


def test_roll_over_of_a_missing_tab_names_it(side):
    with pytest.raises(TabNotFound):
        side.workbook.roll_over("Tracker", "Tracker until 2026-11-23", HEADERS["Tracker"])


# --- Google: one batchUpdate, whole or nothing; the cell limit ---------------------------------------

@pytest.fixture
def google(side):
    if isinstance(side, LocalSide):
        pytest.skip("Google Sheets only")
    return side


def test_the_google_rollover_is_one_batch_update_in_the_tracker_s_place(google):
    google.workbook.ensure_tabs(HEADERS)
    google.workbook.append_rows("Tracker", ROWS)
    place = google.fake.sheets.tab_titles().index("Tracker")
    writes = google.fake.sheets.count(BATCH_UPDATE)
    google.workbook.roll_over("Tracker", "Tracker until 2026-11-23", HEADERS["Tracker"])
    assert google.fake.sheets.count(BATCH_UPDATE) == writes + 1
    titles = google.fake.sheets.tab_titles()
    assert titles[place:place + 2] == ["Tracker", "Tracker until 2026-11-23"]
    assert google.fake.sheets.grid("Tracker")[1] == 3  # as wide as the header: every column costs cells


def test_a_google_rollover_whose_answer_was_lost_is_found_done(google):
    google.workbook.ensure_tabs(HEADERS)
    google.workbook.append_rows("Tracker", ROWS)
    google.fake.sheets.fail_after_post_next(503, kind=BATCH_UPDATE)  # carried out, the answer lost
    google.workbook.roll_over("Tracker", "Tracker until 2026-11-23", HEADERS["Tracker"])
    google.workbook.append_rows("Tracker", [["t4", "RCA-4", "Pinged"]])
    assert google.fake.sheets.rows("Tracker until 2026-11-23") == [HEADERS["Tracker"], *ROWS]
    assert google.fake.sheets.rows("Tracker") == [HEADERS["Tracker"], ["t4", "RCA-4", "Pinged"]]


def test_a_google_rollover_past_the_cell_limit_changes_nothing(google):
    google.workbook.ensure_tabs(HEADERS)
    google.workbook.append_rows("Tracker", ROWS)
    google.fake.sheets.max_cells = google.fake.sheets.cells() + 10  # no room for a new tab
    with pytest.raises(SpreadsheetFull):
        google.workbook.roll_over("Tracker", "Tracker until 2026-11-23", HEADERS["Tracker"])
    assert "Tracker until 2026-11-23" not in google.fake.sheets.tab_titles()
    assert google.fake.sheets.rows("Tracker") == [HEADERS["Tracker"], *ROWS]


def test_the_cell_limit_is_told_plainly_and_the_write_goes_once_there_is_room(google):
    google.workbook.ensure_tabs(HEADERS)
    google.workbook.append_rows("Tracker", ROWS)
    google.fake.sheets.max_cells = google.fake.sheets.cells() + 10
    many = [[f"u{n}", "RCA-9", "Pinged"] for n in range(1200)]  # past the grid's 1,000 rows: it must grow
    with pytest.raises(SpreadsheetFull, match=r"the spreadsheet is full: Google allows 10,000,000 cells") as full:
        google.workbook.write({}, {"Tracker": many})
    assert "delete old archive tabs or move them to another spreadsheet" in str(full.value).lower()
    assert "TrackerMaxRows" in str(full.value)
    google.fake.sheets.max_cells = 10_000_000  # ops made room
    google.workbook.write({}, {"Tracker": many})
    assert google.fake.sheets.rows("Tracker") == [HEADERS["Tracker"], *ROWS, *many]


def test_the_fake_answers_the_cell_limit_as_google_does(google):
    google.workbook.ensure_tabs(HEADERS)
    sheets = google.fake.sheets
    sheets.max_cells = sheets.cells()
    sheet_id = next(t.sheet_id for t in sheets.tabs if t.title == "Tracker")
    with pytest.raises(Exception):
        google.workbook._sheet().batch_update({"requests": [
            {"appendDimension": {"sheetId": sheet_id, "dimension": "ROWS", "length": 1}}]})
    answer = sheets.calls[-1].response["error"]
    assert (answer["code"], answer["status"]) == (400, "INVALID_ARGUMENT")
    assert answer["message"] == ("Invalid requests[0].appendDimension: This action would increase the number "
                                 f"of cells in the workbook above the limit of {sheets.max_cells} cells.")


def test_a_local_count_is_kept_not_read_again_at_each_flush(side, monkeypatch):
    if isinstance(side, GoogleSide):
        pytest.skip("the CSV folder only")
    side.workbook.ensure_tabs(HEADERS)
    side.workbook.append_rows("Tracker", ROWS)
    assert side.workbook.row_count("Tracker") == 3
    monkeypatch.setattr("builtins.open", lambda *args, **kwargs: pytest.fail("the Tracker was read again"))
    assert side.workbook.row_count("Tracker") == 3
