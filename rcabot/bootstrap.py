"""The composition root: the only place that knows which adapters go together."""
from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .bot import RcaBot, utcnow
from .config import Settings
from .journal import Journal, JournalBusy, JournalMismatch
from .pacing import CHAT_PROJECT_WRITES_PER_MINUTE, SHEETS_WRITES_PER_MINUTE, Pace, Paces
from .workbook import WorkbookError

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent.parent / "config" / "workbook"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
CHAT_SCOPE = "https://www.googleapis.com/auth/chat.bot"
STARTUP_WAIT_CAP = 60  # seconds between start-up tries while the spreadsheet is unreachable


def pause(seconds: float) -> None:
    """The wait between start-up tries (the tests' fake Google replaces it)."""
    time.sleep(seconds)


class StartupError(SystemExit):
    """The bot cannot start as configured; the message says what to set."""

    def __init__(self, problems: list[str]):
        super().__init__("RCA Bot cannot start: " + "; ".join(problems))
        self.problems = problems


def build(settings: Settings, jobs=None, clock: Callable[[], datetime] = utcnow, chat_transport=None,
          targets=()) -> RcaBot:
    """The bot, booted. `chat_transport` replaces the httplib2.Http the Chat client sends through
    (the tests' fake Google); `targets` are outgoing receivers besides the WebhookURL ones (the
    Jira / GitHub write-back; `bot.outgoing.add_target` adds one later); the rest comes from `settings`."""
    problems = settings.problems()
    if problems:
        raise StartupError(problems)
    return _build_one(settings, jobs, clock, chat_transport, targets)


