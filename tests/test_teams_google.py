"""Many teams in Google mode: two spreadsheets and two Chat spaces behind the fake Google, reached
by the real clients; each team's bot reads and writes its own spreadsheet and posts in its own space."""
from __future__ import annotations

import json

import pytest
import responses

from rcabot.web import create_app
from tests.conftest import buttons
from tests.fakes.chat import FakeChat
from tests.fakes.google import ACCESS_TOKEN, CHAT, SHEETS, TOKEN_URI, FakeTokenEndpoint, service_account_info
from tests.fakes.sheets import FakeSheets
from tests.fakes.tokens import PROJECT_NUMBER, project_number_claims
from tests.fakes.transport import Router
from tests.google_fixtures import API_TOKEN, template

SPACES = {"a": "spaces/AAAA1111", "b": "spaces/BBBB2222"}
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def spreadsheet(team: str) -> FakeSheets:
    sheets = FakeSheets(spreadsheet_id=f"1Team{team.upper()}Spreadsheet0123456789abcdefghijkl", token=ACCESS_TOKEN)
    sheets.add_tab("Configuration", template("Configuration"))  # no SpaceId: the Teams file's Space
    managers = template("Managers")
    sheets.add_tab("Managers", [managers[0], *[[f"{team} {n}", f"{team}{n}@example.com", f"users/{team}{n}", "all",
                                                "yes", ""] for n in (1, 2)]])
    return sheets


@pytest.fixture
def google(monkeypatch, tmp_path, certs, jobs, clock, no_backoff):
    sheets = {team: spreadsheet(team) for team in SPACES}
    chat = FakeChat(spaces=tuple(SPACES.values()), token=ACCESS_TOKEN)
    routes = {f"{SHEETS}/v4/spreadsheets/{s.spreadsheet_id}": s.handle for s in sheets.values()}
    router = Router({**routes, CHAT: chat.handle, TOKEN_URI: FakeTokenEndpoint().handle})
    teams_file = tmp_path / "teams.csv"
    teams_file.write_text("Team,Workbook,Space\n" +
                          "".join(f"{t},{sheets[t].spreadsheet_id},{s}\n" for t, s in SPACES.items()))
    for name, value in {"RCABOT_JOURNAL_DIR": str(tmp_path / "journal"), "RCABOT_BACKEND": "google",
                        "RCABOT_TEAMS_FILE": str(teams_file),
                        "RCABOT_SERVICE_ACCOUNT_JSON": json.dumps(service_account_info()),
                        "RCABOT_CHAT_AUDIENCE": PROJECT_NUMBER, "RCABOT_API_TOKEN": API_TOKEN}.items():
        monkeypatch.setenv(name, value)
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "RCABOT_SPREADSHEET_ID"):
        monkeypatch.delenv(name, raising=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        router.install(rsps)
        certs.install(rsps)
        team_jobs = {team: type(jobs)(clock) for team in SPACES}
        app = create_app({"JOBS": team_jobs, "CLOCK": clock, "CHAT_TRANSPORT": router.http()})
        yield app, sheets, chat


def test_each_team_posts_in_its_own_space_and_writes_its_own_spreadsheet(google, certs, clock, tmp_path):
    app, sheets, chat = google
    teams, client = app.extensions["rcabot.teams"], app.test_client()
    assert client.post("/teams/b/tickets", json={"ticket_id": "RCA-1"}, headers=AUTH).status_code == 202
    clock.advance(1)
    for bot in teams.bots.values():
        bot.deliver()
        bot.flush()
    (card,) = chat.messages(SPACES["b"])
    assert chat.messages(SPACES["a"]) == []
    assert [row[1] for row in sheets["b"].rows("Tracker")[1:]] == ["RCA-1"]
    assert sheets["a"].rows("Tracker")[1:] == []
    assert sorted(p.name for p in (tmp_path / "journal").iterdir()) == ["a", "b"]

    manager = teams.bots["b"].ticket("RCA-1")["manager"]["chat_id"]
    action = buttons(card)["accept"]
    click = {"type": "CARD_CLICKED", "user": {"name": manager, "displayName": "b", "type": "HUMAN"},
             "space": {"name": SPACES["b"], "type": "ROOM"}, "message": card,
             "action": {"actionMethodName": action["function"], "parameters": action["parameters"]},
             "common": {"invokedFunction": action["function"],
                        "parameters": {p["key"]: p["value"] for p in action["parameters"]}}}
    signed = {"Authorization": certs.bearer(project_number_claims())}
    assert client.post("/chat/events", json=click, headers=signed).status_code == 200
    assert teams.bots["b"].ticket("RCA-1")["status"] == "Accepted"
    elsewhere = client.post("/chat/events", json={**click, "space": {"name": "spaces/ZZZZ", "type": "ROOM"}},
                            headers=signed)
    assert elsewhere.status_code == 200 and "not set up" in elsewhere.json["text"]
