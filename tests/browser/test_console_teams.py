"""A team's console with a Teams file: the page starts and answers tickets of its own team only."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

if os.environ.get("CI") != "true":  # under CI a missing playwright fails the run at collection
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_console import mentioned, message_at, start_ticket  # noqa: E402
from tests.test_teams import team_folder  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def console_app(tmp_path: Path):
    from rcabot.web import create_app

    for team in ("a", "b"):
        team_folder(tmp_path, team)
    (tmp_path / "teams.csv").write_text("Team,Workbook,Space\na,workbook-a,\nb,workbook-b,\n")
    app = create_app({"TEAMS_FILE": str(tmp_path / "teams.csv")})
    yield app
    app.extensions["rcabot.teams"].close()


def test_a_team_s_console_starts_and_accepts_its_own_team_s_ticket(page: Page, console_app, js_errors: list[str]):
    teams = console_app.extensions["rcabot.teams"]
    page.goto("/teams/b/console")
    start_ticket(page, "RCA-1")
    expect(page.get_by_test_id("start-result")).to_contain_text("Started RCA-1")
    card = message_at(page.locator('[data-testid="thread"][data-ticket="RCA-1"]'), 0)
    manager, name = mentioned(card)
    assert manager in ("users/b1", "users/b2")
    page.select_option("#act-as", manager)
    card.get_by_role("button", name="Accept").click()
    expect(card.get_by_test_id("card-title")).to_have_text(f"Assigned to {name}")
    assert teams.bots["b"].ticket("RCA-1")["status"] == "Accepted" and teams.bots["a"].ticket("RCA-1") is None
    assert js_errors == []
