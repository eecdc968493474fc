"""The Chat fake, driven by the REAL google-api-python-client (static discovery doc, no network)."""
from __future__ import annotations

import copy
import json
import socket
import threading
from pathlib import Path

import google_auth_httplib2
import pytest
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from tests.fakes.chat import CREATE, PATCH, FakeChat
from tests.fakes.clock import FakeClock
from tests.fakes.transport import Router

SPACE = "spaces/AAQAv7Rk3mE"
FALLBACK = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
SAMPLES = Path(__file__).resolve().parent / "samples" / "chat"  # copied from ../shared/reference/samples

CARD = {"cardId": "ping-RCA-2041",
        "card": {"header": {"title": "RCA ticket ready for review", "subtitle": "RCA-2041"},
                 "sections": [{"widgets": [{"buttonList": {"buttons": [
                     {"text": "Accept", "onClick": {"action": {"function": "accept",
                                                               "parameters": [{"key": "ticket_id",
                                                                               "value": "RCA-2041"}]}}}]}}]}]}}
PING = {"text": "<users/113345902244171829470> RCA ticket RCA-2041 is ready for review.",
        "thread": {"threadKey": "rca-ticket-RCA-2041"}, "cardsV2": [CARD]}

# Keys of ../shared/reference/samples/chat/update_message_response.json (checked against the file when present).
SAMPLE_KEYS = {"name", "sender", "createTime", "lastUpdateTime", "text", "cardsV2", "thread", "space",
               "argumentText", "formattedText"}
SAMPLE_SPACE_KEYS = {"name", "type", "displayName", "spaceThreadingState", "spaceType", "spaceHistoryState"}


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class _Switch:
    """Routes the module's one real client to the current test's fake."""
    fake: FakeChat | None = None

    def handle(self, request):
        return self.fake.handle(request)


_SWITCH = _Switch()
_RESOURCE = []


def client(fake: FakeChat, http=None):
    """The real client's `spaces().messages()` resource. googleapiclient spends ~0.2 s rendering the Message
    schema into docstrings each time that resource object is made, so it is made once and pointed at `fake`
    (the Router's fake httplib2 keeps no state); with `http` a fresh one is built on it."""
    if http is not None:
        return build("chat", "v1", http=http, static_discovery=True).spaces().messages()
    _SWITCH.fake = fake
    if not _RESOURCE:
        http = Router({"https://chat.googleapis.com": _SWITCH.handle}).http()
        _RESOURCE.append(build("chat", "v1", http=http, static_discovery=True).spaces().messages())
    return _RESOURCE[0]


@pytest.fixture
def fake() -> FakeChat:
    return FakeChat()


@pytest.fixture
def chat(fake):
    return client(fake)


def create(chat, body=PING, space=SPACE, **params):
    return chat.create(parent=space, body=copy.deepcopy(body), **params).execute()


def status_of(excinfo) -> int:
    return excinfo.value.status_code


# ---------------------------------------------------------------- threads


def test_fallback_opens_then_reuses_the_thread_of_the_key(fake, chat):
    first = create(chat, messageReplyOption=FALLBACK)
    second = create(chat, {"text": "reminder", "thread": {"threadKey": "rca-ticket-RCA-2041"}},
                    messageReplyOption=FALLBACK)
    other = create(chat, {"text": "other ticket", "thread": {"threadKey": "rca-ticket-RCA-2042"}},
                   messageReplyOption=FALLBACK)

    assert first["thread"] == {"name": second["thread"]["name"], "threadKey": "rca-ticket-RCA-2041"}
    assert other["thread"]["name"] != first["thread"]["name"]
    assert "threadReply" not in first and second["threadReply"] is True
    assert fake.threads(SPACE) == {"rca-ticket-RCA-2041": first["thread"]["name"],
                                   "rca-ticket-RCA-2042": other["thread"]["name"]}
    assert [m["name"] for m in fake.thread_messages(SPACE, "rca-ticket-RCA-2041")] == [first["name"], second["name"]]
    # Replying by thread name works too.
    third = create(chat, {"text": "by name", "thread": {"name": first["thread"]["name"]}}, messageReplyOption=FALLBACK)
    assert third["thread"]["name"] == first["thread"]["name"]


