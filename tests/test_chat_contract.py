"""The ChatSpace interface, the same promises from both implementations: the local space and
Google Chat (the real google-api-python-client against the fake Chat API)."""
from __future__ import annotations

import pytest

from rcabot.bootstrap import CHAT_SCOPE
from rcabot.chat import ChatError
from rcabot.chat.cards import plain
from rcabot.chat.google import GoogleChat
from rcabot.chat.local import LocalSpace
from tests.fakes.clock import FakeClock
from tests.fakes.google import SPACE, FakeGoogle


class LocalSide:
    space = "spaces/local"

    def __init__(self, tmp_path):
        self.chat = LocalSpace(FakeClock(), store=tmp_path / "local-space.json")

    def posted(self) -> list[dict]:
        return self.chat.messages()


class GoogleSide:
    space = SPACE

    def __init__(self):
        self.fake = FakeGoogle()
        self.chat = GoogleChat(self.fake.credentials(CHAT_SCOPE), transport=self.fake.http())

    def posted(self) -> list[dict]:
        return self.fake.chat.messages(SPACE)


@pytest.fixture(params=["local", "google"])
def side(request, tmp_path):
    return LocalSide(tmp_path) if request.param == "local" else GoogleSide()


def ping(text: str) -> dict:
    return {"text": text, "cardsV2": [{"cardId": "ping", "card": {"header": {"title": "RCA ticket ready"},
                                                                     "sections": [{"widgets": [
                                                                         {"textParagraph": {"text": plain(text)}}]}]}}]}


def test_the_first_message_of_a_key_opens_a_thread_and_later_ones_reply_in_it(side):
    first = side.chat.create_message(side.space, ping("one"), thread_key="rca-ticket-RCA-1", request_id="r1")
    other = side.chat.create_message(side.space, ping("other"), thread_key="rca-ticket-RCA-2", request_id="r2")
    second = side.chat.create_message(side.space, ping("two"), thread_key="rca-ticket-RCA-1", request_id="r3")
    assert first["name"] and first["thread"]["name"]
    assert second["thread"]["name"] == first["thread"]["name"]
    assert other["thread"]["name"] != first["thread"]["name"]
    assert [m["text"] for m in side.posted()] == ["one", "other", "two"]


def test_a_repeated_request_id_returns_the_first_message_and_posts_nothing(side):
    first = side.chat.create_message(side.space, ping("one"), thread_key="rca-ticket-RCA-1", request_id="same")
    again = side.chat.create_message(side.space, ping("one"), thread_key="rca-ticket-RCA-1", request_id="same")
    assert again["name"] == first["name"]
    assert len(side.posted()) == 1


def test_a_posted_message_keeps_its_card(side):
    side.chat.create_message(side.space, ping("one"), thread_key="rca-ticket-RCA-1", request_id="r1")
    assert side.posted()[0]["cardsV2"][0]["card"]["header"]["title"] == "RCA ticket ready"


def test_an_update_replaces_the_cards_it_is_given_and_keeps_the_text(side):
    first = side.chat.create_message(side.space, ping("one"), thread_key="rca-ticket-RCA-1", request_id="r1")
    redrawn = {"cardsV2": [{"cardId": "ping", "card": {"header": {"title": "Timed out"},
                                                       "sections": [{"widgets": [{"textParagraph": {"text": "x"}}]}]}}]}
    side.chat.update_message(first["name"], redrawn)
    [shown] = side.posted()
    assert shown["cardsV2"][0]["card"]["header"]["title"] == "Timed out" and shown["text"] == "one"
    assert shown["lastUpdateTime"]


def test_an_update_of_a_message_that_is_not_there_is_a_chat_error_not_worth_retrying(side):
    with pytest.raises(ChatError) as failure:
        side.chat.update_message(f"{side.space}/messages/nothing-here", ping("one"))
    assert not failure.value.retryable


# --- Google only: what goes over the wire, and how failures come back ---------------------------

@pytest.fixture
def google() -> GoogleSide:
    return GoogleSide()


def test_a_create_names_the_thread_key_the_reply_option_and_the_request_id(google):
    google.chat.create_message(SPACE, ping("one"), thread_key="rca-ticket-RCA-1", request_id="r-1")
    call = google.fake.chat.calls[-1]
    assert call.kind == "spaces.messages.create" and call.path == f"/v1/{SPACE}/messages"
    assert call.query["messageReplyOption"] == ["REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"]
    assert call.query["requestId"] == ["r-1"]
    assert call.body["thread"] == {"threadKey": "rca-ticket-RCA-1"}


def test_an_update_is_a_patch_whose_mask_names_the_fields_sent(google):
    made = google.chat.create_message(SPACE, ping("one"), thread_key="k", request_id="r-1")
    google.chat.update_message(made["name"], {"cardsV2": ping("two")["cardsV2"]})
    call = google.fake.chat.calls[-1]
    assert call.kind == "spaces.messages.patch" and call.path == f"/v1/{made['name']}"
    assert call.query["updateMask"] == ["cards_v2"] and set(call.body) == {"cardsV2"}


def test_the_service_account_gets_a_token_once_and_every_call_carries_it(google):
    for n in range(3):
        google.chat.create_message(SPACE, ping(f"m{n}"), thread_key="k", request_id=f"r{n}")
    assert google.fake.tokens.issued == 1
    assert google.fake.tokens.scopes == ["https://www.googleapis.com/auth/chat.bot"]
    assert google.fake.chat.count("spaces.messages.create", status=200) == 3


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_worth_retrying(google, status):
    google.fake.chat.fail_next(status, kind="spaces.messages.create")
    with pytest.raises(ChatError) as failure:
        google.chat.create_message(SPACE, ping("one"), thread_key="k", request_id="r1")
    assert failure.value.retryable and str(status) in str(failure.value)
    assert google.posted() == []


def test_a_retry_after_a_lost_answer_posts_once(google):
    google.fake.chat.fail_after_post_next(503)
    with pytest.raises(ChatError):
        google.chat.create_message(SPACE, ping("one"), thread_key="k", request_id="r1")
    google.chat.create_message(SPACE, ping("one"), thread_key="k", request_id="r1")
    assert len(google.posted()) == 1


def test_a_space_the_app_is_not_in_is_reported_as_such(google):
    with pytest.raises(ChatError) as failure:
        google.chat.create_message("spaces/UNKNOWN", ping("one"), thread_key="k", request_id="r1")
    assert not failure.value.retryable
    assert "spaces/UNKNOWN" in str(failure.value)


def test_the_endpoint_can_be_pointed_elsewhere():
    fake = FakeGoogle()
    router = fake.local_router("https://chat.example.internal")
    router.routes["https://oauth2.googleapis.com/token"] = fake.tokens.handle
    chat = GoogleChat(fake.credentials(CHAT_SCOPE), endpoint="https://chat.example.internal/",
                      transport=router.http())
    chat.create_message(SPACE, ping("one"), thread_key="k", request_id="r1")
    assert len(fake.chat.messages(SPACE)) == 1
