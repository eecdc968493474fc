"""Serving the bot: the one entry behind `python app.py`, `make run`, `python -m rcabot serve` and
the Procfile.

One process, so one scheduler. waitress, not a thread per connection: its event loop reads each
request whole (a client that sends half a request line, or its body slowly, costs a socket and a
buffer, never a thread) and only then hands it to one of THREADS workers. A thread-per-connection
server with 8 threads was frozen by 8 stalled connections; here a stalled connection is closed
after CHANNEL_TIMEOUT seconds of silence, and at most CONNECTION_LIMIT are open at once.

Where it listens is decided here: PORT, and RCABOT_HOST (127.0.0.1 with the local backend,
0.0.0.0 with Google). The local backend has no authentication of its own (its console acts as
any manager), so it refuses an address other machines can reach unless RCABOT_API_TOKEN is set,
or RCABOT_EXPOSE_LOCAL=yes says, loudly, that it is meant.
"""
from __future__ import annotations

import argparse
import atexit
import errno
import os
import signal
import socket
import sys
from dataclasses import dataclass
from typing import Mapping

from .bootstrap import StartupError
from .config import Settings
from .web.auth import is_loopback

THREADS = 8  # requests the bot works on at once; clicks take a few ms under the bot's one lock
CHANNEL_TIMEOUT = 30  # seconds a connection may send nothing before it is closed
CLEANUP_INTERVAL = 5  # seconds between looks for such connections
CONNECTION_LIMIT = 256  # open connections; past it new ones wait in the listen backlog
MAX_HEADER_BYTES = 32 * 1024  # Chat's signed token is a few KiB; the default 256 KiB a connection is waste
# Above the app's own 64 KiB limit, so that the app answers 64 KiB to this with its JSON error;
# the server's plain 413 only stops what no client of ours sends, before it is buffered whole.
MAX_BODY_BYTES = 256 * 1024

ENVIRONMENT = """\
environment (everything else is in the workbook's Configuration tab; README.md has the details):
  RCABOT_BACKEND          local (default: a CSV folder, and a console page as the Chat space) or google
  RCABOT_WORKBOOK_DIR     local: the CSV workbook folder (default var/workbook, made from the templates)
  RCABOT_API_TOKEN        bearer token the ticket API requires (google: required; local: optional)
  PORT                    the port to listen on (default 8080)
  RCABOT_HOST             the address to listen on (default 127.0.0.1 local, 0.0.0.0 google)
  RCABOT_EXPOSE_LOCAL     yes: let the local backend listen beyond this machine without a token
  RCABOT_JOURNAL_DIR      local disk for the crash journal
  RCABOT_LOG_FORMAT       json: one JSON object a log line (default: plain text)
  RCABOT_SPREADSHEET_ID   google: the spreadsheet's id
  RCABOT_TEAMS_FILE       many teams in one process: a CSV of Team,Workbook,Space (README.md)
  GOOGLE_APPLICATION_CREDENTIALS or RCABOT_SERVICE_ACCOUNT_JSON
                          google: the service account key, a file path or the JSON (or its base64)
  RCABOT_CHAT_AUDIENCE    google: the Chat app's Authentication Audience"""


