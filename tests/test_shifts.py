from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from rcabot.shifts import ShiftError, ShiftSchedule, parse_days, parse_start

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


FOUR = ShiftSchedule((time(0), time(6), time(12), time(18)), BERLIN)


@pytest.mark.parametrize("text, expected", [
    ("06:00", time(6)), ("6:30", time(6, 30)), ("6", time(6)), ("18", time(18)), ("23:59", time(23, 59)),
    (" 07:15 ", time(7, 15)), ("08:00:00", time(8)),
])
def test_shift_start_times_can_be_written_as_hh_mm_or_an_hour(text, expected):
    assert parse_start(text) == expected


@pytest.mark.parametrize("text", ["", "noon", "24:00", "7:60", "7.5", "-1", "12:3"])
def test_a_start_time_that_is_not_a_time_of_day_is_refused_with_its_value_named(text):
    with pytest.raises(ShiftError, match="is not a time"):
        parse_start(text)


def test_two_shifts_starting_at_the_same_time_are_refused():
    with pytest.raises(ShiftError, match="same time"):
        ShiftSchedule((time(6), time(6)), BERLIN)


@pytest.mark.parametrize("local, shift", [
    ((2026, 11, 23, 0, 0), 1), ((2026, 11, 23, 5, 59), 1), ((2026, 11, 23, 6, 0), 2),
    ((2026, 11, 23, 17, 59), 3), ((2026, 11, 23, 18, 0), 4), ((2026, 11, 23, 23, 59), 4),
])
def test_the_current_shift_follows_local_wall_clock_time(local, shift):
    assert FOUR.current_shift(berlin(*local)) == shift


def test_the_last_shift_wraps_over_midnight_until_the_first_starts():
    night = ShiftSchedule((time(22), time(6), time(14)), BERLIN)  # shift 1 starts late in the day
    assert night.current_shift(berlin(2026, 11, 23, 23, 0)) == 1
    assert night.current_shift(berlin(2026, 11, 24, 3, 0)) == 1
    assert night.current_shift(berlin(2026, 11, 24, 7, 0)) == 2
    assert night.next_start(berlin(2026, 11, 23, 23, 0)) == berlin(2026, 11, 24, 6, 0)


def test_any_number_of_shifts_works_including_one():
    one = ShiftSchedule((time(9),), BERLIN)
    assert one.current_shift(berlin(2026, 11, 23, 3, 0)) == 1
    assert one.next_start(berlin(2026, 11, 23, 3, 0)) == berlin(2026, 11, 23, 9, 0)
    seven = ShiftSchedule(tuple(time(h) for h in (0, 3, 7, 10, 14, 17, 21)), BERLIN)
    assert seven.current_shift(berlin(2026, 11, 23, 15, 0)) == 5


def test_the_next_shift_start_is_the_next_boundary_in_utc():
    assert FOUR.next_start(berlin(2026, 11, 23, 7, 0)) == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert FOUR.next_start(berlin(2026, 11, 23, 18, 0)) == berlin(2026, 11, 24, 0, 0)


def test_a_spring_forward_day_keeps_every_shift_and_has_23_hours():
    # 2026-03-29 in Berlin: clocks jump from 02:00 to 03:00.
    at_two = ShiftSchedule((time(2), time(12)), BERLIN)
    start = at_two.next_start(berlin(2026, 3, 29, 0, 30))
    assert start == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST, just after the jump
    assert at_two.current_shift(berlin(2026, 3, 29, 3, 30)) == 1
    assert FOUR.next_start(berlin(2026, 3, 29, 0, 30)) - berlin(2026, 3, 29, 0, 0) == timedelta(hours=5)


def test_a_fall_back_day_starts_a_shift_in_the_repeated_hour_once():
    # 2026-10-25 in Berlin: 02:00-03:00 happens twice.
    at_half_two = ShiftSchedule((time(2, 30), time(12)), BERLIN)
    first = at_half_two.next_start(datetime(2026, 10, 24, 23, 0, tzinfo=UTC))
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30, CEST
    assert at_half_two.next_start(first) == datetime(2026, 10, 25, 11, 0, tzinfo=UTC)  # 12:00 CET


