"""Inbound hooks (issue 13): a ticket system's own webhook, mapped to a ticket start.

The mapping modules are pure: a parsed payload and the Configuration in, a `Start` or an `Ignored`
out (InputError for a payload that names the event but lacks what a ticket needs)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..web.inputs import MAX_TITLE, InputError, ticket_request


@dataclass(frozen=True)
class Start:
    ticket_id: str
    title: str
    url: str


@dataclass(frozen=True)
class Ignored:
    reason: str


def start(ticket_id: str, title: Any, url: Any) -> Start:
    """Validated as POST /tickets validates its body; a long title is cut rather than refused
    (the ticket system allowed it, and the card only needs its start)."""
    if isinstance(title, str):
        title = title[:MAX_TITLE]
    return Start(*ticket_request({"ticket_id": ticket_id, "title": title, "url": url}))


def obj(parent: dict, key: str, where: str) -> dict:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise InputError(f"{where}{key} must be a JSON object, not {type(value).__name__}")
    return value


def text(parent: dict, key: str, where: str) -> str:
    value = parent.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}{key} must be a non-empty string")
    return value


__all__ = ["Ignored", "InputError", "Start", "obj", "start", "text"]
