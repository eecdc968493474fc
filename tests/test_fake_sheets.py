"""The fake Sheets API, driven by the REAL gspread through `responses`: shapes, A1 ranges, RAW vs
USER_ENTERED, append table detection, grid limits, atomic batches, faults, quotas and the call log."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import gspread
import pytest
import requests
import responses
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import InvalidOperation
from google.oauth2.credentials import Credentials
from gspread.exceptions import APIError

from tests.fakes.sheets import FORMULA_SHOWN_AS, FakeSheets
from tests.fakes.transport import FakeRequest, Router

SAMPLES = Path(__file__).resolve().parent / "samples" / "sheets"  # copied from ../shared/reference/samples
BASE = "https://sheets.googleapis.com"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> FakeSheets:
    fake = FakeSheets()
    fake.add_tab("Sheet1", [["Name", "Count", "Done"], ["Ada", 3, True], ["Grace", 0.5, False]])
    fake.add_tab("Log Sheet", [["When", "What"], ["t1", "started"]])
    return fake


@pytest.fixture
def serve():
    """serve(fake) routes sheets.googleapis.com to the fake; anything else raises ConnectionError."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield lambda fake: Router({BASE: fake.handle}).install(rsps)


@pytest.fixture
def gc(fake, serve) -> gspread.Client:
    serve(fake)
    return gspread.authorize(AnonymousCredentials())


@pytest.fixture
def sh(gc, fake) -> gspread.Spreadsheet:
    return gc.open_by_key(fake.spreadsheet_id)


def api_error(call) -> APIError:
    with pytest.raises(APIError) as caught:
        call()
    return caught.value


# ---------------------------------------------------------------------- metadata and reads

def test_open_by_key_reads_the_metadata(sh, fake):
    assert sh.title == "RCA Bot" and sh.id == fake.spreadsheet_id
    assert [(ws.title, ws.index, ws.row_count, ws.col_count) for ws in sh.worksheets()] == [
        ("Sheet1", 0, 1000, 26), ("Log Sheet", 1, 1000, 26)]
    assert sh.sheet1.id == 0 and sh.worksheet("Log Sheet").id != 0
    assert fake.calls[0].response["spreadsheetUrl"] == f"https://docs.google.com/spreadsheets/d/{fake.spreadsheet_id}/edit"
    assert sh.locale == "en_US" and sh.timezone == "Etc/GMT"
    assert fake.count("spreadsheets.get") >= 1 and fake.calls[0].query == {"includeGridData": ["false"]}


def test_get_all_values_formats_numbers_and_booleans_like_the_ui(sh):
    ws = sh.worksheet("Sheet1")
    assert ws.get_all_values() == [["Name", "Count", "Done"], ["Ada", "3", "TRUE"], ["Grace", "0.5", "FALSE"]]
    assert ws.get_all_values(value_render_option="UNFORMATTED_VALUE") == [
        ["Name", "Count", "Done"], ["Ada", 3, True], ["Grace", 0.5, False]]
    assert ws.get_all_values(major_dimension="COLUMNS")[1] == ["Count", "3", "0.5"]


def test_values_get_drops_trailing_blanks_and_echoes_the_whole_range(sh, fake):
    fake.add_tab("Sparse", [["a", "", "c", ""], ["", "", "", ""], ["", "b"]])
    answer = sh.values_get("'Sparse'!A1:F10")
    assert answer == {"range": "Sparse!A1:F10", "majorDimension": "ROWS", "values": [["a", "", "c"], [], ["", "b"]]}
    assert sh.values_get("Sparse") == {"range": "Sparse!A1:Z1000", "majorDimension": "ROWS",
                                       "values": [["a", "", "c"], [], ["", "b"]]}
    empty = sh.values_get("'Sparse'!D4")
    assert empty == {"range": "Sparse!D4", "majorDimension": "ROWS"}  # no "values" key at all


def test_batch_get_reads_two_tabs_in_one_call_in_request_order(sh, fake):
    before = fake.count()
    answer = sh.values_batch_get(["'Log Sheet'!A1:B2", "'Sheet1'!B2:C3"])
    assert fake.count() == before + 1 and fake.calls[-1].kind == "values.batchGet"
    assert answer["spreadsheetId"] == fake.spreadsheet_id
    assert [vr["range"] for vr in answer["valueRanges"]] == ["'Log Sheet'!A1:B2", "Sheet1!B2:C3"]
    assert answer["valueRanges"][0]["values"] == [["When", "What"], ["t1", "started"]]
    assert answer["valueRanges"][1]["values"] == [["3", "TRUE"], ["0.5", "FALSE"]]


