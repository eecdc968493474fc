"""The bot in a process of its own, as deployed in Google mode (the real APScheduler, the real
clock, the Google clients talking HTTP to the fakes), with the benchmark's probes around it:

- the time each request spends inside the Flask app (a WSGI timer; the client names the kind of
  request in an `X-Bench-Kind` header);
- how late each ping timeout fires: the bot's clock when `Cycle.tick` times the ping out, less
  the deadline its last timer was set for;
- resident memory and threads, from /proc/self/status, twice a second.

`GET /_bench/stats` returns them and `POST /_bench/reset` forgets the request timings (after a
warm-up). Run by `bench.process` as `python -m bench.child PORT`; SIGTERM ends it through the
normal exit, so the bot's shutdown flush runs as in production.

Two options, in the environment, for the scenarios that ask (the others run as before):

- BENCH_SERVER=waitress: served as `rcabot/serve.py` serves production (its socket, bound before
  the boot, and its waitress settings), instead of werkzeug's threaded server;
- BENCH_FLUSH_PROBE=1: the time each flush holds the bot's lock (`RcaBot._flush_snapshot`, the
  whole locked part of a flush) is recorded too.
"""
from __future__ import annotations

import time

STARTED = time.monotonic()  # before the imports: they are part of a start-up

import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from datetime import datetime  # noqa: E402

from flask import jsonify  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from rcabot import serve  # noqa: E402
from rcabot.bot import RcaBot  # noqa: E402
from rcabot.cycle import Cycle, Tracked  # noqa: E402
from rcabot.jobs import SchedulerJobs  # noqa: E402
from rcabot.model import Track  # noqa: E402
from rcabot.web import create_app  # noqa: E402

TIMEOUT_TIMER = "ping-timeout:"
SERVER_ENV, WAITRESS = "BENCH_SERVER", "waitress"
FLUSH_PROBE_ENV = "BENCH_FLUSH_PROBE"


class Probe:
    def __init__(self) -> None:
        self.requests: dict[str, list[float]] = {}
        self.deadlines: dict[str, datetime] = {}  # ticket -> deadline of its latest timeout timer
        self.lateness: list[float] = []
        self.tick_seconds: list[float] = []
        self.flush_seconds: list[float] = []  # under the lock, with BENCH_FLUSH_PROBE
        self.memory: list[tuple[float, float, int]] = []  # (monotonic, RSS MB, threads)
        self.boot_seconds = 0.0
        self.ready_seconds = 0.0

    def install(self) -> None:
        """Wrap the two methods the timeouts go through, in this process only."""
        set_timer, tick = SchedulerJobs.set_timer, Cycle.tick
        probe = self

        def recorded_set_timer(jobs, key: str, at: datetime) -> None:
            if key.startswith(TIMEOUT_TIMER):
                probe.deadlines[key[len(TIMEOUT_TIMER):]] = at
            set_timer(jobs, key, at)

        def measured_tick(cycle, now: datetime):
            began = time.perf_counter()
            effects = tick(cycle, now)
            probe.tick_seconds.append(time.perf_counter() - began)
            for effect in effects:
                if isinstance(effect, Tracked) and effect.status is Track.TIMED_OUT:
                    deadline = probe.deadlines.get(effect.ticket_id)
                    if deadline is not None:
                        probe.lateness.append((now - deadline).total_seconds())
            return effects

        SchedulerJobs.set_timer, Cycle.tick = recorded_set_timer, measured_tick

    def install_flush_probe(self) -> None:
        """Time `RcaBot._flush_snapshot`: what a flush does while it holds the bot's lock."""
        snapshot = RcaBot._flush_snapshot
        probe = self

        def measured_snapshot(bot, paced: bool):
            began = time.perf_counter()
            try:
                return snapshot(bot, paced)
            finally:
                probe.flush_seconds.append(time.perf_counter() - began)

        RcaBot._flush_snapshot = measured_snapshot

    def timed(self, wsgi):
        """The Flask app, timed from the WSGI call to its last byte of body."""
        def app(environ, start_response):
            kind = environ.get("HTTP_X_BENCH_KIND", "")
            began = time.perf_counter()
            body = wsgi(environ, start_response)
            try:
                chunks = list(body)
            finally:
                getattr(body, "close", lambda: None)()
            if kind:
                self.requests.setdefault(kind, []).append(time.perf_counter() - began)
            return chunks
        return app

    def reset(self) -> None:
        """Forget the request timings and the flushes' (after a warm-up)."""
        self.requests.clear()
        self.flush_seconds.clear()

    def sample_forever(self, every: float = 0.5) -> None:
        while True:
            self.memory.append((time.monotonic(), *_rss_and_threads()))
            time.sleep(every)

    def stats(self, bot) -> dict:
        with bot._lock:
            open_tickets, queued = len(bot.cycle.state.tickets), len(bot.outbox)
        rss, threads = _rss_and_threads()
        return {"requests": self.requests, "lateness": self.lateness, "tick_seconds": self.tick_seconds,
                "flush_seconds": self.flush_seconds,
                "memory": self.memory, "rss_mb": rss, "threads": threads, "open_tickets": open_tickets,
                "outbox": queued, "tracker_rows": len(bot.tracker), "degraded": dict(bot.degraded),
                "boot_seconds": self.boot_seconds, "ready_seconds": self.ready_seconds,
                "thread_names": sorted(t.name for t in threading.enumerate())}


def _rss_and_threads() -> tuple[float, int]:
    fields = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.split()
    return int(fields["VmRSS"][0]) / 1024, int(fields["Threads"][0])


class _Quiet(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args) -> None:
        pass


def main(port: int) -> None:
    probe = Probe()
    probe.install()
    if os.environ.get(FLUSH_PROBE_ENV):
        probe.install_flush_probe()
    waitress = os.environ.get(SERVER_ENV) == WAITRESS
    sock = serve.listen("127.0.0.1", port) if waitress else None  # bound before the boot, as serve() does
    began = time.monotonic()
    app = create_app()
    probe.boot_seconds = time.monotonic() - began
    bot = app.extensions["rcabot"]
    app.wsgi_app = probe.timed(app.wsgi_app)
    app.add_url_rule("/_bench/stats", "bench_stats", lambda: jsonify(probe.stats(bot)))
    app.add_url_rule("/_bench/reset", "bench_reset", lambda: jsonify(probe.reset()), methods=["POST"])
    threading.Thread(target=probe.sample_forever, name="bench-sampler", daemon=True).start()
    if waitress:
        _serve_as_production(app, sock, probe)
        return
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_Quiet)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    probe.ready_seconds = time.monotonic() - STARTED
    server.serve_forever()


def _serve_as_production(app, sock, probe: Probe) -> None:
    """waitress with serve.py's settings and its SIGTERM handling; the bot's shutdown flush runs at
    exit (create_app registered it), as under werkzeug here."""
    server = serve._server(app, sock)
    serve._stop_on_sigterm()
    probe.ready_seconds = time.monotonic() - STARTED
    try:
        server.run()
    finally:
        server.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
