"""The console shows the day's availability: who is away, who covers whom, a holiday, no shift on."""
from __future__ import annotations

import csv
import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

if os.environ.get("CI") != "true":  # under CI a missing playwright fails the run at collection
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_console import mentioned, message_at, start_ticket  # noqa: E402
from tests.conftest import set_configuration  # noqa: E402
from tests.e2e.harness import prepare_workbook  # noqa: E402

pytestmark = pytest.mark.browser

HOLIDAY = "Founders' <b>Day</b>"  # markup in a name is text
TIMEOUT = 600  # no ticket times out while a test looks at it


def write_tab(workbook: Path, tab: str, rows: list[list[object]]) -> None:
    with open(workbook / f"{tab}.csv", "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)


def set_shift(workbook: Path, name: str, shift: int) -> None:
    """Give one manager of the Managers tab the shifts `shift`."""
    with open(workbook / "Managers.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    for row in rows[1:]:
        if row[header.index("Name")] == name:
            row[header.index("Shift")] = str(shift)
    write_tab(workbook, "Managers", rows)


def today(bot) -> date:
    return datetime.now(ZoneInfo(bot.status()["time_zone"])).date()


def manager(page: Page, chat_id: str):
    return page.locator(f'[data-testid="manager"][data-chat-id="{chat_id}"]')


def test_away_and_covered_managers_are_shown_and_passed_over(page: Page, console_app, tmp_path, js_errors: list[str]):
    workbook = tmp_path / "workbook"
    bot = console_app.extensions["rcabot"]
    away, covered, coverer, other = prepare_workbook(workbook, timeout=TIMEOUT, active=4)
    bot.reload()
    shift = bot.status()["shift"]
    assert shift, "with every manager on every shift of the template, a shift is always on"
    day = today(bot).isoformat()
    # The coverer works another shift: they are on now only because they cover.
    set_shift(workbook, coverer["name"], shift % 4 + 1)
    write_tab(workbook, "Away", [["Manager", "From", "To", "Reason"], [away["name"], day, day, "Conference"]])
    write_tab(workbook, "Overrides", [["Date", "Shift", "Instead of", "Covered by", "Requested at", "Taken at"],
                                      [day, shift, covered["name"], coverer["chat_id"], "", ""]])
    write_tab(workbook, "Holidays", [["Date", "Name", "Shifts"], [day, HOLIDAY, "all"]])
    bot.reload()
    assert bot.status()["problems"] == []

    page.goto("/console")
    expect(page.get_by_test_id("holiday")).to_have_text(f"Holiday: {HOLIDAY}")
    expect(page.get_by_test_id("no-shift")).to_be_hidden()
    expect(page.get_by_test_id("shift")).to_have_text(f"shift {shift}")
    expect(manager(page, away["chat_id"]).get_by_test_id("away")).to_have_text("away until tomorrow 00:00 (Conference)")
    expect(manager(page, away["chat_id"]).get_by_test_id("on-shift")).to_have_count(0)
    expect(manager(page, covered["chat_id"]).get_by_test_id("covered")).to_have_text(f"covered by {coverer['name']}")
    expect(manager(page, covered["chat_id"]).get_by_test_id("on-shift")).to_have_count(0)
    expect(manager(page, coverer["chat_id"]).get_by_test_id("covering")).to_have_text(f"covering for {covered['name']}")
    expect(manager(page, coverer["chat_id"]).get_by_test_id("on-shift")).to_be_visible()
    expect(page.get_by_test_id("away")).to_have_count(1)
    expect(page.get_by_test_id("covering")).to_have_count(1)
    expect(page.get_by_test_id("covered")).to_have_count(1)
    expect(page.locator("header b, #manager-status b")).to_have_count(0)

    # Routing passes over the away and the covered; declined, the ticket goes to the other one there.
    start_ticket(page, "RCA-11", "Payments retries")
    expect(page.get_by_test_id("start-result")).to_contain_text("Started RCA-11")
    thread = page.locator('[data-testid="thread"][data-ticket="RCA-11"]')
    first = message_at(thread, 0)
    first_id, first_name = mentioned(first)
    page.select_option("#act-as", first_id)
    first.get_by_role("button", name="Decline").click()
    expect(first.get_by_test_id("card-title")).to_have_text(f"Declined by {first_name}")
    second_id, _ = mentioned(message_at(thread, 1))
    assert {first_id, second_id} == {coverer["chat_id"], other["chat_id"]}
    page.screenshot(path="/tmp/console-availability.png", full_page=True)
    assert js_errors == []


def test_with_no_shift_on_the_header_says_when_the_next_starts_and_a_ticket_waits(page: Page, console_app, tmp_path,
                                                                                  js_errors: list[str]):
    workbook = tmp_path / "workbook"
    bot = console_app.extensions["rcabot"]
    prepare_workbook(workbook, timeout=TIMEOUT, active=4)
    tomorrow = today(bot) + timedelta(days=1)
    # One shift, from midnight, on tomorrow's weekday only.
    set_configuration(workbook, Shift1StartTime="00:00", Shift2StartTime="", Shift3StartTime="", Shift4StartTime="",
                      Shift1Days=tomorrow.strftime("%a"))
    bot.reload()
    status = bot.status()
    assert (status["problems"], status["shift"]) == ([], 0)
    assert status["next_shift_start"].startswith(tomorrow.isoformat())

    page.goto("/console")
    expect(page.get_by_test_id("no-shift")).to_have_text("No shift on — next starts tomorrow 00:00")
    expect(page.get_by_test_id("holiday")).to_be_hidden()
    expect(page.get_by_test_id("on-shift")).to_have_count(0)

    start_ticket(page, "RCA-12")
    expect(page.get_by_test_id("start-result")).to_contain_text("Started RCA-12: Waiting.")
    notice = message_at(page.get_by_test_id("thread"), 0)  # a plain message (no card) says why it waits
    expect(notice.get_by_test_id("message-text")).to_contain_text("RCA-12 waits and goes to the first manager who is")
    expect(notice.get_by_test_id("mention")).to_have_count(0)
    expect(page.get_by_test_id("bot-status").get_by_role("row", name=re.compile("^Waiting RCA-12"))).to_be_visible()
    page.screenshot(path="/tmp/console-no-shift.png", full_page=True)
    assert js_errors == []