@pytest.mark.parametrize("a1, echoed, values", [
    ("'It''s'!A1:C", "'It''s'!A1:C1000", [["x", "y"], ["z"]]),
    ("'It''s'", "'It''s'!A1:Z1000", [["x", "y"], ["z"]]),
    ("'It''s'!A:A", "'It''s'!A1:A1000", [["x"], ["z"]]),
    ("'It''s'!A2:A", "'It''s'!A2:A1000", [["z"]]),
    ("'It''s'!2:2", "'It''s'!A2:Z2", [["z"]]),
    ("'It''s'!b1", "'It''s'!B1", [["y"]]),
    ("'It''s'!$A$1:$B$1", "'It''s'!A1:B1", [["x", "y"]]),
])
def test_a1_notation(sh, fake, a1, echoed, values):
    fake.add_tab("It's", [["x", "y"], ["z"]])
    assert sh.values_get(a1) == {"range": echoed, "majorDimension": "ROWS", "values": values}


def test_a_range_without_a_tab_is_on_the_first_visible_tab_and_titles_are_quoted_as_the_api_does(sh, fake):
    assert sh.values_get("A1:B2")["range"] == "Sheet1!A1:B2"
    assert sh.values_get("A:A")["values"] == [["Name"], ["Ada"], ["Grace"]]
    for title, echoed in (("D3", "'D3'!A1"), ("2024", "'2024'!A1"), ("My_Tab", "My_Tab!A1"),
                          ("🌵 cactus", "'🌵 cactus'!A1")):
        fake.add_tab(title)
        assert sh.values_get(f"'{title}'!A1")["range"] == echoed


@pytest.mark.parametrize("a1", ["Nope!A1", "'Nope'", "'Sheet1'!A1:B2:C3", "'Sheet1'!A", "'Sheet1'!A0"])
def test_an_unknown_tab_or_a_malformed_range_cannot_be_parsed(sh, a1):
    error = api_error(lambda: sh.values_get(a1))
    assert error.code == 400 and error.error["status"] == "INVALID_ARGUMENT"
    assert error.error["message"] == f"Unable to parse range: {a1}"


def test_tab_titles_match_whatever_their_case(sh):
    assert sh.values_get("'sheet1'!A1") == {"range": "Sheet1!A1", "majorDimension": "ROWS", "values": [["Name"]]}


def test_a_slash_in_a_title_arrives_encoded_and_is_decoded_per_segment(sh, fake):
    fake.add_tab("In/Out", [["a"]])
    assert sh.worksheet("In/Out").get_all_values() == [["a"]]
    assert "%2F" in fake.calls[-1].path


# ---------------------------------------------------------------------- RAW vs USER_ENTERED

def test_raw_keeps_a_formula_as_text_while_user_entered_makes_a_formula(sh, fake):
    ws = sh.worksheet("Log Sheet")
    injection = '=IMPORTXML("https://evil.example/x", "//a")'
    ws.update(values=[[injection, "7.5"]], range_name="A3")
    assert fake.formula("Log Sheet", "A3") is None
    assert fake.rows("Log Sheet")[2] == [injection, "7.5"]
    assert ws.get("A3:B3", value_render_option="UNFORMATTED_VALUE") == [[injection, "7.5"]]  # "7.5" stayed text
    assert fake.calls[-2].query["valueInputOption"] == ["RAW"]

    ws.update(values=[[injection, "7.5", "'0123", "true", "1,234"]], range_name="A4", raw=False)
    assert fake.formula("Log Sheet", "A4") == injection
    assert fake.rows("Log Sheet")[3] == [FORMULA_SHOWN_AS, "7.5", "0123", "TRUE", "1234"]
    assert ws.get("A4:E4", value_render_option="FORMULA") == [[injection, 7.5, "0123", True, 1234]]
    assert ws.get("A4:E4", value_render_option="UNFORMATTED_VALUE") == [[FORMULA_SHOWN_AS, 7.5, "0123", True, 1234]]


