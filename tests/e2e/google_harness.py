"""The real bot in Google mode as a subprocess, against a fake Google served on localhost.

- `FakeGoogleServer`: the stateful fakes of tests/fakes (Sheets, Chat, the OAuth token endpoint)
  and Google's certificate endpoints (for the bot's verification of Chat's requests), served by a
  threaded werkzeug server on 127.0.0.1 through `Router.wsgi`. werkzeug puts the raw request line
  in RAW_URI / REQUEST_URI, so a range like `'My Tab'!A1` reaches the fake still percent-encoded
  (wsgiref would hand over the decoded PATH_INFO). Faults are injected through the fakes' own
  `fail_next`, `fail_after_post_next` and `hang_next`, and counted here (`injected`); `in_flight`
  says whether a (hung) request is still being served, so a test can wait for a late write to land.
- `prepare_google_workbook`: the Configuration and Managers of harness.prepare_workbook (short
  times, a team on shift at any hour), put in the fake spreadsheet with the fake space's SpaceId.
- `GoogleBot`: harness.BotProcess in Google mode: `python app.py` with RCABOT_BACKEND=google and
  every endpoint (Sheets, Chat, token, certificates) pointed at the fake server. The journal,
  the fake spreadsheet and the fake space outlive each process.
- `GoogleClient`: harness.Client in Google mode: the ticket API with RCABOT_API_TOKEN; clicks
  signed as Google Chat signs them (a project-number JWT); threads read from the fake Chat with
  the click answers applied on top, since Google applies a synchronous answer to the card the
  person sees (the fake Chat API does not model that).
- `google_run`: harness.check_run over the fake spreadsheet and space, plus what only Google mode
  shows: a ping never times out sooner than TicketTimeout after its card was in the space.

Run as `python -m tests.e2e.google_harness` (cwd: the repository) it is `python app.py` with
test-only changes the bot has no setting for (each through an environment variable):
RCABOT_E2E_BACKOFF_SCALE multiplies the Sheets adapter's backoff waits (1, 2, 4, 8 s), so that an
outage longer than its five tries does not take 15 s of real time per flush; RCABOT_E2E_KILL_AT
arms one kill point (see KILL_POINTS): the process SIGKILLs itself right there, the first time.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.e2e.harness import (ROOT, BotProcess, Client, Said, _read_csv, card_attempt, check_run,
                               prepare_workbook, stories)
from tests.fakes.chat import CREATE, FakeChat
from tests.fakes.google import ACCESS_TOKEN, SPACE, FakeGoogle, service_account_info
from tests.fakes.sheets import FakeSheets
from tests.fakes.tokens import PROJECT_NUMBER, GoogleCerts, project_number_claims

API_TOKEN = "e2e-api-token-not-a-secret"
BACKOFF_SCALE_ENV = "RCABOT_E2E_BACKOFF_SCALE"
KILL_AT_ENV = "RCABOT_E2E_KILL_AT"
KILL_POINTS = ("after-tracker-append", "after-ping-post")
TRACKER_WIDTH = 6


# --- the fake Google on localhost -------------------------------------------------------------

class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:  # no access log, no broken pipes
        pass


class FakeGoogleServer:
    """Sheets + Chat + token endpoint + certificates on one local address (`base`)."""

    def __init__(self, seed: int = 0):
        self.google = FakeGoogle(sheets=FakeSheets(token=ACCESS_TOKEN, seed=seed),
                                 chat=FakeChat(spaces=(SPACE,), token=ACCESS_TOKEN, seed=seed))
        self.sheets, self.chat = self.google.sheets, self.google.chat
        self.certs = GoogleCerts()
        self.certs.published()  # makes the signing key now: tokens.signing_key's cache is not safe to fill
        # from several threads at once (two racing clicks would sign with two different keys)
        self.injected: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._counting = threading.Lock()
        self._app = None
        self.server = make_server("127.0.0.1", 0, self._serve, threaded=True, request_handler=_QuietHandler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        router = self.google.local_router(self.base)
        router.routes[f"{self.base}/service_accounts/"] = self.certs.handle
        router.routes[f"{self.base}/oauth2/"] = self.certs.handle
        self._app = router.wsgi(self.base)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-google", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, environ, start_response):
        api = {"/v4/": "sheets", "/v1/": "chat"}.get(environ.get("PATH_INFO", "")[:4], "other")
        with self._counting:
            self._in_flight[api] += 1
        try:
            return self._app(environ, start_response)  # a list: the fake has answered when it returns
        finally:
            with self._counting:
                self._in_flight[api] -= 1

    def in_flight(self, api: str) -> int:
        """Requests to `api` ("sheets", "chat") the fake is still working on (a hang included),
        whether or not the client still waits for the answer."""
        with self._counting:
            return self._in_flight[api]

    # Faults, through the fakes' own machinery, counted by kind.

    def sheets_fail(self, status: int, count: int, kind: str | None = None) -> None:
        self.sheets.fail_next(status, count=count, kind=kind)
        self.injected[f"sheets {status}"] += count

    def sheets_fail_after_post(self, count: int = 1, kind: str | None = None, status: int = 503) -> None:
        self.sheets.fail_after_post_next(status, count=count, kind=kind)
        self.injected[f"sheets write done, answered {status}"] += count

    def sheets_hang(self, seconds: float, count: int = 1, kind: str | None = None) -> None:
        self.sheets.hang_next(seconds, count=count, kind=kind)
        self.injected[f"sheets hang {seconds:g} s"] += count

    def chat_fail(self, status: int, count: int, kind: str | None = "spaces.messages.create") -> None:
        self.chat.fail_next(status, count=count, kind=kind)
        self.injected[f"chat {status}"] += count

    def chat_hang(self, seconds: float, count: int = 1, kind: str | None = "spaces.messages.create") -> None:
        self.chat.hang_next(seconds, count=count, kind=kind)
        self.injected[f"chat hang {seconds:g} s"] += count

    def pending_faults(self) -> int:
        return self.sheets.pending_faults() + self.chat.pending_faults()

    def refused(self) -> Counter[str]:
        """The calls the fakes answered with an error, by API and status."""
        found: Counter[str] = Counter()
        for api, calls in (("sheets", list(self.sheets.calls)), ("chat", list(self.chat.calls))):
            for call in calls:
                if call.status >= 400:
                    found[f"{api} {call.status}"] += 1
        return found

    # What the bot left in the spreadsheet and the space.

    def tab(self, title: str, width: int = 0) -> list[list[str]]:
        """A tab's rows after the header, padded to `width` (the fake trims trailing blanks)."""
        rows = self.sheets.rows(title)[1:] if title in self.sheets.tab_titles() else []
        return [row + [""] * (width - len(row)) for row in rows if any(cell.strip() for cell in row)]

    def tracker(self) -> list[list[str]]:
        return self.tab("Tracker", TRACKER_WIDTH)

    def space(self) -> dict:
        """The space in the shape harness.check_run reads (messages, threads by key)."""
        return {"messages": self.chat.messages(SPACE), "threads": self.chat.threads(SPACE)}


