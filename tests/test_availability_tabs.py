"""The Away, Holidays and Overrides tabs: what ops write, what the bot takes from it, and what it
reports (naming the cell) when a row cannot be used."""
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcabot.availability import Away, Holiday, Override
from rcabot.availability.tabs import parse_away, parse_holidays, parse_overrides
from rcabot.model import Manager

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
ANN, BOB, CAT = Manager("Ann", "users/1"), Manager("Bob", "users/2"), Manager("Cat Lee", "users/3")
TEAM = (ANN, BOB, CAT)
AWAY_HEADER = ["Manager", "From", "To", "Reason"]
HOLIDAY_HEADER = ["Date", "Name", "Shifts"]
OVERRIDE_HEADER = ["Date", "Shift", "Instead of", "Covered by", "Requested at", "Taken at"]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def away(*rows, managers=TEAM, zone=BERLIN, header=AWAY_HEADER):
    return parse_away([header, *map(list, rows)], managers, zone)


# --- Away ---------------------------------------------------------------------------------

def test_a_whole_day_row_is_midnight_to_the_next_midnight_local_time():
    parsed = away(["Ann", "2026-12-24", "2026-12-24", "Christmas Eve"])
    assert parsed.problems == []
    assert parsed.value == (Away("users/1", utc(2026, 12, 23, 23), utc(2026, 12, 24, 23), "Christmas Eve", "sheet"),)


def test_both_dates_are_inclusive_so_a_week_of_leave_is_seven_days():
    (absence,) = away(["Bob", "2026-07-06", "2026-07-12"]).value
    assert absence.end - absence.start == timedelta(days=7)
    assert absence.covers(utc(2026, 7, 12, 21, 59)) and not absence.covers(utc(2026, 7, 12, 22))


def test_date_times_are_local_to_the_zone_and_the_end_is_exclusive():
    (absence,) = away(["Ann", "2026-12-24 13:00", "2026-12-24T17:30:15"]).value
    assert (absence.start, absence.end) == (utc(2026, 12, 24, 12), utc(2026, 12, 24, 16, 30, 15))
    assert absence.start.tzinfo is not None and absence.end.tzinfo is not None


def test_a_date_and_a_date_time_mix():
    (from_date,) = away(["Ann", "2026-12-24", "2026-12-24 10:00"]).value
    (to_date,) = away(["Ann", "2026-12-24 10:00", "2026-12-25"]).value
    assert (from_date.start, from_date.end) == (utc(2026, 12, 23, 23), utc(2026, 12, 24, 9))
    assert (to_date.start, to_date.end) == (utc(2026, 12, 24, 9), utc(2026, 12, 25, 23))


def test_a_blank_to_is_until_the_end_of_the_from_day():
    (whole,) = away(["Ann", "2026-12-24", ""]).value
    (afternoon,) = away(["Ann", "2026-12-24 13:00", " "]).value
    assert (whole.start, whole.end) == (utc(2026, 12, 23, 23), utc(2026, 12, 24, 23))
    assert (afternoon.start, afternoon.end) == (utc(2026, 12, 24, 12), utc(2026, 12, 24, 23))


def test_the_manager_is_a_name_in_any_case_or_a_gchat_id_with_or_without_users():
    parsed = away(["cat lee", "2026-12-24"], ["users/2", "2026-12-24"], ["1", "2026-12-24"])
    assert [a.manager for a in parsed.value] == ["users/3", "users/2", "users/1"]


def test_rows_come_back_in_row_order_with_the_reason_trimmed():
    parsed = away(["Bob", "2026-12-27", "", "  ski  "], ["Ann", "2026-12-20", ""])
    assert [(a.manager, a.reason) for a in parsed.value] == [("users/2", "ski"), ("users/1", "")]


def test_a_time_in_the_spring_gap_lands_just_after_the_clocks_jump():
    # 02:30 does not exist in Berlin on 2026-03-29 (02:00 CET -> 03:00 CEST): it reads as 03:30 CEST.
    (absence,) = away(["Ann", "2026-03-29 02:30", "2026-03-29 04:00"]).value
    assert absence.start == utc(2026, 3, 29, 1, 30)
    assert absence.end - absence.start == timedelta(minutes=30)


