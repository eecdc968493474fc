"""GET /calendar.ics: the next 14 days of shifts and who is on each, for calendar apps.

Answered from the bot's memory (the team and the schedule of the last reload): no spreadsheet call.
With a Teams file, each team's is `/teams/<team>/calendar.ics`.
"""
from __future__ import annotations

from flask import Blueprint, Response

from ..calendar import render, upcoming_shifts
from .api import TeamRefused, team_bot
from .auth import require_token_or_link

bp = Blueprint("calendar", __name__)


@bp.get("/calendar.ics")
@bp.get("/teams/<team>/calendar.ics")
@require_token_or_link
def shift_calendar(team: str | None = None):
    try:
        bot = team_bot(team)
    except TeamRefused as refused:
        return refused.answer()
    schedule, managers, availability, now = bot.rota()
    body = render(upcoming_shifts(schedule, managers, now, availability=availability), now, schedule.zone)
    # private: the rota names people, and the address may carry the token.
    return Response(body, content_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="rca-shifts.ics"',
                             "Cache-Control": "private"})
