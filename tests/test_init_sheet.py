import os

import pytest
import responses

from rcabot.__main__ import init_sheet, main
from rcabot.config import Settings


def test_init_sheet_creates_the_bot_tabs_and_a_second_run_changes_nothing(tmp_path):
    settings = Settings(workbook_dir=str(tmp_path / "wb"))
    assert init_sheet(settings) == ["StateManagement", "TicketState", "ManagerState", "Tracker"]
    assert (tmp_path / "wb" / "Tracker.csv").read_text() == "Timestamp,Ticket,Manager Name,Status,Manager GChat ID,Detail\n"
    assert init_sheet(settings) == []


def test_init_sheet_in_google_mode_needs_neither_the_chat_audience_nor_the_api_token(google_env, fake, monkeypatch):
    monkeypatch.delenv("RCABOT_CHAT_AUDIENCE")
    monkeypatch.delenv("RCABOT_API_TOKEN")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        assert init_sheet(Settings.from_env()) == ["StateManagement", "TicketState", "ManagerState", "Tracker"]
    assert "Tracker" in [tab.title for tab in fake.sheets.tabs]


def test_init_sheet_in_google_mode_still_names_what_the_workbook_needs(monkeypatch, capsys):
    for name in ("RCABOT_SPREADSHEET_ID", "GOOGLE_APPLICATION_CREDENTIALS", "RCABOT_SERVICE_ACCOUNT_JSON",
                 "RCABOT_CHAT_AUDIENCE", "RCABOT_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RCABOT_BACKEND", "google")
    assert main(["init-sheet"]) == 1
    said = capsys.readouterr().err
    assert said.startswith("RCA Bot cannot start: RCABOT_SPREADSHEET_ID is not set; GOOGLE_APPLICATION_CREDENTIALS")
    assert "RCABOT_CHAT_AUDIENCE" not in said and "RCABOT_API_TOKEN" not in said


def test_help_lists_the_commands_and_the_settings_that_matter_and_exits_0(capsys):
    with pytest.raises(SystemExit) as ended:
        main(["--help"])
    assert ended.value.code == 0
    said = capsys.readouterr().out
    for word in ("serve", "init-sheet", "RCABOT_BACKEND", "RCABOT_API_TOKEN", "PORT", "RCABOT_SPREADSHEET_ID"):
        assert word in said, word


def test_without_a_command_it_prints_its_usage_and_exits_2(capsys):
    with pytest.raises(SystemExit) as ended:
        main([])
    assert ended.value.code == 2
    assert "usage: python -m rcabot [-h] {serve,init-sheet}" in capsys.readouterr().err


def test_init_sheet_with_a_teams_file_prepares_every_team_s_workbook(tmp_path, monkeypatch, capsys):
    (tmp_path / "teams.csv").write_text("Team,Workbook,Space\na,wa,\nb,wb,\n")
    for name in [k for k in os.environ if k.startswith("RCABOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RCABOT_TEAMS_FILE", str(tmp_path / "teams.csv"))
    assert main(["init-sheet"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "a: created or repaired: StateManagement, TicketState, ManagerState, Tracker",
        "b: created or repaired: StateManagement, TicketState, ManagerState, Tracker"]
    assert (tmp_path / "wb" / "Tracker.csv").exists()
    assert main(["init-sheet"]) == 0
    assert capsys.readouterr().out.splitlines() == ["a: every bot-owned tab is in place",
                                                    "b: every bot-owned tab is in place"]
