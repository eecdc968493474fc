"""The Tracker's last month in memory: the numbers `stats`, the digest and load balancing use."""
from datetime import datetime, timedelta, timezone

from rcabot.history import Event, History
from rcabot.state_tabs import event_from_row
from rcabot.model import Track

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def day_of_two_tickets() -> History:
    return History([
        Event(at(0), "RCA-1", Track.PINGED, "users/1", "Ada"),
        Event(at(2), "RCA-1", Track.DECLINED, "users/1", "Ada"),
        Event(at(2), "RCA-1", Track.PINGED, "users/2", "Bea"),
        Event(at(6), "RCA-1", Track.ACCEPTED, "users/2", "Bea"),
        Event(at(10), "RCA-2", Track.PINGED, "users/1", "Ada"),
        Event(at(15), "RCA-2", Track.TIMED_OUT, "users/1", "Ada"),
        Event(at(15), "RCA-2", Track.PINGED, "users/2", "Bea"),
        Event(at(17), "RCA-2", Track.ACCEPTED, "users/2", "Bea"),
        Event(at(90), "RCA-1", Track.COMPLETED, "users/2", "Bea"),
    ])


def test_stats_count_each_managers_answers_and_the_median_time_to_accept():
    stats = day_of_two_tickets().stats(since=T0)
    ada, bea = stats["users/1"], stats["users/2"]
    assert (ada.pinged, ada.accepted, ada.declined, ada.timed_out) == (2, 0, 1, 1)
    assert (bea.pinged, bea.accepted, bea.completed) == (2, 2, 1)
    assert bea.median_seconds_to_accept == 180  # 4 and 2 minutes
    assert ada.median_seconds_to_accept is None


def test_only_events_since_the_given_moment_count():
    history = day_of_two_tickets()
    assert history.stats(since=at(10))["users/1"].pinged == 1
    assert history.accepted_counts(since=at(10)) == {"users/2": 1}


def test_events_older_than_a_month_are_let_go():
    history = day_of_two_tickets()
    history.add(Event(T0 + timedelta(days=40), "RCA-3", Track.PINGED, "users/3", "Cal"))
    assert len(history) == 1


def test_tracker_rows_that_cannot_be_read_are_skipped():
    assert event_from_row(["2026-11-23T07:00:00Z", "RCA-1", "Ada", "Accepted", "users/1", ""]) == \
        Event(T0, "RCA-1", Track.ACCEPTED, "users/1", "Ada")
    assert event_from_row(["yesterday", "RCA-1", "Ada", "Accepted", "users/1"]) is None
    assert event_from_row(["2026-11-23T07:00:00Z", "RCA-1", "Ada", "Reviewed by hand"]) is None
    assert event_from_row([]) is None