def test_without_a_reply_option_the_key_is_ignored_and_each_message_starts_a_thread(fake, chat):
    first = create(chat)
    second = create(chat, messageReplyOption="MESSAGE_REPLY_OPTION_UNSPECIFIED")
    by_name = create(chat, {"text": "x", "thread": {"name": first["thread"]["name"]}})

    names = {first["thread"]["name"], second["thread"]["name"], by_name["thread"]["name"]}
    assert len(names) == 3
    assert "threadKey" not in first["thread"]
    assert fake.threads(SPACE) == {}  # the key never got attached to a thread
    assert fake.thread_messages(SPACE, "rca-ticket-RCA-2041") == []


def test_reply_or_fail(fake, chat):
    opened = create(chat, messageReplyOption="REPLY_MESSAGE_OR_FAIL")  # a new key creates the thread
    again = create(chat, {"text": "x", "thread": {"threadKey": "rca-ticket-RCA-2041"}},
                   messageReplyOption="REPLY_MESSAGE_OR_FAIL")
    assert again["thread"]["name"] == opened["thread"]["name"]

    with pytest.raises(HttpError) as excinfo:
        create(chat, {"text": "x", "thread": {"name": f"{SPACE}/threads/nope"}},
               messageReplyOption="REPLY_MESSAGE_OR_FAIL")
    assert status_of(excinfo) == 404
    fell_back = create(chat, {"text": "x", "thread": {"name": f"{SPACE}/threads/nope"}}, messageReplyOption=FALLBACK)
    assert fell_back["thread"]["name"] != f"{SPACE}/threads/nope"
    assert fake.posted_count() == 3


def test_the_deprecated_thread_key_query_parameter_is_accepted(fake, chat):
    first = create(chat, {"text": "a"}, threadKey="legacy", messageReplyOption=FALLBACK)
    second = create(chat, {"text": "b"}, threadKey="legacy", messageReplyOption=FALLBACK)
    assert first["thread"]["name"] == second["thread"]["name"]
    assert fake.threads(SPACE) == {"legacy": first["thread"]["name"]}


# ---------------------------------------------------------------- idempotency and names


def test_a_repeated_request_id_returns_the_first_message_and_posts_once(fake, chat):
    first = create(chat, messageReplyOption=FALLBACK, requestId="req-1")
    again = create(chat, {**PING, "text": "different"}, messageReplyOption=FALLBACK, requestId="req-1")
    assert again == first
    assert fake.posted_count(SPACE) == 1 and len(fake.messages()) == 1
    assert fake.count(CREATE) == 2


def test_lost_response_then_retry_with_the_same_request_id_leaves_one_message(fake, chat):
    fake.fail_after_post_next(503)
    with pytest.raises(HttpError) as excinfo:
        create(chat, messageReplyOption=FALLBACK, requestId="req-lost")
    assert status_of(excinfo) == 503
    assert fake.posted_count() == 1  # stored although the client saw an error

    retried = create(chat, messageReplyOption=FALLBACK, requestId="req-lost")
    assert [m["name"] for m in fake.messages()] == [retried["name"]]
    assert fake.posted_count() == 1


def test_the_client_retry_loop_reuses_the_request_id(fake, chat):
    fake.fail_after_post_next(503)
    request = chat.create(parent=SPACE, body=copy.deepcopy(PING),
                                              messageReplyOption=FALLBACK, requestId="req-auto")
    request._sleep = lambda seconds: None  # googleapiclient backs off with time.sleep
    message = request.execute(num_retries=2)
    assert [c.status for c in fake.calls] == [503, 200]
    assert fake.messages() == [fake.message(message["name"])] and fake.posted_count() == 1


def test_a_client_assigned_id_names_the_message(fake, chat):
    created = create(chat, messageId="client-ping-rca-2041-1", messageReplyOption=FALLBACK)
    assert created["clientAssignedMessageId"] == "client-ping-rca-2041-1"
    assert created["name"].startswith(f"{SPACE}/messages/") and "client-" not in created["name"]
    got = chat.get(name=f"{SPACE}/messages/client-ping-rca-2041-1").execute()
    assert got["name"] == created["name"]

    with pytest.raises(HttpError) as excinfo:
        create(chat, messageId="client-ping-rca-2041-1")
    assert status_of(excinfo) == 409
    for bad in ("ping-1", "client-UPPER", "client-" + "x" * 60):
        with pytest.raises(HttpError) as excinfo:
            create(chat, messageId=bad)
        assert status_of(excinfo) == 400
    assert fake.posted_count() == 1


