"""The imperative shell around the cycle: feeds it events under one lock, carries out its effects.

Nothing here waits for Google on the path of a request: pings and notices go to an outbox that
the `deliver` job empties in order, and the state tabs and Tracker rows are written by the
`flush` job, in one batch per tab.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Protocol, Sequence

from .availability import AWAY_HEADER, OVERRIDES_HEADER, Availability, Away, CoverError, LeaveError, Override, resolve
from .availability.tabs import parse_away, parse_holidays, parse_overrides

OPS_HEADERS = {"away": AWAY_HEADER, "overrides": OVERRIDES_HEADER}  # the ops tabs the bot adds rows to
from .chat import ChatError, ChatSpace, Message, answers
from .chat.cards import lapsed_message, notice_message, ping_message, plain, thread_key
from .config import Config, Parsed, TabNames, normalize, parse_configuration, parse_managers
from .cycle import Announce, Answer, CancelTimer, Cycle, Effect, Lapsed, Notice, Ping, SetTimer, Tracked
from .history import KEEP, Event, History, ManagerStats
from .journal import Journal, JournalError
from .metrics import Metrics
from .model import Board, BotState, DndChange, Manager, Ticket, TicketStatus
from .outbox import REDRAW_LEAVES, Delivery, Outbox
from .outgoing import HookEvent
from .outgoing.delivery import Outgoing
from .outgoing.events import Started, hook_events
from . import rollover
from .pacing import CHAT_SPACING, CHAT_WRITES_PER_MINUTE, SHEETS_WRITES_PER_MINUTE, Pace
from .status_tab import STATUS_HEADER, status_rows
from .shifts import ShiftSchedule, Slot
from .state_tabs import (TicketRows, event_from_row, headers, iso, journal_entry, load_state, parse_iso, replay,
                         revision_of, revision_row, rows_to_reach, small_state_rows)
from .tracker import TrackerBuffer, tracker_row
from .workbook import TabDamaged, TabNotFound, Workbook, WorkbookError
from .workbook.cells import landed, trimmed

log = logging.getLogger(__name__)
# TicketState is written row by row; whole this often too (when something changed), so that rows
# someone moved or edited in the tab by hand do not stay wrong for longer.
WHOLE_TICKET_STATE_EVERY = timedelta(hours=1)
TAB_MAKING_WRITES = 2  # making missing tabs at start-up: the tabs, then their header rows
LOCAL_SPACE = "spaces/local"
# Tracker rows held in memory while the spreadsheet cannot take them (about 100 bytes each).
# Past this, new tickets are refused (503, retry later) rather than risk memory; clicks still work.
MAX_QUEUED_TRACKER_ROWS = 100_000


class Overloaded(Exception):
    """The bot cannot take new work now; the message says why and the caller should retry."""

    retry_after = 60


class NotStored(Overloaded):
    """The journal cannot be written, so an answer would promise what a crash could lose: the
    request is refused (503) and, where it could be, nothing was changed."""

    retry_after = 10


class Jobs(Protocol):
    """What the bot asks of the scheduler."""

    def set_timer(self, key: str, at: datetime) -> None: ...
    def cancel_timer(self, key: str) -> None: ...
    def kick(self, job: str) -> None: ...
    def retry_later(self, job: str, seconds: float) -> None: ...
    def configure(self, config: Config) -> None: ...


REFUSED = "refused-by-chat"  # the message id of a message Chat refused as invalid (see deliver)


@dataclass
class Unjournaled:
    """What changed while the journal could not be written: it goes in as soon as it can."""

    tickets: set[str]
    tracker: list[list[str]]

    def add(self, tickets: set[str], tracker: list[list[str]]) -> None:
        self.tickets |= tickets
        self.tracker += tracker


@dataclass
class FlushPlan:
    """One flush, as taken under the lock: what to write, and the journal files the write makes
    redundant."""

    tabs: TabNames
    small: dict[str, list[list[str]]]  # the state tabs but TicketState, and BotStatus: written whole
    writes: dict[str, list[list[str]]]  # the tabs to replace (with the revision row, when any state changed)
    changed_rows: dict[int, list[str]]  # TicketState rows by number, not yet in the tab
    whole: bool  # TicketState is written whole (in `writes`), not row by row
    batch: list[list[str]]
    revision: int
    sealed: list
    missed: Unjournaled | None
    missed_rows: int
    growth: bool = False  # a grid's growth was counted in the pace with the write


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class OutOfOffice(Protocol):
    def read(self, managers: Sequence[Manager], start: datetime, end: datetime
             ) -> tuple[tuple[Away, ...], list[str]]: ...


@dataclass(frozen=True)
class OpsRow:
    """A row the bot adds to a tab ops edit too (`away` writes the Away tab), with the next flush."""

    tab: str  # "away" or "overrides" (the TabNames attribute)
    row: tuple[str, ...]  # in that tab's OPS_HEADERS order


CALENDAR_DAYS = timedelta(days=15)  # the calendar feed's two weeks, and `who` a little beyond
# A call per manager, paced: read again at most this often (a reload may come every 30 s), or when the team changes.
CALENDAR_EVERY = timedelta(minutes=15)


class RcaBot:
    def __init__(self, workbook: Workbook, chat: ChatSpace, jobs: Jobs,
                 clock: Callable[[], datetime] = utcnow, default_space: str = LOCAL_SPACE,
                 journal: Journal | None = None, webhook_secret: str = "",
                 writeback: Callable[[Config], tuple[list, list[str]]] | None = None,
                 out_of_office: OutOfOffice | None = None):
        """`writeback`: the Jira / GitHub write-back targets a Configuration turns on, and the
        problems that keep one from being made (outgoing.writeback, with the deployment's credentials).
        `out_of_office`: the managers' Google Calendars (Google mode), read when CalendarOutOfOffice is yes."""
        self.workbook, self.chat, self.jobs, self.clock = workbook, chat, jobs, clock
        self.out_of_office = out_of_office
        self._calendars_read: tuple | None = None  # when, for which team, the leave and problems found
        self._writeback = writeback or (lambda config: ([], []))
        self.journal = journal
        self.max_queued_rows = MAX_QUEUED_TRACKER_ROWS
        self.default_space = default_space
        self.config = Config()
        self.cycle = Cycle(BotState(), [], self.config.rules)
        self.problems: list[str] = []  # what is wrong in the Configuration, Managers and availability tabs
        self._good_availability: dict[str, tuple] = {}  # each availability tab's last good rows
        self.ops_rows: dict[str, list[list[str]]] = {}  # rows owed to the Away and Overrides tabs, by OPS_HEADERS key
        self._ops_tabs: dict[str, list[list[str]]] = {}  # those tabs as last read (their header, their rows)
        self._ops_added: list[tuple[datetime, str, list[str]]] = []  # rows added to them since: when, which, what
        self.degraded: dict[str, str] = {}  # what failed last: "workbook", "chat"
        self.tracker = TrackerBuffer()
        self.history = History()  # the Tracker's last month, for stats, the digest and load balancing
        self.outbox = Outbox()
        self._lock = threading.RLock()
        self._delivering = threading.Lock()
        self._flushing = threading.Lock()
        self._written: dict[str, list[list[str]]] = {}
        self._ticket_rows = TicketRows(self.cycle.state, self.cycle.index)  # the TicketState tab
        self._tickets_whole_at = clock()  # when TicketState was last written whole
        self._growths_counted = 0  # the workbook's grid growths already counted in the Sheets pace
        self._status_rows: list[list[str]] = []  # the BotStatus tab, as of the last reload
        self._retries = 0
        self._revision = 0  # the last state write's (see _newest_state)
        self._unjournaled: Unjournaled | None = None  # what the journal missed while it could not be written
        self.chat_pace = Pace(CHAT_WRITES_PER_MINUTE, spacing=CHAT_SPACING)  # per space: a minute's 60, one a second
        self.sheets_pace = Pace(SHEETS_WRITES_PER_MINUTE)
        self.rollover = rollover.Rollover(self)  # the flush's write: the Tracker rolls over first when full
        self.metrics = Metrics(self, self._lock)
        # Every cycle event for the webhooks and write-back targets (outgoing/), kept in the journal folder.
        self.outgoing = Outgoing(clock, journal.folder if journal else None, webhook_secret, self._gave_up)

    # --- start-up and reload -------------------------------------------------------------

    def boot(self) -> None:
        """Read the team and the saved state, then resume every open ticket where it was."""
        self._restore_paces()
        config, managers, availability = self._read_team(initial=True)
        bot_tabs = {**headers(config.tabs), config.tabs.status: STATUS_HEADER}
        state_tabs = [tab for tab in headers(config.tabs) if tab != config.tabs.tracker]
        # What follows in one request where it can be (the headers, the state tabs, the Tracker's end).
        self.workbook.prefetch(state_tabs, [tab for tab in bot_tabs if tab not in state_tabs], config.tabs.tracker)
        if set(bot_tabs) - self.workbook.tab_names():
            self._wait_for_writes(TAB_MAKING_WRITES)  # within the quota, which many teams' bots may share
        self.workbook.ensure_tabs(bot_tabs)
        saved = self.workbook.read_tabs(state_tabs)  # one request
        # Only the Tracker's last month, read back from its end: the whole of it can be years.
        since = self.clock() - KEEP
        recent = rollover.recent_rows(self.workbook, config.tabs.tracker, lambda row: _older(row, since),
                                      lambda rows: rows_to_reach(rows, since))
        state_tables, self._revision = self._newest_state(saved, config.tabs)
        sealed, current = (list(self.journal.sealed_entries()), list(self.journal.current_entries())) \
            if self.journal else ([], [])
        entries = sealed + current
        unwritten = self._unwritten_tracker_rows(sealed, current, config.tabs.tracker)
        self.ops_rows = self._unwritten_ops_rows(sealed + current)
        availability = self._with_owed_rows(availability, managers, config.schedule)
        with self._lock:
            self.config = config
            self.history = History(e for row in recent + unwritten if (e := event_from_row(row)) and e.at >= since)
            self.cycle = Cycle(load_state(replay(state_tables, entries, config.tabs), config.tabs), managers,
                               config.rules, self.history)
            self.cycle.availability = availability.with_back(self.cycle.state.back_at)
            # The small tabs as written (TicketState is compared row by row: see align below).
            self._written = small_state_rows(load_state({tab: rows for tab, rows in saved.items()
                                                         if tab != config.tabs.tickets}, config.tabs), config.tabs)
            self._ticket_rows = TicketRows(self.cycle.state, self.cycle.index)
            self.cycle.index.take_changed()  # all in the rows just built
            # Row by row, if the tab holds them where they are (the count has the blank rows the read left out).
            self._ticket_rows.align(saved[config.tabs.tickets], 1 + self.workbook.row_count(config.tabs.tickets))
            self.tracker.add_rows(unwritten)
        self._follow(config)
        if entries:
            log.info("journal: replayed %d changes the workbook did not have yet", len(entries))
        self.jobs.configure(config)
        self._event(lambda now: (None, self.cycle.resume(now)))
        if config.calendar_out_of_office:
            self.jobs.kick("reload")  # the calendars are read in the reload job, not in the start-up
        self._refresh_status()
        log.info("RCA Bot ready: %d managers, %d tickets in the cycle", len(managers), len(self.cycle.state.tickets))

    def _newest_state(self, saved: dict[str, list[list[str]]], tabs) -> tuple[dict[str, list[list[str]]], int]:
        """The state tabs from the spreadsheet, unless this machine wrote newer ones; and the
        revision of the last state write either knows of.

        A state write that timed out (or was in flight at a crash) can still be carried out by
        Sheets later, on top of a newer one. Each write carries a revision (its time in ms), and
        the journal keeps a copy of the last write that succeeded: if the spreadsheet holds an
        older revision, the copy is used, and the next flush writes it back. A sheet without a
        revision row (cleared by hand, or the older bot's) is taken as it is.
        """
        local = self.journal.saved_state() if self.journal else None
        in_sheet = revision_of(saved.get(tabs.state, []))
        last = max(in_sheet or 0, local[0] if local else 0)
        if local is None or in_sheet is None or local[0] <= in_sheet:
            if self.journal and (local is None or in_sheet is None or local[0] < in_sheet):
                self.journal.forget_copy()  # the sheet holds a later write than the copy: keep a whole one next
            return saved, last
        log.warning("state: the spreadsheet holds state write %d, older than this machine's last (%d), a delayed "
                    "write that landed late; the newer copy is used and written back", in_sheet, local[0])
        state_tabs = (tabs.state, tabs.tickets, tabs.manager_state)
        return {**saved, **{tab: rows for tab, rows in local[1].items() if tab in state_tabs}}, last

    def _unwritten_tracker_rows(self, sealed: list[dict], current: list[dict], tab: str) -> list[list[str]]:
        """The journal's Tracker rows that the Tracker does not hold yet.

        A flush appends the rows of the sealed journal files, then deletes those files. Killed in
        between (or after an append that failed but may have been carried out), the files survive
        although the Tracker has some of their rows: a head of them, since appends go in order and
        whole. The Tracker then ends with that head, and it must not go again. The current file
        counts too: a flush that could not seal it (a read-only journal folder) wrote its rows.
        """
        journaled = [row for entry in sealed + current for row in entry.get("tracker", [])]
        done = landed(rollover.tracker_end(self.workbook, tab, len(journaled)), journaled) if journaled else 0
        if done:
            log.warning("journal: the Tracker already holds %d rows of a flush that was cut short; they are not "
                        "written again", done)
        return journaled[done:]

    def _with_owed_rows(self, availability: Availability, managers: list[Manager], schedule: ShiftSchedule,
                        read_at: datetime | None = None) -> Availability:
        """Leave (`away`) and cover (Take) made in Chat that the tabs as read may lack: rows no
        flush has written yet, and rows written since the read began (`read_at`). In force all the same."""
        if read_at is not None:
            self._ops_added = [(at, key, row) for at, key, row in self._ops_added if at >= read_at]
        owed = {key: self.ops_rows.get(key, []) + [row for _, k, row in self._ops_added if k == key]
                for key in OPS_HEADERS}
        if not any(owed.values()):
            return availability
        away = parse_away([AWAY_HEADER] + owed["away"], managers, schedule.zone).value
        cover = parse_overrides([OVERRIDES_HEADER] + owed["overrides"], managers, schedule.count).value
        return replace(availability, away=availability.away + away, overrides=availability.overrides + cover,
                       _by_manager=None)

    def _unwritten_ops_rows(self, entries: list[dict]) -> dict[str, list[list[str]]]:
        """The journal's rows for the Away and Overrides tabs that the tab does not hold (a crash
        came before the flush that adds them). A row there already is not added again: the tab
        was read just now."""
        owed: dict[str, list[list[str]]] = {}
        for key in OPS_HEADERS:
            tab = self._ops_tabs.get(key, [])
            there = {tuple(_stripped(row)) for row in tab[1:]}
            rows = [row for entry in entries for row in entry.get("ops_rows", {}).get(key, [])
                    if tuple(_stripped(_in_order(row, tab, key))) not in there]
            if rows:
                owed[key] = rows
        return owed

    def _follow(self, config: Config) -> None:
        """The outgoing targets this Configuration names: its WebhookURLs and the write-back it turns on."""
        self.outgoing.follow(config.webhook_urls)
        self.outgoing.follow_writeback(*self._writeback(config))

    def reload(self) -> None:
        """Re-read Configuration and Managers; a tab with problems leaves the last good one in force."""
        read_at = self.clock()
        try:
            config, managers, availability = self._read_team(initial=False)
        except WorkbookError as exc:
            self._degrade("workbook", f"reload failed: {exc}")
            return
        availability = self._with_calendars(config, managers, availability)
        with self._lock:
            availability = self._with_owed_rows(availability, managers, config.schedule, read_at)
            self.config = config
        self._follow(config)
        self.jobs.configure(config)
        self._event(lambda now: (None, self.cycle.reload(managers, config.rules, now, availability)))
        self._refresh_status()

    def _refresh_status(self) -> None:
        """The BotStatus tab's rows, written by the next flush."""
        self._status_rows = self.status_rows()

    def status_rows(self) -> list[list[str]]:
        """The BotStatus rows as of now (the console shows them live)."""
        with self._lock:
            return status_rows(self.board(), self.problems + self.outgoing.problems(), self.outgoing.view())

    def digest(self) -> None:
        """The daily digest job: one message in the space."""
        with self._lock:
            board = self.board()
            since, day = board.now - timedelta(days=1), board.now.astimezone(board.zone).date().isoformat()
            text = answers.digest(board, since, self.history.since(since), self.history.stats(since))
            self.outbox.add(Delivery("", 0, _request_id("", f"digest-{day}"), text=text, kind="space",
                                     thread=f"rcabot-digest-{day}"))
        self.jobs.kick("deliver")

    def _read_team(self, initial: bool) -> tuple[Config, list[Manager], Availability]:
        """The Configuration, Managers and availability tabs in force after a read: what the tabs
        say where they are fine; where not (missing, damaged, a bad value), the last good ones (or,
        at start-up, the defaults and the valid rows). An unknown parameter name is reported and
        changes nothing. The optional tabs (Away, Holidays, Overrides) are read when present."""
        tabs = self.config.tabs
        present = self.workbook.tab_names()
        optional = [tab for tab in (tabs.away, tabs.holidays, tabs.overrides) if tab in present]
        read = self._read_present([tabs.configuration, tabs.managers] + optional)
        parsed = _parsed(read[tabs.configuration], parse_configuration, Config())
        config = parsed.value if (initial or not parsed.problems) else self.config
        if config.tabs.managers != tabs.managers:
            read.update(self._read_present([config.tabs.managers]))
        team = _parsed(read[config.tabs.managers], lambda rows: parse_managers(rows, config.schedule.count), [])
        managers = team.value if (initial or not team.problems) else self.cycle.managers
        problems = parsed.problems + team.problems
        config, availability = self._availability(config, managers, read, initial, problems)
        self._report(problems, parsed.warnings, initial)
        if initial and not managers:
            log.critical("sheet: no manager can be pinged: every ticket waits until the %r tab is fixed",
                         config.tabs.managers)
        return config, managers, availability

    def _availability(self, config: Config, managers: list[Manager], read: dict[str, Parsed], initial: bool,
                      problems: list[str]) -> tuple[Config, Availability]:
        """The Away, Holidays and Overrides tabs, each the last good one while it has problems; the
        holidays go into the schedule. An absent tab is empty: without them the bot is as before."""
        schedule, tabs = config.schedule, config.tabs
        readers = {tabs.away: lambda rows: parse_away(rows, managers, schedule.zone),
                   tabs.holidays: lambda rows: parse_holidays(rows, schedule.count),
                   tabs.overrides: lambda rows: parse_overrides(rows, managers, schedule.count)}
        for tab, reader in readers.items():
            found = _parsed(read[tab], reader, ()) if tab in read else Parsed(())
            problems += found.problems
            if initial or not found.problems:
                self._good_availability[tab] = found.value
        for key in OPS_HEADERS:
            tab = getattr(tabs, key)
            self._ops_tabs[key] = (read[tab].value or []) if tab in read else []
        away, holidays, overrides = (self._good_availability.get(tab, ()) for tab in readers)
        config = replace(config, schedule=replace(schedule, holidays=replace(schedule.holidays, listed=holidays)))
        problems += _idle_cover(config.schedule, overrides, managers)
        return config, Availability(away, overrides)

    def _with_calendars(self, config: Config, managers: list[Manager], availability: Availability) -> Availability:
        """The Away tab's leave plus the managers' Calendar out-of-office, when CalendarOutOfOffice
        is yes. Read here, in the reload job, never in a request: it is a call per manager, paced."""
        if not config.calendar_out_of_office:
            return availability
        if self.out_of_office is None:
            self.problems.append("Configuration: CalendarOutOfOffice is yes, but calendars are read only in "
                                 "Google mode (the local workbook has no Google account); it is ignored")
            return availability
        now = self.clock()
        last = self._calendars_read
        if last is None or now - last[0] >= CALENDAR_EVERY or last[1] != managers:
            away, problems = self.out_of_office.read(managers, now - timedelta(days=1), now + CALENDAR_DAYS)
            self._calendars_read = last = (now, list(managers), away, problems)
        self.problems += last[3]
        return Availability(availability.away + last[2], availability.overrides)

    def _read_present(self, names: list[str]) -> dict[str, Parsed]:
        """Each tab's rows, read strictly. A missing tab is None with its problem; a damaged one is
        what could be read before the damage (used at start-up only), with its problem."""
        try:
            return {name: Parsed(rows) for name, rows in self.workbook.read_tabs(names, strict=True).items()}
        except TabNotFound as missing:
            tab, found = missing.tab, Parsed(None, [_sentence(str(missing))])
        except TabDamaged as damaged:
            tab, found = damaged.tab, Parsed(damaged.rows, [str(damaged)])
        rest = [name for name in names if name != tab]
        return {**(self._read_present(rest) if rest else {}), tab: found}

    def _report(self, problems: list[str], warnings: list[str], initial: bool) -> None:
        """Log what is wrong; `problems` (each tab's own) then `warnings` are what ops are shown."""
        for problem in problems:
            log.error("sheet: %s (%s)", problem, "defaults and valid rows used" if initial
                      else "the last good configuration stays in force")
        for warning in warnings:
            log.warning("sheet: %s", warning)
        if not problems and not warnings and self.problems:
            log.info("sheet: the Configuration and Managers tabs are fine again")
        self.problems = problems + warnings

    # --- events --------------------------------------------------------------------------

    def start_ticket(self, ticket_id: str, title: str, url: str) -> tuple[Ticket, bool]:
        if len(self.tracker) >= self.max_queued_rows and ticket_id not in self.cycle.state.tickets:
            raise Overloaded(f"the spreadsheet has not taken any write for a long time ({len(self.tracker)} "
                             f"Tracker rows wait); new tickets are refused until it does, retry later")

        def start(now: datetime):
            known = ticket_id in self.cycle.state.tickets
            link = url or self.config.ticket_url(ticket_id)
            ticket, effects = self.cycle.start(ticket_id, title, link, now, cycle=uuid.uuid4().hex[:16])
            return (_copy(ticket), not known), ([Started(now, ticket_id)] if not known else []) + effects
        return self._event(start, ticket_id, answered=True)

    def click(self, action: str, ticket_id: str, user_id: str, attempt: int | None, cycle: str = "") -> Answer:
        def answer(now: datetime):
            if action == "done":
                result = self.cycle.done(ticket_id, user_id, now, cycle)
            else:
                result = getattr(self.cycle, action)(ticket_id, user_id, now, attempt, cycle)
            return result, result.effects
        return self._event(answer, ticket_id, answered=True)

    def add_away(self, user_id: str, start: str, end: str, reason: str) -> Away | None:
        """A manager's own `away`: the row [them, start, end, reason] is checked as the Away tab's
        rows are, is in force at once, and goes to the Away tab with the next flush (journaled
        first). None when `user_id` is not in the Managers tab; LeaveError when the row is bad."""
        def run(now: datetime):
            manager = next((m for m in self.cycle.managers if m.chat_id == user_id), None)
            if manager is None:
                return None, []
            row = (_label(user_id, self.cycle.managers), start, end, reason)
            parsed = parse_away([AWAY_HEADER, list(row)], self.cycle.managers, self.config.schedule.zone)
            if parsed.problems:
                raise LeaveError(parsed.problems[0].partition(": ")[2])
            absence = replace(parsed.value[0], source="chat")
            if absence.end <= now:
                raise LeaveError("that time is over already")
            return absence, self.cycle.take_leave(absence, now) + [OpsRow("away", row)]
        return self._event(run, answered=True)

    def cover_request(self, user_id: str, day: date, shift: int | None, for_whom: str = "") -> CoverRequest:
        """What a manager's `cover <day> [shift N] [for NAME]` asks for: their (or, from a lead,
        NAME's) shift occurrence that day, not over and not covered yet. CoverError says why not.
        Nothing changes until someone Takes it, except that asking again undoes a `cover cancel`."""
        def run(now: datetime):
            slot, manager, asker, taken = self._cover_slot(user_id, day, shift, for_whom, now)
            if taken:
                raise CoverError(f"{taken} covers {'you' if manager is asker else manager.name} on that shift already")
            withdrawn = self.cycle.state.withdrawn
            withdrawn[manager.chat_id] = withdrawn.get(manager.chat_id, frozenset()) - {_cover_key(slot)}
            return CoverRequest(slot, manager.chat_id, manager.name, now, self.config.schedule.zone), []
        return self._event(run, answered=True, changed=True)

    def cancel_cover(self, user_id: str, day: date, shift: int | None, for_whom: str = "") -> CoverRequest:
        """`cover cancel <day> [shift N] [for NAME]`: a Take on that request's card is refused from
        now on (until it is asked again). CoverError when it was taken already, or cannot be."""
        def run(now: datetime):
            slot, manager, _, taken = self._cover_slot(user_id, day, shift, for_whom, now)
            if taken:
                raise CoverError(f"{taken} took it already: ask them, or have the Overrides tab edited")
            today = now.astimezone(self.config.schedule.zone).date().isoformat()
            withdrawn = self.cycle.state.withdrawn
            kept = {key for key in withdrawn.get(manager.chat_id, ()) if key >= today}  # past ones go
            withdrawn[manager.chat_id] = frozenset(kept | {_cover_key(slot)})
            return CoverRequest(slot, manager.chat_id, manager.name, now, self.config.schedule.zone), []
        return self._event(run, answered=True, changed=True)

    def _cover_slot(self, user_id: str, day: date, shift: int | None, for_whom: str, now: datetime):
        """The shift occurrence a cover request names, its manager, who asks, and who covers it
        already ("" if nobody; see cover_request)."""
        schedule = self.config.schedule
        asker = next((m for m in self.cycle.managers if m.chat_id == user_id and m.active), None)
        if asker is None:
            raise CoverError("only active managers listed in the Managers tab can ask for cover")
        manager = asker
        if for_whom:
            if not asker.lead:
                raise CoverError("only a lead (Lead = yes in the Managers tab) can ask on someone else's behalf")
            manager = resolve(for_whom, self.cycle.managers)
            if manager is None:
                raise CoverError(f"{plain(for_whom[:60])} is not one manager in the Managers tab (a name or a "
                                 f"GChat ID)")
        slots = [s for s in schedule.slots(day, day) if manager.works(s.shift) and shift in (None, s.shift)]
        who = "you have" if manager is asker else f"{manager.name} has"
        if not slots:
            raise CoverError(f"{who} no shift{f' {shift}' if shift else ''} on {day:%a} {day.day} {day:%b}")
        slots = [s for s in slots if s.end > now]
        if not slots:
            raise CoverError("that shift is over")
        if len(slots) > 1:
            raise CoverError(f"{'you work' if manager is asker else manager.name + ' works'} shifts "
                             f"{' and '.join(str(s.shift) for s in slots)} that day: say which, "
                             f"like cover {day.isoformat()} shift {slots[0].shift}")
        taken = self.cycle.availability.cover(slots[0].day, slots[0].shift).get(manager.chat_id)
        return slots[0], manager, asker, self.manager_name(taken) if taken else ""

    def take_cover(self, user_id: str, day: date, shift: int, instead_of: str, requested: str) -> str:
        """A Take on a cover request's card: the first valid one puts `user_id` on that shift
        occurrence in place of `instead_of` at once, and the Overrides tab gets its row with the
        next flush (journaled first). Returns who covers it; CoverError says why this Take cannot be."""
        def run(now: datetime):
            names = {m.chat_id: m.name for m in self.cycle.managers}
            taker = next((m for m in self.cycle.managers if m.chat_id == user_id and m.active), None)
            if taker is None:
                raise CoverError("only active managers listed in the Managers tab can take a shift")
            covered = self.cycle.availability.cover(day, shift).get(instead_of)
            if covered:
                return names.get(covered, covered), []
            if user_id == instead_of:
                raise CoverError("this is your own request: someone else has to take it")
            if f"{day.isoformat()}/{shift}" in self.cycle.state.withdrawn.get(instead_of, ()):
                raise CoverError(f"{names.get(instead_of, instead_of)} withdrew this request")
            if instead_of not in names or not 1 <= shift <= self.config.schedule.count:
                raise CoverError("this request no longer matches the Managers tab or the shifts")
            if abs((day - now.date()).days) > 400:  # no card asks that far off (and year 1 has no instant before it)
                raise CoverError("this request's day is not one the bot asks about")
            if self.config.schedule.occurrence(shift, day).end <= now:
                raise CoverError("that shift is over")
            asked = _when_asked(requested)
            row = (day.isoformat(), str(shift), _label(instead_of, self.cycle.managers), _label(user_id, self.cycle.managers),
                   iso(asked) if asked and asked <= now else "", iso(now))
            effects = self.cycle.take_cover(Override(day, shift, instead_of, user_id), now) + [OpsRow("overrides", row)]
            return taker.name, effects
        return self._event(run, answered=True)

    def end_away(self, user_id: str) -> Away | None | bool:
        """`away off`: the absence `user_id` is in ends now (whatever its source). The absence that
        ended; None when they were not away; False when they are not in the Managers tab."""
        def run(now: datetime):
            if not any(m.chat_id == user_id for m in self.cycle.managers):
                return False, []
            absence = self.cycle.availability.away_at(user_id, now)
            return absence, self.cycle.end_leave(user_id, now)
        return self._event(run, answered=True)

    def leave(self, user_id: str) -> tuple[datetime, list[Away]]:
        """`user_id`'s absences in force now or ahead, soonest first."""
        with self._lock:
            now = self.clock()
            ahead = [a for a in self.cycle.availability.absences(user_id) if a.end > now]
            return now, sorted(ahead, key=lambda a: a.start)

    def set_dnd(self, user_id: str, length: timedelta) -> DndChange | None:
        """A manager's own DND for `length` from now; None when `user_id` is not in the Managers tab."""
        return self._dnd(user_id, lambda now: self.cycle.rest(user_id, now + length, now))

    def end_dnd(self, user_id: str) -> DndChange | None:
        """A manager's own DND ends now (a waiting ticket is pinged to them at once if it can be);
        None when `user_id` is not in the Managers tab."""
        return self._dnd(user_id, lambda now: self.cycle.come_back(user_id, now))

    def _dnd(self, user_id: str, change: Callable[[datetime], list[Effect]]) -> DndChange | None:
        def run(now: datetime):
            manager = next((m for m in self.cycle.managers if m.chat_id == user_id), None)
            if manager is None:
                return None, []
            state = self.cycle.state
            was = state.dnd_until[user_id] if state.in_dnd(user_id, now) else None
            effects = change(now)
            held = self.cycle.index.held_by(user_id)
            holding = _copy(state.tickets[held[0]]) if held else None
            pinged = tuple(e.ticket_id for e in effects if isinstance(e, Ping) and e.manager.chat_id == user_id)
            on_shift = any(m.chat_id == user_id for m in self.cycle.on_shift(now)[1])
            until = state.dnd_until[user_id] if state.in_dnd(user_id, now) else None
            return DndChange(manager.name, now, until, was, holding, pinged, on_shift), effects
        return self._event(run, answered=True)

    def tick(self) -> None:
        self._event(lambda now: (None, self.cycle.tick(now)))

    def _event(self, change: Callable[[datetime], tuple[object, list[Effect]]], ticket_id: str = "",
               changed: bool = False, answered: bool = False):
        """Apply one change under the lock; journal it (fsynced) before anyone hears of it.

        `answered`: someone is waiting for the result (a start, a click, a command). While the
        journal cannot be written they get NotStored instead, before anything changes; if the
        journal fails on this very change, the change stays in memory (the flush still writes it,
        and the journal takes it up again once it works) but the caller hears 503, not a promise."""
        with self._lock:
            if answered and not self._journal_ready():
                raise NotStored(self._not_stored())
            now = self.clock()
            result, effects = change(now)
            kicks = self._apply(effects)
            stored = self._journal(now, effects, ticket_id) if effects or changed else True
            # After the journal: a crash between the two never tells a receiver what the bot forgot.
            self._record_outgoing(effects)
        for job in kicks:
            self.jobs.kick(job)
        if answered and not stored:
            raise NotStored(self._not_stored())
        return result

    def _not_stored(self) -> str:
        return f"the bot cannot write its journal ({self.degraded.get('journal', 'unknown error')}); nothing " \
               f"was stored, retry later"

    def _journal(self, now: datetime, effects: list[Effect], ticket_id: str, rows: list[list[str]] = ()) -> bool:
        """Journal the change (and any Tracker `rows` not from an effect); False (and the journal
        marked broken) when it could not be."""
        if self.journal is None:
            return True
        touched = {ticket_id} if ticket_id else set()
        touched |= {e.ticket_id for e in effects if isinstance(e, (Ping, Notice, Tracked))}
        tracked = [tracker_row(e) for e in effects if isinstance(e, Tracked)] + list(rows)
        ops_rows: dict[str, list[list[str]]] = {}
        for effect in effects:
            if isinstance(effect, OpsRow):
                ops_rows.setdefault(effect.tab, []).append(list(effect.row))
        if self._unjournaled is not None:  # broken since an earlier change: keep collecting
            self._unjournaled.add(touched, tracked)
            return self._journal_ready()
        try:
            self.journal.record(journal_entry(now, self.cycle.state, touched, tracked, ops_rows))
            if not self.journal.lost:
                return True
            self._unjournaled = Unjournaled(set(), [])  # its folder was made again: the rest is owed
        except JournalError as exc:
            self._unjournaled = Unjournaled(touched, tracked)
            self._degrade("journal", str(exc))
        # Once more at once: a folder deleted under the bot is made again, and nobody need hear 503.
        return self._journal_ready()

    def _journal_ready(self) -> bool:
        """True when the journal works: if it was broken, the changes it missed are written now
        (one entry; the whole state and every queued Tracker row if its files vanished)."""
        missed = self._unjournaled
        if self.journal is None or missed is None:
            return True
        if self.journal.lost:
            touched = set(self.cycle.state.tickets) | self._written_ticket_ids()
            tracked = self.tracker.waiting()
        else:
            touched, tracked = missed.tickets, missed.tracker
        try:
            self.journal.record(journal_entry(self.clock(), self.cycle.state, touched, tracked))
        except JournalError as exc:
            self.degraded["journal"] = str(exc)
            return False
        self.journal.lost = False
        self._unjournaled = None
        self._recover("journal")
        return True

    def _written_ticket_ids(self) -> set[str]:
        """Tickets the TicketState tab may hold (so a lost journal can say which left)."""
        return self._ticket_rows.ticket_ids()

    def _apply(self, effects: list[Effect]) -> set[str]:
        kicks: set[str] = set()
        for effect in effects:
            if isinstance(effect, Ping):
                request = self._ticket_request_id(effect.ticket_id, f"ping-{effect.attempt}")
                self.outbox.add(Delivery(effect.ticket_id, effect.attempt, request, ping=effect))
                kicks.add("deliver")
            elif isinstance(effect, Lapsed):
                if effect.message_id != REFUSED:  # a card Chat refused is not in the space
                    self.outbox.add(Delivery(effect.ticket_id, 0, "", kind="redraw", lapsed=effect))
                    kicks.add("deliver")
            elif isinstance(effect, Notice):
                attempts = self.cycle.state.tickets[effect.ticket_id].attempts
                request = self._ticket_request_id(effect.ticket_id, f"{effect.kind}-{effect.number}")
                self.outbox.add(Delivery(effect.ticket_id, attempts, request, text=effect.text, kind=effect.kind,
                                         mentions=effect.mentions))
                kicks.add("deliver")
            elif isinstance(effect, Announce):
                self.outbox.add(Delivery("", 0, _request_id("", effect.key), text=effect.text, kind="space",
                                         thread=f"rcabot-{effect.key}"))
                kicks.add("deliver")
            elif isinstance(effect, Tracked):
                self.tracker.add([effect])
                self.history.add(Event(effect.at, effect.ticket_id, effect.status, effect.manager_id,
                                       effect.manager_name))
                self.metrics.tracked(effect, self.cycle.state.tickets.get(effect.ticket_id))
                if len(self.tracker) >= self.config.batch_size:
                    kicks.add("flush")
            elif isinstance(effect, OpsRow):
                self.ops_rows.setdefault(effect.tab, []).append(list(effect.row))  # the next flush adds it
            elif isinstance(effect, SetTimer):
                self.jobs.set_timer(effect.key, effect.at)
            elif isinstance(effect, CancelTimer):
                self.jobs.cancel_timer(effect.key)
        return kicks

    def _record_outgoing(self, effects: list) -> None:
        """The effects' outgoing events, on disk with the journal entry (nothing without a target)."""
        if not self.outgoing.active:
            return
        tickets, done = self.cycle.state.tickets, self.cycle.recently_done
        events = hook_events(effects, lambda t: tickets.get(t) or done.get(t))
        if not events:  # nothing written: nothing to tell about the disk either
            return
        try:
            self.outgoing.record(events)
            self._recover("outgoing")
        except OSError as exc:  # still sent from memory; only a crash before delivery would lose them
            self._degrade("outgoing", f"cannot write the outgoing events to disk ({exc})")

    def _gave_up(self, target: str, event: HookEvent, why: str) -> None:
        """An event given up for a target: a Tracker row says so, and BotStatus (outgoing.problems)."""
        row = [iso(self.clock()), event.ticket_id, event.manager_name, "Undelivered", event.manager_id,
               f"{event.type} ({event.id}) to {target}: {why}"]
        with self._lock:
            self.tracker.add_rows([row])
            self._journal(self.clock(), [], "", rows=[row])  # the store forgets the event: the row must not be lost
        self._refresh_status()

    def _ticket_request_id(self, ticket_id: str, what: str) -> str:
        """Stable for this post of this cycle (a retry, even after a restart, posts once), and new
        for a ticket id started again: Chat answers a known request id with the old message."""
        ticket = self.cycle.state.tickets.get(ticket_id)
        cycle = ticket.cycle if ticket else ""
        return _request_id(ticket_id, f"{cycle}:{what}" if cycle else what)

    # --- jobs: delivery and flush --------------------------------------------------------

    def deliver(self) -> None:
        """Post what the outbox holds (pings first, each kind oldest first; lapsed cards redrawn
        with spare quota only); on a failure, stop and try again later."""
        with self._delivering:
            while True:
                with self._lock:
                    item = self.outbox.front(self._still_current)
                    if item is None:
                        return
                    space = self.config.space_id or self.default_space
                    try:
                        message = self._message(item, self.clock())
                    except Exception:  # noqa: BLE001 - one bad item must not hold up the queue behind it
                        log.exception("chat: the %s for %s cannot be made and is dropped", item.kind,
                                      item.ticket_id or "the space")
                        message = None
                if message is None:
                    self._event(lambda now: self._delivered(item, {"name": REFUSED}, now), item.ticket_id,
                                changed=True)
                    continue
                if item.redraw:
                    if not self._redraw(item, message):
                        return
                    continue
                if not self._paced(self.chat_pace, "deliver", 1):
                    return
                try:
                    thread = item.thread or thread_key(item.ticket_id)
                    posted = self.chat.create_message(space, message, thread_key=thread, request_id=item.request_id)
                except ChatError as exc:
                    if not exc.rejected:
                        self._retry_delivery(exc)
                        return
                    # Posting it again would fail again and hold up every message behind it. Count
                    # it as posted, so that a ping's time runs and the ticket moves on.
                    log.error("chat: Chat refused the %s for %s and it is dropped (%s)", item.kind,
                              item.ticket_id or "the space", exc)
                    posted = {"name": REFUSED}
                except Exception:  # noqa: BLE001 - not Chat's answer but a fault of ours: the same remedy
                    log.exception("chat: posting the %s for %s failed unexpectedly; it is dropped", item.kind,
                                  item.ticket_id or "the space")
                    posted = {"name": REFUSED}
                self._recover("chat")
                self._event(lambda now: self._delivered(item, posted, now), item.ticket_id, changed=True)

    def _still_current(self, item: Delivery) -> bool:
        """Worth posting still: a ping or a waiting notice while its ticket stands where it did, a
        reminder while its ticket is accepted, an escalation while its ticket is in the cycle."""
        if item.kind == "space":
            return True
        ticket = self.cycle.state.tickets.get(item.ticket_id)
        if ticket is None:
            return False
        if item.kind in ("ping", "waiting"):
            wanted = TicketStatus.PINGED if item.kind == "ping" else TicketStatus.WAITING
            return ticket.status is wanted and ticket.attempts == item.attempt
        return item.kind != "reminder" or ticket.status is TicketStatus.ACCEPTED

    def _redraw(self, item: Delivery, message: Message) -> bool:
        """Redraw a lapsed card if the space's writes have room to spare, else drop it: it must not
        hold up a ping or a notice. False when it waits for the pace's next second."""
        now = self.clock()
        if self.chat_pace.room(now) <= REDRAW_LEAVES:
            log.info("chat: the lapsed card of %s keeps its buttons: the space's writes are busy", item.ticket_id)
        elif (wait := self.chat_pace.take(now)) > 0:  # one step: the project's cap is shared by the teams
            self.jobs.retry_later("deliver", wait)
            return False
        else:
            try:
                self.chat.update_message(item.lapsed.message_id, message)
            except Exception as exc:  # noqa: BLE001 - a redraw is a nicety: whatever fails, it is dropped
                log.warning("chat: the lapsed card of %s could not be redrawn and keeps its buttons (%s)",
                            item.ticket_id, exc)
        with self._lock:
            self.outbox.posted(item)
        return True

    def _message(self, item: Delivery, now: datetime) -> Message:
        if item.lapsed is not None:
            now_at = self.cycle.state.tickets.get(item.ticket_id)
            shown = now_at or self.cycle.recently_done.get(item.ticket_id) or Ticket(item.ticket_id)
            return lapsed_message(shown, item.lapsed.manager_name, now_at)
        if item.ping is None:
            return notice_message(item.text, item.mentions)
        ping, timeout = item.ping, self.cycle.rules.ticket_timeout
        # Posted late, the ping's timeout counts from its posting: the card says so.
        return ping_message(Ticket(ping.ticket_id, ping.title, ping.url, cycle=ping.cycle), ping.manager.chat_id, ping.manager.name,
                            ping.attempt, self.cycle.posted_deadline(ping.deadline, now),
                            int(timeout.total_seconds()), ping.note, zone=self.config.schedule.zone,
                            style=self.chat.buttons)

    def _delivered(self, item: Delivery, posted: Message, now: datetime):
        self.outbox.posted(item)
        thread = (posted.get("thread") or {}).get("name", "")
        if item.kind not in ("ping", "waiting"):
            return None, []
        return None, self.cycle.delivered(item.ticket_id, item.attempt, posted.get("name", ""), thread, now,
                                          notice=item.notice)

    def _retry_delivery(self, exc: ChatError) -> None:
        self._retries += 1
        delay = min(2 ** self._retries, 60)
        self._degrade("chat", f"posting failed ({exc}); retrying in {delay} s")
        self.jobs.retry_later("deliver", delay)

    def flush(self, paced: bool = True) -> None:
        """Write the state that changed and the waiting Tracker rows (one request), then forget
        the journal entries the workbook now holds. Unpaced only at shutdown: one request over
        the quota at worst, where waiting would outlast the server's grace period."""
        with self._flushing:
            if not self._add_ops_rows():
                return
            plan = self._flush_snapshot(paced)
            if plan is None:
                return
            tabs, writes, revision, whole = plan.tabs, plan.writes, plan.revision, plan.whole
            update = {tabs.tickets: plan.changed_rows} if plan.changed_rows and not whole else {}
            if whole and not self.workbook.rows_in_place:  # a file written whole needs no blank rows
                writes = {**writes, tabs.tickets: [row for row in writes[tabs.tickets] if row]}
            appended = {tabs.tracker: plan.batch} if plan.batch else {}
            try:
                try:
                    self.rollover.write(writes, appended, update)
                except TabNotFound as missing:
                    revision = revision or self._next_revision()
                    writes, update, whole = self._remake_tabs(missing.tab, plan.small, revision), {}, True
                    self.workbook.write(writes, appended)
            except WorkbookError as exc:
                self._count_grid_growths(plan.growth)  # a growth may have gone through before the write failed
                self._degrade("workbook", f"writing failed ({exc}); the rows stay queued for the next flush")
                return
            self._count_grid_growths(plan.growth)
            with self._lock:
                self._written.update({tab: plan.small[tab] for tab in writes if tab in plan.small})
                self._ticket_rows.written(whole, plan.changed_rows)
                self.tracker.written(len(plan.batch))
                if plan.missed is not None:  # the workbook holds them now: the journal need not take them up
                    del plan.missed.tracker[:plan.missed_rows]
            if self.journal:
                if writes:
                    self._keep_state_copy(plan, revision, whole)
                self.journal.discard(plan.sealed)
                self._keep_paces()
            self._recover("workbook")
        self._journal_ready_locked()

    def _keep_paces(self) -> None:
        now = self.clock()
        with self._lock:
            paces = {name: [iso(t) for t in pace.sent(now)] for name, pace in self._paces().items()}
        self.journal.save_paces(paces)

    def _wait_for_writes(self, calls: int) -> None:
        """Wait (at most a minute) until the Sheets pace has room for `calls`, and count them."""
        waited = 0.0
        while (wait := self.sheets_pace.take(self.clock(), calls)) > 0 and waited < 61:
            time.sleep(min(wait, 61 - waited))
            waited += wait

    def _restore_paces(self) -> None:
        """Count the Google writes the process before this one made in the last minute."""
        if self.journal is None:
            return
        now, paces = self.clock(), self._paces()
        for name, times in self.journal.paces().items():
            if name in paces:
                paces[name].restore([t for t in map(_time_or_none, times) if t], now)

    def _paces(self) -> dict[str, Pace]:
        return {"sheets": self.sheets_pace, "chat": self.chat_pace}

    def _count_grid_growths(self, paced: bool) -> None:
        """A write that first grew a tab's grid was two requests: the second counts in the pace too,
        unless the flush counted it already (`paced`: it saw the grid nearly full)."""
        grown = self.workbook.grid_growths
        unpaced = grown - self._growths_counted - int(paced)
        if unpaced > 0:
            self.sheets_pace.record(self.clock(), unpaced)
        self._growths_counted = grown

    def _keep_state_copy(self, plan: FlushPlan, revision: int, whole: bool) -> None:
        """The journal's copy of the state write that just landed (see _newest_state): the rows
        that changed, or the whole of it now and then."""
        tabs = plan.tabs
        small = {tab: rows for tab, rows in plan.small.items() if tab != tabs.status}
        if whole or not self.journal.save_state_changes(revision, small, {tabs.tickets: plan.changed_rows}):
            # Flushes take turns: nobody changes the TicketState rows while this one runs.
            self.journal.save_state(revision, {**small, tabs.tickets: self._ticket_rows.table()})

    def _flush_snapshot(self, paced: bool) -> FlushPlan | None:
        """What this flush writes, taken under the bot's lock (None: nothing fits the pace now).
        It costs what changed since the last flush, however many tickets are open."""
        with self._lock:
            tabs, rows, index = self.config.tabs, self._ticket_rows, self.cycle.index
            small = small_state_rows(self.cycle.state, tabs)
            if self._status_rows:
                small[tabs.status] = self._status_rows
            changed = {tab: r for tab, r in small.items() if self._written.get(tab) != r}
            tickets_changed = bool(index.changed) or rows.whole or bool(rows.changes())
            batch = self.tracker.waiting()
            calls = int(bool(changed or tickets_changed or batch))
            growth = bool(calls and self.workbook.grows_soon([tabs.tracker, tabs.tickets]))
            calls += growth  # the grid's growth goes first, a write of its own
            if paced and not self._paced(self.sheets_pace, "flush", calls):
                return None  # before any ticket's row is built: a flush the pace refuses costs nothing
            if not paced:
                self.sheets_pace.record(self.clock(), calls)  # the shutdown's: the next process counts it
            if index.changed:
                rows.update(self.cycle.state, index, index.take_changed())
            now = self.clock()
            if tickets_changed and now - self._tickets_whole_at >= WHOLE_TICKET_STATE_EVERY:
                rows.whole = True  # now and then: rows moved or edited by hand in the tab are put right
            changed_rows = rows.changes()
            whole = rows.whole or bool(changed_rows and not self.workbook.rows_in_place)
            if whole:
                changed[tabs.tickets] = rows.table()
                self._tickets_whole_at = now
            revision = self._next_revision() if changed or changed_rows else 0
            if revision:  # the revision row goes with every state write
                changed[tabs.state] = small[tabs.state] + [revision_row(revision, self.clock())]
            # Sealed with the snapshot: what the journal holds from here on is not in this flush.
            sealed = self._seal()
            missed = self._unjournaled
            return FlushPlan(tabs, small, changed, changed_rows, whole, batch, revision, sealed, missed,
                             len(missed.tracker) if missed else 0, growth)

    def _add_ops_rows(self) -> bool:
        """Add the rows owed to the Away and Overrides tabs (values.append: ops may have added rows
        since the last read), before the flush seals the journal that holds them; False when that
        failed (the flush waits: the journal still has them, and nothing is written out of order)."""
        for key, header in OPS_HEADERS.items():
            with self._lock:
                owed = list(self.ops_rows.get(key, []))
                tab = getattr(self.config.tabs, key)
            if not owed:
                continue
            try:
                if tab not in self.workbook.tab_names():
                    self.workbook.ensure_tabs({tab: header})
                    self._ops_tabs[key] = [list(header)]
                self.workbook.add_rows(tab, [_in_order(row, self._ops_tabs.get(key, []), key) for row in owed])
            except WorkbookError as exc:
                self._degrade("workbook", f"adding {len(owed)} rows to {tab} failed ({exc}); they stay queued")
                return False
            with self._lock:
                del self.ops_rows[key][:len(owed)]
                self._ops_added += [(self.clock(), key, row) for row in owed]  # until a reload has read them
            log.info("sheet: added %d rows to the %s tab", len(owed), tab)
        return True

    def _seal(self) -> list:
        """The journal files this flush will make redundant ([] when it cannot be sealed: they stay,
        and replaying them later changes nothing)."""
        if self.journal is None:
            return []
        try:
            return self.journal.seal()
        except JournalError as exc:
            self._degrade("journal", str(exc))
            return []

    def _journal_ready_locked(self) -> None:
        """The flush job also brings a broken journal back, so /healthz recovers without traffic."""
        with self._lock:
            self._journal_ready()

    def _remake_tabs(self, missing: str, small: dict[str, list[list[str]]], revision: int) -> dict[str, list]:
        """A bot tab went missing (deleted by hand): make every missing one again with its header,
        say so, and return the whole state to write (a remade state tab is filled at once)."""
        tabs = self.config.tabs
        made = self.workbook.ensure_tabs({**headers(tabs), tabs.status: STATUS_HEADER})
        note = (f"{missing}: the tab was missing (deleted?) and the bot made it again with its header "
                f"({', '.join(made) or missing} remade); rows it held before are not in it")
        log.error("workbook: %s", note)
        with self._lock:
            self.problems = [*self.problems, note]  # until the next reload
        self._refresh_status()
        return {**small, tabs.tickets: self._ticket_rows.table(),
                tabs.state: small[tabs.state] + [revision_row(revision, self.clock())]}

    def _next_revision(self) -> int:
        """Each state write's revision: its time in ms, and always above the last one."""
        self._revision = max(self._revision + 1, int(self.clock().timestamp() * 1000))
        return self._revision

    def _paced(self, pace: Pace, job: str, calls: int) -> bool:
        """True when `calls` more writes fit in the quota now (and counts them); else `job` runs later."""
        wait = pace.take(self.clock(), calls)  # one step: the Sheets pace may be shared by many teams' bots
        if wait > 0:
            self.jobs.retry_later(job, wait)
            return False
        return True

    def _degrade(self, part: str, why: str) -> None:
        log.error("%s: %s", part, why)
        self.degraded[part] = why

    def _recover(self, part: str) -> None:
        if self.degraded.pop(part, None):
            log.info("%s: working again", part)
        if part == "chat":
            self._retries = 0

    def close(self, within_quota: bool = False) -> int:
        """Stop the jobs and write what is still pending (at shutdown). Returns the number of
        Tracker rows that last flush wrote (the shutdown line says it).

        The last flush goes even when the minute's Sheets writes are spent (one request over, at
        worst), unless `within_quota` (many teams' bots stopping together): then, with no room, it
        is left to the journal, which the next start writes."""
        self.jobs.shutdown()
        self.outgoing.stop()
        waiting = len(self.tracker)
        if within_quota and self.journal is not None and self.sheets_pace.delay(self.clock()) > 0:
            log.warning("shutdown: the Sheets write quota the teams share is spent; %d Tracker rows and the state "
                        "wait in the journal for the next start", waiting)
        else:
            self.flush(paced=False)
        if self.journal:
            self.journal.close()
        return waiting - len(self.tracker)

    # --- views ---------------------------------------------------------------------------

    def ticket(self, ticket_id: str) -> dict | None:
        with self._lock:
            ticket = self.cycle.state.tickets.get(ticket_id)
            if ticket is not None:
                return ticket_view(ticket)
            done = self.cycle.recently_done.get(ticket_id)
            return {**ticket_view(done), "status": "Completed"} if done else None

    def degraded_now(self) -> dict[str, str]:
        """What is degraded, as /healthz and the metrics say it: the parts that failed last, and a
        scheduler that stopped."""
        problems = dict(self.degraded)
        scheduler = getattr(self.jobs, "scheduler", None)
        if scheduler is not None and not scheduler.running:
            problems["scheduler"] = "the scheduler is not running"
        return problems

    def status(self) -> dict:
        with self._lock:
            now, state = self.clock(), self.cycle.state
            schedule = self.config.schedule
            slot, on = self.cycle.on_shift(now)
            present = {m.chat_id for m in on}
            availability = self.cycle.availability
            holding = {t.manager_id: t.ticket_id for t in state.tickets.values() if t.status is TicketStatus.PINGED}
            holiday = schedule.holidays.on(now.astimezone(schedule.zone).date())
            covers = availability.cover(slot.day, slot.shift) if slot else {}  # this shift's: instead of -> by
            return {
                "now": iso(now), "shift": slot.shift if slot else 0, "shifts": schedule.count,
                "time_zone": str(schedule.zone), "next_shift_start": iso(schedule.next_start(now)) or None,
                "holiday": holiday.name if holiday else None,
                "covers": [{"instead_of": instead, "covered_by": by} for instead, by in covers.items()],
                "managers": [manager_view(m, m.chat_id in present, state, holding, now,
                                          availability.away_at(m.chat_id, now)) for m in self.cycle.managers],
                "tickets": [ticket_view(t) for t in state.tickets.values()],
                "waiting": sum(t.status is TicketStatus.WAITING for t in state.tickets.values()),
                "problems": list(self.problems), "degraded": dict(self.degraded),
                "queued": {"messages": len(self.outbox), "tracker_rows": len(self.tracker)},
                "outgoing": self.outgoing.view(),
            }

    def rota(self) -> tuple[ShiftSchedule, list[Manager], Availability, datetime]:
        """The schedule, the team, leave and cover, and the time, taken together from memory (for
        the shift calendar and `who <date>`)."""
        with self._lock:
            return self.config.schedule, list(self.cycle.managers), self.cycle.availability, self.clock()

    def board(self) -> Board:
        """The shift, the team and the tickets as they stand, for the views."""
        with self._lock:
            return self.cycle.board(self.clock())

    def stats(self, window: timedelta) -> tuple[datetime, dict[str, ManagerStats]]:
        """Per manager, what their pings came to over the last `window` (from the Tracker in memory)."""
        with self._lock:
            since = self.clock() - window
            return since, self.history.stats(since)

    def manager_name(self, chat_id: str) -> str:
        return next((m.name for m in self.cycle.managers if m.chat_id == chat_id), chat_id)


def ticket_view(t: Ticket) -> dict:
    manager = {"name": t.manager_name, "chat_id": t.manager_id} if t.manager_id else None
    return {"ticket_id": t.ticket_id, "title": t.title, "url": t.url, "status": t.status.value,
            "manager": manager, "pinged_at": iso(t.pinged_at) or None, "deadline": iso(t.deadline) or None,
            "attempts": t.attempts, "thread": t.thread_id or None,
            "message": t.message_id or None}  # the ping card (or waiting notice) in the space; None: not yet


def manager_view(m: Manager, on_shift: bool, state: BotState, holding: dict[str, str], now: datetime,
                 away: Away | None = None) -> dict:
    return {"name": m.name, "chat_id": m.chat_id, "email": m.email,
            "shifts": "all" if m.shifts is None else ",".join(map(str, sorted(m.shifts))),
            "active": m.active, "on_shift": on_shift,
            "away": {"until": iso(away.end), "reason": away.reason, "source": away.source} if away else None,
            "dnd_until": iso(state.dnd_until[m.chat_id]) if state.in_dnd(m.chat_id, now) else None,
            "holding": holding.get(m.chat_id)}


def _older(row: list[str], since: datetime) -> bool | None:
    """Whether a Tracker row is from before `since`; None when its Timestamp is not a time."""
    try:
        at = parse_iso(row[0]) if row else None
    except ValueError:
        return None
    return None if at is None else at < since


def _time_or_none(text: str) -> datetime | None:
    try:
        return parse_iso(text)
    except ValueError:
        return None


def _request_id(ticket_id: str, what: str) -> str:
    # The same post always gets the same id, so a create retried (even after a restart) posts once.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"rcabot:{ticket_id}:{what}"))


def _copy(ticket: Ticket) -> Ticket:
    return replace(ticket)


def _parsed(read: Parsed, parse: Callable[[list[list[str]]], Parsed], empty) -> Parsed:
    """A tab's parse. A tab that could not be read whole counts for its read problem alone (what
    follows from reading half a tab is noise); a missing one gives `empty`."""
    if read.value is None:
        return Parsed(empty, read.problems)
    parsed = parse(read.value)
    return Parsed(parsed.value, read.problems) if read.problems else parsed


def _idle_cover(schedule: ShiftSchedule, overrides: tuple[Override, ...], managers: list[Manager]) -> list[str]:
    """Cover that no longer matches a shift that runs (the shift times, days or holidays changed
    since it was written): reported, so that nobody counts on it in silence."""
    names = {m.chat_id: m.name for m in managers}
    return [f"Overrides row {o.row}: {names.get(o.covered_by, o.covered_by)} covering "
            f"{names.get(o.instead_of, o.instead_of)} on shift {o.shift} of {o.day.isoformat()} matches no shift that "
            f"runs that day; it is not used"
            for o in overrides if not schedule.runs(o.shift, o.day, schedule.holidays.on(o.day))]


def _when_asked(text: str) -> datetime | None:
    """The Take button's `requested` time; None for anything else (it comes from a client, and
    only a time of ours goes into the sheet)."""
    try:
        return parse_iso(text)
    except (ValueError, OverflowError):
        return None


def _cover_key(slot: Slot) -> str:
    return f"{slot.day.isoformat()}/{slot.shift}"


def _label(chat_id: str, managers: list[Manager]) -> str:
    """How a row the bot adds names a manager: by name, as ops write it, unless the name is shared."""
    named = [m for m in managers if m.chat_id == chat_id]
    if not named:
        return chat_id
    same = [m for m in managers if m.name.casefold() == named[0].name.casefold()]
    return named[0].name if len(same) == 1 else chat_id


@dataclass(frozen=True)
class CoverRequest:
    """A manager's ask for cover of one shift occurrence (the `cover` command's card says it)."""

    slot: Slot
    instead_of: str
    name: str
    at: datetime
    zone: object


def _stripped(row: list[str]) -> list[str]:
    """A row as compared with what the tab holds: cells stripped, trailing blanks dropped."""
    return trimmed([cell.strip() for cell in row])


def _in_order(row: list[str], tab: list[list[str]], key: str = "away") -> list[str]:
    """A row in OPS_HEADERS[key] order, laid out in the tab's own column order (ops may have moved
    or added columns; a column of ours the tab lacks is left out)."""
    ours_header = OPS_HEADERS[key]
    header = [normalize(cell) for cell in tab[0]] if tab else [normalize(h) for h in ours_header]
    ours = {normalize(h): value for h, value in zip(ours_header, row)}
    return [ours.get(name, "") for name in header]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
