"""The Google workbook's own promises: few requests, RAW writes, retries that neither give up too
soon nor write twice, and errors an operator can act on."""
from __future__ import annotations

import pytest
import requests
import responses

from rcabot.bootstrap import SHEETS_SCOPE
from rcabot.workbook import WorkbookError
from rcabot.workbook.google import GoogleWorkbook
from tests.fakes.google import SHEETS, TOKEN_URI, FakeGoogle
from tests.fakes.transport import Router

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


def test_a_flush_is_one_batch_update_and_one_raw_append_pinned_at_a1(fake, workbook):
    workbook.ensure_tabs(HEADERS)
    before = fake.sheets.count()
    workbook.replace_tabs({"TicketState": [["Ticket", "Status"], ["RCA-1", "Pinged"]]})
    workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"]])
    update, append = fake.sheets.calls[before:]
    assert update.kind == "values.batchUpdate" and update.body["valueInputOption"] == "RAW"
    assert append.kind == "values.append" and append.path.endswith("/values/%27Tracker%27%21A1:append")
    assert append.query["valueInputOption"] == ["RAW"] and append.query["insertDataOption"] == ["INSERT_ROWS"]


def test_throttling_is_retried_with_growing_waits_and_writes_once(fake, workbook, waits):
    workbook.ensure_tabs(HEADERS)
    fake.sheets.fail_next(429, count=2, kind="values.append")
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
        if request.path.endswith(":append") and not lost:
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
    fake.sheets.fail_next(500, kind="values.append")
    workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"]])
    assert fake.sheets.rows("Tracker")[1:] == [["t1", "RCA-1", "Pinged"]]


def test_state_larger_than_the_grid_grows_it_first(fake, workbook):
    workbook.ensure_tabs(HEADERS)
    rows = [["Ticket", "Status"]] + [[f"RCA-{n}", "Waiting"] for n in range(1500)]
    workbook.replace_tabs({"TicketState": rows})
    assert len(fake.sheets.rows("TicketState")) == 1501
    workbook.replace_tabs({"TicketState": rows[:2]})
    assert fake.sheets.rows("TicketState") == rows[:2]


def test_a_bot_tab_deleted_by_hand_is_recreated_at_the_next_write(fake, workbook):
    workbook.ensure_tabs(HEADERS)
    fake.sheets.tabs = [t for t in fake.sheets.tabs if t.title != "TicketState"]
    workbook.replace_tabs({"TicketState": [["Ticket", "Status"], ["RCA-1", "Pinged"]]})
    assert fake.sheets.rows("TicketState") == [["Ticket", "Status"], ["RCA-1", "Pinged"]]


def test_a_spreadsheet_not_shared_with_the_service_account_is_named_as_such(fake, workbook):
    fake.sheets.fail_next(403, kind="spreadsheets.get")
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
    fake.sheets.fail_after_post_next(503, kind="values.append")  # carried out, answered 503
    fake.sheets.fail_next(503, count=4)  # and each of the 4 retries fails at its first call, a read
    with pytest.raises(WorkbookError):
        workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"]])
    assert fake.sheets.pending_faults() == 0 and fake.sheets.rows("Tracker")[1:] == [["t1", "RCA-1", "Pinged"]]
    workbook.append_rows("Tracker", [["t1", "RCA-1", "Pinged"], ["t2", "RCA-1", "Accepted"]])  # the next flush
    assert fake.sheets.rows("Tracker")[1:] == [["t1", "RCA-1", "Pinged"], ["t2", "RCA-1", "Accepted"]]