# ---------------------------------------------------------------- patch / update / get / list / delete


def test_patch_with_an_update_mask_changes_text_and_cards(fake, chat):
    created = create(chat, messageReplyOption=FALLBACK)
    assigned = copy.deepcopy(CARD)
    assigned["card"]["header"]["title"] = "Assigned to Priya Raman"

    patched = chat.patch(
        name=created["name"], updateMask="text,cardsV2",
        body={"text": "RCA ticket RCA-2041: assigned to Priya Raman.", "cardsV2": [assigned]}).execute()
    assert patched["text"] == patched["argumentText"] == "RCA ticket RCA-2041: assigned to Priya Raman."
    assert patched["cardsV2"][0]["card"]["header"]["title"] == "Assigned to Priya Raman"
    assert patched["createTime"] == created["createTime"] and "lastUpdateTime" in patched
    assert fake.messages() == [patched]

    # Only the masked fields change: a text-only mask keeps the cards.
    text_only = chat.patch(name=created["name"], updateMask="text",
                                               body={"text": "t2", "cardsV2": []}).execute()
    assert text_only["text"] == "t2" and text_only["cardsV2"] == [assigned]
    # cards_v2 spelling, PUT (update) and `*` work too.
    chat.patch(name=created["name"], updateMask="cards_v2", body={"cardsV2": [CARD]}).execute()
    assert fake.messages()[0]["cardsV2"] == [CARD]
    star = chat.update(name=created["name"], updateMask="*", body={"text": "only text"}).execute()
    assert star["text"] == "only text" and "cardsV2" not in star
    assert fake.count(PATCH) == 3 and fake.count("spaces.messages.update") == 1


def test_patch_errors(fake, chat):
    created = create(chat, {"text": "hello"})
    cases = [
        ({"name": created["name"], "body": {"text": "x"}}, 400),  # no updateMask
        ({"name": created["name"], "updateMask": "sender", "body": {"text": "x"}}, 400),
        ({"name": created["name"], "updateMask": "text", "body": {"text": ""}}, 400),  # would be empty
        ({"name": f"{SPACE}/messages/nope.nope", "updateMask": "text", "body": {"text": "x"}}, 404),
    ]
    human = fake.post_as_user(SPACE, "@RCA Bot status RCA-2041")
    cases.append(({"name": human["name"], "updateMask": "text", "body": {"text": "x"}}, 403))
    for kwargs, expected in cases:
        with pytest.raises(HttpError) as excinfo:
            chat.patch(**kwargs).execute()
        assert status_of(excinfo) == expected, kwargs
    assert fake.messages()[0]["text"] == "hello"


def test_patch_allow_missing_creates_a_client_named_message(fake, chat):
    made = chat.patch(name=f"{SPACE}/messages/client-status", updateMask="text",
                                          allowMissing=True, body={"text": "status"}).execute()
    assert made["clientAssignedMessageId"] == "client-status" and fake.posted_count() == 1


