"""Health for the load balancer: 200 while the scheduler runs and nothing is degraded.

Callers without the token learn only which parts are degraded; the reasons name files, sheets
and people. Answered from memory, with no call out: load balancers ask often.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .auth import sees_detail

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    bot = current_app.extensions["rcabot"]
    problems = bot.degraded_now()
    code = 503 if problems else 200
    status = "degraded" if problems else "ok"
    if not sees_detail():
        return jsonify(status=status, problems=sorted(problems)), code
    detail = dict(status=status, problems=problems, sheet_problems=list(bot.problems))
    if bot.outgoing.active:  # each webhook / write-back target's state; absent without any
        detail["outgoing"] = bot.outgoing.view()
    return jsonify(**detail), code


def about():
    """GET / in Google mode: nothing to show a person, so where to look instead."""
    return jsonify(service="RCA Bot", health="/healthz",
                   docs="README.md, 'HTTP API': /tickets, /status, /chat/events, /calendar.ics, /metrics")
