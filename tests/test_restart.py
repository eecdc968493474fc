"""Killed at any moment and started again: nothing answered is lost, nothing posted twice.

A process death is simulated in-process by dropping the bot without its shutdown flush (only the
journal's file lock is let go, as the kernel would). The SIGKILL suite does it to a real process."""
from __future__ import annotations

import csv

import pytest

from rcabot.bootstrap import StartupError
from rcabot.web import create_app
from tests.fakes.jobs import RecordingJobs


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def die(bot) -> None:
    """The process is killed: no flush, no goodbye."""
    bot.journal.close()


def restart(workbook_dir, clock):
    jobs = RecordingJobs(clock)
    app = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock})
    return app.extensions["rcabot"], jobs


def tracker(workbook_dir, ticket_id):
    return [row[3] for row in read(workbook_dir / "Tracker.csv")[1:] if row[1] == ticket_id]


def test_an_accept_answered_just_before_a_crash_survives_it(client, bot, space, clock, workbook_dir):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    manager = space.pinged("RCA-1")
    assert space.click(space.last_card("RCA-1"), "accept", manager).status_code == 200
    die(bot)  # before any flush: the workbook knows nothing of RCA-1
    assert tracker(workbook_dir, "RCA-1") == []

    again, jobs = restart(workbook_dir, clock)
    assert again.ticket("RCA-1")["status"] == "Accepted"
    assert again.ticket("RCA-1")["manager"]["chat_id"] == manager
    assert next(m for m in again.status()["managers"] if m["chat_id"] == manager)["dnd_until"]
    assert "ping-timeout:RCA-1" not in jobs.timers  # an accepted ticket is not pinged again
    again.flush()
    assert tracker(workbook_dir, "RCA-1") == ["Pinged", "Accepted"]
    again.flush()
    assert tracker(workbook_dir, "RCA-1") == ["Pinged", "Accepted"]  # once, even flushed twice


def test_a_crash_after_a_flush_replays_nothing_twice(client, bot, space, clock, workbook_dir):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.flush()
    space.click(space.last_card("RCA-1"), "decline", space.pinged("RCA-1"))
    die(bot)
    again, _ = restart(workbook_dir, clock)
    again.flush()
    assert tracker(workbook_dir, "RCA-1") == ["Pinged", "Declined", "Pinged"]


def test_a_waiting_ticket_survives_a_crash(client, bot, space, clock, workbook_dir):
    on_shift = [m for m in bot.status()["managers"] if m["on_shift"]]
    for n in range(len(on_shift) + 1):
        client.post("/tickets", json={"ticket_id": f"RCA-{n}"})
    waiting = [t["ticket_id"] for t in bot.status()["tickets"] if t["status"] == "Waiting"]
    assert waiting
    die(bot)
    again, _ = restart(workbook_dir, clock)
    assert [t["ticket_id"] for t in again.status()["tickets"] if t["status"] == "Waiting"] == waiting


def test_a_ping_not_yet_posted_at_the_crash_is_posted_once_after_it(client, bot, space, clock, workbook_dir,
                                                                     monkeypatch):
    monkeypatch.setattr(bot, "deliver", lambda: None)  # the crash comes before the deliver job ran
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    assert bot.chat.messages() == []
    die(bot)
    again, _ = restart(workbook_dir, clock)
    again.deliver()
    assert len(again.chat.messages()) == 1
    assert again.ticket("RCA-1")["thread"]


def test_a_ping_posted_before_the_crash_is_not_posted_again(client, bot, space, clock, workbook_dir):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    die(bot)
    again, _ = restart(workbook_dir, clock)
    again.deliver()
    assert len(again.chat.messages()) == 1


def test_a_second_process_on_the_same_workbook_refuses_to_start_and_says_why(bot, workbook_dir, clock):
    with pytest.raises(StartupError) as refused:
        restart(workbook_dir, clock)
    assert "already runs on this workbook" in str(refused.value)


def test_a_crash_between_the_tracker_append_and_forgetting_the_journal_writes_no_row_twice(
        client, bot, space, clock, workbook_dir, monkeypatch):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    monkeypatch.setattr(bot.journal, "discard", lambda sealed: None)  # killed right after the append
    bot.flush()
    assert tracker(workbook_dir, "RCA-1") == ["Pinged"]
    space.click(space.last_card("RCA-1"), "decline", space.pinged("RCA-1"))  # journaled, not flushed
    die(bot)

    again, _ = restart(workbook_dir, clock)
    again.flush()
    assert tracker(workbook_dir, "RCA-1") == ["Pinged", "Declined", "Pinged"]


def test_a_flush_that_failed_before_its_append_is_written_after_a_crash(client, bot, clock, workbook_dir,
                                                                         monkeypatch):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    monkeypatch.setattr(bot.workbook, "append_rows", lambda tab, rows: (_ for _ in ()).throw(OSError("killed")))
    with pytest.raises(OSError):
        bot.flush()  # sealed the journal, then died before the Tracker got anything
    die(bot)

    again, _ = restart(workbook_dir, clock)
    again.flush()
    assert tracker(workbook_dir, "RCA-1") == ["Pinged"]


