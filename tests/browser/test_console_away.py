"""The console's Away form: leave set and ended through the `away` command, as the Act-as manager."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest

if os.environ.get("CI") != "true":  # under CI a missing playwright fails the run at collection
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_console import mentioned, message_at, send, start_ticket  # noqa: E402
from tests.browser.test_console_availability import manager, today  # noqa: E402
from tests.e2e.harness import prepare_workbook  # noqa: E402

pytestmark = pytest.mark.browser

TIMEOUT = 600  # no ticket times out while a test looks at it


def set_away(page: Page, start: str, end: str, reason: str = "") -> None:
    form = page.get_by_test_id("away-form")
    if not form.evaluate("details => details.open"):
        form.locator("summary").click()
    page.get_by_test_id("away-from").fill(start)
    page.get_by_test_id("away-to").fill(end)
    page.get_by_test_id("away-reason").fill(reason)
    page.get_by_test_id("away-set").click()


def act_as(page: Page, chat_id: str) -> None:
    page.select_option("#act-as", chat_id)
    expect(page.locator("#act-as")).to_have_value(chat_id)


def ticket_goes_to(page: Page, ticket_id: str) -> str:
    start_ticket(page, ticket_id)
    expect(page.get_by_test_id("start-result")).to_contain_text(f"Started {ticket_id}")
    chat_id, _ = mentioned(message_at(page.locator(f'[data-testid="thread"][data-ticket="{ticket_id}"]'), 0))
    return chat_id


def test_away_set_and_ended_from_the_form_steers_the_pings(page: Page, console_app, tmp_path, js_errors: list[str]):
    bot = console_app.extensions["rcabot"]
    team = prepare_workbook(tmp_path / "workbook", timeout=TIMEOUT, active=4)
    bot.reload()
    first, others = team[0], team[1:]
    day = today(bot).isoformat()

    page.goto("/console")
    act_as(page, first["chat_id"])
    page.get_by_test_id("away-form").locator("summary").click()
    expect(page.get_by_test_id("away-from")).to_have_value(day)  # opened, it starts at today
    set_away(page, day, day, "Dentist <b>visit</b>")
    answer = page.get_by_test_id("answer")
    expect(page.get_by_test_id("message-result")).to_contain_text(f"Sent as {first['name']}")
    expect(answer).to_contain_text("You're away from")
    expect(answer).to_contain_text("Say away off to come back sooner.")
    badge = manager(page, first["chat_id"]).get_by_test_id("away")
    expect(badge).to_have_text("away until tomorrow 00:00 (Dentist <b>visit</b>)")  # markup is text
    expect(page.get_by_test_id("away")).to_have_count(1)
    expect(page.locator("#manager-status b, #message-result b")).to_have_count(0)

    # Away, they are passed over.
    assert ticket_goes_to(page, "RCA-21") != first["chat_id"]

    # `away` typed in the box lists their leave.
    send(page, "away")
    expect(answer).to_contain_text("Your leave (times in")
    expect(answer).to_contain_text(", Dentist")
    expect(answer).to_contain_text("visit")
    expect(answer).to_contain_text("(from this chat)")
    expect(answer.locator("b")).to_have_count(0)  # the bot writes the reason's markup as plain text
    expect(page.locator("#message-text")).to_have_value("")

    # Everyone else busy: the one holding RCA-21 and the rest in DND.
    for other in others:
        act_as(page, other["chat_id"])
        send(page, "dnd 2h")
        expect(answer).to_contain_text("You're in DND until")
        expect(manager(page, other["chat_id"]).get_by_test_id("dnd")).to_be_visible()

    act_as(page, first["chat_id"])
    page.get_by_test_id("away-back").click()
    expect(answer).to_contain_text("Welcome back: your leave (until")
    expect(badge).to_have_count(0)
    expect(page.get_by_test_id("away-set")).to_be_enabled()

    # Back, they are the one free: the next ticket is theirs.
    assert ticket_goes_to(page, "RCA-22") == first["chat_id"]

    page.get_by_test_id("away-back").click()  # a second time: the bot says they are not away
    expect(answer).to_contain_text("You're not away now")
    page.screenshot(path="/tmp/console-away.png", full_page=True)
    assert js_errors == []


def test_a_range_that_ends_before_it_starts_is_refused_by_the_bot(page: Page, console_app, tmp_path,
                                                                 js_errors: list[str]):
    bot = console_app.extensions["rcabot"]
    team = prepare_workbook(tmp_path / "workbook", timeout=TIMEOUT, active=4)
    bot.reload()
    first = team[0]
    start, end = (today(bot) + timedelta(days=3)).isoformat(), (today(bot) + timedelta(days=1)).isoformat()

    page.goto("/console")
    act_as(page, first["chat_id"])
    set_away(page, start, end, "Holiday")
    answer = page.get_by_test_id("answer")
    expect(answer).to_contain_text(f"I can't set that leave: To {end} is before From {start}")
    expect(page.get_by_test_id("away")).to_have_count(0)
    # The fields keep what was typed, to be mended.
    expect(page.get_by_test_id("away-to")).to_have_value(end)
    expect(page.get_by_test_id("away-reason")).to_have_value("Holiday")

    send(page, "away")
    expect(answer).to_contain_text("You have no leave set.")
    assert js_errors == []


def test_on_a_phone_the_away_form_fits_the_screen(new_page, js_errors: list[str]):
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto("/console")
    expect(page.locator("#act-as")).not_to_have_value("")
    form = page.get_by_test_id("away-form")
    expect(page.get_by_test_id("away-set")).to_be_hidden()  # closed, it takes one line
    form.locator("summary").click()
    for test_id in ("away-from", "away-to", "away-reason", "away-set", "away-back"):
        box = page.get_by_test_id(test_id).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, test_id
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path="/tmp/console-away-390.png", full_page=True)
    assert js_errors == []
