"""The BotStatus tab: the sheet as a control panel, rewritten at each reload.

A plain function of a `Board` (the copy the chat answers read too) and the sheet's problems.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from .model import Board, TicketStatus
from .state_tabs import iso

STATUS_HEADER = ["Item", "Value", "Detail"]


WAITING_ROWS = 100  # waiting tickets named, oldest first; the rest are counted


def status_rows(board: Board, problems: Sequence[str], outgoing: Mapping[str, dict] | None = None) -> list[list[str]]:
    """The shift, who is on and in what state, who is next, who rests until when, what waits,
    each outgoing target (a webhook, the write-back) and how it fares, and every problem found in
    the Configuration and Managers tabs, with its cell."""
    zone, now = board.zone, board.now
    rows = [STATUS_HEADER, ["Refreshed", iso(now), "at each reload of the Configuration and Managers tabs"],
            _shift_row(board)]
    if board.holiday:
        rows.append(["Holiday", board.holiday.name, f"{board.holiday.day.isoformat()} ({board.holiday.source})"])
    names = {m.chat_id: m.name for m in board.managers}
    covering = {by: instead for instead, by in board.covers.items()}
    for m in board.on:
        cover = f"; covering for {names.get(covering[m.chat_id], '')}" if m.chat_id in covering else ""
        rows.append(["On shift", m.name, _doing(board, m.chat_id) + cover])
    rows.append(["Next", board.next_up.name if board.next_up else "nobody is free", ""])
    rows += [["Away", names.get(who, who), _leave(absence, zone)] for who, absence in board.away.items()]
    rows += [["In DND", names.get(who, who), f"until {until.astimezone(zone):%Y-%m-%d %H:%M}"]
             for who, until in sorted(board.dnd_until.items(), key=lambda item: item[1])]
    waiting = [t for t in board.tickets if t.status is TicketStatus.WAITING]
    rows += [["Waiting", t.ticket_id, f"since {t.started_at.astimezone(zone):%Y-%m-%d %H:%M}" if t.started_at else ""]
             for t in waiting[:WAITING_ROWS]] or [["Waiting", "none", ""]]
    more = board.count(TicketStatus.WAITING) - len(waiting[:WAITING_ROWS])
    if more > 0:  # a tab of thousands of rows helps nobody, and each is rewritten
        rows.append(["Waiting", f"and {more:,} more", "the oldest are above; GET /status lists every ticket"])
    rows += [["Outgoing", name, _faring(state)] for name, state in (outgoing or {}).items()]
    rows += [["Problem", *_cell_and_text(p)] for p in problems] or [["Problems", "none", ""]]
    return rows


def _shift_row(board: Board) -> list[str]:
    zone = board.zone
    if not board.shift:
        later = f"the next starts {board.next_shift.astimezone(zone):%a %Y-%m-%d %H:%M} ({zone})" \
            if board.next_shift else "none ahead"
        return ["Shift", "none", f"no shift is on; {later}"]
    return ["Shift", str(board.shift), f"{board.shift_started.astimezone(zone):%H:%M} to "
                                       f"{board.next_shift.astimezone(zone):%H:%M} ({zone})"]


def _leave(absence, zone) -> str:
    """'until 2026-12-31 00:00 (sheet); Holiday' — where the absence came from and why."""
    reason = f"; {absence.reason}" if absence.reason else ""
    return f"until {absence.end.astimezone(zone):%Y-%m-%d %H:%M} ({absence.source}){reason}"


def _faring(state: dict) -> str:
    """'2 waiting; last delivered 2026-12-01T09:00:00Z; last error: HTTP 503' (from Outgoing.view)."""
    parts = [f"{state.get('backlog', 0)} waiting",
             f"last delivered {state['last_success']}" if state.get("last_success") else "nothing delivered yet"]
    if state.get("last_error"):
        parts.append(f"last error: {state['last_error']}")
    if state.get("given_up"):
        parts.append(f"{state['given_up']} given up")
    return "; ".join(parts)


def _doing(board: Board, who: str) -> str:
    held, until = board.holding(who), board.dnd_until.get(who)
    if held:
        return f"pinged for {held.ticket_id}" + (f" until {held.deadline.astimezone(board.zone):%H:%M}"
                                                  if held.deadline else "")
    return f"in DND until {until.astimezone(board.zone):%H:%M}" if until else "free"


def _cell_and_text(problem: str) -> list[str]:
    """'Configuration B2: TicketTimeout is ...' -> ['Configuration B2', 'TicketTimeout is ...']."""
    where, sep, what = problem.partition(": ")
    return [where, what] if sep and len(where) < 40 else ["", problem]
