"""Health for the load balancer: 200 while the scheduler runs and nothing is degraded."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    bot = current_app.extensions["rcabot"]
    scheduler = getattr(bot.jobs, "scheduler", None)
    problems = dict(bot.degraded)
    if scheduler is not None and not scheduler.running:
        problems["scheduler"] = "the scheduler is not running"
    body = {"status": "degraded" if problems else "ok", "problems": problems, "sheet_problems": list(bot.problems)}
    return jsonify(body), 503 if problems else 200
