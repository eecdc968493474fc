"""What a receiver's answer says about when to try again (shared by every target: webhooks and write-back)."""
from __future__ import annotations

import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

MAX_WAIT = 3600.0  # a receiver asking for more than an hour is waited for an hour, then asked again


def retry_after_seconds(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date) or X-RateLimit-Reset (epoch
    seconds, GitHub's), or None when the answer names no time."""
    if not headers:
        return None
    lower = {str(k).lower(): str(v).strip() for k, v in headers.items()}
    now = time.time() if now is None else now
    value = lower.get("retry-after", "")
    if value:
        try:
            return _bounded(float(value))
        except ValueError:
            try:
                return _bounded(parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = lower.get("x-ratelimit-reset", "")
    if reset and lower.get("x-ratelimit-remaining", "0") == "0":
        try:
            return _bounded(float(reset) - now)
        except ValueError:
            pass
    return None


def _bounded(seconds: float) -> float:
    return min(max(seconds, 1.0), MAX_WAIT)


def marker(event) -> str:
    """What a write-back comment carries to say which event it is (looked for before posting again)."""
    return f"rcabot:{event.id}"


def review_line(event, special: str) -> str:
    """'RCA review accepted by Hana Sato' (or done), the name escaped for the target's markup."""
    verb = "accepted" if event.type == "ticket.accepted" else "done"
    return f"RCA review {verb} by {display_name(event, special)}"


def display_name(event, special: str) -> str:
    """Who acted, as one plain line of at most 100 characters, with the markup characters in
    `special` backslash-escaped (a Chat display name must not mention, link or hide text)."""
    name = " ".join((event.manager_name or event.manager_id or "the RCA manager").split())[:100]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name)
    return "".join("\\" + c if c in special else c for c in name)
