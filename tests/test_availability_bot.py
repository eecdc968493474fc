"""Availability through the whole bot on the local workbook: working days, holidays, leave and
cover, as ops write them in the sheet, and what `who`, the BotStatus tab and the space show.

The clock starts on Monday 2026-11-23 at 07:00 UTC, in shift 2 (06:00-12:00) of the sample team:
Bruno Silva, Chen Wei and Hana Sato, in that row order.
"""
from __future__ import annotations

import csv
from datetime import datetime, timezone

from tests.conftest import drain, set_configuration
from tests.test_commands import say

BRUNO, CHEN, HANA, DANA = "users/1002", "users/1003", "users/1008", "users/1004"


def write_tab(workbook_dir, tab: str, rows: list[list[str]]) -> None:
    with open(workbook_dir / f"{tab}.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def pinged(client, ticket_id: str) -> str:
    ticket = client.get(f"/tickets/{ticket_id}").json
    return ticket["manager"]["chat_id"] if ticket["manager"] else ""


def start_all(client, count: int) -> list[str]:
    ids = [f"RCA-{n}" for n in range(count)]
    for ticket_id in ids:
        assert client.post("/tickets", json={"ticket_id": ticket_id}).status_code == 202
    return ids


def test_without_the_new_tabs_and_parameters_the_bot_routes_as_before(client, bot, workbook_dir):
    assert (workbook_dir / "Away.csv").read_text() == "Manager,From,To,Reason\n"  # the template: empty
    assert {pinged(client, t) for t in start_all(client, 3)} == {BRUNO, CHEN, HANA}
    assert bot.problems == []


def test_a_manager_away_today_is_never_pinged_and_who_says_until_when(client, bot, workbook_dir, clock):
    write_tab(workbook_dir, "Away", [["Manager", "From", "To", "Reason"], ["Bruno Silva", "2026-11-23", "2026-11-24",
                                                                           "Parental leave"]])
    bot.reload()
    assert {pinged(client, t) for t in start_all(client, 3)} == {CHEN, HANA, ""}  # the third waits
    answer = say(client, "who", user=CHEN)["text"]
    assert "• Bruno Silva: away until Wed 25 Nov 00:00, Parental leave" in answer
    bot.digest()
    drain(bot, clock)
    [digest] = [m for m in bot.chat.messages() if m.get("text", "").startswith("Daily digest")]
    assert "Away now: Bruno Silva (away until Wed 25 Nov 00:00, Parental leave)." in digest["text"]
    bot.flush()
    assert ["Away", "Bruno Silva", "until 2026-11-25 00:00 (sheet); Parental leave"] in read(
        workbook_dir / "BotStatus.csv")


def test_leave_that_ends_mid_shift_frees_the_manager_for_a_waiting_ticket_at_once(client, bot, workbook_dir,
                                                                                  clock, jobs):
    write_tab(workbook_dir, "Away", [["Manager", "From", "To"], [BRUNO, "2026-11-23", "2026-11-23 08:00"],
                                     ["Chen Wei", "2026-11-23", ""], ["Hana Sato", "2026-11-23", ""]])
    bot.reload()
    [ticket] = start_all(client, 1)
    assert pinged(client, ticket) == ""
    clock.advance(3600)
    jobs.fire_due()  # the shift timer is set for the end of Bruno's leave
    assert pinged(client, ticket) == BRUNO


def test_on_a_holiday_a_ticket_waits_and_says_so_until_the_next_shift(client, bot, workbook_dir, clock, jobs, space):
    write_tab(workbook_dir, "Holidays", [["Date", "Name", "Shifts"], ["2026-11-23", "Company day", ""]])
    bot.reload()
    [ticket] = start_all(client, 1)
    drain(bot, clock)
    [notice] = space.thread(ticket)
    assert notice["text"].startswith("Today is a holiday (Company day). Nobody is on shift until Tue 00:00 (UTC): "
                                     "RCA-0 waits")
    assert "It is a holiday (Company day)" in say(client, "who today", user=CHEN)["text"]
    clock.now = clock.now.replace(day=24, hour=0, minute=0, second=1)
    jobs.fire_due()
    assert pinged(client, ticket) == "users/1001"  # shift 1 of Tuesday: Ada Park first


def test_a_holiday_row_can_keep_a_shift_running_and_its_start_notice_says_so(client, bot, workbook_dir, clock,
                                                                              jobs, space):
    write_tab(workbook_dir, "Holidays", [["Date", "Name", "Shifts"], ["2026-11-23", "Half day", "2,3"]])
    set_configuration(workbook_dir, ShiftStartNotice="yes")
    bot.reload()
    assert pinged(client, start_all(client, 1)[0]) == BRUNO
    clock.now = clock.now.replace(hour=12, second=1)
    jobs.fire_due()
    drain(bot, clock)
    [notice] = [m for m in bot.chat.messages() if m.get("text", "").startswith("Shift 3 has begun")]
    assert "Today is a holiday (Half day)." in notice["text"]


def test_a_shift_limited_to_other_weekdays_leaves_nobody_on(client, bot, workbook_dir, clock, jobs):
    set_configuration(workbook_dir, Shift1Days="Tue-Sun", Shift2Days="Tue-Sun", Shift3Days="Tue-Sun",
                      Shift4Days="Tue-Sun")
    bot.reload()
    [ticket] = start_all(client, 1)
    assert pinged(client, ticket) == ""
    assert client.get("/status").json["shift"] == 0
    assert say(client, "who", user=CHEN)["text"].startswith("No shift is on now: nobody is on shift until "
                                                            "tomorrow 00:00 (UTC)")
    clock.now = clock.now.replace(day=24, hour=0, minute=0, second=1)
    jobs.fire_due()
    assert pinged(client, ticket) == "users/1001"


def test_an_end_time_leaves_a_gap_with_nobody_on(client, bot, workbook_dir):
    set_configuration(workbook_dir, Shift2EndTime="07:00")  # shift 2 now runs 06:00-07:00
    bot.reload()
    [ticket] = start_all(client, 1)
    assert pinged(client, ticket) == ""
    assert bot.status()["next_shift_start"] == "2026-11-23T12:00:00Z"
    assert say(client, "who", user=CHEN)["text"].startswith("No shift is on now: nobody is on shift until 12:00")


def test_cover_puts_the_covering_manager_in_the_covered_ones_place(client, bot, workbook_dir):
    write_tab(workbook_dir, "Overrides", [["Date", "Shift", "Instead of", "Covered by", "Requested at", "Taken at"],
                                          ["2026-11-23", "2", "Bruno Silva", "Dana Kim", "", ""]])
    bot.reload()
    assert [pinged(client, t) for t in start_all(client, 4)] == [DANA, CHEN, HANA, ""]
    answer = say(client, "who", user=CHEN)["text"]
    assert "• Dana Kim (covering for Bruno Silva): holding the ping for RCA-0" in answer
    assert "• Bruno Silva: covered by Dana Kim" in answer


def test_who_for_a_day_ahead_lists_exactly_who_would_be_pinged(client, bot, workbook_dir):
    write_tab(workbook_dir, "Away", [["Manager", "From", "To"], ["Ada Park", "2026-11-24", "2026-11-24"]])
    write_tab(workbook_dir, "Overrides", [["Date", "Shift", "Instead of", "Covered by"],
                                          ["2026-11-24", "2", "Chen Wei", "Farah Haddad"]])
    bot.reload()
    answer = say(client, "who tomorrow", user=CHEN)["text"]
    assert answer.splitlines()[0] == "Tue 24 Nov 2026 (UTC)."
    assert "• Shift 1, 00:00 to 06:00: Bruno Silva, Hana Sato" in answer
    assert "   Ada Park: away until Wed 25 Nov 00:00" in answer
    assert "• Shift 2, 06:00 to 12:00: Bruno Silva, Farah Haddad (covering for Chen Wei), Hana Sato" in answer
    assert "is not a day I can use" in say(client, "who someday", user=CHEN)["text"]


def test_a_bad_away_row_is_reported_with_its_cell_and_the_last_good_tab_stays(client, bot, workbook_dir):
    write_tab(workbook_dir, "Away", [["Manager", "From", "To"], ["Bruno Silva", "2026-11-23", "2026-11-23"]])
    bot.reload()
    write_tab(workbook_dir, "Away", [["Manager", "From", "To"], ["Bruno Silva", "2026-11-23", "2026-11-23"],
                                     ["Zed", "2026-13-01", "yesterday"]])
    bot.reload()
    assert any(p.startswith("Away A3: ") for p in bot.problems)
    assert any(p.startswith("Away B3: ") for p in bot.problems)
    assert BRUNO not in {pinged(client, t) for t in start_all(client, 3)}  # the last good Away tab stands
    bot.flush()
    assert any(row[:2] == ["Problem", "Away A3"] for row in read(workbook_dir / "BotStatus.csv"))


def test_a_bad_configuration_value_for_the_new_parameters_keeps_the_last_good_schedule(client, bot, workbook_dir):
    set_configuration(workbook_dir, Shift2Days="Mon-Fry", HolidayCountry="Atlantis")
    bot.reload()
    assert any(p.startswith("Configuration") and "Shift2Days: 'Mon-Fry': 'fry' is not a day" in p
               for p in bot.problems)
    assert any(p.startswith("Configuration") and "HolidayCountry 'Atlantis'" in p for p in bot.problems)
    assert pinged(client, start_all(client, 1)[0]) == BRUNO  # the schedule in force before


def test_public_holidays_come_from_the_country_named(client, bot, workbook_dir, clock):
    set_configuration(workbook_dir, HolidayCountry="US")
    bot.reload()
    clock.now = clock.now.replace(day=26, hour=7)  # Thanksgiving 2026
    [ticket] = start_all(client, 1)
    assert pinged(client, ticket) == ""
    assert bot.status()["holiday"] == "Thanksgiving Day"


# --- Calendar out of office: the real reader, through google-api-python-client, against the fakes ---

def calendar_reader(clock, emails: list[str]):
    from google.oauth2 import service_account

    from rcabot.availability.calendar_ooo import CALENDAR_SCOPE, CalendarOutOfOffice
    from tests.fakes.calendar_api import CALENDAR, FakeCalendar, FakeDelegation
    from tests.fakes.google import TOKEN_URI, service_account_info
    from tests.fakes.transport import Router

    delegation = FakeDelegation(users=emails)
    calendar = FakeCalendar(delegation)
    for email in emails:
        calendar.add_calendar(email, "UTC")
    credentials = service_account.Credentials.from_service_account_info(service_account_info(),
                                                                        scopes=[CALENDAR_SCOPE])
    http = Router({CALENDAR: calendar.handle, TOKEN_URI: delegation.handle}).http()
    return calendar, CalendarOutOfOffice(credentials, transport=http, clock=clock, sleep=clock.advance)


def test_calendar_out_of_office_is_leave_like_an_away_row(client, bot, workbook_dir, clock):
    from datetime import date

    emails = [m["email"] for m in bot.status()["managers"] if m["email"]]
    calendar, bot.out_of_office = calendar_reader(clock, emails)
    calendar.add_event("bruno.silva@example.com", date(2026, 11, 23), date(2026, 11, 24), summary="Dentist")
    calendar.fail("chen.wei@example.com", 404, times=10)
    set_configuration(workbook_dir, CalendarOutOfOffice="yes")
    bot.reload()
    assert {pinged(client, t) for t in start_all(client, 3)} == {CHEN, HANA, ""}  # Chen's calendar: unreadable
    assert "• Bruno Silva: away until tomorrow 00:00, Dentist (from their calendar)" in say(client, "who",
                                                                                            user=CHEN)["text"]
    [problem] = [p for p in bot.problems if p.startswith("Calendar:")]
    assert "Chen Wei <chen.wei@example.com>" in problem


def test_calendar_out_of_office_in_local_mode_is_reported_not_read(client, bot, workbook_dir):
    set_configuration(workbook_dir, CalendarOutOfOffice="yes")
    bot.reload()
    assert any("CalendarOutOfOffice is yes, but calendars are read only in Google mode" in p for p in bot.problems)


def test_in_google_mode_a_reload_costs_one_read_and_an_away_tab_ops_add_is_read_within_ten_minutes(
        gspace, fake, monkeypatch):
    bot = gspace.bot
    before = len(fake.sheets.calls)
    bot.reload()
    assert [c.kind for c in fake.sheets.calls[before:]] == ["values.batchGet"]  # no tab-list read per reload
    fake.sheets.add_tab("Away", [["Manager", "From", "To"], ["Bruno Silva", "2026-11-23", ""]])
    monkeypatch.setattr("rcabot.workbook.google.TAB_LIST_SECONDS", 0)  # ten minutes on
    bot.reload()
    assert bot.status()["managers"][1]["away"] is not None  # Bruno, the second row


def test_the_calendar_feed_shows_leave_and_cover_and_leaves_them_out_of_who_is_on(client, bot, workbook_dir):
    from icalendar import Calendar

    write_tab(workbook_dir, "Away", [["Manager", "From", "To", "Reason"], ["Chen Wei", "2026-11-24", "", "Course"]])
    write_tab(workbook_dir, "Overrides", [["Date", "Shift", "Instead of", "Covered by"],
                                          ["2026-11-24", "2", "Bruno Silva", "Dana Kim"]])
    bot.reload()
    feed = client.get("/calendar.ics")
    assert feed.status_code == 200
    [tuesday] = [e for e in Calendar.from_ical(feed.data).walk("VEVENT")
                 if e.decoded("DTSTART").isoformat() == "2026-11-24T06:00:00+00:00"]
    assert str(tuesday["SUMMARY"]) == "RCA shift 2: Dana Kim, Hana Sato"
    assert "Away: Chen Wei (Course)" in str(tuesday["DESCRIPTION"])
    assert "Dana Kim covers Bruno Silva" in str(tuesday["DESCRIPTION"])


def test_cover_for_a_shift_that_no_longer_runs_that_day_is_reported_not_lost_in_silence(client, bot, workbook_dir):
    write_tab(workbook_dir, "Overrides", [["Date", "Shift", "Instead of", "Covered by"],
                                          ["2026-11-28", "2", "Bruno Silva", "Dana Kim"]])  # a Saturday
    bot.reload()
    assert not any(p.startswith("Overrides") for p in bot.problems)
    set_configuration(workbook_dir, Shift2Days="Mon-Fri")
    bot.reload()
    assert ("Overrides row 2: Dana Kim covering Bruno Silva on shift 2 of 2026-11-28 matches no shift that runs that "
            "day; it is not used") in bot.problems


def test_calendars_are_read_again_only_after_fifteen_minutes_or_a_change_of_team(client, bot, workbook_dir, clock):
    emails = [m["email"] for m in bot.status()["managers"] if m["email"]]
    calendar, bot.out_of_office = calendar_reader(clock, emails)
    set_configuration(workbook_dir, CalendarOutOfOffice="yes")
    bot.reload()
    calendar.add_event("bruno.silva@example.com", datetime(2026, 11, 23, 7, tzinfo=timezone.utc),
                       datetime(2026, 11, 23, 12, tzinfo=timezone.utc), summary="Dentist")
    clock.advance(60)
    bot.reload()  # a minute later: the calendars as read before
    assert bot.status()["managers"][1]["away"] is None
    clock.advance(15 * 60)
    bot.reload()
    assert bot.status()["managers"][1]["away"]["reason"] == "Dentist"
