"""The serving entry's rules (rcabot/serve.py), in this process: where it listens, what it refuses,
what its banner says; the shutdown's count; the limits of the nginx in front on Elastic Beanstalk."""
from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from rcabot.bootstrap import StartupError
from rcabot.serve import Serving, is_loopback, listen, serve
from rcabot.web import MAX_BODY_BYTES

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "s3cret-token-value"


# --- where it listens, and the local backend's exposure rule --------------------------------

def test_the_local_backend_listens_on_this_machine_only_and_google_mode_everywhere_by_default():
    assert Serving.from_env({}).host == "127.0.0.1"
    assert Serving.from_env({"RCABOT_BACKEND": "google"}).host == "0.0.0.0"
    assert Serving.from_env({"RCABOT_HOST": "10.1.2.3", "PORT": "9000"}).host == "10.1.2.3"
    assert Serving.from_env({"PORT": "9000"}).port == 9000


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "bot.example.com"])
def test_the_local_backend_without_a_token_refuses_an_address_others_can_reach(host):
    serving = Serving.from_env({"RCABOT_HOST": host})
    [problem] = serving.problems()
    assert "RCABOT_API_TOKEN" in problem and host in problem
    with pytest.raises(StartupError, match=f"RCA Bot cannot start: the local backend on {re.escape(host)} "):
        serve(serving)  # before it binds anything


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_the_local_backend_without_a_token_may_listen_on_loopback(host):
    assert is_loopback(host)
    assert Serving.from_env({"RCABOT_HOST": host}).problems() == []


def test_with_a_token_the_local_backend_may_listen_beyond_this_machine_without_a_warning():
    serving = Serving.from_env({"RCABOT_HOST": "0.0.0.0", "RCABOT_API_TOKEN": TOKEN})
    assert serving.problems() == [] and serving.warnings() == []


def test_an_explicitly_exposed_local_backend_starts_but_says_loudly_why():
    serving = Serving.from_env({"RCABOT_HOST": "0.0.0.0", "RCABOT_EXPOSE_LOCAL": "yes", "PORT": "8081"})
    assert serving.problems() == []
    [warning] = serving.warnings()
    assert warning.startswith("WARNING: the local backend listens on 0.0.0.0:8081 WITHOUT A TOKEN")
    assert "RCABOT_EXPOSE_LOCAL=yes" in warning and "RCABOT_API_TOKEN" in warning


def test_a_busy_port_is_named_with_the_setting_that_changes_it():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StartupError, match=rf"^RCA Bot cannot start: port {port} is in use \(set PORT to use "
                                               rf"another\)$"):
            listen("127.0.0.1", port)


@pytest.mark.parametrize("port", ["http", "80a", "70000", "0"])
def test_a_port_that_is_not_a_port_number_stops_the_start_by_name(port):
    with pytest.raises(StartupError, match=f"PORT is '{port}'; set a port number"):
        Serving.from_env({"PORT": port})


# --- the banner ----------------------------------------------------------------------------

def test_with_a_token_the_banner_curl_line_sends_it_by_its_variable_never_its_value():
    banner = Serving.from_env({"RCABOT_API_TOKEN": TOKEN, "PORT": "8081"}).banner()
    # Double quotes: the shell puts the token in; single quotes would send the variable's name.
    assert '-H "Authorization: Bearer $RCABOT_API_TOKEN"' in banner
    assert TOKEN not in banner
    assert "http://localhost:8081/console" in banner


def test_without_a_token_the_banner_curl_line_sends_no_authorization():
    banner = Serving.from_env({}).banner()
    assert "curl -X POST http://localhost:8080/tickets" in banner and "Authorization" not in banner


def test_in_google_mode_the_banner_names_no_console():
    banner = Serving.from_env({"RCABOT_BACKEND": "google", "RCABOT_API_TOKEN": TOKEN}).banner()
    assert "/console" not in banner and "listening on 0.0.0.0:8080" in banner
    assert '-H "Authorization: Bearer $RCABOT_API_TOKEN"' in banner


# --- the shutdown ----------------------------------------------------------------------------

def test_close_returns_the_tracker_rows_its_shutdown_flush_wrote(client, bot, workbook_dir):
    for ticket_id in ("RCA-1", "RCA-2"):
        assert client.post("/tickets", json={"ticket_id": ticket_id}).status_code == 202
    assert bot.close() == 2
    tracker = (workbook_dir / "Tracker.csv").read_text(encoding="utf-8")
    assert "RCA-1" in tracker and "RCA-2" in tracker


# --- the proxy in front, on Elastic Beanstalk --------------------------------------------------

def nginx_setting(name: str) -> str:
    found = re.search(rf"^\s*{name}\s+([^;]+);", (ROOT / ".platform/nginx/nginx.conf").read_text(), re.MULTILINE)
    assert found, f"{name} is not set in .platform/nginx/nginx.conf"
    return found.group(1).strip()


def test_the_proxy_refuses_what_the_app_refuses_and_gives_up_on_slow_clients_sooner_than_its_default():
    assert nginx_setting("client_max_body_size") == f"{MAX_BODY_BYTES // 1024}k"
    for timeout in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert int(nginx_setting(timeout).rstrip("s")) <= 10, timeout
    # Longer than the load balancer's 60 s idle timeout, which closes idle connections first.
    assert int(nginx_setting("keepalive_timeout").rstrip("s")) > 60
    assert "include conf.d/elasticbeanstalk/*.conf;" in (ROOT / ".platform/nginx/nginx.conf").read_text()


def test_on_elastic_beanstalk_the_bot_listens_where_nginx_proxies_and_nowhere_else():
    config = (ROOT / ".ebextensions/01-rcabot.config").read_text()
    assert re.search(r'^\s*PORT: "8000"$', config, re.MULTILINE)  # the platform's nginx proxies to 8000
    assert re.search(r"^\s*RCABOT_HOST: 127\.0\.0\.1$", config, re.MULTILINE)
    assert (ROOT / "Procfile").read_text().strip() == "web: python app.py"