def test_a_time_in_the_autumn_fold_is_its_first_occurrence():
    # 02:30 happens twice in Berlin on 2026-10-25; the first (CEST, +02:00) is taken.
    (absence,) = away(["Ann", "2026-10-25 02:30", "2026-10-25 03:00"]).value
    assert absence.start == utc(2026, 10, 25, 0, 30)
    assert absence.end == utc(2026, 10, 25, 2)  # 03:00 CET: an hour and a half later


@pytest.mark.parametrize("day, hours", [("2026-03-29", 23), ("2026-10-25", 25), ("2026-06-01", 24)])
def test_a_whole_day_across_a_daylight_saving_change_is_as_long_as_that_day(day, hours):
    (absence,) = away(["Ann", day, day]).value
    assert absence.end - absence.start == timedelta(hours=hours)


def test_an_unknown_manager_is_reported_with_its_cell_and_the_row_left_out():
    parsed = away(["Ann", "2026-12-24"], ["Zed", "2026-12-24"])
    assert parsed.problems == ['Away A3: "Zed" is not a manager in the Managers tab (a name or a GChat ID)']
    assert [a.manager for a in parsed.value] == ["users/1"]


def test_a_name_two_managers_share_asks_for_the_gchat_id():
    twins = (Manager("Sam", "users/7"), Manager("sam", "users/8"))
    parsed = away(["Sam", "2026-12-24"], managers=twins)
    assert parsed.value == ()
    assert parsed.problems == ['Away A2: two managers are named "Sam": write the GChat ID instead']


def test_to_before_from_is_reported_on_the_to_cell():
    parsed = away(["Ann", "2026-12-22"], ["Ann", "2026-12-24", "2026-12-20"],
                  ["Bob", "2026-12-24 10:00", "2026-12-24 10:00"])
    assert parsed.problems == ["Away C3: To 2026-12-20 is before From 2026-12-24: the absence would be empty",
                               "Away C4: To 2026-12-24 10:00 is the same moment as From 2026-12-24 10:00: the absence "
                               "would be empty"]
    assert len(parsed.value) == 1


@pytest.mark.parametrize("text", ["24/12/2026", "tomorrow", "2026-12-24 1pm", "20261224", "２０２６-12-24"])
def test_a_cell_that_is_not_a_date_says_how_to_write_one(text):
    parsed = away(["Ann", "2026-12-20"], ["Ann", "2026-12-20"], ["Ann", "2026-12-20"], ["Ann", "2026-12-20", text])
    assert parsed.problems == [f'Away C5: "{text}" is not a date: write 2026-12-24 or 2026-12-24 13:00']
    assert len(parsed.value) == 3


@pytest.mark.parametrize("text, problem", [
    ("2026-02-30", '"2026-02-30" is not a day on the calendar'),
    ("2026-13-01", '"2026-13-01" is not a day on the calendar'),
    ("2026-12-24 24:00", '"2026-12-24 24:00" is not a time of day: hours go 0-23, minutes 0-59'),
    ("2026-12-24 10:60", '"2026-12-24 10:60" is not a time of day: hours go 0-23, minutes 0-59'),
    ("0001-01-01", '"0001-01-01" is out of range: the year must be 1900 to 2999'),
    ("9999-12-31", '"9999-12-31" is out of range: the year must be 1900 to 2999'),
])
def test_a_date_shaped_cell_that_is_no_real_moment_is_reported(text, problem):
    assert away(["Ann", text]).problems == [f"Away B2: {problem}"]