def test_get_list_and_delete(fake, chat):
    names = [create(chat, {"text": f"m{i}"})["name"] for i in range(5)]
    assert chat.get(name=names[2]).execute()["text"] == "m2"

    page = chat.list(parent=SPACE, pageSize=3).execute()
    rest = chat.list(parent=SPACE, pageSize=3, pageToken=page["nextPageToken"]).execute()
    assert [m["name"] for m in page["messages"] + rest["messages"]] == names and "nextPageToken" not in rest
    newest = chat.list(parent=SPACE, orderBy="createTime desc", pageSize=1).execute()
    assert newest["messages"][0]["name"] == names[-1]

    threaded = create(chat, {"text": "r", "thread": {"name": fake.message(names[0])["thread"]["name"]}},
                      messageReplyOption=FALLBACK)
    only = chat.list(parent=SPACE, filter=f"thread.name = {threaded['thread']['name']}").execute()
    assert [m["name"] for m in only["messages"]] == [names[0], threaded["name"]]

    assert chat.delete(name=names[1]).execute() == {}
    assert names[1] not in [m["name"] for m in fake.messages()]
    with pytest.raises(HttpError) as excinfo:
        chat.get(name=names[1]).execute()
    assert status_of(excinfo) == 404
    assert fake.posted_count() == 6 and len(fake.messages()) == 5


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("body", [
    {},
    {"text": ""},
    {"text": "x" * 32_001},
    {"cardsV2": [{"cardId": "c"}]},
    {"cardsV2": [{"cardId": "c", "card": {}}]},
    {"cardsV2": [{"cardId": "c", "card": {"header": {"subtitle": "no title"}}}]},
    {"cardsV2": [{"card": {"header": {"title": "a"}}}, {"card": {"header": {"title": "b"}}}]},  # ids needed
    {"text": "x", "cardsv2": []},  # unknown field (typo)
], ids=["empty", "blank-text", "too-big", "no-card", "empty-card", "no-title", "two-cards-no-ids", "typo"])
def test_invalid_messages_are_rejected_and_not_posted(fake, chat, body):
    with pytest.raises(HttpError) as excinfo:
        create(chat, body)
    assert status_of(excinfo) == 400
    assert excinfo.value.resp.status == 400 and fake.posted_count() == 0


def test_a_message_of_just_under_the_limit_is_accepted(chat, fake):
    create(chat, {"text": "x" * 31_990})
    assert fake.posted_count() == 1


def test_unknown_space_is_not_found(fake, chat):
    with pytest.raises(HttpError) as excinfo:
        create(chat, space="spaces/unknown")
    assert status_of(excinfo) == 404
    assert json.loads(excinfo.value.content)["error"]["status"] == "NOT_FOUND"
    assert fake.posted_count() == 0 and fake.calls[-1].space == "spaces/unknown"


# ---------------------------------------------------------------- faults and quota


def test_fail_next_429_raises_and_posts_nothing(fake, chat):
    fake.fail_next(429)
    with pytest.raises(HttpError) as excinfo:
        create(chat, messageReplyOption=FALLBACK)
    error = json.loads(excinfo.value.content)["error"]
    assert status_of(excinfo) == 429 and error["status"] == "RESOURCE_EXHAUSTED"
    assert fake.posted_count() == 0 and fake.threads(SPACE) == {}
    create(chat, messageReplyOption=FALLBACK)  # the fault was used up
    assert fake.posted_count() == 1


def test_fail_next_by_kind_and_count(fake, chat):
    created = create(chat, {"text": "a"})
    fake.fail_next(500, count=2, kind=PATCH)
    assert chat.get(name=created["name"]).execute()["text"] == "a"  # reads unaffected
    for _ in range(2):
        with pytest.raises(HttpError) as excinfo:
            chat.patch(name=created["name"], updateMask="text", body={"text": "b"}).execute()
        assert status_of(excinfo) == 500
    chat.patch(name=created["name"], updateMask="text", body={"text": "b"}).execute()
    assert fake.messages()[0]["text"] == "b"
    assert fake.count(PATCH, status=500) == 2


