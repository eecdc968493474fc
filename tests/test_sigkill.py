"""The real process, killed with SIGKILL right after it answered, and started again: every answered
start and click is in the Tracker exactly once, in order, and every cycle ends exactly once.

Local mode (CSV workbook, local space); a short flush interval; real time, a few seconds in all.
"""
from __future__ import annotations

import csv
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from rcabot.bootstrap import TEMPLATES

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bot:
    """`python app.py` as a subprocess on a workbook folder that outlives it."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.process = folder, free_port(), None
        self.url = f"http://127.0.0.1:{self.port}"
        self.kills = self.starts = 0

    def start(self) -> None:
        env = {**os.environ, "PORT": str(self.port), "RCABOT_BACKEND": "local",
               "RCABOT_WORKBOOK_DIR": str(self.folder / "workbook"), "RCABOT_API_TOKEN": ""}
        self.process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.starts += 1
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            assert self.process.poll() is None, "the bot exited at start-up"
            time.sleep(0.05)
        raise AssertionError("the bot did not become healthy in 20 s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.kills += 1

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(20)

    def post(self, path: str, body: dict):
        return requests.post(self.url + path, json=body, timeout=10)

    def get(self, path: str):
        return requests.get(self.url + path, timeout=10).json()


def card_for(bot: Bot, ticket_id: str) -> dict:
    thread = bot.get(f"/tickets/{ticket_id}")["thread"]
    return [m for m in bot.get("/console/messages")["messages"]
            if m["thread"]["name"] == thread and m.get("cardsV2")][-1]


def click(bot: Bot, message: dict, function: str, user: str):
    for section in message["cardsV2"][0]["card"]["sections"]:
        for widget in section["widgets"]:
            for button in widget.get("buttonList", {}).get("buttons", []):
                action = button["onClick"].get("action")
                if action and action["function"] == function:
                    event = {"type": "CARD_CLICKED", "user": {"name": user, "type": "HUMAN"},
                             "space": {"name": "spaces/local", "type": "ROOM"}, "message": message,
                             "action": {"actionMethodName": function, "parameters": action["parameters"]},
                             "common": {"invokedFunction": function,
                                        "parameters": {p["key"]: p["value"] for p in action["parameters"]}}}
                    return bot.post("/chat/events", event)
    raise AssertionError(f"no {function} button on the card")


def wait_for_ping(bot: Bot, ticket_id: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ticket = bot.get(f"/tickets/{ticket_id}")
        if ticket["status"] == "Pinged" and ticket["thread"]:
            if ticket["manager"]["name"] in card_for(bot, ticket_id).get("text", ""):  # "@Name": posted
                return ticket
        time.sleep(0.05)
    raise AssertionError(f"{ticket_id} was not pinged within 10 s")


@pytest.fixture
def bot(tmp_path):
    workbook = tmp_path / "workbook"
    workbook.mkdir()
    for template in TEMPLATES.glob("*.csv"):
        rows = list(csv.reader(template.open(newline="", encoding="utf-8")))
        if template.stem == "Configuration":
            header = rows[0]
            rows[1][header.index("TicketTimeout")] = "600"  # no timeouts: the test decides what happens
            rows[1][header.index("ManagerDNDTime")] = "0"  # everyone free again at once
            rows[1][header.index("TimeForDataFlush")] = "1"
        if template.stem == "Managers":  # everyone on every shift, so the real time of day does not matter
            header = rows[0]
            for row in rows[1:]:
                row[header.index("Shift")], row[header.index("Active")] = "all", "yes"
        with open(workbook / template.name, "w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows(rows)
    bot = Bot(tmp_path)
    bot.start()
    yield bot
    if bot.process.poll() is None:
        bot.process.kill()


def test_sigkill_after_every_answer_loses_nothing_and_posts_nothing_twice(bot):
    rng = random.Random(7)
    expected: dict[str, list[str]] = {}
    for n in range(6):
        ticket_id = f"RCA-{n}"
        assert bot.post("/tickets", {"ticket_id": ticket_id}).status_code == 202
        expected[ticket_id] = ["Pinged"]
        if rng.random() < 0.5:
            bot.kill()
            bot.start()
        ticket = wait_for_ping(bot, ticket_id)
        if rng.random() < 0.5:
            assert click(bot, card_for(bot, ticket_id), "decline", ticket["manager"]["chat_id"]).status_code == 200
            expected[ticket_id] += ["Declined", "Pinged"]
            bot.kill()
            bot.start()
            ticket = wait_for_ping(bot, ticket_id)
        assert click(bot, card_for(bot, ticket_id), "accept", ticket["manager"]["chat_id"]).status_code == 200
        expected[ticket_id].append("Accepted")
        bot.kill()  # right after the answer: before any flush
        bot.start()
        assert bot.get(f"/tickets/{ticket_id}")["status"] == "Accepted"
        done = click(bot, card_for(bot, ticket_id), "done", ticket["manager"]["chat_id"])
        assert done.status_code == 200
        expected[ticket_id].append("Completed")
        if rng.random() < 0.5:
            bot.kill()
            bot.start()
    bot.stop()  # a clean stop flushes

    rows = list(csv.reader((bot.folder / "workbook" / "Tracker.csv").open(newline="", encoding="utf-8")))[1:]
    for ticket_id, story in expected.items():
        assert [r[3] for r in rows if r[1] == ticket_id] == story, f"{ticket_id} after {bot.kills} kills"
    ticket_state = list(csv.reader((bot.folder / "workbook" / "TicketState.csv").open(newline="", encoding="utf-8")))
    assert ticket_state[1:] == []
    space = json.loads((bot.folder / "workbook" / ".local-space.json").read_text(encoding="utf-8"))
    cards = [m for m in space["messages"] if m.get("cardsV2")]
    pings = sum(story.count("Pinged") for story in expected.values())
    assert len(cards) == pings, "a ping was posted twice (or not at all)"
    assert bot.kills >= 6
    answered = sum(len(story) for story in expected.values())
    print(f"\n{bot.kills} SIGKILLs, {bot.starts} starts, {len(expected)} tickets, {answered} events, 0 lost")

