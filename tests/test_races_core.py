"""Races, each run many times with real threads released together: exactly one outcome each."""
from __future__ import annotations

import csv
import threading

from rcabot.cycle import Outcome


def tracker(bot, workbook_dir, ticket_id: str) -> list[list[str]]:
    """The ticket's Tracker rows, written or still queued."""
    with open(workbook_dir / "Tracker.csv", newline="", encoding="utf-8") as f:
        written = list(csv.reader(f))[1:]
    return [r for r in written + list(bot.tracker._rows) if r[1] == ticket_id]


def race(*actions):
    """Run the actions in threads released at the same instant; their results, in order."""
    barrier, results = threading.Barrier(len(actions)), [None] * len(actions)

    def run(i, action):
        barrier.wait()
        results[i] = action()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_an_accept_racing_its_timeout_has_exactly_one_outcome(bot, clock, workbook_dir):
    for n in range(100):
        ticket_id = f"RCA-{n}"
        bot.start_ticket(ticket_id, "", "")
        ticket = bot.cycle.state.tickets[ticket_id]
        manager, attempt = ticket.manager_id, ticket.attempts
        clock.advance(bot.config.ticket_timeout)
        answer, _ = race(lambda: bot.click("accept", ticket_id, manager, attempt), bot.tick)
        now = bot.cycle.state.tickets[ticket_id]
        if answer.outcome is Outcome.ACCEPTED:
            assert now.status.value == "Accepted" and now.manager_id == manager
        else:
            assert answer.outcome is Outcome.EXPIRED and now.manager_id != manager
        rows = tracker(bot, workbook_dir, ticket_id)
        assert sum(r[3] in ("Accepted", "TimedOut") for r in rows) == 1, rows
        bot.click("accept", ticket_id, now.manager_id, now.attempts)  # settle it, then free everyone
        bot.click("done", ticket_id, now.manager_id, None)
        clock.advance(bot.config.dnd_seconds)
        bot.tick()


def test_two_clicks_at_once_change_the_state_once(bot, clock, workbook_dir):
    for n in range(100):
        ticket_id = f"RCA-{n}"
        bot.start_ticket(ticket_id, "", "")
        ticket = bot.cycle.state.tickets[ticket_id]
        manager, attempt = ticket.manager_id, ticket.attempts
        first, second = race(lambda: bot.click("accept", ticket_id, manager, attempt),
                             lambda: bot.click("decline", ticket_id, manager, attempt))
        rows = [r[3] for r in tracker(bot, workbook_dir, ticket_id)]
        assert (rows.count("Accepted"), rows.count("Declined")) in ((1, 0), (0, 1)), rows
        assert {first.outcome, second.outcome} in ({Outcome.ACCEPTED, Outcome.TAKEN},
                                                   {Outcome.DECLINED, Outcome.TAKEN},
                                                   {Outcome.DECLINED, Outcome.EXPIRED})
        clock.advance(bot.config.dnd_seconds + bot.config.ticket_timeout)
        bot.tick()
        for t in list(bot.cycle.state.tickets.values()):
            bot.click("accept", t.ticket_id, t.manager_id, t.attempts)
            bot.click("done", t.ticket_id, t.manager_id, None)
        clock.advance(bot.config.dnd_seconds)
        bot.tick()


def test_the_same_ticket_started_twice_at_once_starts_one_cycle(app, bot, workbook_dir):
    clients = [app.test_client(), app.test_client()]
    for n in range(100):
        ticket_id = f"RCA-{n}"
        answers = race(*[lambda c=c: c.post("/tickets", json={"ticket_id": ticket_id}) for c in clients])
        assert sorted(a.status_code for a in answers) == [200, 202]
        story = [r[3] for r in tracker(bot, workbook_dir, ticket_id)]
        assert story in (["Pinged"], ["Waiting"]), story  # one cycle, pinged or waiting for someone
