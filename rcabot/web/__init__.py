"""The Flask app: a thin layer that turns requests into calls on the bot and answers JSON."""
from __future__ import annotations

import atexit
import json
import logging
import os
import re
from datetime import datetime, timezone
from typing import Any, Mapping

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import bootstrap
from ..config import Settings
from .auth import HIDE_TOKENS, LocalChatToken, host_refusal

MAX_BODY_BYTES = 64 * 1024


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `test_config` may set WORKBOOK_DIR, API_TOKEN, ALLOWED_HOSTS, BACKEND,
    GITHUB_SECRET, JIRA_SECRET, TEAMS_FILE,
    START_SCHEDULER, JOBS / CLOCK (a test's recording scheduler and fake clock; with a Teams file,
    JOBS maps each team to its own) and CHAT_TRANSPORT (a fake Google's httplib2 stand-in).

    With a Teams file there is a bot per team (`extensions["rcabot.teams"]`, rcabot.teams.Teams);
    `extensions["rcabot"]` is the first team's, which the routes that are not per team use."""
    test_config = dict(test_config or {})
    _logging()
    app = Flask(__name__)
    app.config.from_mapping(MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.json.sort_keys = False
    settings = _settings(test_config)
    extra = {k.lower(): test_config[k] for k in ("JOBS", "CLOCK", "CHAT_TRANSPORT") if k in test_config}
    teams = bootstrap.build_teams(settings, **extra) if settings.teams_file else None
    bot = teams.first if teams else bootstrap.build(settings, **extra)
    app.extensions["rcabot"] = bot
    app.extensions["rcabot.teams"] = teams
    app.extensions["rcabot.verifier"] = _chat_verifier(settings)
    app.extensions["rcabot.settings"] = settings
    _register(app, settings)
    if test_config.get("START_SCHEDULER", "JOBS" not in test_config):
        for each in teams.bots.values() if teams else [bot]:
            each.jobs.start()
            each.outgoing.start()
        atexit.register(teams.close if teams else bot.close)
    return app


def _quiet_skips(record: logging.LogRecord) -> bool:
    """A kicked job that is already running is skipped by design (the running one does the work):
    no warning for that."""
    return "maximum number of running instances reached" not in record.getMessage()


class QuietPolling(logging.Filter):
    """Drops the request lines of the console's polls that succeeded: one a second would bury a
    configuration error in the terminal. Their failures, and every other request, are still logged."""

    # werkzeug's line: '127.0.0.1 - - [date] "GET /console/messages HTTP/1.1" 200 -' (the request
    # part may be wrapped in colour codes).
    _POLL = re.compile(r'GET (?:/teams/[^/ ]+)?/console/(?:messages|managers|status)(?:\?\S*)? '
                       r'HTTP/[\d.]+\S*" (?:2\d\d|304) ')

    def filter(self, record: logging.LogRecord) -> bool:
        return not self._POLL.search(record.getMessage())


QUIET_POLLING = QuietPolling()


class JsonLines(logging.Formatter):
    """One JSON object a line (RCABOT_LOG_FORMAT=json), for log collectors that index fields: a
    multi-line traceback stays inside its record instead of becoming lines of its own."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _logging() -> None:
    wanted = os.environ.get("RCABOT_LOG_FORMAT", "").strip().lower()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if wanted == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler])  # a no-op where logging is set up already
    if wanted not in ("", "json", "text"):
        logging.getLogger(__name__).warning("RCABOT_LOG_FORMAT is %r; use json, or text (the default)", wanted)
    # Every job run would be logged at INFO; the bot logs what matters itself.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").addFilter(_quiet_skips)
    # The calendar's address may carry the API token (?token=), and a token is never logged.
    logging.getLogger("werkzeug").addFilter(HIDE_TOKENS)
    logging.getLogger("werkzeug").addFilter(QUIET_POLLING)


def _settings(test_config: Mapping[str, Any]) -> Settings:
    settings = Settings.from_env()
    overrides = {"backend": test_config.get("BACKEND"), "workbook_dir": test_config.get("WORKBOOK_DIR"),
                 "api_token": test_config.get("API_TOKEN"), "allowed_hosts": test_config.get("ALLOWED_HOSTS"),
                 "github_secret": test_config.get("GITHUB_SECRET"), "jira_secret": test_config.get("JIRA_SECRET"),
                 "teams_file": test_config.get("TEAMS_FILE")}
    return Settings(**{**settings.__dict__, **{k: v for k, v in overrides.items() if v is not None}})


def _chat_verifier(settings: Settings):
    """Google mode checks Google's signed token; local mode checks the API token when one is set."""
    if not settings.local:
        return bootstrap.verifier_for(settings)
    return LocalChatToken(settings.api_token) if settings.api_token else None


def _register(app: Flask, settings: Settings) -> None:
    from . import api, calendar, chat_events, console, health, hooks, metrics

    app.register_blueprint(api.bp)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(chat_events.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    if settings.local:
        app.register_blueprint(console.bp)
        app.before_request(_known_host)
    else:
        app.add_url_rule("/", "about", health.about)
    app.register_error_handler(HTTPException, _json_error)


def _known_host():
    """Local mode answers only requests addressed to this machine (or a host named in the settings)."""
    refusal = host_refusal(request.host, current_app.extensions["rcabot.settings"].allowed_hosts)
    if refusal:
        return jsonify(error=refusal), 403
    return None


def _json_error(exc: HTTPException):
    limit = request.max_content_length or MAX_BODY_BYTES  # /hooks/* allow more (web/hooks.py)
    messages = {413: f"the request body is larger than {limit // 1024} KiB",
                404: "no such route", 405: "method not allowed on this route"}
    return jsonify(error=messages.get(exc.code, exc.description)), exc.code