def test_a_blank_from_or_manager_is_reported_and_every_problem_in_a_row_is_named():
    parsed = away(["", "2026-12-24"], ["Ann", "", "2026-12-24"], ["Zed", "soon", "later"])
    assert parsed.problems == [
        "Away A2: Manager is blank: write a name or a GChat ID from the Managers tab",
        "Away B3: From is blank: write a date like 2026-12-24 or 2026-12-24 13:00",
        'Away A4: "Zed" is not a manager in the Managers tab (a name or a GChat ID)',
        'Away B4: "soon" is not a date: write 2026-12-24 or 2026-12-24 13:00',
        'Away C4: "later" is not a date: write 2026-12-24 or 2026-12-24 13:00',
    ]
    assert parsed.value == ()


def test_headers_match_in_any_case_spacing_and_order_and_extra_columns_are_ignored():
    header = ["notes", " to ", "REASON", "from", "manager"]
    parsed = away(["x", "2026-12-25", "flu", "2026-12-24", "Bob"], header=header)
    assert parsed.problems == []
    assert parsed.value == (Away("users/2", utc(2026, 12, 23, 23), utc(2026, 12, 25, 23), "flu", "sheet"),)


def test_problems_name_the_column_where_it_really_is():
    parsed = away(["", "", "2026-12-24", "Zed"], header=["Notes", "Reason", "From", "Manager"])
    assert parsed.problems == ["Away row 1: the header row has no To column"]
    parsed = away(["", "", "2026-12-24", "", "Zed"], header=["Notes", "Reason", "From", "To", "Manager"])
    assert parsed.problems == ['Away E2: "Zed" is not a manager in the Managers tab (a name or a GChat ID)']


def test_absent_required_columns_are_one_problem_and_reason_is_optional():
    assert away(["Ann"], header=["Manager", "Reason"]).problems == [
        "Away row 1: the header row has no From or To column"]
    assert away(["Ann", "2026-12-24", ""], header=["Manager", "From", "To"]).problems == []


def test_an_empty_tab_a_header_alone_and_blank_rows_are_no_leave_and_no_problem():
    assert parse_away([], TEAM, BERLIN).value == () and parse_away([], TEAM, BERLIN).problems == []
    assert away().value == () and away().problems == []
    parsed = away([], ["", " ", "\t"], ["Ann", "2026-12-24"], ["", "", "", ""])
    assert parsed.problems == [] and len(parsed.value) == 1


def test_ragged_rows_are_padded_with_blanks():
    parsed = away(["Ann", "2026-12-24"], ["Bob"])
    assert len(parsed.value) == 1
    assert parsed.problems == ["Away B3: From is blank: write a date like 2026-12-24 or 2026-12-24 13:00"]


def test_a_quoted_cell_is_printable_and_short():
    nasty = "\ud800\x00Zed" + "z" * 200
    (problem,) = away([nasty, "2026-12-24"]).problems
    assert problem.startswith('Away A2: "\\ud800\\x00Zed') and "…" in problem and len(problem) < 200
    problem.encode("utf-8")  # no lone surrogate left to break a log line or a write-back


# --- Holidays -----------------------------------------------------------------------------

def holidays(*rows, header=HOLIDAY_HEADER, shift_count=4):
    return parse_holidays([header, *map(list, rows)], shift_count)


def test_holidays_with_the_shifts_that_still_run():
    parsed = holidays(["2026-12-25", "Christmas", ""], ["2026-12-26", "Boxing Day", "1,3"],
                      ["2026-12-31", "New Year's Eve", "1;3 4"], ["2027-01-01", "New Year", "All"])
    assert parsed.problems == []
    assert parsed.value == (Holiday(date(2026, 12, 25), "Christmas", frozenset(), "sheet"),
                            Holiday(date(2026, 12, 26), "Boxing Day", frozenset({1, 3}), "sheet"),
                            Holiday(date(2026, 12, 31), "New Year's Eve", frozenset({1, 3, 4}), "sheet"),
                            Holiday(date(2027, 1, 1), "New Year", frozenset({1, 2, 3, 4}), "sheet"))


