"""The entry points a newcomer hits, as real processes: the help, the start-up refusals (each must
end the process with one "RCA Bot cannot start: ..." line, not a traceback or a restart loop), the
banner's curl line, and the shutdown line after SIGTERM. A few seconds each (the imports)."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.e2e.harness import BotProcess, ProcfileBot, prepare_workbook, procfile_command, read_tab, \
    subprocess_can_listen
from tests.fakes.google import service_account_info

ROOT = Path(__file__).resolve().parent.parent
ENDS_WITHIN = 30  # seconds; a process that is still running by then is not going to end
SECRET = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7-not-really-a-key"


@pytest.fixture(scope="module", autouse=True)
def can_listen() -> None:
    why = subprocess_can_listen()
    if why:
        pytest.skip(f"these tests run the bot as a real process: {why}")


def clean_env(**settings: str) -> dict[str, str]:
    """This machine's environment less any bot setting, plus `settings`; `python` is this virtualenv's."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RCABOT_", "GOOGLE_APPLICATION_CREDENTIALS")) and k != "PORT"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return {**env, **settings}


def run(argv: list[str], **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, env=clean_env(**settings), capture_output=True, text=True,
                          timeout=ENDS_WITHIN)


def run_procfile(**settings: str) -> subprocess.CompletedProcess:
    """The production entry as the Procfile starts it."""
    return run(["sh", "-c", "exec " + procfile_command()], **settings)


def google_settings(tmp_path: Path, **overrides: str) -> dict[str, str]:
    return {"RCABOT_BACKEND": "google", "RCABOT_SPREADSHEET_ID": "sheet-id", "RCABOT_CHAT_AUDIENCE": "123456",
            "RCABOT_API_TOKEN": "token", "RCABOT_SERVICE_ACCOUNT_JSON": json.dumps(service_account_info()),
            "RCABOT_JOURNAL_DIR": str(tmp_path / "journal"), "PORT": str(free_port()), **overrides}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_one_line_refusal(done: subprocess.CompletedProcess, starts: str) -> str:
    said = done.stdout + done.stderr
    assert done.returncode != 0, said
    assert "Traceback" not in said, said
    [line] = [line for line in said.splitlines() if line.startswith("RCA Bot cannot start:")]
    assert line.startswith(starts), line
    return line


# --- help -------------------------------------------------------------------------------------

def test_python_m_rcabot_help_lists_the_commands_and_settings_and_exits_0():
    done = run([sys.executable, "-m", "rcabot", "--help"])
    assert done.returncode == 0, done.stderr
    for word in ("serve", "init-sheet", "RCABOT_BACKEND", "RCABOT_API_TOKEN", "PORT", "RCABOT_HOST"):
        assert word in done.stdout, word


