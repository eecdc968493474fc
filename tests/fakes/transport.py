"""Plumbing that lets the real Google clients reach the fake Google APIs.

A fake API is a `handle(FakeRequest) -> (status, json_body)` function. This module carries
requests to it three ways: through `responses` (gspread and google-auth use `requests`), through
an httplib2 look-alike (google-api-python-client uses httplib2), and as a WSGI app (the
end-to-end test serves the fakes on localhost and points the real process at them).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qs, unquote, urlsplit

import httplib2

JSON = "application/json; charset=UTF-8"


@dataclass
class FakeRequest:
    method: str
    path: str  # percent-encoded, as on the wire
    query: dict[str, list[str]]
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def segments(self) -> list[str]:
        """The path split on '/', each piece decoded (a tab name may hold an encoded '/')."""
        return [unquote(part) for part in self.path.strip("/").split("/")]

    def param(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]

    def json(self):
        return json.loads(self.body or b"null")

    @property
    def bearer(self) -> str:
        value = {k.lower(): v for k, v in self.headers.items()}.get("authorization", "")
        return value[7:] if value.startswith("Bearer ") else ""


Handler = Callable[[FakeRequest], "tuple[int, dict]"]


def peak_per_minute(times: list[float]) -> int:
    """The most of `times` (seconds, sorted) that fall within any 60 s window: a quota's busiest minute."""
    peak, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - 60:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


def google_error(code: int, message: str, status: str) -> tuple[int, dict]:
    """Google's error envelope."""
    return code, {"error": {"code": code, "message": message, "status": status}}


STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


class Router:
    """Sends a URL to the fake that serves its prefix (`https://sheets.googleapis.com/v4/...`)."""

    def __init__(self, routes: dict[str, Handler]):
        self.routes = dict(routes)

    def dispatch(self, method: str, url: str, body: bytes | str | None, headers) -> tuple[int, dict]:
        for prefix, handler in self.routes.items():
            if url.startswith(prefix):
                parts = urlsplit(url)
                data = body.encode() if isinstance(body, str) else (body or b"")
                request = FakeRequest(method.upper(), parts.path, parse_qs(parts.query, keep_blank_values=True),
                                      data, dict(headers or {}))
                return handler(request)
        return google_error(404, f"no fake serves {url}", "NOT_FOUND")

    def install(self, rsps) -> None:
        """Serve every route through a `responses.RequestsMock`."""
        def callback(request):
            status, payload = self.dispatch(request.method, request.url, request.body, request.headers)
            return status, {"Content-Type": JSON}, json.dumps(payload)

        for prefix in self.routes:
            pattern = re.compile(re.escape(prefix) + r".*")
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                rsps.add_callback(method, pattern, callback=callback)

    def http(self) -> "HttplibFake":
        return HttplibFake(self)

    def wsgi(self, base: str) -> Callable:
        """A WSGI app answering as the fakes would, for requests whose URLs start with `base`."""
        def app(environ, start_response):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
            path = path.split("?", 1)[0]
            query = environ.get("QUERY_STRING", "")
            url = base.rstrip("/") + path + (f"?{query}" if query else "")
            headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                       if key.startswith("HTTP_")}
            status, payload = self.dispatch(environ["REQUEST_METHOD"], url, body, headers)
            data = json.dumps(payload).encode()
            start_response(f"{status} {'OK' if status < 400 else 'Error'}",
                           [("Content-Type", JSON), ("Content-Length", str(len(data)))])
            return [data]
        return app


class HttplibFake:
    """Enough of `httplib2.Http` for google-api-python-client and google-auth-httplib2."""

    def __init__(self, router: Router):
        self.router = router
        self.timeout = None
        self.redirect_codes: set[int] = set()
        self.follow_redirects = True
        self.connections: dict = {}

    def request(self, uri, method="GET", body=None, headers=None, redirections=5, connection_type=None):
        status, payload = self.router.dispatch(method, uri, body, headers)
        response = httplib2.Response({"status": str(status), "content-type": JSON})
        return response, json.dumps(payload).encode()

    def close(self) -> None:
        pass
