"""Health for the load balancer: 200 while the scheduler runs and nothing is degraded.

Callers without the token learn only which parts are degraded; the reasons name files, sheets
and people. Answered from memory, with no call out: load balancers ask often. With a Teams file,
every team is reported (`teams`), and the deployment is degraded when any team is.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .auth import sees_detail

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    teams = current_app.extensions.get("rcabot.teams")
    if teams is None:
        view = _view(current_app.extensions["rcabot"], sees_detail())
        return jsonify(**view), 503 if view["status"] == "degraded" else 200
    views = {name: _view(bot, sees_detail()) for name, bot in teams.bots.items()}
    problems = [f"{name}: {part}" for name, view in views.items() for part in view["problems"]]
    status = "degraded" if problems else "ok"
    return jsonify(status=status, problems=problems, teams=views), 503 if problems else 200


def _view(bot, detail: bool) -> dict:
    problems = bot.degraded_now()
    status = "degraded" if problems else "ok"
    if not detail:
        return dict(status=status, problems=sorted(problems))
    view = dict(status=status, problems=problems, sheet_problems=list(bot.problems))
    if bot.outgoing.active:  # each webhook / write-back target's state; absent without any
        view["outgoing"] = bot.outgoing.view()
    return view


def about():
    """GET / in Google mode: nothing to show a person, so where to look instead."""
    return jsonify(service="RCA Bot", health="/healthz",
                   docs="README.md, 'HTTP API': /tickets, /status, /chat/events, /calendar.ics, /metrics")
