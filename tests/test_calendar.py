"""The shift calendar: the shifts of the next 14 days and who is on each, and GET /calendar.ics."""
from __future__ import annotations

import re
import threading
import urllib.request
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server

from rcabot.calendar import description, escape, fold, render, upcoming_shifts
from rcabot.config import parse_managers
from rcabot.model import Manager
from rcabot.shifts import ShiftSchedule
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


# --- a tiny reader of what we write: unfold, split, unescape -----------------------------------

def unfold(text: str) -> list[str]:
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", ""), "every line ends with CRLF"
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def parse(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The calendar's properties and its events, each a {NAME: unescaped value} dict."""
    calendar: dict[str, str] = {}
    events: list[dict[str, str]] = []
    current = calendar
    for line in unfold(text):
        name, _, value = line.partition(":")
        name = name.split(";")[0]
        if (name, value) == ("BEGIN", "VEVENT"):
            current = {}
        elif (name, value) == ("END", "VEVENT"):
            events.append(current)
            current = calendar
        else:
            current[name] = unescape(value)
    return calendar, events


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


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
    calendar, events = parse(render(upcoming_shifts(FOUR_UTC, TEAM, NOW), NOW, FOUR_UTC.zone))
    assert calendar["BEGIN"] == "VCALENDAR" and calendar["END"] == "VCALENDAR"
    assert {k: calendar[k] for k in ("VERSION", "CALSCALE", "METHOD", "X-WR-CALNAME")} == {
        "VERSION": "2.0", "CALSCALE": "GREGORIAN", "METHOD": "PUBLISH", "X-WR-CALNAME": "RCA shifts"}
    assert calendar["PRODID"]
    assert len(events) == 57


def test_reading_the_text_back_gives_the_same_events():
    shifts = upcoming_shifts(FOUR_BERLIN, TEAM, NOW)
    _, events = parse(render(shifts, NOW, BERLIN))
    assert [(e["UID"], utc(e["DTSTART"]), utc(e["DTEND"]), e["DTSTAMP"]) for e in events] == [
        (s.uid, s.start, s.end, "20261123T070000Z") for s in shifts]
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


def test_text_values_escape_backslash_semicolon_comma_and_newline():
    assert escape("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
    assert escape("bell\x07 and tab\t") == "bell and tab\t"


def test_long_lines_are_folded_at_75_octets_without_splitting_a_character():
    line = "SUMMARY:" + "Zoë Ångström 日本語 " * 20
    folded = fold(line)
    physical = folded.encode("utf-8").split(b"\r\n")
    assert all(len(p) <= 75 for p in physical) and all(p.startswith(b" ") for p in physical[1:])
    assert [p.decode("utf-8") for p in physical]  # each piece is whole characters
    assert folded.replace("\r\n ", "") == line
    assert fold("X" * 75) == "X" * 75


def test_names_with_commas_semicolons_and_accents_come_back_as_written():
    team = [Manager("Park, Ada; \"the boss\"", "users/1", "ada@example.com"),
            Manager("Zoë Ångström-Łukasiewicz-Øvergaard 日本語の名前", "users/2", "zoe@example.com", frozenset({1}))]
    shifts = upcoming_shifts(FOUR_UTC, team, NOW)
    text = render(shifts, NOW, FOUR_UTC.zone)
    assert all(len(p) <= 75 for p in text.encode("utf-8").split(b"\r\n"))
    _, events = parse(text)
    night = events[[s.shift for s in shifts].index(1)]
    assert night["SUMMARY"] == "RCA shift 1: Park, Ada; \"the boss\", Zoë Ångström-Łukasiewicz-Øvergaard 日本語の名前"
    assert night["DESCRIPTION"] == description(shifts[[s.shift for s in shifts].index(1)], FOUR_UTC.zone)


# --- GET /calendar.ics ----------------------------------------------------------------------------

def test_the_calendar_route_answers_an_inline_icalendar_file_of_the_bots_team(client):
    answer = client.get("/calendar.ics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer.headers["Content-Disposition"] == 'inline; filename="rca-shifts.ics"'
    _, events = parse(answer.get_data(as_text=True))
    assert len(events) == 57 and events[0]["DTSTART"] == "20261123T060000Z"
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
