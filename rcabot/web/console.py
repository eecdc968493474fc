"""The console (local mode only): the local Chat space as a web page.

The page itself carries nothing private; what it reads (the messages, the team, the status) needs
the API token when one is set, like the ticket API. With a Teams file each team has its console at
`/teams/<team>/console`; `/console` is the first team's.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for

from .api import TeamRefused, team_bot
from .auth import require_token

bp = Blueprint("console", __name__)  # its page and scripts live in the app's templates/ and static/


@bp.get("/")
def home():
    """Locally, the address the bot prints is where a newcomer lands: the console."""
    return redirect(url_for("console.page"))


def _team(team: str | None):
    """(the team's bot, the prefix of its routes): `team` None is the first team (or the only one)."""
    teams = current_app.extensions.get("rcabot.teams")
    if team is None:
        return current_app.extensions["rcabot"], f"/teams/{teams.names[0]}" if teams else ""
    bot = team_bot(team)
    return bot, f"/teams/{next(name for name, each in teams.bots.items() if each is bot)}"


def _per_team(view):
    """`view(bot, base)` for the route's team; an unknown team is a 404."""
    def run(team: str | None = None):
        try:
            return view(*_team(team))
        except TeamRefused as refused:
            return refused.answer()
    run.__name__ = view.__name__
    return run


@bp.get("/console")
@bp.get("/teams/<team>/console")
@_per_team
def page(bot, base: str):
    settings = current_app.extensions["rcabot.settings"]
    return render_template("console.html", token_required=bool(settings.api_token), space=bot.default_space,
                           base=base, time_zone=str(bot.config.schedule.zone))


@bp.get("/console/messages")
@bp.get("/teams/<team>/console/messages")
@require_token
@_per_team
def messages(bot, base: str):
    return jsonify(messages=bot.chat.messages())


@bp.get("/console/status")
@bp.get("/teams/<team>/console/status")
@require_token
@_per_team
def bot_status(bot, base: str):
    """What the BotStatus tab shows, as of now."""
    return jsonify(rows=bot.status_rows())


@bp.get("/console/managers")
@bp.get("/teams/<team>/console/managers")
@require_token
@_per_team
def managers(bot, base: str):
    """The team, with the zone the bot tells times in (the page shows every time in it), and the
    day's availability: this shift's cover, today's holiday, when the next shift starts."""
    status = bot.status()
    return jsonify({key: status[key] for key in ("managers", "shift", "time_zone", "next_shift_start", "holiday",
                                                 "covers")})
