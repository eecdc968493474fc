"""The APScheduler jobs. Each is thin: it calls one method of the bot.

- `ping-timeout:<ticket>`, `dnd-expiry:<manager>`, `shift-boundary`: one-off timers set by the
  cycle; each runs `tick`, which times out lapsed pings and wakes waiting tickets.
- `digest`: daily at DigestTime in the configured time zone, when one is set.
- `reload` (every TimeForManagerDataReload) and `flush` (every TimeForDataFlush, and at once when
  NumberOfItemsInBatch Tracker rows wait), `deliver` (at once when something is queued for Chat,
  and every minute as a safety net).
One BackgroundScheduler per process, started by the composition root, never at import. With many
teams (rcabot.teams) the teams' bots share it, each job id prefixed by its team (`a:flush`).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from .config import Config

if TYPE_CHECKING:
    from .bot import RcaBot

log = logging.getLogger(__name__)
SAFETY_NET_SECONDS = 60


def watched(bot: "RcaBot", job: str) -> Callable[[], None]:
    """The bot's `job`, with a failure it did not expect shown in /healthz (degraded, with the
    error) until the job next succeeds, instead of only in a log nobody reads."""
    method = getattr(bot, job)

    def run() -> None:
        try:
            method()
        except Exception as exc:
            log.exception("the %s job failed", job)
            bot.degraded[f"{job} job"] = f"failed: {type(exc).__name__}: {exc}"
        else:
            bot.degraded.pop(f"{job} job", None)
    run.__name__ = job  # APScheduler names the job after it in its logs
    return run


class SchedulerJobs:
    def __init__(self, scheduler: BackgroundScheduler | None = None, prefix: str = ""):
        """`prefix` begins every job id of this bot's (a team's name and `:`, when bots share `scheduler`)."""
        self.scheduler = scheduler or BackgroundScheduler(timezone=timezone.utc)
        self.prefix = prefix
        self.bot: RcaBot | None = None
        self._intervals: dict[str, int] = {}
        self._digest: tuple | None = None  # (DigestTime, zone) the digest job runs at

    def bind(self, bot: "RcaBot") -> None:
        self.bot = bot
        # Several instances may queue up; the bot's own locks run them one at a time, and none is skipped.
        for job, seconds in (("deliver", SAFETY_NET_SECONDS), ("flush", bot.config.flush_seconds),
                             ("reload", bot.config.reload_seconds)):
            self.scheduler.add_job(watched(bot, job), "interval", seconds=seconds, id=self.prefix + job,
                                   replace_existing=True, max_instances=3, coalesce=True)
            self._intervals[job] = seconds

    def start(self) -> None:
        if not self.scheduler.running:  # another team's bot may have started the shared one
            self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def set_timer(self, key: str, at: datetime) -> None:
        self.scheduler.add_job(watched(self.bot, "tick"), "date", run_date=at, id=self.prefix + key,
                               replace_existing=True,
                               misfire_grace_time=None, coalesce=True)

    def cancel_timer(self, key: str) -> None:
        try:
            self.scheduler.remove_job(self.prefix + key)
        except JobLookupError:
            pass  # it already ran

    def kick(self, job: str) -> None:
        self.retry_later(job, 0)

    def retry_later(self, job: str, seconds: float) -> None:
        when = datetime.now(timezone.utc) + timedelta(seconds=seconds)
        try:
            self.scheduler.modify_job(self.prefix + job, next_run_time=when)
        except JobLookupError:
            log.warning("job %s is not scheduled; nothing to run", job)

    def configure(self, config: Config) -> None:
        """Follow the intervals of a reloaded Configuration, and its DigestTime."""
        for job, seconds in (("flush", config.flush_seconds), ("reload", config.reload_seconds)):
            if job in self._intervals and self._intervals[job] != seconds:
                self.scheduler.reschedule_job(self.prefix + job, trigger="interval", seconds=seconds)
                self._intervals[job] = seconds
        digest = (config.digest_time, str(config.schedule.zone)) if config.digest_time else None
        if self.bot is None or digest == self._digest:
            return
        self._digest = digest
        if digest is None:
            self.cancel_timer("digest")
        else:
            self.scheduler.add_job(watched(self.bot, "digest"), "cron", hour=config.digest_time.hour,
                                   minute=config.digest_time.minute, timezone=config.schedule.zone,
                                   id=self.prefix + "digest",
                                   replace_existing=True, misfire_grace_time=3600, coalesce=True)
