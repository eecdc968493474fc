"""The shift calendar: the shifts of the next 14 days and who is on each, and GET /calendar.ics."""
from __future__ import annotations

import re
import threading
import urllib.request
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event
from werkzeug.serving import make_server

from rcabot.calendar import description, render, upcoming_shifts
from rcabot.config import parse_managers
from rcabot.model import Manager
from rcabot.shifts import ShiftSchedule
from rcabot.workbook.cells import plain
from rcabot.web import create_app
from tests.google_fixtures import API_TOKEN

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # the fixtures' clock: in shift 2 of the sample
FOUR_UTC = ShiftSchedule((time(0), time(6), time(12), time(18)), ZoneInfo("UTC"))
FOUR_BERLIN = ShiftSchedule((time(0), time(6), time(12), time(18)), BERLIN)
TEAM = parse_managers([
    ["Name", "Email", "GChat ID", "Shift", "Active"],
    ["Ada Park", "ada.park@example.com", "users/1001", "1", "yes"],
    ["Bruno Silva", "bruno.silva@example.com", "users/1002", "1,2", "yes"],
    ["Chen Wei", "", "1003", "2", ""],
    ["Dana Kim", "dana.kim@example.com", "users/1004", "3", "yes"],
    ["Gus Berg", "gus.berg@example.com", "users/1007", "all", "no"],
    ["Hana Sato", "hana.sato@example.com", "users/1008", "all", "yes"],
], 4).value


# --- reading what we write: a strict line check (RFC 5545 3.1), then icalendar's own parser ------

CONTENT_LINE = re.compile(r"""[A-Za-z0-9-]+(?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:,]*)(?:,(?:"[^"]*"|[^";:,]*))*)*:.*""",
                          re.DOTALL)
TEXT_VALUE = re.compile(r"(?:[^\\;,]|\\[\\;,nN])*", re.DOTALL)  # RFC 5545 3.3.11: every \ ; , escaped
TEXT_PROPERTIES = ("SUMMARY", "DESCRIPTION", "X-WR-CALNAME")
STAMP = re.compile(r"\d{8}T\d{6}Z")


def content_lines(body: bytes) -> list[str]:
    """The unfolded content lines of `body`, after checking it line by line: CRLF endings only, no
    physical line over 75 octets, each one whole UTF-8 (a fold never splits a character), a
    continuation starting with a space or tab, no control character but tab, every content line
    NAME[;PARAM=...]:value, TEXT values with their specials escaped, times in the UTC Z form."""
    assert body.endswith(b"\r\n"), "the last line ends with CRLF"
    physical = body[:-2].split(b"\r\n")
    for number, line in enumerate(physical, 1):
        assert b"\r" not in line and b"\n" not in line, f"line {number}: a bare CR or LF"
        assert len(line) <= 75, f"line {number}: {len(line)} octets"
        line.decode("utf-8")  # strict: a character cut by a fold fails here
        assert not re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", line), f"line {number}: a control character"
    assert not physical[0].startswith((b" ", b"\t"))
    unfolded: list[str] = []
    for line in physical:
        if line.startswith((b" ", b"\t")):
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    lines = [line.decode("utf-8") for line in unfolded]  # joined halves of a character decode too
    for line in lines:
        assert CONTENT_LINE.fullmatch(line), f"not a content line: {line!r}"
        name, _, value = line.partition(":")
        if name in TEXT_PROPERTIES:
            assert TEXT_VALUE.fullmatch(value), f"an unescaped TEXT special: {line!r}"
        if name in ("DTSTAMP", "DTSTART", "DTEND"):
            assert STAMP.fullmatch(value), f"not a UTC date-time: {line!r}"
    return lines


def parse(text: str) -> tuple[Calendar, list[Event]]:
    """The calendar and its events as icalendar reads them, after the line check."""
    lines = content_lines(text.encode("utf-8"))
    assert (lines[0], lines[-1]) == ("BEGIN:VCALENDAR", "END:VCALENDAR")
    calendar = Calendar.from_ical(text)
    events = calendar.walk("VEVENT")
    assert not calendar.errors and not any(e.errors for e in events)
    assert len(calendar.subcomponents) == len(events) == lines.count("BEGIN:VEVENT")
    return calendar, events


def raw(text: str, name: str) -> list[str]:
    """The (escaped) values of every `name` content line, as written."""
    return [line.partition(":")[2] for line in content_lines(text.encode("utf-8")) if line.partition(":")[0] == name]


# --- which shifts, and who is on them -------------------------------------------------------------