def test_the_shifts_column_is_optional_and_without_it_no_shift_runs():
    parsed = holidays(["Christmas", "2026-12-25"], header=["name", "DATE"])
    assert parsed.problems == []
    assert parsed.value == (Holiday(date(2026, 12, 25), "Christmas", frozenset(), "sheet"),)
    # The columns follow the header: with Date in B, a date written in A is not where it is read.
    parsed = holidays(["2026-12-25", "Christmas"], header=["name", "DATE"])
    assert parsed.problems == ['Holidays B2: "Christmas" is not a date: write 2026-12-24'] and parsed.value == ()


def test_a_shift_the_configuration_does_not_have_is_reported():
    parsed = holidays(["2026-12-25", "Christmas", "1,5"], ["2026-12-26", "Boxing Day", "2"])
    assert parsed.problems == ["Holidays C2: shift 5 does not exist (the Configuration has shifts 1 to 4)"]
    assert [h.day for h in parsed.value] == [date(2026, 12, 26)]


@pytest.mark.parametrize("text", ["none", "1-3", "1,x", "-1", "1.0"])
def test_shifts_that_are_no_list_of_numbers_say_how_to_write_them(text):
    assert holidays(["2026-12-25", "Christmas", text]).problems == [
        f'Holidays C2: "{text}" is not a list of shifts: write the shifts that still run that day, like 1,3, or '
        f'all, or leave it blank for none']


def test_the_same_date_twice_is_reported_on_the_second_row():
    parsed = holidays(["2026-12-25", "Christmas"], ["2026-12-24", "Eve"], ["2026-12-25", "Xmas", "1"])
    assert parsed.problems == ["Holidays A4: 2026-12-25 is already a holiday in row 2: keep one row per date"]
    assert [h.name for h in parsed.value] == ["Christmas", "Eve"]


def test_a_holiday_is_a_whole_day_so_a_time_is_a_problem():
    parsed = holidays(["2026-12-25 10:00", "Christmas"], ["", "Boxing Day"], ["25.12.2026", "x"])
    assert parsed.problems == ['Holidays A2: "2026-12-25 10:00" is not a date: write 2026-12-24',
                               "Holidays A3: Date is blank: write a date like 2026-12-24",
                               'Holidays A4: "25.12.2026" is not a date: write 2026-12-24']


def test_a_holidays_tab_without_a_name_column_is_one_problem():
    assert holidays(["2026-12-25"], header=["Date", "Shifts"]).problems == [
        "Holidays row 1: the header row has no Name column"]


# --- Overrides ----------------------------------------------------------------------------

def overrides(*rows, header=OVERRIDE_HEADER, managers=TEAM, shift_count=4):
    return parse_overrides([header, *map(list, rows)], managers, shift_count)


def test_an_override_names_both_managers_by_name_or_gchat_id():
    parsed = overrides(["2026-12-24", "2", "Ann", "users/2", "2026-12-01 10:00", "2026-12-01 10:05"],
                       ["2026-12-24", " 3 ", "2", "cat lee"])
    assert parsed.problems == []
    assert parsed.value == (Override(date(2026, 12, 24), 2, "users/1", "users/2"),
                            Override(date(2026, 12, 24), 3, "users/2", "users/3"))


def test_requested_at_and_taken_at_are_not_read():
    parsed = overrides(["2026-12-24", "1", "Ann", "Bob", "whenever", "\x00??"])
    assert parsed.problems == [] and len(parsed.value) == 1
    assert overrides(["2026-12-24", "1", "Ann", "Bob"], header=OVERRIDE_HEADER[:4]).problems == []
    assert overrides(["", "", "", "", "2026-12-01", "x"]).value == ()  # only the record columns: a blank row
    assert overrides(["", "", "", "", "2026-12-01", "x"]).problems == []


@pytest.mark.parametrize("shift, problem", [
    ("5", "shift 5 does not exist (the Configuration has shifts 1 to 4)"),
    ("0", "shift 0 does not exist (the Configuration has shifts 1 to 4)"),
    ("two", '"two" is not a shift number (the Configuration has shifts 1 to 4)'),
    ("", "Shift is blank: write a shift number, 1 to 4"),
    ("9" * 5000, "shift " + "9" * 60 + "… does not exist (the Configuration has shifts 1 to 4)"),
])
def test_a_row_that_no_longer_matches_a_shift_is_reported(shift, problem):
    parsed = overrides(["2026-12-24", shift, "Ann", "Bob"])
    assert parsed.problems == [f"Overrides B2: {problem}"] and parsed.value == ()


