"""The ticket system's API: start a ticket, look one up, and the bot's status."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..bot import Overloaded, ticket_view
from .auth import require_token
from .inputs import InputError, json_body, ticket_id_value, ticket_request

bp = Blueprint("api", __name__)


def _bot():
    return current_app.extensions["rcabot"]


@bp.post("/tickets")
@require_token
def start_ticket():
    if not request.is_json:
        return jsonify(error="send the ticket as JSON (Content-Type: application/json)"), 415
    try:
        ticket_id, title, url = ticket_request(json_body(request.get_data()))
    except InputError as exc:
        return jsonify(error=str(exc)), 400
    try:
        ticket, created = _bot().start_ticket(ticket_id, title, url)
    except Overloaded as exc:
        return jsonify(error=str(exc)), 503, {"Retry-After": str(exc.retry_after)}
    return jsonify(ticket_view(ticket)), 202 if created else 200


@bp.get("/tickets/<path:ticket_id>")
@require_token
def get_ticket(ticket_id: str):
    try:
        ticket_id = ticket_id_value(ticket_id)
    except InputError as exc:
        return jsonify(error=str(exc)), 400
    view = _bot().ticket(ticket_id)
    if view is None:
        return jsonify(error=f"ticket {ticket_id} is not in the cycle"), 404
    return jsonify(view)


@bp.get("/status")
@require_token
def status():
    return jsonify(_bot().status())
