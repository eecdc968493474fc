"""The composition root: the only place that knows which adapters go together."""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Callable

from .bot import RcaBot, utcnow
from .chat.local import LocalSpace
from .config import Settings
from .jobs import SchedulerJobs
from .workbook.local import LocalWorkbook

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent.parent / "config" / "workbook"


def build_local(settings: Settings, jobs=None, clock: Callable[[], datetime] = utcnow) -> RcaBot:
    """A bot on a CSV folder (created from the templates if missing) and the console's space."""
    workbook = LocalWorkbook.from_templates(settings.workbook_dir, TEMPLATES)
    holder: dict[str, RcaBot] = {}
    space = LocalSpace(clock, names=lambda uid: holder["bot"].manager_name(uid) if holder else uid,
                       store=Path(settings.workbook_dir).resolve().parent / "local-space.json")
    jobs = jobs or SchedulerJobs()
    bot = RcaBot(workbook, space, jobs, clock)
    holder["bot"] = bot
    if isinstance(jobs, SchedulerJobs) or hasattr(jobs, "bind"):
        jobs.bind(bot)
    bot.boot()
    return bot


def build(settings: Settings, jobs=None, clock: Callable[[], datetime] = utcnow) -> RcaBot:
    if settings.local:
        return build_local(settings, jobs, clock)
    raise SystemExit(f"RCABOT_BACKEND={settings.backend!r} is not supported yet; use 'local'")
