"""Is this request really from Google Chat? Checks the bearer token Chat puts on every request.

Which token Chat sends depends on the app's "Authentication Audience" setting, mirrored by
RCABOT_CHAT_AUDIENCE:

- a project number: a JWT Chat signs itself (iss chat@system.gserviceaccount.com, aud the number);
- the endpoint URL: a Google OIDC ID token (aud the URL, email chat@system.gserviceaccount.com,
  or for an add-on-based app the project's own add-on service account).

google-auth checks signature, iat/exp and aud; the issuer and e-mail checks are ours.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from typing import Callable
from urllib.parse import urlsplit

import requests
from google.auth import exceptions, jwt

log = logging.getLogger(__name__)

CHAT_ISSUER = "chat@system.gserviceaccount.com"
CHAT_CERTS_URL = f"https://www.googleapis.com/service_accounts/v1/metadata/x509/{CHAT_ISSUER}"
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
ADDON_ACCOUNT = re.compile(r"service-\d+@gcp-sa-gsuiteaddons\.iam\.gserviceaccount\.com")

FETCH_TIMEOUT = 10
DEFAULT_MAX_AGE = 3600
# An unknown key id refetches at most this often, so made-up key ids cannot make every request
# wait on Google; a real new key is published hours before Google signs with it.
REFETCH_INTERVAL = 60

# google-auth tells its refusals apart only by message; the tests pin these for the installed version.
_DECODE_REASONS = (
    ("signature algorithm", "unsupported signing algorithm"),
    ("could not verify token signature", "bad signature"),
    ("token expired", "token expired"),
    ("token used too early", "token not valid yet"),
    ("wrong audience", "wrong audience"),
    ("required claim", "malformed token"),
)


class Unauthorized(Exception):
    """The request is not from Google Chat. The message is a short reason and never holds the token."""


class ChatVerifier:
    """Verifies Chat's tokens for one audience; shared by all request threads.

    The certificate URLs are settable for tests; `cache_clock` (monotonic seconds) only ages the
    certificate cache, token iat/exp are checked by google-auth against the wall clock.
    """

    def __init__(self, audience: str, *, addon_service_account: str = "",
                 chat_certs_url: str = CHAT_CERTS_URL, oauth2_certs_url: str = GOOGLE_CERTS_URL,
                 clock_skew: int = 10, session: requests.Session | None = None,
                 cache_clock: Callable[[], float] = time.monotonic):
        self.audience = audience
        self.clock_skew = clock_skew
        if _is_project_number(audience):
            if addon_service_account:
                raise ValueError("RCABOT_CHAT_ADDON_SERVICE_ACCOUNT needs RCABOT_CHAT_AUDIENCE to be the "
                                 "endpoint URL: add-on apps send ID tokens, not project-number tokens")
            self._check_claims, certs_url = self._check_self_signed, chat_certs_url
        elif _is_url(audience):
            self._emails = {CHAT_ISSUER} | _addon_emails(addon_service_account)
            self._check_claims, certs_url = self._check_id_token, oauth2_certs_url
        else:
            raise ValueError("RCABOT_CHAT_AUDIENCE must be the Cloud project number (digits only) or the "
                             "app's HTTP endpoint URL exactly as configured in the Chat API, e.g. "
                             "https://rcabot.example.com/chat/events")
        self._certs = CertCache(certs_url, session or requests.Session(), cache_clock)

    def verify(self, authorization: str | None) -> dict:
        """The token's claims, or Unauthorized saying why not."""
        token = _bearer_token(authorization)
        claims = self._decode(token, self._certs.lookup(_key_id(token)))
        self._check_claims(claims)
        return claims

    def refuse(self, authorization: str | None) -> str | None:
        """Why the request is refused, or None when it is from Google Chat."""
        try:
            self.verify(authorization)
        except Unauthorized as exc:
            return str(exc)
        return None

    def _decode(self, token: str, certs: dict[str, str]) -> dict:
        try:
            return jwt.decode(token, certs=certs, audience=self.audience,
                              clock_skew_in_seconds=self.clock_skew)
        except (ValueError, TypeError, exceptions.GoogleAuthError) as exc:
            # Never pass google-auth's message on: some of them quote the token.
            reason = _decode_reason(exc)
        if reason == "wrong audience":
            # The signature held, so the claim is Google's: show it, a trailing slash is a likely culprit.
            reason += f" {_quote(jwt.decode(token, verify=False).get('aud'))}"
        raise Unauthorized(reason)

    def _check_self_signed(self, claims: dict) -> None:
        if claims.get("iss") != CHAT_ISSUER:
            raise Unauthorized(f"wrong issuer {_quote(claims.get('iss'))}")

    def _check_id_token(self, claims: dict) -> None:
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise Unauthorized(f"wrong issuer {_quote(claims.get('iss'))}")
        if claims.get("email") not in self._emails:
            # Quoted so that an add-on's operator can see which account to configure.
            raise Unauthorized(f"token e-mail {_quote(claims.get('email'))} is neither Google Chat's "
                               "nor the configured add-on account")
        # A string "true" is accepted too, as Google's Java client (GoogleIdToken) does.
        if claims.get("email_verified") not in (True, "true"):
            raise Unauthorized("token e-mail not verified")


