"""Managers' out-of-office, read from their Google Calendars (Google mode, `CalendarOutOfOffice: yes`).

The service account reads each manager's calendar as that manager: domain-wide delegation, which a
Workspace super admin grants to the service account's client ID for CALENDAR_SCOPE. It asks
`events.list` for out-of-office events only, recurring ones expanded into their occurrences, and
follows every page.

Time zones: a timed event is the instants it names. An all-day event (`start.date`) runs from
midnight to midnight in the calendar's own time zone, the list's `timeZone` (the reader asks for no
other), because that is where its owner sees the day begin; the event's `start.timeZone` is not
used for dates, as Calendar ignores it for all-day events.

A calendar that cannot be read costs its manager nothing: one problem line says why, in words an
admin can act on, and the manager counts as present. No access token ever goes into a problem or
the log.

Pacing: Calendar allows 600 requests a minute per user and 10,000 per project (usage-limits page,
sliding windows). Each manager is a different user here, so the project's quota is the one this
reader shares with everything else the project runs; CALLS_PER_MINUTE stays far inside both, and
the calls are spread evenly rather than sent in a burst.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as midnight_time
from typing import Callable, Iterator, Sequence
from zoneinfo import ZoneInfo

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ..metrics import GoogleCalls
from ..model import Manager
from ..pacing import Pace
from . import Away

log = logging.getLogger(__name__)
CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.events.readonly"
CALLS_PER_MINUTE = 120
DEFAULT_REASON = "Out of office"
QUOTA_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded",
                           "RATE_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED"})
DISABLED_REASONS = frozenset({"accessNotConfigured", "SERVICE_DISABLED"})
AGAIN = "it is read again at the next reload"


class CalendarError(Exception):
    """Why one calendar could not be read, in an admin's words."""


