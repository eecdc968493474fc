"""The journal file: appended and fsynced per change, sealed by a flush, replayed at start-up."""
import pytest

from rcabot.journal import CURRENT, Journal, JournalBusy, JournalMismatch


def test_entries_come_back_in_order_across_sealed_and_current_files(tmp_path):
    journal = Journal(tmp_path)
    journal.record({"n": 1})
    sealed = journal.seal()
    journal.record({"n": 2})
    assert [e["n"] for e in journal.entries()] == [1, 2]
    journal.discard(sealed)
    assert [e["n"] for e in journal.entries()] == [2]


def test_a_line_torn_by_a_crash_is_skipped_and_the_rest_kept(tmp_path):
    journal = Journal(tmp_path)
    journal.record({"n": 1})
    journal.close()
    with open(tmp_path / CURRENT, "a", encoding="utf-8") as f:
        f.write('{"n": 2, "tick')  # killed mid-write: this change was never answered
    again = Journal(tmp_path)
    assert [e["n"] for e in again.entries()] == [1]
    again.record({"n": 3})
    assert [e["n"] for e in again.entries()] == [1, 3]


def test_a_failed_flush_keeps_its_sealed_file_for_the_next(tmp_path):
    journal = Journal(tmp_path)
    journal.record({"n": 1})
    journal.seal()  # this flush fails: nothing discarded
    journal.record({"n": 2})
    both = journal.seal()
    assert len(both) == 2
    journal.discard(both)
    assert list(journal.entries()) == []


def test_sealing_numbers_continue_after_a_restart(tmp_path):
    journal = Journal(tmp_path)
    journal.record({"n": 1})
    journal.seal()
    journal.close()
    again = Journal(tmp_path)
    again.record({"n": 2})
    again.seal()
    assert [e["n"] for e in again.entries()] == [1, 2]


def test_one_owner_at_a_time(tmp_path):
    first = Journal(tmp_path)
    with pytest.raises(JournalBusy):
        Journal(tmp_path)
    first.close()
    Journal(tmp_path).close()


def test_a_journal_refuses_to_open_for_another_workbook(tmp_path):
    Journal(tmp_path, workbook="spreadsheet A").close()
    with pytest.raises(JournalMismatch, match="belongs to spreadsheet A, not to this spreadsheet B"):
        Journal(tmp_path, workbook="spreadsheet B")
    Journal(tmp_path, workbook="spreadsheet A").close()  # and the refusal left it as it was


def test_damaged_lines_spoil_only_themselves(tmp_path):
    journal = Journal(tmp_path)
    journal.record({"n": 1})
    journal.close()
    with open(tmp_path / CURRENT, "ab") as f:
        f.write(b'\xff\xfe{"n": 2}\n5\n[1, 2]\n\n')  # bad bytes, and JSON that is no entry
    again = Journal(tmp_path)
    again.record({"n": 3})
    assert [e["n"] for e in again.entries()] == [1, 3]


# --- the local copy of the state write (see RcaBot._newest_state) --------------------------

HEADER = ["Ticket", "Status"]


def test_the_copy_is_kept_whole_then_as_the_rows_each_write_changed(tmp_path):
    journal = Journal(tmp_path)
    assert journal.save_state_changes(1, {}, {"TicketState": {2: ["A", "Waiting"]}}) is False  # no copy yet
    journal.save_state(1, {"TicketState": [HEADER, ["A", "Waiting"], ["B", "Waiting"]], "StateManagement": [["x"]]})
    assert journal.save_state_changes(2, {"StateManagement": [["y"]]}, {"TicketState": {2: ["A", "Pinged"]}})
    assert journal.save_state_changes(3, {}, {"TicketState": {3: [], 5: ["C", "Waiting"]}})
    revision, tables = journal.saved_state()
    assert revision == 3 and tables["StateManagement"] == [["y"]]
    assert tables["TicketState"] == [HEADER, ["A", "Pinged"], [], [], ["C", "Waiting"]]
    journal.close()
    assert Journal(tmp_path).saved_state() == (revision, tables)  # what a restart reads


