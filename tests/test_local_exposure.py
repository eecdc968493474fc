"""What the bot shows and lets happen to whoever reaches its port: the API token guards the
console's data and local card clicks, the Host header guards local mode against DNS rebinding,
/healthz names no one to a caller without the token, and the console's polls stay out of the log."""
from __future__ import annotations

import logging
import re
import threading

import pytest
import requests
from werkzeug.serving import make_server

from rcabot.chat import ChatError
from rcabot.config import Settings
from rcabot.web import create_app
from tests.conftest import Space
from tests.google_fixtures import API_TOKEN
from tests.test_outages import Failing

TOKEN = "s3cret-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
CONSOLE_DATA = ["/console/messages", "/console/status", "/console/managers"]


@pytest.fixture
def guarded_app(workbook_dir, jobs, clock):
    return create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock, "API_TOKEN": TOKEN})


@pytest.fixture
def guarded(guarded_app):
    return guarded_app.test_client()


# --- the token -------------------------------------------------------------------------------

@pytest.mark.parametrize("route", CONSOLE_DATA)
@pytest.mark.parametrize("header", [None, "Bearer wrong", TOKEN, f"Basic {TOKEN}"])
def test_with_a_token_set_the_consoles_data_needs_it(guarded, route, header):
    answer = guarded.get(route, headers={"Authorization": header} if header else {})
    assert answer.status_code == 401 and "API token" in answer.json["error"]


@pytest.mark.parametrize("route", CONSOLE_DATA)
def test_with_the_token_the_consoles_data_is_answered(guarded, route):
    assert guarded.get(route, headers=BEARER).status_code == 200


def test_the_console_page_loads_without_the_token_and_says_it_needs_one(guarded):
    answer = guarded.get("/console")
    assert answer.status_code == 200 and b'data-token-required="true"' in answer.data


@pytest.mark.parametrize("route", CONSOLE_DATA)
def test_with_no_token_set_the_consoles_data_is_open_locally(client, route):
    assert client.get(route).status_code == 200


class WithToken:
    """The test client as the console uses it once given the token: every request carries it."""

    def __init__(self, client):
        self.client = client

    def post(self, url, **kwargs):
        return self.client.post(url, headers=BEARER, **kwargs)


def test_with_a_token_set_a_card_click_without_it_is_refused_and_changes_nothing(guarded_app, guarded):
    bot = guarded_app.extensions["rcabot"]
    guarded.post("/tickets", json={"ticket_id": "RCA-1"}, headers=BEARER)
    space = Space(guarded, bot)

    refused = space.click(space.last_card("RCA-1"), "accept", space.pinged("RCA-1"))
    assert refused.status_code == 401 and "API token" in refused.json["error"]
    assert bot.ticket("RCA-1")["status"] == "Pinged" and len(bot.chat.messages()) == 1


def test_with_a_token_set_a_command_with_a_wrong_token_is_refused(guarded):
    forged = guarded.post("/chat/events", json={"type": "MESSAGE", "message": {"text": "back"}},
                          headers={"Authorization": "Bearer wrong"})
    assert forged.status_code == 401 and "API token" in forged.json["error"]


def test_with_a_token_set_a_card_click_with_it_is_acted_on(guarded_app, guarded):
    bot = guarded_app.extensions["rcabot"]
    guarded.post("/tickets", json={"ticket_id": "RCA-1"}, headers=BEARER)
    space = Space(WithToken(guarded), bot)
    assert space.click(space.last_card("RCA-1"), "accept", space.pinged("RCA-1")).status_code == 200
    assert bot.ticket("RCA-1")["status"] == "Accepted"


def test_in_google_mode_the_api_token_is_no_pass_for_chat_events(google_app):
    """There only Google's signed token counts: the ticket system's token must not click cards."""
    answer = google_app.test_client().post("/chat/events", json={"type": "MESSAGE", "message": {"text": "back"}},
                                           headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert answer.status_code == 401


# --- the Host header -------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1:5000", "[::1]:8080", "LOCALHOST:1"])
def test_local_mode_answers_requests_addressed_to_this_machine(client, host):
    assert client.get("/console/managers", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8080", "127.0.0.1.nip.io",
                                  "localhost.attacker.example", "[::2]:8080"])
def test_local_mode_refuses_requests_addressed_to_another_host(client, host):
    for answer in (client.get("/console/messages", headers={"Host": host}),
                   client.get("/healthz", headers={"Host": host}),
                   client.post("/tickets", json={"ticket_id": "RCA-1"}, headers={"Host": host})):
        assert answer.status_code == 403
        assert "not served here" in answer.json["error"] and "RCABOT_ALLOWED_HOSTS" in answer.json["error"]


