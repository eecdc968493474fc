"""The Configuration and Managers tabs, parsed and validated; the environment settings.

Ops edit these tabs by hand, so parsing is forgiving about layout (wide or tall Configuration,
headers in any case and spacing, extra columns) and strict about values: every problem is named
with the cell it is in, and the caller keeps the last good configuration in force.
"""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Mapping, Sequence
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .cycle import Rules
from .model import Manager, chat_user_id
from .workbook.cells import column_letter
from .shifts import DEFAULT_STARTS, HolidayCalendar, ShiftError, ShiftSchedule, parse_days, parse_start

_SHIFT_PARAM = re.compile(r"^shift(\d+)starttime$")
MOST = 100_000_000  # the largest number a parameter takes (about three years in seconds)


def normalize(name: str) -> str:
    """Header and parameter names match case- and space-insensitively."""
    return re.sub(r"[\s_]+", "", name).lower()


@dataclass(frozen=True)
class TabNames:
    configuration: str = "Configuration"
    managers: str = "Managers"
    state: str = "StateManagement"
    tickets: str = "TicketState"
    manager_state: str = "ManagerState"
    tracker: str = "Tracker"
    status: str = "BotStatus"
    # Optional tabs ops add when they want them (availability): absent, nobody is away.
    away: str = "Away"
    holidays: str = "Holidays"
    overrides: str = "Overrides"


@dataclass(frozen=True)
class Config:
    space_id: str = ""
    ticket_timeout: int = 300
    dnd_seconds: int = 3600
    flush_seconds: int = 10
    batch_size: int = 50
    reload_seconds: int = 300
    schedule: ShiftSchedule = field(default_factory=ShiftSchedule)
    ticket_url_template: str = ""
    tabs: TabNames = field(default_factory=TabNames)
    # Beyond the older bot; each default keeps its behaviour (0 or empty: off).
    escalation_seconds: int = 0
    escalation_contacts: tuple[str, ...] = ()
    reminder_seconds: int = 0
    max_reminders: int = 3
    digest_time: time | None = None
    load_balance: bool = False
    shift_notice: bool = False
    # The ticket system (issue 13): outgoing webhooks, inbound hooks, write-back.
    webhook_urls: tuple[str, ...] = ()
    jira_status: str = ""  # an issue moved into this status starts a cycle ("" = none)
    jira_label: str = ""  # an issue given this label starts a cycle ("" = none)
    github_label: str = "rca-ready"
    jira_write_back: bool = False  # comment on the Jira issue on Accept and Done
    jira_done_label: str = ""  # and add this label on Done
    github_write_back: bool = False
    github_done_label: str = ""
    calendar_out_of_office: bool = False  # read managers' Google Calendar out-of-office (Google mode)
    # Past this many data rows the Tracker becomes an archive tab and a fresh one starts (rollover.py).
    tracker_max_rows: int = 300_000  # 26 columns (a tab made by hand) x 300,000 = 7.8 of the 10 million cells

    @property
    def rules(self) -> Rules:
        return Rules(timedelta(seconds=self.ticket_timeout), timedelta(seconds=self.dnd_seconds), self.schedule,
                     escalate_after=_seconds(self.escalation_seconds), escalation_contacts=self.escalation_contacts,
                     remind_after=_seconds(self.reminder_seconds), max_reminders=self.max_reminders,
                     load_balance=self.load_balance, shift_notice=self.shift_notice)

    def ticket_url(self, ticket_id: str) -> str:
        # Encoded: an id may hold any character, and a link must stay one link to that ticket.
        return self.ticket_url_template.replace("{ticket}", quote(ticket_id, safe="")) \
            if self.ticket_url_template else ""


def _seconds(seconds: int) -> timedelta | None:
    return timedelta(seconds=seconds) if seconds else None


@dataclass
class Parsed:
    """What a tab parse produced, and what was wrong with it: `problems` keep the last good
    version in force, `warnings` (an unknown parameter name) are only reported."""

    value: object
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --- Configuration -----------------------------------------------------------------------

