"""The console (local mode only): the local Chat space as a web page.

The page itself carries nothing private; what it reads (the messages, the team, the status) needs
the API token when one is set, like the ticket API.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for

from .auth import require_token

bp = Blueprint("console", __name__)  # its page and scripts live in the app's templates/ and static/


@bp.get("/")
def home():
    """Locally, the address the bot prints is where a newcomer lands: the console."""
    return redirect(url_for("console.page"))


@bp.get("/console")
def page():
    settings, bot = current_app.extensions["rcabot.settings"], current_app.extensions["rcabot"]
    # spaces/local; with a Teams file, the first team's space (the console shows that team only)
    return render_template("console.html", token_required=bool(settings.api_token), space=bot.default_space,
                           time_zone=str(bot.config.schedule.zone))


@bp.get("/console/messages")
@require_token
def messages():
    return jsonify(messages=current_app.extensions["rcabot"].chat.messages())


@bp.get("/console/status")
@require_token
def bot_status():
    """What the BotStatus tab shows, as of now."""
    return jsonify(rows=current_app.extensions["rcabot"].status_rows())


@bp.get("/console/managers")
@require_token
def managers():
    """The team, with the zone the bot tells times in (the page shows every time in it), and the
    day's availability: this shift's cover, today's holiday, when the next shift starts."""
    status = current_app.extensions["rcabot"].status()
    return jsonify({key: status[key] for key in ("managers", "shift", "time_zone", "next_shift_start", "holiday",
                                                 "covers")})
