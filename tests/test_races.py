"""Races through the HTTP layer, each run many times on a fresh bot with real threads released
together by a barrier: every race has exactly one outcome, the Tracker tells one legal story, and
the answer each side got agrees with what happened.

Each iteration gets its own workbook, journal and local space, so no iteration leans on what the
previous one left. The clock is a FakeClock moved only between races; the scheduler is the
recording one, which runs kicked jobs (deliver, flush) in the kicking thread, so those run
concurrently too. Nothing here sleeps: threads meet at barriers and are joined.

Every race is run three ways (see `raced`): in a fixed order both ways round, so that both
branches of each check run whatever the scheduler does; released together at the start of the
request; and, in addition, met again just before the bot's lock. Run with -s to see how often
each side won each way (CPython, left alone, runs a given race the same way nearly every time:
hence the short GIL switch interval during races, and the meeting at the lock).
"""
from __future__ import annotations

import csv
import os
import random
import sys
import threading
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from rcabot import bootstrap
from rcabot.web import create_app
from tests.conftest import Space
from tests.conftest import drain
from tests.fakes.clock import FakeClock
from tests.fakes.jobs import RecordingJobs

ITERATIONS = 50
SWITCH_INTERVAL = 1e-6
YIELDS = 16
SHUFFLE = random.Random(20261123)  # how many times each racer yields after meeting at the lock
# What may follow each Tracker status for one ticket ("" is the start of its story).
LEGAL_NEXT = {"": {"Pinged", "Waiting"}, "Pinged": {"Accepted", "Declined", "TimedOut"},
              "Declined": {"Pinged", "Waiting"}, "TimedOut": {"Pinged", "Waiting"}, "Waiting": {"Pinged"},
              "Accepted": {"Completed"}, "Completed": set()}
EXPIRED = "This ping has expired"
TEMPLATES = Path(__file__).resolve().parent.parent / "config" / "workbook"


# --- a fresh bot per iteration -----------------------------------------------------------------

@dataclass
class World:
    app: object
    bot: object
    clock: FakeClock
    jobs: RecordingJobs
    workbook_dir: Path

    def space(self) -> Space:
        """A Space with its own test client: one per thread, as Google's requests each come alone."""
        return Space(self.app.test_client(), self.bot)

    def post(self, ticket_id: str):
        return self.app.test_client().post("/tickets", json={"ticket_id": ticket_id, "title": "Race"})

    def tracker(self, ticket_id: str | None = None) -> list[list[str]]:
        """Tracker rows: what Tracker.csv holds, then what still waits in the bot's buffer for the
        next flush (a flush moves rows from one to the other, in order, each once). Call only
        when no thread is running."""
        with open(self.workbook_dir / "Tracker.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))[1:] + [list(r) for r in self.bot.tracker._rows]
        return [r for r in rows if ticket_id is None or r[1] == ticket_id]

    def story(self, ticket_id: str) -> list[str]:
        return [r[3] for r in self.tracker(ticket_id)]

    def messages(self, ticket_id: str) -> list[dict]:
        self.bot.deliver()
        thread = self.bot.ticket(ticket_id)["thread"]
        return [m for m in self.bot.chat.messages() if m["thread"]["name"] == thread]

    def journal_entries(self) -> int:
        return sum(1 for _ in self.bot.journal.entries())

    def set_active(self, chat_id: str, active: str) -> None:
        path = self.workbook_dir / "Managers.csv"
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        gchat, column = rows[0].index("GChat ID"), rows[0].index("Active")
        for row in rows[1:]:
            if row[gchat].removeprefix("users/") == chat_id.removeprefix("users/"):
                row[column] = active
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)


