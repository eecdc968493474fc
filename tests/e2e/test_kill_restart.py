"""The real bot process killed with SIGKILL mid-cycle and started again, checked ticket by ticket.

`python app.py` runs on a CSV workbook with a 3 s TicketTimeout, a 1 s flush and four managers on
shift at any hour. Clients start tickets, click as the pinged managers (and as others, and on
stale cards), let pings time out in real time, and the process is SIGKILLed at random moments:
right after an answered start or click, in the middle of a burst of concurrent requests, at an
idle moment while timers, deliveries and flushes run. Every answer the clients got is logged.
At the end every ticket is accepted and done, the bot is stopped with SIGTERM (the shutdown flush
runs), and the Tracker, TicketState and the local space must show that nothing answered was lost,
nothing was written or posted twice, and every cycle ended exactly once (see harness.check_run).
The same scenario runs under the Procfile's command (the production entry, started as Elastic
Beanstalk starts it): one process with no master to fork another, so it is SIGKILLed and started
again as the platform restarts it.

Then *kill points*: the process SIGKILLs itself at one exact place (between the Tracker append and
the journal's discard, between posting a card and journaling it, before a waiting notice is
posted), the windows a kill from outside almost never hits.

Seeded (SEED), but real time decides what is open when, so two runs differ in detail. The whole
module takes about 30 s.
"""
from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter

import pytest
import requests

from tests.e2e.harness import BotProcess, Client, Said, buttons, card_attempt, check_run, read_tab

SEED = 20261122
TIMEOUT = 3  # TicketTimeout, seconds of real time
TICKETS = 10
KILLS, PLAY_SECONDS = 8, 7  # app.py: SIGKILLs, and at least this long
PROCFILE_TICKETS, PROCFILE_KILLS, PROCFILE_PLAY_SECONDS = 6, 4, 4


