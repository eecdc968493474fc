"""Chat interaction events answered synchronously: card clicks, messages and commands, being
added to a space.

Only the pinged manager's Accept or Decline and the assignee's Done change anything. Anyone
else's click gets a private answer saying so; a click on a card whose ping has moved on gets the
card redrawn to say so. Messages are commands (see `commands`). Everything is answered from
memory: no Chat or Sheets call.
"""
from __future__ import annotations

import logging
from datetime import date

from ..availability import CoverError
from ..cycle import Answer, Outcome
from ..web.inputs import InputError, ticket_id_value
from . import cards, commands
from .events import ChatEvent, EventError, reply_answer, update_answer

log = logging.getLogger(__name__)
ACTIONS = ("accept", "decline", "done")  # on ticket cards; "take" is on cover requests
QUIET = ("REMOVED_FROM_SPACE", "WIDGET_UPDATED")
HELLO = "Hello! I'm RCA Bot. " + commands.HELP


def handle(bot, event: ChatEvent) -> dict:
    if event.addon != bot.chat.buttons.addon:
        log.warning("chat: a %s event came, but the bot makes %s buttons, which this app cannot click; set "
                    "RCABOT_CHAT_APP to how the Chat app is configured", "Workspace add-on" if event.addon
                    else "classic Chat app", "add-on" if bot.chat.buttons.addon else "classic")
    if event.kind == "CARD_CLICKED":
        return _click(bot, event)
    if event.kind in ("MESSAGE", "APP_COMMAND"):
        return _command(bot, event)
    if event.kind == "ADDED_TO_SPACE":
        return reply_answer({"text": HELLO}, event.addon)
    if event.kind in QUIET:
        return {}
    raise EventError(f"unknown event type {event.kind!r}")


def _command(bot, event: ChatEvent) -> dict:
    """A reply in the message's thread. A slash command's message is seen by its sender only, and
    so is a refusal or a mistake: those answers are private too (a direct message is anyway)."""
    reply = commands.answer(bot, event.text, event.user_id, event.command_id)
    if reply.card:  # a cover request: for the whole space to see and take
        return reply_answer(reply.card, event.addon)
    private = (reply.private or bool(event.command_id)) and not event.direct
    return reply_answer({"text": reply.text}, event.addon, private_to=event.user_id if private else "")


def _click(bot, event: ChatEvent) -> dict:
    if event.action == "take":
        return _take(bot, event)
    if event.action not in ACTIONS:
        raise EventError(f"unknown action {event.action!r}: the bot's buttons are accept, decline and done")
    if not event.user_id:
        raise EventError("the click names no user")
    try:
        ticket_id = ticket_id_value(event.params.get("ticket_id"))
    except InputError as exc:
        raise EventError(f"the button's parameters are wrong: {exc}") from None
    attempt = event.params.get("attempt")
    if attempt is not None and not attempt.isdecimal():  # isdigit() takes "²", which int() does not
        raise EventError(f"the button's attempt parameter {attempt!r} is not a number")
    answer = bot.click(event.action, ticket_id, event.user_id, int(attempt) if attempt else None,
                       event.params.get("cycle", ""))
    return _render(answer, event, ticket_id, bot.chat.buttons)


def _take(bot, event: ChatEvent) -> dict:
    """A Take on a cover request: the card is redrawn as covered (by whoever took it first), or a
    private answer says why this Take cannot be."""
    if not event.user_id:
        raise EventError("the click names no user")
    params = event.params
    shift, instead_of = params.get("shift", ""), params.get("instead_of", "")
    try:
        day = date.fromisoformat(params.get("day", ""))
    except ValueError:
        raise EventError("the Take button's day parameter is not a date") from None
    if not (shift.isdecimal() and len(shift) < 4) or not instead_of.startswith("users/"):
        raise EventError("the Take button's shift or instead_of parameter is wrong")
    requested = params.get("requested", "")[:20]
    try:
        covered_by = bot.take_cover(event.user_id, day, int(shift), instead_of, requested)
    except CoverError as exc:
        return reply_answer({"text": f"You can't take this: {exc}."}, event.addon, private_to=event.user_id)
    message = cards.cover_taken_message(bot.manager_name(instead_of), covered_by, int(shift), day.isoformat())
    return update_answer(message, event.addon)


def _render(answer: Answer, event: ChatEvent, ticket_id: str, style: cards.Buttons) -> dict:
    ticket = answer.ticket
    updates = {
        Outcome.ACCEPTED: lambda: cards.assigned_message(ticket, style),
        Outcome.TAKEN: lambda: cards.assigned_message(ticket, style),
        Outcome.DECLINED: lambda: cards.declined_message(ticket),
        Outcome.COMPLETED: lambda: cards.completed_message(ticket),
        Outcome.EXPIRED: lambda: cards.expired_message(ticket, ticket_id),
        Outcome.CLOSED: lambda: cards.completed_message(ticket) if ticket else cards.closed_message(ticket_id),
    }
    if answer.outcome in updates:
        return update_answer(updates[answer.outcome](), event.addon)
    if answer.outcome is Outcome.NOT_ACCEPTED:
        text = f"{ticket_id} is not accepted yet: it can be marked done once it is accepted."
    elif event.action == "done":
        text = f"Only {ticket.manager_name}, who accepted {ticket_id}, can mark it done."
    else:
        text = f"This ping for {ticket_id} is for {ticket.manager_name}; only they can accept or decline it."
    return reply_answer({"text": text}, event.addon, private_to=event.user_id)
