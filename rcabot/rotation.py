"""Who to ping next: round robin over the Managers tab's row order, per shift."""
from __future__ import annotations

from typing import Collection, Mapping, Sequence

from .model import Manager


def in_turn(managers: Sequence[Manager], after: str) -> list[Manager]:
    """The managers in row order, starting just after `after` (from the top if it is unknown)."""
    ids = [m.chat_id for m in managers]
    start = ids.index(after) + 1 if after in ids else 0
    return list(managers[start:]) + list(managers[:start])


def eligible(managers: Sequence[Manager], shift: int, busy: Collection[str]) -> list[Manager]:
    """Active managers of `shift` who are not busy (in DND or holding a ping), in row order."""
    return [m for m in managers if m.active and m.works(shift) and m.chat_id not in busy]


def pick_manager(managers: Sequence[Manager], shift: int, after: str, busy: Collection[str],
                 passed_over: str = "", load: Mapping[str, int] | None = None) -> Manager | None:
    """The next eligible manager after `after`; `passed_over` only if nobody else is eligible.

    With `load` (accepted tickets per manager), the one with the fewest, ties in turn order.
    """
    candidates = eligible(in_turn(managers, after), shift, busy)
    preferred = [m for m in candidates if m.chat_id != passed_over] or candidates
    if load is not None and preferred:
        return min(preferred, key=lambda m: load.get(m.chat_id, 0))  # min keeps the first of equals
    return (preferred or [None])[0]