def test_a_write_needs_a_value_input_option(sh):
    error = api_error(lambda: sh.values_update("'Sheet1'!A1", params={}, body={"values": [["x"]]}))
    assert error.code == 400 and "valueInputOption" in error.error["message"]
    error = api_error(lambda: sh.values_batch_update({"data": [{"range": "'Sheet1'!A1", "values": [["x"]]}]}))
    assert error.code == 400


def test_null_leaves_a_cell_alone_and_an_empty_string_clears_it(sh, fake):
    answer = sh.values_update("'Sheet1'!A2", params={"valueInputOption": "RAW"}, body={"values": [[None, ""]]})
    assert fake.rows("Sheet1")[1] == ["Ada", "", "TRUE"]
    assert answer["updatedCells"] == 1 and answer["updatedRange"] == "Sheet1!A2:B2"


# ---------------------------------------------------------------------- grid limits and atomic writes

def test_an_update_past_the_grid_is_refused_and_changes_nothing(sh, fake):
    ws = sh.worksheet("Sheet1")
    before = fake.rows("Sheet1")
    error = api_error(lambda: ws.update(values=[["x"]], range_name="A1001"))
    assert error.code == 400 and error.error["status"] == "INVALID_ARGUMENT"
    assert error.error["message"] == "Range ('Sheet1'!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"
    error = api_error(lambda: ws.update(values=[["x", "y"]], range_name="Z5"))
    assert error.error["message"] == ("Range ('Sheet1'!Z5:AA5) exceeds grid limits. Max rows: 1000, "
                                      "max columns: 26")
    assert fake.rows("Sheet1") == before and fake.grid("Sheet1") == (1000, 26)


def test_an_update_larger_than_its_explicit_range_is_refused(sh):
    error = api_error(lambda: sh.values_update("'Sheet1'!A1:B1", params={"valueInputOption": "RAW"},
                                               body={"values": [["a", "b"], ["c", "d"]]}))
    assert error.code == 400 and "tried writing to row [2]" in error.error["message"]


def test_a_values_batch_update_with_one_bad_range_writes_nothing(sh, fake):
    before = {t: fake.rows(t) for t in fake.tab_titles()}
    for bad in ("'Missing'!A1", "'Sheet1'!A1000"):
        body = {"valueInputOption": "RAW", "data": [
            {"range": "'Log Sheet'!A5", "values": [["first"]]},
            {"range": bad, "values": [["one"], ["two"]]}]}
        assert api_error(lambda: sh.values_batch_update(body)).code == 400
    assert {t: fake.rows(t) for t in fake.tab_titles()} == before


def test_a_values_batch_update_reports_what_it_wrote(sh, fake):
    ws = sh.worksheet("Sheet1")
    answer = ws.batch_update([{"range": "A5:C5", "values": [["a", "", "c"]]},
                              {"range": "A7", "values": [["x"], ["y"]]}])
    assert answer["totalUpdatedRows"] == 3 and answer["totalUpdatedColumns"] == 3
    assert answer["totalUpdatedCells"] == 5 and answer["totalUpdatedSheets"] == 1
    assert [r["updatedRange"] for r in answer["responses"]] == ["Sheet1!A5:C5", "Sheet1!A7:A8"]
    assert fake.rows("Sheet1")[4:] == [["a", "", "c"], [], ["x"], ["y"]]


def test_include_values_in_response(sh):
    answer = sh.values_update("'Sheet1'!D1", params={"valueInputOption": "USER_ENTERED",
                                                     "includeValuesInResponse": "true"},
                              body={"values": [["42"]]})
    assert answer["updatedData"] == {"range": "Sheet1!D1", "majorDimension": "ROWS", "values": [["42"]]}


# ---------------------------------------------------------------------- append

def test_append_pinned_at_a1_with_insert_rows_lands_after_the_last_row_despite_blank_cells(sh, fake):
    fake.add_tab("Tracker", [["Timestamp", "Ticket", "Status"], ["t1", "", "Pinged"], ["", "RCA-2", ""]])
    ws = sh.worksheet("Tracker")
    answer = ws.append_rows([["t3", "RCA-3", "Accepted"]], insert_data_option="INSERT_ROWS", table_range="A1")
    assert answer["tableRange"] == "Tracker!A1:C3"
    assert answer["updates"]["updatedRange"] == "Tracker!A4:C4" and answer["updates"]["updatedRows"] == 1
    assert fake.rows("Tracker")[3] == ["t3", "RCA-3", "Accepted"]
    assert fake.grid("Tracker") == (1001, 26)  # INSERT_ROWS inserted a row
    assert fake.calls[-1].path.endswith("/values/%27Tracker%27%21A1:append")


