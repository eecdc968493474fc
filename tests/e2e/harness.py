"""The real bot as a subprocess that the end-to-end tests kill with SIGKILL and start again.

- `prepare_workbook`: a local workbook folder from the templates, with short timeouts and a team
  that is on shift whatever the real time of day.
- `BotProcess`: `python app.py` on that folder (PORT, RCABOT_WORKBOOK_DIR); `kill()` is SIGKILL,
  `start()` waits for GET /healthz = 200, `stop()` is SIGTERM (the shutdown flush runs).
  `ProcfileBot`: the Procfile's command (the production entry), killed and started alike.
- `Client`: the ticket system and the managers as HTTP clients: POST /tickets, GET /tickets/<id>,
  the local space's messages, and card clicks shaped as Google Chat sends them.
- `check_run`: what the workbook and the space must say afterwards, given the answers the
  clients got; returns the problems found (empty when all is well).

Run as `python -m tests.e2e.harness` (cwd: the repository) it is `python app.py` with one
*kill point* armed (RCABOT_E2E_KILL_AT): the process SIGKILLs itself at that exact place in the
code, the first time it gets there. This reaches windows a few microseconds wide that a kill
from outside would almost never hit.
"""
from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "config" / "workbook"
KILL_AT_ENV = "RCABOT_E2E_KILL_AT"
KILL_POINTS = ("after-tracker-append", "before-tracker-append", "after-ping-post", "before-notice-post")
HEALTHY_WITHIN = 20.0


# --- the workbook ---------------------------------------------------------------------------

def prepare_workbook(workbook: Path, *, timeout: int = 3, dnd: int = 1, flush: int = 1, reload: int = 5,
                     active: int = 4) -> list[dict[str, str]]:
    """Configuration and Managers from the templates, with short times; every manager works every
    shift (so the real time of day does not matter) and the first `active` are active. Returns the
    active managers as {"name", "chat_id"}."""
    workbook.mkdir(parents=True, exist_ok=True)
    config = _read_csv(TEMPLATES / "Configuration.csv")
    header, values = config[0], config[1]
    for name, value in (("TicketTimeout", timeout), ("ManagerDNDTime", dnd), ("TimeForDataFlush", flush),
                        ("TimeForManagerDataReload", reload), ("NumberOfItemsInBatch", 50)):
        values[header.index(name)] = str(value)
    _write_csv(workbook / "Configuration.csv", [header, values])
    managers = _read_csv(TEMPLATES / "Managers.csv")
    header = managers[0]
    team = []
    for n, row in enumerate(managers[1:]):
        row[header.index("Shift")] = "all"
        row[header.index("Active")] = "yes" if n < active else "no"
        if n < active:
            raw = row[header.index("GChat ID")].strip()
            team.append({"name": row[header.index("Name")],
                         "chat_id": raw if raw.startswith("users/") else f"users/{raw}"})
    assert len(team) >= 3, "the scenario needs at least 3 active managers"
    _write_csv(workbook / "Managers.csv", managers)
    return team


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.reader(f)]


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)


def read_tab(workbook: Path, tab: str) -> list[list[str]]:
    """A tab's rows after the header (blank lines dropped), as the CSV holds them."""
    return [row for row in _read_csv(workbook / f"{tab}.csv")[1:] if any(cell.strip() for cell in row)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subprocess_can_listen() -> str:
    """'' when a child process may listen on 127.0.0.1; else why not."""
    probe = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); s.close()"
    try:
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot run a subprocess: {exc}"
    return "" if done.returncode == 0 else f"a subprocess cannot listen on 127.0.0.1: {done.stderr.strip()[-300:]}"


# --- the process ----------------------------------------------------------------------------

