"""What the bot has yet to post in the space, and in which order it goes.

Pings go before notices: a ping asks a manager to act, a notice only says that a ticket waits, and
under a backlog (a burst of tickets, Chat throttling, the 60-a-minute pace) a ping must not queue
behind a few hundred notices. Within each kind the order is the order they were made.

An item whose ticket has moved on since it was queued (a ping whose ticket is no longer pinged at
that attempt, a notice whose ticket no longer waits) is dropped when it reaches the front instead
of being posted late, where it would only mislead.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable

from .cycle import Ping


@dataclass(frozen=True)
class Delivery:
    ticket_id: str  # "" for a message to the space itself (the digest, a shift notice)
    attempt: int  # the ticket's attempts when the item was made
    request_id: str  # the same post always gets the same id, so a retried create posts once
    ping: Ping | None = None  # a ping card, made at posting time; None for a notice
    text: str = ""  # a notice's text
    mentions: tuple[str, ...] = ()  # a notice's mentions
    kind: str = "ping"  # ping, waiting, escalation, reminder, space
    thread: str = ""  # the thread key; "" for the ticket's own thread

    @property
    def notice(self) -> bool:
        return self.ping is None


class Outbox:
    """Not thread-safe: the bot adds under its lock and one deliver job reads the front."""

    def __init__(self) -> None:
        self._pings: deque[Delivery] = deque()
        self._notices: deque[Delivery] = deque()

    def __len__(self) -> int:
        return len(self._pings) + len(self._notices)

    def add(self, item: Delivery) -> None:
        (self._notices if item.notice else self._pings).append(item)

    def front(self, current: Callable[[Delivery], bool]) -> Delivery | None:
        """The next item to post, after dropping the stale ones `current` points out."""
        for queue in (self._pings, self._notices):
            while queue and not current(queue[0]):
                queue.popleft()
            if queue:
                return queue[0]
        return None

    def posted(self, item: Delivery) -> None:
        """`item`, the front of its kind, is in the space."""
        queue = self._notices if item.notice else self._pings
        if queue and queue[0] is item:
            queue.popleft()