@dataclass(frozen=True)
class Serving:
    """Where and how the bot is served, from the environment."""

    settings: Settings
    host: str
    expose_local: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Serving":
        _check_port(env.get("PORT", ""))
        settings = Settings.from_env(env)
        host = env.get("RCABOT_HOST", "").strip() or ("127.0.0.1" if settings.local else "0.0.0.0")
        return cls(settings, host, env.get("RCABOT_EXPOSE_LOCAL", "").strip().lower() in ("yes", "true", "1"))

    @property
    def port(self) -> int:
        return self.settings.port

    @property
    def open_to_others(self) -> bool:
        """The local backend, without a token, on an address other machines can reach."""
        return self.settings.local and not self.settings.api_token and not is_loopback(self.host)

    def problems(self) -> list[str]:
        if self.open_to_others and not self.expose_local:
            return [f"the local backend on {self.host} would let anyone who reaches port {self.port} act as "
                    f"any manager in its console and start tickets: set RCABOT_API_TOKEN, or listen on "
                    f"127.0.0.1 (RCABOT_HOST), or set RCABOT_EXPOSE_LOCAL=yes if that is meant"]
        return []

    def warnings(self) -> list[str]:
        if self.open_to_others:
            return [f"WARNING: the local backend listens on {self.host}:{self.port} WITHOUT A TOKEN, because "
                    f"RCABOT_EXPOSE_LOCAL=yes: anyone who can reach it can act as any manager and start "
                    f"tickets. Set RCABOT_API_TOKEN to require one."]
        return []

    def banner(self) -> str:
        base = f"http://{_url_host(self.host)}:{self.port}"
        auth = " -H \"Authorization: Bearer $RCABOT_API_TOKEN\"" if self.settings.api_token else ""
        route = "/teams/TEAM/tickets" if self.settings.teams_file else "/tickets"  # TEAM: a name in the Teams file
        start = (f"curl -X POST {base}{route} -H 'Content-Type: application/json'{auth} "
                 f"-d '{{\"ticket_id\": \"RCA-1\", \"title\": \"Checkout latency\"}}'")
        first = f"RCA Bot console: {base}/console" if self.settings.local else \
            f"RCA Bot (Google backend) listening on {self.host}:{self.port}"
        return f"\n{first}\nStart a ticket:  {start}\n"


def _url_host(host: str) -> str:
    """The address a person on this machine types: any wildcard or loopback is localhost."""
    if host in ("0.0.0.0", "::") or is_loopback(host):
        return "localhost"
    return f"[{host}]" if ":" in host else host


def _check_port(text: str) -> None:
    text = text.strip()
    if text and not (text.isdigit() and 0 < int(text) < 65536):
        raise StartupError([f"PORT is {text!r}; set a port number (1 to 65535)"])


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the bot boots: a busy port is said at once, by name."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError([f"port {port} is in use (set PORT to use another)"]) from None
        raise StartupError([f"cannot listen on {host}:{port} ({exc.strerror}); check RCABOT_HOST and PORT"]) \
            from None
    return sock


def serve(serving: Serving) -> int:
    """Serve until SIGTERM or Ctrl-C, then flush and say so. Raises StartupError."""
    problems = serving.problems()
    if problems:
        raise StartupError(problems)
    for warning in serving.warnings():
        print(warning, file=sys.stderr, flush=True)
    sock = listen(serving.host, serving.port)
    from .web import create_app

    app = create_app()
    teams = app.extensions["rcabot.teams"]
    closer = teams or app.extensions["rcabot"]  # every team's bot, with a Teams file
    atexit.unregister(closer.close)  # closed below, where what it flushed can be said
    server = _server(app, sock)
    print(serving.banner(), flush=True)
    _stop_on_sigterm()
    try:
        server.run()  # returns on SystemExit or KeyboardInterrupt, once the request threads are done
    finally:
        server.close()
        flushed = closer.close()
        print(f"RCA Bot: flushed {flushed} {'row' if flushed == 1 else 'rows'}, stopped", flush=True)
    return 0


def _server(app, sock: socket.socket):
    from waitress import create_server

    return create_server(app, sockets=[sock], threads=THREADS, channel_timeout=CHANNEL_TIMEOUT,
                         cleanup_interval=CLEANUP_INTERVAL, connection_limit=CONNECTION_LIMIT,
                         max_request_header_size=MAX_HEADER_BYTES, max_request_body_size=MAX_BODY_BYTES)


def _stop_on_sigterm() -> None:
    """SIGTERM (a process manager's stop) ends the server's loop like Ctrl-C, so the shutdown
    flush runs. A second SIGTERM (a shell and its child both passing one on) must not interrupt it."""
    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def parser(prog: str = "python app.py") -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=ENVIRONMENT,
        description="Run RCA Bot and its web server (the ticket API, Chat events, /healthz, the local console) "
                    "until SIGTERM or Ctrl-C; the shutdown writes what is pending to the workbook.")


def main(argv: list[str], prog: str = "python app.py") -> int:
    parser(prog).parse_args(argv)  # --help, or a usage error for anything else
    try:
        return serve(Serving.from_env())
    except StartupError as exc:
        print(exc.code, file=sys.stderr, flush=True)
        return 1
