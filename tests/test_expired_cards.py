"""A lapsed ping's card is redrawn without its buttons, with spare Chat quota only: never ahead
of a ping or a notice, and not at all while the space's writes are busy."""
from __future__ import annotations

from datetime import timedelta

from rcabot.chat.cards import lapsed_message
from rcabot.cycle import Lapsed
from rcabot.model import Ticket, TicketStatus
from rcabot.outbox import Delivery, Outbox
from tests.conftest import buttons, drain, set_configuration
from tests.fakes.google import SPACE


def test_a_lapsed_card_is_redrawn_as_timed_out_and_now_with_the_next_manager(client, bot, space, clock, jobs):
    client.post("/tickets", json={"ticket_id": "RCA-1", "title": "Checkout latency"})
    first, card = space.pinged("RCA-1"), space.last_card("RCA-1")
    clock.advance(bot.config.ticket_timeout)
    jobs.fire_due()
    second = space.pinged("RCA-1")
    assert space.last_card("RCA-1")["text"].startswith(f"Timed out for {bot.manager_name(first)}.")
    assert buttons(bot.chat.message(card["name"])), "the next ping goes first: the redraw waits its second"

    drain(bot, clock)
    redrawn = bot.chat.message(card["name"])
    assert space.title(redrawn) == f"Timed out \u2014 now with {bot.manager_name(second)}"
    assert buttons(redrawn) == {}  # no Accept, no Decline
    assert redrawn["text"] == card["text"]  # the mention stays
    assert len(bot.chat.messages()) == 2  # the same card, not another message


def test_a_lapsed_card_whose_ticket_waits_says_so(client, bot, space, clock, jobs):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    card = space.last_card("RCA-1")
    for manager in bot.status()["managers"]:  # nobody free when the ping lapses, its holder included
        bot.set_dnd(manager["chat_id"], timedelta(hours=1))
    clock.advance(bot.config.ticket_timeout)
    jobs.fire_due()
    drain(bot, clock)
    assert bot.ticket("RCA-1")["status"] == "Waiting"
    assert space.title(bot.chat.message(card["name"])) == "Timed out \u2014 waiting for someone free"


def test_under_a_burst_lapsed_cards_are_left_as_they_are_and_no_ping_waits_for_them(client, bot, space, clock,
                                                                                   jobs, workbook_dir):
    set_configuration(workbook_dir, ManagerDNDTime=0)
    bot.reload()
    client.post("/tickets", json={"ticket_id": "RCA-0"})
    card, first = space.last_card("RCA-0"), space.pinged("RCA-0")
    clock.advance(30)
    for n in range(1, 40):  # a burst: 39 more tickets, their pings and notices a second apart
        client.post("/tickets", json={"ticket_id": f"RCA-{n}"})
    posted_at = []
    while len(bot.outbox):
        clock.advance(1)
        before = len(bot.chat.messages())
        jobs.fire_due()
        bot.deliver()
        posted_at += [clock.now] * (len(bot.chat.messages()) - before)
    assert (bot.ticket("RCA-0")["manager"] or {}).get("chat_id") != first  # its ping lapsed amid the burst
    assert buttons(bot.chat.message(card["name"])), "the redraw was dropped: the minute's writes were busy"
    assert all(b - a == timedelta(seconds=1) for a, b in zip(posted_at, posted_at[1:]))  # nothing held up


def test_a_redraw_goes_only_when_no_ping_or_notice_waits():
    outbox = Outbox()
    redraw = Delivery("RCA-1", 0, "", kind="redraw", lapsed=Lapsed("RCA-1", "spaces/s/messages/1", "Ada"))
    notice = Delivery("RCA-2", 0, "r2", text="RCA-2 waits", kind="waiting")
    outbox.add(redraw)
    outbox.add(notice)
    assert outbox.front(lambda item: True) is notice
    outbox.posted(notice)
    assert outbox.front(lambda item: False) is redraw  # a redraw is never stale: the card stays lapsed


def test_the_redrawn_card_has_no_buttons_but_the_tickets_link():
    shown = Ticket("RCA-1", "Checkout", "https://tickets.example.com/RCA-1")
    now = Ticket("RCA-1", status=TicketStatus.PINGED, manager_name="Hana Sato")
    message = lapsed_message(shown, "Ada", now)
    assert set(message) == {"cardsV2"}  # an update of the card alone: the text and its mention stay
    assert message["cardsV2"][0]["card"]["header"]["title"] == "Timed out \u2014 now with Hana Sato"
    assert buttons(message) == {} and "https://tickets.example.com/RCA-1" in str(message)
    assert lapsed_message(shown, "Ada", None)["cardsV2"][0]["card"]["header"]["title"] == "Timed out"


def test_on_google_a_lapsed_card_is_patched_with_its_cards_only(gspace, fake, clock, jobs):
    bot = gspace.bot
    gspace.client.post("/tickets", json={"ticket_id": "RCA-1"},
                       headers={"Authorization": "Bearer test-api-token-not-a-secret"})
    card = gspace.last_card("RCA-1")
    clock.advance(bot.config.ticket_timeout)
    jobs.fire_due()
    drain(bot, clock)
    [patch] = [c for c in fake.chat.calls if c.kind == "spaces.messages.patch"]
    assert patch.path == f"/v1/{card['name']}" and patch.query["updateMask"] == ["cards_v2"]
    assert set(patch.body) == {"cardsV2"} and patch.status == 200
    redrawn = fake.chat.message(card["name"])
    assert redrawn["cardsV2"][0]["card"]["header"]["title"].startswith("Timed out \u2014 now with")
    assert redrawn["text"] == card["text"] and len(fake.chat.messages(SPACE)) == 2