def test_the_space_write_quota_refuses_the_61st_write_in_a_minute():
    clock = Clock()
    fake = FakeChat(clock=clock)
    chat = client(fake)
    for i in range(60):
        create(chat, {"text": f"m{i}"})
        clock.now += 0.5  # 60 writes in 30 s
    with pytest.raises(HttpError) as excinfo:
        create(chat, {"text": "one too many"})
    error = json.loads(excinfo.value.content)["error"]
    assert status_of(excinfo) == 429 and error["status"] == "RESOURCE_EXHAUSTED"
    assert "Message write requests per space" in error["message"]
    assert error["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
    assert fake.posted_count() == 60

    clock.now = 1000.0 + 60.0  # the first write leaves the window
    create(chat, {"text": "fits again"})
    assert fake.posted_count() == 61
    assert fake.peak_writes_per_minute(SPACE) == 61  # attempts, the refused one included
    assert fake.peak_writes_per_minute(SPACE, admitted_only=True) == 60
    assert len(fake.writes()) == 62


def test_a_patch_is_a_write_and_counts_against_the_space_quota_like_a_create():
    clock = Clock()
    fake = FakeChat(clock=clock)
    chat = client(fake)
    made = create(chat, {"text": "card", "cardsV2": [CARD]})
    for i in range(59):
        chat.patch(name=made["name"], updateMask="cardsV2", body={"cardsV2": [CARD]}).execute()
    with pytest.raises(HttpError) as excinfo:
        chat.patch(name=made["name"], updateMask="cardsV2", body={"cardsV2": [CARD]}).execute()
    assert status_of(excinfo) == 429 and fake.message(made["name"])["text"] == "card"


def test_the_quota_is_per_space_and_can_be_switched_off():
    clock = Clock()
    fake = FakeChat(spaces=("spaces/A", "spaces/B"), writes_per_minute_per_space=2, clock=clock)
    chat = client(fake)
    for space in ("spaces/A", "spaces/B"):
        create(chat, {"text": "1"}, space=space)
        create(chat, {"text": "2"}, space=space)
    with pytest.raises(HttpError):
        create(chat, {"text": "3"}, space="spaces/A")
    unlimited = FakeChat(writes_per_minute_per_space=None, clock=clock)
    chat = client(unlimited)
    for i in range(100):
        create(chat, {"text": str(i)})
    assert unlimited.posted_count() == 100 and unlimited.peak_writes_per_minute(SPACE) == 100


def test_a_datetime_clock_such_as_the_suites_fake_clock_drives_times_and_quota():
    clock = FakeClock()
    fake = FakeChat(clock=clock, writes_per_minute_per_space=2)
    chat = client(fake)
    first = create(chat, {"text": "a"})
    assert first["createTime"] == "2026-11-23T07:00:00.000000Z"
    clock.advance(30)
    create(chat, {"text": "b"})
    with pytest.raises(HttpError):
        create(chat, {"text": "c"})
    clock.advance(30)  # 60 s after the first write
    assert create(chat, {"text": "d"})["createTime"] == "2026-11-23T07:01:00.000000Z"


def test_timeouts_reach_the_client_as_socket_timeouts(fake, chat):
    fake.timeout_next(kind=CREATE)
    with pytest.raises(socket.timeout):
        create(chat, messageReplyOption=FALLBACK, requestId="r1")
    assert fake.posted_count() == 0

    fake.timeout_next(kind=CREATE, after_post=True)
    with pytest.raises(TimeoutError):
        create(chat, messageReplyOption=FALLBACK, requestId="r1")
    assert fake.posted_count() == 1  # posted although the client never heard back
    again = create(chat, messageReplyOption=FALLBACK, requestId="r1")
    assert [m["name"] for m in fake.messages()] == [again["name"]]
    assert [c.status for c in fake.calls] == [0, 0, 200]


def test_the_call_log_keeps_the_query_as_parsed(fake, chat):
    create(chat, messageReplyOption=FALLBACK, requestId="r-1")
    call = fake.calls[-1]
    assert call.kind == CREATE and call.path == f"/v1/{SPACE}/messages" and call.space == SPACE
    assert call.query["messageReplyOption"] == [FALLBACK] and call.param("requestId") == "r-1"
    assert call.body["thread"] == {"threadKey": "rca-ticket-RCA-2041"} and call.ok


def test_fault_arguments_are_checked(fake):
    with pytest.raises(ValueError):
        fake.fail_next(429, kind="spaces.messages.craete")
    with pytest.raises(ValueError):
        fake.fail_after_post_next(503, kind="spaces.messages.get")
    fake.fail_next(500, count=2)
    fake.hang_next(1)
    assert fake.pending_faults() == 3


def test_hang_next_and_latency_use_the_injected_sleep(chat):
    slept: list[float] = []
    fake = FakeChat(latency=0.25, sleep=slept.append)
    chat = client(fake)
    fake.hang_next(30, kind=CREATE)
    create(chat, {"text": "slow"})
    create(chat, {"text": "normal"})
    assert slept == [0.25, 30, 0.25] and fake.posted_count() == 2


def test_concurrent_creates_are_all_recorded():
    fake = FakeChat(writes_per_minute_per_space=None)
    chat = client(fake)
    errors: list[Exception] = []

    def post(n):
        try:
            for i in range(8):
                create(chat, {"text": f"{n}-{i}", "thread": {"threadKey": "shared"}}, messageReplyOption=FALLBACK)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=post, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert fake.posted_count() == 32 and len(fake.threads(SPACE)) == 1
    assert len(fake.thread_messages(SPACE, "shared")) == 32
    assert len({m["name"] for m in fake.messages()}) == 32


# ---------------------------------------------------------------- auth


def test_a_token_is_required_when_configured():
    fake = FakeChat(token="fake-token")
    with pytest.raises(HttpError) as excinfo:
        create(client(fake))
    assert status_of(excinfo) == 401
    assert json.loads(excinfo.value.content)["error"]["status"] == "UNAUTHENTICATED"
    assert fake.posted_count() == 0


def test_the_authorization_header_of_authorized_http_reaches_the_fake():
    fake = FakeChat(token="fake-token")
    credentials = Credentials(token="fake-token")
    http = google_auth_httplib2.AuthorizedHttp(credentials,
                                               http=Router({"https://chat.googleapis.com": fake.handle}).http())
    chat = client(fake, http)
    created = create(chat, messageReplyOption=FALLBACK)
    assert fake.message(created["name"])["text"] == PING["text"]
    assert fake.calls[-1].status == 200 and fake.calls[-1].bearer == "fake-token"

    credentials.token = "other-token"
    with pytest.raises(RefreshError):  # on 401 google-auth tries to refresh a token it cannot refresh
        create(chat)
    assert fake.count(status=401) == 1 and fake.posted_count() == 1


# ---------------------------------------------------------------- shape


def test_the_returned_message_has_the_shape_of_the_sample(fake, chat):
    request = PING
    if (SAMPLES / "create_message_request.json").exists():
        request = json.loads((SAMPLES / "create_message_request.json").read_text())
    created = create(chat, request, messageReplyOption=FALLBACK, requestId="5b0f7c2e-1d1a-4f57-9a43-0c7f3a1b9e21")
    assert set(created) == SAMPLE_KEYS - {"lastUpdateTime"}
    assert created["sender"] == {"name": "users/106531857428739064512", "displayName": "RCA Bot", "type": "BOT"}
    assert created["createTime"].endswith("Z") and len(created["createTime"]) == len("2026-05-12T09:30:02.104522Z")
    assert created["thread"]["name"].startswith(f"{SPACE}/threads/")
    message_id = created["name"].rsplit("/", 1)[1]
    assert message_id.split(".")[1] == created["thread"]["name"].rsplit("/", 1)[1]

    patched = chat.patch(
        name=created["name"], updateMask="text,cardsV2",
        body={"text": "RCA ticket RCA-2041: assigned to Priya Raman.", "cardsV2": [CARD]}).execute()
    expected = {"top": SAMPLE_KEYS, "sender": {"name", "displayName", "type"}, "thread": {"name"},
                "space": SAMPLE_SPACE_KEYS}
    if (SAMPLES / "update_message_response.json").exists():
        sample = json.loads((SAMPLES / "update_message_response.json").read_text())
        assert expected == {"top": set(sample), "sender": set(sample["sender"]), "thread": set(sample["thread"]),
                            "space": set(sample["space"])}
    assert {"top": set(patched), "sender": set(patched["sender"]), "thread": set(patched["thread"]),
            "space": set(patched["space"])} == expected
    assert patched["space"]["type"] == "ROOM" and patched["space"]["spaceType"] == "SPACE"


def test_the_fake_also_serves_wsgi(fake):
    werkzeug = pytest.importorskip("werkzeug.test")
    app = Router({"https://chat.googleapis.com": fake.handle}).wsgi("https://chat.googleapis.com")
    response = werkzeug.Client(app).post(f"/v1/{SPACE}/messages?messageReplyOption={FALLBACK}", json=PING)
    assert response.status_code == 200 and response.json["thread"]["threadKey"] == "rca-ticket-RCA-2041"
    assert fake.posted_count() == 1
