"""The bot-owned tabs as a copy of the in-memory state, and back (at start-up).

Times are ISO 8601 in UTC (`2026-11-22T10:15:00Z`). Reading is by header name and forgiving:
a row that cannot be understood is reported and kept in the cycle as well as it can be, never
dropped (a ticket with an unreadable deadline waits and is pinged again).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Mapping, Sequence

from .config import TabNames, normalize
from .history import Event
from .model import BotState, Ticket, TicketStatus, Track, chat_user_id
from .ticket_index import TicketIndex
from .workbook.cells import trimmed

log = logging.getLogger(__name__)

TICKET_HEADER = ["Ticket", "Title", "URL", "Status", "Manager Name", "Manager GChat ID", "Message ID",
                 "Thread ID", "Pinged At", "Deadline", "Attempts", "Started At", "Accepted At", "Escalated",
                 "Reminders", "Passed By", "Cycle"]
MANAGER_HEADER = ["Manager GChat ID", "Last Activity", "DND Until", "Back At", "Cover Withdrawn"]
POINTER_HEADER = ["Shift", "Last Manager GChat ID", "Updated At"]
TRACKER_HEADER = ["Timestamp", "Ticket", "Manager Name", "Status", "Manager GChat ID", "Detail"]


REVISION = "Revision"  # a StateManagement row: which state write the tabs hold


def revision_row(revision: int, now: datetime) -> list[str]:
    return [REVISION, str(revision), iso(now)]


def revision_of(rows: Sequence[Sequence[str]]) -> int | None:
    """The revision a StateManagement tab holds (None: none, as in sheets of the older bot)."""
    for row in rows[1:]:
        if len(row) > 1 and row[0].strip() == REVISION and row[1].strip().isdecimal():
            return int(row[1])
    return None


def headers(tabs: TabNames) -> dict[str, list[str]]:
    return {tabs.state: POINTER_HEADER, tabs.tickets: TICKET_HEADER,
            tabs.manager_state: MANAGER_HEADER, tabs.tracker: TRACKER_HEADER}


def iso(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def parse_iso(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --- state -> rows -----------------------------------------------------------------------

def state_rows(state: BotState, tabs: TabNames) -> dict[str, list[list[str]]]:
    return {
        tabs.tickets: [TICKET_HEADER] + [_ticket_row(t) for t in state.tickets.values()],
        tabs.manager_state: [MANAGER_HEADER] + _manager_rows(state),
        tabs.state: [POINTER_HEADER] + _pointer_rows(state),
    }


def small_state_rows(state: BotState, tabs: TabNames) -> dict[str, list[list[str]]]:
    """The state tabs a row a manager or a shift (built whole at each flush: they are small)."""
    return {tabs.manager_state: [MANAGER_HEADER] + _manager_rows(state),
            tabs.state: [POINTER_HEADER] + _pointer_rows(state)}


class TicketRows:
    """The TicketState tab as the open tickets make it, kept by rebuilding only the rows of the
    tickets that changed, and written the same way: a flush with 100,000 tickets open builds and
    sends what changed, not 100,000 rows.

    Each ticket keeps its row (its slot) while it is in the cycle, so a change is one row written
    in place. A ticket that leaves blanks its row; a new one takes a row after the last, so the
    rows stay in arrival order (start-up reads them so, and skips blank ones). Once blank rows
    outnumber the tickets, the rows are packed again and the tab is written whole.
    """

    PACK_AT = 1000  # blank rows are packed away once there are this many and more than tickets

    def __init__(self, state: BotState, index: TicketIndex) -> None:
        self._slots: list[list[str]] = []  # the tab's rows below the header; [] is a blank row
        self._place: dict[str, tuple[int, int]] = {}  # ticket -> (arrival seq, slot)
        self._unwritten: dict[int, list[str]] = {}  # slot -> its row, not yet in the tab
        self._gone: set[str] = set()  # tickets whose blanked row is not yet in the tab
        self.whole = True  # the tab must be written whole (as at start-up, until known equal)
        self._table: list[list[str]] | None = None
        self._place_all(state, index)

    def _place_all(self, state: BotState, index: TicketIndex) -> None:
        self._slots = [_ticket_row(t) for t in state.tickets.values()]
        self._place = {tid: (index.seq(tid), slot) for slot, tid in enumerate(state.tickets)}
        self._unwritten, self.whole, self._table = {}, True, None

    def update(self, state: BotState, index: TicketIndex, changed: Sequence[str]) -> None:
        """Take in the tickets changed (or gone) since the last update, as `index.take_changed` lists them."""
        arrived: list[tuple[int, str]] = []
        for tid in changed:
            ticket, place = state.tickets.get(tid), self._place.get(tid)
            if ticket is not None and place is not None and place[0] == index.seq(tid):
                self._put(place[1], _ticket_row(ticket))  # in its place
                continue
            if place is not None:  # gone, or back after Done: its old row goes blank
                del self._place[tid]
                self._put(place[1], [])
                self._gone.add(tid)
            if ticket is not None:
                arrived.append((index.seq(tid), tid))
        for seq, tid in sorted(arrived):  # after the last row, in arrival order
            self._place[tid] = (seq, len(self._slots))
            self._slots.append([])
            self._put(len(self._slots) - 1, _ticket_row(state.tickets[tid]))
        while self._slots and not self._slots[-1]:  # blank rows at the end: the next tickets take them
            self._slots.pop()
        if changed:
            self._table = None
        if len(self._slots) - len(self._place) > max(self.PACK_AT, len(self._place)):
            self._place_all(state, index)

    def align(self, held: Sequence[Sequence[str]], rows_in_tab: int | None) -> None:
        """Start from the tab as read (header first, blank rows left out): when it holds these
        tickets in these rows (`rows_in_tab`, blank ones counted, says none was left out), only
        the rows that read differently are written, not the whole tab."""
        held = [trimmed(row) for row in held if any(str(cell).strip() for cell in row)]
        if not held or held[0] != trimmed(TICKET_HEADER) or rows_in_tab != len(held) or \
                len(held) - 1 != len(self._slots) or \
                any(row[:1] != slot[:1] for row, slot in zip(held[1:], self._slots)):
            self.whole = True
            return
        self.whole = False
        self._unwritten = {n: slot for n, (row, slot) in enumerate(zip(held[1:], self._slots)) if row != trimmed(slot)}

    def _put(self, slot: int, row: list[str]) -> None:
        self._slots[slot] = row
        self._unwritten[slot] = row

    def table(self) -> list[list[str]]:
        """The tab's rows, header first, blank rows included (the same list until something changes)."""
        if self._table is None:
            self._table = [TICKET_HEADER] + self._slots
        return self._table

    def changes(self) -> dict[int, list[str]]:
        """The rows not yet in the tab, by row number (the header is row 1); a blank row is []."""
        return {slot + 2: row for slot, row in self._unwritten.items()}

    def written(self, whole: bool, rows: dict[int, list[str]]) -> None:
        """The tab took `rows` (the whole of `table()` as it was, with `whole`): rows changed since
        stay unwritten."""
        if whole:
            self.whole = False
        for number, row in rows.items():
            if self._unwritten.get(number - 2) is row:
                del self._unwritten[number - 2]
        if not self._unwritten:
            self._gone.clear()

    def ticket_ids(self) -> set[str]:
        """Every ticket the tab may hold a row of."""
        return set(self._place) | self._gone


