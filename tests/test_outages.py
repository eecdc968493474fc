"""When Chat or the workbook fail, requests are still answered and nothing is lost or doubled."""
import csv
from collections import Counter
from datetime import datetime, timedelta

from rcabot.chat import ChatError
from rcabot.workbook import WorkbookError
from tests.conftest import set_configuration


class Failing:
    """Wraps a real adapter; the next `failures` calls of `method` raise `error`."""

    def __init__(self, inner, method: str, error: Exception, failures: int):
        self.inner, self.method, self.error, self.failures = inner, method, error, failures

    def __getattr__(self, name):
        real = getattr(self.inner, name)
        if name != self.method:
            return real

        def maybe_fail(*args, **kwargs):
            if self.failures > 0:
                self.failures -= 1
                raise self.error
            return real(*args, **kwargs)
        return maybe_fail


def test_a_ticket_started_while_chat_is_down_is_pinged_once_chat_is_back(client, bot, jobs, clock):
    bot.chat = Failing(bot.chat, "create_message", ChatError("503 from Chat"), failures=2)
    assert client.post("/tickets", json={"ticket_id": "RCA-1"}).status_code == 202
    assert bot.chat.messages() == [] and jobs.retries == [("deliver", 2)]
    health = client.get("/healthz")
    assert health.status_code == 503 and "503 from Chat" in health.json["problems"]["chat"]

    clock.advance(2)
    bot.deliver()  # fails again: the wait grows
    assert jobs.retries[-1] == ("deliver", 4) and bot.chat.messages() == []
    clock.advance(100)
    bot.deliver()
    assert len(bot.chat.messages()) == 1
    assert client.get("/healthz").status_code == 200
    # the ping's timeout counts from its delivery, not from the start
    assert bot.ticket("RCA-1")["deadline"] == "2026-11-23T07:02:42Z"


def test_tracker_rows_survive_a_failed_flush_and_are_written_once_in_order(client, bot, workbook_dir, space):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    space.click(space.last_card("RCA-1"), "decline", space.pinged("RCA-1"))
    real = bot.workbook
    bot.workbook = Failing(real, "write", WorkbookError("429 from Sheets"), failures=1)
    bot.flush()
    assert "429 from Sheets" in bot.degraded["workbook"]
    bot.flush()
    with open(workbook_dir / "Tracker.csv", newline="") as f:
        statuses = [row[3] for row in csv.reader(f)][1:]
    assert statuses == ["Pinged", "Declined", "Pinged"]
    assert "workbook" not in bot.degraded


class Recording:
    """Wraps the real workbook and records which tabs each write replaced."""

    def __init__(self, inner):
        self.inner, self.replaced = inner, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def write(self, replace, append, update=None):
        if replace or update:
            self.replaced.append(sorted(replace) + [f"{tab} rows {sorted(rows)}" for tab, rows in (update or {}).items()])
        self.inner.write(replace, append, update)


def test_state_tabs_are_written_in_one_batch_and_only_when_they_changed(client, bot, space):
    bot.workbook = Recording(bot.workbook)
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.flush()
    bot.flush()
    space.click(space.last_card("RCA-1"), "accept", space.pinged("RCA-1"))
    client.post("/tickets", json={"ticket_id": "RCA-2"})
    bot.flush()
    # the first write carries the BotStatus tab (refreshed at each reload) in the same batch; every
    # write carries StateManagement, whose Revision row says which write the tabs hold (a CSV file
    # is written whole: TicketState rows in place are for Sheets, see test_google_cycle)
    assert bot.workbook.replaced == [["BotStatus", "StateManagement", "TicketState"],
                                     ["ManagerState", "StateManagement", "TicketState"]]


def test_chat_posts_are_paced_to_one_a_second_and_sixty_a_minute_and_none_is_dropped(client, bot, jobs, clock):
    for n in range(70):
        client.post("/tickets", json={"ticket_id": f"RCA-{n}"})
    assert len(bot.chat.messages()) == 1 and jobs.retries[-1] == ("deliver", 1.0)  # a second between two
    for _ in range(59):
        clock.advance(1)
        bot.deliver()
    assert len(bot.chat.messages()) == 60 and len(bot.outbox) == 10
    assert jobs.retries[-1] == ("deliver", 2.0)  # the first post leaves the 61 s window (a minute, and a second
    clock.advance(2)                             # for the posts' time in transit)
    for _ in range(9):
        bot.deliver()
        clock.advance(1)
    bot.deliver()
    assert len(bot.chat.messages()) == 70 and not bot.outbox


def test_past_the_memory_bound_new_tickets_are_refused_with_503_and_nothing_is_dropped(client, bot, monkeypatch):
    bot.max_queued_rows = 3
    monkeypatch.setattr(bot, "flush", lambda: None)  # the spreadsheet takes nothing
    for n in range(3):
        assert client.post("/tickets", json={"ticket_id": f"RCA-{n}"}).status_code == 202
    refused = client.post("/tickets", json={"ticket_id": "RCA-9"})
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "60"
    assert "retry later" in refused.json["error"]
    assert bot.ticket("RCA-9") is None and len(bot.tracker) == 3
    assert client.post("/tickets", json={"ticket_id": "RCA-0"}).status_code == 200  # known ones still answer