def test_a_shift_dropped_from_the_configuration_reports_the_override_that_used_it():
    rows = (["2026-12-24", "4", "Ann", "Bob"],)
    assert overrides(*rows, shift_count=4).problems == []
    assert overrides(*rows, shift_count=3).problems == [
        "Overrides B2: shift 4 does not exist (the Configuration has shifts 1 to 3)"]


def test_unknown_managers_are_reported_in_their_own_cells():
    parsed = overrides(["2026-12-24", "1", "Zed", "Bob"], ["2026-12-24", "1", "Ann", "Yan"],
                       ["2026-12-24", "1", "", "Bob"])
    assert parsed.problems == [
        'Overrides C2: "Zed" is not a manager in the Managers tab (a name or a GChat ID)',
        'Overrides D3: "Yan" is not a manager in the Managers tab (a name or a GChat ID)',
        "Overrides C4: Instead of is blank: write a name or a GChat ID from the Managers tab"]
    assert parsed.value == ()


def test_a_manager_cannot_cover_for_themselves_even_named_two_ways():
    parsed = overrides(["2026-12-24", "1", "Ann", "users/1"])
    assert parsed.problems == ['Overrides D2: Covered by names the same manager as Instead of ("Ann"): a manager '
                               'cannot cover for themselves']
    assert parsed.value == ()


def test_the_same_person_covered_twice_in_a_shift_is_reported_on_the_later_row():
    parsed = overrides(["2026-12-24", "1", "Ann", "Bob"], ["2026-12-24", "2", "Ann", "Bob"],
                       ["2026-12-25", "1", "Ann", "Bob"], ["2026-12-24", "1", "ann", "Cat Lee"])
    assert parsed.problems == ['Overrides C5: "Ann" is already covered on 2026-12-24 shift 1 in row 2: keep one '
                               'row per person and shift']
    assert [(o.day.day, o.shift, o.covered_by) for o in parsed.value] == [(24, 1, "users/2"), (24, 2, "users/2"),
                                                                          (25, 1, "users/2")]


def test_an_override_date_is_a_day_not_a_moment():
    assert overrides(["2026-12-24 06:00", "1", "Ann", "Bob"]).problems == [
        'Overrides A2: "2026-12-24 06:00" is not a date: write 2026-12-24']


def test_an_overrides_tab_without_its_columns_is_one_problem():
    assert overrides(["2026-12-24", "Ann"], header=["Date", "Instead of"]).problems == [
        "Overrides row 1: the header row has no Shift or Covered by column"]


# --- Generated rows -----------------------------------------------------------------------

GOOD_DATES = ["2026-12-24", "2026-03-29", "2026-10-25", "2026-10-25 02:30", "2026-03-29 02:30",
              "2026-12-24T13:00", "2026-12-24 23:59:59", "2026-02-29", "1900-01-01", "2999-12-31", "2026-12-20"]
DAYS = ["2026-12-24", "2026-03-29", "2026-10-25", "2026-02-29", "2026-12-20", "2026-12-24 13:00"]
NAMES = ["Ann", "bob", "users/3", "1", "Cat Lee", "Zed", ""]
SHIFTS = ["1", "2", "3", "4", "1", "5", "0", "x", ""]
anything = st.text(max_size=12)  # any unicode, lone surrogates and control characters included
CELLS = {  # a column's cells: mostly what ops would write there, and now and then anything at all
    "manager": NAMES, "insteadof": NAMES, "coveredby": NAMES,
    "from": GOOD_DATES + [""], "to": GOOD_DATES + ["", ""], "date": DAYS,
    "shift": SHIFTS, "shifts": SHIFTS + ["all", "1,3", "1;2 4", "007"],
}
PROBLEM = re.compile(r"^(Away|Holidays|Overrides) (?:[A-Z]+(\d+)|row (1)): \S")