def test_append_to_a_whole_tab_finds_the_wrong_table_after_a_gap_as_recorded(sh, fake):
    """gspread's cassettes WorksheetTest.test_append_row_with_empty_value(_and_table_range)."""
    fake.add_tab("Gap")
    ws = sh.worksheet("Gap")
    row = ["x", "", "z"]
    first = ws.append_row(row)
    assert "tableRange" not in first and first["updates"]["updatedRange"] == "Gap!A1:C1"
    second = ws.append_row(row)
    assert second["tableRange"] == "Gap!C1" and second["updates"]["updatedRange"] == "Gap!C2:E2"
    assert ws.get_values("A2:2") == [["", "", "x", "", "z"]]

    fake.add_tab("Pinned")
    pinned = sh.worksheet("Pinned")
    pinned.append_row(row)
    answer = pinned.append_row(row, table_range="A1")
    assert answer["tableRange"] == "Pinned!A1" and answer["updates"]["updatedRange"] == "Pinned!A2:C2"


def test_append_overwrite_writes_into_a_blank_row_and_grows_the_grid_when_needed(sh, fake):
    fake.add_tab("Small", [["h"], ["a"], [""], ["below"]], row_count=4, col_count=2)
    answer = sh.values_append("'Small'!A1", params={"valueInputOption": "RAW", "insertDataOption": "OVERWRITE"},
                              body={"values": [["b", "c", "d"], ["e"]]})
    assert answer["updates"]["updatedRange"] == "Small!A3:C4"
    assert fake.rows("Small") == [["h"], ["a"], ["b", "c", "d"], ["e"]]  # "below" was overwritten
    assert fake.grid("Small") == (4, 3)
    sh.values_append("'Small'!A1", params={"valueInputOption": "RAW", "insertDataOption": "OVERWRITE"},
                     body={"values": [["f"], ["g"]]})
    assert fake.grid("Small") == (6, 3) and fake.rows("Small")[4:] == [["f"], ["g"]]


def test_append_insert_rows_pushes_what_is_below_the_table_down(sh, fake):
    fake.add_tab("Notes", [["h"], ["a"], [""], ["note"]])
    sh.values_append("'Notes'!A1", params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
                     body={"values": [["b"]]})
    assert fake.rows("Notes") == [["h"], ["a"], ["b"], [], ["note"]]
    assert fake.grid("Notes") == (1001, 26)


def test_append_to_an_empty_tab_starts_at_the_range(sh, fake):
    fake.add_tab("Empty")
    answer = sh.values_append("'Empty'!B3", params={"valueInputOption": "RAW"}, body={"values": [["x"]]})
    assert "tableRange" not in answer and answer["updates"]["updatedRange"] == "Empty!B3"


# ---------------------------------------------------------------------- clear

def test_clear_and_batch_clear(sh, fake):
    ws = sh.worksheet("Sheet1")
    answer = sh.values_clear("'Sheet1'!B2:C")
    assert answer == {"spreadsheetId": fake.spreadsheet_id, "clearedRange": "Sheet1!B2:C1000"}
    assert fake.rows("Sheet1") == [["Name", "Count", "Done"], ["Ada"], ["Grace"]]
    ws.batch_clear(["A1", "A3"])
    assert fake.rows("Sheet1") == [["", "Count", "Done"], ["Ada"]]
    ws.clear()
    assert fake.rows("Sheet1") == []
    assert fake.count("values.batchClear") == 1 and fake.count("values.clear") == 2


# ---------------------------------------------------------------------- spreadsheets.batchUpdate

def test_add_worksheet_and_a_duplicate_title(sh, fake):
    ws = sh.add_worksheet("Managers", rows=100, cols=10)
    assert (ws.title, ws.row_count, ws.col_count, ws.index) == ("Managers", 100, 10, 2)
    assert fake.tab_titles() == ["Sheet1", "Log Sheet", "Managers"] and fake.grid("Managers") == (100, 10)
    reply = fake.calls[-1].response["replies"][0]["addSheet"]["properties"]
    assert set(reply) == {"sheetId", "title", "index", "sheetType", "gridProperties"}
    error = api_error(lambda: sh.add_worksheet("managers", rows=5, cols=5))
    assert error.code == 400 and error.error["message"] == (
        'Invalid requests[0].addSheet: A sheet with the name "managers" already exists. Please enter another name.')
    assert fake.tab_titles() == ["Sheet1", "Log Sheet", "Managers"]


