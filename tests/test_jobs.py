"""The APScheduler adapter, on a real BackgroundScheduler started paused (so nothing runs)."""
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from rcabot.config import Config
from rcabot.jobs import SchedulerJobs


class Bot:
    config = Config()

    def __init__(self):
        self.degraded = {}

    def tick(self): ...
    def deliver(self): ...
    def flush(self): ...
    def reload(self): ...
    def digest(self): ...


@pytest.fixture
def jobs():
    scheduled = SchedulerJobs(BackgroundScheduler(timezone=timezone.utc))
    scheduled.bind(Bot())
    scheduled.scheduler.start(paused=True)
    yield scheduled
    scheduled.shutdown()


def test_the_recurring_jobs_have_explicit_ids_and_the_configured_intervals(jobs):
    found = {job.id: job.trigger.interval for job in jobs.scheduler.get_jobs()}
    assert found == {"deliver": timedelta(seconds=60), "flush": timedelta(seconds=10),
                     "reload": timedelta(seconds=300)}


def test_a_timer_is_a_one_off_job_that_runs_tick_and_setting_it_again_moves_it(jobs):
    at = datetime(2026, 11, 23, 7, 5, tzinfo=timezone.utc)
    jobs.set_timer("ping-timeout:RCA-1", at)
    jobs.set_timer("ping-timeout:RCA-1", at + timedelta(minutes=1))
    timers = [j for j in jobs.scheduler.get_jobs() if j.id.startswith("ping-timeout")]
    assert len(timers) == 1 and timers[0].trigger.run_date == at + timedelta(minutes=1)
    assert timers[0].func.__name__ == "tick"


def test_cancelling_a_timer_that_already_ran_is_harmless(jobs):
    jobs.set_timer("dnd-expiry:users/1", datetime(2026, 11, 23, 8, tzinfo=timezone.utc))
    jobs.cancel_timer("dnd-expiry:users/1")
    jobs.cancel_timer("dnd-expiry:users/1")
    assert jobs.scheduler.get_job("dnd-expiry:users/1") is None


def test_a_reloaded_configuration_changes_the_intervals(jobs):
    jobs.configure(Config(flush_seconds=3, reload_seconds=60))
    assert jobs.scheduler.get_job("flush").trigger.interval == timedelta(seconds=3)
    assert jobs.scheduler.get_job("reload").trigger.interval == timedelta(seconds=60)


def test_a_timer_that_fires_late_still_runs(jobs):
    jobs.set_timer("ping-timeout:RCA-1", datetime(2026, 11, 23, 7, 5, tzinfo=timezone.utc))
    assert jobs.scheduler.get_job("ping-timeout:RCA-1").misfire_grace_time is None


def test_a_digest_time_schedules_a_daily_digest_in_the_configured_zone_and_removing_it_stops_it(jobs):
    from zoneinfo import ZoneInfo

    from rcabot.config import parse_configuration

    berlin = parse_configuration([["Parameter", "Value"], ["DigestTime", "09:30"],
                                  ["TimeZone", "Europe/Berlin"]]).value
    jobs.configure(berlin)
    [digest] = [j for j in jobs.scheduler.get_jobs() if j.id == "digest"]
    first = digest.trigger.get_next_fire_time(None, datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc))
    assert first.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:%M") == "2026-11-23 09:30"
    jobs.configure(Config())
    assert not [j for j in jobs.scheduler.get_jobs() if j.id == "digest"]


class FailingFlush(Bot):
    def __init__(self):
        super().__init__()
        self.fail = True

    def flush(self):
        if self.fail:
            raise UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed")


def test_a_job_that_keeps_failing_shows_as_degraded_with_its_error_until_it_works_again():
    bot = FailingFlush()
    scheduled = SchedulerJobs(BackgroundScheduler(timezone=timezone.utc))
    scheduled.bind(bot)
    flush = scheduled.scheduler.get_job("flush").func
    flush()
    assert "UnicodeEncodeError" in bot.degraded["flush job"]
    bot.fail = False
    flush()
    assert "flush job" not in bot.degraded