class CalendarOutOfOffice:
    def __init__(self, credentials, *, endpoint: str | None = None, timeout: float = 30, transport=None,
                 calls_per_minute: int = CALLS_PER_MINUTE, clock: Callable[[], datetime] | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        """`credentials`: the service account's, scoped to CALENDAR_SCOPE (they must support
        `with_subject`); `transport`: the httplib2.Http to send through (tests pass a fake);
        `endpoint` replaces https://www.googleapis.com/calendar/v3/ (the whole base, version included);
        `calls_per_minute`, `clock` and `sleep` pace the calls."""
        self._credentials = credentials
        self._transport = transport or httplib2.Http(timeout=timeout)
        options = {"api_endpoint": endpoint} if endpoint else None
        self._events = build("calendar", "v3", http=self._transport, client_options=options,
                             static_discovery=True, cache_discovery=False).events()
        self._as_user: dict[str, google_auth_httplib2.AuthorizedHttp] = {}  # keeps each user's token for its hour
        self._pace = Pace(calls_per_minute, spacing=timedelta(seconds=60 / calls_per_minute))
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._sleep = sleep
        self._lock = threading.Lock()  # an httplib2.Http is not safe to share between threads
        self.calls = GoogleCalls()  # for /metrics

    def read(self, managers: Sequence[Manager], start: datetime, end: datetime
             ) -> tuple[tuple[Away, ...], list[str]]:
        """The out-of-office of the active managers that overlaps [start, end) (aware instants),
        and one problem line per calendar that could not be read (plus one for missing emails)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be time-zone-aware")
        away: list[Away] = []
        problems: list[str] = []
        with self._lock:
            for manager in managers:
                if manager.active and manager.email.strip():
                    away.extend(self._read_or_report(manager, start, end, problems))
        unlisted = [m.name for m in managers if m.active and not m.email.strip()]
        if unlisted:
            problems.append(f"Calendar: no Email in the Managers tab for {', '.join(unlisted)}; "
                            "their out-of-office is not read")
        return tuple(away), problems

    def _read_or_report(self, manager: Manager, start: datetime, end: datetime, problems: list[str]) -> list[Away]:
        try:
            return self._read_one(manager, start, end)
        except CalendarError as exc:
            problem = f"Calendar: cannot read out-of-office for {manager.name} <{manager.email.strip()}>: {exc}"
            log.warning("%s", problem)
            problems.append(problem)
            return []

    def _read_one(self, manager: Manager, start: datetime, end: datetime) -> list[Away]:
        away = []
        for page in self._pages(manager.email.strip(), start, end):
            for event in _items(page):
                if event.get("status") != "cancelled" and event.get("eventType", "default") == "outOfOffice":
                    away.append(_away(manager.chat_id, event, page.get("timeZone")))
        return away

    def _pages(self, email: str, start: datetime, end: datetime) -> Iterator[dict]:
        token, seen = None, set()
        while True:
            request = self._events.list(calendarId=email, eventTypes=["outOfOffice"], timeMin=_rfc3339(start),
                                        timeMax=_rfc3339(end), singleEvents=True, orderBy="startTime",
                                        pageToken=token)
            page = self._execute(request, email)
            yield page
            token = page.get("nextPageToken")
            if not token:
                return
            if token in seen:
                raise CalendarError("the Calendar API's answer is malformed (it sends the same page again)")
            seen.add(token)

    def _execute(self, request, email: str) -> dict:
        self._wait_turn()
        try:
            page = request.execute(http=self._http_as(email), num_retries=0)  # read again at the next reload
        except HttpError as exc:
            self.calls.count(exc.status_code or 0)
            raise CalendarError(_explain(exc)) from None
        except google.auth.exceptions.RefreshError as exc:  # no request reached Calendar: not counted
            raise CalendarError(_token_problem(exc)) from None
        except (google.auth.exceptions.TransportError, httplib2.HttpLib2Error, OSError) as exc:
            self.calls.count(0)
            raise CalendarError(f"cannot reach Google ({type(exc).__name__}); {AGAIN}") from None
        except ValueError:  # a body that is not UTF-8 (one that is not JSON comes back as a str)
            page = None
        self.calls.count(200)
        if not isinstance(page, dict):
            raise CalendarError("the Calendar API's answer is malformed (not a list of events)")
        return page

    def _wait_turn(self) -> None:
        wait = self._pace.delay(self._clock())
        if wait > 0:
            self._sleep(wait)
        self._pace.record(self._clock())

    def _http_as(self, email: str) -> google_auth_httplib2.AuthorizedHttp:
        if email not in self._as_user:
            self._as_user[email] = google_auth_httplib2.AuthorizedHttp(self._credentials.with_subject(email),
                                                                       http=self._transport)
        return self._as_user[email]


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _items(page: dict) -> list[dict]:
    items = page.get("items", [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise CalendarError("the Calendar API's answer is malformed (its items are not events)")
    return items


def _away(chat_id: str, event: dict, calendar_zone: str | None) -> Away:
    try:
        start = _instant(event["start"], calendar_zone)
        end = _instant(event["end"], calendar_zone)
    except (KeyError, TypeError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise CalendarError(f"the Calendar API's answer is malformed (event {event.get('id', '?')!r}: "
                            f"unreadable start or end)") from exc
    if end <= start:
        raise CalendarError(f"the Calendar API's answer is malformed (event {event.get('id', '?')!r} "
                            "ends before it starts)")
    summary = event.get("summary")
    reason = summary.strip() if isinstance(summary, str) and summary.strip() else DEFAULT_REASON
    return Away(manager=chat_id, start=start, end=end, reason=reason, source="calendar")


def _instant(when: dict, calendar_zone: str | None) -> datetime:
    """An EventDateTime as an aware instant; a date is that day's midnight in the calendar's zone."""
    if "dateTime" in when:
        moment = datetime.fromisoformat(when["dateTime"])
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(when.get("timeZone") or calendar_zone))
    return datetime.combine(date.fromisoformat(when["date"]), midnight_time(), ZoneInfo(calendar_zone))


def _explain(exc: HttpError) -> str:
    status, reason = exc.status_code or 0, _reason(exc)
    said = f"{status} {reason}".strip()
    if status == 401:
        return f"the Calendar API refused the service account's access token ({said}); check the service account key"
    if status == 429 or (status == 403 and reason in QUOTA_REASONS):
        return f"the Calendar API quota is used up ({said}); {AGAIN}"
    if status == 403 and reason in DISABLED_REASONS:
        return (f"the Calendar API is not enabled in the service account's Google Cloud project ({said}); "
                "enable it in the Cloud console")
    if status == 403 and reason == "insufficientPermissions":
        return f"the access token does not carry the scope {CALENDAR_SCOPE} ({said}); check the bot's credentials"
    if status == 403:
        return (f"Calendar refuses this user their own calendar ({said}); check that Google Calendar is on "
                "for them in the Admin console")
    if status == 404:
        return f"there is no calendar for this address ({said}); check the Email in the Managers tab"
    if status >= 500:
        return f"the Calendar API failed ({said}); {AGAIN}"
    return f"the Calendar API answered {said}"


def _reason(exc: HttpError) -> str:
    """Calendar's error reason (`errors[0].reason`), or the newer `ErrorInfo` reason, or the status."""
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
        reasons = [e.get("reason") for e in error.get("errors", []) + error.get("details", [])]
        return next((r for r in reasons if isinstance(r, str) and r), error.get("status") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


def _token_problem(exc: google.auth.exceptions.RefreshError) -> str:
    """The token endpoint's error code and description: they never hold a token."""
    answer = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    code, description = answer.get("error", ""), answer.get("error_description", "")
    if code == "unauthorized_client":
        return ("domain-wide delegation is not granted for this scope (unauthorized_client); in the Admin "
                "console, Security > Access and data control > API controls > Domain-wide delegation, allow "
                f"the service account's client ID the scope {CALENDAR_SCOPE}")
    if code == "invalid_grant":
        return (f"Google will not issue a token as this user (invalid_grant: {description}); check the Email in "
                "the Managers tab and that it is a user of your Workspace domain")
    return f"cannot get an access token as this user ({code or 'no usable answer'}); {AGAIN}"
