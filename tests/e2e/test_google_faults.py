"""Google mode under faults: the real bot process against a fake Google on localhost.

`python app.py` runs with RCABOT_BACKEND=google, its Sheets, Chat, token and certificate
endpoints pointed at the fakes of tests/fakes served over HTTP (google_harness.FakeGoogleServer),
and the clients talk to it as the ticket system (RCABOT_API_TOKEN) and as Google Chat (clicks
signed as Chat signs them). The fakes then throttle (429), fail (5xx), carry out a write but
answer 503, and hang; the process is SIGKILLed during each of those and started again; clicks
are sent right at their ping's deadline. Afterwards every ticket is accepted and done, the bot is
stopped with SIGTERM, and, ticket by ticket, every answered start and click must be in the
Tracker exactly once and in order, every cycle ended exactly once, no card posted twice, and no
ping timed out sooner than TicketTimeout after its card was in the space (harness.check_run and
google_harness.google_run).

Where the bot has no setting a test can use (the Google clients' 30 s timeout, the Sheets
adapter's backoff of 1, 2, 4, 8 s), the process runs through `python -m tests.e2e.google_harness`,
which is app.py with those two values changed (see its docstring).

Seeded (SEED); real time still decides what is open when, so two runs differ in detail.
"""
from __future__ import annotations

import random
import threading
import time
from datetime import datetime
from typing import Callable

import pytest
import requests

from tests.e2e.google_harness import FakeGoogleServer, GoogleBot, GoogleClient, google_run, prepare_google_workbook
from tests.e2e.harness import card_attempt
from tests.e2e.test_kill_restart import Scenario
from tests.fakes.chat import CREATE

SEED = 20261123
TIMEOUT = 3  # TicketTimeout, seconds of real time
BACKOFF = 0.02  # the Sheets adapter's backoff waits, scaled: 1, 2, 4, 8 s become 20 ... 160 ms (+ jitter)
QUICK = 1.0  # seconds: an answer that did not wait for Google


