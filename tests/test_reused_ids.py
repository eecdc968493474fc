"""A ticket id started again after its cycle ended (an RCA reopened for re-review) is a new cycle:
its ping is a new card that the manager can answer, not the old card handed back."""
from __future__ import annotations

from tests.conftest import buttons, drain


def finish(client, space, ticket_id):
    manager = space.pinged(ticket_id)
    space.click(space.last_card(ticket_id), "accept", manager)
    space.click(space.last_card(ticket_id), "done", manager)


def test_a_ticket_started_again_after_done_gets_a_new_card_with_live_buttons(client, bot, space, clock):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    drain(bot, clock)
    first_card = space.last_card("RCA-1")
    finish(client, space, "RCA-1")
    clock.advance(seconds=1)

    assert client.post("/tickets", json={"ticket_id": "RCA-1"}).status_code == 202
    drain(bot, clock)
    card = space.last_card("RCA-1")
    assert card["name"] != first_card["name"]
    assert set(buttons(card)) >= {"accept", "decline"}
    manager = space.pinged("RCA-1")
    assert space.click(card, "accept", manager).status_code == 200
    assert bot.ticket("RCA-1")["status"] == "Accepted"


def test_the_same_ticket_started_again_in_the_same_second_is_still_a_new_card(client, bot, space, clock):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    drain(bot, clock)
    finish(client, space, "RCA-1")
    client.post("/tickets", json={"ticket_id": "RCA-1"})  # started at the same instant as it finished
    drain(bot, clock)
    cards = [m for m in space.thread("RCA-1") if m["cardsV2"]]
    assert len(cards) == 2
    assert space.title(cards[0]).startswith("Completed by")
    assert "accept" in buttons(cards[-1])


def test_a_card_of_an_earlier_cycle_is_expired_even_when_its_attempt_and_manager_match(client, bot, space, clock):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    drain(bot, clock)
    old_card = space.last_card("RCA-1")
    manager = space.pinged("RCA-1")
    bot.cycle.state.tickets["RCA-1"].cycle = "an-earlier-one"  # as if this card were the last cycle's

    answer = space.click(old_card, "accept", manager)
    assert space.title(answer.json) == "This ping has expired"
    assert bot.ticket("RCA-1")["status"] == "Pinged"


def test_a_button_attempt_in_other_digits_is_refused_not_a_500(client, bot, space, clock):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    drain(bot, clock)
    card = space.last_card("RCA-1")
    event_params = {"ticket_id": "RCA-1", "attempt": "\u00b2"}
    answer = space.click(card, "accept", space.pinged("RCA-1"),
                         common={"hostApp": "CHAT", "invokedFunction": "accept", "parameters": event_params})
    assert answer.status_code == 400 and "attempt" in answer.json["error"]
