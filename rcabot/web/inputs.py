"""Validation of what callers send: every bad input gets a message that says what is wrong."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

MAX_ID = 128
MAX_TITLE = 500
MAX_URL = 2048
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InputError(ValueError):
    """A request the bot refuses; the message is returned to the caller as is."""


def ticket_request(body: Any) -> tuple[str, str, str]:
    """(ticket id, title, url) from the body of POST /tickets."""
    if not isinstance(body, dict):
        raise InputError("the body must be a JSON object like {\"ticket_id\": \"RCA-1\"}")
    ticket_id = ticket_id_value(body.get("ticket_id"))
    title = _optional_text(body, "title", MAX_TITLE)
    url = _optional_text(body, "url", MAX_URL)
    if url and (urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc):
        raise InputError("url must be an http(s) link")
    return ticket_id, title, url


def ticket_id_value(value: Any) -> str:
    if value is None:
        raise InputError("ticket_id is required")
    if not isinstance(value, str):
        raise InputError(f"ticket_id must be a string, not {type(value).__name__}")
    value = value.strip()
    if not value:
        raise InputError("ticket_id must not be blank")
    if len(value) > MAX_ID:
        raise InputError(f"ticket_id is longer than {MAX_ID} characters")
    if _CONTROL.search(value):
        raise InputError("ticket_id must not contain control characters")
    return value


def _optional_text(body: dict, key: str, limit: int) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{key} must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise InputError(f"{key} is longer than {limit} characters")
    return _CONTROL.sub(" ", value).strip()
