"""A stateful fake of Google Calendar API v3 `events.list`, and of the OAuth token endpoint as it
answers a service account acting for a user of its domain (domain-wide delegation).

Serve both to the REAL google-api-python-client and google-auth through `tests.fakes.transport.Router`:

    delegation = FakeDelegation(users=["dana@example.com"])
    calendar = FakeCalendar(delegation)
    http = Router({CALENDAR: calendar.handle, TOKEN_URI: delegation.handle}).http()

What it models (shapes from the bundled calendar.v3 discovery document):

- the token endpoint reads the signed assertion's `sub` and `scope`: it issues a distinct token per
  user, answers 401 `unauthorized_client` when the scope is not among those delegated, and 400
  `invalid_grant` ("Invalid email or User ID") for an address that is no user of the domain;
- `events.list` on `calendars/{calendarId}/events`: the bearer token must be one it issued (401
  authError), carry a scope of events.list (403 insufficientPermissions), and belong to the
  calendar's owner (`primary` is the token's user; anyone else gets 404 notFound, as Calendar answers
  for a calendar one cannot see);
- parameters: `eventTypes` (repeated, enum), `timeMin` (exclusive bound on the end), `timeMax`
  (exclusive bound on the start), both RFC 3339 with an offset; `singleEvents`, `orderBy=startTime`
  (400 without singleEvents), `showDeleted` (cancelled events are left out unless it is true),
  `maxResults` (default 250, at most 2500) and `pageToken`; the fake's own `page_size` can make
  pages smaller still, as Calendar may;
- the Events resource (`kind` calendar#events, `timeZone` the calendar's, `items`, `nextPageToken`
  or, on the last page, `nextSyncToken`) and Event resources (`start`/`end` as `date` or `dateTime`
  with an offset and `timeZone`);
- errors in Calendar's envelope (`error.errors[].domain/reason/message`, `code`, `message`), and
  chosen answers for chosen calendars (`fail`, `answer`).
"""
from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from .google import _unverified_claims
from .transport import FakeRequest

CALENDAR = "https://www.googleapis.com/calendar/v3/"
EVENT_TYPES = frozenset({"birthday", "default", "focusTime", "fromGmail", "outOfOffice", "workingLocation"})
LIST_SCOPES = frozenset(f"https://www.googleapis.com/auth/{name}" for name in (
    "calendar", "calendar.app.created", "calendar.events", "calendar.events.freebusy", "calendar.events.owned",
    "calendar.events.owned.readonly", "calendar.events.public.readonly", "calendar.events.readonly",
    "calendar.readonly"))
