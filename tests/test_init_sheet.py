from rcabot.__main__ import init_sheet, main
from rcabot.config import Settings


def test_init_sheet_creates_the_bot_tabs_and_a_second_run_changes_nothing(tmp_path):
    settings = Settings(workbook_dir=str(tmp_path / "wb"))
    assert init_sheet(settings) == ["StateManagement", "TicketState", "ManagerState", "Tracker"]
    assert (tmp_path / "wb" / "Tracker.csv").read_text() == "Timestamp,Ticket,Manager Name,Status,Manager GChat ID,Detail\n"
    assert init_sheet(settings) == []


def test_init_sheet_without_the_command_name_prints_its_usage(capsys):
    assert main([]) == 2
    assert "usage: python -m rcabot init-sheet" in capsys.readouterr().err