def _manager_rows(state: BotState) -> list[list[str]]:
    return [[who, iso(state.last_activity.get(who)), iso(state.dnd_until.get(who)), iso(state.back_at.get(who)),
             " ".join(sorted(state.withdrawn.get(who, ())))]
            for who in sorted(set(state.dnd_until) | set(state.last_activity) | set(state.back_at) | set(state.withdrawn))]


def _pointer_rows(state: BotState) -> list[list[str]]:
    return [[str(shift), who, iso(state.pointer_updated.get(shift))] for shift, who in sorted(state.last_pinged.items())]


# --- the journal: one event's rows, and replaying them over the workbook's -------------------

def journal_entry(now: datetime, state: BotState, touched: set[str], tracker: list[list[str]],
                  ops_rows: Mapping[str, list[list[str]]] | None = None) -> dict:
    """Whole rows: each touched ticket's (None once it left the cycle), and the two small tabs;
    `ops_rows`: rows bound for tabs ops edit too ({"away": [...]}), added by the next flush."""
    tickets = {tid: (_ticket_row(state.tickets[tid]) if tid in state.tickets else None) for tid in sorted(touched)}
    entry = {"at": iso(now), "tickets": tickets, "managers": _manager_rows(state),
             "pointers": _pointer_rows(state), "tracker": tracker}
    if ops_rows:
        entry["ops_rows"] = {tab: list(rows) for tab, rows in ops_rows.items()}
    return entry


def replay(saved: Mapping[str, Sequence[Sequence[str]]], entries: Sequence[dict],
           tabs: TabNames) -> dict[str, list[list[str]]]:
    """The state tabs as they would be had every journaled change reached the workbook."""
    tables = {tab: [list(row) for row in rows] for tab, rows in saved.items()}
    if not entries:
        return tables
    ticket_rows = tables.get(tabs.tickets) or [TICKET_HEADER]
    tickets = {row[0]: row for row in ticket_rows[1:] if row}
    for entry in entries:
        for ticket_id, row in entry.get("tickets", {}).items():
            if row is None:
                tickets.pop(ticket_id, None)
            else:
                tickets[ticket_id] = row
    last = entries[-1]
    tables[tabs.tickets] = [ticket_rows[0]] + list(tickets.values())
    tables[tabs.manager_state] = [MANAGER_HEADER] + last.get("managers", [])
    tables[tabs.state] = [POINTER_HEADER] + last.get("pointers", [])
    return tables