def test_a_batch_update_is_all_or_nothing_and_its_replies_mirror_the_requests(sh, fake):
    log_id = sh.worksheet("Log Sheet").id
    body = {"requests": [{"addSheet": {"properties": {"title": "New"}}},
                         {"appendDimension": {"sheetId": log_id, "dimension": "ROWS", "length": 5}},
                         {"updateSheetProperties": {"properties": {"sheetId": log_id, "title": "Renamed"},
                                                    "fields": "title"}},
                         {"deleteSheet": {"sheetId": 123456}}]}
    error = api_error(lambda: sh.batch_update(body))
    assert error.code == 400 and error.error["message"].startswith("Invalid requests[3].deleteSheet")
    assert fake.tab_titles() == ["Sheet1", "Log Sheet"] and fake.grid("Log Sheet") == (1000, 26)

    body["requests"][-1] = {"repeatCell": {"range": {"sheetId": log_id}, "cell": {}, "fields": "*"}}
    answer = sh.batch_update(body)
    assert len(answer["replies"]) == 4 and answer["replies"][1:] == [{}, {}, {}]
    assert answer["replies"][0]["addSheet"]["properties"]["title"] == "New"
    assert fake.tab_titles() == ["Sheet1", "Renamed", "New"] and fake.grid("Renamed") == (1005, 26)


def test_resizing_a_tab_drops_the_cells_outside_it(sh, fake):
    ws = sh.worksheet("Sheet1")
    ws.resize(rows=2, cols=2)  # updateSheetProperties with fields "gridProperties/rowCount,..."
    assert fake.grid("Sheet1") == (2, 2) and fake.rows("Sheet1") == [["Name", "Count"], ["Ada", "3"]]
    ws.add_rows(3)
    assert fake.grid("Sheet1") == (5, 2) and fake.rows("Sheet1") == [["Name", "Count"], ["Ada", "3"]]


def test_delete_and_insert_rows(sh, fake):
    ws = sh.worksheet("Sheet1")
    ws.delete_rows(2)  # deleteDimension startIndex 1, endIndex 2
    assert fake.rows("Sheet1") == [["Name", "Count", "Done"], ["Grace", "0.5", "FALSE"]]
    assert fake.grid("Sheet1") == (999, 26)
    ws.insert_row(["Linus", 7, True], index=2)
    assert fake.rows("Sheet1")[1:] == [["Linus", "7", "TRUE"], ["Grace", "0.5", "FALSE"]]
    ws.delete_columns(1)
    assert fake.rows("Sheet1")[0] == ["Count", "Done"] and fake.grid("Sheet1") == (1000, 25)


def test_deleting_the_last_sheet_or_every_row_is_refused(sh, fake):
    log = sh.worksheet("Log Sheet")
    sh.del_worksheet(log)
    assert fake.tab_titles() == ["Sheet1"]
    assert api_error(lambda: sh.del_worksheet(sh.sheet1)).code == 400
    only = sh.sheet1.id
    body = {"requests": [{"deleteDimension": {"range": {"sheetId": only, "dimension": "ROWS",
                                                        "startIndex": 0, "endIndex": 1000}}}]}
    assert api_error(lambda: sh.batch_update(body)).code == 400
    unknown = {"requests": [{"makeCoffee": {}}]}
    assert "Unknown name \"makeCoffee\"" in api_error(lambda: sh.batch_update(unknown)).error["message"]


# ---------------------------------------------------------------------- errors, auth, faults, quotas

def test_an_unknown_spreadsheet_is_not_found(gc, fake):
    with pytest.raises(gspread.SpreadsheetNotFound):
        gc.open_by_key("1NoSuchSpreadsheet")
    assert fake.calls[-1].status == 404
    expected = json.loads((SAMPLES / "errors" / "spreadsheets_get_404.json").read_text())
    assert fake.calls[-1].response == expected


