"""A Standard Webhooks receiver as a real one behaves: it verifies each request's signature with
the `standardwebhooks` package, drops a webhook-id it already took, and can be told to fail."""
from __future__ import annotations

import base64
import json
from typing import Callable

import requests
import responses
from standardwebhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"rcabot-test-secret-0123456789").decode()
URL = "https://hooks.example.com/rca"


class Receiver:
    def __init__(self, mock: responses.RequestsMock, url: str = URL, secret: str = SECRET):
        self.url, self.webhook = url, Webhook(secret)
        self.taken: list[dict] = []  # each event once, in the order taken (payload + its id)
        self.tries: list[str] = []  # every request's webhook-id, duplicates and failures included
        self.answer: Callable[[dict], tuple[int, dict, str]] = lambda payload: (204, {}, "")
        mock.add_callback("POST", url, callback=self._receive)

    def _receive(self, request):
        headers = {k.lower(): v for k, v in request.headers.items()}
        payload = self.webhook.verify(request.body, headers)  # raises on a bad signature
        self.tries.append(headers["webhook-id"])
        status, extra, body = self.answer(payload)
        if 200 <= status < 300 and headers["webhook-id"] not in self.ids():
            self.taken.append({**payload, "id": headers["webhook-id"]})
        return status, extra, body

    def ids(self) -> list[str]:
        return [e["id"] for e in self.taken]

    def types(self, ticket_id: str | None = None) -> list[str]:
        return [e["type"] for e in self.taken if ticket_id is None or e["data"]["ticket_id"] == ticket_id]

    def down(self, status: int = 503, headers: dict | None = None) -> None:
        self.answer = lambda payload: (status, headers or {}, "")

    def up(self) -> None:
        self.answer = lambda payload: (204, {}, "")

    def timing_out(self) -> None:
        def answer(payload):
            raise requests.exceptions.ReadTimeout("the receiver did not answer in time")
        self.answer = answer


def body(payload: dict) -> str:
    return json.dumps(payload)
