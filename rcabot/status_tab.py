"""The BotStatus tab: the sheet as a control panel, rewritten at each reload.

A plain function of a `Board` (the copy the chat answers read too) and the sheet's problems.
"""
from __future__ import annotations

from typing import Sequence

from .model import Board, TicketStatus
from .state_tabs import iso

STATUS_HEADER = ["Item", "Value", "Detail"]


def status_rows(board: Board, problems: Sequence[str]) -> list[list[str]]:
    """The shift, who is on and in what state, who is next, who rests until when, what waits,
    and every problem found in the Configuration and Managers tabs, with its cell."""
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
    rows += [["Problem", *_cell_and_text(p)] for p in problems] or [["Problems", "none", ""]]
    return rows


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