def build_teams(settings: Settings, jobs=None, clock: Callable[[], datetime] = utcnow, chat_transport=None):
    """One bot per team of the Teams file (RCABOT_TEAMS_FILE), as `rcabot.teams.Teams`. Each has its
    own workbook, state, journal (`<journal folder>/<team>`; in local mode by default the team's
    workbook folder's `.journal/`, its own already) and Chat pace (one per space); they share one
    scheduler (job ids prefixed by the team) and one Sheets pace: Google counts Sheets writes per
    project and user, not per spreadsheet; and Chat's cap for the project (3,000 message writes a
    minute, every space's together). `jobs`: a test's recording jobs, by team name."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    from .jobs import SchedulerJobs
    from .teams import Teams, read_teams

    problems = settings.problems()
    if problems:
        raise StartupError(problems)
    teams = read_teams(settings.teams_file, settings.local)
    threads = ThreadPoolExecutor(10 + 2 * len(teams))  # a team's flush or reload may wait on Google
    scheduler = BackgroundScheduler(timezone=timezone.utc, executors={"default": threads})
    sheets_pace = Pace(SHEETS_WRITES_PER_MINUTE)
    chat_project_pace = Pace(CHAT_PROJECT_WRITES_PER_MINUTE)
    bots: dict[str, RcaBot] = {}
    try:
        for team in teams:
            team_jobs = jobs[team.name] if jobs is not None else SchedulerJobs(scheduler, prefix=f"{team.name}:")
            try:
                bots[team.name] = _build_one(team_settings(settings, team), team_jobs, clock, chat_transport, (),
                                             space=team.space, sheets_pace=sheets_pace,
                                             chat_project_pace=chat_project_pace)
            except OSError as exc:  # its workbook or journal folder cannot be made or written
                raise StartupError([f"RCABOT_TEAMS_FILE, row {team.row} (team {team.name}): {exc}"]) from None
    except BaseException:
        for bot in bots.values():  # their journals' locks: a test, or a caller, may build again
            bot.close()
        raise
    return Teams(bots, teams)


def team_settings(settings: Settings, team) -> Settings:
    """The deployment's settings, for one team's workbook and journal."""
    if settings.journal_dir or not settings.local:
        journal = os.path.join(settings.journal_dir or "var/journal", team.name)
    else:
        journal = ""  # .journal/ inside the team's own workbook folder
    if settings.local:
        return dataclasses.replace(settings, workbook_dir=team.workbook, journal_dir=journal)
    return dataclasses.replace(settings, spreadsheet_id=team.workbook, journal_dir=journal)


def _build_one(settings: Settings, jobs, clock, chat_transport, targets, space: str = "",
               sheets_pace: Pace | None = None, chat_project_pace: Pace | None = None) -> RcaBot:
    """`space`: the Chat space a team's bot posts in when its Configuration names none (with a
    Teams file); `sheets_pace`, `chat_project_pace`: the Sheets write pace and the Chat project's
    cap the teams' bots share (each keeps its own space's pace besides)."""
    try:
        # The local default, .journal/ inside the workbook folder, is bound by where it is: it
        # records the id but takes a new one (a lost .workbook-id must not lock the bot out).
        journal = Journal(settings.journal_folder, workbook=workbook_identity(settings),
                          adopt=settings.local and not settings.journal_dir)
    except (JournalBusy, JournalMismatch) as refused:
        raise StartupError([str(refused)]) from None
    if settings.local:
        bot = _local_bot(settings, jobs, clock, journal, space)
    else:
        bot = _google_bot(settings, jobs, clock, chat_transport, journal, space)
    if sheets_pace is not None:
        bot.sheets_pace = sheets_pace
    if chat_project_pace is not None:
        bot.chat_pace = Paces(bot.chat_pace, chat_project_pace)
    for target in targets:
        bot.outgoing.add_target(target)
    if hasattr(bot.jobs, "bind"):
        bot.jobs.bind(bot)
    _boot(bot)
    if not settings.local and not (bot.config.space_id or space):
        raise StartupError(["the Configuration tab has no SpaceId (the Chat space to post in, spaces/...)"])
    return bot


def _boot(bot: RcaBot) -> None:
    """Boot, trying again while the spreadsheet is throttling or failing (a Google outage at
    start-up is waited out, not a crash); anything else (no access, no such spreadsheet) stops
    the start with what to fix."""
    wait = 2
    while True:
        try:
            bot.boot()
            return
        except WorkbookError as exc:
            if not exc.transient:
                raise StartupError([str(exc)]) from None
            log.error("start-up: %s; trying again in %d s (the journal keeps every answered event)", exc, wait)
            pause(wait)
            wait = min(wait * 2, STARTUP_WAIT_CAP)


def workbook_identity(settings: Settings) -> str:
    """What the journal is bound to: the spreadsheet's id, or a local workbook folder's own id (kept
    in the folder, so that it moves with it). "" for the local default, `.journal/` inside the
    workbook folder."""
    if not settings.local:
        return f"spreadsheet {settings.spreadsheet_id}"
    marker = Path(settings.workbook_dir) / ".workbook-id"
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(uuid.uuid4().hex + "\n", encoding="utf-8")
    return f"local workbook {marker.read_text(encoding='utf-8', errors='replace').strip()}"


def workbook_for(settings: Settings):
    """The workbook alone (for `python -m rcabot init-sheet`)."""
    if settings.local:
        from .workbook.local import LocalWorkbook
        return LocalWorkbook.from_templates(settings.workbook_dir, TEMPLATES)
    from .workbook.google import GoogleWorkbook
    return GoogleWorkbook(settings.spreadsheet_id, _credentials(settings, SHEETS_SCOPE),
                          endpoint=settings.sheets_endpoint or None, timeout=settings.google_timeout)


def verifier_for(settings: Settings):
    """Google mode verifies every Chat request; local mode has nobody to verify (it listens on 127.0.0.1)."""
    if settings.local:
        return None
    from .chat.verify import CHAT_CERTS_URL, GOOGLE_CERTS_URL, ChatVerifier

    urls = {}
    if settings.certs_endpoint:  # a private endpoint, or the end-to-end test's fake Google
        base = settings.certs_endpoint.rstrip("/")
        urls = {"chat_certs_url": CHAT_CERTS_URL.replace("https://www.googleapis.com", base),
                "oauth2_certs_url": GOOGLE_CERTS_URL.replace("https://www.googleapis.com", base)}
    return ChatVerifier(settings.chat_audience, addon_service_account=settings.chat_addon_account, **urls)


def _local_bot(settings: Settings, jobs, clock, journal, space: str = "") -> RcaBot:
    from .chat.local import LOCAL_SPACE, LocalSpace
    from .jobs import SchedulerJobs

    holder: list[RcaBot] = []
    name = space or LOCAL_SPACE
    chat = LocalSpace(clock, names=lambda uid: holder[0].manager_name(uid) if holder else uid,
                      store=Path(settings.workbook_dir) / ".local-space.json", space=name)
    bot = RcaBot(workbook_for(settings), chat, jobs or SchedulerJobs(), clock, default_space=name, journal=journal,
                 webhook_secret=settings.webhook_secret, writeback=_writeback(settings))
    holder.append(bot)
    return bot


def _google_bot(settings: Settings, jobs, clock, chat_transport, journal, space: str = "") -> RcaBot:
    from .chat.cards import Buttons
    from .chat.google import GoogleChat
    from .jobs import SchedulerJobs

    chat = GoogleChat(_credentials(settings, CHAT_SCOPE), endpoint=settings.chat_endpoint or None,
                      timeout=settings.google_timeout, transport=chat_transport,
                      buttons=Buttons(settings.addon_url))
    return RcaBot(workbook_for(settings), chat, jobs or SchedulerJobs(), clock, default_space=space, journal=journal,
                  webhook_secret=settings.webhook_secret, writeback=_writeback(settings),
                  out_of_office=_calendars(settings))


def _calendars(settings: Settings):
    """The managers' Calendars, read as each of them (domain-wide delegation) when the Configuration
    says CalendarOutOfOffice = yes; built up front, it costs nothing until then."""
    from .availability.calendar_ooo import CALENDAR_SCOPE, CalendarOutOfOffice

    return CalendarOutOfOffice(_credentials(settings, CALENDAR_SCOPE), timeout=settings.google_timeout)


def _writeback(settings: Settings):
    """The Configuration turns write-back on; the environment's credentials make its targets."""
    from .outgoing.writeback import writeback_targets

    return lambda config: writeback_targets(settings, config)


