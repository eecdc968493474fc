"""What the bot has yet to write in the space, and in which order it goes.

Pings go before notices: a ping asks a manager to act, a notice only says that a ticket waits, and
under a backlog (a burst of tickets, Chat throttling, the space's pace of a write a second and 60
a minute) a ping must not queue behind a few hundred notices. Within each kind the order is the
order they were made.

Redraws of lapsed ping cards come last and only spend spare quota: one goes when no ping or
notice waits and the minute's pace keeps room for `REDRAW_LEAVES` more writes after it; otherwise
it is dropped (the card keeps its buttons, and a late click on it is answered as expired).

An item whose ticket has moved on since it was queued (a ping whose ticket is no longer pinged at
that attempt, a notice whose ticket no longer waits) is dropped when it reaches the front instead
of being posted late, where it would only mislead.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable

from .cycle import Lapsed, Ping
from .pacing import CHAT_WRITES_PER_MINUTE

REDRAW_LEAVES = CHAT_WRITES_PER_MINUTE // 2  # writes of the minute a redraw leaves to pings and notices


@dataclass(frozen=True)
class Delivery:
    ticket_id: str  # "" for a message to the space itself (the digest, a shift notice)
    attempt: int  # the ticket's attempts when the item was made
    request_id: str  # the same post always gets the same id, so a retried create posts once
    ping: Ping | None = None  # a ping card, made at posting time; None for a notice
    text: str = ""  # a notice's text
    mentions: tuple[str, ...] = ()  # a notice's mentions
    kind: str = "ping"  # ping, waiting, escalation, reminder, space, redraw
    thread: str = ""  # the thread key; "" for the ticket's own thread
    lapsed: Lapsed | None = None  # a redraw: the lapsed ping whose card is redrawn (made at posting time)

    @property
    def notice(self) -> bool:
        return self.ping is None and self.lapsed is None

    @property
    def redraw(self) -> bool:
        return self.lapsed is not None


class Outbox:
    """Not thread-safe: the bot adds under its lock and one deliver job reads the front."""

    def __init__(self) -> None:
        self._pings: deque[Delivery] = deque()
        self._notices: deque[Delivery] = deque()
        self._redraws: deque[Delivery] = deque()

    def __len__(self) -> int:
        return len(self._pings) + len(self._notices) + len(self._redraws)

    def add(self, item: Delivery) -> None:
        self._queue(item).append(item)

    def front(self, current: Callable[[Delivery], bool]) -> Delivery | None:
        """The next item to write, after dropping the stale pings and notices `current` points
        out; a redraw only when no ping or notice waits."""
        for queue in (self._pings, self._notices):
            while queue and not current(queue[0]):
                queue.popleft()
            if queue:
                return queue[0]
        return self._redraws[0] if self._redraws else None

    def posted(self, item: Delivery) -> None:
        """`item`, the front of its kind, is in the space (or, a redraw, dropped)."""
        queue = self._queue(item)
        if queue and queue[0] is item:
            queue.popleft()

    def _queue(self, item: Delivery) -> deque[Delivery]:
        if item.ping is not None:
            return self._pings
        return self._redraws if item.redraw else self._notices