_NUMBERS = {  # parameter -> (Config field, smallest allowed value)
    "tickettimeout": ("ticket_timeout", 1),
    "managerdndtime": ("dnd_seconds", 0),
    "timefordataflush": ("flush_seconds", 1),
    "numberofitemsinbatch": ("batch_size", 1),
    "timeformanagerdatareload": ("reload_seconds", 5),
    "escalationafterseconds": ("escalation_seconds", 0),
    "donereminderafterseconds": ("reminder_seconds", 0),
    "maxdonereminders": ("max_reminders", 0),
    "trackermaxrows": ("tracker_max_rows", 5),
}
ROTATION_MODES = ("round_robin", "load_balance")
_TAB_PARAMS = {
    "managerssheetname": "managers", "statemanagementsheetname": "state",
    "ticketstatesheetname": "tickets", "trackersheetname": "tracker", "managerstatesheetname": "manager_state",
    "botstatussheetname": "status",
}


# Every parameter name a sheet may hold, as ops write it; `N` stands for a shift number.
KNOWN_PARAMETERS = (
    "SpaceId", "TicketTimeout", "ManagerDNDTime", "TimeForDataFlush", "NumberOfItemsInBatch",
    "TimeForManagerDataReload", "ShiftNStartTime", "TimeZone", "TicketURLTemplate", "URLForRestRequest",
    "EscalationAfterSeconds", "EscalationContacts", "DoneReminderAfterSeconds", "MaxDoneReminders",
    "RotationMode", "ShiftStartNotice", "DigestTime", "ManagersSheetName", "StateManagementSheetName",
    "TicketStateSheetName", "TrackerSheetName", "ManagerStateSheetName", "BotStatusSheetName",
    "ShiftNDays", "ShiftNEndTime", "HolidayCountry", "HolidaySubdivision", "CalendarOutOfOffice", "WebhookURL",
    "JiraStatus", "JiraLabel", "GitHubLabel", "JiraWriteBack", "JiraDoneLabel", "GitHubWriteBack", "GitHubDoneLabel",
    "TrackerMaxRows",
)
_KNOWN = {normalize(name): name for name in KNOWN_PARAMETERS}


@dataclass(frozen=True)
class _Entry:
    name: str  # as written
    value: str
    name_cell: str
    value_cell: str


def _entries(rows: Sequence[Sequence[str]]) -> list[_Entry]:
    """The parameters of the wide layout (names in row 1, values in row 2) or the tall one
    (`Parameter, Value[, Description]`)."""
    if not rows:
        return []
    if _tall(rows):
        return [_Entry(row[0].strip(), (row[1] if len(row) > 1 else "").strip(), f"A{n}", f"B{n}")
                for n, row in enumerate(rows[1:], 2) if row and row[0].strip()]
    values = rows[1] if len(rows) > 1 else []
    return [_Entry(name.strip(), (values[i] if i < len(values) else "").strip(), f"{column_letter(i)}1", f"{column_letter(i)}2")
            for i, name in enumerate(rows[0]) if name.strip()]


def _tall(rows: Sequence[Sequence[str]]) -> bool:
    """The tall layout: `Parameter, Value[, Description]` headers."""
    return [normalize(cell) for cell in rows[0][:2]] == ["parameter", "value"]


def configuration_params(rows: Sequence[Sequence[str]]) -> dict[str, tuple[str, str]]:
    """{normalized name: (value, cell)}, whichever the layout."""
    return {normalize(e.name): (e.value, e.value_cell) for e in _entries(rows)}


def parse_configuration(rows: Sequence[Sequence[str]]) -> Parsed:
    problems = _layout_problems(rows)
    params = configuration_params(rows)
    settings: dict[str, object] = {}
    for name, (attr, least) in _NUMBERS.items():
        if params.get(name, ("",))[0]:
            value, cell = params[name]
            number = _whole_number(value)
            if number is None or number < least:
                problems.append(f"Configuration {cell}: {_KNOWN[name]} is {value!r}; it must be a whole "
                                f"number of at least {least}")
            elif number > MOST:  # past what a timedelta holds, and no setting needs it
                problems.append(f"Configuration {cell}: {_KNOWN[name]} is {value!r}; it must be at most {MOST:,}")
            else:
                settings[attr] = number
    schedule = _schedule(params, problems)
    if schedule:
        settings["schedule"] = schedule
    tabs = {attr: params[name][0] for name, attr in _TAB_PARAMS.items() if params.get(name, ("",))[0]}
    settings["tabs"] = TabNames(**tabs)
    settings["space_id"] = params.get("spaceid", ("",))[0]
    settings["ticket_url_template"] = params.get("ticketurltemplate", ("",))[0]
    settings.update(_extras(params, problems))
    return Parsed(Config(**settings), problems, _unknown_names(rows))


