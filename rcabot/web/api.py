"""The ticket system's API: start a ticket, look one up, and the bot's status.

With a Teams file (rcabot.teams) each team has these routes under `/teams/<team>/`, and
`POST /tickets` takes the team in a `team` field (needed when there are several)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from ..bot import Overloaded, ticket_view
from .auth import require_token
from .inputs import InputError, json_body, ticket_id_value, ticket_request

bp = Blueprint("api", __name__)


class TeamRefused(Exception):
    """The request names no team, or one this deployment does not serve."""

    def __init__(self, code: int, message: str, teams: list[str]):
        super().__init__(message)
        self.code, self.teams = code, teams

    def answer(self):
        return jsonify(error=str(self), teams=self.teams), self.code


def _teams():
    return current_app.extensions.get("rcabot.teams")


def team_bot(name: str | None):
    """The bot of team `name` (None: the request names none); TeamRefused says what is wrong."""
    teams = _teams()
    if teams is None:
        if name is None:
            return current_app.extensions["rcabot"]
        raise TeamRefused(404, "this deployment serves one team (RCABOT_TEAMS_FILE is not set): use /tickets", [])
    if name is None:
        if len(teams.names) == 1:
            return teams.first
        raise TeamRefused(400, "which team? POST /teams/TEAM/tickets, or a \"team\" field in the body; the teams "
                               f"are {', '.join(teams.names)}", teams.names)
    bot = teams.get(name)
    if bot is None:
        raise TeamRefused(404, f"no team {name!r} here; the teams are {', '.join(teams.names)}", teams.names)
    return bot


def _team_field(body: Any) -> str | None:
    team = body.get("team") if isinstance(body, dict) and _teams() is not None else None
    if team is not None and not isinstance(team, str):
        raise InputError(f"team must be a string, not {type(team).__name__}")
    return team


@bp.post("/tickets")
@require_token
def start_ticket():
    return _start(None)


@bp.post("/teams/<team>/tickets")
@require_token
def start_team_ticket(team: str):
    return _start(team)


def _start(team: str | None):
    if not request.is_json:
        return jsonify(error="send the ticket as JSON (Content-Type: application/json)"), 415
    try:
        body = json_body(request.get_data())
        bot = team_bot(team if team is not None else _team_field(body))
        ticket_id, title, url = ticket_request(body)
    except InputError as exc:
        return jsonify(error=str(exc)), 400
    except TeamRefused as refused:
        return refused.answer()
    try:
        ticket, created = bot.start_ticket(ticket_id, title, url)
    except Overloaded as exc:
        return jsonify(error=str(exc)), 503, {"Retry-After": str(exc.retry_after)}
    return jsonify(ticket_view(ticket)), 202 if created else 200


@bp.get("/tickets/<path:ticket_id>")
@require_token
def get_ticket(ticket_id: str):
    teams = _teams()
    return _ticket(list(teams.bots.values()) if teams else [current_app.extensions["rcabot"]], ticket_id)


@bp.get("/teams/<team>/tickets/<path:ticket_id>")
@require_token
def get_team_ticket(team: str, ticket_id: str):
    try:
        return _ticket([team_bot(team)], ticket_id)
    except TeamRefused as refused:
        return refused.answer()


def _ticket(bots: list, ticket_id: str):
    """The ticket's state from the first of `bots` that has it (with several teams and no team
    named, every team's is looked at, in the Teams file's order)."""
    try:
        ticket_id = ticket_id_value(ticket_id)
    except InputError as exc:
        return jsonify(error=str(exc)), 400
    view = next((found for bot in bots if (found := bot.ticket(ticket_id)) is not None), None)
    if view is None:
        return jsonify(error=f"ticket {ticket_id} is not in the cycle"), 404
    return jsonify(view)


@bp.get("/status")
@require_token
def status():
    teams = _teams()
    if teams is None:
        return jsonify(current_app.extensions["rcabot"].status())
    return jsonify(teams={name: bot.status() for name, bot in teams.bots.items()})


@bp.get("/teams/<team>/status")
@require_token
def team_status(team: str):
    try:
        return jsonify(team_bot(team).status())
    except TeamRefused as refused:
        return refused.answer()