def prepare_google_workbook(google: FakeGoogleServer, folder: Path, **config) -> list[dict[str, str]]:
    """harness.prepare_workbook's Configuration and Managers, as tabs of the fake spreadsheet."""
    team = prepare_workbook(folder, **config)
    configuration = _read_csv(folder / "Configuration.csv")
    configuration[1][configuration[0].index("SpaceId")] = SPACE
    google.sheets.add_tab("Configuration", configuration)
    google.sheets.add_tab("Managers", _read_csv(folder / "Managers.csv"))
    return team


# --- the process ----------------------------------------------------------------------------

class GoogleBot(BotProcess):
    """`python app.py` in Google mode against `google`. `client_timeout` is the bot's
    RCABOT_GOOGLE_TIMEOUT; with `backoff_scale` it runs through this module's main() instead,
    which scales the Sheets backoff (the bot has no setting for that)."""

    def __init__(self, home: Path, google: FakeGoogleServer, *, client_timeout: float | None = None,
                 backoff_scale: float | None = None):
        super().__init__(home)
        home.mkdir(parents=True, exist_ok=True)
        self.google = google
        self.test_env: dict[str, str] = {}
        if client_timeout is not None:  # a real setting: the bot's Google clients' timeout
            self.test_env["RCABOT_GOOGLE_TIMEOUT"] = str(client_timeout)
        if backoff_scale is not None:
            self.test_env[BACKOFF_SCALE_ENV] = str(backoff_scale)
        self.boot_failures = 0

    def settings_env(self) -> dict[str, str]:
        base = self.google.base
        return {"RCABOT_BACKEND": "google", "RCABOT_SPREADSHEET_ID": self.google.sheets.spreadsheet_id,
                "RCABOT_SERVICE_ACCOUNT_JSON": json.dumps(service_account_info(token_uri=f"{base}/token")),
                "GOOGLE_APPLICATION_CREDENTIALS": "", "RCABOT_CHAT_AUDIENCE": PROJECT_NUMBER,
                "RCABOT_API_TOKEN": API_TOKEN, "RCABOT_SHEETS_ENDPOINT": base, "RCABOT_CHAT_ENDPOINT": f"{base}/",
                "RCABOT_CERTS_ENDPOINT": base, "RCABOT_CHAT_ADDON_SERVICE_ACCOUNT": "",
                "RCABOT_JOURNAL_DIR": str(self.journal)}

    def start(self, kill_at: str = "", healthy: bool = True) -> None:
        """Start the bot and wait until it answers: /healthz 200 (`healthy`), or any answer at all
        (a fault the test injected may keep it degraded)."""
        assert self.process is None or self.process.poll() is not None, "the bot is already running"
        assert not kill_at or kill_at in KILL_POINTS, kill_at
        extra = dict(self.test_env)
        if kill_at:
            extra[KILL_AT_ENV] = kill_at
        argv = [sys.executable, "-m", "tests.e2e.google_harness"] if extra else [sys.executable, "app.py"]
        began = time.monotonic()
        self._launch(argv, extra, " ".join(f"{k}={v}" for k, v in extra.items()))
        if healthy:
            self._wait_healthy(began)
        else:
            self._wait_healthy(began, answering_will_do=True)

    def start_supervised(self, attempts: int = 5) -> None:
        """Start as a process supervisor would: a start-up that exits (Sheets unreachable) is
        started again, up to `attempts` times."""
        for _ in range(attempts):
            try:
                self.start(healthy=False)
                return
            except AssertionError:
                if self.process.poll() is None:
                    raise
                self.boot_failures += 1
        raise AssertionError(f"the bot did not start in {attempts} tries\n{self.log_tail()}")

    def space(self) -> dict:
        return self.google.space()

    def log_tail(self, lines: int = 40) -> str:
        """As BotProcess's, less google-auth's lookups of iamcredentials.googleapis.com (a host no
        RCABOT_*_ENDPOINT setting replaces; unreachable here, and harmless: it runs in the background)."""
        tail = super().log_tail(lines * 2).splitlines()
        return "\n".join([line for line in tail if "iamcredentials.googleapis.com" not in line][-lines:])

    def healthz(self) -> tuple[int, dict]:
        # With the token /healthz says why a part is degraded; without it, only which.
        answer = requests.get(f"{self.url}/healthz", headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=5)
        return answer.status_code, answer.json()


