"""The real process, SIGKILLed right after its answers, with a webhook receiver listening: every
answered event reaches the receiver (signed) exactly once after dedupe by webhook-id, in order."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from tests.e2e.harness import prepare_workbook
from tests.conftest import set_configuration
from tests.fakes.webhooks import SECRET
from tests.test_sigkill import Bot, card_for, click, free_port, wait_for_ping


class Receiver(ThreadingHTTPServer):
    """A local endpoint that verifies each signature, dedupes by id and refuses every third request.
    A body cut short by a SIGKILL mid-send is dropped, as any HTTP server drops an incomplete request;
    only a whole body is checked, so a bad signature means the bot signed wrongly."""

    def __init__(self):
        super().__init__(("127.0.0.1", free_port()), Handler)
        self.webhook, self.lock = Webhook(SECRET), threading.Lock()
        self.taken: list[dict] = []
        self.ids: set[str] = set()
        self.requests = self.bad_signatures = self.cut_short = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        server: Receiver = self.server
        length = int(self.headers["content-length"])
        body = self.rfile.read(length)
        if len(body) < length:  # the bot was killed mid-send: no receiver acts on half a request
            server.cut_short += 1
            return
        try:
            payload = server.webhook.verify(body, {k.lower(): v for k, v in self.headers.items()})
        except Exception:  # noqa: BLE001 - any failure to verify is a bad signature
            server.bad_signatures += 1
            self.send_response(400)
            self.end_headers()
            return
        with server.lock:
            server.requests += 1
            if server.requests % 3 == 0:  # a flaky receiver: the bot must try again
                self.send_response(503)
                self.send_header("Retry-After", "0")
                self.end_headers()
                return
            if self.headers["webhook-id"] not in server.ids:
                server.ids.add(self.headers["webhook-id"])
                server.taken.append(payload)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def bot(tmp_path, receiver, monkeypatch):
    monkeypatch.setenv("RCABOT_WEBHOOK_SECRET", SECRET)
    workbook = tmp_path / "workbook"
    prepare_workbook(workbook, timeout=600, dnd=0, flush=1, active=100)  # every manager works, all day
    set_configuration(workbook, WebhookURL=f"http://127.0.0.1:{receiver.server_address[1]}/hook")
    bot = Bot(tmp_path)
    bot.start()
    yield bot
    if bot.process.poll() is None:
        bot.process.kill()


def test_sigkill_after_answers_still_delivers_every_event_once_in_order(bot, receiver):
    expected: dict[str, list[str]] = {}
    for n in range(4):
        ticket_id = f"RCA-{n}"
        assert bot.post("/tickets", {"ticket_id": ticket_id}).status_code == 202
        bot.kill()  # right after the answer: the event may not have left yet
        bot.start()
        ticket = wait_for_ping(bot, ticket_id)
        assert click(bot, card_for(bot, ticket_id), "accept", ticket["manager"]["chat_id"]).status_code == 200
        bot.kill()
        bot.start()
        assert click(bot, card_for(bot, ticket_id), "done", ticket["manager"]["chat_id"]).status_code == 200
        expected[ticket_id] = ["ticket.started", "ticket.pinged", "ticket.accepted", "ticket.completed"]

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(receiver.taken) < 16:
        time.sleep(0.1)
    bot.stop()
    assert receiver.bad_signatures == 0
    for ticket_id, story in expected.items():
        got = [e["type"] for e in receiver.taken if e["data"]["ticket_id"] == ticket_id]
        assert got == story, f"{ticket_id}: {json.dumps(got)}"
    assert len(receiver.taken) == 16
