"""A Chat app built as a Google Workspace add-on, and the classic one, clicked as Google documents.

The events here are built from Google's description of what an app receives (reference
google-chat.md, sections 1.5 and 1.6, and the samples), from the button the bot posted, never
from the bot's own parser: a card and a parser that agree with each other but not with Google
fail these tests.

An add-on's button is a call to the URL in its `function`; the app then gets the button's
parameters in `commonEventObject.parameters` (a map), the clicker in `chat.user`, the card in
`chat.buttonClickedPayload.message`, and no `type`, `action` or `invokedFunction`. A classic
app's button names its function, which comes back in `common.invokedFunction` and
`action.actionMethodName`, with the parameters in `common.parameters` and `action.parameters`.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import responses

from rcabot.chat.cards import Buttons, assigned_message, ping_message
from rcabot.chat.events import parse_event
from rcabot.config import Settings
from rcabot.model import Ticket
from rcabot.web import create_app
from tests.conftest import buttons
from tests.fakes.google import SPACE
from tests.fakes.tokens import ADDON_ACCOUNT, id_token_claims
from tests.google_fixtures import API_TOKEN

SAMPLES = Path(__file__).resolve().parent / "samples" / "chat"
ENDPOINT = "https://rca-bot.example.com/chat/events"  # where Chat calls the add-on, and its token's audience


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


# --- what Google sends -------------------------------------------------------------------------

def addon_click(message: dict, button: str, user: str, space: str = SPACE) -> tuple[str, dict]:
    """The URL Google calls and the event it sends when `user` clicks `button` of `message` in an
    add-on app: the button's parameters as a map, nothing that names a function."""
    action = buttons(message)[button]
    event = {"commonEventObject": {"userLocale": "en", "hostApp": "CHAT", "platform": "WEB",
                                   "timeZone": {"id": "Europe/Berlin", "offset": 3600000.0},
                                   "parameters": {p["key"]: p["value"] for p in action["parameters"]}},
             "authorizationEventObject": {"systemIdToken": "the same token as the Authorization header"},
             "chat": {"user": {"name": user, "displayName": "A manager", "type": "HUMAN"},
                      "eventTime": "2026-11-23T07:00:05.123456Z",
                      "buttonClickedPayload": {"message": message,
                                               "space": {"name": space, "type": "ROOM", "spaceType": "SPACE"}}}}
    return action["function"], event


def classic_click(message: dict, button: str, user: str) -> dict:
    """The CARD_CLICKED event a classic Chat app gets for `button` of `message`."""
    action = buttons(message)[button]
    return {"type": "CARD_CLICKED", "eventTime": "2026-11-23T07:00:05.123456Z",
            "user": {"name": user, "displayName": "A manager", "type": "HUMAN"},
            "space": {"name": "spaces/local", "type": "ROOM", "spaceType": "SPACE"}, "message": message,
            "action": {"actionMethodName": action["function"], "parameters": action["parameters"]},
            "common": {"hostApp": "CHAT", "invokedFunction": action["function"],
                       "parameters": {p["key"]: p["value"] for p in action["parameters"]}}}


# --- an add-on app in Google mode, end to end --------------------------------------------------

@pytest.fixture
def addon_app(google_env, monkeypatch, fake, certs, jobs, clock, no_backoff):
    monkeypatch.setenv("RCABOT_CHAT_APP", "addon")
    monkeypatch.setenv("RCABOT_CHAT_AUDIENCE", ENDPOINT)
    monkeypatch.setenv("RCABOT_CHAT_ADDON_SERVICE_ACCOUNT", ADDON_ACCOUNT)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        certs.install(rsps)
        yield create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": fake.http()})


def press(client, certs, function: str, event: dict):
    """Google calls the button's function URL with the event and an ID token for that URL."""
    url = urlsplit(function)
    assert f"{url.scheme}://{url.netloc}{url.path}" == ENDPOINT, f"Google would call {function!r}, not the app"
    token = certs.bearer(id_token_claims(ENDPOINT, email=ADDON_ACCOUNT))
    return client.post(url.path, json=event, headers={"Authorization": token})


def started(addon_app, fake):
    """The bot, a client, and RCA-1's ping card as Google Chat holds it."""
    bot, client = addon_app.extensions["rcabot"], addon_app.test_client()
    client.post("/tickets", json={"ticket_id": "RCA-1"}, headers={"Authorization": f"Bearer {API_TOKEN}"})
    return bot, client, fake.chat.thread_messages(SPACE, "rca-ticket-RCA-1")[-1]


def test_an_add_on_apps_ping_card_is_clicked_as_google_sends_it_and_acted_on(addon_app, fake, certs, clock):
    bot, client, card = started(addon_app, fake)
    manager = bot.ticket("RCA-1")["manager"]["chat_id"]

    answer = press(client, certs, *addon_click(card, "accept", manager))
    assert answer.status_code == 200, answer.json
    shown = answer.json["hostAppDataAction"]["chatDataAction"]["updateMessageAction"]["message"]
    assert shown["cardsV2"][0]["card"]["header"]["title"] == f"Assigned to {bot.manager_name(manager)}"
    assert bot.ticket("RCA-1")["status"] == "Accepted"

    answer = press(client, certs, *addon_click({**card, **shown}, "done", manager))  # Done, on the redrawn card
    assert answer.status_code == 200, answer.json
    assert bot.ticket("RCA-1")["status"] == "Completed"