# --- the clients ----------------------------------------------------------------------------

class GoogleClient(Client):
    """harness.Client with Google's authentication, and the space read from the fake Chat."""

    def __init__(self, bot: GoogleBot, team: list[dict[str, str]]):
        super().__init__(bot, team)
        self.google = bot.google
        self.shown: dict[str, dict] = {}  # message name -> the card as a click's answer redrew it
        self.latencies: list[float] = []  # seconds each answered request took

    def _post(self, path: str, body: dict):
        if path == "/chat/events":
            body = {**body, "space": {**body["space"], "name": SPACE}}
            authorization = self.google.certs.bearer(project_number_claims())
        else:
            authorization = f"Bearer {API_TOKEN}"
        began = time.monotonic()
        answer = requests.post(self.bot.url + path, json=body, headers={"Authorization": authorization}, timeout=10)
        self.latencies.append(time.monotonic() - began)
        if path == "/chat/events" and answer.status_code == 200:
            reply = answer.json()
            if reply.get("actionResponse", {}).get("type") == "UPDATE_MESSAGE":  # Google redraws the card
                name = body["message"]["name"]
                self.shown[name] = {**body["message"], "text": reply.get("text", ""), "cardsV2": reply["cardsV2"]}
        return answer

    def _get(self, path: str):
        return requests.get(self.bot.url + path, headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=10)

    def thread(self, thread: str) -> list[dict]:
        return [self.shown.get(m["name"], m) for m in self.google.chat.messages(SPACE)
                if (m.get("thread") or {}).get("name") == thread]


