"""The Google workbook's own promises: few requests, RAW writes, retries that neither give up too
soon nor write twice, and errors an operator can act on."""
from __future__ import annotations

import json

import pytest
import requests
import responses

from rcabot.bootstrap import SHEETS_SCOPE
from rcabot.workbook import TabNotFound, WorkbookError
from rcabot.workbook.google import GoogleWorkbook
from tests.fakes.google import SHEETS, TOKEN_URI, FakeGoogle
from tests.fakes.transport import FakeRequest, Router

HEADERS = {"TicketState": ["Ticket", "Status"], "Tracker": ["Timestamp", "Ticket", "Status"]}


@pytest.fixture
def fake():
    fake = FakeGoogle()
    fake.sheets.add_tab("Managers", [["Name", "GChat ID"], ["Ada", "users/1"]])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        yield fake


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def workbook(fake, waits) -> GoogleWorkbook:
    return GoogleWorkbook(fake.sheets.spreadsheet_id, fake.credentials(SHEETS_SCOPE), sleep=waits.append)


def test_reading_several_tabs_is_one_request(fake, workbook):
    workbook.ensure_tabs(HEADERS)
    before = fake.sheets.count()
    workbook.read_tabs(["Managers", "TicketState", "Tracker"])
    assert [c.kind for c in fake.sheets.calls[before:]] == ["values.batchGet"]


def test_a_flush_is_one_raw_batch_update_with_the_tracker_rows_at_numbered_rows(fake, workbook):
    workbook.ensure_tabs(HEADERS)
    workbook.read_tabs(["Tracker"])  # the bot reads it at start-up: the end is known from then
    before = fake.sheets.count()
    workbook.write({"TicketState": [["Ticket", "Status"], ["RCA-1", "Pinged"]]},
                   {"Tracker": [["t1", "RCA-1", "Pinged"]]})
    workbook.write({}, {"Tracker": [["t2", "RCA-1", "Accepted"], ["t3", "RCA-1", "Completed"]]})
    first, second = fake.sheets.calls[before:]
    assert first.kind == second.kind == "values.batchUpdate" and first.body["valueInputOption"] == "RAW"
    assert [d["range"] for d in first.body["data"]] == ["'TicketState'!A1:B2", "'Tracker'!A2:C2"]
    assert [d["range"] for d in second.body["data"]] == ["'Tracker'!A3:C4"]
    assert fake.sheets.rows("Tracker")[1:] == [["t1", "RCA-1", "Pinged"], ["t2", "RCA-1", "Accepted"],
                                               ["t3", "RCA-1", "Completed"]]


def test_the_end_of_a_tab_not_read_yet_is_found_with_one_read(fake, workbook):
    workbook.ensure_tabs(HEADERS)
    before = fake.sheets.count()
    workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"]])
    assert [c.kind for c in fake.sheets.calls[before:]] == ["values.get", "values.batchUpdate"]


def test_throttling_is_retried_with_growing_waits_and_writes_once(fake, workbook, waits):
    workbook.ensure_tabs(HEADERS)
    workbook.read_tabs(["Tracker"])
    fake.sheets.fail_next(429, count=2, kind="values.batchUpdate")
    workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"]])
    assert fake.sheets.rows("Tracker")[1:] == [["t1", "RCA-1", "Pinged"]]
    assert len(waits) == 2 and 1 <= waits[0] < 2 <= waits[1] < 3


def test_a_persistent_outage_gives_up_after_a_few_tries_and_says_so(fake, workbook, waits):
    workbook.ensure_tabs(HEADERS)
    fake.sheets.fail_next(503, count=99, kind="values.batchUpdate")
    with pytest.raises(WorkbookError) as failure:
        workbook.replace_tabs({"TicketState": [["Ticket", "Status"], ["RCA-1", "Pinged"]]})
    assert "503" in str(failure.value) and "5 tries" in str(failure.value)
    assert fake.sheets.rows("TicketState") == [["Ticket", "Status"]]