def test_an_add_on_apps_decline_moves_the_ticket_on(addon_app, fake, certs, clock):
    bot, client, card = started(addon_app, fake)
    first = bot.ticket("RCA-1")["manager"]["chat_id"]
    answer = press(client, certs, *addon_click(card, "decline", first))
    assert answer.json["hostAppDataAction"]["chatDataAction"]["updateMessageAction"]["message"]["cardsV2"][0][
        "card"]["header"]["title"] == f"Declined by {bot.manager_name(first)}"
    assert bot.ticket("RCA-1")["attempts"] == 2 and bot.ticket("RCA-1")["manager"]["chat_id"] != first


def test_an_add_on_apps_answer_to_someone_elses_click_is_a_private_new_message(addon_app, fake, certs):
    bot, client, card = started(addon_app, fake)
    other = next(m.chat_id for m in bot.cycle.managers if m.chat_id != bot.ticket("RCA-1")["manager"]["chat_id"])
    answer = press(client, certs, *addon_click(card, "accept", other))
    reply = answer.json["hostAppDataAction"]["chatDataAction"]["createMessageAction"]["message"]
    assert reply["privateMessageViewer"] == {"name": other} and "only they can accept" in reply["text"]
    assert bot.ticket("RCA-1")["status"] == "Pinged"


def test_a_message_to_an_add_on_app_is_answered_with_a_create_message_action(addon_app, certs):
    message = sample("message_event.json")["message"]
    event = {"commonEventObject": {"hostApp": "CHAT"},
             "chat": {"user": message["sender"], "eventTime": "2026-11-23T07:00:05Z",
                      "messagePayload": {"message": message, "space": message["space"]}}}
    answer = press(addon_app.test_client(), certs, ENDPOINT, event)
    assert "Accept" in answer.json["hostAppDataAction"]["chatDataAction"]["createMessageAction"]["message"]["text"]


# --- a classic app, end to end in local mode ---------------------------------------------------

def test_a_classic_apps_ping_card_is_clicked_as_google_sends_it_and_acted_on(client, bot, space):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    manager = space.pinged("RCA-1")
    event = classic_click(space.last_card("RCA-1"), "accept", manager)
    assert event["common"]["invokedFunction"] == "accept"  # a classic button names its function
    answer = client.post("/chat/events", json=event)
    assert answer.json["actionResponse"] == {"type": "UPDATE_MESSAGE"}
    assert bot.ticket("RCA-1")["status"] == "Accepted"


@pytest.mark.parametrize("keep", ["common", "action"])
def test_a_classic_click_is_understood_from_either_place_chat_reports_the_function_in(client, bot, space, keep):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    event = classic_click(space.last_card("RCA-1"), "accept", space.pinged("RCA-1"))
    event.pop("action" if keep == "common" else "common")
    assert client.post("/chat/events", json=event).status_code == 200
    assert bot.ticket("RCA-1")["status"] == "Accepted"


# --- the pieces --------------------------------------------------------------------------------

def test_the_reference_add_on_sample_parses_to_a_click_with_its_action_user_and_card():
    event = parse_event(sample("addon_button_clicked_event.json"))
    assert (event.kind, event.action, event.addon) == ("CARD_CLICKED", "accept", True)
    assert event.params == {"ticket_id": "RCA-2041"} and event.user_id == "users/113345902244171829470"
    assert event.message["name"] == "spaces/AAQAv7Rk3mE/messages/Lm8r2TqYv4E.Lm8r2TqYv4E"


def test_add_on_buttons_call_the_endpoint_url_and_carry_the_action_in_a_parameter():
    style = Buttons(ENDPOINT)
    ping = ping_message(Ticket("RCA-1"), "users/1", "Ada", 2, datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc),
                        300, style=style)
    accept = buttons(ping)["accept"]
    assert accept == {"function": ENDPOINT, "parameters": [{"key": "actionName", "value": "accept"},
                                                           {"key": "ticket_id", "value": "RCA-1"},
                                                           {"key": "attempt", "value": "2"}]}
    assert buttons(assigned_message(Ticket("RCA-1"), style))["done"]["function"] == ENDPOINT


@pytest.mark.parametrize("env, url", [
    ({"RCABOT_CHAT_APP": "addon", "RCABOT_CHAT_AUDIENCE": ENDPOINT}, ENDPOINT),
    ({"RCABOT_CHAT_APP": "addon", "RCABOT_CHAT_AUDIENCE": "123456789012",
      "RCABOT_CHAT_FUNCTION_URL": "https://other.example/chat/events"}, "https://other.example/chat/events"),
    ({"RCABOT_CHAT_AUDIENCE": ENDPOINT}, ""),
])
def test_an_add_on_calls_the_function_url_or_else_the_audience_url(env, url):
    assert Settings.from_env(env).addon_url == url


@pytest.mark.parametrize("env, problem", [
    ({"RCABOT_CHAT_APP": "addon", "RCABOT_CHAT_AUDIENCE": "123456789012"}, "set RCABOT_CHAT_FUNCTION_URL"),
    ({"RCABOT_CHAT_APP": "workspace"}, "RCABOT_CHAT_APP is 'workspace'"),
])
def test_an_add_on_setting_that_cannot_work_stops_google_mode(env, problem):
    settings = Settings.from_env({"RCABOT_BACKEND": "google", **env})
    assert any(problem in p for p in settings.problems())


def test_an_add_on_event_to_a_bot_set_up_as_a_classic_app_is_logged_with_the_setting_to_fix(client, caplog):
    client.post("/chat/events", json=sample("addon_button_clicked_event.json"))
    assert "RCABOT_CHAT_APP" in caplog.text and "Workspace add-on event" in caplog.text
