"""The parent's side of `bench.child`: start the bot process on the served fakes, wait until it
is healthy, ask it for its measurements, stop it; and the ticket system and the managers as its
HTTP clients (clicks signed as Google Chat signs them)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.fakes.google import SPACE
from tests.fakes.tokens import GoogleCerts, project_number_claims

from .fakegoogle import API_TOKEN, ServedGoogle

# bench.child's options (not imported from it: importing it would load the bot here)
SERVER_ENV, WAITRESS, FLUSH_PROBE_ENV = "BENCH_SERVER", "waitress", "BENCH_FLUSH_PROBE"

ROOT = Path(__file__).resolve().parent.parent
HEALTHY_WITHIN = 120.0
SKIPPED = "maximum number of running instances reached"  # APScheduler's warning for a run not started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotProcess:
    def __init__(self, google: ServedGoogle, home: Path, env: dict[str, str] | None = None, *,
                 production_server: bool = False, flush_probe: bool = False):
        """`production_server`: served by waitress as rcabot/serve.py configures it (else werkzeug's
        threaded server); `flush_probe`: the child times each flush's work under the bot's lock."""
        options = {**({SERVER_ENV: WAITRESS} if production_server else {}),
                   **({FLUSH_PROBE_ENV: "1"} if flush_probe else {})}
        self.google, self.home, self.extra_env = google, home, {**options, **(env or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "bot.log"
        self.process: subprocess.Popen | None = None
        self.session = requests.Session()

    def start(self) -> float:
        """Start the process; returns the seconds until GET /healthz answered 200."""
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.google.bot_env(str(self.home / "journal")), "PYTHONUNBUFFERED": "1", **self.extra_env,
               # Only the fakes: google-auth's own look-ups at *.googleapis.com fail at once.
               "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"}
        began = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "bench.child", str(self.port)], cwd=ROOT,
                                            env=env, stdout=log, stderr=subprocess.STDOUT)
        while time.monotonic() - began < HEALTHY_WITHIN:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return time.monotonic() - began
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited at start-up\n{self.log_tail()}")
            time.sleep(0.02)
        raise RuntimeError(f"the bot was not healthy within {HEALTHY_WITHIN:.0f} s\n{self.log_tail()}")

    def stats(self) -> dict:
        return self.session.get(f"{self.url}/_bench/stats", timeout=60).json()

    def status(self) -> dict:
        return self.session.get(f"{self.url}/status", headers={"Authorization": f"Bearer {API_TOKEN}"},
                                timeout=60).json()

    def reset(self) -> None:
        self.session.post(f"{self.url}/_bench/reset", timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.session.close()

    def log_count(self, text: str) -> int:
        """How many lines of the bot's log hold `text`."""
        try:
            return sum(text in line for line in self.log_path.read_text(errors="replace").splitlines())
        except FileNotFoundError:
            return 0

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class Clients:
    """The ticket system (POST /tickets) and the managers (card clicks) talking to the bot."""

    def __init__(self, bot: BotProcess, certs: GoogleCerts, timings: dict[str, list[float]] | None = None):
        """`timings`: where each start's and click's client-side seconds go, by kind (from sending
        the request to the whole response read)."""
        self.bot, self.certs, self.timings = bot, certs, timings

    def start(self, ticket_id: str) -> dict:
        answer = self._post("/tickets", {"ticket_id": ticket_id, "title": "Checkout latency"}, "start",
                            f"Bearer {API_TOKEN}")
        if answer.status_code not in (200, 202):
            raise RuntimeError(f"POST /tickets answered {answer.status_code}: {answer.text}")
        return answer.json()

    def ticket(self, ticket_id: str) -> dict:
        return self.bot.session.get(f"{self.bot.url}/tickets/{ticket_id}", timeout=30,
                                    headers={"Authorization": f"Bearer {API_TOKEN}"}).json()

    def click(self, action: str, ticket: dict) -> dict:
        """`action` on the card of the ticket's open ping, by its manager (a fresh Chat token)."""
        event = click_event(action, ticket["ticket_id"], ticket["attempts"], ticket["manager"]["chat_id"],
                            ticket.get("message") or f"{SPACE}/messages/unposted")
        answer = self._post("/chat/events", event, action, self.certs.bearer(project_number_claims()))
        if answer.status_code != 200:
            raise RuntimeError(f"{action} answered {answer.status_code}: {answer.text}")
        return answer.json()

    def _post(self, path: str, body: dict, kind: str, authorization: str) -> requests.Response:
        began = time.perf_counter()
        answer = self.bot.session.post(f"{self.bot.url}{path}", json=body, timeout=30,
                                       headers={"Authorization": authorization, "X-Bench-Kind": kind})
        if self.timings is not None:  # requests has read the whole body by now (not streamed)
            self.timings.setdefault(kind, []).append(time.perf_counter() - began)
        return answer


def click_event(action: str, ticket_id: str, attempt: int, user: str, message: str) -> dict:
    """A CARD_CLICKED event as Google Chat sends it for a button of the ping card."""
    parameters = [{"key": "ticket_id", "value": ticket_id}, {"key": "attempt", "value": str(attempt)}]
    return {"type": "CARD_CLICKED", "eventTime": "2026-11-23T07:00:00Z",
            "user": {"name": user, "displayName": user, "type": "HUMAN"},
            "space": {"name": SPACE, "type": "ROOM", "spaceType": "SPACE"},
            "message": {"name": message, "thread": {"name": f"{SPACE}/threads/{ticket_id}"}},
            "action": {"actionMethodName": action, "parameters": parameters},
            "common": {"hostApp": "CHAT", "invokedFunction": action,
                       "parameters": {p["key"]: p["value"] for p in parameters}}}