def _layout_problems(rows: Sequence[Sequence[str]]) -> list[str]:
    """An empty tab, or a wide one whose value row is missing or stops early, is taken as cut
    short (a save that did not finish): read as it is, every parameter after the cut would go
    back to its default. (A CSV export writes every row to the full width; Sheets rows come
    padded to it.)"""
    if not rows:
        return ["Configuration A1: the tab is empty; it needs the parameter names in row 1 and their values "
                "in row 2, or Parameter and Value columns"]
    if _tall(rows):
        return []
    names = [i for i, name in enumerate(rows[0]) if name.strip()]
    if len(rows) < 2:
        return ["Configuration A2: there is no value row under the parameter names: the tab looks cut short"]
    short = [i for i in names if i >= len(rows[1])]
    if short:
        return [f"Configuration {column_letter(short[0])}2: the value row stops before {rows[0][short[0]].strip()}'s "
                f"value: the tab looks cut short"]
    return []


def _unknown_names(rows: Sequence[Sequence[str]]) -> list[str]:
    """A parameter name that is not known, with the known one it is closest to (a typo leaves
    that parameter at its default, which is worth a word; the rest of the tab is fine)."""
    warnings = []
    for entry in _entries(rows):
        if _shape(entry.name) not in _KNOWN:
            closest = _closest(entry.name)
            hint = f"; did you mean {closest}?" if closest else ""
            warnings.append(f"Configuration {entry.name_cell}: {entry.name!r} is not a parameter the bot knows, "
                            f"and is ignored{hint}")
    return warnings


def _shape(name: str) -> str:
    """A name as the known ones are kept: normalized, a shift number as `n`."""
    return re.sub(r"\d+", "n", normalize(name))


def _closest(name: str) -> str:
    match = difflib.get_close_matches(_shape(name), list(_KNOWN), n=1, cutoff=0.75)
    if not match:
        return ""
    known = _KNOWN[match[0]]
    number = re.search(r"\d+", name)
    return known.replace("ShiftN", f"Shift{number.group() if number else 'N'}", 1)


def _extras(params: Mapping[str, tuple[str, str]], problems: list[str]) -> dict[str, object]:
    """EscalationContacts, DigestTime, RotationMode and ShiftStartNotice, where given and valid."""
    out: dict[str, object] = {}
    contacts, cell = params.get("escalationcontacts", ("", ""))
    if contacts:
        names = [c for c in re.split(r"[,;\s]+", contacts) if c]
        ids = ["users/all" if c.lower() == "all" else chat_user_id(c) for c in names]
        bad = [c for c, i in zip(names, ids) if not re.fullmatch(r"users/(\d+|all|[\w.+-]+@[\w.-]+)", i)]
        if bad:
            problems.append(f"Configuration {cell}: EscalationContacts {bad[0]!r} is not a Chat user id (users/123 "
                            f"or 123), an e-mail address, or all")
        else:
            out["escalation_contacts"] = tuple(dict.fromkeys(ids))
    digest, cell = params.get("digesttime", ("", ""))
    if digest:
        try:
            out["digest_time"] = parse_start(digest)
        except ShiftError as exc:
            problems.append(f"Configuration {cell}: DigestTime: {exc}")
    mode, cell = params.get("rotationmode", ("", ""))
    if mode:
        if normalize(mode) not in {normalize(m) for m in ROTATION_MODES}:
            problems.append(f"Configuration {cell}: RotationMode is {mode!r}; write {' or '.join(ROTATION_MODES)}")
        else:
            out["load_balance"] = normalize(mode) == "loadbalance"
    notice, cell = params.get("shiftstartnotice", ("", ""))
    if notice:
        if notice.lower() not in _YES | _NO:
            problems.append(f"Configuration {cell}: ShiftStartNotice is {notice!r}; write yes or no")
        else:
            out["shift_notice"] = notice.lower() in _YES
    out.update(_ticket_system(params, problems))
    return out