def _ticket_row(t: Ticket) -> list[str]:
    return [t.ticket_id, t.title, t.url, t.status.value, t.manager_name, t.manager_id, t.message_id,
            t.thread_id, iso(t.pinged_at), iso(t.deadline), str(t.attempts), iso(t.started_at), iso(t.accepted_at),
            "yes" if t.escalated else "", str(t.reminders or ""), " ".join(t.passed_by), t.cycle]


# --- rows -> state -----------------------------------------------------------------------

def load_state(tables: Mapping[str, Sequence[Sequence[str]]], tabs: TabNames) -> BotState:
    state = BotState()
    for record in _records(tables.get(tabs.tickets, [])):
        ticket = _ticket(record)
        if ticket.ticket_id:
            state.tickets[ticket.ticket_id] = ticket
    for record in _records(tables.get(tabs.manager_state, [])):
        who = chat_user_id(record.get("managergchatid", ""))
        _put(state.dnd_until, who, record.get("dnduntil", ""))
        _put(state.last_activity, who, record.get("lastactivity", ""))
        _put(state.back_at, who, record.get("backat", ""))
        if who and record.get("coverwithdrawn", "").split():
            state.withdrawn[who] = frozenset(record["coverwithdrawn"].split())
    for record in _records(tables.get(tabs.state, [])):
        shift, who = record.get("shift", ""), chat_user_id(record.get("lastmanagergchatid", ""))
        if shift.strip().isdecimal() and who:
            state.last_pinged[int(shift)] = who
            _put(state.pointer_updated, int(shift), record.get("updatedat", ""))
    return state


def _records(rows: Sequence[Sequence[str]]) -> list[dict[str, str]]:
    if not rows:
        return []
    names = [normalize(h) for h in rows[0]]
    return [{name: (row[i] if i < len(row) else "") for i, name in enumerate(names)} for row in rows[1:]]


def _ticket(record: dict[str, str]) -> Ticket:
    ticket = Ticket(record.get("ticket", "").strip(), record.get("title", ""), record.get("url", ""),
                    message_id=record.get("messageid", ""), thread_id=record.get("threadid", ""),
                    escalated=record.get("escalated", "").strip().lower() == "yes",
                    passed_by=tuple(dict.fromkeys(chat_user_id(who) for who in record.get("passedby", "").split())),
                    cycle=record.get("cycle", "").strip())
    try:
        ticket.started_at, ticket.accepted_at = parse_iso(record.get("startedat", "")), \
            parse_iso(record.get("acceptedat", ""))
        ticket.reminders = int(record.get("reminders", "") or 0)
    except ValueError as exc:  # rows of the older bot have none of these; a bad one costs only its extras
        log.error("TicketState: %s: %s (escalation and reminders count from now)", ticket.ticket_id, exc)
    try:
        status = TicketStatus(record.get("status", "").strip())
        attempts = int(record.get("attempts", "0") or 0)
        pinged_at, deadline = parse_iso(record.get("pingedat", "")), parse_iso(record.get("deadline", ""))
    except ValueError as exc:
        log.error("TicketState: %s cannot be read (%s); it waits and will be pinged again", ticket.ticket_id, exc)
        return ticket
    if status is TicketStatus.PINGED and deadline is None:
        log.error("TicketState: %s is Pinged with no deadline; it waits and will be pinged again", ticket.ticket_id)
        return ticket
    ticket.status, ticket.attempts, ticket.pinged_at, ticket.deadline = status, attempts, pinged_at, deadline
    if status is not TicketStatus.WAITING:
        ticket.manager_name = record.get("managername", "")
        ticket.manager_id = chat_user_id(record.get("managergchatid", ""))
    return ticket


def _put(target: dict, key, text: str) -> None:
    try:
        moment = parse_iso(text)
    except ValueError:
        log.error("state: %r is not an ISO time; ignored for %s", text, key)
        return
    if key and moment:
        target[key] = moment


# --- Tracker rows -> history ------------------------------------------------------------

def rows_to_reach(rows: Sequence[Sequence[str]], since: datetime) -> int | None:
    """How many more Tracker rows back `since` is, at the pace of `rows` (the oldest first): the
    Tracker is in time order, so a month of a busy team is read in two requests, not five."""
    try:
        oldest, newest = parse_iso(rows[0][0]) if rows[0] else None, parse_iso(rows[-1][0]) if rows[-1] else None
    except ValueError:
        return None
    if oldest is None or newest is None or newest <= oldest:
        return None
    if oldest < since:
        return 0
    return int(len(rows) * (oldest - since) / (newest - oldest) * 1.2) + 100  # a little more than the pace says


def event_from_row(row: Sequence[str]) -> Event | None:
    """A Tracker row (Timestamp, Ticket, Manager Name, Status, Manager GChat ID, Detail), or None
    if it cannot be read (an ops note, an unknown status): the stats skip it."""
    cells = list(row) + [""] * (5 - len(row))
    try:
        at, status = parse_iso(cells[0]), Track(cells[3].strip())
    except ValueError:
        return None
    if at is None:
        return None
    return Event(at, cells[1].strip(), status, cells[4].strip(), cells[2].strip())

