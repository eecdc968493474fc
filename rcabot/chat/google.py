"""The Chat space as a Google Chat space, through google-api-python-client (app authentication).

The bot posts with `spaces.messages.create` into the ticket's thread (the thread key names the
ticket; REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD makes the key count, which it does not without a reply
option). The request id makes a retried create return the message it already posted. It edits
its own messages with `spaces.messages.patch` (a lapsed ping's card, redrawn), the update mask
naming the fields it sends. Answers to clicks go back in the HTTP response, so `answered` has
nothing to do.
"""
from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ..metrics import GoogleCalls
from . import ChatError, Message
from .cards import CLASSIC, Buttons

log = logging.getLogger(__name__)
REPLY_IN_THREAD = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
# The Message fields update_message sends -> their updateMask paths, spelt as the discovery
# document's updateMask description lists them (`cards_v2`; some samples write `cardsV2`).
UPDATABLE = {"text": "text", "cardsV2": "cards_v2"}


class GoogleChat:
    def __init__(self, credentials, *, endpoint: str | None = None, timeout: float = 30, transport=None,
                 buttons: Buttons = CLASSIC):
        """`transport` is the httplib2.Http to send through (tests pass a fake); `endpoint` replaces
        https://chat.googleapis.com/ (a private endpoint, an emulator); `buttons` says whether the
        Chat app is a classic one or a Workspace add-on, whose buttons call its endpoint URL."""
        self.buttons = buttons
        http = google_auth_httplib2.AuthorizedHttp(credentials, http=transport or httplib2.Http(timeout=timeout))
        options = {"api_endpoint": endpoint} if endpoint else None
        self._messages = build("chat", "v1", http=http, client_options=options, static_discovery=True,
                               cache_discovery=False).spaces().messages()
        self._lock = threading.Lock()  # an httplib2.Http is not safe to share between threads
        self.calls = GoogleCalls()  # for /metrics

    def create_message(self, space: str, message: Message, *, thread_key: str, request_id: str) -> Message:
        body = dict(message, thread={"threadKey": thread_key})
        return self._execute(self._messages.create(parent=space, body=body, messageReplyOption=REPLY_IN_THREAD,
                                                   requestId=request_id), space)

    def update_message(self, name: str, message: Message) -> Message:
        """Replace the fields of the app's message `name` that `message` has (text, cardsV2); the
        others stay (a card redrawn keeps the text and its mention)."""
        fields = [key for key in UPDATABLE if key in message]
        body = {key: message[key] for key in fields}
        mask = ",".join(UPDATABLE[key] for key in fields)
        return self._execute(self._messages.patch(name=name, updateMask=mask, body=body), name)

    def _execute(self, request, where: str) -> Message:
        try:
            with self._lock:
                answer = request.execute(num_retries=0)  # the bot's outbox retries, paced
        except HttpError as exc:
            status = exc.status_code or 0
            self.calls.count(status)
            raise ChatError(_explain(where, status, exc.reason), retryable=status == 429 or status >= 500,
                            rejected=status == 400) from exc
        except google.auth.exceptions.RefreshError as exc:  # no request reached Chat: not counted
            raise ChatError(f"cannot get an access token for the service account: {exc}") from exc
        except (httplib2.HttpLib2Error, socket.timeout, OSError) as exc:
            self.calls.count(0)
            raise ChatError(f"cannot reach the Chat API: {type(exc).__name__}: {exc}") from exc
        self.calls.count(200)
        return answer

    def answered(self, event: dict[str, Any], answer: dict[str, Any]) -> None:
        """Google applies synchronous answers itself."""


def _explain(where: str, status: int, reason: str) -> str:
    """`where` is the space posted in, or the message edited."""
    if status == 403:
        return f"Chat API refused to write in {where} (403: {reason}); add the app to the space"
    if status == 404 and "/messages/" in where:
        return f"Chat API does not know {where} (404: {reason}); it was deleted"
    if status == 404:
        return f"Chat API does not know {where} (404: {reason}); check SpaceId in the Configuration tab"
    return f"Chat API answered {status}: {reason}"