def _ticket_system(params: Mapping[str, tuple[str, str]], problems: list[str]) -> dict[str, object]:
    """WebhookURL, the inbound hooks' JiraStatus / JiraLabel / GitHubLabel, and write-back."""
    out: dict[str, object] = {}
    urls, cell = params.get("webhookurl", ("", ""))
    if urls:
        given = [u for u in re.split(r"[,\s]+", urls) if u]
        bad = [u for u in given if not re.fullmatch(r"https?://[^\s/@]+(/\S*)?", u)]
        if bad:
            problems.append(f"Configuration {cell}: WebhookURL {bad[0]!r} is not an http(s) URL without "
                            f"credentials (like https://example.com/rca-events)")
        else:
            out["webhook_urls"] = tuple(dict.fromkeys(given))
    for name, attr in (("jirastatus", "jira_status"), ("jiralabel", "jira_label"), ("githublabel", "github_label"),
                       ("jiradonelabel", "jira_done_label"), ("githubdonelabel", "github_done_label")):
        value = params.get(name, ("",))[0]
        if value:
            out[attr] = value
    for name, attr in (("jirawriteback", "jira_write_back"), ("githubwriteback", "github_write_back"),
                       ("calendaroutofoffice", "calendar_out_of_office")):
        value, cell = params.get(name, ("", ""))
        if not value:
            continue
        if value.lower() not in (_YES - {""}) | _NO:
            problems.append(f"Configuration {cell}: {_KNOWN[name]} is {value!r}; write yes or no")
        else:
            out[attr] = value.lower() in _YES
    return out


def _schedule(params: Mapping[str, tuple[str, str]], problems: list[str]) -> ShiftSchedule | None:
    zone_name, zone_cell = params.get("timezone", ("", ""))
    zone = _zone(zone_name or "UTC")
    if zone is None:
        problems.append(f"Configuration {zone_cell}: TimeZone {zone_name!r} is not an IANA time zone "
                        f"(like Europe/Berlin)")
        return None
    starts = _starts(params, problems)
    holidays = _holiday_country(params, problems)
    if starts is None:
        return None
    try:
        days = tuple(_per_shift(params, n, "days", parse_days) for n in range(1, len(starts) + 1))
        ends = tuple(_per_shift(params, n, "endtime", parse_start) for n in range(1, len(starts) + 1))
        _no_strays(params, len(starts))
        schedule = ShiftSchedule(starts, zone, days, ends, holidays or HolidayCalendar())
        return schedule if holidays is not None else None
    except ShiftError as exc:
        cell = params.get(f"shift{exc.shift}endtime", ("", ""))[1] if exc.shift else ""
        problems.append(f"Configuration {cell}: Shift{exc.shift}EndTime: {exc}" if cell else str(exc))
        return None


def _starts(params: Mapping[str, tuple[str, str]], problems: list[str]) -> tuple[time, ...] | None:
    """The ShiftNStartTime values, numbered 1 to N without gaps (the default four when none is given)."""
    given = {int(m.group(1)): params[name] for name in params if (m := _SHIFT_PARAM.match(name)) and params[name][0]}
    if not given:
        return DEFAULT_STARTS
    given.setdefault(1, ("00:00", "(default)"))
    missing = [n for n in range(1, max(given) + 1) if n not in given]
    if missing:
        problems.append(f"Configuration {given[max(given)][1]}: Shift{missing[0]}StartTime is missing; shifts are "
                        f"numbered 1 to {max(given)} without gaps")
        return None
    try:
        starts = tuple(_start(n, *given[n]) for n in sorted(given))
    except ShiftError as exc:
        problems.append(str(exc))
        return None
    first = {}
    for number, start in enumerate(starts, 1):
        if start in first:
            problems.append(f"Configuration {given[number][1]}: Shift{number}StartTime: two shifts start at the same "
                            f"time (Shift{first[start]}StartTime too)")
            return None
        first[start] = number
    return starts


def _per_shift(params: Mapping[str, tuple[str, str]], number: int, what: str, parse):
    """ShiftNDays or ShiftNEndTime, parsed (None where not given)."""
    value, cell = params.get(f"shift{number}{what}", ("", ""))
    if not value:
        return None
    try:
        return parse(value)
    except ShiftError as exc:
        label = "Days" if what == "days" else "EndTime"
        raise ShiftError(f"Configuration {cell}: Shift{number}{label}: {exc}") from None


def _no_strays(params: Mapping[str, tuple[str, str]], count: int) -> None:
    """A ShiftNDays or ShiftNEndTime for a shift that does not exist is a mistake worth naming."""
    for name, (value, cell) in params.items():
        match = re.fullmatch(r"shift(\d+)(days|endtime)", name)
        if match and value and not 1 <= int(match.group(1)) <= count:
            label = "Days" if match.group(2) == "days" else "EndTime"
            raise ShiftError(f"Configuration {cell}: Shift{match.group(1)}{label} is set, but there is no shift "
                             f"{match.group(1)} (the Configuration has shifts 1 to {count})")


