"""Generated runs of starts, clicks, disk faults and crashes: what was answered 2xx survives.

A hypothesis state machine drives one bot through random sequences of ticket starts, Accepts,
flushes and ticks, while the journal's disk fills up (its file turned into a link to /dev/full)
and frees again, its folder is deleted, and the process "dies" (the journal let go without a
flush, as in test_restart) and starts again. After every restart, every ticket whose start was
answered 2xx is still in the cycle, and every Accept answered 200 is still accepted.
"""
from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from rcabot.journal import CURRENT
from tests.conftest import buttons
from tests.fakes.clock import FakeClock
from tests.test_restart import die, restart

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
TICKETS = [f"RCA-{n}" for n in range(6)]


class JournalUnderFaults(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        import tempfile

        self.home = tempfile.mkdtemp(prefix="journal-model-")
        self.clock = FakeClock()
        self.bot, _ = restart(os.path.join(self.home, "workbook"), self.clock)
        self.client = None
        self.started: set[str] = set()  # answered 2xx
        self.accepted: set[str] = set()  # Accept answered 200

    def teardown(self):
        die(self.bot)
        shutil.rmtree(self.home, ignore_errors=True)

    def _current(self):
        return self.bot.journal.folder / CURRENT

    @rule(ticket=st.sampled_from(TICKETS))
    def start(self, ticket):
        try:
            self.bot.start_ticket(ticket, "", "")
        except Exception as exc:  # noqa: BLE001 - the refusal the API answers 503 with
            assert type(exc).__name__ == "NotStored", exc
            return
        if ticket not in self.accepted:
            self.started.add(ticket)

    @rule(ticket=st.sampled_from(TICKETS))
    def accept(self, ticket):
        view = self.bot.ticket(ticket)
        if not view or view["status"] != "Pinged" or not view["message"]:
            return
        card = next(m for m in self.bot.chat.messages() if m["name"] == view["message"])
        if "accept" not in buttons(card):
            return
        try:
            answer = self.bot.click("accept", ticket, view["manager"]["chat_id"], view["attempts"],
                                    self.bot.cycle.state.tickets[ticket].cycle)
        except Exception as exc:  # noqa: BLE001
            assert type(exc).__name__ == "NotStored", exc
            return
        if answer.outcome.value == "accepted":
            self.accepted.add(ticket)

    @rule()
    def time_passes(self):
        self.clock.advance(seconds=7)
        self.bot.deliver()
        self.bot.tick()

    @rule()
    def flush(self):
        self.bot.flush()

    @rule()
    def disk_fills(self):
        """From the journal's next file on, every write fails with ENOSPC. (A full disk keeps what
        is written: the file that holds answered entries is sealed by a flush first, not deleted.)"""
        self.bot.flush(paced=False)
        current = self._current()
        if current.exists() and not current.is_symlink() and current.stat().st_size == 0:
            current.unlink()
        if current.parent.is_dir() and not current.exists() and not current.is_symlink():
            os.symlink("/dev/full", current)

    @rule()
    def disk_frees(self):
        if self._current().is_symlink():
            self._current().unlink()

    @rule()
    def journal_folder_deleted(self):
        """The folder removed (after a flush: what it held since the last one would go with it, a
        loss no program can prevent; the README says so)."""
        self.bot.flush(paced=False)
        if self.bot.journal.folder.exists() and not list(self.bot.journal.current_entries()):
            shutil.rmtree(self.bot.journal.folder, ignore_errors=True)

    @rule()
    def crash_and_start_again(self):
        self.disk_frees()
        die(self.bot)
        self.bot, _ = restart(os.path.join(self.home, "workbook"), self.clock)
        for ticket in self.started | self.accepted:
            assert self.bot.ticket(ticket) is not None, f"{ticket} was answered 2xx and is lost"
        for ticket in self.accepted:
            assert self.bot.ticket(ticket)["status"] == "Accepted", f"{ticket}'s Accept was answered and is lost"

    @invariant()
    def health_says_the_journal_is_degraded_exactly_while_it_owes_entries(self):
        assert ("journal" in self.bot.degraded) == (self.bot._unjournaled is not None)


TestJournalUnderFaults = JournalUnderFaults.TestCase
TestJournalUnderFaults.settings = settings(max_examples=100, stateful_step_count=30, deadline=None,
                                           suppress_health_check=list(HealthCheck))
