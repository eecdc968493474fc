"""Slow clients against the production entry, started as the Procfile starts it (a real process on
127.0.0.1, the local backend, a workbook and a journal in a temporary folder).

A slowloris client opens a connection, sends half a request line and then nothing; a slow
uploader sends its headers and half its body. A server that gives a thread to each connection
as soon as it sends a byte (the thread then waits for the rest) is frozen by as many of them as
it has threads. Here many more of them than the server has threads stay connected, and the real
requests (`GET /healthz`, `POST /tickets`) must still be answered quickly; the slow uploads,
once they finish, must be answered as if they had been quick.

Run with -s to see the times.
"""
from __future__ import annotations

import json
import socket
import time

import requests

from rcabot.serve import THREADS

STALLED = 100  # more than ten times the server's threads, fewer than its connection limit
SLOW_UPLOADS = 3 * THREADS
QUICK = 2.0  # seconds a real request may take on a loaded 2-core machine (unloaded: a few ms)
GIVE_UP = 10.0  # a request not answered within this long counts as frozen


def connect(port: int, first_bytes: bytes) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=GIVE_UP)
    conn.sendall(first_bytes)
    return conn


def stalled(port: int, how_many: int) -> list[socket.socket]:
    """Connections that sent half a request line and then nothing."""
    return [connect(port, b"GET /healthz HT") for _ in range(how_many)]


def real_requests(url: str, rounds: int = 3) -> list[tuple[str, float, int | str]]:
    """(request, seconds, status code or 'no answer') for a few health checks and ticket starts."""
    took = []
    for n in range(rounds):
        for name, send in (("GET /healthz", lambda: requests.get(f"{url}/healthz", timeout=GIVE_UP)),
                           ("POST /tickets", lambda n=n: requests.post(
                               f"{url}/tickets", json={"ticket_id": f"REAL-{n}"}, timeout=GIVE_UP))):
            began = time.monotonic()
            try:
                outcome: int | str = send().status_code
            except requests.RequestException:
                outcome = "no answer"
            took.append((name, time.monotonic() - began, outcome))
    return took


def report(what: str, took: list[tuple[str, float, int | str]]) -> str:
    slowest = max(seconds for _, seconds, _ in took)
    line = f"{what}: slowest real request {slowest * 1000:.0f} ms; " + ", ".join(
        f"{name} {seconds * 1000:.0f} ms ({outcome})" for name, seconds, outcome in took)
    print("\n" + line)
    return line


def check_quick(line: str, took: list[tuple[str, float, int | str]]) -> None:
    for name, seconds, outcome in took:
        assert outcome in (200, 202), f"{name} answered {outcome}: {line}"
        assert seconds < QUICK, f"{name} took {seconds:.2f} s: {line}"


def close_all(conns: list[socket.socket]) -> None:
    for conn in conns:
        conn.close()


def test_a_hundred_stalled_connections_leave_real_requests_answered_quickly(make_bot):
    bot, _ = make_bot(server="Procfile")
    bot.start()
    conns = stalled(bot.port, STALLED)
    try:
        time.sleep(0.5)  # the server has accepted them (and, were it thread-per-connection, handed them out)
        took = real_requests(bot.url)
    finally:
        close_all(conns)
    check_quick(report(f"{STALLED} stalled connections", took), took)
    assert bot.stop() == 0, bot.log_tail()


def slow_upload(port: int, ticket_id: str) -> tuple[socket.socket, bytes]:
    """POST /tickets whose headers and first half of body are sent; returns the rest to send."""
    body = json.dumps({"ticket_id": ticket_id, "title": "Slow upload"}).encode()
    head = (f"POST /tickets HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    half = len(body) // 2
    return connect(port, head + body[:half]), body[half:]


def answer_status(conn: socket.socket) -> int:
    received = b""
    while b"\r\n" not in received:
        chunk = conn.recv(4096)
        if not chunk:
            break
        received += chunk
    return int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/") else 0


def test_clients_sending_their_body_slowly_hold_no_thread_and_are_answered_once_it_arrives(make_bot):
    bot, _ = make_bot(server="Procfile")
    bot.start()
    uploads = [slow_upload(bot.port, f"SLOW-{n}") for n in range(SLOW_UPLOADS)]
    try:
        time.sleep(0.5)
        took = real_requests(bot.url)
        for conn, rest in uploads:
            conn.sendall(rest)
        answers = [answer_status(conn) for conn, _ in uploads]
    finally:
        close_all([conn for conn, _ in uploads])
    check_quick(report(f"{SLOW_UPLOADS} half-sent bodies", took), took)
    assert answers == [202] * SLOW_UPLOADS, answers
    assert all(requests.get(f"{bot.url}/tickets/SLOW-{n}", timeout=GIVE_UP).status_code == 200
               for n in range(SLOW_UPLOADS))
    assert bot.stop() == 0, bot.log_tail()
