"""POST /chat/events: clicks, messages and being added, in Google Chat's shapes."""
import json
from pathlib import Path

import pytest

from tests.conftest import set_configuration

SAMPLES = Path(__file__).resolve().parent / "samples" / "chat"  # copied from ../shared/reference/samples


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture
def pinged(client, space):
    client.post("/tickets", json={"ticket_id": "RCA-1", "title": "Checkout <b>latency</b>"})
    return space.pinged("RCA-1")


def test_the_ping_card_mentions_the_manager_and_carries_the_ticket_in_its_buttons(bot, space, pinged):
    card = space.last_card("RCA-1")
    assert card["text"].startswith(f"@{bot.manager_name(pinged)} RCA ticket RCA-1")
    assert card["annotations"][0]["userMention"]["user"]["name"] == pinged
    from tests.conftest import buttons
    actions = buttons(card)
    assert set(actions) == {"accept", "decline"}
    cycle = bot.cycle.state.tickets["RCA-1"].cycle
    assert actions["accept"] == {"function": "accept", "parameters": [{"key": "ticket_id", "value": "RCA-1"},
                                                                      {"key": "attempt", "value": "1"},
                                                                      {"key": "cycle", "value": cycle}]}
    ticket_text = card["cardsV2"][0]["card"]["sections"][0]["widgets"][0]["decoratedText"]["text"]
    assert ticket_text == "<b>RCA-1</b> Checkout &lt;b&gt;latency&lt;/b&gt;"  # a title is text, not markup


def test_the_ping_card_shows_its_deadline_on_its_face_to_the_second_in_the_teams_time_zone(client, bot, space,
                                                                                         clock, workbook_dir):
    set_configuration(workbook_dir, TimeZone="Europe/Berlin", TicketTimeout=300)
    bot.reload()
    clock.advance(12.3)  # 07:00:12.3 UTC; the deadline is rounded up to the second
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    card = space.last_card("RCA-1")["cardsV2"][0]["card"]
    assert not any(section.get("collapsible") for section in card["sections"])
    face = [w["decoratedText"]["text"] for w in card["sections"][0]["widgets"] if "decoratedText" in w]
    assert "Answer by 08:05:13 (Europe/Berlin), 5 min to answer" in face


def test_someone_else_clicking_accept_gets_a_private_answer_and_nothing_changes(bot, space, pinged):
    other = next(m.chat_id for m in bot.cycle.managers if m.chat_id != pinged)
    answer = space.click(space.last_card("RCA-1"), "accept", other)
    assert answer.status_code == 200
    assert answer.json["privateMessageViewer"] == {"name": other}
    assert "only they can accept or decline it" in answer.json["text"]
    assert bot.ticket("RCA-1")["status"] == "Pinged" and space.pinged("RCA-1") == pinged
    assert space.title(space.last_card("RCA-1")) == "RCA ticket ready for review"


def test_a_late_click_on_an_expired_ping_redraws_the_card_as_expired(bot, space, jobs, clock, pinged):
    old = space.last_card("RCA-1")
    clock.advance(bot.config.ticket_timeout)
    jobs.fire_due()
    answer = space.click(old, "accept", pinged)
    assert answer.json["actionResponse"]["type"] == "UPDATE_MESSAGE"
    assert answer.json["cardsV2"][0]["card"]["header"]["title"] == "This ping has expired"
    assert bot.ticket("RCA-1")["status"] == "Pinged" and space.pinged("RCA-1") != pinged


def test_done_by_someone_other_than_the_assignee_is_refused(bot, space, pinged):
    space.click(space.last_card("RCA-1"), "accept", pinged)
    other = next(m.chat_id for m in bot.cycle.managers if m.chat_id != pinged)
    answer = space.click(space.last_card("RCA-1"), "done", other)
    assert "can mark it done" in answer.json["text"] and answer.json["privateMessageViewer"] == {"name": other}
    assert bot.ticket("RCA-1")["status"] == "Accepted"