def test_a_token_is_required_when_configured(serve):
    fake = FakeSheets(token="ya29.good")
    fake.add_tab("Sheet1")
    serve(fake)

    def client(token: str | None) -> gspread.Client:
        session = requests.Session()  # no google-auth session: it would try to refresh on a 401
        if token:
            session.headers["Authorization"] = f"Bearer {token}"
        return gspread.authorize(AnonymousCredentials(), session=session)

    for token in (None, "ya29.bad"):
        with pytest.raises(APIError) as refused:
            client(token).open_by_key(fake.spreadsheet_id)
        assert refused.value.code == 401 and refused.value.error["status"] == "UNAUTHENTICATED"
    assert client("ya29.good").open_by_key(fake.spreadsheet_id).title == "RCA Bot"
    assert [(c.bearer, c.status) for c in fake.calls] == [("", 401), ("ya29.bad", 401), ("ya29.good", 200)]
    # Through google-auth's own session a 401 makes it refresh the credentials, as it does with Google:
    with pytest.raises(InvalidOperation):
        gspread.authorize(AnonymousCredentials()).open_by_key(fake.spreadsheet_id)
    assert gspread.authorize(Credentials(token="ya29.good")).open_by_key(fake.spreadsheet_id).title == "RCA Bot"


def test_fail_next_answers_the_status_changes_nothing_and_the_retry_succeeds(sh, fake):
    ws = sh.worksheet("Log Sheet")
    fake.fail_next(429, kind="values.append")
    error = api_error(lambda: ws.append_row(["t2", "retried"], table_range="A1"))
    assert error.code == 429 and error.error["status"] == "RESOURCE_EXHAUSTED"
    assert "Quota exceeded for quota metric 'Write requests'" in error.error["message"]
    assert fake.rows("Log Sheet") == [["When", "What"], ["t1", "started"]]
    ws.append_row(["t2", "retried"], table_range="A1")
    assert fake.rows("Log Sheet")[-1] == ["t2", "retried"]
    assert [c.status for c in fake.calls if c.kind == "values.append"] == [429, 200]


def test_fail_next_matches_its_kind_and_count(sh, fake):
    fake.fail_next(503, count=2, kind="values.get")
    sh.values_batch_get(["'Sheet1'!A1"])  # another kind: not affected
    assert api_error(lambda: sh.values_get("'Sheet1'!A1")).code == 503
    assert api_error(lambda: sh.values_get("'Sheet1'!A1")).error["status"] == "UNAVAILABLE"
    assert sh.values_get("'Sheet1'!A1")["values"] == [["Name"]]
    with pytest.raises(ValueError):
        fake.fail_next(500, kind="values.getAll")


def test_gspread_backoff_client_retries_an_injected_429(fake, serve, monkeypatch):
    serve(fake)
    monkeypatch.setattr("gspread.http_client.time.sleep", lambda seconds: None)
    gc = gspread.authorize(AnonymousCredentials(), http_client=gspread.BackOffHTTPClient)
    fake.fail_next(429, kind="spreadsheets.get")
    assert gc.open_by_key(fake.spreadsheet_id).title == "RCA Bot"
    assert [c.status for c in fake.calls] == [429, 200]