def test_each_shift_lists_the_active_managers_who_work_it_in_managers_tab_order():
    shifts = upcoming_shifts(FOUR_UTC, TEAM, NOW)
    who = [(s.shift, [m.name for m in s.managers]) for s in shifts[:5]]
    assert who == [(2, ["Bruno Silva", "Chen Wei", "Hana Sato"]), (3, ["Dana Kim", "Hana Sato"]),
                   (4, ["Hana Sato"]), (1, ["Ada Park", "Bruno Silva", "Hana Sato"]),
                   (2, ["Bruno Silva", "Chen Wei", "Hana Sato"])]


def test_an_inactive_manager_is_on_no_shift_and_one_with_every_shift_is_on_all():
    shifts = upcoming_shifts(FOUR_UTC, TEAM, NOW)
    assert all("Gus Berg" not in [m.name for m in s.managers] for s in shifts)
    assert all("Hana Sato" in [m.name for m in s.managers] for s in shifts)


def test_the_running_shift_is_included_from_its_start_then_56_more_follow():
    shifts = upcoming_shifts(FOUR_UTC, TEAM, NOW)
    assert len(shifts) == 57  # the one running at 07:00 plus 14 days x 4 shifts
    assert (shifts[0].shift, shifts[0].start, shifts[0].end) == (2, NOW.replace(hour=6), NOW.replace(hour=12))
    assert shifts[-1].start == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # starts before now + 14 days
    assert all(a.end == b.start for a, b in zip(shifts, shifts[1:]))


def test_exactly_at_a_shift_start_the_window_holds_56_shifts():
    shifts = upcoming_shifts(FOUR_UTC, TEAM, NOW.replace(hour=6))
    assert len(shifts) == 56 and shifts[0].start == NOW.replace(hour=6)
    assert shifts[-1].end == NOW.replace(hour=6) + timedelta(days=14)


def test_a_shift_nobody_works_is_still_listed_and_says_so():
    shifts = upcoming_shifts(FOUR_UTC, [m for m in TEAM if m.name != "Hana Sato"], NOW)
    fourth = next(s for s in shifts if s.shift == 4)
    assert fourth.managers == ()
    _, events = parse(render([fourth], NOW, FOUR_UTC.zone))
    assert events[0]["SUMMARY"] == "RCA shift 4: nobody on shift"
    assert events[0]["DESCRIPTION"] == "Shift 4, 18:00 to 00:00 (UTC)\nNobody is on this shift."


@pytest.mark.parametrize("now, day, hours", [
    (datetime(2026, 3, 23, 7, 0, tzinfo=BERLIN), datetime(2026, 3, 29, tzinfo=BERLIN), 5),  # clocks go forward
    (datetime(2026, 10, 19, 7, 0, tzinfo=BERLIN), datetime(2026, 10, 25, tzinfo=BERLIN), 7),  # clocks go back
])
def test_across_a_daylight_saving_change_shifts_keep_their_local_start(now, day, hours):
    shifts = upcoming_shifts(FOUR_BERLIN, TEAM, now)
    assert len(shifts) == 57
    assert [s.start.astimezone(BERLIN).hour for s in shifts] == [6] + [12, 18, 0, 6] * 14
    night = next(s for s in shifts if s.start == day)
    assert night.shift == 1 and night.end - night.start == timedelta(hours=hours)
    offsets = {s.start.astimezone(BERLIN).utcoffset() for s in shifts}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}


def test_the_shifts_agree_with_the_bots_current_shift_across_a_daylight_saving_change():
    for s in upcoming_shifts(FOUR_BERLIN, TEAM, datetime(2026, 10, 19, 7, 0, tzinfo=BERLIN)):
        assert FOUR_BERLIN.current_shift(s.start) == s.shift
        assert FOUR_BERLIN.current_shift(s.end - timedelta(seconds=1)) == s.shift


# --- the iCalendar text ---------------------------------------------------------------------------

def test_the_calendar_is_a_published_gregorian_vcalendar_with_a_name():
    text = render(upcoming_shifts(FOUR_UTC, TEAM, NOW), NOW, FOUR_UTC.zone)
    calendar, events = parse(text)
    assert calendar.name == "VCALENDAR"
    assert {k: str(calendar[k]) for k in ("VERSION", "CALSCALE", "METHOD", "X-WR-CALNAME")} == {
        "VERSION": "2.0", "CALSCALE": "GREGORIAN", "METHOD": "PUBLISH", "X-WR-CALNAME": "RCA shifts"}
    assert calendar["PRODID"]
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert raw(text, "REFRESH-INTERVAL;VALUE=DURATION") == raw(text, "X-PUBLISHED-TTL") == ["PT1H"]
    assert len(events) == 57
    assert all(str(e["TRANSP"]) == "TRANSPARENT" for e in events)


