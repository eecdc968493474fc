"""One Standard Webhooks endpoint as a Target: a signed JSON POST per event."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import requests
from standardwebhooks import Webhook

from . import GiveUp, HookEvent, TryLater
from .errors import retry_after_seconds

TIMEOUT = 10  # seconds: a hanging receiver holds up only its own lane, and not for long
RETRYABLE = {408, 429}


class WebhookTarget:
    def __init__(self, url: str, secret: str, session: requests.Session | None = None):
        self.name = url  # validated by config.py: http(s), no credentials in it
        self.url = url
        self._signer = Webhook(secret)
        self._http = session or requests.Session()

    def wants(self, event: HookEvent) -> bool:
        return True  # every cycle event

    def send(self, event: HookEvent) -> None:
        body = json.dumps(event.payload(), separators=(",", ":"))
        # Signed at the wall clock's time, not the bot's: receivers reject a timestamp 5 min off theirs.
        at = datetime.now(timezone.utc)
        headers = {"content-type": "application/json", "webhook-id": event.id,
                   "webhook-timestamp": str(int(at.timestamp())),
                   "webhook-signature": self._signer.sign(event.id, at, body)}
        try:
            answer = self._http.post(self.url, data=body.encode("utf-8"), headers=headers, timeout=TIMEOUT,
                                     allow_redirects=False)
        except requests.RequestException as exc:  # connection refused, DNS, timeout
            raise TryLater(f"{type(exc).__name__}: {exc}") from None
        code = answer.status_code
        if 200 <= code < 300:
            return
        if code in RETRYABLE or code >= 500:
            raise TryLater(f"HTTP {code}", retry_after_seconds(answer.headers))
        raise GiveUp(f"HTTP {code}")