class GoogleScenario(Scenario):
    """test_kill_restart's clients and moves, in Google mode, with the waits a fault needs."""

    def __init__(self, bot: GoogleBot, team: list[dict[str, str]], seed: int = SEED, tickets: int = 100,
                 timeout: int = TIMEOUT):
        super().__init__(bot, team, random.Random(seed), tickets)
        self.client = GoogleClient(bot, team)
        self.google: FakeGoogleServer = bot.google
        self.timeout = timeout

    # --- waiting on conditions ----------------------------------------------------------

    def wait_for(self, condition: Callable[[], object], within: float, what: str):
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.02)
        try:
            status = self.client.status()
        except (requests.RequestException, AssertionError) as exc:
            status = f"no /status: {exc}"
        raise AssertionError(f"not within {within:g} s: {what}\nstatus: {status}\n{self.bot.log_tail(25)}")

    def health(self) -> tuple[int, dict]:
        return self.bot.healthz()

    def degraded(self, part: str) -> dict:
        """Waits until /healthz says 503 naming `part`; returns its body."""
        def naming() -> dict | None:
            code, body = self.health()
            return body if code == 503 and part in body["problems"] else None
        return self.wait_for(naming, 15, f"/healthz reporting {part} degraded")

    def healthy(self) -> None:
        self.wait_for(lambda: self.health()[0] == 200, 15, "/healthz 200 again")

    def faults_spent(self, within: float = 15) -> None:
        self.wait_for(lambda: self.google.pending_faults() == 0, within, "every injected fault served")

    def tracker_has(self, rows: int) -> None:
        self.wait_for(lambda: len(self.google.tracker()) >= rows, 10, f"{rows} rows in the Tracker")

    def posted(self, ticket_id: str) -> bool:
        view = self.client.ticket(ticket_id)
        return view is None or view["status"] != "Pinged" or self.ping_card(view) is not None

    def all_posted(self) -> bool:
        return all(self.posted(t) for t in list(self.open))

    def act_all(self) -> None:
        for ticket_id in list(self.open):
            if ticket_id in self.open:
                self.act(ticket_id, self.rng.random())

    def timed(self, request: Callable[[], object]) -> float:
        began = time.monotonic()
        request()
        return time.monotonic() - began

    # --- the process ----------------------------------------------------------------------

    def kill_restart(self, why: str, healthy: bool = False) -> None:
        """SIGKILL, then start again: until /healthz says 200 (`healthy`), or as a supervisor
        would, until it answers at all (a start-up that gives up is started again)."""
        self.bot.kill()
        self.kills[why] += 1
        if healthy:
            self.bot.start()
        else:
            self.bot.start_supervised()
        self.resolve_starts()

    def killed_at(self, point: str, trigger: Callable[[], object]) -> None:
        """Start with a kill point armed, `trigger` it, wait for the SIGKILL, start again."""
        try:
            self.bot.start(kill_at=point, healthy=False)
        except AssertionError:
            if self.bot.process.returncode != -9:
                raise  # not the kill point: it died before it answered, for another reason
        else:
            trigger()
        code = self.bot.wait_dead(15)
        assert code == -9, f"the kill point {point} was not reached (exit code {code})\n{self.bot.log_tail()}"
        self.bot.kills += 1
        self.kills[point] += 1
        self.bot.start_supervised()
        self.resolve_starts()

    # --- the end --------------------------------------------------------------------------

    def stop_and_check(self, again: bool = True, **expect) -> dict:
        """SIGTERM, then the checks (harness.check_run, google_harness.google_run) on what the
        process left in the fake spreadsheet and space; `again`: one more start and stop changes
        nothing; `expect`: numbers that must be so. Returns the numbers."""
        assert self.google.pending_faults() == 0, "a fault the test injected was never served"
        assert self.bot.stop() == 0, self.bot.log_tail()
        problems, numbers = google_run(self.google, self.said, self.team, self.timeout)
        if self.bot.journal_files():
            problems.append(f"the journal is not empty after a clean stop: {self.bot.journal_files()}")
        if again:  # with nothing to do, a start and a clean stop replay nothing and write nothing
            tracker = self.google.tracker()
            self.bot.start()
            assert self.bot.stop() == 0, self.bot.log_tail()
            if self.google.tracker() != tracker:
                problems.append("a further start and stop changed the Tracker")
        for name, value in expect.items():
            if numbers.get(name) != value:
                problems.append(f"{name} is {numbers.get(name)}, expected {value}")
        numbers.update(kills=dict(self.kills), process_starts=self.bot.starts, sigkills=self.bot.kills,
                       boot_failures=self.bot.boot_failures, injected=dict(self.google.injected),
                       refused=dict(self.google.refused()),
                       slowest_answer=round(max(self.client.latencies, default=0), 3))
        assert not problems, "\n".join([f"{len(problems)} problems after {self.bot.kills} SIGKILLs:"] + problems
                                       + [f"numbers: {numbers}", self.bot.log_tail(30)])
        print(f"\n{numbers}")
        return numbers


@pytest.fixture
def google():
    server = FakeGoogleServer(seed=SEED)
    yield server
    server.close()


@pytest.fixture
def make_google_bot(tmp_path, google, can_listen):
    """make_google_bot(timeout=..., client_timeout=..., backoff_scale=...) -> (the bot, not yet
    started; the active managers), on the fake Google of the `google` fixture."""
    made: list[GoogleBot] = []

    def make(timeout: int = TIMEOUT, dnd: int = 1, flush: int = 1, reload: int = 300, active: int = 4, **process):
        team = prepare_google_workbook(google, tmp_path / "config", timeout=timeout, dnd=dnd, flush=flush,
                                       reload=reload, active=active)
        bot = GoogleBot(tmp_path / "bot", google, **process)
        made.append(bot)
        return bot, team

    yield make
    for bot in made:
        bot.cleanup()


# --- 1. Sheets throttled past the adapter's retries --------------------------------------------