class Scenario:
    """The clients of one bot: the ticket system and the managers, and the log of what they were told."""

    def __init__(self, bot: BotProcess, team: list[dict[str, str]], rng: random.Random, tickets: int = 10):
        self.bot, self.team, self.rng, self.tickets = bot, team, rng, tickets
        self.client = Client(bot, team)
        self.said: list[Said] = []
        self.kills: Counter[str] = Counter()
        self.open: list[str] = []  # started, not seen completed
        self.unknown_starts: list[str] = []
        self.next_ticket = 0
        self._seq = itertools.count()
        self._lock = threading.Lock()

    # --- requests, each logged with its answer (None: killed before it answered) ---------

    def note(self, ticket_id: str, kind: str, outcome: str | None, **details) -> None:
        with self._lock:
            self.said.append(Said(next(self._seq), ticket_id, kind, outcome, **details))

    def new_ticket(self) -> str:
        self.next_ticket += 1
        return f"RCA-{self.next_ticket}"

    def start(self, ticket_id: str) -> str | None:
        try:
            code, body = self.client.start(ticket_id)
        except requests.RequestException:
            self.note(ticket_id, "start", None)
            with self._lock:
                self.unknown_starts.append(ticket_id)
            return None
        outcome = "started" if code == 202 else "known"
        self.note(ticket_id, "start", outcome, body=body)
        with self._lock:
            if ticket_id not in self.open:
                self.open.append(ticket_id)
        return outcome

    def click(self, ticket_id: str, message: dict, function: str, user: str) -> str | None:
        attempt = card_attempt(message) if function != "done" else None
        try:
            outcome = self.client.click(message, function, user)
        except requests.RequestException:
            outcome = None
        self.note(ticket_id, function, outcome, attempt=attempt, user=user)
        return outcome

    # --- the process ----------------------------------------------------------------------

    def kill_restart(self, why: str) -> None:
        self.bot.kill()
        self.kills[why] += 1
        self.bot.start()
        self.resolve_starts()

    def resolve_starts(self) -> None:
        """A start killed in flight is sent again: 202, it starts now; 200, the killed one had started it."""
        with self._lock:
            pending, self.unknown_starts = self.unknown_starts, []
        for ticket_id in pending:
            self.start(ticket_id)

    # --- what the managers see --------------------------------------------------------------

    def cards(self, view: dict) -> list[dict]:
        return [m for m in self.client.thread(view["thread"]) if m.get("cardsV2")] if view["thread"] else []

    def ping_card(self, view: dict) -> dict | None:
        """The card of the ticket's open ping, once it is posted."""
        cards = [m for m in self.cards(view) if card_attempt(m) == view["attempts"]]
        return cards[-1] if cards else None

    def done_card(self, view: dict) -> dict | None:
        cards = [m for m in self.cards(view) if "done" in buttons(m)]
        return cards[-1] if cards else None

    def others(self, user: str) -> list[str]:
        return [m["chat_id"] for m in self.team if m["chat_id"] != user]

    def act(self, ticket_id: str, r: float) -> bool:
        """One manager's move on the ticket; True when the bot answered a click that changes it."""
        view = self.client.ticket(ticket_id)
        if view is None or view["status"] == "Completed":
            with self._lock:
                self.open.remove(ticket_id)
            return False
        if view["status"] == "Pinged":
            card = self.ping_card(view)
            if card is None:
                return False  # not posted yet
            manager = view["manager"]["chat_id"]
            if r < 0.35:
                return self.click(ticket_id, card, "accept", manager) is not None
            if r < 0.62:
                return self.click(ticket_id, card, "decline", manager) is not None
            if r < 0.70:  # someone else presses Accept: nothing changes
                self.click(ticket_id, card, "accept", self.rng.choice(self.others(manager)))
                return False
            if r < 0.80:  # a press on an older card whose ping timed out: "expired"
                stale = [m for m in self.cards(view) if (card_attempt(m) or view["attempts"]) < view["attempts"]]
                if stale:
                    self.click(ticket_id, stale[0], self.rng.choice(["accept", "decline"]),
                               self.rng.choice(self.team)["chat_id"])
            return False  # nobody answers: it times out
        if view["status"] == "Accepted":
            manager = view["manager"]["chat_id"]
            card = self.done_card(view)
            if card is None:  # the accept's answer never reached the space (killed): accept again
                card = self.ping_card(view)
                return card is not None and self.click(ticket_id, card, "accept", manager) is not None
            if r < 0.6:
                return self.click(ticket_id, card, "done", manager) is not None
            if r < 0.68:
                self.click(ticket_id, card, "done", self.rng.choice(self.others(manager)))
        return False

    def burst(self) -> None:
        """Starts and clicks sent together, and SIGKILL while they are in flight."""
        moves = []
        for _ in range(self.rng.randint(1, 2)):
            if self.next_ticket < self.tickets:
                moves.append(lambda ticket_id=self.new_ticket(): self.start(ticket_id))
        for ticket_id in self.rng.sample(self.open, min(2, len(self.open))):
            view = self.client.ticket(ticket_id)
            card = self.ping_card(view) if view and view["status"] == "Pinged" else None
            if card is not None:
                function = self.rng.choice(["accept", "decline"])
                manager = view["manager"]["chat_id"]
                moves.append(lambda t=ticket_id, c=card, f=function, m=manager: self.click(t, c, f, m))
        threads = [threading.Thread(target=move) for move in moves]
        for thread in threads:
            thread.start()
        time.sleep(self.rng.uniform(0, 0.03))
        self.bot.kill()
        self.kills["mid-burst"] += 1
        for thread in threads:
            thread.join(15)
        self.bot.start()
        self.resolve_starts()

    # --- the run --------------------------------------------------------------------------

    def play(self, kills: int, at_least: float, at_most: float = 30) -> None:
        """Random moves, `kills` SIGKILLs among them, for at least `at_least` seconds of real time."""
        began = time.monotonic()
        while True:
            elapsed = time.monotonic() - began
            done_killing = sum(self.kills.values()) >= kills
            if elapsed > at_most or (elapsed >= at_least and done_killing):
                break
            may_kill = not done_killing
            moves = {"start": 3 if self.next_ticket < self.tickets else 0, "act": 8 if self.open else 0,
                     "burst": 1.2 if may_kill else 0, "idle kill": 0.8 if may_kill else 0, "wait": 1}
            move = self.rng.choices(list(moves), weights=list(moves.values()))[0]
            r = [self.rng.random() for _ in range(3)]
            if move == "start":
                if self.start(self.new_ticket()) and may_kill and r[0] < 0.3:
                    self.kill_restart("right after an answered start")
            elif move == "act":
                if self.act(self.open[int(r[0] * len(self.open))], r[1]) and may_kill and r[2] < 0.35:
                    self.kill_restart("right after an answered click")
            elif move == "burst":
                self.burst()
            elif move == "idle kill":
                time.sleep(1.5 * r[0])  # timers, deliveries and flushes run meanwhile
                self.kill_restart("at a random moment")
            else:
                time.sleep(0.5 * r[0])
            time.sleep(0.03)
        while self.next_ticket < self.tickets:
            self.start(self.new_ticket())

    def finish(self, within: float = 40) -> None:
        """Accept and close every ticket, then wait until nothing is queued for the space."""
        deadline = time.monotonic() + within
        while self.open:
            assert time.monotonic() < deadline, (
                f"still open after {within:.0f} s: {[self.client.ticket(t) for t in self.open]}\n"
                f"{self.client.status()}\n{self.bot.log_tail()}")
            for ticket_id in list(self.open):
                view = self.client.ticket(ticket_id)
                if view is None or view["status"] == "Completed":
                    self.open.remove(ticket_id)
                elif view["status"] == "Pinged" and (card := self.ping_card(view)):
                    self.click(ticket_id, card, "accept", view["manager"]["chat_id"])
                elif view["status"] == "Accepted":
                    card = self.done_card(view)
                    if card is not None:
                        self.click(ticket_id, card, "done", view["manager"]["chat_id"])
                    elif card := self.ping_card(view):
                        self.click(ticket_id, card, "accept", view["manager"]["chat_id"])
            time.sleep(0.1)
        while self.client.status()["queued"]["messages"]:
            assert time.monotonic() < deadline, "messages still queued for the space"
            time.sleep(0.05)

    def stop_and_check(self, again: bool = True, **expect) -> dict:
        """SIGTERM, then the checks on what the process left behind (`again`: and that one more
        start and stop changes nothing); `expect`: numbers that must be so. Returns the numbers."""
        assert self.bot.stop() == 0, self.bot.log_tail()
        tracker = read_tab(self.bot.workbook, "Tracker")
        problems, numbers = check_run(tracker, read_tab(self.bot.workbook, "TicketState"), self.bot.space(),
                                      self.said, self.team, TIMEOUT)
        if self.bot.journal_files():
            problems.append(f"the journal is not empty after a clean stop: {self.bot.journal_files()}")
        if again:  # with nothing to do, a start and a clean stop replay nothing and write nothing
            self.bot.start()
            assert self.bot.stop() == 0, self.bot.log_tail()
            if read_tab(self.bot.workbook, "Tracker") != tracker:
                problems.append("a further start and stop changed the Tracker")
        for name, value in expect.items():
            if numbers.get(name) != value:
                problems.append(f"{name} is {numbers.get(name)}, expected {value}")
        numbers.update(kills=dict(self.kills), process_starts=self.bot.starts, sigkills=self.bot.kills)
        assert not problems, "\n".join([f"{len(problems)} problems after {self.bot.kills} SIGKILLs:"] + problems
                                       + [f"numbers: {numbers}", self.bot.log_tail(20)])
        return numbers