class CertCache:
    """Google's `{key id: PEM certificate}` at one URL, kept as long as its Cache-Control allows."""

    def __init__(self, url: str, session: requests.Session, clock: Callable[[], float] = time.monotonic):
        self.url, self.session, self.clock = url, session, clock
        self._certs: dict[str, str] = {}
        self._fresh_until = self._tried_at = float("-inf")
        self._lock = threading.Lock()  # one download at a time; the others wait for its result

    def lookup(self, key_id: str | None) -> dict[str, str]:
        """The certificates, holding `key_id` if Google publishes it (a missing id means any key)."""
        with self._lock:
            now = self.clock()
            if now >= self._fresh_until:
                self._refresh(now, keep_stale=True)
            if key_id is not None and key_id not in self._certs:
                if now - self._tried_at >= REFETCH_INTERVAL:
                    self._refresh(now, keep_stale=False)  # Google may have rotated its keys
                if key_id not in self._certs:
                    raise Unauthorized("token signed with an unknown key")
            return self._certs

    def _refresh(self, now: float, keep_stale: bool) -> None:
        self._tried_at = now
        try:
            certs, max_age = self._download()
        except (requests.RequestException, ValueError) as exc:
            log.warning("cannot fetch Google's certificates from %s: %s", self.url, exc)
            if keep_stale and self._certs:
                # Expired keys beat refusing every request while Google is unreachable; and
                # retrying once a minute beats making every request wait for the timeout.
                self._fresh_until = now + REFETCH_INTERVAL
                return
            raise Unauthorized(f"cannot fetch Google's certificates ({type(exc).__name__})") from None
        log.debug("fetched Google's certificates %s from %s", sorted(certs), self.url)
        self._certs, self._fresh_until = certs, now + max_age

    def _download(self) -> tuple[dict[str, str], int]:
        response = self.session.get(self.url, timeout=FETCH_TIMEOUT)
        response.raise_for_status()
        certs = response.json()
        if not isinstance(certs, dict) or not all(isinstance(v, str) for v in certs.values()):
            raise ValueError("not a {key id: certificate} object")
        return certs, _max_age(response.headers)


def _is_project_number(audience: str) -> bool:
    return audience.isascii() and audience.isdigit()


def _is_url(audience: str) -> bool:
    parts = urlsplit(audience)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in audience)


def _addon_emails(account: str) -> set[str]:
    if not account:
        return set()
    if not ADDON_ACCOUNT.fullmatch(account):
        # Only this project's add-on account: any other project's add-on could target our URL.
        raise ValueError("RCABOT_CHAT_ADDON_SERVICE_ACCOUNT must look like service-<project-number>"
                         f"@gcp-sa-gsuiteaddons.iam.gserviceaccount.com, not {account!r}")
    return {account}


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("no Authorization header")
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise Unauthorized("Authorization header is not 'Bearer <token>'")
    return parts[1]


def _key_id(token: str) -> str | None:
    try:
        key_id = jwt.decode_header(token).get("kid")
    except (ValueError, TypeError, exceptions.GoogleAuthError):
        raise Unauthorized("malformed token") from None
    if key_id is not None and not isinstance(key_id, str):
        raise Unauthorized("malformed token")
    return key_id


def _decode_reason(exc: Exception) -> str:
    message = str(exc).lower()
    for fragment, reason in _DECODE_REASONS:
        if fragment in message:
            return reason
    return "malformed token"


def _max_age(headers) -> int:
    """Seconds the response stays fresh: Cache-Control max-age less the Age a cache already held it."""
    match = re.search(r"max-age=(\d+)", headers.get("Cache-Control", ""))
    if not match:
        return DEFAULT_MAX_AGE
    age = headers.get("Age", "0")
    return max(0, int(match.group(1)) - (int(age) if age.isdigit() else 0))


def _quote(value) -> str:
    """A claim as it may appear in a log line: repr'd (no line breaks) and short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
