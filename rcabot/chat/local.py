"""The local Chat space: messages kept as Chat API Message objects, shown by the console.

It behaves as Google Chat does for what the bot uses: threads keyed by the app, idempotent
creates by request id, mentions written `<users/ID>` stored as `@Name` with a USER_MENTION
annotation, and synchronous answers to events applied to the stored messages.
"""
from __future__ import annotations

import copy
import json
import logging
import os
import re
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from . import ChatError, Message
from .cards import CLASSIC

log = logging.getLogger(__name__)
MENTION = re.compile(r"<(users/[^>]+)>")
LOCAL_SPACE = "spaces/local"
APP_USER = {"name": "users/rcabot", "displayName": "RCA Bot", "type": "BOT"}



class LocalSpace:
    buttons = CLASSIC  # the console sends classic Chat events

    def __init__(self, clock: Callable[[], datetime], names: Callable[[str], str] = lambda uid: uid,
                 store: str | os.PathLike | None = None, space: str = LOCAL_SPACE):
        self.clock = clock
        self.names = names  # Chat id -> display name, for mentions
        self.space = space
        self.store = Path(store) if store else None
        self._lock = threading.Lock()
        self._messages: list[Message] = []
        self._threads: dict[str, str] = {}  # thread key -> thread name
        self._requests: dict[str, str] = {}  # request id -> message name
        self._unsaved = False  # the last save failed
        self._load()

    def messages(self) -> list[Message]:
        with self._lock:
            return copy.deepcopy(self._messages)

    def message(self, name: str) -> Message:
        """One message by name (spaces.messages.get); KeyError if there is none."""
        with self._lock:
            return copy.deepcopy(self._find(name))

    def create_message(self, space: str, message: Message, *, thread_key: str = "",
                       request_id: str = "", thread_name: str = "") -> Message:
        with self._lock:
            if request_id in self._requests:
                if self._unsaved:
                    self._save()  # the retry of a post whose save failed: it must reach the disk
                return copy.deepcopy(self._find(self._requests[request_id]))
            number = len(self._messages) + 1
            if not thread_name:
                thread_name = self._threads.setdefault(
                    thread_key or f"message-{number}", f"{self.space}/threads/t{len(self._threads) + 1}")
            stored = self._stored(message, f"{self.space}/messages/m{number}", thread_name)
            self._messages.append(stored)
            if request_id:
                self._requests[request_id] = stored["name"]
            self._save()
            return copy.deepcopy(stored)

    def answered(self, event: dict[str, Any], answer: dict[str, Any]) -> None:
        """Apply a synchronous answer as Google would: update the clicked card, or reply in its thread."""
        # The event is what a caller sent: any field may be of any type.
        clicked = _object(event.get("message"))
        name, thread = _text(clicked.get("name")), _text(_object(clicked.get("thread")).get("name"))
        if event.get("type") == "MESSAGE" and name and not self._has(name):
            thread = self._keep_user_message(name, str(clicked.get("text", "")), thread,
                                             _object(event.get("user")))["thread"]["name"]
        action, body = _answer_kind(answer)
        if action == "update" and self._has(name):
            self.update_message(name, body)
        elif action == "create" and (body.get("text") or body.get("cardsV2")):
            self.create_message(self.space, body, thread_name=thread)

    def _keep_user_message(self, name: str, text: str, thread: str, user: dict) -> Message:
        """A person's message to the bot is shown in the space too, and the answer goes in its thread."""
        with self._lock:
            number = len(self._messages) + 1
            thread = thread or f"{self.space}/threads/u{number}"
            stored = {"name": name, "sender": {**user, "type": "HUMAN"}, "createTime": self._now(),
                      "text": text, "annotations": [], "cardsV2": [],
                      "thread": {"name": thread}, "space": {"name": self.space}}
            self._messages.append(stored)
            self._save()
            return stored

    def update_message(self, name: str, message: Message) -> Message:
        """Replace the fields of the app's message `name` that `message` has (text, cardsV2), as
        spaces.messages.patch does with those fields in its update mask."""
        with self._lock:
            try:
                stored = self._find(name)
            except KeyError as missing:
                raise ChatError(str(missing), retryable=False) from None
            fresh = self._stored(message, name, stored["thread"]["name"])
            if "text" in message:
                stored.update(text=fresh["text"], annotations=fresh["annotations"])
            if "cardsV2" in message:
                stored.update(cardsV2=fresh["cardsV2"])
            stored.update(lastUpdateTime=fresh["createTime"])
            self._save()
            return copy.deepcopy(stored)

    def _stored(self, message: Message, name: str, thread_name: str) -> Message:
        text, annotations = self._mentions(message.get("text", ""))
        stored = {
            "name": name, "sender": dict(APP_USER), "createTime": self._now(),
            "text": text, "annotations": annotations, "cardsV2": copy.deepcopy(message.get("cardsV2", [])),
            "thread": {"name": thread_name}, "space": {"name": self.space},
        }
        if message.get("privateMessageViewer"):
            stored["privateMessageViewer"] = message["privateMessageViewer"]
        return stored

    def _mentions(self, text: str) -> tuple[str, list[dict]]:
        annotations: list[dict] = []
        out = ""
        last = 0
        for match in MENTION.finditer(text):
            out += text[last:match.start()]
            label = "@" + self.names(match.group(1))
            annotations.append({"type": "USER_MENTION", "startIndex": len(out), "length": len(label),
                                "userMention": {"user": {"name": match.group(1), "displayName": label[1:],
                                                         "type": "HUMAN"}, "type": "MENTION"}})
            out += label
            last = match.end()
        return out + text[last:], annotations

    def _has(self, name: str) -> bool:
        with self._lock:
            return any(m["name"] == name for m in self._messages)

    def _find(self, name: str) -> Message:
        for message in self._messages:
            if message["name"] == name:
                return message
        raise KeyError(f"no message {name} in the local space")

    def _now(self) -> str:
        return self.clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _load(self) -> None:
        if not (self.store and self.store.exists()):
            return
        try:
            saved = json.loads(self.store.read_text(encoding="utf-8"))
            messages, threads, requests = saved["messages"], saved["threads"], saved["requests"]
            if not (isinstance(messages, list) and isinstance(threads, dict) and isinstance(requests, dict)):
                raise ValueError("not the shape the bot saves")
            self._messages, self._threads, self._requests = messages, threads, requests
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Cut or edited by hand: the space is only what the console shows, so the bot starts
            # with an empty one rather than not at all, and keeps the damaged copy to look at.
            aside = self.store.with_name(self.store.name + ".damaged")
            log.error("local space: %s cannot be read (%s); starting with an empty space, the old copy is kept "
                      "as %s", self.store, exc, aside.name)
            self._messages, self._threads, self._requests = [], {}, {}
            os.replace(self.store, aside)

    def _save(self) -> None:
        if not self.store:
            return
        data = json.dumps({"messages": self._messages, "threads": self._threads, "requests": self._requests})
        tmp = ""
        try:
            fd, tmp = tempfile.mkstemp(dir=self.store.parent, prefix=".space.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(data)
            os.replace(tmp, self.store)
            self._unsaved = False
        except OSError as exc:
            self._unsaved = True
            if tmp:
                Path(tmp).unlink(missing_ok=True)  # a full disk must not fill up with half-written copies
            # Kept in memory meanwhile: a retried post finds its request id and is not posted twice.
            raise ChatError(f"cannot save the local space in {self.store}: {exc.strerror or exc}") from exc


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _answer_kind(answer: dict[str, Any]) -> tuple[str, Message]:
    """('update' | 'create', message) from a classic or a Workspace add-on answer."""
    data_action = answer.get("hostAppDataAction", {}).get("chatDataAction", {})
    if "updateMessageAction" in data_action:
        return "update", data_action["updateMessageAction"]["message"]
    if "createMessageAction" in data_action:
        return "create", data_action["createMessageAction"]["message"]
    kind = answer.get("actionResponse", {}).get("type", "NEW_MESSAGE")
    return ("update" if kind == "UPDATE_MESSAGE" else "create"), answer
