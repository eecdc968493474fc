"""Verification of Google Chat's bearer tokens, against Google's certificate endpoints faked with `responses`."""
from __future__ import annotations

import base64
import json
import re
import threading
import time

import pytest
import requests
import responses

from rcabot.chat.verify import (CHAT_CERTS_URL, CHAT_ISSUER, GOOGLE_CERTS_URL, REFETCH_INTERVAL, ChatVerifier,
                                Unauthorized)
from tests.fakes.tokens import (ADDON_ACCOUNT, ENDPOINT_URL, PROJECT_NUMBER, GoogleCerts, id_token_claims,
                                project_number_claims, sign)

HOUR = 3600


class Ticker:
    """A monotonic clock for the certificate cache that moves only when told."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def certs() -> GoogleCerts:
    return GoogleCerts()


@pytest.fixture
def rsps(certs):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        certs.install(mock)
        yield mock


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def verifier(rsps, ticker):
    def make(audience: str = ENDPOINT_URL, **options) -> ChatVerifier:
        return ChatVerifier(audience, cache_clock=ticker, **options)
    return make


def downloads(rsps, url: str) -> int:
    return sum(call.request.url == url for call in rsps.calls)


def segment(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def tampered(token: str) -> str:
    """The token with its payload swapped for another audience, the signature left as it was."""
    header, _, signature = token.split(".")
    return ".".join([header, segment(project_number_claims("999")), signature])


# Accepted


def test_project_number_token_from_chat_is_accepted(verifier, certs, rsps):
    claims = verifier(PROJECT_NUMBER).verify(certs.bearer(project_number_claims()))
    assert claims["iss"] == CHAT_ISSUER and claims["aud"] == PROJECT_NUMBER
    assert downloads(rsps, CHAT_CERTS_URL) == 1 and downloads(rsps, GOOGLE_CERTS_URL) == 0


def test_endpoint_url_id_token_from_chat_is_accepted(verifier, certs, rsps):
    claims = verifier(ENDPOINT_URL).verify(certs.bearer(id_token_claims()))
    assert claims["email"] == CHAT_ISSUER
    assert downloads(rsps, GOOGLE_CERTS_URL) == 1 and downloads(rsps, CHAT_CERTS_URL) == 0


def test_endpoint_url_id_token_from_the_configured_addon_account_is_accepted(verifier, certs):
    chat = verifier(ENDPOINT_URL, addon_service_account=ADDON_ACCOUNT)
    assert chat.verify(certs.bearer(id_token_claims(email=ADDON_ACCOUNT)))["email"] == ADDON_ACCOUNT


def test_issuer_without_scheme_is_accepted_too(verifier, certs):
    assert verifier().verify(certs.bearer(id_token_claims(iss="accounts.google.com")))


def test_email_verified_as_a_string_is_accepted(verifier, certs):
    assert verifier().verify(certs.bearer(id_token_claims(email_verified="true")))


def test_refuse_says_nothing_about_a_good_request(verifier, certs):
    assert verifier().refuse(certs.bearer(id_token_claims())) is None


def test_expiry_within_the_clock_skew_is_accepted(verifier, certs):
    just_expired = id_token_claims(now=time.time() - HOUR - 5)
    assert verifier(clock_skew=10).verify(certs.bearer(just_expired))


# Refused

OTHER_ADDON = "service-999999999999@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
REFUSALS = {
    "no header": (ENDPOINT_URL, lambda c: None, "^no Authorization header$"),
    "empty header": (ENDPOINT_URL, lambda c: "", "^no Authorization header$"),
    "basic auth": (ENDPOINT_URL, lambda c: "Basic dXNlcjpwYXNz", "is not 'Bearer <token>'"),
    "bare token": (ENDPOINT_URL, lambda c: c.sign(id_token_claims()), "is not 'Bearer <token>'"),
    "bearer without token": (ENDPOINT_URL, lambda c: "Bearer ", "is not 'Bearer <token>'"),
    "two tokens": (ENDPOINT_URL, lambda c: "Bearer a.b.c d.e.f", "is not 'Bearer <token>'"),
    "token after a tab": (ENDPOINT_URL, lambda c: "Bearer\tnot-a-jwt-at-all", "^malformed token$"),
    "not a jwt": (ENDPOINT_URL, lambda c: "Bearer s3cr3t-not-a-jwt", "^malformed token$"),
    "garbage segments": (ENDPOINT_URL, lambda c: "Bearer %%%.@@@.!!!", "^malformed token$"),
    "header not json": (ENDPOINT_URL, lambda c: "Bearer bm9wZQ.e30.c2ln", "^malformed token$"),
    "header a list": (ENDPOINT_URL, lambda c: f"Bearer {segment([1])}.e30.c2ln", "^malformed token$"),
    "kid a number": (ENDPOINT_URL, lambda c: f"Bearer {segment({'alg': 'RS256', 'kid': 7})}.e30.c2ln",
                     "^malformed token$"),
    "alg none": (ENDPOINT_URL, lambda c: f"Bearer {segment({'alg': 'none', 'kid': 'key-1'})}."
                 f"{segment(id_token_claims())}.", "^unsupported signing algorithm$"),
    "bad signature": (PROJECT_NUMBER, lambda c: f"Bearer {tampered(c.sign(project_number_claims()))}",
                      "^bad signature$"),
    "unknown key": (ENDPOINT_URL, lambda c: f"Bearer {sign(id_token_claims(), 'key-99')}",
                    "^token signed with an unknown key$"),
    "expired": (ENDPOINT_URL, lambda c: c.bearer(id_token_claims(now=time.time() - 2 * HOUR)), "^token expired$"),
    "issued in the future": (ENDPOINT_URL, lambda c: c.bearer(id_token_claims(now=time.time() + HOUR)),
                             "^token not valid yet$"),
    "no expiry": (ENDPOINT_URL, lambda c: c.bearer({k: v for k, v in id_token_claims().items() if k != "exp"}),
                  "^malformed token$"),
    "other project number": (PROJECT_NUMBER, lambda c: c.bearer(project_number_claims("999")),
                             "^wrong audience '999'$"),
    "endpoint with trailing slash": (ENDPOINT_URL, lambda c: c.bearer(id_token_claims(ENDPOINT_URL + "/")),
                                     "^wrong audience 'https://rcabot.example.com/chat/events/'$"),
    "project number where url expected": (ENDPOINT_URL, lambda c: c.bearer(project_number_claims()),
                                          "^wrong audience '123456789012'$"),
    "self-signed not by chat": (PROJECT_NUMBER, lambda c: c.bearer(project_number_claims(iss="evil@example.com")),
                                "^wrong issuer 'evil@example.com'$"),
    "id token not by google": (ENDPOINT_URL, lambda c: c.bearer(id_token_claims(iss=CHAT_ISSUER)),
                               "^wrong issuer 'chat@system.gserviceaccount.com'$"),
    "id token of someone else": (ENDPOINT_URL, lambda c: c.bearer(id_token_claims(email="mallory@gmail.com")),
                                 "^token e-mail 'mallory@gmail.com' is neither Google Chat's"),
    "addon account not configured": (ENDPOINT_URL, lambda c: c.bearer(id_token_claims(email=ADDON_ACCOUNT)),
                                     "^token e-mail 'service-123456789012@gcp-sa-.*' is neither"),
    "e-mail not verified": (ENDPOINT_URL, lambda c: c.bearer(id_token_claims(email_verified=False)),
                            "^token e-mail not verified$"),
}


@pytest.mark.parametrize("audience, header, reason", REFUSALS.values(), ids=REFUSALS.keys())
def test_refusal_gives_a_short_reason_without_the_token(verifier, certs, audience, header, reason):
    authorization = header(certs)
    with pytest.raises(Unauthorized, match=reason) as refused:
        verifier(audience).verify(authorization)
    secrets = [part for part in re.split(r"[ .]", authorization or "") if len(part) > 8]
    assert not [part for part in secrets if part in str(refused.value)]


def test_refuse_returns_the_reason(verifier):
    assert verifier().refuse("Basic dXNlcjpwYXNz") == "Authorization header is not 'Bearer <token>'"


def test_another_projects_addon_is_refused(verifier, certs):
    chat = verifier(addon_service_account=ADDON_ACCOUNT)
    with pytest.raises(Unauthorized, match="e-mail 'service-999999999999@"):
        chat.verify(certs.bearer(id_token_claims(email=OTHER_ADDON)))


def test_bearer_scheme_is_case_insensitive(verifier, certs):
    assert verifier().verify("bearer " + certs.sign(id_token_claims()))


# Certificates


def test_certificates_are_downloaded_once_while_fresh(verifier, certs, rsps, ticker):
    chat = verifier()
    for _ in range(3):
        chat.verify(certs.bearer(id_token_claims()))
        ticker.now += HOUR - 10
    assert downloads(rsps, GOOGLE_CERTS_URL) == 2


def test_cache_honours_max_age(verifier, certs, rsps, ticker):
    certs.max_age = 60
    chat = verifier()
    chat.verify(certs.bearer(id_token_claims()))
    ticker.now += 59
    chat.verify(certs.bearer(id_token_claims()))
    ticker.now += 1
    chat.verify(certs.bearer(id_token_claims()))
    assert downloads(rsps, GOOGLE_CERTS_URL) == 2


def test_cache_keeps_an_hour_without_cache_control(verifier, certs, rsps, ticker):
    certs.max_age = None
    chat = verifier()
    chat.verify(certs.bearer(id_token_claims()))
    ticker.now += HOUR - 1
    chat.verify(certs.bearer(id_token_claims()))
    ticker.now += 1
    chat.verify(certs.bearer(id_token_claims()))
    assert downloads(rsps, GOOGLE_CERTS_URL) == 2


def test_a_rotated_key_is_picked_up_before_the_cache_expires(verifier, certs, rsps, ticker):
    chat = verifier()
    chat.verify(certs.bearer(id_token_claims()))
    certs.rotate()
    ticker.now += REFETCH_INTERVAL
    assert chat.verify(certs.bearer(id_token_claims()))
    assert downloads(rsps, GOOGLE_CERTS_URL) == 2


def test_unknown_keys_refetch_at_most_once_a_minute(verifier, certs, rsps, ticker):
    chat = verifier()
    chat.verify(certs.bearer(id_token_claims()))
    for _ in range(5):
        assert chat.refuse(f"Bearer {sign(id_token_claims(), 'key-99')}") == "token signed with an unknown key"
    assert downloads(rsps, GOOGLE_CERTS_URL) == 1
    ticker.now += REFETCH_INTERVAL
    chat.refuse(f"Bearer {sign(id_token_claims(), 'key-99')}")
    assert downloads(rsps, GOOGLE_CERTS_URL) == 2


def test_certificate_endpoint_down_refuses_and_warns(verifier, certs, caplog):
    certs.down = True
    with pytest.raises(Unauthorized, match=r"^cannot fetch Google's certificates \(HTTPError\)$"):
        verifier().verify(certs.bearer(id_token_claims()))
    assert "cannot fetch Google's certificates from https://www.googleapis.com/oauth2/v1/certs" in caplog.text


def test_network_failure_refuses():
    with responses.RequestsMock() as rsps:
        rsps.add_callback("GET", GOOGLE_CERTS_URL, callback=lambda request: requests.ConnectionError("refused"))
        chat = ChatVerifier(ENDPOINT_URL)
        assert chat.refuse(GoogleCerts().bearer(id_token_claims())) == \
            "cannot fetch Google's certificates (ConnectionError)"


def test_certificates_that_are_not_json_refuse():
    with responses.RequestsMock() as rsps:
        rsps.add("GET", CHAT_CERTS_URL, body="<html>captive portal</html>")
        chat = ChatVerifier(PROJECT_NUMBER)
        assert chat.refuse(GoogleCerts().bearer(project_number_claims())).startswith(
            "cannot fetch Google's certificates")


def test_expired_certificates_are_kept_while_google_is_unreachable(verifier, certs, rsps, ticker):
    chat = verifier()
    chat.verify(certs.bearer(id_token_claims()))
    certs.down = True
    ticker.now += 2 * HOUR
    assert chat.verify(certs.bearer(id_token_claims()))
    ticker.now += REFETCH_INTERVAL - 1
    assert chat.verify(certs.bearer(id_token_claims()))
    assert downloads(rsps, GOOGLE_CERTS_URL) == 2
    ticker.now += 1
    assert chat.verify(certs.bearer(id_token_claims()))
    assert downloads(rsps, GOOGLE_CERTS_URL) == 3


def test_unknown_keys_do_not_retry_an_unreachable_google_more_than_once_a_minute(verifier, certs, rsps, ticker):
    chat = verifier()
    chat.verify(certs.bearer(id_token_claims()))
    certs.down = True
    ticker.now += REFETCH_INTERVAL
    unknown = f"Bearer {sign(id_token_claims(), 'key-99')}"
    assert chat.refuse(unknown) == "cannot fetch Google's certificates (HTTPError)"
    assert chat.refuse(unknown) == "token signed with an unknown key"
    assert downloads(rsps, GOOGLE_CERTS_URL) == 2


def test_concurrent_requests_share_one_download(verifier, certs, rsps):
    chat = verifier()
    header = certs.bearer(id_token_claims())
    refusals = []
    threads = [threading.Thread(target=lambda: refusals.append(chat.refuse(header))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refusals == [None] * 8
    assert downloads(rsps, GOOGLE_CERTS_URL) == 1


def test_certificate_urls_can_be_pointed_elsewhere(certs):
    with responses.RequestsMock() as rsps:
        certs.install(rsps, urls=("http://127.0.0.1:9/certs",))
        chat = ChatVerifier(PROJECT_NUMBER, chat_certs_url="http://127.0.0.1:9/certs")
        assert chat.verify(certs.bearer(project_number_claims()))


# Configuration


@pytest.mark.parametrize("audience", ["", "my-project", "12345x", " 123456789012", "rcabot.example.com/chat/events",
                                      "ftp://rcabot.example.com/chat", "https://", "https://x.example/ chat"])
def test_audience_must_be_a_project_number_or_an_endpoint_url(audience):
    with pytest.raises(ValueError, match="RCABOT_CHAT_AUDIENCE must be the Cloud project number"):
        ChatVerifier(audience)


def test_addon_account_must_be_an_addon_service_account():
    with pytest.raises(ValueError, match="ADDON_SERVICE_ACCOUNT must look like service-<project-number>@gcp-sa"):
        ChatVerifier(ENDPOINT_URL, addon_service_account="someone@example.com")


def test_addon_account_needs_the_endpoint_url_audience():
    with pytest.raises(ValueError, match="ADDON_SERVICE_ACCOUNT needs RCABOT_CHAT_AUDIENCE to be the endpoint URL"):
        ChatVerifier(PROJECT_NUMBER, addon_service_account=ADDON_ACCOUNT)