def test_hosts_named_in_the_settings_are_answered_too(workbook_dir, jobs, clock):
    app = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock,
                      "ALLOWED_HOSTS": ("rca.lan", "bot.example.com:8443")})
    client = app.test_client()
    assert client.get("/console/managers", headers={"Host": "rca.lan:8080"}).status_code == 200
    assert client.get("/console/managers", headers={"Host": "Bot.Example.com"}).status_code == 200
    assert client.get("/console/managers", headers={"Host": "other.lan"}).status_code == 403


def test_the_allowed_hosts_setting_is_a_comma_separated_list():
    settings = Settings.from_env({"RCABOT_ALLOWED_HOSTS": " rca.lan, Bot.Example.com ,,"})
    assert settings.allowed_hosts == ("rca.lan", "bot.example.com")
    assert Settings.from_env({}).allowed_hosts == ()


def test_google_mode_answers_any_host_its_load_balancer_forwards(google_app):
    answer = google_app.test_client().get("/healthz", headers={"Host": "rca-bot.eu-west-1.elasticbeanstalk.com"})
    assert answer.status_code == 200


# --- /healthz --------------------------------------------------------------------------------

def chat_down(bot, client, headers=None) -> None:
    """Chat fails once: the bot reports `chat` degraded, with the error, which names a path."""
    bot.chat = Failing(bot.chat, "create_message", ChatError("503 from Chat (see /srv/rcabot/secret.log)"), 1)
    client.post("/tickets", json={"ticket_id": "RCA-1"}, headers=headers or {})


def test_without_the_token_health_says_only_which_parts_are_degraded(guarded_app, guarded):
    chat_down(guarded_app.extensions["rcabot"], guarded, BEARER)
    answer = guarded.get("/healthz")
    assert answer.status_code == 503
    assert answer.json == {"status": "degraded", "problems": ["chat"]}


def test_without_the_token_health_names_no_sheet_problem(guarded_app, guarded):
    guarded_app.extensions["rcabot"].problems.append("Managers A9: Ada Lovelace has no GChat ID")
    assert guarded.get("/healthz").json == {"status": "ok", "problems": []}


def test_with_the_token_health_gives_the_detail(guarded_app, guarded):
    chat_down(guarded_app.extensions["rcabot"], guarded, BEARER)
    answer = guarded.get("/healthz", headers=BEARER)
    assert answer.status_code == 503 and "secret.log" in answer.json["problems"]["chat"]
    assert answer.json["sheet_problems"] == []


def test_with_no_token_set_health_gives_the_detail_on_this_machine_only(client, bot):
    chat_down(bot, client)
    assert "503 from Chat" in client.get("/healthz").json["problems"]["chat"]
    from_afar = client.get("/healthz", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert from_afar.json == {"status": "degraded", "problems": ["chat"]}


def test_health_through_ipv6_loopback_gives_the_detail(client):
    answer = client.get("/healthz", environ_base={"REMOTE_ADDR": "::1"}, headers={"Host": "[::1]:8080"})
    assert answer.json == {"status": "ok", "problems": {}, "sheet_problems": []}


# --- GET / -----------------------------------------------------------------------------------

def test_the_root_of_local_mode_leads_to_the_console(client):
    answer = client.get("/")
    assert answer.status_code == 302 and answer.headers["Location"] == "/console"


def test_the_root_of_google_mode_points_to_health_and_the_readme(google_app):
    answer = google_app.test_client().get("/")
    assert answer.status_code == 200
    assert answer.json["health"] == "/healthz" and "README" in answer.json["docs"]


# --- the log ---------------------------------------------------------------------------------

@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def request_lines(caplog) -> list[str]:
    """werkzeug's request lines, without the colour codes it adds on a terminal."""
    return [re.sub(r"\x1b\[[\d;]*m", "", r.getMessage()) for r in caplog.records if r.name == "werkzeug"]


def test_the_consoles_successful_polls_are_not_logged(served, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    for route in CONSOLE_DATA:
        assert requests.get(served + route, timeout=5).status_code == 200
    requests.post(served + "/tickets", json={"ticket_id": "RCA-1"}, timeout=5)
    lines = request_lines(caplog)
    assert not [line for line in lines if "/console/" in line]
    assert [line for line in lines if '"POST /tickets HTTP/1.1" 202' in line]


def test_a_failed_poll_and_the_console_page_are_still_logged(served, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    requests.get(served + "/console", timeout=5)
    requests.get(served + "/console/messages", headers={"Host": "attacker.example"}, timeout=5)
    lines = request_lines(caplog)
    assert [line for line in lines if '"GET /console HTTP/1.1" 200' in line]
    assert [line for line in lines if '"GET /console/messages HTTP/1.1" 403' in line]