def test_walking_a_day_minute_by_minute_sees_each_shift_once_in_order():
    seen = []
    moment = berlin(2026, 3, 29, 0, 0)  # a daylight-saving day
    while moment < berlin(2026, 3, 30, 0, 0):
        shift = FOUR.current_shift(moment)
        if not seen or seen[-1] != shift:
            seen.append(shift)
        moment += timedelta(minutes=1)
    assert seen == [1, 2, 3, 4]


def test_next_shift_start_is_always_after_now_and_starts_the_next_shift():
    moment = datetime(2026, 10, 24, 0, 0, tzinfo=UTC)
    while moment < datetime(2026, 10, 27, tzinfo=UTC):
        boundary = FOUR.next_start(moment)
        assert boundary > moment
        assert FOUR.current_shift(boundary) == FOUR.current_shift(moment) % 4 + 1
        assert FOUR.current_shift(boundary - timedelta(seconds=1)) == FOUR.current_shift(moment)
        moment += timedelta(minutes=17)


def test_the_slots_of_a_range_of_days_are_every_start_in_time_order():
    slots = FOUR.slots(berlin(2026, 3, 28).date(), berlin(2026, 3, 29).date())
    assert all(a.end == b.start for a, b in zip(slots, slots[1:]))  # no gap and no overlap by default
    starts = [(s.start, s.shift) for s in slots]
    assert [number for _, number in starts] == [1, 2, 3, 4] * 2
    assert starts[4] == (berlin(2026, 3, 29, 0, 0), 1)
    assert starts[5] == (datetime(2026, 3, 29, 4, 0, tzinfo=UTC), 2)  # 06:00 CEST, after the jump
    assert all(FOUR.current_shift(at) == number for at, number in starts)


def test_a_weekend_shift_does_not_cut_the_weekday_shifts_and_their_end_times_are_checked_per_day():
    weekdays, weekend = parse_days("Mon-Fri"), parse_days("Sat-Sun")
    team = ShiftSchedule((time(7), time(15), time(9)), BERLIN, days=(weekdays, weekdays, weekend),
                         ends=(time(15), time(23), time(17)))  # 07-15 and 15-23 on weekdays, 09-17 at weekends
    slots = team.slots(date(2026, 12, 4), date(2026, 12, 7))  # Friday to Monday
    assert [(s.shift, s.start.astimezone(BERLIN).strftime("%a %H:%M"), s.end.astimezone(BERLIN).strftime("%a %H:%M"))
            for s in slots] == [(1, "Fri 07:00", "Fri 15:00"), (2, "Fri 15:00", "Fri 23:00"),
                                (3, "Sat 09:00", "Sat 17:00"), (3, "Sun 09:00", "Sun 17:00"),
                                (1, "Mon 07:00", "Mon 15:00"), (2, "Mon 15:00", "Mon 23:00")]
    ShiftSchedule((time(7), time(9)), BERLIN, days=(weekdays, weekend), ends=(time(10), None))  # never the same day
    with pytest.raises(ShiftError, match="shift 1 would end at 10:00 on Sat"):
        ShiftSchedule((time(7), time(9)), BERLIN, days=(None, weekend), ends=(time(10), None))  # 07-10 runs into 09


def test_without_an_end_time_a_weekday_shift_runs_to_the_next_start_that_runs_at_most_a_day():
    office = ShiftSchedule((time(7),), BERLIN, days=(parse_days("Mon-Fri"),))
    assert [(s.start.astimezone(BERLIN).strftime("%a %H:%M"), s.end.astimezone(BERLIN).strftime("%a %H:%M"))
            for s in office.slots(date(2026, 12, 4), date(2026, 12, 7))] == [("Fri 07:00", "Sat 07:00"),
                                                                            ("Mon 07:00", "Tue 07:00")]
    assert office.slot_at(datetime(2026, 12, 5, 12, 0, tzinfo=BERLIN)) is None  # Saturday noon: nobody
    assert office.next_start(datetime(2026, 12, 5, 12, 0, tzinfo=BERLIN)) == datetime(2026, 12, 7, 7, 0, tzinfo=BERLIN)
