"""Fixtures of the kill-and-restart suite: a workbook folder made from the templates (short
timeouts, a team on shift at any hour) and the bot as a real process on it."""
from __future__ import annotations

import pytest

from tests.e2e.harness import BotProcess, ProcfileBot, prepare_workbook, subprocess_can_listen


@pytest.fixture(scope="session")
def can_listen() -> None:
    why = subprocess_can_listen()
    if why:
        pytest.skip(f"the kill/restart suite runs the bot as a real process: {why}")


@pytest.fixture
def make_bot(tmp_path, can_listen):
    """make_bot(server="app.py" | "Procfile", **config) -> (the bot, not yet started; the active
    managers). Every process it made is killed at the end of the test, whatever happened."""
    made: list[BotProcess] = []

    def make(server: str = "app.py", **config):
        home = tmp_path / f"bot{len(made)}"
        team = prepare_workbook(home / "workbook", **config)
        bot = {"app.py": BotProcess, "Procfile": ProcfileBot}[server](home)
        made.append(bot)
        return bot, team

    yield make
    for bot in made:
        bot.cleanup()