@pytest.mark.parametrize("server, tickets, kills, play_seconds", [
    ("app.py", TICKETS, KILLS, PLAY_SECONDS), ("Procfile", PROCFILE_TICKETS, PROCFILE_KILLS, PROCFILE_PLAY_SECONDS)])
def test_random_sigkills_mid_cycle_lose_nothing_and_duplicate_nothing(make_bot, server, tickets, kills, play_seconds):
    """app.py, and the Procfile's command: the whole process is SIGKILLed and started again."""
    began = time.monotonic()
    bot, team = make_bot(timeout=TIMEOUT, dnd=1, flush=1, reload=5, active=4, server=server)
    bot.start()
    scenario = Scenario(bot, team, random.Random(SEED), tickets)
    scenario.play(kills, play_seconds)
    # Then nobody answers for a while, so that pings lapse: in play they rarely do, now that the
    # space takes a write a second and a card is often not posted yet when its manager looks.
    time.sleep(TIMEOUT + 2)
    scenario.finish()
    numbers = scenario.stop_and_check(duplicate_rows=0)
    assert bot.kills >= kills, f"only {bot.kills} SIGKILLs in the time allowed"
    if server == "app.py":  # long enough that some pings lapse and some are declined
        assert numbers["timeouts"] > 0 and numbers["answered_by_kind"].get("decline:declined"), numbers
    print(f"\nkill/restart e2e, {server} (seed {SEED}): {bot.kills} SIGKILLs survived {dict(scenario.kills)}; "
          f"{bot.starts} starts (mean {sum(bot.start_seconds) / len(bot.start_seconds):.2f} s to healthy); "
          f"{numbers['tickets']} tickets, {numbers['answered']} answered requests {numbers['answered_by_kind']}, "
          f"{numbers['unanswered (killed in flight)']} killed in flight; Tracker {numbers['tracker_rows']} rows: "
          f"{numbers['pings']} pings, {numbers['timeouts']} timeouts, {numbers['waits']} waits; answered events "
          f"lost 0, duplicated 0; waiting notices lost {numbers['lost_notices']}; "
          f"{time.monotonic() - began:.1f} s")


