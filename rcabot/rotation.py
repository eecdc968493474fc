"""Who to ping next: round robin over who is on (the roster, in Managers-tab row order), per shift."""
from __future__ import annotations

from typing import Collection, Mapping, Sequence

from .model import Manager


def on_shift(managers: Sequence[Manager], shift: int) -> list[Manager]:
    """Shift `shift`'s team: the active managers who work it, in row order (before leave and cover)."""
    return [m for m in managers if m.active and m.works(shift)]


def in_turn(roster: Sequence[Manager], after: str, order: Sequence[str] = ()) -> list[Manager]:
    """The roster starting just after `after`. When `after` is not on the roster (away since), the
    turn goes on from their place in `order` (the Managers tab's row order), not from the top, so
    that one person's leave does not hand the next turns to the top rows."""
    ids = [m.chat_id for m in roster]
    if after in ids:
        start = ids.index(after) + 1
    elif after in order:
        place = {chat_id: n for n, chat_id in enumerate(order)}
        start = next((n for n, chat_id in enumerate(ids) if place.get(chat_id, -1) > place[after]), len(ids))
    else:
        start = 0
    return list(roster[start:]) + list(roster[:start])


def eligible(roster: Sequence[Manager], busy: Collection[str]) -> list[Manager]:
    """Who on the roster is not busy (in DND or holding a ping), in order."""
    return [m for m in roster if m.chat_id not in busy]


def pick_manager(roster: Sequence[Manager], after: str, busy: Collection[str], passed_over: str = "",
                 load: Mapping[str, int] | None = None, order: Sequence[str] = ()) -> Manager | None:
    """The next eligible manager after `after`; `passed_over` only if nobody else is eligible.

    With `load` (accepted tickets per manager), the one with the fewest, ties in turn order.
    """
    candidates = eligible(in_turn(roster, after, order), busy)
    preferred = [m for m in candidates if m.chat_id != passed_over] or candidates
    if load is not None and preferred:
        return min(preferred, key=lambda m: load.get(m.chat_id, 0))  # min keeps the first of equals
    return (preferred or [None])[0]
