"""The journal on a disk that fails: a start or a click is answered 2xx only once it is on disk.

The faults are the operating system's own: the journal file turned into a link to /dev/full
(every write fails with ENOSPC, as on a full disk) and the journal folder deleted, or replaced by
a file, while the bot runs. A crash is simulated as in test_restart (the journal's lock let go,
no flush)."""
from __future__ import annotations

import os
import resource
import shutil

import pytest

from rcabot.chat import ChatError
from rcabot.chat.local import LocalSpace
from rcabot.journal import CURRENT
from tests.fakes.clock import FakeClock
from tests.test_restart import die, restart, tracker

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


def fill_disk(bot) -> None:
    """Every later write to the journal fails with ENOSPC, as on a full disk."""
    path = bot.journal.folder / CURRENT
    path.unlink(missing_ok=True)
    os.symlink("/dev/full", path)


def free_disk(bot) -> None:
    (bot.journal.folder / CURRENT).unlink()


def start(client, ticket_id):
    return client.post("/tickets", json={"ticket_id": ticket_id})


def test_starts_are_refused_with_503_while_the_journal_disk_is_full(client, bot):
    assert start(client, "RCA-1").status_code == 202
    fill_disk(bot)

    onset = start(client, "RCA-2")  # the write that meets the full disk
    assert onset.status_code == 503
    assert "journal" in onset.get_json()["error"]
    assert int(onset.headers["Retry-After"]) > 0
    later = start(client, "RCA-3")  # known broken: refused before anything changes
    assert later.status_code == 503
    assert bot.ticket("RCA-3") is None
    health = client.get("/healthz")
    assert health.status_code == 503 and "journal" in health.get_json()["problems"]


def test_clicks_and_commands_are_refused_too_rather_than_answered_and_forgotten(client, bot, space):
    start(client, "RCA-1")
    manager = space.pinged("RCA-1")
    fill_disk(bot)
    start(client, "RCA-2")  # meets the full disk

    click = space.click(space.last_card("RCA-1"), "accept", manager)
    assert click.status_code == 503
    assert bot.ticket("RCA-1")["status"] == "Pinged"
    dnd = client.post("/chat/events", json={
        "type": "MESSAGE", "user": {"name": manager}, "space": {"name": "spaces/local", "spaceType": "SPACE"},
        "message": {"name": "spaces/local/messages/u1", "text": "dnd 1h", "argumentText": "dnd 1h"}})
    assert dnd.status_code == 503
    assert next(m for m in bot.status()["managers"] if m["chat_id"] == manager)["dnd_until"] is None


def test_the_journal_recovers_by_itself_once_the_disk_has_room(client, bot, clock, workbook_dir):
    start(client, "RCA-1")
    fill_disk(bot)
    assert start(client, "RCA-2").status_code == 503  # in memory, not on disk
    free_disk(bot)

    assert start(client, "RCA-3").status_code == 202
    assert client.get("/healthz").status_code == 200
    assert start(client, "RCA-2").status_code == 200  # the caller's retry finds it

    die(bot)  # nothing flushed: only the journal knows of these tickets
    again, _ = restart(workbook_dir, clock)
    assert {t for t in ("RCA-1", "RCA-2", "RCA-3") if again.ticket(t)} == {"RCA-1", "RCA-2", "RCA-3"}
    again.flush()
    assert tracker(workbook_dir, "RCA-2") == ["Pinged"]  # the onset's row, once


def test_the_flush_brings_the_journal_back_without_any_request(client, bot):
    start(client, "RCA-1")
    fill_disk(bot)
    start(client, "RCA-2")
    free_disk(bot)
    assert client.get("/healthz").status_code == 503

    bot.flush()
    assert client.get("/healthz").status_code == 200


def test_a_journal_folder_deleted_while_running_is_made_again_with_everything_in_it(client, bot, clock,
                                                                                     workbook_dir, space):
    start(client, "RCA-1")
    manager = space.pinged("RCA-1")
    assert space.click(space.last_card("RCA-1"), "accept", manager).status_code == 200
    shutil.rmtree(bot.journal.folder)

    # The write meets a deleted file; the folder is made again at once with the whole state in it.
    assert start(client, "RCA-2").status_code == 202
    assert start(client, "RCA-3").status_code == 202
    assert client.get("/healthz").status_code == 200

    die(bot)
    again, _ = restart(workbook_dir, clock)
    assert again.ticket("RCA-1")["status"] == "Accepted"
    assert again.ticket("RCA-2") and again.ticket("RCA-3")
    again.flush()
    assert tracker(workbook_dir, "RCA-1") == ["Pinged", "Accepted"]


def test_a_journal_folder_deleted_while_a_failed_flush_holds_its_sealed_entries_loses_nothing(client, bot, clock,
                                                                                               workbook_dir):
    start(client, "RCA-1")
    (workbook_dir / "TicketState.csv").unlink()
    (workbook_dir / "TicketState.csv").mkdir()  # the flush cannot write: its sealed file stays
    bot.flush(paced=False)
    shutil.rmtree(bot.journal.folder)  # and goes, with the only copy of RCA-1

    assert start(client, "RCA-2").status_code == 202
    (workbook_dir / "TicketState.csv").rmdir()
    die(bot)
    again, _ = restart(workbook_dir, clock)
    assert again.ticket("RCA-1") and again.ticket("RCA-2")


def test_a_journal_folder_replaced_by_a_file_refuses_until_it_is_a_folder_again(client, bot):
    start(client, "RCA-1")
    folder = bot.journal.folder
    shutil.rmtree(folder)
    folder.write_text("not a folder")
    assert start(client, "RCA-2").status_code == 503
    assert start(client, "RCA-3").status_code == 503
    folder.unlink()
    assert start(client, "RCA-3").status_code == 202
    assert client.get("/healthz").status_code == 200


def test_a_local_space_on_a_full_disk_refuses_the_post_leaves_no_temporary_file_and_posts_once_it_can(tmp_path):
    space = LocalSpace(FakeClock(), store=tmp_path / "space.json")
    space.create_message("spaces/local", {"text": "x" * 4000}, thread_key="t1", request_id="r1")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, hard))  # no file of this process may pass 2 KiB
    try:
        with pytest.raises(ChatError, match="cannot save the local space"):
            space.create_message("spaces/local", {"text": "hello"}, thread_key="t2", request_id="r2")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert [p.name for p in tmp_path.iterdir()] == ["space.json"]
    space.create_message("spaces/local", {"text": "hello"}, thread_key="t2", request_id="r2")  # the retry
    saved = LocalSpace(FakeClock(), store=tmp_path / "space.json").messages()
    assert [m["text"] for m in saved] == ["x" * 4000, "hello"]


@pytest.mark.parametrize("damage", ["", '{"messages": [', "not json", '{"messages": 1}',
                                    '{"messages": 1, "threads": {}, "requests": {}}'])
def test_a_local_space_file_cut_or_garbled_does_not_stop_the_start(tmp_path, damage):
    (tmp_path / "space.json").write_text(damage, encoding="utf-8")
    space = LocalSpace(FakeClock(), store=tmp_path / "space.json")
    assert space.messages() == []
    assert (tmp_path / "space.json.damaged").read_text(encoding="utf-8") == damage
    space.create_message("spaces/local", {"text": "hello"}, thread_key="t", request_id="r")
    assert [m["text"] for m in LocalSpace(FakeClock(), store=tmp_path / "space.json").messages()] == ["hello"]
