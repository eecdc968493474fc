"""The ticket API's bearer token."""
from __future__ import annotations

import functools
import hmac

from flask import current_app, jsonify, request


def require_token(view):
    """401 unless the request carries `Authorization: Bearer $RCABOT_API_TOKEN` (when one is set)."""
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        expected = current_app.extensions["rcabot.settings"].api_token
        if expected:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
                return jsonify(error="missing or wrong API token: send Authorization: Bearer <token>"), 401
        return view(*args, **kwargs)
    return guarded