def test_reading_the_text_back_gives_the_same_events():
    shifts = upcoming_shifts(FOUR_BERLIN, TEAM, NOW)
    text = render(shifts, NOW, BERLIN)
    _, events = parse(text)  # the line check has seen DTSTAMP, DTSTART and DTEND in the Z form
    assert [(e["UID"], e["DTSTART"].dt, e["DTEND"].dt, e["DTSTAMP"].dt) for e in events] == [
        (s.uid, s.start, s.end, NOW) for s in shifts]
    assert all(e[key].dt.utcoffset() == timedelta(0) for e in events for key in ("DTSTART", "DTEND", "DTSTAMP"))
    assert raw(text, "DTSTART")[:2] == ["20261123T050000Z", "20261123T110000Z"]  # 06:00 and 12:00 in Berlin
    first = events[0]
    assert first["SUMMARY"] == "RCA shift 2: Bruno Silva, Chen Wei, Hana Sato"
    assert first["DESCRIPTION"] == ("Shift 2, 06:00 to 12:00 (Europe/Berlin)\nOn shift:\n"
                                    "Bruno Silva <bruno.silva@example.com>\nChen Wei\n"
                                    "Hana Sato <hana.sato@example.com>")


def test_an_occurrence_keeps_its_uid_across_requests_and_team_changes():
    before = {(s.start, s.shift): s.uid for s in upcoming_shifts(FOUR_UTC, TEAM, NOW)}
    later = upcoming_shifts(FOUR_UTC, TEAM[:2], NOW + timedelta(hours=6))
    assert [before[(s.start, s.shift)] for s in later[:-1]] == [s.uid for s in later[:-1]]
    assert later[0].uid == "20261123T120000Z-shift3@rcabot.invalid"
    assert len(set(before.values())) == len(before)


def only_shift_1(*names: str) -> list:
    team = [Manager(name, f"users/{i}", "", frozenset({1})) for i, name in enumerate(names, 1)]
    return [s for s in upcoming_shifts(FOUR_UTC, team, NOW) if s.shift == 1][:1]


def test_text_values_escape_backslash_semicolon_comma_and_newline_and_drop_control_characters():
    text = render(only_shift_1("a\\b;c,d\ne\r\nf\rg", "bell\x07 and tab\t", "CORP\\Nina"), NOW, FOUR_UTC.zone)
    assert raw(text, "SUMMARY") == ["RCA shift 1: a\\\\b\\;c\\,d\\ne\\nf\\ng\\, bell and tab\t\\, CORP\\\\Nina"]
    _, events = parse(text)
    assert events[0]["SUMMARY"] == "RCA shift 1: a\\b;c,d\ne\nf\ng, bell and tab\t, CORP\\Nina"


def test_long_lines_are_folded_at_75_octets_without_splitting_a_character():
    name = "Zoë Ångström 日本語 🙂" * 20
    text = render(only_shift_1(name), NOW, FOUR_UTC.zone)
    physical = text.encode("utf-8").split(b"\r\n")
    assert max(len(p) for p in physical) in (74, 75) and sum(p.startswith(b" ") for p in physical) > 10
    _, events = parse(text)  # the line check decodes every physical line on its own
    assert events[0]["SUMMARY"] == f"RCA shift 1: {name}"


def test_names_with_commas_semicolons_and_accents_come_back_as_written():
    team = [Manager("Park, Ada; \"the boss\"", "users/1", "ada@example.com"),
            Manager("Zoë Ångström-Łukasiewicz-Øvergaard 日本語の名前", "users/2", "zoe@example.com", frozenset({1}))]
    shifts = upcoming_shifts(FOUR_UTC, team, NOW)
    text = render(shifts, NOW, FOUR_UTC.zone)
    _, events = parse(text)
    night = events[[s.shift for s in shifts].index(1)]
    assert night["SUMMARY"] == "RCA shift 1: Park, Ada; \"the boss\", Zoë Ångström-Łukasiewicz-Øvergaard 日本語の名前"
    assert night["DESCRIPTION"] == description(shifts[[s.shift for s in shifts].index(1)], FOUR_UTC.zone)


# What a Google Sheets cell can hold (the bot makes each lone surrogate U+FFFD on reading it, with
# `plain`), with what TEXT escapes, folds, line breaks and backslash-N drawn often.
PIECE = st.one_of(st.characters(exclude_categories=()), st.characters(categories=["Cs"]),
                  st.sampled_from(["\\", "\\N", "\\n", "\\,", ";", ",", ":", '"', "^", "\r", "\n", "\r\n", "\t", " ",
                                   "\x00", "\x07", "\x7f", "\x85", "\u2028", "🙂"]))
NAME = st.lists(PIECE, min_size=1, max_size=40).map("".join).map(plain)  # a Managers row needs a name


