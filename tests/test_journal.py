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
