"""GET /metrics for Prometheus: answered from memory, behind the API token when one is set. With a
Teams file, every team's series, each labelled with its team."""
from __future__ import annotations

from flask import Blueprint, Response, current_app

from ..metrics import teams_exposition
from .auth import require_token

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@require_token
def metrics():
    teams = current_app.extensions.get("rcabot.teams")
    if teams is None:
        body, content_type = current_app.extensions["rcabot"].metrics.exposition()
    else:
        body, content_type = teams_exposition(teams.bots)
    return Response(body, content_type=content_type)
