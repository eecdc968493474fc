"""Google's token signing, offline: RSA keys with self-signed certificates, signed JWTs shaped like
the ones Google Chat sends, and Google's two certificate endpoints.

    certs = GoogleCerts()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        certs.install(rsps)
        headers = {"Authorization": certs.bearer(id_token_claims("https://bot.example/chat/events"))}

`GoogleCerts.handle` also answers as a fake API for `tests.fakes.transport.Router`, for a test
that serves the certificates on localhost (RCABOT_CERTS_ENDPOINT, or `chat_certs_url`/`oauth2_certs_url`).
"""
from __future__ import annotations

import datetime
import functools
import json
import time
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from rcabot.chat.verify import CHAT_CERTS_URL, CHAT_ISSUER, GOOGLE_CERTS_URL

PROJECT_NUMBER = "123456789012"
ENDPOINT_URL = "https://rcabot.example.com/chat/events"
ADDON_ACCOUNT = f"service-{PROJECT_NUMBER}@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
LIFETIME = 3600


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    signer: crypt.RSASigner
    private_pem: str
    certificate_pem: str  # self-signed x509, the format both of Google's certificate URLs serve


@functools.lru_cache(maxsize=None)
def signing_key(key_id: str) -> SigningKey:
    """The key named `key_id`, made once per test run: RSA keys are slow to make and to load."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return SigningKey(key_id, crypt.RSASigner(key, key_id=key_id), private, _self_signed_certificate(key, key_id))


def _self_signed_certificate(key: rsa.RSAPrivateKey, key_id: str) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, key_id)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def sign(claims: dict, key_id: str = "key-1") -> str:
    """A JWT of `claims`, RS256-signed with `signing_key(key_id)` and `kid` in its header."""
    return jwt.encode(signing_key(key_id).signer, claims).decode()


def project_number_claims(project_number: str = PROJECT_NUMBER, now: float | None = None, **extra) -> dict:
    """Claims of the JWT Chat signs itself when the audience is the project number."""
    return {"iss": CHAT_ISSUER, "aud": project_number, **_times(now), **extra}


def id_token_claims(endpoint_url: str = ENDPOINT_URL, email: str = CHAT_ISSUER, now: float | None = None,
                    **extra) -> dict:
    """Claims of the Google ID token Chat sends when the audience is the endpoint URL."""
    return {"iss": "https://accounts.google.com", "aud": endpoint_url, "azp": "1234567890",
            "sub": "1234567890", "email": email, "email_verified": True, **_times(now), **extra}


def _times(now: float | None) -> dict:
    issued = int(time.time() if now is None else now)
    return {"iat": issued, "exp": issued + LIFETIME}


class GoogleCerts:
    """Both of Google's certificate URLs, publishing the current key and the one before it."""

    def __init__(self, max_age: int | None = 3600):
        self.key_ids = ["key-1"]
        self.max_age = max_age  # None leaves out Cache-Control
        self.down = False  # answer 503, as during an outage

    @property
    def key_id(self) -> str:
        return self.key_ids[-1]

    def rotate(self) -> str:
        """Publish a new key and sign with it from now on; Google keeps the previous one published."""
        self.key_ids = [self.key_ids[-1], f"key-{int(self.key_id.split('-')[1]) + 1}"]
        return self.key_id

    def published(self) -> dict[str, str]:
        return {key_id: signing_key(key_id).certificate_pem for key_id in self.key_ids}

    def sign(self, claims: dict) -> str:
        return sign(claims, self.key_id)

    def bearer(self, claims: dict) -> str:
        """An Authorization header value carrying `claims` signed with the current key."""
        return f"Bearer {self.sign(claims)}"

    def install(self, rsps, urls: tuple[str, ...] = (CHAT_CERTS_URL, GOOGLE_CERTS_URL)) -> None:
        """Serve the certificates through a `responses.RequestsMock`, as they are at request time."""
        for url in urls:
            rsps.add_callback("GET", url, callback=self._respond)

    def handle(self, request) -> tuple[int, dict]:
        """The same, as a fake API for `tests.fakes.transport.Router` (which sends no Cache-Control)."""
        if self.down:
            return 503, {"error": {"code": 503, "message": "unavailable", "status": "UNAVAILABLE"}}
        return 200, self.published()

    def _respond(self, request):
        status, body = self.handle(request)
        headers = {"Content-Type": "application/json; charset=UTF-8"}
        if self.max_age is not None:
            headers["Cache-Control"] = f"public, max-age={self.max_age}, must-revalidate, no-transform"
        return status, headers, json.dumps(body)
