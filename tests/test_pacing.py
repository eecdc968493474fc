from datetime import datetime, timedelta, timezone

from rcabot.pacing import Pace

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)


def test_calls_go_at_once_until_the_window_is_full():
    pace = Pace(3)
    for second in range(3):
        assert pace.delay(T0 + timedelta(seconds=second)) == 0
        pace.record(T0 + timedelta(seconds=second))
    assert pace.delay(T0 + timedelta(seconds=10)) == 51  # until the first call leaves the window (61 s)


def test_a_call_that_left_the_window_frees_its_place():
    pace = Pace(2)
    pace.record(T0)
    pace.record(T0 + timedelta(seconds=30))
    assert pace.delay(T0 + timedelta(seconds=61)) == 0
    assert pace.delay(T0 + timedelta(seconds=61), calls=2) == 30


def test_no_minute_ever_holds_more_calls_than_the_limit_when_every_call_waits_its_turn():
    pace, now, sent = Pace(60), T0, []
    for _ in range(500):
        now += timedelta(seconds=pace.delay(now))
        pace.record(now)
        sent.append(now)
    for i, start in enumerate(sent):
        in_window = [t for t in sent[i:] if t < start + timedelta(minutes=1)]
        assert len(in_window) <= 60


def test_the_window_is_a_second_longer_than_a_minute_for_calls_slow_to_arrive():
    pace = Pace(1)
    pace.record(T0)  # sent at T0, it may reach Google a moment later
    assert pace.delay(T0 + timedelta(seconds=60)) == 1
