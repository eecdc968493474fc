"""The console (local mode only): the local Chat space as a web page."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

bp = Blueprint("console", __name__)  # its page and scripts live in the app's templates/ and static/


@bp.get("/console")
def page():
    settings = current_app.extensions["rcabot.settings"]
    return render_template("console.html", token_required=bool(settings.api_token), space="spaces/local")


@bp.get("/console/messages")
def messages():
    return jsonify(messages=current_app.extensions["rcabot"].chat.messages())


@bp.get("/console/status")
def bot_status():
    """What the BotStatus tab shows, as of now."""
    return jsonify(rows=current_app.extensions["rcabot"].status_rows())


@bp.get("/console/managers")
def managers():
    status = current_app.extensions["rcabot"].status()
    return jsonify(managers=status["managers"], shift=status["shift"])
