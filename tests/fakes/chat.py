"""A stateful fake of the Google Chat API v1 message endpoints (`spaces.messages.*`).

Serve it to the REAL google-api-python-client through `tests.fakes.transport.Router`:

    chat_api = FakeChat()
    http = Router({"https://chat.googleapis.com": chat_api.handle}).http()
    chat = build("chat", "v1", http=http, static_discovery=True)

What it models (see ../shared/reference/google-chat.md, sections 2, 4, 7):

- create: `messageReplyOption` (absent/UNSPECIFIED starts a NEW thread and ignores any thread key or
  name — the pitfall real Chat has), `REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD`, `REPLY_MESSAGE_OR_FAIL`;
  `requestId` idempotency; `messageId` (`client-...`) as a second name; deprecated `threadKey` query param;
  validation (empty message, 32,000-byte limit, card shape, unknown Message fields).
- get / list / patch / update (`updateMask` required) / delete, app-owned messages only for writes.
- per-space write quota over a sliding 60 s window (429 RESOURCE_EXHAUSTED), bearer-token check (401),
  latency, and injected faults (`fail_next`, `hang_next`, `fail_after_post_next`).
- a call log (`calls`) and state helpers for assertions.

Everything is guarded by one lock; sleeps (latency, hangs) happen outside it.
"""
from __future__ import annotations

import base64
import copy
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from tests.fakes.transport import STATUS_NAMES, FakeRequest, google_error, peak_per_minute

CREATE, GET, LIST = "spaces.messages.create", "spaces.messages.get", "spaces.messages.list"
PATCH, UPDATE, DELETE = "spaces.messages.patch", "spaces.messages.update", "spaces.messages.delete"
WRITE_KINDS = frozenset({CREATE, PATCH, UPDATE, DELETE})
KINDS = frozenset({CREATE, GET, LIST, PATCH, UPDATE, DELETE})

REPLY_OPTIONS = ("MESSAGE_REPLY_OPTION_UNSPECIFIED", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
                 "REPLY_MESSAGE_OR_FAIL")
MAX_MESSAGE_BYTES = 32_000
MAX_THREAD_KEY = 4000
CLIENT_ID = re.compile(r"^client-[a-z0-9-]+$")
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

# Writable/inputtable fields of the `Message` schema in the bundled chat.v1 discovery doc (plus the
# output-only ones, which Chat silently ignores on input). Anything else is "Unknown name" → 400.
MESSAGE_FIELDS = frozenset({
    "accessoryWidgets", "actionResponse", "annotations", "argumentText", "attachedGifs", "attachment", "cards",
    "cardsV2", "clientAssignedMessageId", "createTime", "deleteTime", "deletionMetadata", "elements",
    "emojiReactionSummaries", "fallbackText", "formattedText", "lastUpdateTime", "markupSyntax", "matchedUrl",
    "name", "privateMessageViewer", "quotedMessageMetadata", "sender", "silent", "slashCommand", "space", "text",
    "thread", "threadReply"})

# updateMask path → Message field. `*` means all of the values.
MASK_PATHS = {"text": "text", "cards_v2": "cardsV2", "cardsV2": "cardsV2", "cards": "cards",
              "attachment": "attachment", "accessory_widgets": "accessoryWidgets",
              "accessoryWidgets": "accessoryWidgets", "quoted_message_metadata": "quotedMessageMetadata",
              "quotedMessageMetadata": "quotedMessageMetadata"}
STAR_FIELDS = ("text", "cardsV2", "cards", "attachment", "accessoryWidgets")

QUOTA_MESSAGE = ("Quota exceeded for quota metric 'Message write requests per space' and limit "
                 "'Message write requests per space per minute per space' of service 'chat.googleapis.com' "
                 "for consumer 'project_number:000000000000'.")
DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
         "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    409: "Requested entity already exists",
    429: QUOTA_MESSAGE,
    500: "Internal error encountered.",
    502: "Bad Gateway",
    503: "The service is currently unavailable.",
    504: "The request timed out. Please try again.",
}
MISSING_CREDENTIAL = ("Request is missing required authentication credential. Expected OAuth 2 access token, login "
                      "cookie or other valid authentication credential. See "
                      "https://developers.google.com/identity/sign-in/web/devconsole-project.")


class _Reject(Exception):
    """Raised inside a handler to answer with Google's error envelope."""

    def __init__(self, code: int, message: str | None = None, status: str | None = None,
                 details: list | None = None):
        super().__init__(message)
        self.code, self.message = code, message or DEFAULT_MESSAGES.get(code, "Error")
        self.status, self.details = status or STATUS_NAMES.get(code, "UNKNOWN"), details

    def response(self) -> tuple[int, dict]:
        code, payload = google_error(self.code, self.message, self.status)
        if self.details:
            payload["error"]["details"] = self.details
        return code, payload


@dataclass
class ChatCall:
    kind: str  # "spaces.messages.create" ... or "unknown"
    method: str
    path: str
    query: dict[str, list[str]]  # as parsed from the URL, like FakeRequest.query
    body: Any
    status: int = 0
    space: str | None = None  # "spaces/..."
    at: float = 0.0  # clock reading when the call arrived (seconds)
    bearer: str = ""  # the token of the Authorization header, "" if none
    charged: bool = False  # counted against the space's write quota
    response: dict = field(default_factory=dict, repr=False)

    def param(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class _Fault:
    mode: str  # "fail" | "hang" | "after_post" | "timeout" | "timeout_after_post"
    kind: str | None
    count: int
    status: int = 0
    seconds: float = 0.0
    message: str | None = None

    def matches(self, kind: str) -> bool:
        if self.mode in ("after_post", "timeout_after_post") and self.kind is None:
            return kind in WRITE_KINDS
        return self.kind is None or self.kind == kind


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _space_name(space: str) -> str:
    return space if space.startswith("spaces/") else f"spaces/{space}"


class FakeChat:
    """The Chat API as one Chat app (`app_user`) sees it, over any number of named spaces."""

    def __init__(self, spaces=("spaces/AAQAv7Rk3mE",), *, app_user: str = "users/106531857428739064512",
                 app_name: str = "RCA Bot", token: str | None = None, latency: float = 0.0,
                 writes_per_minute_per_space: int | None = 60, clock: Callable[[], Any] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, seed: int = 0):
        self.app_user, self.app_name = app_user, app_name
        self.token, self.latency = token, latency
        self.writes_per_minute_per_space = writes_per_minute_per_space
        self.clock, self.sleep = clock, sleep
        self.calls: list[ChatCall] = []
        self._lock = threading.RLock()
        self._random = random.Random(seed)
        self._ids: set[str] = set()
        self._order: list[str] = []  # message names in post order (all spaces)
        self._messages: dict[str, dict] = {}  # name → stored Message
        self._owner: dict[str, str] = {}  # name → sender user name
        self._client_ids: dict[tuple[str, str], str] = {}  # (space, client-id) → name
        self._spaces: dict[str, dict] = {}  # name → Space resource
        self._threads: dict[str, dict[str, str | None]] = {}  # space → {thread name: key or None}
        self._thread_keys: dict[tuple[str, str], str] = {}  # (space, key) → thread name
        self._request_ids: dict[tuple[str, str], dict] = {}  # (space, requestId) → first response
        self._admitted: dict[str, list[float]] = {}  # space → times of charged writes, for the quota
        self._posted: dict[str, int] = {}
        self.deleted: list[dict] = []
        self._faults: list[_Fault] = []
        for name, display in (spaces.items() if isinstance(spaces, dict) else ((s, None) for s in spaces)):
            self.add_space(name, display)

    # ------------------------------------------------------------------ faults

    def fail_next(self, status: int = 429, count: int = 1, kind: str | None = None,
                  message: str | None = None) -> None:
        """The next `count` calls of `kind` (any call if None) fail with `status`; nothing is changed."""
        self._add_fault(_Fault("fail", kind, count, status=status, message=message))

    def hang_next(self, seconds: float, count: int = 1, kind: str | None = None) -> None:
        """The next `count` calls of `kind` (any call if None) wait `seconds` before being served."""
        self._add_fault(_Fault("hang", kind, count, seconds=seconds))

    def fail_after_post_next(self, status: int = 503, count: int = 1, kind: str | None = None,
                             message: str | None = None) -> None:
        """The next `count` successful writes of `kind` (any write if None) take effect, but the client
        gets `status` — a lost response. `requestId` on create is what makes the retry safe."""
        if kind is not None and kind not in WRITE_KINDS:
            raise ValueError(f"fail_after_post_next needs a write kind, not {kind!r}")
        self._add_fault(_Fault("after_post", kind, count, status=status, message=message))

    def timeout_next(self, count: int = 1, kind: str | None = None, *, after_post: bool = False) -> None:
        """The next `count` calls of `kind` (any call if None) raise `TimeoutError` (= `socket.timeout`) into
        the client, as httplib2 does when its read times out. With `after_post`, only successful writes
        match and they take effect first (Google posted, the answer was lost). The call is logged with
        status 0. For the in-process transport; over WSGI, use `hang_next` and a real client timeout."""
        if after_post and kind is not None and kind not in WRITE_KINDS:
            raise ValueError(f"timeout_next(after_post=True) needs a write kind, not {kind!r}")
        self._add_fault(_Fault("timeout_after_post" if after_post else "timeout", kind, count))

    def pending_faults(self) -> int:
        """How many injected failures/hangs are still waiting for a matching call."""
        with self._lock:
            return sum(f.count for f in self._faults)

    def _add_fault(self, fault: _Fault) -> None:
        if fault.kind is not None and fault.kind not in KINDS:
            raise ValueError(f"unknown kind {fault.kind!r}; use one of {sorted(KINDS)}")
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, mode: str, kind: str) -> _Fault | None:
        for fault in self._faults:
            if fault.mode == mode and fault.matches(kind):
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------ state helpers

    def add_space(self, space: str, display_name: str | None = None) -> None:
        """Make the app a member of one more named space (`spaces` may also map name → display name)."""
        name = _space_name(space)
        with self._lock:
            self._spaces[name] = {"name": name, "type": "ROOM", "displayName": display_name or name.split("/", 1)[1],
                                  "spaceThreadingState": "THREADED_MESSAGES", "spaceType": "SPACE",
                                  "spaceHistoryState": "HISTORY_ON"}
            self._threads.setdefault(name, {})
            self._admitted.setdefault(name, [])
            self._posted.setdefault(name, 0)

    def post_as_user(self, space: str, text: str, *, user: str = "users/113345902244171829470",
                     display_name: str = "Priya Raman", thread_name: str | None = None) -> dict:
        """Seed a message a person wrote (not the app's: the app can't patch or delete it)."""
        space = _space_name(space)
        with self._lock:
            if space not in self._spaces:
                raise KeyError(space)
            if thread_name is None or thread_name not in self._threads[space]:
                thread_name = self._new_thread(space, None)
            message = self._store(space, {"text": text}, thread_name, None,
                                  sender={"name": user, "displayName": display_name, "type": "HUMAN"})
            return copy.deepcopy(message)

    def messages(self, space: str | None = None) -> list[dict]:
        """Stored messages (current state, deleted ones excluded) in post order."""
        with self._lock:
            wanted = _space_name(space) if space else None
            return [copy.deepcopy(self._messages[n]) for n in self._order
                    if wanted is None or self._messages[n]["space"]["name"] == wanted]

    def message(self, name: str) -> dict:
        """One stored message by its name or `spaces/{s}/messages/client-...`."""
        with self._lock:
            return copy.deepcopy(self._messages[self._resolve(name)])

    def thread_messages(self, space: str, thread_key: str) -> list[dict]:
        """The messages in the thread the app opened with `thread_key` ([] if there is none)."""
        space = _space_name(space)
        with self._lock:
            thread = self._thread_keys.get((space, thread_key))
            return [m for m in self.messages(space) if thread and m["thread"]["name"] == thread]

    def threads(self, space: str) -> dict[str, str]:
        """{thread key: thread name} for the keyed threads of a space."""
        space = _space_name(space)
        with self._lock:
            return {key: name for (s, key), name in self._thread_keys.items() if s == space}

    def posted_count(self, space: str | None = None) -> int:
        """How many messages were created (request-id repeats excluded, later deletions included)."""
        with self._lock:
            if space is None:
                return sum(self._posted.values())
            return self._posted.get(_space_name(space), 0)

    # ------------------------------------------------------------------ call log

    def count(self, kind: str | None = None, status: int | None = None) -> int:
        with self._lock:
            return sum(1 for c in self.calls if (kind is None or c.kind == kind)
                       and (status is None or c.status == status))

    def writes(self, space: str | None = None) -> list[ChatCall]:
        """Every write call that reached the fake (whatever its outcome), in arrival order."""
        with self._lock:
            wanted = _space_name(space) if space else None
            return [c for c in self.calls if c.kind in WRITE_KINDS and (wanted is None or c.space == wanted)]

    def peak_writes_per_minute(self, space: str, *, admitted_only: bool = False) -> int:
        """The most write calls to `space` that arrived within any 60 s window. With `admitted_only`,
        only those the quota let through and counted (not refused by it, by `fail_next` or by auth)."""
        calls = self.writes(space)
        if admitted_only:
            calls = [c for c in calls if c.charged]
        times = sorted(c.at for c in calls)
        return peak_per_minute(times)

    # ------------------------------------------------------------------ HTTP entry point

    def handle(self, request: FakeRequest) -> tuple[int, dict]:
        kind, space, message_id = self._route(request)
        try:
            body = request.json() if request.body else None
        except ValueError:
            body = request.body.decode(errors="replace")
        call = ChatCall(kind, request.method, request.path, {k: list(v) for k, v in request.query.items()},
                        body, space=space, at=self._now(), bearer=request.bearer)
        if self.latency:
            self.sleep(self.latency)
        with self._lock:
            hang = self._take_fault("hang", kind)
        if hang:
            self.sleep(hang.seconds)
        with self._lock:
            if kind != "unknown" and self._take_fault("timeout", kind):
                self.calls.append(call)  # status 0: the client got no answer
                raise TimeoutError("timed out")
            try:
                status, payload = self._serve(request, call, message_id)
            except _Reject as reject:
                status, payload = reject.response()
            call.response = payload
            if status == 200 and kind in WRITE_KINDS and self._take_fault("timeout_after_post", kind):
                self.calls.append(call)  # the write took effect; status 0: the client got no answer
                raise TimeoutError("timed out")
            call.status = status
            self.calls.append(call)
            return status, copy.deepcopy(payload)

    def _route(self, request: FakeRequest) -> tuple[str, str | None, str | None]:
        parts = request.segments
        if len(parts) in (4, 5) and parts[0] == "v1" and parts[1] == "spaces" and parts[3] == "messages":
            space = f"spaces/{parts[2]}"
            if len(parts) == 4:
                kind = {"POST": CREATE, "GET": LIST}.get(request.method, "unknown")
                return kind, space, None
            if ":" not in parts[4]:
                kind = {"GET": GET, "PATCH": PATCH, "PUT": UPDATE, "DELETE": DELETE}.get(request.method, "unknown")
                return kind, space, parts[4]
        return "unknown", None, None

    def _now(self) -> float:
        now = self.clock()
        return now.timestamp() if isinstance(now, datetime) else float(now)

    def _timestamp(self) -> str:
        now = self.clock()
        return _rfc3339(now if isinstance(now, datetime) else datetime.now(timezone.utc))

    def _serve(self, request: FakeRequest, call: ChatCall, message_id: str | None) -> tuple[int, dict]:
        if call.kind == "unknown":
            raise _Reject(404, f"The fake Chat API does not serve {request.method} {request.path}.")
        self._authenticate(request)
        fault = self._take_fault("fail", call.kind)
        if fault:
            raise _Reject(fault.status, fault.message, details=self._quota_details() if fault.status == 429 else None)
        if call.space not in self._spaces:
            raise _Reject(404, DEFAULT_MESSAGES[404])
        if call.kind in WRITE_KINDS:
            self._charge_quota(call.space, call.at)
            call.charged = True
        if call.kind in (CREATE, PATCH, UPDATE) and not isinstance(call.body, dict):
            raise _Reject(400, "Invalid JSON payload received. Expected an object.")
        handler = {CREATE: self._create, GET: self._get, LIST: self._list,
                   PATCH: self._patch, UPDATE: self._patch, DELETE: self._delete}[call.kind]
        result = handler(request, call, message_id)
        after = self._take_fault("after_post", call.kind) if call.kind in WRITE_KINDS else None
        if after:
            raise _Reject(after.status, after.message)
        return 200, result

    def _authenticate(self, request: FakeRequest) -> None:
        if self.token is None:
            return
        if not request.bearer:
            raise _Reject(401, MISSING_CREDENTIAL, "UNAUTHENTICATED")
        if request.bearer != self.token:
            raise _Reject(401, DEFAULT_MESSAGES[401], "UNAUTHENTICATED")

    def _quota_details(self) -> list[dict]:
        return [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED",
                 "domain": "googleapis.com",
                 "metadata": {"service": "chat.googleapis.com",
                              "quota_metric": "chat.googleapis.com/message_write_requests_per_space",
                              "quota_limit": "MessageWriteRequestsPerMinutePerSpace",
                              "quota_limit_value": str(self.writes_per_minute_per_space or 0),
                              "consumer": "projects/000000000000"}}]

    def _charge_quota(self, space: str, now: float) -> None:
        limit = self.writes_per_minute_per_space
        admitted = self._admitted[space]
        admitted[:] = [t for t in admitted if t > now - 60]
        if limit is not None and len(admitted) >= limit:
            raise _Reject(429, QUOTA_MESSAGE, "RESOURCE_EXHAUSTED", self._quota_details())
        admitted.append(now)

    # ------------------------------------------------------------------ validation

    def _validate_content(self, message: dict) -> None:
        unknown = sorted(set(message) - MESSAGE_FIELDS)
        if unknown:
            raise _Reject(400, f'Invalid JSON payload received. Unknown name "{unknown[0]}" at \'message\': '
                               "Cannot find field.")
        text, cards = message.get("text"), message.get("cardsV2")
        if text is not None and not isinstance(text, str):
            raise _Reject(400, "Invalid value at 'message.text' (TYPE_STRING).")
        if cards is not None and not isinstance(cards, list):
            raise _Reject(400, "Invalid value at 'message.cards_v2': expected a list of CardWithId.")
        if not text and not cards and not message.get("cards") and not message.get("attachment"):
            raise _Reject(400, "Message cannot be empty. Discarding empty message.")
        for index, entry in enumerate(cards or []):
            card = entry.get("card") if isinstance(entry, dict) else None
            where = f"message.cards_v2[{index}]"
            if not isinstance(card, dict):
                raise _Reject(400, f"Invalid argument: {where}.card is required.")
            title = (card.get("header") or {}).get("title") if isinstance(card.get("header"), dict) else None
            sections = card.get("sections")
            if not title and not sections:
                raise _Reject(400, f"Invalid argument: {where}.card must have a header title or sections.")
            if card.get("header") and not title:
                raise _Reject(400, f"Invalid argument: {where}.card.header.title is required.")
            for s_index, section in enumerate(sections or []):
                if not isinstance(section, dict) or not section.get("widgets"):
                    raise _Reject(400, f"Invalid argument: {where}.card.sections[{s_index}] needs widgets.")
        if cards and len(cards) > 1:
            ids = [e.get("cardId") for e in cards]
            if not all(ids) or len(set(ids)) != len(ids):
                raise _Reject(400, "Invalid argument: message.cards_v2[].card_id must be set and unique when a "
                                   "message has several cards.")
        size = len((text or "").encode()) + sum(
            len(json.dumps(message[k], ensure_ascii=False, separators=(",", ":")).encode())
            for k in ("cardsV2", "cards", "accessoryWidgets", "attachment") if message.get(k))
        if size > MAX_MESSAGE_BYTES:
            raise _Reject(400, f"Message is too large: {size} bytes. The maximum message size is "
                               f"{MAX_MESSAGE_BYTES} bytes.")

    # ------------------------------------------------------------------ storage

    def _new_id(self) -> str:
        while True:
            value = "".join(self._random.choice(ID_ALPHABET) for _ in range(11))
            if value not in self._ids and value[0].isalnum():
                self._ids.add(value)
                return value

    def _new_thread(self, space: str, key: str | None) -> str:
        name = f"{space}/threads/{self._new_id()}"
        self._threads[space][name] = key
        if key is not None:
            self._thread_keys[(space, key)] = name
        return name

    def _store(self, space: str, body: dict, thread: str, client_id: str | None, *, sender: dict) -> dict:
        thread_id = thread.rsplit("/", 1)[1]
        root = not any(self._messages[n]["thread"]["name"] == thread for n in self._order)
        message_id = thread_id if root and f"{space}/messages/{thread_id}.{thread_id}" not in self._messages \
            else self._new_id()
        name = f"{space}/messages/{message_id}.{thread_id}"
        message: dict = {"name": name, "sender": sender, "createTime": self._timestamp()}
        for key in ("text", "cardsV2", "cards", "attachment", "accessoryWidgets", "privateMessageViewer",
                    "fallbackText"):
            if body.get(key):
                message[key] = copy.deepcopy(body[key])
        message["thread"] = {"name": thread}
        if not root:
            message["threadReply"] = True
        message["space"] = copy.deepcopy(self._spaces[space])
        self._set_text_views(message)
        if client_id:
            message["clientAssignedMessageId"] = client_id
            self._client_ids[(space, client_id)] = name
        self._messages[name] = message
        self._owner[name] = sender["name"]
        self._order.append(name)
        self._posted[space] += 1
        return message

    @staticmethod
    def _set_text_views(message: dict) -> None:
        for key in ("argumentText", "formattedText"):
            message.pop(key, None)
        if message.get("text"):
            message["argumentText"] = message["text"]
            message["formattedText"] = message["text"]

    def _resolve(self, name: str) -> str:
        """A message name (system or `client-` id) → the stored system name; KeyError if unknown."""
        parts = name.split("/")
        if len(parts) != 4 or parts[0] != "spaces" or parts[2] != "messages":
            raise KeyError(name)
        space, message_id = f"spaces/{parts[1]}", parts[3]
        if message_id.startswith("client-"):
            return self._client_ids[(space, message_id)]
        if name in self._messages:
            return name
        raise KeyError(name)

    # ------------------------------------------------------------------ endpoints

    def _create(self, request: FakeRequest, call: ChatCall, _message_id) -> dict:
        space, body = call.space, call.body
        option = request.param("messageReplyOption") or "MESSAGE_REPLY_OPTION_UNSPECIFIED"
        if option not in REPLY_OPTIONS:
            raise _Reject(400, f"Invalid value at 'message_reply_option' (type.googleapis.com/"
                               f"google.chat.v1.CreateMessageRequest.MessageReplyOption), \"{option}\"")
        request_id = request.param("requestId")
        if request_id and (space, request_id) in self._request_ids:
            return copy.deepcopy(self._request_ids[(space, request_id)])
        self._validate_content(body)
        client_id = request.param("messageId") or None
        if client_id is not None:
            if len(client_id) > 63 or not CLIENT_ID.match(client_id):
                raise _Reject(400, "Invalid custom message ID: it must begin with 'client-', be at most 63 "
                                   "characters and contain only lowercase letters, numbers and hyphens.")
            if (space, client_id) in self._client_ids:
                raise _Reject(409, f"Message with custom ID {client_id} already exists in {space}.",
                              "ALREADY_EXISTS")
        thread_in = body.get("thread") or {}
        if not isinstance(thread_in, dict):
            raise _Reject(400, "Invalid value at 'message.thread'.")
        key = thread_in.get("threadKey") or request.param("threadKey") or None
        thread_name = thread_in.get("name") or None
        if key is not None and len(key) > MAX_THREAD_KEY:
            raise _Reject(400, f"Thread key is longer than {MAX_THREAD_KEY} characters.")

        if option == "MESSAGE_REPLY_OPTION_UNSPECIFIED":
            thread, key = self._new_thread(space, None), None  # any key or thread name is ignored
        elif thread_name:
            if thread_name in self._threads[space]:
                thread = thread_name
            elif option == "REPLY_MESSAGE_OR_FAIL":
                raise _Reject(404, f"Thread {thread_name} not found.")
            else:
                thread = self._new_thread(space, None)
            key = self._threads[space].get(thread)
        elif key is not None:
            thread = self._thread_keys.get((space, key)) or self._new_thread(space, key)
        else:
            thread = self._new_thread(space, None)

        message = self._store(space, body, thread, client_id,
                              sender={"name": self.app_user, "displayName": self.app_name, "type": "BOT"})
        response = copy.deepcopy(message)
        if key is not None:
            response["thread"]["threadKey"] = key
        if request_id:
            self._request_ids[(space, request_id)] = copy.deepcopy(response)
        return response

    def _lookup(self, call: ChatCall, message_id: str) -> str:
        try:
            return self._resolve(f"{call.space}/messages/{message_id}")
        except KeyError:
            raise _Reject(404, DEFAULT_MESSAGES[404]) from None

    def _get(self, request: FakeRequest, call: ChatCall, message_id: str) -> dict:
        return copy.deepcopy(self._messages[self._lookup(call, message_id)])

    def _patch(self, request: FakeRequest, call: ChatCall, message_id: str) -> dict:
        body = call.body
        try:
            name = self._resolve(f"{call.space}/messages/{message_id}")
        except KeyError:
            if request.param("allowMissing").lower() == "true":
                if not message_id.startswith("client-"):
                    raise _Reject(400, "allowMissing requires a client-assigned message ID "
                                       "(spaces/{space}/messages/client-...).") from None
                self._validate_content(body)
                if len(message_id) > 63 or not CLIENT_ID.match(message_id):
                    raise _Reject(400, "Invalid custom message ID.") from None
                thread = self._new_thread(call.space, None)
                return copy.deepcopy(self._store(call.space, body, thread, message_id,
                                                 sender={"name": self.app_user, "displayName": self.app_name,
                                                         "type": "BOT"}))
            raise _Reject(404, DEFAULT_MESSAGES[404]) from None
        mask = request.param("updateMask")
        if not mask:
            raise _Reject(400, "Invalid argument: update_mask is required.")
        fields: list[str] = []
        for path in (p.strip() for p in mask.split(",")):
            if path == "*":
                fields.extend(STAR_FIELDS)
            elif path in MASK_PATHS:
                fields.append(MASK_PATHS[path])
            else:
                raise _Reject(400, f"Invalid update mask path: '{path}'. Supported paths: text, attachment, "
                                   "cards, cards_v2, accessory_widgets, quoted_message_metadata.")
        if self._owner[name] != self.app_user:
            raise _Reject(403, "The caller does not have permission: a Chat app can only update messages it "
                               "created.", "PERMISSION_DENIED")
        unknown = sorted(set(body) - MESSAGE_FIELDS)
        if unknown:
            raise _Reject(400, f'Invalid JSON payload received. Unknown name "{unknown[0]}" at \'message\': '
                               "Cannot find field.")
        updated = copy.deepcopy(self._messages[name])
        for key in fields:
            if key == "quotedMessageMetadata":
                if body.get(key):
                    raise _Reject(400, "quoted_message_metadata can only be removed.")
                updated.pop(key, None)
            elif body.get(key):
                updated[key] = copy.deepcopy(body[key])
            else:
                updated.pop(key, None)
        self._validate_content({k: v for k, v in updated.items() if k in MESSAGE_FIELDS})
        self._set_text_views(updated)
        updated["lastUpdateTime"] = self._timestamp()
        ordered = {k: updated[k] for k in ("name", "sender", "createTime", "lastUpdateTime") if k in updated}
        ordered.update((k, v) for k, v in updated.items() if k not in ordered)
        self._messages[name] = ordered
        return copy.deepcopy(ordered)

    def _delete(self, request: FakeRequest, call: ChatCall, message_id: str) -> dict:
        name = self._lookup(call, message_id)
        if self._owner[name] != self.app_user:
            raise _Reject(403, "The caller does not have permission: a Chat app can only delete messages it "
                               "created.", "PERMISSION_DENIED")
        message = self._messages.pop(name)
        self._order.remove(name)
        client_id = message.get("clientAssignedMessageId")
        if client_id:
            self._client_ids.pop((call.space, client_id), None)
        self.deleted.append(message)
        return {}

    def _list(self, request: FakeRequest, call: ChatCall, _message_id) -> dict:
        try:
            size = int(request.param("pageSize") or 25)
        except ValueError:
            raise _Reject(400, "Invalid value at 'page_size' (TYPE_INT32).") from None
        size = 25 if size <= 0 else min(size, 1000)
        order = (request.param("orderBy") or "createTime asc").strip()
        if order not in ("createTime asc", "createTime desc", "create_time asc", "create_time desc",
                         "createTime", "create_time"):
            raise _Reject(400, f"Invalid order_by: {order}")
        keep = self._filter(request.param("filter"))
        found = [self._messages[n] for n in self._order
                 if self._messages[n]["space"]["name"] == call.space and keep(self._messages[n])]
        if order.endswith("desc"):
            found.reverse()
        token = request.param("pageToken")
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        except ValueError:
            raise _Reject(400, "Invalid page token.") from None
        page = found[start:start + size]
        result: dict = {}
        if page:
            result["messages"] = copy.deepcopy(page)
        if start + size < len(found):
            result["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return result

    @staticmethod
    def _filter(text: str) -> Callable[[dict], bool]:
        """`thread.name = spaces/x/threads/y` and `create_time > "RFC 3339"` / `<`, joined by AND."""
        checks: list[Callable[[dict], bool]] = []
        for clause in (c.strip() for c in re.split(r"\s+AND\s+", text.strip()) if text.strip()):
            thread = re.fullmatch(r"thread\.name\s*=\s*(spaces/[^/\s]+/threads/[^/\s]+)", clause)
            created = re.fullmatch(r"create_time\s*([<>])\s*\"([^\"]+)\"", clause)
            if thread:
                checks.append(lambda m, want=thread.group(1): m["thread"]["name"] == want)
            elif created:
                try:
                    bound = datetime.fromisoformat(created.group(2).replace("Z", "+00:00"))
                except ValueError:
                    raise _Reject(400, f"Invalid filter timestamp: {created.group(2)}") from None
                op = created.group(1)

                def check(m, bound=bound, op=op):
                    moment = datetime.fromisoformat(m["createTime"].replace("Z", "+00:00"))
                    return moment > bound if op == ">" else moment < bound
                checks.append(check)
            else:
                raise _Reject(400, f"Invalid filter: {text}")
        return lambda m: all(check(m) for check in checks)