@pytest.fixture
def world(tmp_path):
    """make(managers=None, batch=None): a fresh bot on its own workbook, journal and local space.
    `managers` (rows of the Managers tab) and `batch` (NumberOfItemsInBatch) replace the
    templates' before it boots. One Flask app serves them all (building its routes is most of
    what create_app costs); each new bot takes the previous one's place in it."""
    made: list[World] = []

    def make(managers: list[list[str]] | None = None, batch: int | None = None) -> World:
        for old in made:
            old.bot.journal.close()  # one open journal at a time, however many iterations
        run = tmp_path / f"run-{len(made)}"
        workbook_dir = run / "workbook"
        workbook_dir.mkdir(parents=True)
        if managers is not None:
            with open(workbook_dir / "Managers.csv", "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows([["Name", "Email", "GChat ID", "Shift", "Active", "Notes"]] + managers)
        if batch is not None:
            with open(TEMPLATES / "Configuration.csv", newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
            rows[1][rows[0].index("NumberOfItemsInBatch")] = str(batch)
            with open(workbook_dir / "Configuration.csv", "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows(rows)
        clock = FakeClock()
        jobs = RecordingJobs(clock)
        if not made:
            app = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock})
        else:
            app = made[0].app
            settings = replace(app.extensions["rcabot.settings"], workbook_dir=str(workbook_dir),
                               journal_dir=str(run / "journal"))
            app.extensions["rcabot"] = bootstrap.build(settings, jobs=jobs, clock=clock)
        made.append(World(app, app.extensions["rcabot"], clock, jobs, workbook_dir))
        return made[-1]

    yield make
    for old in made:
        old.bot.journal.close()


class MeetAtTheLock:
    """Stands in for the bot's RLock during one race: each racing thread, the first time it comes
    for the lock, waits there until every racer has come, so that all go for the real lock at the
    same instant (having run the HTTP layer, parsing and all, side by side). Which one gets it is
    then up to the scheduler, as in production; which one got it is what each check finds out."""

    def __init__(self, lock, parties: int):
        self.lock, self.barrier = lock, threading.Barrier(parties, timeout=10)
        self.arrived: set[int] = set()
        self.guard = threading.Lock()

    def __enter__(self):
        with self.guard:
            first = threading.get_ident() not in self.arrived
            self.arrived.add(threading.get_ident())
            yields = SHUFFLE.randrange(YIELDS)
        if first:
            self.barrier.wait()
            for _ in range(yields):
                os.sched_yield()  # give the GIL away a few times, so that the last to come is not always first in
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


def race(*actions, meet_at=None):
    """Run the actions in threads released at the same instant; their results, in order.
    With `meet_at` (a bot), the threads meet again just before its lock (see MeetAtTheLock).
    An exception in any thread is raised here, after all have ended."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)
    errors: list[BaseException] = []

    def run(i, action):
        try:
            barrier.wait()
            results[i] = action()
        except BaseException as exc:  # noqa: BLE001 - carried to the main thread
            errors.append(exc)

    if meet_at is not None:
        real, meet_at._lock = meet_at._lock, MeetAtTheLock(meet_at._lock, len(actions))
    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    # The GIL hands over every few microseconds instead of every 5 ms, so that threads interleave
    # at many more points (otherwise CPython runs each race the same way every time).
    switch = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
        if meet_at is not None:
            meet_at._lock = real
    if errors:
        raise errors[0]
    return results


def mode(n: int) -> str:
    return "in order" if n < 2 else ("met at the lock" if n % 2 else "released together")


def tally(seen: Counter) -> str:
    """How each way of running went, e.g. `released together: accepted 3, timed out 46`."""
    modes = sorted({m for m, _ in seen}, key=["in order", "released together", "met at the lock"].index)
    return "; ".join(f"{m}: " + ", ".join(f"{o} {k}" for (mm, o), k in sorted(seen.items()) if mm == m)
                     for m in modes)


def raced(n: int, bot, *actions):
    """Iteration n's run: 0 and 1 fix the order (first then second, second then first) so that
    both branches of a check run whatever the races do; then races, alternately released at the
    start of the request only and also met at the bot's lock."""
    if n == 0:
        return in_order(*actions)
    if n == 1:
        return in_order(*actions[::-1])[::-1]
    return race(*actions, meet_at=bot if n % 2 else None)


def in_order(*actions):
    """The same actions one after the other: each race's check must also hold for both orders."""
    return [action() for action in actions]


def assert_legal(story: list[str], ticket_id: str) -> None:
    before = ""
    for status in story:
        assert status in LEGAL_NEXT[before], f"{ticket_id}: {status} after {before or 'the start'} in {story}"
        before = status


def title(answer) -> str:
    return answer.json["cardsV2"][0]["card"]["header"]["title"]


def updates_card(answer, expected_title: str, why: str) -> None:
    assert answer.status_code == 200, f"{why}: HTTP {answer.status_code} {answer.json}"
    assert answer.json["actionResponse"] == {"type": "UPDATE_MESSAGE"}, f"{why}: answered {answer.json}"
    assert title(answer) == expected_title, f"{why}: the card says {title(answer)!r}, not {expected_title!r}"


def started(w: World, ticket_id: str = "RCA-1") -> tuple[str, str, dict]:
    """Start a ticket; its pinged manager's id and name, and the ping card as the space shows it."""
    assert w.post(ticket_id).status_code == 202
    space = w.space()
    manager = space.pinged(ticket_id)
    w.clock.advance(1)  # the space takes a write a second: what the race makes next is not held back
    return manager, w.bot.manager_name(manager), space.last_card(ticket_id)


def dnd(w: World, chat_id: str) -> str | None:
    return next(m for m in w.bot.status()["managers"] if m["chat_id"] == chat_id)["dnd_until"]


def stored_title(w: World, message: dict) -> str:
    stored = next(m for m in w.bot.chat.messages() if m["name"] == message["name"])
    return stored["cardsV2"][0]["card"]["header"]["title"]


# --- 1. an Accept racing its own timeout ---------------------------------------------------------

def check_accept_vs_timeout(w: World, manager: str, name: str, card: dict, answer, n: int) -> str:
    ticket = w.bot.ticket("RCA-1")
    story = w.story("RCA-1")
    why = f"iteration {n}"
    assert_legal(story, "RCA-1")
    assert story.count("Accepted") + story.count("TimedOut") == 1, \
        f"{why}: ping 1 must end once, accepted or timed out, never both: {story}"
    if ticket["status"] == "Accepted":
        assert ticket["manager"]["chat_id"] == manager and ticket["attempts"] == 1, f"{why}: {ticket}"
        assert story == ["Pinged", "Accepted"], f"{why}: accepted, yet the Tracker says {story}"
        updates_card(answer, f"Assigned to {name}", f"{why}: the accept won")
        assert "ping-timeout:RCA-1" not in w.jobs.timers, f"{why}: an accepted ticket keeps a timeout timer"
        assert dnd(w, manager), f"{why}: {name} accepted but is not resting"
        outcome = "accepted"
    else:
        assert ticket["status"] == "Pinged" and ticket["attempts"] == 2, f"{why}: timed out, then {ticket}"
        assert ticket["manager"]["chat_id"] != manager, f"{why}: passed back to {name}, who let it lapse"
        assert story == ["Pinged", "TimedOut", "Pinged"], f"{why}: timed out, yet the Tracker says {story}"
        updates_card(answer, EXPIRED, f"{why}: the timeout won")
        assert not dnd(w, manager), f"{why}: {name}'s expired accept put them in DND"
        assert f"now with {ticket['manager']['name']}" in answer.json["text"], f"{why}: {answer.json['text']}"
        pings = [m for m in w.messages("RCA-1") if m["cardsV2"] and m["name"] != card["name"]]
        assert len(pings) == 1 and pings[0]["text"].startswith(f"Timed out for {name}."), \
            f"{why}: the next ping is not posted once: {[p['text'] for p in pings]}"
        outcome = "timed out"
    assert stored_title(w, card) == title(answer), f"{why}: the clicked card in the space disagrees with its answer"
    return outcome


def test_an_accept_racing_its_own_timeout_has_exactly_one_outcome(world):
    seen = Counter()
    for n in range(ITERATIONS):
        w = world()
        manager, name, card = started(w)
        w.clock.advance(w.bot.config.ticket_timeout)
        click = lambda: w.space().click(card, "accept", manager)  # noqa: E731
        # The first two iterations fix the order both ways, so that both branches of the check run.
        answer, _ = raced(n, w.bot, click, w.bot.tick)
        seen[mode(n), check_accept_vs_timeout(w, manager, name, card, answer, n)] += 1
    print(f"\naccept vs timeout: {tally(seen)}")


# --- 2. two clicks at once -----------------------------------------------------------------------

def test_accept_and_decline_by_the_pinged_manager_at_once_change_the_ticket_once(world):
    seen = Counter()
    for n in range(ITERATIONS):
        w = world()
        manager, name, card = started(w)
        accept = lambda: w.space().click(card, "accept", manager)  # noqa: E731
        decline = lambda: w.space().click(card, "decline", manager)  # noqa: E731
        accepted, declined = raced(n, w.bot, accept, decline)
        why, ticket, story = f"iteration {n}", w.bot.ticket("RCA-1"), w.story("RCA-1")
        assert_legal(story, "RCA-1")
        assert (story.count("Accepted"), story.count("Declined")) in ((1, 0), (0, 1)), f"{why}: {story}"
        if ticket["status"] == "Accepted":
            assert story == ["Pinged", "Accepted"] and ticket["manager"]["chat_id"] == manager, f"{why}: {story}"
            updates_card(accepted, f"Assigned to {name}", f"{why}: the accept won")
            updates_card(declined, f"Assigned to {name}", f"{why}: the decline came after the accept")
            seen[mode(n), "accepted"] += 1
        else:
            assert story == ["Pinged", "Declined", "Pinged"], f"{why}: declined, yet the Tracker says {story}"
            assert ticket["manager"]["chat_id"] != manager and ticket["attempts"] == 2, f"{why}: {ticket}"
            updates_card(declined, f"Declined by {name}", f"{why}: the decline won")
            updates_card(accepted, EXPIRED, f"{why}: the accept came after the decline")
            seen[mode(n), "declined"] += 1
        assert stored_title(w, card) in (title(accepted), title(declined)), f"{why}: the card shows neither answer"
    print(f"\naccept vs decline: {tally(seen)}")


def test_accepts_by_the_pinged_manager_and_another_at_once_assign_the_pinged_one(world):
    for n in range(ITERATIONS):
        w = world()
        manager, name, card = started(w)
        other = next(m["chat_id"] for m in w.bot.status()["managers"] if m["on_shift"] and m["chat_id"] != manager)
        entries = w.journal_entries()
        mine, theirs = raced(n, w.bot, lambda: w.space().click(card, "accept", manager),
                            lambda: w.space().click(card, "accept", other))
        why, changes = f"iteration {n}", w.journal_entries() - entries  # before the flush forgets them
        ticket, story = w.bot.ticket("RCA-1"), w.story("RCA-1")
        assert ticket["status"] == "Accepted" and ticket["manager"]["chat_id"] == manager, f"{why}: {ticket}"
        assert story == ["Pinged", "Accepted"], f"{why}: {story}"
        assert changes == 1, f"{why}: the state changed {changes} times"
        updates_card(mine, f"Assigned to {name}", f"{why}: the pinged manager's accept")
        # The other manager clicked before the accept (told privately it is not theirs) or after
        # (the card redrawn as assigned to the pinged one): nothing else.
        if theirs.json["actionResponse"]["type"] == "NEW_MESSAGE":
            assert theirs.json["privateMessageViewer"] == {"name": other}, f"{why}: {theirs.json}"
            assert f"is for {name}" in theirs.json["text"], f"{why}: {theirs.json['text']}"
        else:
            updates_card(theirs, f"Assigned to {name}", f"{why}: the other manager's accept after the accept")
        assert not dnd(w, other), f"{why}: the other manager's click put them in DND"


def test_the_same_accept_delivered_twice_at_once_is_applied_once(world):
    for n in range(ITERATIONS):
        w = world()
        manager, name, card = started(w)
        entries = w.journal_entries()
        first, second = raced(n, w.bot, lambda: w.space().click(card, "accept", manager),
                             lambda: w.space().click(card, "accept", manager))
        why, changes = f"iteration {n}", w.journal_entries() - entries  # before the flush forgets them
        ticket, story = w.bot.ticket("RCA-1"), w.story("RCA-1")
        assert ticket["status"] == "Accepted" and ticket["manager"]["chat_id"] == manager, f"{why}: {ticket}"
        assert story == ["Pinged", "Accepted"], f"{why}: one Accepted row, not {story}"
        assert changes == 1, f"{why}: the redelivered click changed the state {changes} times"
        updates_card(first, f"Assigned to {name}", f"{why}: the first delivery")
        updates_card(second, f"Assigned to {name}", f"{why}: the redelivery")
        assert first.json == second.json, f"{why}: the two deliveries got different answers"


def test_the_same_decline_delivered_twice_at_once_is_applied_once(world):
    for n in range(ITERATIONS):
        w = world()
        manager, name, card = started(w)
        answers = raced(n, w.bot, lambda: w.space().click(card, "decline", manager),
                       lambda: w.space().click(card, "decline", manager))
        why, ticket, story = f"iteration {n}", w.bot.ticket("RCA-1"), w.story("RCA-1")
        assert story == ["Pinged", "Declined", "Pinged"], f"{why}: one Declined row, not {story}"
        assert ticket["attempts"] == 2 and ticket["manager"]["chat_id"] != manager, f"{why}: {ticket}"
        assert sorted(title(a) for a in answers) == sorted([f"Declined by {name}", EXPIRED]), \
            f"{why}: {[title(a) for a in answers]}"
        pings = [m for m in w.messages("RCA-1") if m["cardsV2"] and m["name"] != card["name"]]
        assert len(pings) == 1, f"{why}: the next manager is pinged {len(pings)} times"


# --- 3. the same ticket started twice at once ----------------------------------------------------

@pytest.mark.parametrize("senders", [2, 8])
def test_the_same_ticket_started_at_once_starts_one_cycle(world, senders):
    for n in range(ITERATIONS if senders == 2 else ITERATIONS // 4):
        w = world()
        answers = raced(n, w.bot, *[lambda: w.post("RCA-1")] * senders)
        why = f"iteration {n}"
        codes = sorted(a.status_code for a in answers)
        assert codes == [200] * (senders - 1) + [202], f"{why}: answered {codes}"
        assert len({(a.json["ticket_id"], str(a.json["manager"]), a.json["attempts"]) for a in answers}) == 1, \
            f"{why}: the answers describe different cycles: {[a.json for a in answers]}"
        story = w.story("RCA-1")
        assert story == ["Pinged"], f"{why}: one Pinged row, not {story}"
        messages = w.messages("RCA-1")
        assert len(messages) == 1 and len(w.bot.chat.messages()) == 1, f"{why}: {len(messages)} pings posted"
        manager = w.bot.ticket("RCA-1")["manager"]
        assert f"@{manager['name']}" in messages[0]["text"], f"{why}: {messages[0]['text']}"
        assert w.bot.status()["queued"]["messages"] == 0, f"{why}: something is still waiting to be posted"


# --- 4. a reload racing an Accept ----------------------------------------------------------------

def test_a_reload_making_the_pinged_manager_inactive_racing_their_accept_ends_consistent(world):
    seen = Counter()
    for n in range(ITERATIONS):
        w = world()
        manager, name, card = started(w)
        lapsed = n % 2 == 1  # every other iteration the deadline has passed too, so the reload's tick times it out
        if lapsed:
            w.clock.advance(w.bot.config.ticket_timeout)
        w.set_active(manager, "no")
        answer, _ = raced(n, w.bot, lambda: w.space().click(card, "accept", manager), w.bot.reload)
        why, ticket, story = f"iteration {n} ({'lapsed' if lapsed else 'in time'})", w.bot.ticket("RCA-1"), \
            w.story("RCA-1")
        assert_legal(story, "RCA-1")
        assert not w.bot.problems, f"{why}: {w.bot.problems}"
        assert not next(m for m in w.bot.status()["managers"] if m["chat_id"] == manager)["active"], \
            f"{why}: the reload did not take {name} off"
        if ticket["status"] == "Accepted":
            assert ticket["manager"]["chat_id"] == manager and story == ["Pinged", "Accepted"], f"{why}: {story}"
            updates_card(answer, f"Assigned to {name}", f"{why}: accepted")
            seen[mode(n), "accepted"] += 1
        else:
            assert lapsed, f"{why}: an open ping within its deadline was taken from {name}: {story}"
            assert story == ["Pinged", "TimedOut", "Pinged"], f"{why}: {story}"
            assert ticket["manager"]["chat_id"] != manager, f"{why}: pinged the inactive {name} again"
            updates_card(answer, EXPIRED, f"{why}: moved on")
            seen[mode(n), "moved on"] += 1
        assert stored_title(w, card) == title(answer), f"{why}: the card in the space disagrees with the answer"
        # Whatever won, the next ticket never goes to the manager now inactive.
        assert w.post("RCA-2").status_code == 202
        assert (w.bot.ticket("RCA-2")["manager"] or {}).get("chat_id") != manager, f"{why}: RCA-2 went to {name}"
    print(f"\nreload vs accept: {tally(seen)}")


# --- 5. many tickets from the server's request threads (rcabot.serve.THREADS) -------------------

from rcabot.serve import THREADS  # noqa: E402 (this section's own: the server's request threads)

PER_THREAD, MANAGERS = 4, 12


def test_many_tickets_from_every_request_thread_at_once_each_enter_the_cycle_once_in_arrival_order(world):
    team = [[f"Manager {i:02d}", "", f"users/{2000 + i}", "all", "yes", ""] for i in range(MANAGERS)]
    for n in range(8):
        # A batch of 1 kicks a flush after every event, so flushes run alongside the starts too.
        w = world(managers=team, batch=1)
        ids = [[f"T{t}-{k}" for k in range(PER_THREAD)] for t in range(THREADS)]

        def sender(mine):
            client = w.app.test_client()
            return [client.post("/tickets", json={"ticket_id": tid}).status_code for tid in mine]

        codes = race(*[lambda mine=mine: sender(mine) for mine in ids], meet_at=w.bot if n % 2 else None)
        why = f"iteration {n}"
        assert all(c == 202 for per_thread in codes for c in per_thread), f"{why}: answered {codes}"

        status = w.bot.status()
        arrival = [t["ticket_id"] for t in status["tickets"]]  # the bot's own order, set under its lock
        everyone = [tid for mine in ids for tid in mine]
        assert sorted(arrival) == sorted(everyone), f"{why}: in the cycle {arrival}"
        for mine in ids:
            assert [tid for tid in arrival if tid in mine] == mine, f"{why}: {mine} arrived as {arrival}"

        rows = w.tracker()
        assert [r[1] for r in rows] == arrival, f"{why}: Tracker rows {[r[1] for r in rows]} vs arrival {arrival}"
        assert [r[3] for r in rows] == ["Pinged"] * MANAGERS + ["Waiting"] * (len(everyone) - MANAGERS), \
            f"{why}: the first {MANAGERS} arrivals are pinged, the rest wait: {[r[3] for r in rows]}"
        assert [r[4] for r in rows[:MANAGERS]] == [m[2] for m in team], \
            f"{why}: pings do not go round the team in row order: {[r[4] for r in rows[:MANAGERS]]}"

        holders = Counter(t["manager"]["chat_id"] for t in status["tickets"] if t["status"] == "Pinged")
        assert holders and max(holders.values()) == 1, f"{why}: a manager holds two pings: {holders}"
        assert [t["status"] for t in status["tickets"]] == [r[3] for r in rows], f"{why}: state vs Tracker"

        drain(w.bot, w.clock)  # a write a second
        posted = w.bot.chat.messages()
        assert len(posted) == len(everyone), f"{why}: {len(posted)} messages for {len(everyone)} tickets"
        pings = [m for m in posted if m["cardsV2"]]
        assert [m["cardsV2"][0]["card"]["header"]["subtitle"] for m in pings] == arrival[:MANAGERS], \
            f"{why}: pings posted out of arrival order"
        for message, row in zip(pings, rows):
            assert message["annotations"][0]["userMention"]["user"]["name"] == row[4], f"{why}: {message['text']}"
        threads = Counter(m["thread"]["name"] for m in posted)
        assert len(threads) == len(everyone) and max(threads.values()) == 1, f"{why}: threads {threads}"