def _credentials(settings: Settings, scope: str):
    """The service account's credentials; a key that cannot be used stops the start with a line that
    names its variable (never the key: it is a secret, and a traceback would print it to the log)."""
    from google.auth.exceptions import GoogleAuthError
    from google.oauth2 import service_account

    accounts = service_account.Credentials
    try:
        if settings.service_account_json:
            return accounts.from_service_account_info(_key(settings.service_account_json), scopes=[scope])
        return accounts.from_service_account_file(settings.credentials_file, scopes=[scope])
    except (ValueError, GoogleAuthError, OSError) as exc:
        variable = "RCABOT_SERVICE_ACCOUNT_JSON" if settings.service_account_json else \
            f"GOOGLE_APPLICATION_CREDENTIALS ({settings.credentials_file})"
        raise StartupError([f"{variable} {_unusable(exc)}"]) from None


def _unusable(exc: Exception) -> str:
    """Why a key was refused, from google-auth's message only where it names fields, not values."""
    if isinstance(exc, OSError):
        return f"cannot be read ({exc.strerror})"
    if isinstance(exc, json.JSONDecodeError):
        return "is not JSON; use the JSON key file the Cloud console gives"
    _, found, missing = str(exc).partition("missing fields ")
    if found:
        return f"is not a service account key: it lacks {missing.rstrip('.')}"
    return "is not a usable service account key: its private_key cannot be read; create a new JSON key"


def _key(text: str) -> dict:
    """The key as JSON, or as base64 of the JSON (easier to paste into a host's settings)."""
    text = text.strip()
    try:
        key = json.loads(text if text.startswith("{") else base64.b64decode(text))
    except ValueError:  # binascii.Error, UnicodeDecodeError and JSONDecodeError alike
        key = None
    if not isinstance(key, dict):
        raise StartupError(["RCABOT_SERVICE_ACCOUNT_JSON is neither a service account key's JSON nor base64 "
                            "of it"])
    return key