class BotProcess:
    """`python app.py` on `home/workbook`; the workbook, with the journal (`.journal/`) and the local
    space (`.local-space.json`) inside it, outlives each process."""

    def __init__(self, home: Path):
        self.home = home
        self.workbook = home / "workbook"
        self.journal = self.workbook / ".journal"
        self.space_file = self.workbook / ".local-space.json"
        self.log_path = home / "bot.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.kills = 0
        self.start_seconds: list[float] = []
        self.limits = None  # run in the child before the bot starts (resource limits: a disk that fills)

    def start(self, kill_at: str = "") -> None:
        """Start the bot (with a kill point armed, if given) and wait until /healthz says 200."""
        assert self.process is None or self.process.poll() is not None, "the bot is already running"
        assert not kill_at or kill_at in KILL_POINTS, kill_at
        env = {}
        argv = [sys.executable, "app.py"]
        if kill_at:
            env[KILL_AT_ENV] = kill_at
            argv = [sys.executable, "-m", "tests.e2e.harness"]
        began = time.monotonic()
        self._launch(argv, env, kill_at)
        self._wait_healthy(began)

    def settings_env(self) -> dict[str, str]:
        """The deployment settings the process gets (a Google-mode subclass gives its own)."""
        return {"RCABOT_BACKEND": "local", "RCABOT_WORKBOOK_DIR": str(self.workbook),
                "RCABOT_JOURNAL_DIR": str(self.journal), "RCABOT_API_TOKEN": ""}

    def _launch(self, argv: list[str], extra_env: dict[str, str], note: str = "") -> None:
        # 127.0.0.1 whatever the backend: these processes are for this machine alone.
        env = {**os.environ, "PORT": str(self.port), "RCABOT_HOST": "127.0.0.1", **self.settings_env(),
               "PYTHONUNBUFFERED": "1"}
        env.pop(KILL_AT_ENV, None)
        env.update(extra_env)
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start {self.starts + 1}: {' '.join(argv[1:])} {note}\n".encode())
            self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=self.limits)
        self.starts += 1

    def _wait_healthy(self, began: float, ready=lambda: True, answering_will_do: bool = False) -> None:
        """Until /healthz answers 200 (or answers at all, degraded included, with `answering_will_do`)."""
        deadline = began + HEALTHY_WITHIN
        while time.monotonic() < deadline:
            try:
                code = requests.get(f"{self.url}/healthz", timeout=1).status_code if ready() else 0
                if code == 200 or (code and answering_will_do):
                    self.start_seconds.append(time.monotonic() - began)
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited at start-up (code {self.process.returncode})\n{self.log_tail()}")
            time.sleep(0.02)
        raise AssertionError(f"the bot was not {'answering' if answering_will_do else 'healthy'} within "
                             f"{HEALTHY_WITHIN:.0f} s\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no flush, no atexit, no goodbye."""
        assert self.alive(), f"the bot died on its own (code {self.process.returncode})\n{self.log_tail()}"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.kills += 1

    def restart(self, kill_at: str = "") -> None:
        if self.alive():
            self.kill()
        self.start(kill_at)

    def stop(self) -> int:
        """SIGTERM: app.py exits normally, so the shutdown flush runs. Returns the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)

    def wait_dead(self, within: float) -> int | None:
        """The exit code once the process has ended (a kill point fired), None if it still runs."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return self.process.returncode
            time.sleep(0.02)
        return None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cleanup(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        kept = [line for line in text.splitlines() if " INFO werkzeug: " not in line]  # not the access log
        return "--- bot log (tail) ---\n" + "\n".join(kept[-lines:])

    def space(self) -> dict:
        """The local space as the bot saved it (messages, threads by key, request ids)."""
        return json.loads(self.space_file.read_text(encoding="utf-8"))

    def journal_files(self) -> list[str]:
        return sorted(p.name for p in self.journal.glob("journal*.jsonl")) if self.journal.exists() else []


class ProcfileBot(BotProcess):
    """The production entry, started as Elastic Beanstalk starts it: the Procfile's `web:` command,
    run by a shell (`exec`, so that signals reach the server as they do under a process manager),
    with PORT set as the platform sets it; `python` is this virtualenv's."""

    def start(self, kill_at: str = "") -> None:
        assert not kill_at, "kill points are armed through app.py only"
        began = time.monotonic()
        self._launch(["sh", "-c", "exec " + procfile_command()], {"PATH": _with_this_python(os.environ["PATH"])})
        self._wait_healthy(began)


def procfile_command(process: str = "web") -> str:
    """The command the Procfile gives `process`."""
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise AssertionError(f"the Procfile has no {process}: line")


def _with_this_python(path: str) -> str:
    return os.pathsep.join([str(Path(sys.executable).parent), path])


# --- the clients ----------------------------------------------------------------------------

class Client:
    """HTTP as the ticket system and the managers use it. A request the bot never answered (it
    was killed) raises requests.RequestException; anything else unexpected fails the test."""

    def __init__(self, bot: BotProcess, team: list[dict[str, str]]):
        self.bot = bot
        self.names = {m["chat_id"]: m["name"] for m in team}

    def _post(self, path: str, body: dict):
        return requests.post(self.bot.url + path, json=body, timeout=10)

    def _get(self, path: str):
        return requests.get(self.bot.url + path, timeout=10)

    def start(self, ticket_id: str) -> tuple[int, dict]:
        answer = self._post("/tickets", {"ticket_id": ticket_id, "title": f"Incident {ticket_id}"})
        assert answer.status_code in (200, 202), f"POST /tickets {ticket_id}: {answer.status_code} {answer.text}"
        return answer.status_code, answer.json()

    def ticket(self, ticket_id: str) -> dict | None:
        answer = self._get(f"/tickets/{ticket_id}")
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, f"GET /tickets/{ticket_id}: {answer.status_code} {answer.text}"
        return answer.json()

    def status(self) -> dict:
        answer = self._get("/status")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def thread(self, thread: str) -> list[dict]:
        answer = self._get("/console/messages")
        assert answer.status_code == 200, answer.text
        return [m for m in answer.json()["messages"] if (m.get("thread") or {}).get("name") == thread]

    def click(self, message: dict, function: str, user: str) -> str:
        """Press `function` on `message` as `user`; the outcome read from the bot's answer."""
        action = buttons(message)[function]
        params = {p["key"]: p["value"] for p in action["parameters"]}
        event = {"type": "CARD_CLICKED", "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "user": {"name": user, "displayName": self.names.get(user, user), "type": "HUMAN"},
                 "space": {"name": "spaces/local", "type": "ROOM", "spaceType": "SPACE"},
                 "message": message, "action": {"actionMethodName": action["function"],
                                                "parameters": action["parameters"]},
                 "common": {"hostApp": "CHAT", "invokedFunction": action["function"], "parameters": params}}
        answer = self._post("/chat/events", event)
        assert answer.status_code == 200, f"click {function}: {answer.status_code} {answer.text}"
        return outcome_of(answer.json(), self.names.get(user, user))


def buttons(message: dict) -> dict[str, dict]:
    """{function: action} of the card's action buttons."""
    found = {}
    for card in message.get("cardsV2") or []:
        for section in card["card"].get("sections", []):
            for widget in section.get("widgets", []):
                for button in widget.get("buttonList", {}).get("buttons", []):
                    action = button.get("onClick", {}).get("action")
                    if action:
                        found[action["function"]] = action
    return found


def card_attempt(message: dict) -> int | None:
    action = buttons(message).get("accept")
    if action is None:
        return None
    value = {p["key"]: p["value"] for p in action["parameters"]}.get("attempt")
    return int(value) if value and value.isdigit() else None


def outcome_of(answer: dict, user_name: str) -> str:
    """accepted | taken | declined | completed | expired | closed | not_accepted | not_yours"""
    if answer.get("actionResponse", {}).get("type") == "UPDATE_MESSAGE":
        title = answer["cardsV2"][0]["card"]["header"]["title"]
        if title.startswith("Assigned to "):
            return "accepted" if title == f"Assigned to {user_name}" else "taken"
        for prefix, outcome in (("Declined by ", "declined"), ("Completed by ", "completed"),
                                ("This ping has expired", "expired"), ("No longer in the cycle", "closed")):
            if title.startswith(prefix):
                return outcome
        raise AssertionError(f"a card answer nobody expected: {title!r}")
    text = answer.get("text", "")
    assert answer.get("privateMessageViewer"), f"an answer nobody expected: {answer}"
    return "not_accepted" if "is not accepted yet" in text else "not_yours"


# --- what the clients were told -------------------------------------------------------------

@dataclass
class Said:
    """One request and what the bot answered (`outcome` None: it was killed before answering)."""

    seq: int
    ticket: str
    kind: str  # start | accept | decline | done
    outcome: str | None
    attempt: int | None = None
    user: str = ""
    body: dict = field(default_factory=dict)


# --- the checks -----------------------------------------------------------------------------

ENDS = {"Accepted", "Declined", "TimedOut"}
FOLLOWS = {None: {"Pinged", "Waiting"}, "Pinged": ENDS, "Declined": {"Pinged", "Waiting"},
           "TimedOut": {"Pinged", "Waiting"}, "Waiting": {"Pinged"}, "Accepted": {"Completed"},
           "Completed": set()}
ATTEMPT = re.compile(r"attempt (\d+)")


@dataclass
class Story:
    """One ticket's Tracker rows and its pings: attempt -> (index of Pinged row, index of the row that ended it)."""

    rows: list[list[str]]
    pinged: dict[int, int] = field(default_factory=dict)
    ended: dict[int, int] = field(default_factory=dict)

    @property
    def statuses(self) -> list[str]:
        return [row[3] for row in self.rows]


def stories(tracker: list[list[str]]) -> dict[str, Story]:
    by_ticket: dict[str, Story] = {}
    for row in tracker:
        story = by_ticket.setdefault(row[1], Story([]))
        story.rows.append(row)
    for story in by_ticket.values():
        open_attempt = None
        for i, row in enumerate(story.rows):
            if row[3] == "Pinged":
                match = ATTEMPT.search(row[5])
                open_attempt = int(match.group(1)) if match else -1
                story.pinged.setdefault(open_attempt, i)
            elif row[3] in ENDS and open_attempt is not None:
                story.ended.setdefault(open_attempt, i)
                open_attempt = None
    return by_ticket


def check_run(tracker: list[list[str]], ticket_state: list[list[str]], space: dict, said: list[Said],
              team: list[dict[str, str]], timeout: int) -> tuple[list[str], dict[str, Any]]:
    """Every answered start and click in the Tracker exactly once and in order, every cycle ended
    exactly once, nothing posted twice. Returns (problems, numbers)."""
    problems: list[str] = []
    active = {m["chat_id"] for m in team}
    by_ticket = stories(tracker)
    started = sorted({s.ticket for s in said if s.kind == "start" and s.outcome in ("started", "known")})

    # Two Waiting rows of one ticket may be alike (times are whole seconds and they carry no
    # attempt): a repeated one shows as Waiting after Waiting, or out of place, in the grammar check.
    duplicates = [row for row, n in Counter(tuple(r) for r in tracker if r[3] != "Waiting").items() if n > 1]
    for row in duplicates:
        problems.append(f"Tracker row written more than once: {list(row)}")
    for ticket_id in sorted(set(by_ticket) - set(started)):
        problems.append(f"{ticket_id}: in the Tracker but never started as far as the clients know")

    for ticket_id in started:
        story = by_ticket.get(ticket_id)
        if story is None:
            problems.append(f"{ticket_id}: started (answered) but not in the Tracker at all")
            continue
        problems += _check_grammar(ticket_id, story, active, timeout)
        problems += _check_answers(ticket_id, story, [s for s in said if s.ticket == ticket_id])

    problems += _check_one_ping_per_manager(tracker)
    if ticket_state:
        problems.append(f"TicketState is not empty at the end: {ticket_state}")

    # The space: one card per ping, at most one notice per wait.
    messages, threads = space["messages"], space["threads"]
    lost_notices = 0
    lost: list[str] = []
    for ticket_id in started:
        story = by_ticket.get(ticket_id)
        if story is None:
            continue
        thread = threads.get(f"rca-ticket-{ticket_id}")
        in_thread = [m for m in messages if (m.get("thread") or {}).get("name") == thread] if thread else []
        cards = [m for m in in_thread if m.get("cardsV2") and m["sender"]["type"] == "BOT"]
        notices = [m for m in in_thread if not m.get("cardsV2") and m["sender"]["type"] == "BOT"
                   and not m.get("privateMessageViewer")]
        pings, waits = story.statuses.count("Pinged"), story.statuses.count("Waiting")
        if len(cards) != pings:
            problems.append(f"{ticket_id}: {len(cards)} ping cards in its thread for {pings} Pinged rows "
                            f"({story.statuses})")
        if len({m["name"] for m in cards}) != len(cards):
            problems.append(f"{ticket_id}: a card is stored twice under one name")
        if len(notices) > waits:
            problems.append(f"{ticket_id}: {len(notices)} waiting notices for {waits} Waiting rows")
        lost_notices += max(0, waits - len(notices))
        if waits > len(notices):
            lost.append(f"{ticket_id}: {len(notices)} notices for {story.statuses}")

    answered = [s for s in said if s.outcome is not None]
    numbers = {
        "tickets": len(started),
        "tracker_rows": len(tracker),
        "answered": len(answered),
        "answered_by_kind": dict(Counter(f"{s.kind}:{s.outcome}" for s in answered)),
        "unanswered (killed in flight)": len(said) - len(answered),
        "pings": sum(s.statuses.count("Pinged") for s in by_ticket.values()),
        "timeouts": sum(s.statuses.count("TimedOut") for s in by_ticket.values()),
        "waits": sum(s.statuses.count("Waiting") for s in by_ticket.values()),
        "duplicate_rows": len(duplicates),
        "lost_notices": lost_notices,
        "lost_notice_tickets": lost,
    }
    return problems, numbers


def _check_grammar(ticket_id: str, story: Story, active: set[str], timeout: int) -> list[str]:
    problems = []
    previous = None
    for i, row in enumerate(story.rows):
        status = row[3]
        if status not in FOLLOWS.get(previous, set()):
            problems.append(f"{ticket_id}: {status} after {previous} (row {i}: {story.statuses})")
        if status == "Pinged" and row[4] not in active:
            problems.append(f"{ticket_id}: pinged {row[4]!r}, who is not an active manager")
        previous = status
    attempts = [int(m.group(1)) if (m := ATTEMPT.search(r[5])) else -1 for r in story.rows if r[3] == "Pinged"]
    if attempts != list(range(1, len(attempts) + 1)):
        problems.append(f"{ticket_id}: ping attempts {attempts}, not 1..{len(attempts)} once each")
    for attempt, end in story.ended.items():
        ping = story.rows[story.pinged[attempt]]
        if story.rows[end][4] != ping[4]:
            problems.append(f"{ticket_id}: ping {attempt} went to {ping[4]} but {story.rows[end][3]} names "
                            f"{story.rows[end][4]}")
        if story.rows[end][3] == "TimedOut":
            waited = _seconds(story.rows[end][0]) - _seconds(ping[0])
            if waited < timeout - 1:  # Tracker times are whole seconds
                problems.append(f"{ticket_id}: ping {attempt} timed out after {waited:.0f} s (< {timeout} s)")
    if story.statuses.count("Accepted") != 1:
        problems.append(f"{ticket_id}: accepted {story.statuses.count('Accepted')} times ({story.statuses})")
    if story.statuses.count("Completed") != 1 or story.statuses[-1] != "Completed":
        problems.append(f"{ticket_id}: the cycle did not end exactly once, last ({story.statuses})")
    return problems


def _check_answers(ticket_id: str, story: Story, said: list[Said]) -> list[str]:
    """Each answered request is the row it must be, and the rows come in the order of the answers."""
    problems = []
    unknown = {(s.kind, s.attempt) for s in said if s.outcome is None}
    placed: list[tuple[int, int, str]] = []  # (seq, row index, what)

    def end_of(attempt: int | None) -> int | None:
        return story.ended.get(attempt) if attempt is not None else None

    for s in said:
        what = f"{s.kind}({s.attempt}) by {s.user} answered {s.outcome}"
        if s.outcome == "started":
            first = story.rows[0]
            if s.body.get("status") == "Pinged":
                ok = first[3] == "Pinged" and ATTEMPT.search(first[5]) and \
                    ATTEMPT.search(first[5]).group(1) == "1" and first[4] == (s.body.get("manager") or {}).get("chat_id")
            else:
                ok = first[3] == "Waiting"
            if not ok:
                problems.append(f"{ticket_id}: answered start said {s.body.get('status')} "
                                f"{(s.body.get('manager') or {}).get('chat_id')}, the Tracker starts with {first}")
            placed.append((s.seq, 0, what))
        elif s.outcome in ("accepted", "declined"):
            end = end_of(s.attempt)
            want = "Accepted" if s.outcome == "accepted" else "Declined"
            if end is None or story.rows[end][3] != want or story.rows[end][4] != s.user:
                got = story.rows[end] if end is not None else "no end"
                problems.append(f"{ticket_id}: {what}, but ping {s.attempt} ended with {got} "
                                f"({story.statuses})")
            else:
                placed.append((s.seq, end, what))
        elif s.outcome == "completed":
            if "Completed" not in story.statuses:
                problems.append(f"{ticket_id}: {what}, but there is no Completed row ({story.statuses})")
            else:
                row = story.statuses.index("Completed")
                if story.rows[row][4] != s.user:
                    problems.append(f"{ticket_id}: {what}, but the Completed row names {story.rows[row][4]}")
                placed.append((s.seq, row, what))
        elif s.outcome == "expired":
            end = end_of(s.attempt)
            by_click = (("accept", s.attempt) in unknown or ("decline", s.attempt) in unknown)
            if end is None or (story.rows[end][3] != "TimedOut" and not by_click):
                got = story.rows[end] if end is not None else "no end"
                problems.append(f"{ticket_id}: {what}, but ping {s.attempt} ended with {got}: "
                                f"not a timeout ({story.statuses})")
        elif s.outcome == "closed" and "Completed" not in story.statuses:
            problems.append(f"{ticket_id}: {what}, but it never completed ({story.statuses})")
    ordered = sorted(placed)
    for (seq_a, row_a, what_a), (seq_b, row_b, what_b) in zip(ordered, ordered[1:]):
        if row_b < row_a:
            problems.append(f"{ticket_id}: '{what_b}' was answered after '{what_a}' but its row comes "
                            f"first ({row_b} < {row_a}; {story.statuses})")
    return problems


def _check_one_ping_per_manager(tracker: list[list[str]]) -> list[str]:
    """Walking the whole Tracker in order: a manager never holds two open pings."""
    problems = []
    holding: dict[str, str] = {}  # ticket -> manager holding its open ping
    for i, row in enumerate(tracker):
        ticket_id, status, manager = row[1], row[3], row[4]
        if status == "Pinged":
            other = [t for t, m in holding.items() if m == manager and t != ticket_id]
            if other:
                problems.append(f"Tracker row {i}: {manager} pinged for {ticket_id} while holding {other}")
            holding[ticket_id] = manager
        elif status in ENDS:
            holding.pop(ticket_id, None)
    return problems


def _seconds(stamp: str) -> float:
    return time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))


