"""POST /hooks/github and /hooks/jira: the ticket systems' own webhooks start tickets.

Answers: 202 a ticket started (200 it was open already); 200 {"ignored": reason} for a delivery
that starts nothing (another event, action, label or status; a delivery id seen in the last 24 h,
so the sender does not retry it); 400 a malformed body or a Jira timestamp more than 5 minutes
from now; 401 a missing or wrong signature; 503 the secret is not set (nothing unsigned is ever
accepted) or the bot is busy (with Retry-After). With a Teams file, each team's are under
`/teams/<team>/hooks/`; the bare routes serve the team only when the file names one (else 400,
as POST /tickets)."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Callable

from flask import Blueprint, current_app, jsonify, request

from ..bot import Overloaded, ticket_view
from ..inbound import Ignored, Start
from ..inbound.deliveries import Deliveries
from ..inbound.github import github_ticket
from ..inbound.jira import jira_ticket
from ..inbound.signatures import signed
from .api import TeamRefused, team_bot
from .inputs import InputError, cleaned, json_body

bp = Blueprint("hooks", __name__)
log = logging.getLogger(__name__)

# GitHub's issues and pull_request payloads carry the whole issue or pull request, repository and
# sender (10-30 KB), and an issue's or pull request's text alone may be 65,536 characters: the API's
# 64 KiB would refuse real deliveries. 1 MiB still bounds what one request makes the bot read.
MAX_HOOK_BYTES = 1024 * 1024
JIRA_TOLERANCE = timedelta(minutes=5)
_MAKING = threading.Lock()


@bp.before_request
def _room_for_payloads():
    request.max_content_length = MAX_HOOK_BYTES


@bp.post("/hooks/github")
@bp.post("/teams/<team>/hooks/github")
def github(team: str | None = None):
    secret = current_app.extensions["rcabot.settings"].github_secret
    refusal = _unverified("RCABOT_GITHUB_SECRET", secret, "X-Hub-Signature-256") or _no_team()
    if refusal:
        return refusal
    event = request.headers.get("X-GitHub-Event", "")
    try:
        payload = _payload()
    except InputError as exc:
        return _error(400, str(exc))
    if event == "ping":
        return jsonify(pong=True)
    return _handle("github", request.headers.get("X-GitHub-Delivery", ""),
                   lambda: github_ticket(event, payload, _bot().config))


@bp.post("/hooks/jira")
@bp.post("/teams/<team>/hooks/jira")
def jira(team: str | None = None):
    secret = current_app.extensions["rcabot.settings"].jira_secret
    refusal = _unverified("RCABOT_JIRA_SECRET", secret, "X-Hub-Signature") or _no_team()
    if refusal:
        return refusal
    try:
        payload = _payload()
        _fresh(payload)
    except InputError as exc:
        return _error(400, str(exc))
    return _handle("jira", request.headers.get("X-Atlassian-Webhook-Identifier", ""),
                   lambda: jira_ticket(payload, _bot().config))


def _bot():
    """The bot of the route's team (see _no_team)."""
    return team_bot((request.view_args or {}).get("team"))


def _no_team():
    """The refusal when the route names no team, or an unknown one; checked after the signature, so
    that only a signed delivery learns the team names."""
    try:
        _bot()
    except TeamRefused as refused:
        log.warning("%s refused: %s", request.path, refused)
        return refused.answer()
    return None


def _deliveries() -> Deliveries:
    """One per bot, made at its first hook (under a lock: requests run in threads), kept in its
    journal folder."""
    bot = _bot()
    with _MAKING:
        made = current_app.extensions.setdefault("rcabot.deliveries", {})  # by bot: each team's own
        if bot not in made:
            made[bot] = Deliveries(bot.journal.folder if bot.journal else None)
        return made[bot]


def _error(status: int, message: str):
    log.warning("%s refused (%d): %s", request.path, status, message)
    return jsonify(error=message), status


def _unverified(variable: str, secret: str, header: str):
    if not secret:
        return _error(503, f"{variable} is not set: {request.path} accepts no delivery until it holds "
                           f"the webhook's secret")
    if not signed(secret, request.get_data(), request.headers.get(header)):
        return _error(401, f"missing or wrong {header}: it must be sha256=<hex HMAC-SHA256 of the body> "
                           f"with the secret in {variable}")
    return None


def _payload():
    if request.mimetype == "application/x-www-form-urlencoded":
        raise InputError("send the webhook as JSON (in GitHub: Content type application/json)")
    return cleaned(json_body(request.get_data()))


def _fresh(payload) -> None:
    """Jira's `timestamp` (ms) within 5 minutes of now: an old signed delivery is not replayed."""
    stamp = payload.get("timestamp") if isinstance(payload, dict) else None
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)):
        raise InputError("timestamp (milliseconds since 1970, as Jira sends it) is missing")
    now_ms = int(_bot().clock().timestamp() * 1000)
    if abs(now_ms - stamp) > JIRA_TOLERANCE.total_seconds() * 1000:
        raise InputError(f"timestamp {stamp} is more than {JIRA_TOLERANCE.seconds // 60} minutes from now "
                         f"({now_ms}): a stale or replayed delivery, or a clock that is off")


def _handle(source: str, delivery_id: str, outcome: Callable[[], Start | Ignored]):
    key = f"{source}:{delivery_id[:200]}" if delivery_id else ""
    if key and not _deliveries().first(key, _bot().clock()):
        return _ignored(f"delivery {delivery_id[:200]!r} was received already")
    try:
        result = outcome()
    except InputError as exc:
        return _error(400, str(exc))
    if isinstance(result, Ignored):
        return _ignored(result.reason)
    try:
        ticket, created = _bot().start_ticket(result.ticket_id, result.title, result.url)
    except Overloaded as exc:
        if key:
            _deliveries().forget(key)  # the sender's retry of this delivery must get through
        return jsonify(error=str(exc)), 503, {"Retry-After": str(exc.retry_after)}
    log.info("%s: %s ticket %s", request.path, "started" if created else "already open:", result.ticket_id)
    return jsonify(ticket_view(ticket)), 202 if created else 200


def _ignored(reason: str):
    log.info("%s ignored: %s", request.path, reason)
    return jsonify(ignored=reason), 200