@st.composite
def column_cell(draw, heading: str):
    pool = CELLS.get(heading.replace(" ", "").lower())
    return draw(st.sampled_from(pool)) if pool and draw(st.integers(0, 4)) else draw(anything)


@st.composite
def tab(draw, headings):
    """A header of the tab's columns in any order (maybe with an extra one), and rows cut short at
    any length, some blank, most with a plausible cell in each column."""
    header = draw(st.permutations(headings + draw(st.sampled_from([[], ["Notes"]]))))
    rows = [list(header)]
    for _ in range(draw(st.integers(0, 8))):
        cells = [draw(column_cell(h)) for h in header]
        rows.append(cells[:draw(st.integers(0, len(cells)))] if draw(st.booleans()) else cells)
    return rows


def check(parsed, rows, tab_name, read):
    """What every parse promises: problems name the tab and a cell, and every non-blank row gives
    either a value or a problem, never both."""
    assert isinstance(parsed.value, tuple)
    named_rows = set()
    for problem in parsed.problems:
        match = PROBLEM.match(problem)
        assert match and match.group(1) == tab_name, problem
        named_rows.add(int(match.group(2) or match.group(3)))
        problem.encode("utf-8")
    header = [h.replace(" ", "").lower() for h in rows[0]]
    columns = [header.index(c) for c in read]
    filled = [n for n, r in enumerate(rows[1:], 2) if any(i < len(r) and r[i].strip() for i in columns)]
    assert 1 not in named_rows
    assert named_rows <= set(filled)
    assert len(parsed.value) + len(named_rows) == len(filled)


@settings(max_examples=200, deadline=None)
@given(tab(AWAY_HEADER), st.sampled_from(["Europe/Berlin", "UTC", "America/Sao_Paulo", "Pacific/Apia"]))
def test_generated_away_rows(rows, zone):
    parsed = parse_away(rows, TEAM, ZoneInfo(zone))
    check(parsed, rows, "Away", ["manager", "from", "to", "reason"])
    for absence in parsed.value:
        assert absence.start.utcoffset() == timedelta(0) and absence.end.utcoffset() == timedelta(0)
        assert absence.start < absence.end
        assert absence.manager in {m.chat_id for m in TEAM} and absence.source == "sheet"


@settings(max_examples=200, deadline=None)
@given(tab(HOLIDAY_HEADER), st.integers(1, 6))
def test_generated_holiday_rows(rows, shift_count):
    parsed = parse_holidays(rows, shift_count)
    check(parsed, rows, "Holidays", ["date", "name", "shifts"])
    assert len({h.day for h in parsed.value}) == len(parsed.value)
    for holiday in parsed.value:
        assert holiday.shifts <= set(range(1, shift_count + 1)) and holiday.source == "sheet"


@settings(max_examples=200, deadline=None)
@given(tab(OVERRIDE_HEADER), st.integers(1, 6))
def test_generated_override_rows(rows, shift_count):
    parsed = parse_overrides(rows, TEAM, shift_count)
    check(parsed, rows, "Overrides", ["date", "shift", "insteadof", "coveredby"])
    known = {m.chat_id for m in TEAM}
    for override in parsed.value:
        assert {override.instead_of, override.covered_by} <= known
        assert override.instead_of != override.covered_by and 1 <= override.shift <= shift_count
    assert len({(o.day, o.shift, o.instead_of) for o in parsed.value}) == len(parsed.value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.one_of(anything, st.sampled_from(GOOD_DATES + NAMES + SHIFTS + DAYS)), max_size=7), max_size=6))
def test_any_rows_at_all_never_raise(rows):
    """Without a known header too: a tab ops started and never finished, or a different tab."""
    for parsed in (parse_away(rows, TEAM, BERLIN), parse_holidays(rows, 4), parse_overrides(rows, TEAM, 4)):
        assert isinstance(parsed.value, tuple)
        assert all(PROBLEM.match(p) for p in parsed.problems)
