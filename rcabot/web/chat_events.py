"""POST /chat/events: Google Chat's interaction events (and the console's, which are the same)."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from ..bot import Overloaded
from ..chat import ChatError
from ..chat.events import EventError, parse_event, reply_answer
from ..chat.handler import handle
from .inputs import InputError, cleaned, json_body

bp = Blueprint("chat_events", __name__)
log = logging.getLogger(__name__)
UNKNOWN_SPACE = "RCA Bot is not set up for this space: ask whoever runs it to add the space to its Teams file."


@bp.post("/chat/events")
def chat_event():
    verifier = current_app.extensions.get("rcabot.verifier")
    if verifier is not None:
        refusal = verifier.refuse(request.headers.get("Authorization"))
        if refusal:
            log.warning("chat event refused: %s", refusal)
            return jsonify(error=f"unauthorized: {refusal}"), 401
    try:
        body = cleaned(json_body(request.get_data()))
    except InputError as exc:
        return jsonify(error=f"a Chat event is a JSON body: {exc}"), 400
    bot = current_app.extensions["rcabot"]
    teams = current_app.extensions.get("rcabot.teams")
    try:
        event = parse_event(body)
        if teams is not None:  # many teams: the event's space says whose it is
            team = teams.for_event(event)
            if team is None:
                log.warning("chat: a %s event from %s, which is no team's space (RCABOT_TEAMS_FILE)", event.kind,
                            event.space or "no space")
                return jsonify(reply_answer({"text": UNKNOWN_SPACE}, event.addon))
            bot = teams.bots[team]
        answer = handle(bot, event)
    except EventError as exc:
        return jsonify(error=str(exc)), 400
    except Overloaded as exc:  # the journal cannot be written: refuse rather than pretend
        return jsonify(error=str(exc)), 503, {"Retry-After": str(exc.retry_after)}
    try:
        bot.chat.answered(body, answer)
    except ChatError as exc:  # the local space's copy of the card; the answer itself stands
        log.error("chat: %s", exc)
    return jsonify(answer)