def test_an_append_whose_answer_was_lost_is_not_written_twice(fake, workbook, monkeypatch):
    workbook.ensure_tabs(HEADERS)
    workbook.append_rows("Tracker", [["t0", "RCA-0", "Pinged"]])
    handle = fake.sheets.handle
    lost = []

    def answer_lost_once(request):
        status, payload = handle(request)
        if request.path.endswith(":batchUpdate") and not lost:
            lost.append(payload)
            return 500, {"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}
        return status, payload

    fake.router.routes[SHEETS] = answer_lost_once
    workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"], ["t2", "RCA-1", "Accepted"]])
    assert lost, "the fault was not injected"
    assert fake.sheets.rows("Tracker")[1:] == [["t0", "RCA-0", "Pinged"], ["t1", "RCA-1", "Pinged"],
                                               ["t2", "RCA-1", "Accepted"]]


def test_an_append_that_did_not_land_is_written_on_the_retry(fake, workbook):
    workbook.ensure_tabs(HEADERS)
    fake.sheets.fail_next(500, kind="values.batchUpdate")
    workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"]])
    assert fake.sheets.rows("Tracker")[1:] == [["t1", "RCA-1", "Pinged"]]


def test_state_larger_than_the_grid_grows_it_first(fake, workbook):
    workbook.ensure_tabs(HEADERS)
    rows = [["Ticket", "Status"]] + [[f"RCA-{n}", "Waiting"] for n in range(1500)]
    workbook.replace_tabs({"TicketState": rows})
    assert len(fake.sheets.rows("TicketState")) == 1501
    workbook.replace_tabs({"TicketState": rows[:2]})
    assert fake.sheets.rows("TicketState") == rows[:2]


def test_a_bot_tab_deleted_by_hand_is_named_by_the_next_write_and_made_again_by_ensure_tabs(fake, workbook):
    workbook.ensure_tabs(HEADERS)
    fake.sheets.tabs = [t for t in fake.sheets.tabs if t.title != "TicketState"]
    with pytest.raises(TabNotFound, match="TicketState"):
        workbook.replace_tabs({"TicketState": [["Ticket", "Status"], ["RCA-1", "Pinged"]]})
    workbook.ensure_tabs(HEADERS)
    workbook.replace_tabs({"TicketState": [["Ticket", "Status"], ["RCA-1", "Pinged"]]})
    assert fake.sheets.rows("TicketState") == [["Ticket", "Status"], ["RCA-1", "Pinged"]]


def test_rows_come_padded_to_the_width_of_the_tab_as_in_a_csv_export(fake, workbook):
    fake.sheets.add_tab("Configuration", [["SpaceId", "TicketTimeout", "DigestTime"], ["spaces/A", "30"]])
    assert workbook.read_tabs(["Configuration"])["Configuration"] == [["SpaceId", "TicketTimeout", "DigestTime"],
                                                                      ["spaces/A", "30", ""]]


def test_a_spreadsheet_not_shared_with_the_service_account_is_named_as_such(fake, workbook):
    fake.sheets.fail_next(403, kind="values.batchGet")  # Sheets refuses the first request made
    with pytest.raises(WorkbookError) as failure:
        workbook.read_tabs(["Managers"])
    assert "share it" in str(failure.value)


def test_a_network_failure_is_retried(fake, workbook, waits):
    workbook.ensure_tabs(HEADERS)
    handle, failures = fake.sheets.handle, []

    def drop_once(request):
        if not failures:
            failures.append(request.path)
            raise requests.ConnectionError("connection reset by peer")
        return handle(request)

    fake.router.routes[SHEETS] = drop_once
    assert workbook.read_tabs(["Managers"])["Managers"][1] == ["Ada", "users/1"]
    assert failures and len(waits) == 1


def test_the_endpoint_can_be_pointed_elsewhere():
    fake = FakeGoogle()
    fake.sheets.add_tab("Managers", [["Name"], ["Ada"]])
    router = Router({"https://sheets.example.internal": fake.sheets.handle, TOKEN_URI: fake.tokens.handle})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        router.install(rsps)
        workbook = GoogleWorkbook(fake.sheets.spreadsheet_id, fake.credentials(SHEETS_SCOPE),
                                  endpoint="https://sheets.example.internal")
        assert workbook.read_tabs(["Managers"])["Managers"] == [["Name"], ["Ada"]]


def test_an_append_that_landed_but_gave_up_is_not_written_again_by_the_next_one(fake, workbook):
    workbook.ensure_tabs(HEADERS)
    workbook.read_tabs(["Tracker"])
    fake.sheets.fail_after_post_next(503, kind="values.batchUpdate")  # carried out, answered 503
    fake.sheets.fail_next(503, count=4)  # and each of the 4 retries fails
    with pytest.raises(WorkbookError):
        workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"]])
    assert fake.sheets.pending_faults() == 0 and fake.sheets.rows("Tracker")[1:] == [["t1", "RCA-1", "Pinged"]]
    workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"], ["t2", "RCA-1", "Accepted"]])  # the next flush
    assert fake.sheets.rows("Tracker")[1:] == [["t1", "RCA-1", "Pinged"], ["t2", "RCA-1", "Accepted"]]


def test_a_write_carried_out_after_its_retry_fills_the_same_cells(fake, workbook):
    workbook.ensure_tabs(HEADERS)
    workbook.read_tabs(["Tracker"])
    rows = [["t1", "RCA-1", "Pinged"], ["t2", "RCA-1", "Declined"]]
    workbook.append_rows("Tracker", rows)
    sent = fake.sheets.calls[-1]
    workbook.append_rows("Tracker", [["t3", "RCA-1", "Pinged"]])
    # the first write's request, carried out once more by Sheets, late (a timed-out try, say)
    late = FakeRequest(sent.method, sent.path, sent.query, json.dumps(sent.body).encode(),
                       {"Authorization": f"Bearer {sent.bearer}"})
    assert fake.sheets.handle(late)[0] == 200
    assert fake.sheets.rows("Tracker")[1:] == rows + [["t3", "RCA-1", "Pinged"]]


def test_a_full_grid_grows_by_a_tenth_so_that_growing_is_a_rare_extra_request(fake, workbook):
    fake.sheets.add_tab("Tracker", [["Timestamp", "Ticket"]] + [["t", f"RCA-{n}"] for n in range(19_999)],
                        row_count=20_000, col_count=6)
    workbook.append_rows("Tracker", [["t", "RCA-NEW"]])
    assert fake.sheets.grid("Tracker") == (22_000, 6)  # not 21,000: one growth per 2,000 rows here
    grows = [c for c in fake.sheets.calls if c.kind == "spreadsheets.batchUpdate"]
    for n in range(50):
        workbook.append_rows("Tracker", [["t", f"RCA-MORE-{n}"]])
    assert [c for c in fake.sheets.calls if c.kind == "spreadsheets.batchUpdate"] == grows