def test_sheets_throttled_past_the_retries_loses_and_repeats_nothing_across_sigkills(make_google_bot):
    """429 to every Sheets call for a stretch longer than a flush's five tries: starts and clicks
    are answered meanwhile, /healthz names the workbook, and a SIGKILL mid-outage followed by a
    start-up that finds Sheets still throttled (it waits the outage out and tries again) loses no
    answered event and writes none twice."""
    bot, team = make_google_bot(backoff_scale=BACKOFF)
    bot.start()
    sc = GoogleScenario(bot, team)
    for _ in range(3):
        sc.start(sc.new_ticket())
    sc.wait_for(sc.all_posted, 10, "the first pings posted")

    sc.google.sheets_fail(429, 10)  # two flushes give up
    for _ in range(2):
        sc.start(sc.new_ticket())
    sc.wait_for(sc.all_posted, 10, "pings posted while Sheets throttles")
    sc.act_all()
    body = sc.degraded("workbook")
    assert "429" in body["problems"]["workbook"], body
    sc.act_all()
    sc.faults_spent()
    assert max(sc.client.latencies) < QUICK, f"an answer waited for Sheets: {max(sc.client.latencies):.2f} s"
    assert sc.client.status()["queued"]["tracker_rows"], "the outage ended sooner than the test expected"

    bot.kill()  # rows queued, the last flush failed
    sc.kills["mid-outage"] += 1
    sc.google.sheets_fail(429, 6)  # still throttled when it starts again: the first try gives up
    bot.start_supervised()
    assert bot.boot_failures == 0 and "start-up: " in bot.log_tail(200) and "trying again in 2 s" in \
        bot.log_tail(200), bot.log_tail()
    sc.resolve_starts()
    sc.faults_spent()
    sc.healthy()

    for _ in range(2):
        sc.start(sc.new_ticket())
    for _ in range(2):
        sc.wait_for(sc.all_posted, 10, "pings posted after the outage")
        sc.act_all()
    sc.kill_restart("after the outage, rows still queued")
    sc.finish()
    numbers = sc.stop_and_check(duplicate_rows=0)
    assert numbers["refused"].get("sheets 429", 0) == 16


# --- 2. Sheets 5xx, and writes carried out but answered 503 ------------------------------------

def test_sheets_5xx_and_writes_done_but_answered_503_write_no_row_twice(make_google_bot):
    """500, 502 and 503 within the adapter's retries, and writes Sheets carried out but answered
    503 (state batchUpdate and Tracker append), while tickets start and are clicked; then a SIGKILL
    right after such an append (a kill point inside the process) and a start again."""
    bot, team = make_google_bot(backoff_scale=BACKOFF)
    bot.start()
    sc = GoogleScenario(bot, team)
    for _ in range(3):
        sc.start(sc.new_ticket())

    g = sc.google
    g.sheets_fail(500, 1, kind="values.batchUpdate")
    g.sheets_fail_after_post(1, kind="values.batchUpdate")
    g.sheets_fail_after_post(1, kind="values.batchUpdate")
    g.sheets_fail(502, 1, kind="values.batchUpdate")
    g.sheets_fail(503, 2)
    for _ in range(2):
        sc.wait_for(sc.all_posted, 10, "pings posted")
        sc.act_all()
        sc.start(sc.new_ticket())
    sc.faults_spent()
    sc.healthy()

    rows = len(g.tracker())
    bot.kill()
    sc.kills["at a random moment"] += 1
    g.sheets_fail_after_post(1, kind="values.batchUpdate")
    sc.killed_at("after-tracker-append", lambda: sc.start(sc.new_ticket()))
    assert len(g.tracker()) > rows

    sc.wait_for(sc.all_posted, 10, "pings posted")
    sc.act_all()
    sc.finish()
    numbers = sc.stop_and_check(again=False, duplicate_rows=0)
    assert numbers["refused"].get("sheets 503", 0) >= 4 and numbers["refused"].get("sheets 500") == 1


def test_an_append_carried_out_but_answered_503_then_a_stretch_of_503s_writes_its_rows_once(make_google_bot):
    """Sheets carries out a flush's write (state tabs and Tracker rows) but answers 503, and
    answers 503 to the four retries too. The flush gives up with the rows in the Tracker but still
    queued; the next flush, Sheets answering again, must not add them a second time."""
    bot, team = make_google_bot(backoff_scale=BACKOFF)
    bot.start()
    sc = GoogleScenario(bot, team)
    sc.google.sheets_fail_after_post(1, kind="values.batchUpdate")
    sc.google.sheets_fail(503, 4, kind="values.batchUpdate")
    sc.start(sc.new_ticket())
    sc.degraded("workbook")
    sc.faults_spent()
    sc.healthy()
    sc.tracker_has(1)
    sc.finish()
    sc.stop_and_check(again=False, duplicate_rows=0)


