"""One fake Google: Sheets, Chat and the OAuth token endpoint, reached by the real clients.

The service account key is made here, with a real RSA key and `token_uri` pointing at the fake
token endpoint, so google-auth signs a real assertion and fetches a token the way it does in
production; the fake APIs then require that token.
"""
from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.oauth2 import service_account

from .chat import FakeChat
from .sheets import FakeSheets
from .transport import FakeRequest, Router

SHEETS = "https://sheets.googleapis.com"
CHAT = "https://chat.googleapis.com"
TOKEN_URI = "https://oauth2.googleapis.com/token"
ACCESS_TOKEN = "ya29.fake-access-token-for-tests"
SPACE = "spaces/AAQAv7Rk3mE"
SERVICE_ACCOUNT = "rcabot@rcabot-test.iam.gserviceaccount.com"

_KEY = None


def private_key_pem() -> str:
    global _KEY
    if _KEY is None:  # RSA key generation takes a moment: once per test session
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _KEY = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    return _KEY


def service_account_info(token_uri: str = TOKEN_URI) -> dict:
    """A service account key file's content, made up (the private key is real and new)."""
    return {"type": "service_account", "project_id": "rcabot-test", "private_key_id": "0123456789abcdef",
            "private_key": private_key_pem(), "client_email": SERVICE_ACCOUNT, "client_id": "100000000000000000001",
            "token_uri": token_uri}


class FakeTokenEndpoint:
    """The OAuth 2.0 token endpoint for the JWT-bearer grant service accounts use."""

    def __init__(self):
        self.issued = 0
        self.scopes: list[str] = []

    def handle(self, request: FakeRequest) -> tuple[int, dict]:
        form = parse_qs(request.body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or not form.get("assertion"):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT grant"}
        claims = _unverified_claims(form["assertion"][0])
        self.scopes.append(claims.get("scope", ""))
        self.issued += 1
        return 200, {"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}


class FakeGoogle:
    """Sheets + Chat + token endpoint. `install(rsps)` serves the requests-based clients,
    `http()` the httplib2-based one; both reach the same state."""

    def __init__(self, *, sheets: FakeSheets | None = None, chat: FakeChat | None = None):
        self.sheets = sheets or FakeSheets(token=ACCESS_TOKEN)
        self.chat = chat or FakeChat(spaces=(SPACE,), token=ACCESS_TOKEN)
        self.tokens = FakeTokenEndpoint()
        self.router = Router({SHEETS: self.sheets.handle, CHAT: self.chat.handle, TOKEN_URI: self.tokens.handle})

    def install(self, rsps) -> None:
        self.router.install(rsps)

    def http(self):
        return self.router.http()

    def credentials(self, scope: str):
        return service_account.Credentials.from_service_account_info(service_account_info(), scopes=[scope])

    def local_router(self, base: str) -> Router:
        """The same fakes under one local address (`base`), for a real process to talk to."""
        return Router({f"{base}/v4/": self.sheets.handle, f"{base}/v1/": self.chat.handle,
                       f"{base}/token": self.tokens.handle})


def _unverified_claims(assertion: str) -> dict:
    try:
        payload = assertion.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