def _holiday_country(params: Mapping[str, tuple[str, str]], problems: list[str]) -> HolidayCalendar | None:
    """HolidayCountry and HolidaySubdivision, checked against what the `holidays` package knows."""
    country, cell = params.get("holidaycountry", ("", ""))
    subdivision, sub_cell = params.get("holidaysubdivision", ("", ""))
    if not country:
        if subdivision:
            problems.append(f"Configuration {sub_cell}: HolidaySubdivision is set without a HolidayCountry")
            return None
        return HolidayCalendar()
    import holidays  # only a sheet that names a country pays for the import

    known = holidays.list_supported_countries()
    code = country.strip().upper()
    if code not in known:
        problems.append(f"Configuration {cell}: HolidayCountry {country!r} is not a country the holidays package "
                        f"knows; write an ISO 3166 code like DE, US or GB")
        return None
    subdivisions = {s.upper(): s for s in known[code]}
    if subdivision and subdivision.strip().upper() not in subdivisions:
        listed = ", ".join(known[code][:12]) + (", …" if len(known[code]) > 12 else "")
        problems.append(f"Configuration {sub_cell}: HolidaySubdivision {subdivision!r} is not a subdivision of "
                        f"{code}" + (f" (it has {listed})" if listed else " (it has none)"))
        return None
    return HolidayCalendar(code, subdivisions.get(subdivision.strip().upper(), "") if subdivision else "")


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name that is a folder of zones, or too long
        return None


def _start(number: int, value: str, cell: str):
    try:
        return parse_start(value)
    except ShiftError as exc:
        raise ShiftError(f"Configuration {cell}: Shift{number}StartTime: {exc}") from None


# --- Managers ----------------------------------------------------------------------------

_MANAGER_COLUMNS = {"name": "name", "email": "email", "gchatid": "chat_id", "shift": "shift", "active": "active",
                    "lead": "lead"}
_HEADINGS = {"name": "Name", "chat_id": "GChat ID", "shift": "Shift"}
_YES = {"", "yes", "y", "true", "1", "x", "active"}
_NO = {"no", "n", "false", "0", "inactive"}


def parse_managers(rows: Sequence[Sequence[str]], shift_count: int) -> Parsed:
    """Managers in row order. Rows with problems are left out and each problem is reported.

    A tab with its header and no manager is a problem, not an empty team: it is what a save that
    stopped after the first line leaves, and an empty team would leave every ticket waiting."""
    if not rows:
        return Parsed([], ["Managers row 1: the tab is empty; it needs a header row Name, Email, GChat ID, Shift, "
                           "Active and a row per manager"])
    columns = {_MANAGER_COLUMNS[normalize(h)]: i for i, h in enumerate(rows[0]) if normalize(h) in _MANAGER_COLUMNS}
    absent = [_HEADINGS[c] for c in ("name", "chat_id", "shift") if c not in columns]
    if absent:
        return Parsed([], [f"Managers row 1: the header row has no {', '.join(absent)} column"])
    if len(rows) < 2:
        return Parsed([], ["Managers row 2: there is no manager under the header row: the tab looks emptied or cut "
                           "short"])
    managers: list[Manager] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, row in enumerate(rows[1:], 2):
        cell = {key: (row[i].strip() if i < len(row) else "") for key, i in columns.items()}
        manager, problem = _manager(cell, number, shift_count, seen)
        if problem:
            problems.append(problem)
        else:
            managers.append(manager)
            seen.add(manager.chat_id)
    return Parsed(managers, problems)


def _manager(cell: dict[str, str], row: int, shift_count: int, seen: set[str]) -> tuple[Manager | None, str]:
    who = cell["name"] or f"row {row}"
    chat_id = chat_user_id(cell["chat_id"])
    if not re.fullmatch(r"users/[\w.@+-]+", chat_id or "-"):
        return None, f"Managers row {row}: {who} has no usable GChat ID ({cell['chat_id']!r})"
    if chat_id in seen:
        return None, f"Managers row {row}: GChat ID {chat_id} is used by an earlier row too"
    active = cell.get("active", "").lower()
    if active not in _YES | _NO:
        return None, f"Managers row {row}: Active for {who} is {cell['active']!r}; write yes, no or leave blank"
    shifts, problem = _shifts(cell["shift"], shift_count)
    if problem:
        return None, f"Managers row {row}: Shift for {who}: {problem}"
    lead = cell.get("lead", "").lower()
    if lead not in _YES | _NO:
        return None, f"Managers row {row}: Lead for {who} is {cell['lead']!r}; write yes, no or leave blank"
    return Manager(cell["name"] or chat_id, chat_id, cell.get("email", ""), shifts, active in _YES,
                   lead=lead in _YES - {""}), ""