def test_a_burst_of_500_starts_is_answered_at_once_and_pinged_in_arrival_order(client, bot, jobs, clock, space,
                                                                                 workbook_dir):
    set_configuration(workbook_dir, ManagerDNDTime=0)  # each manager free again as soon as they accept
    bot.reload()
    ids = [f"RCA-{n:03}" for n in range(500)]
    assert {client.post("/tickets", json={"ticket_id": t}).status_code for t in ids} == {202}
    assert len(bot.status()["tickets"]) == 500  # all accepted before a single message is posted

    # Managers take each ping the moment its card is there; the clock moves a second at a time.
    while bot.status()["tickets"]:
        bot.deliver()
        posted = [t for t in bot.status()["tickets"] if t["status"] == "Pinged" and t["message"]]
        for ticket in posted:
            manager = ticket["manager"]["chat_id"]
            card = bot.chat.message(ticket["message"])
            accepted = space.click(card, "accept", manager).json  # the card, updated to carry Done
            done = space.click({**card, "cardsV2": accepted["cardsV2"]}, "done", manager)
            assert done.status_code == 200, done.json
        if not posted:
            clock.advance(1)
            jobs.fire_due()
    bot.flush()

    tracker = read_tracker(workbook_dir)
    first_pings = list(dict.fromkeys(row[1] for row in tracker if row[3] == "Pinged"))
    assert first_pings == ids
    assert [row[3] for row in tracker].count("Completed") == 500
    per_minute = Counter(m["createTime"][:16] for m in bot.chat.messages() if m["sender"]["type"] == "BOT")
    posted = sorted(datetime.fromisoformat(m["createTime"].replace("Z", "+00:00")) for m in bot.chat.messages()
                    if m["sender"]["type"] == "BOT")
    assert max(per_minute.values()) <= 60
    assert min(b - a for a, b in zip(posted, posted[1:])) >= timedelta(seconds=1)  # one write in any second
    assert not [r for r in tracker if r[3] == "TimedOut"]  # pings queued behind the pace did not lapse


def test_a_ping_that_could_not_be_posted_does_not_lapse_and_its_card_shows_the_real_deadline(client, bot, jobs,
                                                                                               clock, space):
    bot.chat = Failing(bot.chat, "create_message", ChatError("503 from Chat"), failures=1)
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    clock.advance(600)  # Chat was down for ten minutes, well past TicketTimeout (60 s)
    jobs.fire_due()
    assert bot.ticket("RCA-1")["attempts"] == 1  # still the first manager's: they never saw it
    bot.deliver()
    card = space.last_card("RCA-1")
    assert "Answer by 07:11:00 (UTC)" in str(card["cardsV2"])  # delivery + TicketTimeout
    assert bot.ticket("RCA-1")["deadline"] == "2026-11-23T07:11:00Z"


def read_tracker(workbook_dir):
    with open(workbook_dir / "Tracker.csv", newline="") as f:
        return list(csv.reader(f))[1:]


def test_the_shutdown_flush_writes_even_when_the_minute_s_write_quota_is_spent(client, bot, jobs, workbook_dir):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.sheets_pace.record(bot.clock(), 60)  # the minute's 60 writes are spent
    bot.flush()
    assert read_tracker(workbook_dir) == [] and jobs.retries[-1][0] == "flush"  # a paced flush waits its turn
    bot.close()
    assert [row[3] for row in read_tracker(workbook_dir)] == ["Pinged"]


class FailsOn:
    """Wraps a real space; posting a message about `ticket_id` raises `error` every time (a fault
    no retry cures, as an input the adapter cannot encode)."""

    def __init__(self, inner, ticket_id: str, error: Exception):
        self.inner, self.ticket_id, self.error = inner, ticket_id, error

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def create_message(self, space, message, **kwargs):
        if self.ticket_id in message.get("text", ""):
            raise self.error
        return self.inner.create_message(space, message, **kwargs)


def test_a_message_the_adapter_fails_on_unexpectedly_is_dropped_and_the_queue_behind_it_goes_on(client, bot,
                                                                                                 clock):
    bot.chat = FailsOn(bot.chat, "RCA-1", UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed"))
    assert client.post("/tickets", json={"ticket_id": "RCA-1"}).status_code == 202  # its ping meets the fault
    client.post("/tickets", json={"ticket_id": "RCA-2"})
    for _ in range(3):
        clock.advance(1)
        bot.deliver()
    assert bot.ticket("RCA-2")["message"]  # posted: the queue was not wedged behind RCA-1
    assert bot.ticket("RCA-1")["deadline"]  # its time runs, so it moves on at its timeout