def test_a_waiting_notice_not_yet_posted_at_the_crash_is_posted_once_after_it(client, bot, space, clock,
                                                                             workbook_dir, monkeypatch):
    on_shift = [m for m in bot.status()["managers"] if m["on_shift"]]
    for n in range(len(on_shift)):
        client.post("/tickets", json={"ticket_id": f"RCA-{n}"})
        clock.advance(1)  # the space takes a write a second: each ping is in it before the next
    monkeypatch.setattr(bot, "deliver", lambda: None)  # the crash comes before the notice is posted
    client.post("/tickets", json={"ticket_id": "RCA-late"})
    assert bot.ticket("RCA-late")["status"] == "Waiting" and space.thread("RCA-late") == []
    die(bot)

    again, _ = restart(workbook_dir, clock)
    again.deliver()
    notice = thread(again, "RCA-late")
    assert len(notice) == 1 and "waits" in notice[0]["text"]
    again.flush()
    die(again)

    once_more, _ = restart(workbook_dir, clock)
    once_more.deliver()
    assert len(thread(once_more, "RCA-late")) == 1  # posted and remembered: not posted again


def thread(bot, ticket_id):
    name = bot.ticket(ticket_id)["thread"]
    return [m for m in bot.chat.messages() if name and m["thread"]["name"] == name]


def test_an_older_state_write_landing_late_does_not_undo_a_newer_one(client, bot, space, clock, workbook_dir):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.flush()
    older = {tab: (workbook_dir / f"{tab}.csv").read_bytes() for tab in ("TicketState", "StateManagement")}
    clock.advance(5)
    space.click(space.last_card("RCA-1"), "accept", space.pinged("RCA-1"))
    bot.flush()
    for tab, content in older.items():  # the first write, delayed at Sheets, lands on top of the second
        (workbook_dir / f"{tab}.csv").write_bytes(content)
    die(bot)

    again, jobs = restart(workbook_dir, clock)
    assert again.ticket("RCA-1")["status"] == "Accepted"
    assert "ping-timeout:RCA-1" not in jobs.timers
    again.flush()  # and the spreadsheet is put right
    assert [row[3] for row in read(workbook_dir / "TicketState.csv")[1:]] == ["Accepted"]


def test_state_tabs_cleared_by_hand_while_the_bot_was_stopped_are_taken_as_they_are(client, bot, clock,
                                                                                     workbook_dir):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.flush()
    die(bot)
    for tab in ("TicketState", "StateManagement"):  # ops reset the bot's state
        rows = read(workbook_dir / f"{tab}.csv")[:1]
        with open(workbook_dir / f"{tab}.csv", "w", newline="") as f:
            csv.writer(f).writerows(rows)
    again, _ = restart(workbook_dir, clock)
    assert again.ticket("RCA-1") is None


def test_a_second_workbook_in_the_same_folder_starts_fresh_not_with_the_first_ones_journal(tmp_path, clock):
    first, _ = restart(tmp_path / "team-a", clock)
    first.start_ticket("RCA-1", "", "")
    die(first)  # the journal of team-a still holds RCA-1

    second, _ = restart(tmp_path / "team-b", clock)
    assert second.ticket("RCA-1") is None
    assert second.status()["tickets"] == []


def test_a_journal_named_for_another_workbook_stops_the_start_with_what_to_do(tmp_path, clock, monkeypatch):
    first, _ = restart(tmp_path / "team-a", clock)
    die(first)
    monkeypatch.setenv("RCABOT_JOURNAL_DIR", str(tmp_path / "team-a" / ".journal"))
    with pytest.raises(StartupError, match="belongs to local workbook .*RCABOT_JOURNAL_DIR"):
        restart(tmp_path / "team-b", clock)


def test_a_lost_workbook_id_file_does_not_lock_the_bot_out_of_its_own_journal(tmp_path, clock):
    first, _ = restart(tmp_path / "team-a", clock)
    first.start_ticket("RCA-1", "", "")
    die(first)
    (tmp_path / "team-a" / ".workbook-id").unlink()

    again, _ = restart(tmp_path / "team-a", clock)
    assert again.ticket("RCA-1")


def test_a_restart_counts_the_writes_the_process_before_it_made_in_the_last_minute(client, bot, clock,
                                                                                     workbook_dir):
    """Google's quotas are per minute, whichever process writes: a bot started again at once must
    not spend a full minute's writes on top of its predecessor's."""
    bot.sheets_pace.record(clock(), 50)  # a busy minute
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.flush()  # the 51st
    client.post("/tickets", json={"ticket_id": "RCA-2"})
    bot.close()  # the shutdown flush, the 52nd: out of the pace, but counted
    spent = 60 - bot.sheets_pace.room(clock())
    assert spent == 52 + 2  # and the two writes that made the workbook's tabs at the first start
    again, jobs = restart(workbook_dir, clock)
    assert again.sheets_pace.room(clock()) == 60 - spent
    clock.advance(62)
    assert again.sheets_pace.room(clock()) == 60


def test_a_damaged_record_of_the_last_minutes_writes_is_ignored(client, bot, clock, workbook_dir):
    bot.close()
    (bot.journal.folder / "paces.json").write_text('{"sheets": ["not a time", 3], "chat": "x"', encoding="utf-8")
    again, jobs = restart(workbook_dir, clock)
    assert again.sheets_pace.room(clock()) == 60


def test_a_start_that_must_make_its_tabs_waits_for_room_in_the_minutes_writes(client, bot, clock, workbook_dir,
                                                                              monkeypatch):
    """Making tabs is two Sheets writes outside any flush: they wait for the quota like the rest
    (twenty teams' bots starting at once made forty of them on top of their flushes)."""
    bot.sheets_pace.record(clock(), 60)  # the last minute's writes, all spent
    bot.close()
    (workbook_dir / "ManagerState.csv").unlink()  # deleted meanwhile: the next start makes it again
    slept: list[float] = []
    monkeypatch.setattr("rcabot.bot.time.sleep", lambda seconds: (slept.append(seconds), clock.advance(seconds)))
    again, jobs = restart(workbook_dir, clock)
    assert slept and sum(slept) >= 60  # it waited for the minute's writes to pass
    assert (workbook_dir / "ManagerState.csv").exists()
