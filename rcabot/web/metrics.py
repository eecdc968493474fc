"""GET /metrics for Prometheus: answered from memory, behind the API token when one is set."""
from __future__ import annotations

from flask import Blueprint, Response, current_app

from .auth import require_token

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@require_token
def metrics():
    body, content_type = current_app.extensions["rcabot"].metrics.exposition()
    return Response(body, content_type=content_type)