def test_a_write_quota_refuses_the_request_after_n_in_a_minute(serve):
    clock = Clock()
    fake = FakeSheets(write_quota_per_minute=3, read_quota_per_minute=100, clock=clock)
    fake.add_tab("Sheet1")
    serve(fake)
    sh = gspread.authorize(AnonymousCredentials()).open_by_key(fake.spreadsheet_id)
    ws = sh.sheet1
    for n in range(3):
        clock.now += 10
        ws.update(values=[[n]], range_name=f"A{n + 1}")
    error = api_error(lambda: ws.update(values=[["x"]], range_name="A9"))
    assert error.code == 429 and error.error["message"].startswith(
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user'")
    assert error.error["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
    assert fake.rows("Sheet1") == [["0"], ["1"], ["2"]]
    ws.get_all_values()  # reads have their own quota
    clock.now += 41  # the first write (60 s ago and more) leaves the window
    ws.update(values=[["x"]], range_name="A9")
    assert fake.peak_writes_per_minute() == 4 and fake.count(status=429) == 1


def test_a_read_quota(serve):
    fake = FakeSheets(read_quota_per_minute=2, clock=Clock())
    fake.add_tab("Sheet1")
    serve(fake)
    sh = gspread.authorize(AnonymousCredentials()).open_by_key(fake.spreadsheet_id)  # read 1
    sh.values_get("Sheet1")  # read 2
    error = api_error(lambda: sh.values_batch_get(["Sheet1"]))
    assert error.code == 429 and "'Read requests'" in error.error["message"]
    sh.values_update("'Sheet1'!A1", params={"valueInputOption": "RAW"}, body={"values": [["w"]]})  # writes pass


def test_hang_next_and_latency_sleep_with_the_injected_sleep(serve):
    slept = []
    fake = FakeSheets(latency=0.25, sleep=slept.append)
    fake.add_tab("Sheet1")
    serve(fake)
    fake.hang_next(30, kind="values.get")
    sh = gspread.authorize(AnonymousCredentials()).open_by_key(fake.spreadsheet_id)
    sh.values_get("Sheet1")
    assert slept == [0.25, 0.25, 30]


def test_timeout_next_raises_a_read_timeout_and_after_post_the_write_landed(sh, fake):
    fake.timeout_next(kind="values.get")
    with pytest.raises(requests.exceptions.ReadTimeout):
        sh.values_get("Sheet1")
    fake.timeout_next(kind="values.append", after_post=True)
    with pytest.raises(requests.exceptions.ReadTimeout):
        sh.values_append("'Log Sheet'!A1", params={"valueInputOption": "RAW"}, body={"values": [["t2", "lost"]]})
    assert fake.rows("Log Sheet")[-1] == ["t2", "lost"] and fake.calls[-1].status == 0


def test_fail_after_post_next_writes_but_answers_an_error(sh, fake):
    fake.fail_after_post_next(503, kind="values.update")
    assert api_error(lambda: sh.sheet1.update(values=[["written"]], range_name="A1")).code == 503
    assert fake.rows("Sheet1")[0][0] == "written"


# ---------------------------------------------------------------------- call log, threads

def test_the_call_log(sh, fake):
    ws = sh.sheet1
    sh.values_get("Sheet1")
    ws.update(values=[["x"]], range_name="A1")
    kinds = [c.kind for c in fake.calls]
    assert kinds[-2:] == ["values.get", "values.update"]
    assert fake.count("values.update", 200) == 1 and len(fake.writes()) == 1
    assert len(fake.reads()) == len(kinds) - 1
    update = fake.calls[-1]
    assert (update.method, update.body["values"], update.query["valueInputOption"]) == ("PUT", [["x"]], ["RAW"])


def test_peak_writes_per_minute_counts_failed_writes_too():
    clock = Clock()
    fake = FakeSheets(clock=clock)
    fake.add_tab("Sheet1")
    fake.fail_next(500, kind="values.update")
    for step in (0, 10, 45, 61, 62):  # at 1000, 1010, 1055, 1116, 1178
        clock.now += step
        fake.handle(FakeRequest("PUT", f"/v4/spreadsheets/{fake.spreadsheet_id}/values/Sheet1!A1",
                                {"valueInputOption": ["RAW"]}, b'{"values": [["x"]]}'))
    assert [c.status for c in fake.calls] == [500, 200, 200, 200, 200]
    assert fake.peak_writes_per_minute() == 3  # 1000, 1010 and 1055 (the failed one included)


def test_concurrent_appends_from_threads_lose_nothing(fake, serve):
    serve(fake)
    fake.add_tab("Tracker", [["Timestamp", "Ticket"]])
    errors = []

    def worker(n: int) -> None:
        try:
            ws = gspread.authorize(AnonymousCredentials()).open_by_key(fake.spreadsheet_id).worksheet("Tracker")
            for k in range(5):
                ws.append_row([f"t{n}-{k}", f"RCA-{n}"], insert_data_option="INSERT_ROWS", table_range="A1")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    rows = fake.rows("Tracker")[1:]
    assert len(rows) == 30 and sorted(r[0] for r in rows) == sorted(f"t{n}-{k}" for n in range(6) for k in range(5))


# ---------------------------------------------------------------------- shapes match the recorded bodies

def shape(value):
    """The key structure of a JSON value: dicts by keys (recursively), lists by their first element."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if not isinstance(value, (int, float)) or isinstance(value, bool) else "number"


def sample(name: str):
    return json.loads((SAMPLES / name).read_text())


def test_responses_have_the_recorded_shapes(sh, fake):
    ws = sh.sheet1
    assert shape(fake.calls[0].response) == shape(sample("spreadsheets_get.json"))
    fake.add_tab("Data", [["a", "b", "c"], ["d", "e", "f"]], row_count=10, col_count=10)
    assert shape(sh.values_get("'Data'")) == shape(sample("values_get.json"))
    assert shape(sh.values_batch_get(["'Data'!A1:B1", "'Data'!B2:D2"])) == shape(sample("values_batchGet.json"))
    assert shape(sh.values_update("'Data'!A1", params={"valueInputOption": "RAW"},
                                  body={"values": [["g", "h", "i"]]})) == shape(sample("values_update.json"))
    appended = ws.append_row(["x"] * 10)
    assert shape(appended) == shape(sample("values_append.json"))
    assert shape(ws.batch_update([{"range": "A1:D1", "values": [["A1", "B1", "", "D1"]]},
                                  {"range": "A4:D4", "values": [["A4", "B4", "", "D4"]]}])) == \
        shape(sample("values_batchUpdate.json"))
    error = api_error(lambda: sh.values_update("'Sheet1'!A1", params={"valueInputOption": "RAW"},
                                               body={"values": "X", "majorDimension": None}))
    assert fake.calls[-1].response == sample("errors/values_update_400.json")
    assert error.code == 400


# ---------------------------------------------------------------------- odds and ends

def test_served_as_a_wsgi_app_it_reads_the_raw_path(fake):
    """As under werkzeug or gunicorn (RAW_URI): a '/' in a title survives; no socket needed here."""
    import io
    from urllib.parse import unquote

    fake.add_tab("In/Out", [["a"]])
    app = Router({BASE: fake.handle}).wsgi(BASE)
    raw = f"/v4/spreadsheets/{fake.spreadsheet_id}/values/%27In%2FOut%27%21A1"
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": unquote(raw), "RAW_URI": raw,
               "QUERY_STRING": "valueRenderOption=FORMATTED_VALUE", "wsgi.input": io.BytesIO(b"")}
    status = []
    body = b"".join(app(environ, lambda line, headers: status.append(line)))
    assert status == ["200 OK"]
    assert json.loads(body) == {"range": "'In/Out'!A1", "majorDimension": "ROWS", "values": [["a"]]}


def test_a_hidden_first_tab_is_skipped_by_a_range_without_a_tab(sh, fake):
    sheet1 = sh.sheet1.id
    sh.batch_update({"requests": [{"updateSheetProperties": {"properties": {"sheetId": sheet1, "hidden": True},
                                                             "fields": "hidden"}}]})
    assert sh.values_get("A1")["range"] == "'Log Sheet'!A1"
    assert sh.fetch_sheet_metadata()["sheets"][0]["properties"]["hidden"] is True


def test_numbers_are_shown_in_a_general_format(sh, fake):
    sh.values_update("'Sheet1'!A5", params={"valueInputOption": "RAW"},
                     body={"values": [[1e20, 0.1 + 0.2, 5.0, -3, 12345678901]]})
    sh.values_update("'Sheet1'!A6", params={"valueInputOption": "USER_ENTERED"},
                     body={"values": [["1e3", ".5", " 12 ", "1,23", "+7", "=", "nan"]]})
    assert fake.rows("Sheet1")[4:] == [["1E+20", "0.3", "5", "-3", "12345678901"],
                                       ["1000", "0.5", "12", "1,23", "7", "=", "nan"]]
    assert sh.values_get("'Sheet1'!A5:C5", params={"valueRenderOption": "UNFORMATTED_VALUE"})["values"] == [
        [1e20, 0.30000000000000004, 5]]


def test_a_real_request_the_fake_lacks_is_named_as_such(sh):
    body = {"requests": [{"duplicateSheet": {"sourceSheetId": 0}}]}
    assert "does not implement duplicateSheet" in api_error(lambda: sh.batch_update(body)).error["message"]


def test_another_path_is_not_found(fake, serve):
    serve(fake)
    answer = requests.get(f"{BASE}/v4/spreadsheets/{fake.spreadsheet_id}/developerMetadata/1")
    assert answer.status_code == 404 and answer.json()["error"]["status"] == "NOT_FOUND"
    assert fake.calls[-1].kind == "unknown"
