"""The ticket API's bearer token."""
from __future__ import annotations

import functools
import hmac
import logging
import re

from flask import current_app, jsonify, request


def require_token(view):
    """401 unless the request carries `Authorization: Bearer $RCABOT_API_TOKEN` (when one is set)."""
    return _guarded(view, in_link=False)


def require_token_or_link(view):
    """As `require_token`, but `?token=<token>` in the address counts too: calendar apps fetch a
    subscribed address as it is and cannot send headers."""
    return _guarded(view, in_link=True)


def _guarded(view, in_link: bool):
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        expected = current_app.extensions["rcabot.settings"].api_token
        if expected and not _presented(expected, in_link):
            how = "Authorization: Bearer <token>" + (" or ?token=<token>" if in_link else "")
            return jsonify(error=f"missing or wrong API token: send {how}"), 401
        return view(*args, **kwargs)
    return guarded


def _presented(expected: str, in_link: bool) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and _same(given.strip(), expected):
        return True
    return in_link and _same(request.args.get("token", ""), expected)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class HideTokens(logging.Filter):
    """Replaces `token=` values in logged addresses: the development server logs each request line."""

    _VALUE = re.compile(r"([?&]token=)[^&\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg, record.args = self._VALUE.sub(r"\1[hidden]", message), ()
        return True


HIDE_TOKENS = HideTokens()
