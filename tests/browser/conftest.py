"""Browser tests: the real app served on a free local port, driven through Debian's chromium.

Without chromium or the playwright package the browser tests are skipped, except under CI=true,
where they fail: CI must run them.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import NoReturn

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, and CI must run the browser tests", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    # Imported here so that collecting the tests needs no playwright: test_console.py skips without it.
    from playwright.sync_api import Error, sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as exc:
            _unavailable(f"chromium at {CHROMIUM} did not start: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture
def console_app(request, tmp_path: Path):
    """The app in local mode; a test may add settings with indirect parametrization (API_TOKEN)."""
    from rcabot.web import create_app

    app = create_app({"WORKBOOK_DIR": str(tmp_path / "workbook"), **getattr(request, "param", {})})
    yield app
    app.extensions["rcabot"].close()


@pytest.fixture
def base_url(console_app) -> str:
    server = make_server("127.0.0.1", 0, console_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="console-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def js_errors() -> list[str]:
    """Uncaught errors in the page and requests that left the local server; tests expect none."""
    return []


@pytest.fixture
def new_page(browser, base_url: str, js_errors: list[str]):
    """Opens a page in a context of its own: `new_page(viewport={...}, timezone_id=...)`."""
    contexts = []

    def open_page(**options):
        options = {"viewport": {"width": 1280, "height": 900}, **options}
        context = browser.new_context(base_url=base_url, **options)
        contexts.append(context)
        # The page must work offline: anything aimed elsewhere is refused and reported.
        context.route(lambda url: not url.startswith(base_url + "/"), lambda route: (
            js_errors.append(f"request outside the app: {route.request.url}"), route.abort()))
        page = context.new_page()
        page.on("pageerror", lambda error: js_errors.append(f"page error: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