# --- kill points: the process SIGKILLs itself at one exact place -------------------------------

def _killed_at(point: str, bot: BotProcess, scenario: Scenario, trigger) -> None:
    bot.start(kill_at=point)
    trigger()
    code = bot.wait_dead(10)
    assert code == -9, f"the kill point {point} was not reached (exit code {code})\n{bot.log_tail()}"
    bot.kills += 1
    scenario.kills[point] += 1
    bot.start()
    scenario.resolve_starts()


@pytest.mark.parametrize("point", ["before-tracker-append", "after-tracker-append", "after-ping-post"])
def test_a_kill_inside_a_flush_or_a_delivery_loses_nothing_and_duplicates_nothing(make_bot, point):
    """before-tracker-append: the state tabs are written, the Tracker rows are not.
    after-tracker-append: the Tracker took the rows; the journal, not yet told, still holds them.
    after-ping-post: the card is in the space; the bot had not journaled that it was posted."""
    bot, team = make_bot(timeout=TIMEOUT, dnd=1, flush=1, reload=300, active=4)
    scenario = Scenario(bot, team, random.Random(SEED))
    _killed_at(point, bot, scenario, lambda: scenario.start(scenario.new_ticket()))
    scenario.start(scenario.new_ticket())
    scenario.finish()
    scenario.stop_and_check(again=False)


def test_a_kill_before_a_waiting_notice_is_posted_does_not_lose_the_notice(make_bot):
    """Three managers, four tickets: the fourth waits, and the process dies after it decided (and
    journaled) the ticket's Waiting notice but before posting it. README: "A ticket that has to
    wait gets one message in its thread and a Tracker `Waiting` row"."""
    # 10 s to answer: the space takes a write a second, so the notice comes 3 s after the first ping;
    # with TIMEOUT that ping would lapse by the restart, and the ticket stop waiting before its notice.
    bot, team = make_bot(timeout=10, dnd=1, flush=1, reload=300, active=3)
    scenario = Scenario(bot, team, random.Random(SEED))

    def four_tickets():
        for _ in range(4):
            scenario.start(scenario.new_ticket())
    _killed_at("before-notice-post", bot, scenario, four_tickets)
    # The notice is posted before the managers answer, or it would be dropped as stale (the ticket
    # no longer waits).
    deadline = time.monotonic() + 10
    while scenario.client.status()["queued"]["messages"]:
        assert time.monotonic() < deadline, "messages still queued for the space"
        time.sleep(0.05)
    scenario.finish()
    numbers = scenario.stop_and_check(again=False, lost_notices=0)
    assert numbers["waits"] >= 1


# --- the checks themselves: a lost, a repeated, a reordered row are caught --------------------