# --- python -m tests.e2e.harness: app.py with a kill point ----------------------------------

def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _arm(point: str) -> None:
    """Patch the one place where the process will SIGKILL itself (the first time it gets there)."""
    if point in ("after-tracker-append", "before-tracker-append"):
        from rcabot.workbook.local import LocalWorkbook
        append_rows = LocalWorkbook.append_rows

        def patched_append(self, tab, rows):
            if tab == "Tracker" and point == "before-tracker-append":
                _die()  # the state tabs are written, the Tracker rows are not
            append_rows(self, tab, rows)
            if tab == "Tracker" and point == "after-tracker-append":
                _die()  # the Tracker has the rows, the journal still holds them
        LocalWorkbook.append_rows = patched_append
    elif point == "after-ping-post":
        from rcabot.chat.local import LocalSpace
        create_message = LocalSpace.create_message

        def patched_create(self, space, message, *, thread_key="", request_id="", thread_name=""):
            new = bool(request_id) and request_id not in self._requests
            posted = create_message(self, space, message, thread_key=thread_key, request_id=request_id,
                                    thread_name=thread_name)
            if new and message.get("cardsV2"):
                _die()  # the card is in the space; the bot has not journaled that it is
            return posted
        LocalSpace.create_message = patched_create
    elif point == "before-notice-post":
        from rcabot.chat.local import LocalSpace
        create_message = LocalSpace.create_message

        def patched_notice(self, space, message, *, thread_key="", request_id="", thread_name=""):
            if request_id and request_id not in self._requests and not message.get("cardsV2"):
                _die()  # a waiting notice was decided (and journaled) but not posted
            return create_message(self, space, message, thread_key=thread_key, request_id=request_id,
                                  thread_name=thread_name)
        LocalSpace.create_message = patched_notice
    else:
        raise SystemExit(f"unknown kill point {point!r}; one of {', '.join(KILL_POINTS)}")


def main() -> None:
    import runpy

    point = os.environ.get(KILL_AT_ENV, "")
    if point:
        _arm(point)
    sys.argv = [str(ROOT / "app.py")]
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")


if __name__ == "__main__":
    main()