def test_a_sigkill_after_an_append_answered_503_and_a_later_failed_flush_writes_its_rows_once(make_google_bot):
    """As above, then one more flush fails (its state write answered 503 five times) with new
    rows sealed into the journal behind the first ones, and the process is SIGKILLed. At start-up
    the Tracker ends with the first flush's rows but not the second's: the first must not be
    written again."""
    bot, team = make_google_bot(backoff_scale=BACKOFF)
    bot.start()
    sc = GoogleScenario(bot, team)
    g = sc.google
    g.sheets_fail_after_post(1, kind="values.batchUpdate")
    g.sheets_fail(503, 4, kind="values.batchUpdate")
    sc.start(sc.new_ticket())
    sc.wait_for(lambda: g.pending_faults() == 0, 10, "the write carried out and answered 503, then 4 × 503")
    g.sheets_fail(503, 5, kind="values.batchUpdate")  # the next flush fails on its state write
    sc.degraded("workbook")
    sc.start(sc.new_ticket())
    sc.faults_spent()
    sc.kill_restart("after two failed flushes")
    sc.healthy()
    sc.finish()
    sc.stop_and_check(again=False, duplicate_rows=0)


# --- 3. Chat throttled and failing: pings go late, their timeouts count from the post ------------

def test_chat_throttled_pings_are_posted_late_once_and_time_out_from_their_post(make_google_bot):
    """Chat answers 429 and 503 to message creates for a stretch: starts are answered, /healthz
    names chat, the pings go out when Chat answers again (their deadlines counted from then), a
    SIGKILL during the outage and another right after a late post (a kill point) post nothing
    twice, and the pings nobody answers time out no sooner than TicketTimeout after their post."""
    # 5 s to answer: four tickets lapsing every 2 s would want more than the space's write a second
    bot, team = make_google_bot(timeout=5)
    bot.start()
    sc = GoogleScenario(bot, team, timeout=5)
    sc.start(sc.new_ticket())
    sc.wait_for(sc.all_posted, 10, "the first ping posted")

    g = sc.google
    g.chat_fail(429, 2)
    g.chat_fail(503, 1)
    for _ in range(3):
        sc.start(sc.new_ticket())
    body = sc.degraded("chat")
    assert "429" in body["problems"]["chat"] or "503" in body["problems"]["chat"], body
    sc.faults_spent(10)  # the tries, a second apart at least, then 2 s and 4 s apart (the retries' backoff)
    assert not sc.all_posted()

    bot.kill()  # Chat answers again, but this process never got to post
    sc.kills["during the Chat outage"] += 1
    g.chat_fail(503, 1)  # the first post after the restart fails, the retry 2 s later goes through
    sc.killed_at("after-ping-post", lambda: None)  # dies right after that first late post
    sc.wait_for(sc.all_posted, 15, "the late pings posted")
    sc.healthy()

    # Nobody answers the late pings: they time out, from their post, and go to the next manager.
    late = [t for t in sc.open if t != "RCA-1"]
    sc.wait_for(lambda: all(sc.client.ticket(t)["attempts"] >= 2 for t in late), 15, "the late pings timed out")
    sc.finish()
    numbers = sc.stop_and_check(again=False, duplicate_rows=0)
    assert numbers["timed out pings posted 1 s or more after their Pinged row"] >= 1, numbers
    assert numbers["refused"].get("chat 429") == 2 and numbers["refused"].get("chat 503") == 2, numbers


# --- 4. Hangs: clicks are answered meanwhile ----------------------------------------------------

