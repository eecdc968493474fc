"""The senders' signatures: HMAC-SHA256 of the raw body, hex, after `sha256=`.

GitHub sends it in X-Hub-Signature-256; Jira Cloud (an admin webhook saved with a secret) in
X-Hub-Signature, in the same WebSub `method=signature` form."""
from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the body's signature with `secret` (compared in constant time)."""
    if not secret or not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().lower().encode("utf-8", "replace"))