def test_a_change_line_torn_by_a_crash_ends_the_changes_and_older_copies_changes_are_passed_over(tmp_path):
    journal = Journal(tmp_path)
    journal.save_state(1, {"TicketState": [HEADER, ["A", "Waiting"]]})
    journal.save_state_changes(2, {}, {"TicketState": {2: ["A", "Pinged"]}})
    changes = (tmp_path / "state.changes.jsonl").read_bytes()
    (tmp_path / "state.changes.jsonl").write_bytes(changes + changes[:-9])  # a second line, cut short
    assert journal.saved_state() == (2, {"TicketState": [HEADER, ["A", "Pinged"]]})
    # A whole copy then a crash before the old changes were removed: they belong to copy 1, not 3.
    journal.save_state(3, {"TicketState": [HEADER, ["A", "Accepted"]]})
    (tmp_path / "state.changes.jsonl").write_bytes(changes)
    assert journal.saved_state() == (3, {"TicketState": [HEADER, ["A", "Accepted"]]})


def test_the_copy_is_written_whole_again_once_its_changes_are_large(tmp_path, monkeypatch):
    monkeypatch.setattr("rcabot.journal.CHANGES_UP_TO", 100)
    journal = Journal(tmp_path)
    journal.save_state(1, {"TicketState": [HEADER]})
    assert journal.save_state_changes(2, {}, {"TicketState": {2: ["A" * 200, "Waiting"]}})
    assert journal.save_state_changes(3, {}, {"TicketState": {2: ["B", "Waiting"]}}) is False


def test_a_full_disk_under_the_changes_makes_the_next_copy_whole(tmp_path, caplog):
    journal = Journal(tmp_path)
    journal.save_state(1, {"TicketState": [HEADER]})
    (tmp_path / "state.changes.jsonl").symlink_to("/dev/full")  # every write: ENOSPC
    assert journal.save_state_changes(2, {}, {"TicketState": {2: ["A", "Waiting"]}})
    assert "cannot keep the local copy" in caplog.text
    assert journal.save_state_changes(3, {}, {"TicketState": {2: ["A", "Pinged"]}}) is False  # whole, then
    journal.save_state(3, {"TicketState": [HEADER, ["A", "Pinged"]]})
    assert journal.saved_state() == (3, {"TicketState": [HEADER, ["A", "Pinged"]]})


def test_a_restarted_process_goes_on_adding_changes_to_the_copy_it_read(tmp_path):
    journal = Journal(tmp_path)
    journal.save_state(1, {"TicketState": [HEADER, ["A", "Waiting"]]})
    journal.save_state_changes(2, {}, {"TicketState": {2: ["A", "Pinged"]}})
    journal.close()
    again = Journal(tmp_path)
    assert again.saved_state() == (2, {"TicketState": [HEADER, ["A", "Pinged"]]})
    assert again.save_state_changes(3, {}, {"TicketState": {3: ["B", "Waiting"]}})  # no whole copy needed
    assert again.saved_state() == (3, {"TicketState": [HEADER, ["A", "Pinged"], ["B", "Waiting"]]})
    again.forget_copy()  # start-up found a later write in the sheet than this copy
    assert again.save_state_changes(4, {}, {"TicketState": {2: []}}) is False


def test_after_a_torn_change_line_the_next_copy_is_whole(tmp_path):
    journal = Journal(tmp_path)
    journal.save_state(1, {"TicketState": [HEADER]})
    journal.save_state_changes(2, {}, {"TicketState": {2: ["A", "Waiting"]}})
    with open(tmp_path / "state.changes.jsonl", "ab") as changes:
        changes.write(b'{"base": 1, "revis')  # a crash in the middle of a line
    journal.close()
    again = Journal(tmp_path)
    assert again.saved_state() == (2, {"TicketState": [HEADER, ["A", "Waiting"]]})
    assert again.save_state_changes(3, {}, {"TicketState": {3: ["B", "Waiting"]}}) is False  # lines after it would be lost