def test_hangs_shorter_than_the_client_timeout_do_not_hold_up_answers(make_google_bot):
    """The bot's Google clients wait 30 s for an answer and the bot has no setting to shorten
    that (see google_harness), so the hangs here are long but shorter: a Tracker append that takes
    2 s and, at the same time, a Chat create that takes 3.5 s. Starts, clicks, /status and /healthz
    are answered quickly all the while (Google calls run in jobs), /healthz stays 200 (slow is not
    failing), and a SIGKILL while the Chat create still hangs posts nothing twice."""
    bot, team = make_google_bot()
    bot.start()
    sc = GoogleScenario(bot, team)
    for _ in range(3):
        sc.start(sc.new_ticket())
    sc.wait_for(sc.all_posted, 10, "the first pings posted")

    g = sc.google
    g.sheets_hang(2, 1, kind="values.batchUpdate")
    g.chat_hang(3.5, 1)
    waits = [sc.timed(lambda: sc.start(sc.new_ticket()))]
    sc.faults_spent(5)  # both calls are in flight, and hang
    while g.in_flight("sheets"):
        waits.append(sc.timed(sc.act_all))
        if len(waits) < 6:
            waits.append(sc.timed(lambda: sc.start(sc.new_ticket())))
        waits.append(sc.timed(sc.client.status))
        code, body = sc.health()
        assert code == 200, body
        time.sleep(0.2)
    assert max(waits) < QUICK, f"an answer waited for Google: {max(waits):.2f} s"
    assert len(waits) >= 8, len(waits)
    sc.wait_for(lambda: not sc.client.status()["queued"]["tracker_rows"], 5, "the Tracker rows written")

    assert g.in_flight("chat"), "the Chat create ended sooner than the test expected"
    sc.kill_restart("while a Chat create hangs", healthy=True)
    sc.wait_for(sc.all_posted, 10, "the pings posted")
    for _ in range(2):
        sc.act_all()
        sc.wait_for(sc.all_posted, 10, "pings posted")
    sc.finish()
    sc.wait_for(lambda: not g.in_flight("chat"), 5, "the hung Chat create over")
    sc.stop_and_check(again=False, duplicate_rows=0)


def test_hangs_longer_than_the_client_timeout_on_chat_and_state_writes_post_and_write_once(make_google_bot):
    """With the clients' timeout cut to 1.5 s (test-only, see google_harness): a Chat create and a
    state write that answer after 3.5 s time out in the bot, are retried, and land anyway; the
    card is posted once (the request id), the state ends right, /healthz names chat meanwhile."""
    bot, team = make_google_bot(client_timeout=1.5, backoff_scale=BACKOFF)
    bot.start()
    sc = GoogleScenario(bot, team)
    sc.start(sc.new_ticket())
    sc.wait_for(sc.all_posted, 10, "the first ping posted")

    g = sc.google
    g.chat_hang(3.5, 1)
    g.sheets_hang(3.5, 1, kind="values.batchUpdate")
    sc.start(sc.new_ticket())
    waits = [sc.timed(sc.act_all)]
    sc.degraded("chat")
    sc.faults_spent()
    sc.wait_for(sc.all_posted, 15, "the ping posted after its create timed out")
    sc.healthy()
    assert max(waits) < QUICK
    for _ in range(3):
        sc.act_all()
        sc.wait_for(sc.all_posted, 10, "pings posted")
    sc.finish()
    sc.stop_and_check(again=False, duplicate_rows=0)


def test_a_tracker_append_answered_after_the_client_timeout_is_written_once(make_google_bot):
    """The clients' timeout cut to 1 s (test-only; the product's is 30 s) and a Tracker append
    that Sheets carries out 2 s after it was sent. The bot's try times out, its retry (after
    the backoff) finds the rows not there yet and appends them, and then the first append lands
    too. The rows must be in the Tracker once (append_rows: "a retry never writes the rows twice").
    With the product's numbers this takes an append that Sheets carries out more than 31 s late."""
    bot, team = make_google_bot(client_timeout=1, backoff_scale=0.25)
    bot.start()
    sc = GoogleScenario(bot, team)
    sc.google.sheets_hang(2, 1, kind="values.batchUpdate")
    sc.start(sc.new_ticket())
    sc.faults_spent()
    sc.wait_for(lambda: not sc.google.in_flight("sheets"), 10, "the hung append carried out")
    sc.finish()
    sc.stop_and_check(again=False, duplicate_rows=0)