DEFAULT_PAGE, MAX_PAGE = 250, 2500
ERRORS = {  # status -> (domain, reason, message) as Calendar sends them
    400: ("global", "badRequest", "Bad Request"),
    401: ("global", "authError", "Invalid Credentials"),
    403: ("global", "forbidden", "Forbidden"),
    404: ("global", "notFound", "Not Found"),
    429: ("usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("global", "backendError", "Backend Error"),
    503: ("global", "backendError", "Backend Error"),
}


def calendar_error(status: int, reason: str | None = None, message: str | None = None,
                   domain: str | None = None) -> tuple[int, dict]:
    default_domain, default_reason, default_message = ERRORS.get(status, ("global", "unknown", "Error"))
    error = {"domain": domain or default_domain, "reason": reason or default_reason,
             "message": message or default_message}
    return status, {"error": {"errors": [error], "code": status, "message": error["message"]}}


class FakeDelegation:
    """The OAuth 2.0 token endpoint (JWT-bearer grant) for a service account acting as users."""

    def __init__(self, users, granted=("https://www.googleapis.com/auth/calendar.events.readonly",)):
        self.users = set(users)  # the domain's users
        self.granted = set(granted)  # the scopes the admin delegated to the service account
        self.issued: dict[str, tuple[str, frozenset[str]]] = {}  # token -> (user, scopes)

    def handle(self, request: FakeRequest) -> tuple[int, dict]:
        form = parse_qs(request.body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or not form.get("assertion"):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT grant"}
        claims = _unverified_claims(form["assertion"][0])
        user, scopes = claims.get("sub", ""), frozenset(claims.get("scope", "").split())
        if user and not scopes <= self.granted:
            return 401, {"error": "unauthorized_client",
                         "error_description": "Client is unauthorized to retrieve access tokens using this "
                                              "method, or client not authorized for any of the scopes requested."}
        if user and user not in self.users:
            return 400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"}
        token = f"ya29.fake-{secrets.token_urlsafe(16)}"
        self.issued[token] = (user, scopes)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}


@dataclass
class CalendarCall:
    calendar: str  # as in the URL ("primary" or an address)
    query: dict[str, list[str]]
    user: str | None  # whose token it carried (None: no token the fake issued)
    status: int = 0

    def param(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]


@dataclass
class _Calendar:
    time_zone: str
    events: list[dict] = field(default_factory=list)
    answers: list[tuple[int, dict] | None] = field(default_factory=list)  # in order; None: the real list


class FakeCalendar:
    def __init__(self, delegation: FakeDelegation, *, page_size: int = DEFAULT_PAGE):
        self.delegation = delegation
        self.page_size = page_size
        self.calendars: dict[str, _Calendar] = {}
        self.calls: list[CalendarCall] = []
        self._ids = 0

    def add_calendar(self, calendar_id: str, time_zone: str = "UTC") -> None:
        self.calendars[calendar_id] = _Calendar(time_zone)

    def add_event(self, calendar_id: str, start: date | datetime, end: date | datetime, *, summary: str = "",
                  event_type: str = "outOfOffice", status: str = "confirmed") -> dict:
        """An event as Calendar stores it; a datetime is shown in the calendar's zone, a date is all-day."""
        calendar = self.calendars[calendar_id]
        self._ids += 1
        event = {"kind": "calendar#event", "etag": f'"{3000000000000000 + self._ids}"', "id": f"ev{self._ids:06d}",
                 "status": status, "htmlLink": f"https://www.google.com/calendar/event?eid=ev{self._ids:06d}",
                 "created": "2026-11-01T09:00:00.000Z", "updated": "2026-11-01T09:00:00.000Z",
                 "creator": {"email": calendar_id, "self": True}, "organizer": {"email": calendar_id, "self": True},
                 "start": _when(start, calendar.time_zone), "end": _when(end, calendar.time_zone),
                 "iCalUID": f"ev{self._ids:06d}@google.com", "sequence": 0, "reminders": {"useDefault": False},
                 "eventType": event_type}
        if summary:
            event["summary"] = summary
        if event_type == "outOfOffice":
            event["outOfOfficeProperties"] = {"autoDeclineMode": "declineAllConflictingInvitations",
                                              "declineMessage": "Declined because I am out of office"}
        calendar.events.append(event)
        return event

    def cancel(self, calendar_id: str, event_id: str) -> None:
        for event in self.calendars[calendar_id].events:
            if event["id"] == event_id:
                event["status"] = "cancelled"

    def fail(self, calendar_id: str, status: int, reason: str | None = None, *, times: int = 1, after: int = 0,
             domain: str | None = None) -> None:
        """After `after` lists served as usual, the next `times` lists of this calendar get an error in
        Calendar's envelope."""
        self.answer(calendar_id, calendar_error(status, reason, domain=domain)[1], status=status, times=times,
                    after=after)

    def answer(self, calendar_id: str, body, *, status: int = 200, times: int = 1, after: int = 0) -> None:
        """After `after` lists served as usual, the next `times` lists of this calendar get `body`,
        whatever it is (a malformed answer)."""
        self.calendars[calendar_id].answers.extend([None] * after + [(status, body)] * times)

    def handle(self, request: FakeRequest) -> tuple[int, dict]:
        segments = request.segments  # calendar, v3, calendars, {calendarId}, events
        if request.method != "GET" or len(segments) != 5 or segments[2:5:2] != ["calendars", "events"]:
            return calendar_error(404)
        user, scopes = self.delegation.issued.get(request.bearer, (None, frozenset()))
        call = CalendarCall(segments[3], request.query, user)
        self.calls.append(call)
        call.status, body = self._list(call, scopes)
        return call.status, body

    def _list(self, call: CalendarCall, scopes: frozenset[str]) -> tuple[int, dict]:
        if call.user is None:
            return calendar_error(401)
        if not scopes & LIST_SCOPES:
            return calendar_error(403, "insufficientPermissions", "Request had insufficient authentication scopes.")
        calendar_id = call.user if call.calendar == "primary" else call.calendar
        calendar = self.calendars.get(calendar_id)
        if calendar is None or calendar_id != call.user:
            return calendar_error(404)
        if calendar.answers and (chosen := calendar.answers.pop(0)):
            return chosen
        try:
            return 200, self._page(calendar, call)
        except ValueError as exc:
            return calendar_error(400, *exc.args)

    def _page(self, calendar: _Calendar, call: CalendarCall) -> dict:
        events = _matching(calendar, call)
        try:
            size = min(int(call.param("maxResults", str(DEFAULT_PAGE))), MAX_PAGE, self.page_size)
        except ValueError:
            size = 0
        if size < 1:
            raise ValueError("invalid", "Invalid value for maxResults")
        offset = _offset(call.param("pageToken"), call.calendar) if call.param("pageToken") else 0
        page = {"kind": "calendar#events", "etag": '"p32cdpl9qsbbf80o"', "summary": call.calendar,
                "description": "", "updated": "2026-11-01T09:00:00.000Z", "timeZone": calendar.time_zone,
                "accessRole": "owner", "defaultReminders": [], "items": events[offset:offset + size]}
        if offset + size < len(events):
            page["nextPageToken"] = _token(offset + size, call.calendar)
        else:
            page["nextSyncToken"] = "CPDAlvWDx70CEPDAlvWDx70CGAU="
        return page


def _when(moment: date | datetime, zone: str) -> dict:
    if isinstance(moment, datetime):
        return {"dateTime": moment.astimezone(ZoneInfo(zone)).isoformat(), "timeZone": zone}
    return {"date": moment.isoformat()}


def _instant(when: dict, zone: str) -> datetime:
    if "dateTime" in when:
        return datetime.fromisoformat(when["dateTime"])
    return datetime.combine(date.fromisoformat(when["date"]), time(), ZoneInfo(zone))


def _bound(call: CalendarCall, name: str) -> datetime | None:
    text = call.param(name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError("invalid", f"Bad Request: {name} must be an RFC3339 timestamp with a time zone offset")
    return moment


def _matching(calendar: _Calendar, call: CalendarCall) -> list[dict]:
    low, high = _bound(call, "timeMin"), _bound(call, "timeMax")
    if low and high and low >= high:
        raise ValueError("timeRangeEmpty", "The specified time range is empty.")
    types = call.query.get("eventTypes", [])
    if any(kind not in EVENT_TYPES for kind in types):
        raise ValueError("invalid", "Invalid value for eventTypes")
    ordered = call.param("orderBy") == "startTime"
    if ordered and call.param("singleEvents") != "true":
        raise ValueError("badRequest", "The requested ordering is not available for the particular query.")
    show_deleted = call.param("showDeleted") == "true"
    events = [e for e in calendar.events
              if (not types or e["eventType"] in types) and (show_deleted or e["status"] != "cancelled")
              and (low is None or _instant(e["end"], calendar.time_zone) > low)
              and (high is None or _instant(e["start"], calendar.time_zone) < high)]
    return sorted(events, key=lambda e: _instant(e["start"], calendar.time_zone)) if ordered else events


def _token(offset: int, calendar: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([calendar, offset]).encode()).decode()


def _offset(token: str, calendar: str) -> int:
    try:
        for_calendar, offset = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError):
        raise ValueError("invalid", "Invalid Value") from None
    if for_calendar != calendar or not isinstance(offset, int):
        raise ValueError("invalid", "Invalid Value")
    return offset
