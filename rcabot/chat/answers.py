"""The text of the read-only commands (`who`, `tickets`, `stats`) and of the daily digest, built
from a copy of the bot's memory. Times are shown in the configured time zone; names and ticket ids go through `plain`, so
that a name cannot mention anyone or smuggle in a link.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, tzinfo
from typing import Sequence

from ..availability.plan import DayPlan
from ..history import Event, ManagerStats
from ..model import Board, Manager, Ticket, TicketStatus, Track
from .cards import plain

MAX_TICKETS = 40  # listed in one answer: a Chat message holds at most 32,000 bytes
MAX_TITLE = 60


def clock_time(moment: datetime, now: datetime, zone: tzinfo) -> str:
    """`14:30` today, `tomorrow 09:15`, `yesterday 23:00`, else `Tue 24 Nov 14:30` (local time)."""
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    days = {today: "", today + timedelta(days=1): "tomorrow ", today - timedelta(days=1): "yesterday "}
    if local.date() in days:
        return f"{days[local.date()]}{local:%H:%M}"
    return f"{local:%a %d %b %H:%M}"


def span(length: timedelta) -> str:
    """`45s`, `3m 05s`, `2h`, `1h 30m`: a length as people write it."""
    seconds = round(length.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m" + (f" {seconds % 60:02d}s" if seconds % 60 else "")
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours}h" + (f" {minutes:02d}m" if minutes else "")


def who(board: Board) -> str:
    at = _times(board)
    lines = [_shift_line(board)]
    on = {m.chat_id for m in board.on}  # a set: `who` with thousands of managers stays linear
    covering = {by: instead for instead, by in board.covers.items()}
    names = {m.chat_id: m.name for m in board.managers}
    if board.shift and not board.on:
        lines.append("Nobody is on this shift.")
    for m in board.on:
        cover = f" (covering for {plain(names.get(covering[m.chat_id], ''))})" if m.chat_id in covering else ""
        lines.append(f"• {plain(m.name)}{cover}: {_manager_state(m, board)}")
    for m in board.team:
        if m.chat_id in board.covers and board.covers[m.chat_id] in on:
            lines.append(f"• {plain(m.name)}: covered by {plain(names.get(board.covers[m.chat_id], ''))}")
        elif m.chat_id in board.away:
            lines.append(f"• {plain(m.name)}: {_away(board.away[m.chat_id], at)}")
    shown = on | {m.chat_id for m in board.team}
    lines += [f"• {plain(m.name)} (off shift): {_manager_state(m, board)}" for m in board.managers
              if m.chat_id not in shown and board.holding(m.chat_id)]
    lines.append(_next_up(board))
    return "\n".join(lines)


def who_on(plan: DayPlan, managers: Sequence[Manager], zone: tzinfo) -> str:
    """`who <day>`: each shift of that day and exactly who would be pinged in it."""
    names = {m.chat_id: m.name for m in managers}
    holiday = f" It is a holiday ({plain(plan.holiday.name)})." if plan.holiday else ""
    lines = [f"{plan.day:%a} {plan.day.day} {plan.day:%b %Y} ({zone}).{holiday}"]
    if not plan.shifts:
        lines.append("No shift runs that day: a ticket would wait for the next one.")
    for planned in plan.shifts:
        slot = planned.slot
        on = [plain(m.name) + (f" (covering for {plain(names.get(planned.covering[m.chat_id], ''))})"
                               if m.chat_id in planned.covering else "") for m in planned.on]
        lines.append(f"• Shift {slot.shift}, {slot.start.astimezone(zone):%H:%M} to "
                     f"{slot.end.astimezone(zone):%H:%M}: {', '.join(on) or 'nobody'}")
        lines += [f"   {plain(m.name)}: {_away(a, lambda t: _on_day(t, zone))}" for m, a in planned.away]
    return "\n".join(lines)


def _on_day(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _shift_line(board: Board) -> str:
    at = _times(board)
    holiday = f" Today is a holiday ({plain(board.holiday.name)})." if board.holiday else ""
    if not board.shift:
        later = f"until {at(board.next_shift)}" if board.next_shift else "on any day ahead"
        return f"No shift is on now: nobody is on shift {later} ({board.zone}); now {at(board.now)}.{holiday}"
    return (f"Shift {board.shift} of {board.shifts}, {at(board.shift_started)} to {at(board.next_shift)} "
            f"({board.zone}); now {at(board.now)}.{holiday}")


def _away(absence, at) -> str:
    reason = f", {plain(absence.reason)}" if absence.reason else ""
    source = " (from their calendar)" if absence.source == "calendar" else ""
    return f"away until {at(absence.end)}{reason}{source}"


def _manager_state(manager: Manager, board: Board) -> str:
    at = _times(board)
    held, until = board.holding(manager.chat_id), board.dnd_until.get(manager.chat_id)
    parts = []
    if held:
        due = f" until {at(held.deadline)}" if held.deadline else ""
        parts.append(f"holding the ping for {plain(held.ticket_id)}{due}")
    if until:
        parts.append(f"in DND until {at(until)}")
    return ", and ".join(parts) or "free"


def _next_up(board: Board) -> str:
    if board.next_up is not None:
        return f"Next up: {plain(board.next_up.name)}."
    waiting = board.count(TicketStatus.WAITING)
    queue = f" ({_count(waiting, 'ticket')} waiting)" if waiting else ""
    if not board.shift:
        return f"Next up: nobody, so a new ticket would wait{queue} until the next shift starts."
    return f"Next up: nobody is free, so a new ticket would wait{queue} until someone is."


def tickets(board: Board) -> str:
    total = board.count()
    if not total:
        return "No tickets in the cycle: none waiting, pinged or in review."
    counts = [f"{board.count(s)} {s.value.lower()}" for s in TicketStatus if board.count(s)]
    lines = [f"{_count(total, 'ticket')} in the cycle ({', '.join(counts)}); times in {board.zone}:"]
    lines += [_ticket_line(t, board) for t in board.tickets[:MAX_TICKETS]]
    if total > MAX_TICKETS:
        lines.append(f"… and {total - MAX_TICKETS} more.")
    return "\n".join(lines)


def _ticket_line(ticket: Ticket, board: Board) -> str:
    title = ticket.title if len(ticket.title) <= MAX_TITLE else ticket.title[:MAX_TITLE - 1] + "…"
    name = f"{plain(ticket.ticket_id)}" + (f" “{plain(title)}”" if title else "")
    manager = plain(ticket.manager_name or ticket.manager_id)
    if ticket.status is TicketStatus.PINGED:
        due = f", answer due by {_times(board)(ticket.deadline)}" if ticket.deadline else ""
        return f"• {name}: pinged to {manager} (ping {ticket.attempts}){due}"
    if ticket.status is TicketStatus.ACCEPTED:
        return f"• {name}: accepted by {manager}, in review"
    return f"• {name}: waiting for a free manager"


def stats(board: Board, since: datetime, rows: dict[str, ManagerStats], window: str) -> str:
    at = _times(board)
    head = f"Last {window} (since {at(since)} {board.zone})"
    team = {m.chat_id: i for i, m in enumerate(board.managers)}
    names = {m.chat_id: m.name for m in board.managers}
    active = [r for r in rows.values() if r.pinged or r.accepted or r.declined or r.timed_out]
    if not active:
        return f"{head}: no pings."
    active.sort(key=lambda r: (team.get(r.manager_id, len(team)), names.get(r.manager_id, r.name)))
    lines = [f"{head}:"] + [_stats_line(r, names.get(r.manager_id) or r.name or r.manager_id) for r in active]
    quiet = [m.name for m in board.managers if m.active and m.chat_id not in {r.manager_id for r in active}]
    if quiet:
        lines.append(f"No pings: {plain(', '.join(quiet))}.")
    return "\n".join(lines)


def digest(board: Board, since: datetime, events: Sequence[Event], rows: dict[str, ManagerStats]) -> str:
    """The daily digest: the day's numbers, then what `stats 24h` and `tickets` would answer."""
    count = Counter(e.status for e in events)
    in_play = len({e.ticket_id for e in events if e.status in (Track.PINGED, Track.WAITING)})
    escalated = f", {count[Track.ESCALATED]} escalated" if count[Track.ESCALATED] else ""
    head = (f"Daily digest. In the last 24 hours: {_count(in_play, 'ticket')} in play, {count[Track.ACCEPTED]} "
            f"accepted, {count[Track.COMPLETED]} done, {count[Track.DECLINED]} declined, "
            f"{count[Track.TIMED_OUT]} timed out{escalated}.")
    names = {m.chat_id: m.name for m in board.managers}
    at = _times(board)
    away = [f"{plain(names.get(who, who))} ({_away(absence, at)})" for who, absence in board.away.items()]
    head += f"\nAway now: {'; '.join(away)}." if away else ""
    head += f"\nToday is a holiday ({plain(board.holiday.name)})." if board.holiday else ""
    return "\n\n".join([head, stats(board, since, rows, "24 hours"), tickets(board)])


def _stats_line(row: ManagerStats, name: str) -> str:
    median = row.median_seconds_to_accept
    to_accept = f"; median time to accept {span(timedelta(seconds=median))}" if median is not None else ""
    return (f"• {plain(name)}: {row.pinged} pinged, {row.accepted} accepted, {row.declined} declined, "
            f"{row.timed_out} timed out{to_accept}")


def _times(board: Board):
    return lambda moment: clock_time(moment, board.now, board.zone)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
