"""Fixtures for Google mode: the fake Google (Sheets, Chat, token endpoint), the environment a
deployment would set, and the space as Google Chat would show it, with clicks signed as Google
signs them."""
from __future__ import annotations

import csv
import json

import pytest
import responses

from rcabot.bootstrap import TEMPLATES
from rcabot.web import create_app
from tests.conftest import buttons
from tests.fakes.google import SPACE, FakeGoogle, service_account_info
from tests.fakes.tokens import PROJECT_NUMBER, GoogleCerts, project_number_claims

API_TOKEN = "test-api-token-not-a-secret"


def template(tab: str) -> list[list[str]]:
    with open(TEMPLATES / f"{tab}.csv", newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.fixture
def fake() -> FakeGoogle:
    fake = FakeGoogle()
    configuration = template("Configuration")
    configuration[1][0] = SPACE  # SpaceId, the first column of the wide layout
    fake.sheets.add_tab("Configuration", configuration)
    fake.sheets.add_tab("Managers", template("Managers"))
    return fake


@pytest.fixture
def google_env(monkeypatch, fake, tmp_path):
    for name, value in {"RCABOT_JOURNAL_DIR": str(tmp_path / "journal"),"RCABOT_BACKEND": "google", "RCABOT_SPREADSHEET_ID": fake.sheets.spreadsheet_id,
                        "RCABOT_SERVICE_ACCOUNT_JSON": json.dumps(service_account_info()),
                        "RCABOT_CHAT_AUDIENCE": PROJECT_NUMBER, "RCABOT_API_TOKEN": API_TOKEN}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)


@pytest.fixture
def certs() -> GoogleCerts:
    return GoogleCerts()


@pytest.fixture
def no_backoff(monkeypatch) -> list[float]:
    """The Google workbook's backoff waits, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr("rcabot.workbook.google.pause", waits.append)
    monkeypatch.setattr("rcabot.bootstrap.pause", waits.append)
    return waits


@pytest.fixture
def google_app(google_env, fake, certs, jobs, clock, no_backoff):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        certs.install(rsps)
        yield create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": fake.http()})


class GoogleSpace:
    """The space as the fake Chat API holds it, and clicks sent as Google sends them (signed)."""

    def __init__(self, client, bot, fake: FakeGoogle, certs: GoogleCerts):
        self.client, self.bot, self.fake, self.certs = client, bot, fake, certs

    def thread(self, ticket_id: str) -> list[dict]:
        return self.fake.chat.thread_messages(SPACE, f"rca-ticket-{ticket_id}")

    def last_card(self, ticket_id: str) -> dict:
        return [m for m in self.thread(ticket_id) if m.get("cardsV2")][-1]

    def pinged(self, ticket_id: str) -> str:
        return self.bot.ticket(ticket_id)["manager"]["chat_id"]

    def click(self, message: dict, button: str, user: str, authorization: str | None = None):
        action = buttons(message)[button]
        event = {"type": "CARD_CLICKED", "eventTime": "2026-11-23T07:00:00Z",
                 "user": {"name": user, "displayName": self.bot.manager_name(user), "type": "HUMAN"},
                 "space": {"name": SPACE, "type": "ROOM", "spaceType": "SPACE"}, "message": message,
                 "action": {"actionMethodName": action["function"], "parameters": action["parameters"]},
                 "common": {"hostApp": "CHAT", "invokedFunction": action["function"],
                            "parameters": {p["key"]: p["value"] for p in action["parameters"]}}}
        if authorization is None:
            authorization = self.certs.bearer(project_number_claims())
        return self.client.post("/chat/events", json=event, headers={"Authorization": authorization})


@pytest.fixture
def gspace(google_app, fake, certs) -> GoogleSpace:
    return GoogleSpace(google_app.test_client(), google_app.extensions["rcabot"], fake, certs)