def as_text(name: str) -> str:
    """What the calendar is to show of a name: line breaks as newlines, other control characters gone."""
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", name.replace("\r\n", "\n").replace("\r", "\n"))


@settings(max_examples=100, deadline=None)
@given(names=st.lists(NAME, min_size=1, max_size=4))
def test_any_names_make_a_valid_calendar_that_reads_back_with_the_same_names(names):
    shifts = only_shift_1(*names)
    text = render(shifts, NOW, FOUR_UTC.zone, name=names[0])
    _, events = parse(text)
    assert events[0]["SUMMARY"] == "RCA shift 1: " + ", ".join(as_text(n) for n in names)
    assert events[0]["DESCRIPTION"] == as_text(description(shifts[0], FOUR_UTC.zone))
    # icalendar hands an X- property back as written (still escaped): read its value as a SUMMARY's.
    calname = Calendar.from_ical(f"BEGIN:VCALENDAR\r\nSUMMARY:{raw(text, 'X-WR-CALNAME')[0]}\r\nEND:VCALENDAR\r\n")
    assert calname["SUMMARY"] == as_text(names[0])


# --- GET /calendar.ics ----------------------------------------------------------------------------

def test_the_calendar_route_answers_an_inline_icalendar_file_of_the_bots_team(client):
    answer = client.get("/calendar.ics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer.headers["Content-Disposition"] == 'inline; filename="rca-shifts.ics"'
    _, events = parse(answer.get_data(as_text=True))
    assert len(events) == 57 and events[0]["DTSTART"].dt == datetime(2026, 11, 23, 6, tzinfo=UTC)
    assert events[0]["SUMMARY"] == "RCA shift 2: Bruno Silva, Chen Wei, Hana Sato"
    assert not any("Gus Berg" in e["DESCRIPTION"] for e in events)


def test_the_calendar_follows_the_team_in_memory_after_a_reload(client, bot, workbook_dir):
    managers = workbook_dir / "Managers.csv"
    managers.write_text(managers.read_text().replace("users/1002,\"1,2\",yes", "users/1002,\"1,2\",no"))
    assert "Bruno Silva" in client.get("/calendar.ics").get_data(as_text=True)  # not read on request
    bot.reload()
    assert "Bruno Silva" not in client.get("/calendar.ics").get_data(as_text=True)


@pytest.fixture
def guarded(workbook_dir, jobs, clock):
    return create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock,
                       "API_TOKEN": "s3cret-token"}).test_client()


@pytest.mark.parametrize("address, headers", [
    ("/calendar.ics", {}), ("/calendar.ics?token=wrong", {}), ("/calendar.ics?token=", {}),
    ("/calendar.ics?token=s3cret", {}), ("/calendar.ics", {"Authorization": "Bearer wrong"}),
    ("/calendar.ics?api_token=s3cret-token", {}),
])
def test_with_a_token_set_the_calendar_refuses_requests_without_it(guarded, address, headers):
    answer = guarded.get(address, headers=headers)
    assert answer.status_code == 401 and "?token=<token>" in answer.json["error"]


@pytest.mark.parametrize("address, headers", [
    ("/calendar.ics?token=s3cret-token", {}), ("/calendar.ics", {"Authorization": "Bearer s3cret-token"}),
])
def test_with_a_token_set_the_calendar_accepts_it_in_the_header_or_the_address(guarded, address, headers):
    answer = guarded.get(address, headers=headers)
    assert answer.status_code == 200 and answer.get_data(as_text=True).startswith("BEGIN:VCALENDAR\r\n")


def test_the_token_in_the_address_does_not_open_the_ticket_api(guarded):
    assert guarded.get("/status?token=s3cret-token").status_code == 401


def test_in_google_mode_the_calendar_needs_the_token_and_reads_no_spreadsheet(google_app, fake):
    client = google_app.test_client()
    calls = len(fake.sheets.calls)
    assert client.get("/calendar.ics").status_code == 401
    answer = client.get(f"/calendar.ics?token={API_TOKEN}")
    assert answer.status_code == 200 and len(parse(answer.get_data(as_text=True))[1]) == 57
    assert len(fake.sheets.calls) == calls


def test_the_development_server_never_logs_the_token_in_the_address(guarded, caplog):
    server = make_server("127.0.0.1", 0, guarded.application)
    thread = threading.Thread(target=server.handle_request)  # exactly one request
    thread.start()
    try:
        with caplog.at_level("INFO", logger="werkzeug"):
            with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/calendar.ics?token=s3cret-token") as r:
                assert r.status == 200
            thread.join()
    finally:
        server.server_close()
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any("/calendar.ics?token=[hidden]" in line for line in lines)
    assert not any("s3cret-token" in record.getMessage() for record in caplog.records)