def _shifts(text: str, shift_count: int) -> tuple[frozenset[int] | None, str]:
    if text.strip().lower() == "all":
        return None, ""
    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    if not parts or not all(p.isdecimal() for p in parts):
        return None, f"{text!r} is not a shift number, a list like 1,3, or all"
    numbers = frozenset(int(p) for p in parts)
    unknown = sorted(n for n in numbers if not 1 <= n <= shift_count)
    if unknown:
        return None, f"shift {unknown[0]} does not exist (the Configuration has shifts 1 to {shift_count})"
    return numbers, ""


def _whole_number(text: str) -> int | None:
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


# --- Environment -------------------------------------------------------------------------

def _seconds_setting(text: str) -> float:
    """RCABOT_GOOGLE_TIMEOUT: a positive number of seconds; anything else is a problem (-1)."""
    if not text.strip():
        return 30.0
    try:
        value = float(text)
    except ValueError:
        return -1.0
    return value if value > 0 else -1.0


@dataclass(frozen=True)
class Settings:
    """Deployment settings and secrets, from the environment (everything else is in the sheet)."""

    backend: str = "local"
    workbook_dir: str = "var/workbook"
    spreadsheet_id: str = ""
    credentials_file: str = ""
    chat_audience: str = ""
    api_token: str = ""
    port: int = 8080
    sheets_endpoint: str = ""
    chat_endpoint: str = ""
    service_account_json: str = ""  # the key itself, for hosts where a file is not an option
    chat_addon_account: str = ""  # service-<number>@gcp-sa-gsuiteaddons...: an add-on app's token e-mail
    certs_endpoint: str = ""  # replaces https://www.googleapis.com for Google's token certificates
    journal_dir: str = ""  # local disk for the journal; empty: inside the workbook folder, or var/journal
    google_timeout: float = 30.0  # seconds a Sheets or Chat call may take before it is retried
    allowed_hosts: tuple[str, ...] = ()  # local mode: Host names served besides localhost's own
    chat_app: str = "classic"  # how the Chat app is configured: a classic Chat app, or a Workspace add-on
    chat_function_url: str = ""  # an add-on's endpoint URL, which its buttons call; default: the audience URL
    # The ticket system (secrets only here, never in the sheet).
    webhook_secret: str = ""  # whsec_...: signs every outgoing webhook (Standard Webhooks)
    jira_secret: str = ""  # verifies POST /hooks/jira
    github_secret: str = ""  # verifies POST /hooks/github (X-Hub-Signature-256)
    jira_url: str = ""  # https://acme.atlassian.net, for write-back
    jira_email: str = ""
    jira_api_token: str = ""
    github_token: str = ""  # a token that may comment on (and label) the repositories' issues
    github_api_url: str = ""  # default https://api.github.com (GitHub Enterprise: https://HOST/api/v3)
    teams_file: str = ""  # a CSV of teams (Team,Workbook,Space), each a bot of its own in this process

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        return cls(
            backend=env.get("RCABOT_BACKEND", "local").strip().lower() or "local",
            workbook_dir=env.get("RCABOT_WORKBOOK_DIR", "var/workbook"),
            spreadsheet_id=env.get("RCABOT_SPREADSHEET_ID", ""),
            credentials_file=env.get("GOOGLE_APPLICATION_CREDENTIALS", ""),
            chat_audience=env.get("RCABOT_CHAT_AUDIENCE", ""),
            api_token=env.get("RCABOT_API_TOKEN", ""),
            port=int(env.get("PORT", "8080") or 8080),
            sheets_endpoint=env.get("RCABOT_SHEETS_ENDPOINT", ""),
            chat_endpoint=env.get("RCABOT_CHAT_ENDPOINT", ""),
            service_account_json=env.get("RCABOT_SERVICE_ACCOUNT_JSON", ""),
            chat_addon_account=env.get("RCABOT_CHAT_ADDON_SERVICE_ACCOUNT", ""),
            certs_endpoint=env.get("RCABOT_CERTS_ENDPOINT", ""),
            journal_dir=env.get("RCABOT_JOURNAL_DIR", ""),
            google_timeout=_seconds_setting(env.get("RCABOT_GOOGLE_TIMEOUT", "")),
            allowed_hosts=tuple(host.strip().lower() for host in env.get("RCABOT_ALLOWED_HOSTS", "").split(",")
                                if host.strip()),
            chat_app=env.get("RCABOT_CHAT_APP", "classic").strip().lower() or "classic",
            chat_function_url=env.get("RCABOT_CHAT_FUNCTION_URL", "").strip(),
            webhook_secret=env.get("RCABOT_WEBHOOK_SECRET", "").strip(),
            jira_secret=env.get("RCABOT_JIRA_SECRET", ""),
            github_secret=env.get("RCABOT_GITHUB_SECRET", ""),
            jira_url=env.get("RCABOT_JIRA_URL", "").strip().rstrip("/"),
            jira_email=env.get("RCABOT_JIRA_EMAIL", "").strip(),
            jira_api_token=env.get("RCABOT_JIRA_API_TOKEN", "").strip(),
            github_token=env.get("RCABOT_GITHUB_TOKEN", "").strip(),
            github_api_url=env.get("RCABOT_GITHUB_API_URL", "").strip().rstrip("/"),
            teams_file=env.get("RCABOT_TEAMS_FILE", "").strip(),
        )

    @property
    def addon_url(self) -> str:
        """The URL an add-on's buttons call ("" for a classic Chat app): RCABOT_CHAT_FUNCTION_URL, or
        the Authentication Audience when that is the endpoint URL (Chat calls the app there)."""
        if self.chat_app != "addon":
            return ""
        audience = self.chat_audience if self.chat_audience.startswith(("https://", "http://")) else ""
        return self.chat_function_url or audience

    @property
    def local(self) -> bool:
        return self.backend == "local"

    @property
    def journal_folder(self) -> str:
        if self.journal_dir:
            return self.journal_dir
        # Inside the local workbook's own folder: a second workbook beside it must not replay it.
        return os.path.join(self.workbook_dir, ".journal") if self.local \
            else "var/journal"

    def problems(self) -> list[str]:
        """What keeps this deployment from starting, each with the variable that fixes it."""
        if self.backend not in ("local", "google"):
            return [f"RCABOT_BACKEND is {self.backend!r}; use local or google"]
        if self.local:
            return []
        needed = {"RCABOT_SPREADSHEET_ID": self.spreadsheet_id or self.teams_file,  # the Teams file names each
                  "GOOGLE_APPLICATION_CREDENTIALS or RCABOT_SERVICE_ACCOUNT_JSON":
                      self.credentials_file or self.service_account_json,
                  "RCABOT_CHAT_AUDIENCE": self.chat_audience, "RCABOT_API_TOKEN": self.api_token}
        found = [f"{name} is not set" for name, value in needed.items() if not value]
        if self.credentials_file and not os.path.isfile(self.credentials_file):
            found.append(f"GOOGLE_APPLICATION_CREDENTIALS names {self.credentials_file}, which is not a file")
        audience = self.chat_audience
        if audience and not (audience.isdigit() or audience.startswith(("https://", "http://"))):
            found.append(f"RCABOT_CHAT_AUDIENCE is {audience!r}; set the Cloud project number or the endpoint "
                         f"URL, whichever the Chat app's 'Authentication Audience' names")
        if self.google_timeout <= 0:
            found.append("RCABOT_GOOGLE_TIMEOUT must be a positive number of seconds (default 30)")
        return found + self._chat_app_problems()

    def _chat_app_problems(self) -> list[str]:
        if self.chat_app not in ("classic", "addon"):
            return [f"RCABOT_CHAT_APP is {self.chat_app!r}; use classic (a Chat app) or addon (a Chat app built "
                    f"as a Google Workspace add-on)"]
        if self.chat_app == "addon" and not self.addon_url:
            return ["RCABOT_CHAT_APP is addon, whose buttons call the app's endpoint URL: set "
                    "RCABOT_CHAT_FUNCTION_URL to it (https://YOUR-HOST/chat/events), or make RCABOT_CHAT_AUDIENCE "
                    "that URL"]
        return []
