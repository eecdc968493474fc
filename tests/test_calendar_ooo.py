"""The Calendar out-of-office reader, through the real google-api-python-client and google-auth
(a real service account key, a real signed assertion per manager) against a fake Calendar API and
a fake token endpoint that issues one token per delegated user."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import google_auth_httplib2
import httplib2
import pytest
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from rcabot.availability import Away
from rcabot.availability.calendar_ooo import CALENDAR_SCOPE, CalendarOutOfOffice
from rcabot.model import Manager
from tests.fakes.calendar_api import CALENDAR, FakeCalendar, FakeDelegation
from tests.fakes.clock import FakeClock
from tests.fakes.google import TOKEN_URI, service_account_info
from tests.fakes.transport import Router

BERLIN = ZoneInfo("Europe/Berlin")
DANA = Manager("Dana Kim", "users/101", "dana@example.com")
LEE = Manager("Lee Park", "users/102", "lee@example.com")
SAM = Manager("Sam Roy", "users/103", "sam@example.com")
TEAM = (DANA, LEE, SAM)
START = datetime(2026, 12, 21, tzinfo=timezone.utc)
END = START + timedelta(days=14)


@pytest.fixture
def delegation() -> FakeDelegation:
    return FakeDelegation(users=[m.email for m in TEAM])


@pytest.fixture
def calendar(delegation) -> FakeCalendar:
    fake = FakeCalendar(delegation)
    for manager in TEAM:
        fake.add_calendar(manager.email, "Europe/Berlin")
    return fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def reader(calendar, delegation, clock, waits):
    return make_reader(calendar, delegation, clock, waits)


def make_reader(calendar, delegation, clock, waits, http=None, **options) -> CalendarOutOfOffice:
    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    http = http or wire(calendar, delegation)
    credentials = service_account.Credentials.from_service_account_info(service_account_info(),
                                                                        scopes=[CALENDAR_SCOPE])
    return CalendarOutOfOffice(credentials, transport=http, clock=clock, sleep=sleep, **options)


def wire(calendar, delegation):
    return Router({CALENDAR: calendar.handle, TOKEN_URI: delegation.handle}).http()


class BrokenFor:
    """The wire, broken for the requests to one calendar: `answer(uri)` stands in for the reply."""

    def __init__(self, http, calendar_id: str, answer):
        self.http, self.path, self.answer = http, "/calendars/" + calendar_id.replace("@", "%40") + "/", answer

    def request(self, uri, *args, **kwargs):
        return self.answer(uri) if self.path in uri else self.http.request(uri, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.http, name)


def berlin(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


def test_a_timed_out_of_office_is_away_for_exactly_its_instants(calendar, reader):
    calendar.add_event(DANA.email, berlin(22, 13), berlin(22, 17, 30), summary="Dentist")
    away, problems = reader.read([DANA], START, END)
    assert away == (Away("users/101", berlin(22, 13), berlin(22, 17, 30), "Dentist", "calendar"),)
    assert problems == []


def test_an_all_day_out_of_office_spans_whole_days_in_the_calendars_time_zone(calendar, reader):
    calendar.add_event(DANA.email, date(2026, 12, 24), date(2026, 12, 27), summary="  ")
    (absence,), _ = reader.read([DANA], START, END)
    assert (absence.start, absence.end) == (berlin(24), berlin(27))
    assert absence.start.utcoffset() == timedelta(hours=1)  # Berlin's midnight, not UTC's
    assert absence.reason == "Out of office"  # a blank title
    assert absence.covers(berlin(26, 23, 59)) and not absence.covers(berlin(27))


def test_a_time_without_offset_is_read_in_the_events_own_time_zone(calendar, reader):
    new_york = ZoneInfo("America/New_York")
    calendar.answer(DANA.email, {"kind": "calendar#events", "timeZone": "Europe/Berlin", "items": [
        {"id": "ev1", "status": "confirmed", "eventType": "outOfOffice", "summary": "Flight",
         "start": {"dateTime": "2026-12-22T09:00:00", "timeZone": "America/New_York"},
         "end": {"dateTime": "2026-12-22T17:00:00", "timeZone": "America/New_York"}}]})
    (absence,), _ = reader.read([DANA], START, END)
    assert absence.start == datetime(2026, 12, 22, 9, tzinfo=new_york)
    assert absence.end == datetime(2026, 12, 22, 17, tzinfo=new_york)


def test_the_list_asks_for_out_of_office_occurrences_in_the_window_ordered(calendar, reader):
    reader.read([DANA], START, END)
    (call,) = calendar.calls
    assert call.calendar == DANA.email
    assert call.query["eventTypes"] == ["outOfOffice"]
    assert (call.param("timeMin"), call.param("timeMax")) == ("2026-12-21T00:00:00Z", "2027-01-04T00:00:00Z")
    assert (call.param("singleEvents"), call.param("orderBy")) == ("true", "startTime")


def test_other_event_types_and_events_outside_the_window_are_not_read(calendar, reader):
    calendar.add_event(DANA.email, berlin(22, 9), berlin(22, 10), summary="Standup", event_type="default")
    calendar.add_event(DANA.email, berlin(23, 9), berlin(23, 12), summary="Deep work", event_type="focusTime")
    calendar.add_event(DANA.email, berlin(1, 9), berlin(1, 12), summary="Long gone")
    calendar.add_event(DANA.email, berlin(23, 14), berlin(23, 15), summary="Off")
    away, _ = reader.read([DANA], START, END)
    assert [a.reason for a in away] == ["Off"]


def test_every_page_is_followed(delegation, clock, waits):
    calendar = FakeCalendar(delegation, page_size=2)
    calendar.add_calendar(DANA.email, "Europe/Berlin")
    for day in (28, 22, 26, 24, 30):
        calendar.add_event(DANA.email, berlin(day, 9), berlin(day, 12), summary=f"Off {day}")
    away, problems = make_reader(calendar, delegation, clock, waits).read([DANA], START, END)
    assert [a.reason for a in away] == ["Off 22", "Off 24", "Off 26", "Off 28", "Off 30"]
    assert len(calendar.calls) == 3 and calendar.calls[2].param("pageToken")
    assert problems == []


def test_cancelled_events_are_skipped(calendar, reader):
    kept = calendar.add_event(DANA.email, berlin(22, 9), berlin(22, 12), summary="Kept")
    gone = calendar.add_event(DANA.email, berlin(23, 9), berlin(23, 12), summary="Called off")
    calendar.answer(DANA.email, {"kind": "calendar#events", "timeZone": "Europe/Berlin",
                                 "items": [kept, dict(gone, status="cancelled"), {"id": "x1", "status": "cancelled"}]})
    away, problems = reader.read([DANA], START, END)
    assert [a.reason for a in away] == ["Kept"] and problems == []


def test_a_cancelled_event_is_not_listed_by_calendar_either(calendar, reader):
    event = calendar.add_event(DANA.email, berlin(22, 9), berlin(22, 12))
    calendar.cancel(DANA.email, event["id"])
    assert reader.read([DANA], START, END) == ((), [])


def test_each_calendar_is_read_as_its_owner(calendar, delegation, reader):
    for manager in TEAM:
        calendar.add_event(manager.email, berlin(22, 9), berlin(22, 12), summary=manager.name)
    away, problems = reader.read(TEAM, START, END)
    assert [(call.calendar, call.user) for call in calendar.calls] == [(m.email, m.email) for m in TEAM]
    assert {user for user, _ in delegation.issued.values()} == {m.email for m in TEAM}
    assert [(a.manager, a.reason) for a in away] == [(m.chat_id, m.name) for m in TEAM]
    assert problems == []


def test_a_users_token_is_kept_for_the_next_read(delegation, reader):
    reader.read([DANA], START, END)
    reader.read([DANA], START, END)
    assert len(delegation.issued) == 1


def test_a_refused_calendar_gives_one_problem_and_the_others_are_still_read(calendar, reader):
    for manager in TEAM:
        calendar.add_event(manager.email, berlin(22, 9), berlin(22, 12), summary=manager.name)
    calendar.fail(LEE.email, 403)
    away, problems = reader.read(TEAM, START, END)
    assert [a.manager for a in away] == [DANA.chat_id, SAM.chat_id]
    assert problems == ["Calendar: cannot read out-of-office for Lee Park <lee@example.com>: Calendar refuses "
                        "this user their own calendar (403 forbidden); check that Google Calendar is on for them "
                        "in the Admin console"]


def test_a_failure_on_a_later_page_drops_the_managers_earlier_pages(delegation, clock, waits):
    calendar = FakeCalendar(delegation, page_size=1)
    calendar.add_calendar(DANA.email)
    calendar.add_event(DANA.email, berlin(22, 9), berlin(22, 12))
    calendar.add_event(DANA.email, berlin(23, 9), berlin(23, 12))
    calendar.fail(DANA.email, 500, after=1)
    away, (problem,) = make_reader(calendar, delegation, clock, waits).read([DANA], START, END)
    assert away == () and "the Calendar API failed (500 backendError)" in problem
    assert len(calendar.calls) == 2


def test_delegation_not_granted_is_said_in_words_an_admin_can_act_on(calendar, delegation, reader):
    delegation.granted = {"https://www.googleapis.com/auth/calendar.readonly"}
    away, problems = reader.read([DANA, LEE], START, END)
    assert away == () and len(problems) == 2 and calendar.calls == []
    assert problems[0] == (
        "Calendar: cannot read out-of-office for Dana Kim <dana@example.com>: domain-wide delegation is not "
        "granted for this scope (unauthorized_client); in the Admin console, Security > Access and data "
        "control > API controls > Domain-wide delegation, allow the service account's client ID the scope "
        "https://www.googleapis.com/auth/calendar.events.readonly")


@pytest.mark.parametrize("status, reason, words", [
    (404, None, "there is no calendar for this address (404 notFound); check the Email in the Managers tab"),
    (429, None, "the Calendar API quota is used up (429 rateLimitExceeded); it is read again at the next reload"),
    (403, "userRateLimitExceeded", "the Calendar API quota is used up (403 userRateLimitExceeded)"),
    (403, "accessNotConfigured", "the Calendar API is not enabled in the service account's Google Cloud project"),
    (500, None, "the Calendar API failed (500 backendError); it is read again at the next reload"),
])
def test_each_refusal_is_explained(calendar, reader, status, reason, words):
    calendar.fail(DANA.email, status, reason)
    away, (problem,) = reader.read([DANA], START, END)
    assert away == () and problem.startswith("Calendar: cannot read out-of-office for Dana Kim <dana@example.com>: ")
    assert words in problem


def test_an_address_outside_the_domain_is_reported(calendar, reader):
    stranger = Manager("Kim Out", "users/109", "kim@elsewhere.example")
    _, (problem,) = reader.read([stranger], START, END)
    assert "Google will not issue a token as this user (invalid_grant: Invalid email or User ID)" in problem


def test_a_network_failure_is_reported_and_the_next_manager_still_read(calendar, delegation, clock, waits):
    def timeout(uri):
        raise TimeoutError("timed out")

    calendar.add_event(LEE.email, berlin(22, 9), berlin(22, 12))
    http = BrokenFor(wire(calendar, delegation), DANA.email, timeout)
    reader = make_reader(calendar, delegation, clock, waits, http=http)
    away, (problem,) = reader.read([DANA, LEE], START, END)
    assert [a.manager for a in away] == [LEE.chat_id]
    assert problem.endswith("cannot reach Google (TimeoutError); it is read again at the next reload")
    assert (reader.calls.sent, reader.calls.failed) == (2, 1)


@pytest.mark.parametrize("content", [b"<html>Sign in</html>", b"\xff\xfe\x00"])
def test_an_answer_that_is_not_json_is_malformed(calendar, delegation, clock, waits, content):
    def garbage(uri):
        return httplib2.Response({"status": "200", "content-type": "text/html"}), content

    http = BrokenFor(wire(calendar, delegation), DANA.email, garbage)
    away, (problem,) = make_reader(calendar, delegation, clock, waits, http=http).read([DANA], START, END)
    assert away == () and problem.endswith("the Calendar API's answer is malformed (not a list of events)")


@pytest.mark.parametrize("body", [
    {"kind": "calendar#events", "items": {"id": "ev1"}},
    {"kind": "calendar#events", "timeZone": "Europe/Berlin", "items": [{"id": "ev1", "eventType": "outOfOffice",
                                                                        "start": {"dateTime": "tomorrow"},
                                                                        "end": {"dateTime": "later"}}]},
    {"kind": "calendar#events", "items": [{"id": "ev1", "eventType": "outOfOffice", "start": {"date": "2026-12-24"},
                                           "end": {"date": "2026-12-25"}}]},  # all-day, and no calendar zone
    {"kind": "calendar#events", "timeZone": "Europe/Berlin", "items": [
        {"id": "ev1", "eventType": "outOfOffice", "start": {"date": "2026-12-25"}, "end": {"date": "2026-12-24"}}]},
    {"kind": "calendar#events", "items": [], "nextPageToken": "same"},
])
def test_a_malformed_answer_gives_one_problem_and_no_absence(calendar, reader, body):
    calendar.answer(DANA.email, body, times=2)
    away, (problem,) = reader.read([DANA], START, END)
    assert away == ()
    assert problem.startswith("Calendar: cannot read out-of-office for Dana Kim <dana@example.com>: "
                              "the Calendar API's answer is malformed")


def test_managers_without_email_are_listed_in_one_problem_and_inactive_ones_ignored(calendar, reader):
    team = [DANA, Manager("Ann Lo", "users/104"), Manager("Bo Wu", "users/105", " "),
            Manager("Cy Ng", "users/106", "cy@example.com", active=False), Manager("Di Oh", "users/107", active=False)]
    _, problems = reader.read(team, START, END)
    assert problems == ["Calendar: no Email in the Managers tab for Ann Lo, Bo Wu; their out-of-office is not read"]
    assert [call.calendar for call in calendar.calls] == [DANA.email]


def test_calls_are_spread_evenly_at_the_default_pace(reader, waits):
    reader.read(TEAM, START, END)
    assert waits == [0.5, 0.5]  # 120 a minute


def test_managers_over_the_limit_wait_for_the_window(calendar, delegation, clock, waits):
    reader = make_reader(calendar, delegation, clock, waits, calls_per_minute=2)
    reader.read(TEAM, START, END)
    # 30 s apart, and the third waits until the first has left the window (a minute and a second)
    assert waits == [30, 31]
    reader.read([DANA], START, END)
    assert waits == [30, 31, 30]


def test_no_token_reaches_the_problems_or_the_log(calendar, delegation, reader, caplog):
    calendar.fail(DANA.email, 403)
    calendar.fail(LEE.email, 500)
    with caplog.at_level(logging.DEBUG):
        _, problems = reader.read(TEAM, START, END)
    assert len(problems) == 2 and delegation.issued
    for token in delegation.issued:
        assert token not in " ".join(problems) and token not in caplog.text


def test_naive_window_is_refused(reader):
    with pytest.raises(ValueError, match="time-zone-aware"):
        reader.read([DANA], datetime(2026, 12, 21), END)


# The fake itself, through the real client: what the reader relies on is what Calendar documents.

def events_as(user: str, calendar, delegation):
    credentials = service_account.Credentials.from_service_account_info(
        service_account_info(), scopes=[CALENDAR_SCOPE]).with_subject(user)
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=wire(calendar, delegation))
    return build("calendar", "v3", http=http, static_discovery=True, cache_discovery=False).events()


def test_the_fake_pages_by_max_results_and_ends_with_a_sync_token(calendar, delegation):
    for day in (22, 23, 24):
        calendar.add_event(DANA.email, berlin(day, 9), berlin(day, 10))
    events = events_as(DANA.email, calendar, delegation)
    first = events.list(calendarId="primary", maxResults=2).execute()
    last = events.list(calendarId="primary", maxResults=2, pageToken=first["nextPageToken"]).execute()
    assert (len(first["items"]), len(last["items"])) == (2, 1)
    assert first["kind"] == "calendar#events" and first["timeZone"] == "Europe/Berlin"
    assert "nextPageToken" not in last and last["nextSyncToken"]


def test_the_fakes_time_bounds_are_exclusive(calendar, delegation):
    calendar.add_event(DANA.email, berlin(20, 9), berlin(21, 1), summary="ends at timeMin")
    calendar.add_event(DANA.email, berlin(22, 9), berlin(22, 10), summary="inside")
    calendar.add_event(DANA.email, berlin(23, 1), berlin(23, 9), summary="starts at timeMax")
    page = events_as(DANA.email, calendar, delegation).list(
        calendarId=DANA.email, timeMin=berlin(21, 1).isoformat(), timeMax=berlin(23, 1).isoformat()).execute()
    assert [e["summary"] for e in page["items"]] == ["inside"]


def test_the_fake_refuses_what_calendar_refuses(calendar, delegation):
    events = events_as(DANA.email, calendar, delegation)
    with pytest.raises(HttpError) as ordering:
        events.list(calendarId="primary", orderBy="startTime").execute()
    with pytest.raises(HttpError) as someone_else:
        events.list(calendarId=LEE.email).execute()
    with pytest.raises(HttpError) as empty:
        events.list(calendarId="primary", timeMin="2026-12-22T00:00:00Z", timeMax="2026-12-21T00:00:00Z").execute()
    assert (ordering.value.status_code, someone_else.value.status_code, empty.value.status_code) == (400, 404, 400)
    assert "time range is empty" in empty.value.reason
