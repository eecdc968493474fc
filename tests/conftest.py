"""Fixtures: a local-mode app on a temporary workbook, a fake clock, a recording scheduler, and a
`space` helper that reads the local space and clicks card buttons as Google Chat would."""
from __future__ import annotations

import csv

import pytest

from rcabot.web import create_app
from tests.fakes.clock import FakeClock
from tests.fakes.jobs import RecordingJobs

pytest_plugins = ["tests.google_fixtures", "tests.outgoing_fixtures"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jobs(clock) -> RecordingJobs:
    return RecordingJobs(clock)


@pytest.fixture
def workbook_dir(tmp_path):
    return tmp_path / "workbook"


@pytest.fixture
def app(workbook_dir, jobs, clock):
    return create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def bot(app):
    return app.extensions["rcabot"]


class Space:
    """The local Chat space as a person in it sees it, and their clicks."""

    def __init__(self, client, bot):
        self.client, self.bot = client, bot

    def thread(self, ticket_id: str) -> list[dict]:
        thread = self.bot.ticket(ticket_id)["thread"]
        return [m for m in self.bot.chat.messages() if m["thread"]["name"] == thread]

    def last_card(self, ticket_id: str) -> dict:
        return [m for m in self.thread(ticket_id) if m["cardsV2"]][-1]

    def title(self, message: dict) -> str:
        return message["cardsV2"][0]["card"]["header"]["title"]

    def pinged(self, ticket_id: str) -> str:
        return self.bot.ticket(ticket_id)["manager"]["chat_id"]

    def click(self, message: dict, button: str, user: str, **overrides):
        action = buttons(message)[button]
        params = {p["key"]: p["value"] for p in action["parameters"]}
        event = {"type": "CARD_CLICKED", "eventTime": "2026-11-23T07:00:00Z",
                 "user": {"name": user, "displayName": self.bot.manager_name(user), "type": "HUMAN"},
                 "space": {"name": "spaces/local", "type": "ROOM", "spaceType": "SPACE"},
                 "message": message, "action": {"actionMethodName": action["function"],
                                                "parameters": action["parameters"]},
                 "common": {"hostApp": "CHAT", "invokedFunction": action["function"], "parameters": params}}
        event.update(overrides)
        return self.client.post("/chat/events", json=event)


def buttons(message: dict) -> dict[str, dict]:
    found = {}
    for section in message["cardsV2"][0]["card"]["sections"]:
        for widget in section["widgets"]:
            for button in widget.get("buttonList", {}).get("buttons", []):
                if "action" in button["onClick"]:
                    found[button["text"].lower()] = button["onClick"]["action"]
    return found


@pytest.fixture
def space(client, bot) -> Space:
    return Space(client, bot)


def set_configuration(workbook_dir, **values) -> None:
    """Edit the wide Configuration tab as ops would (a parameter it lacks gets a new column)."""
    path = workbook_dir / "Configuration.csv"
    with open(path, newline="") as f:
        header, row = list(csv.reader(f))[:2]
    for name, value in values.items():
        if name not in header:
            header.append(name)
            row.append("")
        row[header.index(name)] = str(value)
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([header, row])


def drain(bot, clock) -> None:
    """Let the outbox empty, a second at a time: the space takes one write a second."""
    while len(bot.outbox):
        clock.advance(1)
        bot.deliver()