# --- the checks -----------------------------------------------------------------------------

def google_run(google: FakeGoogleServer, said: list[Said], team: list[dict[str, str]],
               timeout: int) -> tuple[list[str], dict[str, Any]]:
    """harness.check_run over the fake spreadsheet and space, and: no ping timed out sooner than
    `timeout` after its card was in the space; the space holds no message the bot posted twice."""
    tracker, space = google.tracker(), google.space()
    problems, numbers = check_run(tracker, google.tab("TicketState"), space, said, team, timeout)
    # A lapsed card is redrawn without its buttons: its attempt is read from the card as posted.
    posted = {c.response["name"]: c.body for c in list(google.chat.calls)
              if c.kind == CREATE and c.ok and isinstance(c.body, dict) and isinstance(c.response, dict)}
    cards: dict[tuple[str, int], dict] = {}
    for key, thread in space["threads"].items():
        for message in space["messages"]:
            attempt = card_attempt(posted.get(message["name"], message))
            if message["thread"]["name"] == thread and attempt is not None:
                cards.setdefault((key.removeprefix("rca-ticket-"), attempt), message)
    late = 0
    for ticket_id, story in stories(tracker).items():
        for attempt, end in story.ended.items():
            row = story.rows[end]
            card = cards.get((ticket_id, attempt))
            if row[3] != "TimedOut" or card is None:
                continue
            posted = _stamp(card["createTime"])
            if _stamp(row[0]) < int(posted) + timeout:
                problems.append(f"{ticket_id}: ping {attempt} timed out at {row[0]}, less than {timeout} s after "
                                f"its card was posted ({card['createTime']})")
            pinged = story.rows[story.pinged[attempt]]
            late += _stamp(card["createTime"]) - _stamp(pinged[0]) >= 1
    if google.chat.posted_count(SPACE) != len(space["messages"]):
        problems.append(f"the bot posted {google.chat.posted_count(SPACE)} messages, the space shows "
                        f"{len(space['messages'])}")
    numbers["timed out pings posted 1 s or more after their Pinged row"] = late
    return problems, numbers


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# --- python -m tests.e2e.google_harness: app.py with test-only settings -----------------------

def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _apply_test_settings() -> None:
    scale = os.environ.get(BACKOFF_SCALE_ENV, "")
    if scale:
        import rcabot.workbook.google as workbook
        workbook.pause = lambda seconds, scale=float(scale): time.sleep(seconds * scale)
    point = os.environ.get(KILL_AT_ENV, "")
    if point == "after-tracker-append":
        from rcabot.workbook.google import GoogleWorkbook
        write = GoogleWorkbook.write

        def patched_write(self, replace, append, update=None):
            write(self, replace, append, update)
            if "Tracker" in append:
                _die()  # the spreadsheet has the rows; the journal still holds them
        GoogleWorkbook.write = patched_write
    elif point == "after-ping-post":
        from rcabot.chat.google import GoogleChat
        create_message = GoogleChat.create_message

        def patched_create(self, space, message, **kwargs):
            posted = create_message(self, space, message, **kwargs)
            if message.get("cardsV2"):
                _die()  # the card is in the space; the bot has not journaled that it is
            return posted
        GoogleChat.create_message = patched_create
    elif point:
        raise SystemExit(f"unknown kill point {point!r}; one of {', '.join(KILL_POINTS)}")


def main() -> None:
    import runpy

    _apply_test_settings()
    sys.argv = [str(ROOT / "app.py")]
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")


if __name__ == "__main__":
    main()