def test_a_sigkill_while_a_tracker_append_hangs_writes_its_rows_once(make_google_bot):
    """A Tracker append that takes 2.5 s (shorter than the client timeout), and the process is
    SIGKILLed while it waits. Sheets carries it out anyway; the process started again does not
    find the rows at start-up (they are not there yet) and writes the journaled rows again."""
    bot, team = make_google_bot()
    bot.start()
    sc = GoogleScenario(bot, team)
    sc.google.sheets_hang(2.5, 1, kind="values.batchUpdate")
    sc.start(sc.new_ticket())
    sc.faults_spent()  # the append is in flight
    sc.kill_restart("while a Tracker append hangs", healthy=True)
    sc.wait_for(lambda: not sc.client.status()["queued"]["tracker_rows"], 10, "the Tracker rows written")
    sc.wait_for(lambda: not sc.google.in_flight("sheets"), 10, "the hung append carried out")
    sc.finish()
    sc.stop_and_check(again=False, duplicate_rows=0)


def test_a_state_write_carried_out_after_a_newer_one_does_not_undo_an_accept(make_google_bot):
    """The flush that writes RCA-1 as Pinged takes 3 s at Sheets (shorter than the client
    timeout); meanwhile RCA-1 is accepted and the process is SIGKILLed. Started again, the bot
    writes RCA-1 as Accepted; then the old write lands on top. SIGKILLed and started again before
    RCA-1 changes once more, the bot must still know RCA-1 as Accepted: nobody is pinged again."""
    bot, team = make_google_bot()
    bot.start()
    sc = GoogleScenario(bot, team)
    g = sc.google
    g.sheets_hang(3, 1, kind="values.batchUpdate")
    sc.start(sc.new_ticket())
    sc.wait_for(sc.all_posted, 5, "the ping posted")
    sc.faults_spent()  # the state write is in flight
    view = sc.client.ticket("RCA-1")
    assert sc.click("RCA-1", sc.ping_card(view), "accept", view["manager"]["chat_id"]) == "accepted"
    sc.kill_restart("while a state write hangs", healthy=True)
    sc.wait_for(lambda: [row[3] for row in g.tab("TicketState")] == ["Accepted"], 10, "RCA-1 written as Accepted")
    sc.wait_for(lambda: not g.in_flight("sheets"), 10, "the hung state write carried out")
    sc.kill_restart("after the old state write landed", healthy=True)
    view = sc.client.ticket("RCA-1")  # Accepted; or, read back as Pinged, its old deadline is long past
    sc.wait_for(lambda: (lambda v: v["status"] == "Accepted" or v["attempts"] > 1)(sc.client.ticket("RCA-1")), 5,
                "RCA-1 Accepted, or pinged again")
    sc.finish()
    sc.stop_and_check(again=False, duplicate_rows=0)


# --- 6. Clicks racing their timeouts ------------------------------------------------------------

RACE_TIMEOUT = 2
JITTER = 0.2