def test_python_app_py_help_prints_help_and_starts_nothing(tmp_path):
    done = run([sys.executable, "app.py", "--help"], RCABOT_WORKBOOK_DIR=str(tmp_path / "workbook"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python app.py") and "RCABOT_BACKEND" in done.stdout
    assert not (tmp_path / "workbook").exists(), "the bot started (it made its workbook)"


def test_python_app_py_with_an_argument_it_does_not_know_exits_2_and_starts_nothing(tmp_path):
    done = run([sys.executable, "app.py", "--port", "9000"], RCABOT_WORKBOOK_DIR=str(tmp_path / "workbook"))
    assert done.returncode == 2 and "unrecognized arguments: --port 9000" in done.stderr
    assert not (tmp_path / "workbook").exists()


# --- refusals: one line, and the process ends ------------------------------------------------------

def test_in_google_mode_without_settings_the_production_entry_ends_with_the_reason_once(tmp_path):
    done = run_procfile(RCABOT_BACKEND="google", RCABOT_JOURNAL_DIR=str(tmp_path / "journal"),
                        PORT=str(free_port()))
    line = assert_one_line_refusal(done, "RCA Bot cannot start: RCABOT_SPREADSHEET_ID is not set")
    assert "RCABOT_CHAT_AUDIENCE is not set" in line and "RCABOT_API_TOKEN is not set" in line


def test_a_malformed_service_account_json_ends_the_start_naming_the_variable_never_the_key(tmp_path):
    done = run_procfile(**google_settings(tmp_path, RCABOT_SERVICE_ACCOUNT_JSON="{" + SECRET))
    assert_one_line_refusal(done, "RCA Bot cannot start: RCABOT_SERVICE_ACCOUNT_JSON is neither")
    assert SECRET[:20] not in done.stdout + done.stderr


def test_the_local_backend_without_a_token_refuses_to_listen_beyond_this_machine(tmp_path):
    done = run_procfile(RCABOT_HOST="0.0.0.0", RCABOT_WORKBOOK_DIR=str(tmp_path / "workbook"), PORT=str(free_port()))
    line = assert_one_line_refusal(done, "RCA Bot cannot start: the local backend on 0.0.0.0 ")
    assert "RCABOT_API_TOKEN" in line
    assert not (tmp_path / "workbook").exists(), "it booted before refusing"


def test_a_port_in_use_ends_the_start_naming_port_and_the_setting(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run([sys.executable, "app.py"], PORT=str(port), RCABOT_WORKBOOK_DIR=str(tmp_path / "workbook"))
    assert_one_line_refusal(done, f"RCA Bot cannot start: port {port} is in use (set PORT to use another)")


# --- a running bot: the banner's curl line, the shutdown line --------------------------------

class TokenBot(BotProcess):
    def settings_env(self) -> dict[str, str]:
        return {**super().settings_env(), "RCABOT_API_TOKEN": "banner-token"}


def test_the_banner_curl_line_starts_a_ticket_as_printed_when_a_token_is_required(tmp_path):
    if not subprocess.run(["sh", "-c", "command -v curl"], capture_output=True).stdout:
        pytest.skip("curl is not installed")
    bot = TokenBot(tmp_path)
    prepare_workbook(bot.workbook)
    try:
        bot.start()
        line = re.search(r"^Start a ticket:\s+(curl .*)$", bot.log_path.read_text(), re.MULTILINE).group(1)
        assert "banner-token" not in line
        line = line.replace("localhost", "127.0.0.1")
        done = subprocess.run(["sh", "-c", line + " -s -w ' %{http_code}'"], capture_output=True, text=True,
                              env=clean_env(RCABOT_API_TOKEN="banner-token"), timeout=ENDS_WITHIN)
        assert done.stdout.endswith(" 202"), done.stdout + done.stderr
    finally:
        bot.cleanup()


def test_sigterm_to_the_production_entry_flushes_and_says_how_many_rows(tmp_path):
    bot = ProcfileBot(tmp_path)
    prepare_workbook(bot.workbook, flush=3600)  # nothing is flushed before the shutdown
    try:
        bot.start()
        for ticket_id in ("RCA-1", "RCA-2"):
            assert requests.post(f"{bot.url}/tickets", json={"ticket_id": ticket_id}, timeout=5).status_code == 202
        assert read_tab(bot.workbook, "Tracker") == []
        assert bot.stop() == 0, bot.log_tail()
    finally:
        bot.cleanup()
    assert bot.log_path.read_text().rstrip().endswith("RCA Bot: flushed 2 rows, stopped"), bot.log_tail()
    assert [row[1] for row in read_tab(bot.workbook, "Tracker")] == ["RCA-1", "RCA-2"]


class TeamsBot(ProcfileBot):
    """The production entry with a Teams file of two teams, `home/a` and `home/b`."""

    def settings_env(self) -> dict[str, str]:
        return {**super().settings_env(), "RCABOT_TEAMS_FILE": str(self.home / "teams.csv"),
                "RCABOT_JOURNAL_DIR": str(self.home / "journal")}


def test_sigterm_with_a_teams_file_flushes_every_team_into_its_own_workbook(tmp_path):
    bot = TeamsBot(tmp_path)
    for team in ("a", "b"):
        prepare_workbook(tmp_path / team, flush=3600)  # nothing is flushed before the shutdown
    (tmp_path / "teams.csv").write_text("Team,Workbook,Space\na,a,\nb,b,\n")
    try:
        bot.start()
        for team, ticket_id in (("a", "RCA-1"), ("b", "RCA-2")):
            answer = requests.post(f"{bot.url}/teams/{team}/tickets", json={"ticket_id": ticket_id}, timeout=5)
            assert answer.status_code == 202
        assert bot.stop() == 0, bot.log_tail()
    finally:
        bot.cleanup()
    assert bot.log_path.read_text().rstrip().endswith("RCA Bot: flushed 2 rows, stopped"), bot.log_tail()
    assert [row[1] for row in read_tab(tmp_path / "a", "Tracker")] == ["RCA-1"]
    assert [row[1] for row in read_tab(tmp_path / "b", "Tracker")] == ["RCA-2"]
    assert sorted(p.name for p in (tmp_path / "journal").iterdir()) == ["a", "b"]


def test_sigkill_with_a_teams_file_and_a_start_again_brings_back_every_team_s_tickets(tmp_path):
    bot = TeamsBot(tmp_path)
    for team in ("a", "b"):
        prepare_workbook(tmp_path / team, flush=3600)
    (tmp_path / "teams.csv").write_text("Team,Workbook,Space\na,a,\nb,b,\n")
    try:
        bot.start()
        for team, ticket_id in (("a", "RCA-1"), ("b", "RCA-2")):
            assert requests.post(f"{bot.url}/teams/{team}/tickets", json={"ticket_id": ticket_id},
                                 timeout=5).status_code == 202
        bot.process.kill()  # SIGKILL: no shutdown flush; the journals' locks go with the process
        bot.process.wait(10)
        bot.start()
        for team, ticket_id, other in (("a", "RCA-1", "b"), ("b", "RCA-2", "a")):
            assert requests.get(f"{bot.url}/teams/{team}/tickets/{ticket_id}", timeout=5).json()["status"] == "Pinged"
            assert requests.get(f"{bot.url}/teams/{other}/tickets/{ticket_id}", timeout=5).status_code == 404
    finally:
        bot.cleanup()