def _clean_run():
    team = [{"name": "Ada Park", "chat_id": "users/1001"}, {"name": "Bruno Silva", "chat_id": "users/1002"},
            {"name": "Chen Wei", "chat_id": "users/1003"}]
    tracker = [["2026-11-22T10:00:00Z", "RCA-1", "Ada Park", "Pinged", "users/1001", "shift 1, attempt 1"],
               ["2026-11-22T10:00:01Z", "RCA-1", "Ada Park", "Declined", "users/1001", ""],
               ["2026-11-22T10:00:01Z", "RCA-1", "Bruno Silva", "Pinged", "users/1002", "shift 1, attempt 2"],
               ["2026-11-22T10:00:04Z", "RCA-1", "Bruno Silva", "TimedOut", "users/1002", ""],
               ["2026-11-22T10:00:04Z", "RCA-1", "", "Waiting", "", "shift 1"],
               ["2026-11-22T10:00:05Z", "RCA-1", "Chen Wei", "Pinged", "users/1003", "shift 1, attempt 3"],
               ["2026-11-22T10:00:06Z", "RCA-1", "Chen Wei", "Accepted", "users/1003", ""],
               ["2026-11-22T10:00:07Z", "RCA-1", "Chen Wei", "Completed", "users/1003", ""]]
    said = [Said(0, "RCA-1", "start", "started", body={"status": "Pinged", "manager": {"chat_id": "users/1001"}}),
            Said(1, "RCA-1", "decline", "declined", attempt=1, user="users/1001"),
            Said(2, "RCA-1", "accept", "expired", attempt=2, user="users/1002"),
            Said(3, "RCA-1", "accept", "accepted", attempt=3, user="users/1003"),
            Said(4, "RCA-1", "done", "completed", user="users/1003")]
    thread = {"name": "spaces/local/threads/t1"}
    bot = {"type": "BOT"}
    messages = [{"name": f"m{n}", "thread": thread, "sender": bot, "cardsV2": [{}], "text": ""} for n in (1, 2, 4)]
    messages.insert(2, {"name": "m3", "thread": thread, "sender": bot, "cardsV2": [], "text": "waits"})
    space = {"messages": messages, "threads": {"rca-ticket-RCA-1": thread["name"]}}
    return tracker, said, space, team


def test_the_checks_pass_a_clean_run_and_catch_lost_repeated_and_reordered_rows():
    tracker, said, space, team = _clean_run()
    assert check_run(tracker, [], space, said, team, TIMEOUT)[0] == []

    def problems(tracker=tracker, ticket_state=(), space=space, said=said):
        return check_run(tracker, list(ticket_state), space, said, team, TIMEOUT)[0]

    assert problems(tracker=tracker[:1] + tracker[2:])  # the answered Decline lost
    assert problems(tracker=tracker[:7])  # the Done lost
    assert problems(tracker=tracker + tracker[-1:])  # completed twice
    assert problems(tracker=tracker[:2] + tracker[1:])  # a row replayed twice
    assert problems(tracker=tracker[:3] + tracker[5:6] + tracker[3:5] + tracker[6:])  # out of order
    assert problems(tracker=[r[:3] + ["TimedOut"] + r[4:] if i == 1 else r for i, r in enumerate(tracker)])
    assert problems(tracker=[r[:5] + ["shift 1, attempt 2"] if i == 5 else r for i, r in enumerate(tracker)])
    assert problems(said=said + [Said(5, "RCA-2", "start", "started", body={"status": "Waiting"})])
    assert problems(ticket_state=[["RCA-1", "", "", "Accepted"]])
    twice = {**space, "messages": space["messages"] + [dict(space["messages"][0], name="m9")]}
    assert problems(space=twice)  # a ping posted twice
    notices = {**space, "messages": space["messages"] + [dict(space["messages"][2], name="m9")]}
    assert problems(space=notices)  # a waiting notice posted twice
    lost = {**space, "messages": [m for m in space["messages"] if m["name"] != "m3"]}
    assert problems(space=lost) == [] and check_run(tracker, [], lost, said, team, TIMEOUT)[1]["lost_notices"] == 1


def test_the_checks_allow_two_alike_waiting_rows_but_not_a_replayed_one():
    team = _clean_run()[3]
    at = "2026-11-22T10:00:00Z"
    tracker = [[at, "RCA-1", "", "Waiting", "", "shift 1"],
               [at, "RCA-1", "Ada Park", "Pinged", "users/1001", "shift 1, attempt 1"],
               [at, "RCA-1", "Ada Park", "Declined", "users/1001", ""],
               [at, "RCA-1", "", "Waiting", "", "shift 1"],  # alike the first, and rightly so
               [at, "RCA-1", "Bruno Silva", "Pinged", "users/1002", "shift 1, attempt 2"],
               [at, "RCA-1", "Bruno Silva", "Accepted", "users/1002", ""],
               [at, "RCA-1", "Bruno Silva", "Completed", "users/1002", ""]]
    space = {"messages": [], "threads": {}}
    said = [Said(0, "RCA-1", "start", "started", body={"status": "Waiting"})]
    problems = check_run(tracker, [], space, said, team, TIMEOUT)[0]
    assert not [p for p in problems if "ping cards" not in p and "notices" not in p]
    replayed = tracker[:5] + tracker[3:4] + tracker[5:]
    assert check_run(replayed, [], space, said, team, TIMEOUT)[0]