def test_clicks_sent_right_at_the_deadline_count_once_either_way(make_google_bot):
    """TicketTimeout 2 s; every ping gets an Accept or a Decline from its manager within 0.2 s
    of its deadline (TicketTimeout after the card's post, rounded up to the second), before it and after it in turn, so some clicks
    win and some lose the race with the timeout; a SIGKILL lands among them. Each answer must match the Tracker:
    "accepted"/"declined" with that row, "expired" only where the ping timed out."""
    bot, team = make_google_bot(timeout=RACE_TIMEOUT)
    bot.start()
    sc = GoogleScenario(bot, team, timeout=RACE_TIMEOUT)
    for _ in range(5):
        sc.start(sc.new_ticket())
    clicks: list[threading.Thread] = []
    scheduled: set[tuple[str, int]] = set()
    raced: list[tuple[float, str | None]] = []  # (seconds after the deadline it was sent, the answer)
    errors: list[AssertionError] = []

    def at_deadline(when: float, ticket_id: str, card: dict, function: str, user: str, offset: float) -> None:
        time.sleep(max(0.0, when - time.monotonic()))
        try:
            raced.append((offset, sc.click(ticket_id, card, function, user)))
        except AssertionError as exc:  # an answer nobody expected: fail the test, not only this thread
            errors.append(exc)

    def race(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for ticket_id in list(sc.open):
                view = sc.client.ticket(ticket_id)
                if view is None or view["status"] != "Pinged" or (ticket_id, view["attempts"]) in scheduled:
                    continue
                card, posted = sc.ping_card(view), _posted_at(sc.google, ticket_id, view["attempts"])
                if card is None or posted is None:
                    continue
                scheduled.add((ticket_id, view["attempts"]))
                offset = (-1) ** len(scheduled) * sc.rng.uniform(0.01, JITTER)  # before, after, before...
                # the deadline the bot keeps: TicketTimeout after the post, rounded up to the second
                deadline = datetime.fromisoformat(view["deadline"].replace("Z", "+00:00")).timestamp()
                thread = threading.Thread(target=at_deadline, args=(
                    time.monotonic() + deadline - time.time() + offset, ticket_id, card,
                    sc.rng.choice(["accept", "accept", "decline"]),
                    view["manager"]["chat_id"], offset))
                thread.start()
                clicks.append(thread)
            time.sleep(0.02)

    race(4.2)  # the space takes a write a second: five pings take five seconds to post
    sc.kill_restart("among racing clicks", healthy=True)
    race(4)
    for thread in clicks:
        thread.join(10)
    assert not errors, errors
    sc.finish()
    sc.stop_and_check(again=False, duplicate_rows=0)
    won = sorted(round(offset, 2) for offset, outcome in raced if outcome in ("accepted", "declined"))
    lost = sorted(round(offset, 2) for offset, outcome in raced if outcome == "expired")
    assert len(raced) >= 6 and won and lost, f"sent this long after the deadline: won {won}, lost {lost}"
    print(f"racing clicks sent this long after the deadline: won {won}, lost {lost}")


def test_a_restart_keeps_a_pings_deadline_to_the_fraction_of_a_second(make_google_bot):
    """A ping posted at about hh:mm:ss.6 has its deadline TicketTimeout later, at about .6 of a
    second. The process is SIGKILLed and started again before then, and the manager accepts a
    quarter of a second before that deadline: the ping has not lapsed, the Accept must count.
    (The journal and TicketState keep times to the whole second, so a restart moves every open
    deadline up to a second earlier.)"""
    bot, team = make_google_bot(timeout=RACE_TIMEOUT)
    bot.start()
    sc = GoogleScenario(bot, team, timeout=RACE_TIMEOUT)
    time.sleep((0.6 - time.time()) % 1)  # to the next wall-clock .6 of a second
    sc.start(sc.new_ticket())
    sc.wait_for(sc.all_posted, 5, "the ping posted")
    posted = _posted_at(sc.google, "RCA-1", 1)
    view = sc.client.ticket("RCA-1")
    card, manager = sc.ping_card(view), view["manager"]["chat_id"]
    sc.kill_restart("before the ping's deadline", healthy=True)
    assert time.monotonic() < posted + RACE_TIMEOUT - 0.3, "the restart took longer than the test expected"
    time.sleep(posted + RACE_TIMEOUT - 0.25 - time.monotonic())  # to a quarter second before the deadline
    outcome = sc.click("RCA-1", card, "accept", manager)
    sc.finish()
    sc.stop_and_check(again=False, duplicate_rows=0)
    assert outcome == "accepted", (f"an Accept sent 0.25 s before the ping's deadline, after a restart, was "
                                   f"answered {outcome!r}")


def _posted_at(google: FakeGoogleServer, ticket_id: str, attempt: int) -> float | None:
    """When (time.monotonic) the card of the ticket's `attempt` reached the fake Chat, if it did."""
    key = f"rca-ticket-{ticket_id}"
    for call in list(google.chat.calls):
        body = call.body if isinstance(call.body, dict) else {}
        if call.kind == CREATE and call.ok and (body.get("thread") or {}).get("threadKey") == key \
                and card_attempt(body) == attempt:
            return call.at
    return None


# --- the test-side server itself --------------------------------------------------------------

def test_the_fake_google_server_passes_tab_names_percent_encoded(google):
    """A range naming a tab with a space or a slash reaches the fake Sheets as sent (werkzeug
    keeps the raw request line; wsgiref's decoded PATH_INFO would split 'A/B' in two)."""
    google.sheets.add_tab("Log Sheet/2026", [["a", "b"]])
    url = (f"{google.base}/v4/spreadsheets/{google.sheets.spreadsheet_id}/values/"
           f"%27Log%20Sheet%2F2026%27%21A1%3AB1")
    answer = requests.get(url, headers={"Authorization": "Bearer ya29.fake-access-token-for-tests"}, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.json()["values"] == [["a", "b"]]
