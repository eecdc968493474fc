"""The BotStatus tab: the sheet as a control panel, rewritten at each reload.

A plain function of a `Board` (the copy the chat answers read too) and the sheet's problems.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from .model import Board, TicketStatus
from .state_tabs import iso

STATUS_HEADER = ["Item", "Value", "Detail"]


def status_rows(board: Board, problems: Sequence[str], outgoing: Mapping[str, dict] | None = None) -> list[list[str]]:
    """The shift, who is on and in what state, who is next, who rests until when, what waits,
    each outgoing target (a webhook, the write-back) and how it fares, and every problem found in
    the Configuration and Managers tabs, with its cell."""
    zone, now = board.zone, board.now
    rows = [STATUS_HEADER, ["Refreshed", iso(now), "at each reload of the Configuration and Managers tabs"],
            ["Shift", str(board.shift), f"{board.shift_started.astimezone(zone):%H:%M} to "
                                        f"{board.next_shift.astimezone(zone):%H:%M} ({zone})"]]
    for m in board.managers:
        if m.active and m.works(board.shift):
            rows.append(["On shift", m.name, _doing(board, m.chat_id)])
    rows.append(["Next", board.next_up.name if board.next_up else "nobody is free", ""])
    names = {m.chat_id: m.name for m in board.managers}
    rows += [["In DND", names.get(who, who), f"until {until.astimezone(zone):%Y-%m-%d %H:%M}"]
             for who, until in sorted(board.dnd_until.items(), key=lambda item: item[1])]
    rows += [["Waiting", t.ticket_id, f"since {t.started_at.astimezone(zone):%Y-%m-%d %H:%M}" if t.started_at else ""]
             for t in board.tickets if t.status is TicketStatus.WAITING] or [["Waiting", "none", ""]]
    rows += [["Outgoing", name, _faring(state)] for name, state in (outgoing or {}).items()]
    rows += [["Problem", *_cell_and_text(p)] for p in problems] or [["Problems", "none", ""]]
    return rows


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
