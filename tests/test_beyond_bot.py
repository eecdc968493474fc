"""The features beyond the older bot, through the whole bot on the local workbook and space."""
import csv

from tests.conftest import drain, set_configuration


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_an_escalation_is_posted_in_the_tickets_thread_and_tracked(client, bot, space, clock, jobs, workbook_dir):
    set_configuration(workbook_dir, EscalationAfterSeconds=600, EscalationContacts="users/1004")
    bot.reload()
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    clock.advance(600)
    jobs.fire_due()  # the ping lapsed long ago (TicketTimeout 60) and the escalation fell due
    drain(bot, clock)
    escalation = [m for m in space.thread("RCA-1") if "Escalation" in m.get("text", "")]
    assert len(escalation) == 1
    assert escalation[0]["text"].startswith("@Dana Kim Escalation: RCA-1 was not accepted 10 min after it was ready")
    bot.flush()
    statuses = [row[3] for row in read(workbook_dir / "Tracker.csv")[1:]]
    assert statuses.count("Escalated") == 1


def test_the_bot_status_tab_is_written_with_the_next_flush_and_names_problems(bot, workbook_dir):
    set_configuration(workbook_dir, TicketTimeout="soon")
    bot.reload()
    bot.flush()
    rows = read(workbook_dir / "BotStatus.csv")
    assert rows[0] == ["Item", "Value", "Detail"]
    assert any(r[0] == "Shift" and r[1] == "2" for r in rows)
    assert ["Problem", "Configuration B2",
            "TicketTimeout is 'soon'; it must be a whole number of at least 1"] in rows


def test_the_digest_is_one_message_in_the_space(client, bot, space, clock):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    space.click(space.last_card("RCA-1"), "accept", space.pinged("RCA-1"))
    clock.advance(1)  # the space takes a write a second
    bot.digest()
    bot.digest()  # the same day's digest again (a misfire, a retry) is not posted twice
    digests = [m for m in bot.chat.messages() if m.get("text", "").startswith("Daily digest")]
    assert len(digests) == 1
    assert "RCA-1: accepted by" in digests[0]["text"]
    assert digests[0]["thread"]["name"] != bot.ticket("RCA-1")["thread"]


def test_a_ticket_id_cannot_smuggle_a_mention_into_an_escalation(client, bot, space, clock, jobs, workbook_dir):
    set_configuration(workbook_dir, EscalationAfterSeconds=600, EscalationContacts="users/1004")
    bot.reload()
    client.post("/tickets", json={"ticket_id": "<users/all>"})
    clock.advance(600)
    jobs.fire_due()
    drain(bot, clock)
    [escalation] = [m for m in bot.chat.messages() if "Escalation" in m.get("text", "")]
    assert escalation["text"].startswith("@Dana Kim Escalation: \u2039users/all\u203a")
    assert [a["userMention"]["user"]["name"] for a in escalation.get("annotations", [])] == ["users/1004"]


def test_the_console_serves_the_bot_status_rows_live(client, workbook_dir, bot):
    set_configuration(workbook_dir, RotationMode="random")
    bot.reload()
    rows = client.get("/console/status").json["rows"]
    assert rows[0] == ["Item", "Value", "Detail"]
    problems = [r for r in rows if r[0] == "Problem"]
    assert problems == [["Problem", "Configuration Q2", "RotationMode is 'random'; write round_robin or load_balance"]]
