"""The Google the benchmark runs against: the tests' fakes of Sheets, Chat, the token endpoint and
Google's certificates, holding a workbook made for the scenario.

In process (the simulated-time scenarios) the real clients reach them through `responses` and an
httplib2 stand-in. For a bot in its own process they are served over HTTP on 127.0.0.1, so that
their memory is not counted as the bot's and their work does not hold the bot's interpreter lock.
"""
from __future__ import annotations

import csv
import json
import logging
import threading
from typing import Callable

from werkzeug.serving import WSGIRequestHandler, make_server

from rcabot.bootstrap import TEMPLATES
from tests.fakes.chat import FakeChat
from tests.fakes.google import ACCESS_TOKEN, SPACE, FakeGoogle, service_account_info
from tests.fakes.sheets import FakeSheets
from tests.fakes.tokens import PROJECT_NUMBER, GoogleCerts

API_TOKEN = "bench-api-token-not-a-secret"
# Google's default quotas: Sheets 60 reads and 60 writes a minute per user, Chat 60 writes a minute per space.
SHEETS_PER_MINUTE = 60


def template(tab: str) -> list[list[str]]:
    with open(TEMPLATES / f"{tab}.csv", newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def configuration(**values: object) -> list[list[str]]:
    """The Configuration tab (wide layout) of the sample, in the bot's space, with `values` set."""
    header, row = template("Configuration")
    row[header.index("SpaceId")] = SPACE
    for name, value in values.items():
        if name not in header:  # a parameter the sample leaves out (WebhookURL): a column of its own
            header, row = header + [name], row + [""]
        row[header.index(name)] = str(value)
    return [header, row]


def manager_id(n: int) -> str:
    return f"users/{2_000_000 + n}"


def team(size: int) -> list[list[str]]:
    """A Managers tab of `size` active managers who work every shift (the time of day does not matter)."""
    return [["Name", "Email", "GChat ID", "Shift", "Active"]] + [
        [f"Manager {n:05d}", f"manager{n}@example.com", manager_id(n), "all", "yes"] for n in range(size)]


def fake_google(managers: int, config: dict, latency: float, *, clock: Callable | None = None,
                sleep: Callable[[float], None] | None = None) -> FakeGoogle:
    """Sheets and Chat answering after `latency` seconds, with Google's per-minute quotas on."""
    timing = {"latency": latency, **({"clock": clock} if clock else {}), **({"sleep": sleep} if sleep else {})}
    sheets = FakeSheets(token=ACCESS_TOKEN, write_quota_per_minute=SHEETS_PER_MINUTE,
                        read_quota_per_minute=SHEETS_PER_MINUTE, **timing)
    chat = FakeChat(spaces=(SPACE,), token=ACCESS_TOKEN, **timing)
    fake = FakeGoogle(sheets=sheets, chat=chat)
    sheets.add_tab("Configuration", configuration(**config))
    sheets.add_tab("Managers", team(managers))
    return fake


def refused_gaps(writes: list) -> list[float]:
    """For each write refused with 429: how long after the 60th write before it (that the quota
    let through) it arrived. Under 60 s is what the quota refuses."""
    gaps, admitted = [], []
    for call in writes:
        if call.status == 429 and len(admitted) >= SHEETS_PER_MINUTE:
            gaps.append(round(call.at - admitted[-SHEETS_PER_MINUTE], 3))
        if call.charged:
            admitted.append(call.at)
    return gaps


class _KeepAlive(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # the clients keep their connections, as they would with Google

    def log_request(self, *args) -> None:
        pass


class ServedGoogle:
    """`fake` and Google's certificates on http://127.0.0.1:<port>, until `close()`."""

    def __init__(self, fake: FakeGoogle, certs: GoogleCerts | None = None):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.fake, self.certs = fake, certs or GoogleCerts()
        self._server = make_server("127.0.0.1", 0, lambda environ, start: [], threaded=True,
                                   request_handler=_KeepAlive)
        self.base = f"http://127.0.0.1:{self._server.port}"
        router = fake.local_router(self.base)
        router.routes.update({f"{self.base}/service_accounts/": self.certs.handle,
                              f"{self.base}/oauth2/": self.certs.handle})
        self._server.app = router.wsgi(self.base)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-google", daemon=True)
        self._thread.start()

    def bot_env(self, journal_dir: str) -> dict[str, str]:
        """The environment of a Google-mode deployment pointed at these fakes."""
        return {"RCABOT_BACKEND": "google", "RCABOT_SPREADSHEET_ID": self.fake.sheets.spreadsheet_id,
                "RCABOT_SERVICE_ACCOUNT_JSON": json.dumps(service_account_info(token_uri=f"{self.base}/token")),
                "RCABOT_CHAT_AUDIENCE": PROJECT_NUMBER, "RCABOT_API_TOKEN": API_TOKEN,
                "RCABOT_JOURNAL_DIR": journal_dir, "RCABOT_SHEETS_ENDPOINT": self.base,
                "RCABOT_CHAT_ENDPOINT": f"{self.base}/", "RCABOT_CERTS_ENDPOINT": self.base}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