def test_a_click_on_a_ticket_no_longer_in_the_cycle_says_so(client, bot):
    event = sample("card_clicked_event.json")
    answer = client.post("/chat/events", json=event)
    assert answer.status_code == 200
    assert answer.json["cardsV2"][0]["card"]["header"]["title"] == "No longer in the cycle"
    assert bot.chat.messages() == []  # the clicked message is not in the local space: nothing to redraw


def test_the_workspace_add_on_click_shape_is_understood_and_answered_in_kind(client, bot, space, pinged):
    event = sample("addon_button_clicked_event.json")
    event["commonEventObject"]["parameters"] = {"actionName": "accept", "ticket_id": "RCA-1"}
    event["chat"]["user"]["name"] = pinged
    answer = client.post("/chat/events", json=event)
    update = answer.json["hostAppDataAction"]["chatDataAction"]["updateMessageAction"]["message"]
    assert update["cardsV2"][0]["card"]["header"]["title"] == f"Assigned to {bot.manager_name(pinged)}"
    assert bot.ticket("RCA-1")["status"] == "Accepted"


def test_a_message_that_is_no_command_is_answered_with_the_help(client):
    answer = client.post("/chat/events", json=sample("message_event.json"))
    assert answer.status_code == 200 and "Accept" in answer.json["text"]


def test_being_added_to_a_space_says_hello(client):
    answer = client.post("/chat/events", json=sample("added_to_space_event.json"))
    assert answer.json["text"].startswith("Hello! I'm RCA Bot.")


@pytest.mark.parametrize("change, message", [
    (lambda e: e.update(type="SOMETHING_NEW"), "unknown event type 'SOMETHING_NEW'"),
    (lambda e: e["common"].update(invokedFunction="delete"), "unknown action 'delete'"),
    (lambda e: [e["common"]["parameters"].pop("ticket_id"), e["action"].pop("parameters")],
     "ticket_id is required"),
    (lambda e: e["common"]["parameters"].update(ticket_id=" "), "ticket_id must not be blank"),
    (lambda e: e["common"]["parameters"].update(attempt="one"), "attempt parameter 'one' is not a number"),
    (lambda e: e.pop("user"), "the click names no user"),
])
def test_a_malformed_event_gets_a_clear_400_and_changes_nothing(client, bot, pinged, change, message):
    event = sample("card_clicked_event.json")
    event["common"]["parameters"] = {"ticket_id": "RCA-1"}
    event["user"]["name"] = pinged
    change(event)
    answer = client.post("/chat/events", json=event)
    assert answer.status_code == 400 and message in answer.json["error"]
    assert bot.ticket("RCA-1")["status"] == "Pinged"


@pytest.mark.parametrize("body", ["[]", "\"text\"", "{}", "not json"])
def test_a_body_that_is_not_an_event_gets_400(client, body):
    answer = client.post("/chat/events", data=body, content_type="application/json")
    assert answer.status_code == 400 and answer.json["error"]


def test_a_ticket_id_cannot_mention_everyone_or_smuggle_a_link_into_a_message(client, bot):
    client.post("/tickets", json={"ticket_id": "<users/all>", "title": "x"})
    text = bot.chat.messages()[0]["text"]
    assert "<users/all>" not in text and "@" + bot.ticket("<users/all>")["manager"]["name"] in text
    assert [a["userMention"]["user"]["name"] for a in bot.chat.messages()[0]["annotations"]] == [
        bot.ticket("<users/all>")["manager"]["chat_id"]]


def test_a_persons_message_shows_in_the_local_space_with_the_answer_in_its_thread(client, bot):
    event = sample("message_event.json")
    event["message"]["name"] = "spaces/local/messages/console-1"
    event["message"].pop("thread")
    client.post("/chat/events", json=event)
    asked, answered = bot.chat.messages()
    assert asked["sender"]["type"] == "HUMAN" and asked["text"] == "@RCA Bot status RCA-2041"
    assert answered["thread"] == asked["thread"] and "Accept" in answered["text"]
