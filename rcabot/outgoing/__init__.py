"""What leaves the bot for other systems: every cycle event, delivered durably to each target.

A *target* is one receiver: a webhook endpoint (Standard Webhooks), or the ticket system the
ticket came from (a comment on the Jira issue or GitHub issue written back). Each target gets
every event it `wants`, in order, at least once, with a stable id per event so a receiver (or
our own write-back, through a marker) can drop a second copy. The outbox that keeps them across
crashes and retries them is `outgoing.store` / `outgoing.delivery`; the targets only say how one
event is sent and how a failure should be treated.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# The event catalogue: `type` of each event, and the Tracker status it comes from ("" = none).
STARTED = "ticket.started"
PINGED = "ticket.pinged"
DECLINED = "ticket.declined"
TIMED_OUT = "ticket.timed_out"
WAITING = "ticket.waiting"
ESCALATED = "ticket.escalated"
ACCEPTED = "ticket.accepted"
REMINDED = "ticket.reminded"
COMPLETED = "ticket.completed"
EVENT_TYPES = (STARTED, PINGED, DECLINED, TIMED_OUT, WAITING, ESCALATED, ACCEPTED, REMINDED, COMPLETED)


@dataclass(frozen=True)
class HookEvent:
    """One cycle event as it goes out. `id` is the same every time this event is sent (a retry,
    a restart), and differs between events (a second cycle of a re-used ticket id included)."""

    id: str  # "evt_" + 32 hex digits
    type: str  # one of EVENT_TYPES
    at: datetime  # when it happened (aware, UTC)
    ticket_id: str
    title: str = ""
    url: str = ""
    cycle: str = ""  # the ticket's cycle id (TicketState's Cycle column)
    manager_name: str = ""
    manager_id: str = ""  # users/123
    detail: str = ""  # the Tracker row's detail
    extra: dict = field(default_factory=dict)  # anything else a type carries (JSON-safe values)

    def payload(self) -> dict:
        """The JSON body: the Standard Webhooks shape, {type, timestamp, data}."""
        data = {"ticket_id": self.ticket_id, "title": self.title, "url": self.url, "cycle": self.cycle,
                "manager": {"name": self.manager_name, "chat_id": self.manager_id} if self.manager_id else None,
                "detail": self.detail, **self.extra}
        return {"type": self.type, "timestamp": self.at.isoformat().replace("+00:00", "Z"), "data": data}


def event_id(ticket_id: str, cycle: str, type_: str, at: datetime, manager_id: str = "") -> str:
    """A stable id from what makes the event itself (so a re-derived event keeps its id)."""
    key = "\x1f".join((ticket_id, cycle, type_, at.isoformat(), manager_id))
    return "evt_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class TryLater(Exception):
    """The send failed in a way a retry may cure (a 5xx, a timeout, a 429); `after` is the
    seconds the receiver asked for (Retry-After), or None for the outbox's own back-off."""

    def __init__(self, why: str, after: float | None = None):
        super().__init__(why)
        self.after = after


class GiveUp(Exception):
    """The send failed in a way no retry cures (a 4xx other than 408/429, a bad URL); the event
    is given up for this target at once, visibly (a Tracker row, a BotStatus problem)."""


class Target(Protocol):
    name: str  # shown in /healthz and BotStatus: the endpoint URL (no credentials), "jira", "github"

    def wants(self, event: HookEvent) -> bool:
        """Whether this target takes `event` at all (write-back takes accepted/completed of its own tickets)."""

    def send(self, event: HookEvent) -> None:
        """Deliver `event` once; raise TryLater or GiveUp when it was not delivered. Must be
        idempotent per event.id (a receiver sees the same id again after a crash)."""
