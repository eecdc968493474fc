import threading
from datetime import datetime, timedelta, timezone

import pytest

from rcabot.pacing import CHAT_SPACING, WINDOW, Pace, Paces

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


def test_a_spaced_pace_lets_one_call_through_in_any_second():
    pace = Pace(60, spacing=CHAT_SPACING)
    pace.record(T0)
    assert pace.delay(T0) == 1 and pace.delay(T0 + timedelta(milliseconds=999)) > 0
    assert pace.delay(T0 + CHAT_SPACING) == 0


def test_spaced_calls_still_go_at_the_minutes_full_pace():
    pace, now, sent = Pace(60, spacing=CHAT_SPACING), T0, []
    for _ in range(180):
        now += timedelta(seconds=pace.delay(now))
        pace.record(now)
        sent.append(now)
    assert min(b - a for a, b in zip(sent, sent[1:])) >= timedelta(seconds=1)
    assert sent[59] - sent[0] == timedelta(seconds=59) and sent[60] - sent[0] == timedelta(seconds=61)
    for i, start in enumerate(sent):
        assert len([t for t in sent[i:] if t < start + timedelta(minutes=1)]) <= 60


def test_room_counts_the_calls_the_window_still_takes():
    pace = Pace(3)
    assert pace.room(T0) == 3
    pace.record(T0, calls=2)
    assert pace.room(T0 + timedelta(seconds=1)) == 1
    assert pace.room(T0 + timedelta(seconds=61)) == 3


def test_take_counts_only_the_calls_that_fit():
    pace = Pace(2)
    assert pace.take(T0, 2) == 0
    assert pace.take(T0, 1) > 0
    assert pace.room(T0) == 0 and pace.take(T0 + WINDOW, 2) == 0


def test_paces_as_one_go_only_when_each_has_room():
    space, project = Pace(60, spacing=CHAT_SPACING), Pace(2)
    other_space = Paces(Pace(60, spacing=CHAT_SPACING), project)
    both = Paces(space, project)
    assert both.take(T0) == 0 and other_space.take(T0) == 0  # two spaces, one write each
    assert both.room(T0) == 0  # the project's two are spent
    assert both.take(T0 + timedelta(seconds=5)) == pytest.approx(56)  # the project's window, not the space's second
    assert space.room(T0) == 59  # a refused call is counted nowhere


def test_threads_sharing_one_pace_never_take_more_than_its_limit():
    pace, taken = Pace(60), []

    def flush_often():
        taken.extend(1 for _ in range(50) if pace.take(T0) == 0)

    threads = [threading.Thread(target=flush_often) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 60


def test_a_shared_pace_restored_from_each_team_s_journal_counts_each_call_once():
    shared, earlier = Pace(60), Pace(60)
    earlier.record(T0, 2)
    earlier.record(T0 + timedelta(seconds=1))
    saved_by_a, saved_by_b = earlier.sent(T0 + timedelta(seconds=1)), earlier.sent(T0 + timedelta(seconds=1))
    for saved in (saved_by_a, saved_by_b):
        shared.restore(saved, T0 + timedelta(seconds=2))
    assert shared.room(T0 + timedelta(seconds=2)) == 57


def test_a_space_and_project_pace_pair_saves_the_space_s_calls_and_restores_into_both():
    space, project = Pace(60), Pace(3000)
    both = Paces(space, project)
    both.take(T0)
    assert both.sent(T0) == [T0]
    again = Paces(Pace(60), Pace(3000))
    again.restore(both.sent(T0), T0 + timedelta(seconds=1))
    assert [pace.room(T0 + timedelta(seconds=1)) for pace in again.paces] == [59, 2999]
