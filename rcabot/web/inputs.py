"""Validation of what callers send: every bad input gets a message that says what is wrong."""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlparse

MAX_ID = 128
MAX_TITLE = 500
MAX_URL = 2048
MAX_DEPTH = 32  # no request the bot understands nests deeper; json's own limit is a RecursionError
# C0 and C1 controls, DEL, and the line and paragraph separators: none belongs in an id or a title.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class InputError(ValueError):
    """A request the bot refuses; the message is returned to the caller as is."""


def json_body(data: bytes) -> Any:
    """The request body as JSON. InputError for a body that is not JSON, or that nests deeper than
    any request of ours (3,000 levels would overflow the parser's stack)."""
    # The scan is Python, byte by byte: only bodies with enough brackets to be too deep pay for it.
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and _depth(data) > MAX_DEPTH:
        raise InputError(f"the body nests JSON deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(data, parse_float=_finite, parse_constant=_no_constant)
    except _OutOfRange as exc:
        raise InputError(str(exc)) from None
    except (ValueError, RecursionError):
        raise InputError("the body is not valid JSON") from None


class _OutOfRange(ValueError):
    pass


def _finite(text: str) -> float:
    """1e400 is valid JSON but no float: refused here rather than met as infinity somewhere deeper."""
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _OutOfRange(f"the number {text[:40]} in the body is out of range")
    return number


def _no_constant(name: str) -> float:
    raise _OutOfRange(f"{name} is not JSON (numbers must be finite)")


def clean_text(value: str) -> str:
    """Lone UTF-16 surrogates replaced by U+FFFD. JSON may carry `\\ud83d` alone (a system that
    cut a string mid-emoji sends it), but no file, spreadsheet or Chat message can hold it."""
    return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value


def cleaned(value: Any) -> Any:
    """Parsed JSON with every text (keys too) passed through `clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [cleaned(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k): cleaned(v) for k, v in value.items()}
    return value


def _depth(data: bytes) -> int:
    """How deep arrays and objects nest (brackets inside strings are not counted)."""
    deepest = depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def ticket_request(body: Any) -> tuple[str, str, str]:
    """(ticket id, title, url) from the body of POST /tickets."""
    if not isinstance(body, dict):
        raise InputError("the body must be a JSON object like {\"ticket_id\": \"RCA-1\"}")
    ticket_id = ticket_id_value(body.get("ticket_id"))
    title = _optional_text(body, "title", MAX_TITLE)
    url = _optional_text(body, "url", MAX_URL)
    if url and not _http_link(url):
        raise InputError("url must be an http(s) link")
    return ticket_id, title, url


def _http_link(url: str) -> bool:
    try:
        parts = urlparse(url)
    except ValueError:  # urlparse's own refusal, e.g. http://[::1 (an unclosed IPv6 bracket)
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def ticket_id_value(value: Any) -> str:
    if value is None:
        raise InputError("ticket_id is required")
    if not isinstance(value, str):
        raise InputError(f"ticket_id must be a string, not {type(value).__name__}")
    if _SURROGATE.search(value):
        raise InputError("ticket_id is not valid Unicode (it holds half of a UTF-16 surrogate pair, "
                         "a character cut in two)")
    value = value.strip()
    if not value:
        raise InputError("ticket_id must not be blank")
    if len(value) > MAX_ID:
        raise InputError(f"ticket_id is longer than {MAX_ID} characters")
    if _CONTROL.search(value):
        raise InputError("ticket_id must not contain control characters or line separators")
    if any(part in ("", ".", "..") for part in value.split("/")):
        # GET /tickets/<id> could not name it: clients and servers fold // and ./.. in paths.
        raise InputError("ticket_id must not start or end with /, hold //, or have . or .. between slashes")
    return value


def _optional_text(body: dict, key: str, limit: int) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{key} must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise InputError(f"{key} is longer than {limit} characters")
    return _CONTROL.sub(" ", clean_text(value)).strip()
