"""The Flask app: a thin layer that turns requests into calls on the bot and answers JSON."""
from __future__ import annotations

import atexit
import logging
from typing import Any, Mapping

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from .. import bootstrap
from ..config import Settings
from .auth import HIDE_TOKENS

MAX_BODY_BYTES = 64 * 1024


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `test_config` may set WORKBOOK_DIR, API_TOKEN, BACKEND, START_SCHEDULER,
    JOBS / CLOCK (a test's recording scheduler and fake clock) and CHAT_TRANSPORT (a fake Google's
    httplib2 stand-in)."""
    test_config = dict(test_config or {})
    _logging()
    app = Flask(__name__)
    app.config.from_mapping(MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.json.sort_keys = False
    settings = _settings(test_config)
    extra = {k.lower(): test_config[k] for k in ("JOBS", "CLOCK", "CHAT_TRANSPORT") if k in test_config}
    bot = bootstrap.build(settings, **extra)
    app.extensions["rcabot"] = bot
    app.extensions["rcabot.verifier"] = bootstrap.verifier_for(settings)
    app.extensions["rcabot.settings"] = settings
    _register(app, settings)
    if test_config.get("START_SCHEDULER", "JOBS" not in test_config):
        bot.jobs.start()
        atexit.register(bot.close)
    return app


def _quiet_skips(record: logging.LogRecord) -> bool:
    """A kicked job that is already running is skipped by design (the running one does the work):
    no warning for that."""
    return "maximum number of running instances reached" not in record.getMessage()


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Every job run would be logged at INFO; the bot logs what matters itself.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").addFilter(_quiet_skips)
    # The calendar's address may carry the API token (?token=), and a token is never logged.
    logging.getLogger("werkzeug").addFilter(HIDE_TOKENS)


def _settings(test_config: Mapping[str, Any]) -> Settings:
    settings = Settings.from_env()
    overrides = {"backend": test_config.get("BACKEND"), "workbook_dir": test_config.get("WORKBOOK_DIR"),
                 "api_token": test_config.get("API_TOKEN")}
    return Settings(**{**settings.__dict__, **{k: v for k, v in overrides.items() if v is not None}})


def _register(app: Flask, settings: Settings) -> None:
    from . import api, calendar, chat_events, console, health

    app.register_blueprint(api.bp)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(chat_events.bp)
    app.register_blueprint(health.bp)
    if settings.local:
        app.register_blueprint(console.bp)
    app.register_error_handler(HTTPException, _json_error)


def _json_error(exc: HTTPException):
    messages = {413: f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB",
                404: "no such route", 405: "method not allowed on this route"}
    return jsonify(error=messages.get(exc.code, exc.description)), exc.code

