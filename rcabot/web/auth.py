"""Who may ask: the API token (ticket API, console, local chat events) and, locally, the Host."""
from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import re
from typing import Iterable

from flask import current_app, jsonify, request

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
TOKEN_REFUSAL = "missing or wrong API token: send Authorization: Bearer <token>"


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
            return jsonify(error=TOKEN_REFUSAL + (" or ?token=<token>" if in_link else "")), 401
        return view(*args, **kwargs)
    return guarded


def _presented(expected: str, in_link: bool) -> bool:
    if bearer_matches(request.headers.get("Authorization"), expected):
        return True
    return in_link and _same(request.args.get("token", ""), expected)


def bearer_matches(authorization: str | None, expected: str) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and _same(given.strip(), expected)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class LocalChatToken:
    """Local mode's check of /chat/events, in place of Google's signed token: with the API token
    set, the console sends it, and nobody else may click a card as a manager."""

    def __init__(self, token: str):
        self.token = token

    def refuse(self, authorization: str | None) -> str | None:
        return None if bearer_matches(authorization, self.token) else TOKEN_REFUSAL


def sees_detail() -> bool:
    """Whether the caller may see names and paths: they hold the token or, with none set, they are
    on this machine in local mode (where nobody else can reach the port)."""
    settings = current_app.extensions["rcabot.settings"]
    if settings.api_token:
        return bearer_matches(request.headers.get("Authorization"), settings.api_token)
    return settings.local and is_loopback(request.remote_addr or "")


def is_loopback(host: str) -> bool:
    """An address (or the name localhost) that only this machine can reach."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def host_refusal(host: str, allowed: Iterable[str]) -> str:
    """Why a local-mode request is refused for its Host header ('' when it is fine). A page on any
    site can point a name of its own at 127.0.0.1 (DNS rebinding) and then read this port as
    same-origin; its requests still carry that name in Host."""
    name = host_name(host)
    if name in LOOPBACK_HOSTS or name in {host_name(h) for h in allowed}:
        return ""
    return (f"Host {host!r} is not served here: local mode answers requests for localhost, 127.0.0.1 "
            f"and [::1] (any port); name other hosts in RCABOT_ALLOWED_HOSTS")


def host_name(host: str) -> str:
    """'LocalHost:8080' -> 'localhost', '[::1]:8080' -> '[::1]'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[:host.find("]") + 1]
    return host.partition(":")[0]


class HideTokens(logging.Filter):
    """Replaces `token=` values in logged addresses: the development server logs each request line."""

    _VALUE = re.compile(r"([?&]token=)[^&\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg, record.args = self._VALUE.sub(r"\1[hidden]", message), ()
        return True


HIDE_TOKENS = HideTokens()
