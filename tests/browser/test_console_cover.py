"""`cover` in the console: a manager asks for cover, the card's Take button is refused to them
and taken by another, who then stands in on the shift, gets its tickets, and is in Overrides.csv."""
from __future__ import annotations

import csv
import os
import time

import pytest

if os.environ.get("CI") != "true":  # under CI a missing playwright fails the run at collection
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_console import send  # noqa: E402
from tests.browser.test_console_availability import manager, set_shift, today  # noqa: E402
from tests.browser.test_console_away import act_as, ticket_goes_to  # noqa: E402
from tests.e2e.harness import prepare_workbook  # noqa: E402

pytestmark = pytest.mark.browser

TIMEOUT = 600  # no ticket times out while a test looks at it
FLUSH_DEADLINE = 30  # seconds; the workbook flushes every TimeForDataFlush (1 s here)


def overrides_rows(workbook) -> list[dict[str, str]]:
    path = workbook / "Overrides.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_cover_is_refused_to_its_requester_and_taken_by_another_who_then_stands_in(
        page: Page, console_app, tmp_path, js_errors: list[str]):
    workbook = tmp_path / "workbook"
    bot = console_app.extensions["rcabot"]
    team = prepare_workbook(workbook, timeout=TIMEOUT, active=4)
    bot.reload()
    shift = bot.status()["shift"]
    assert shift, "with every manager on every shift of the template, a shift is always on"
    requester, taker, others = team[0], team[1], team[2:]
    # The taker works another shift: they are on now only once they cover.
    set_shift(workbook, taker["name"], shift % 4 + 1)
    bot.reload()
    assert bot.status()["problems"] == []
    day = today(bot).isoformat()

    page.goto("/console")
    expect(manager(page, requester["chat_id"]).get_by_test_id("on-shift")).to_be_visible()
    expect(manager(page, taker["chat_id"]).get_by_test_id("on-shift")).to_have_count(0)

    act_as(page, requester["chat_id"])
    answer = page.get_by_test_id("answer")
    send(page, "cover today")
    expect(page.get_by_test_id("message-result")).to_contain_text(f"Sent as {requester['name']}")
    if "say which" in answer.inner_text():  # they work more than one shift today: the running one
        expect(answer).to_contain_text(f"like cover {day} shift")
        send(page, f"cover today shift {shift}")
    expect(answer).to_contain_text(f"{requester['name']} needs cover for shift {shift} on ")
    asked = page.get_by_test_id("message").filter(
        has_text=f"{requester['name']} needs cover for shift {shift}").filter(has=page.get_by_test_id("card"))
    expect(asked).to_have_count(1)
    # Pinned by name: it stays the same message once redrawn.
    request = page.locator(f'[data-testid="message"][data-message="{asked.get_attribute("data-message")}"]')
    expect(request.get_by_test_id("private")).to_have_count(0)
    card = request.get_by_test_id("card")
    expect(card.get_by_test_id("card-title")).to_have_text("Cover needed")
    take = card.get_by_role("button", name="Take")
    expect(take).to_be_enabled()

    # Their own Take: refused privately, and the card keeps its button.
    take.click()
    refusal = page.get_by_test_id("message").filter(has_text="You can't take this: this is your own request")
    expect(refusal).to_have_count(1)
    expect(refusal.get_by_test_id("private")).to_have_text("Only visible to you")
    expect(take).to_be_enabled()
    expect(page.get_by_test_id("covering")).to_have_count(0)

    # Another manager's Take: the card says who covers, with no button left.
    act_as(page, taker["chat_id"])
    expect(refusal).to_have_count(0)  # private to the requester
    take.click()
    covered_text = f"{taker['name']} covers {requester['name']} on shift {shift} of {day}."
    expect(card.get_by_test_id("card-title")).to_have_text("Covered")
    expect(request.get_by_test_id("card-button")).to_have_count(0)
    expect(request).to_contain_text(covered_text)
    expect(page.get_by_test_id("message").filter(has_text="You can't take this")).to_have_count(0)

    # The team panel: the taker is on shift covering for the requester, who is covered and off it.
    expect(manager(page, taker["chat_id"]).get_by_test_id("covering")).to_have_text(
        f"covering for {requester['name']}")
    expect(manager(page, taker["chat_id"]).get_by_test_id("on-shift")).to_be_visible()
    expect(manager(page, requester["chat_id"]).get_by_test_id("covered")).to_have_text(
        f"covered by {taker['name']}")
    expect(manager(page, requester["chat_id"]).get_by_test_id("on-shift")).to_have_count(0)
    expect(page.get_by_test_id("covering")).to_have_count(1)
    expect(page.get_by_test_id("covered")).to_have_count(1)

    # Everyone else on the shift in DND: the ticket goes to the taker, never the requester.
    for other in others:
        act_as(page, other["chat_id"])
        send(page, "dnd 2h")
        expect(answer).to_contain_text("You're in DND until")
        expect(manager(page, other["chat_id"]).get_by_test_id("dnd")).to_be_visible()
    assert ticket_goes_to(page, "RCA-31") == taker["chat_id"]

    # The Overrides tab gets the row with the next flush.
    deadline = time.monotonic() + FLUSH_DEADLINE
    while not (rows := overrides_rows(workbook)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(rows) == 1, f"no Overrides row within {FLUSH_DEADLINE} s: {rows}"
    row = rows[0]
    assert (row["Date"], row["Shift"], row["Instead of"], row["Covered by"]) == (
        day, str(shift), requester["name"], taker["name"])
    assert row["Requested at"] and row["Taken at"]
    page.screenshot(path="/tmp/console-cover.png", full_page=True)
    assert js_errors == []
