"""What the bot tells ops and the team about itself: the BotStatus tab and the daily digest.

Plain functions of the state, the team, the history and the time; no I/O.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

from .cycle import Cycle
from .model import Track, TicketStatus
from .state_tabs import iso

STATUS_HEADER = ["Item", "Value", "Detail"]


def status_rows(cycle: Cycle, problems: Sequence[str], now: datetime) -> list[list[str]]:
    """The BotStatus tab: the shift, who is on and in what state, who is next, who rests until
    when, what waits, and every problem found in the Configuration and Managers tabs."""
    schedule, state = cycle.rules.schedule, cycle.state
    zone = schedule.zone
    shift = schedule.current_shift(now)
    started, ends = schedule.shift_started_at(now), schedule.next_shift_start(now)
    rows = [STATUS_HEADER, ["Refreshed", iso(now), "at each reload of the Configuration and Managers tabs"],
            ["Shift", str(shift), f"{started.astimezone(zone):%H:%M} to {ends.astimezone(zone):%H:%M} ({zone})"]]
    holding = {t.manager_id: t for t in state.tickets.values() if t.status is TicketStatus.PINGED}
    for m in cycle.managers:
        if m.active and m.works(shift):
            rows.append(["On shift", m.name, _doing(m.chat_id, holding, state.dnd_until, now, zone)])
    up = cycle.next_up(now)
    rows.append(["Next", up.name if up else "nobody is free", ""])
    names = {m.chat_id: m.name for m in cycle.managers}
    for who, until in sorted(state.dnd_until.items(), key=lambda item: item[1]):
        if until > now:
            rows.append(["In DND", names.get(who, who), f"until {until.astimezone(zone):%Y-%m-%d %H:%M}"])
    waiting = [t for t in state.tickets.values() if t.status is TicketStatus.WAITING]
    rows += [["Waiting", t.ticket_id, f"since {t.started_at.astimezone(zone):%Y-%m-%d %H:%M}" if t.started_at else ""]
             for t in waiting] or [["Waiting", "none", ""]]
    rows += [["Problem", *_cell_and_text(p)] for p in problems] or [["Problems", "none", ""]]
    return rows


def _doing(who: str, holding: dict, dnd_until: dict, now: datetime, zone) -> str:
    if who in holding:
        ticket = holding[who]
        return f"pinged for {ticket.ticket_id}" + (f" until {ticket.deadline.astimezone(zone):%H:%M}"
                                                    if ticket.deadline else "")
    if dnd_until.get(who) and dnd_until[who] > now:
        return f"in DND until {dnd_until[who].astimezone(zone):%H:%M}"
    return "free"


def _cell_and_text(problem: str) -> list[str]:
    """'Configuration B2: TicketTimeout is ...' -> ['Configuration B2', 'TicketTimeout is ...']."""
    where, sep, what = problem.partition(": ")
    return [where, what] if sep and len(where) < 40 else ["", problem]


def digest_text(cycle: Cycle, now: datetime) -> str:
    """The daily digest: the last day's numbers and what is still open."""
    since = now - timedelta(days=1)
    events = cycle.history.since(since)
    count = {status: sum(e.status is status for e in events) for status in Track}
    started = len({e.ticket_id for e in events if e.status in (Track.PINGED, Track.WAITING)})
    lines = [f"Daily digest, the last 24 hours: {started} tickets in play, {count[Track.ACCEPTED]} accepted, "
             f"{count[Track.COMPLETED]} done, {count[Track.DECLINED]} declined, {count[Track.TIMED_OUT]} timed out"
             + (f", {count[Track.ESCALATED]} escalated" if count[Track.ESCALATED] else "") + "."]
    stats = sorted(cycle.history.stats(since).values(), key=lambda s: (-s.accepted, s.name))
    if stats:
        lines.append("By manager: " + "; ".join(
            f"{s.name} {s.accepted} accepted, {s.declined} declined, {s.timed_out} timed out" for s in stats) + ".")
    tickets = list(cycle.state.tickets.values())
    waiting = [t.ticket_id for t in tickets if t.status is TicketStatus.WAITING]
    pinged = [f"{t.ticket_id} ({t.manager_name})" for t in tickets if t.status is TicketStatus.PINGED]
    accepted = [f"{t.ticket_id} ({t.manager_name})" for t in tickets if t.status is TicketStatus.ACCEPTED]
    for label, items in (("Waiting", waiting), ("Pinged, not answered yet", pinged),
                         ("Accepted, not done", accepted)):
        if items:
            lines.append(f"{label}: {', '.join(items)}.")
    if not tickets:
        lines.append("Nothing is open.")
    return "\n".join(lines)
