"""The ticket cycle's state machine, with the time passed in."""
from datetime import datetime, time, timedelta, timezone

import pytest

from rcabot.cycle import (CancelTimer, Cycle, Notice, Outcome, Ping, Rules, SetTimer, Tracked, dnd_timer,
                          timeout_timer)
from rcabot.model import BotState, Manager, TicketStatus
from rcabot.shifts import ShiftSchedule

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)  # shift 2 of the schedule below
SCHEDULE = ShiftSchedule((time(0), time(6), time(12), time(18)))
ADA = Manager("Ada", "users/1", shifts=frozenset({2}))
BEA = Manager("Bea", "users/2", shifts=frozenset({2}))
CAL = Manager("Cal", "users/3", shifts=frozenset({2, 3}))
NIGHT = Manager("Nia", "users/9", shifts=frozenset({1}))


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class PostedAtOnce(Cycle):
    """The cycle as the shell runs it when the space takes each ping the moment it is made."""

    def _ping(self, ticket, *args):
        effects = super()._ping(ticket, *args)
        ticket.message_id = f"spaces/S/messages/{ticket.ticket_id}.{ticket.attempts}"
        self.index.file(ticket)  # as Cycle.delivered does
        return effects


RULES = Rules(timedelta(seconds=300), timedelta(seconds=3600), SCHEDULE)


@pytest.fixture
def cycle() -> Cycle:
    return PostedAtOnce(BotState(), [ADA, BEA, CAL, NIGHT], RULES)


def tracked(effects) -> list[tuple[str, str]]:
    return [(e.status.value, e.manager_name) for e in effects if isinstance(e, Tracked)]


def pings(effects) -> list[str]:
    return [e.manager.name for e in effects if isinstance(e, Ping)]


def test_a_new_ticket_pings_the_first_manager_on_shift_and_sets_its_timeout(cycle):
    ticket, effects = cycle.start("RCA-1", "Latency", "", T0)
    assert pings(effects) == ["Ada"]
    assert tracked(effects) == [("Pinged", "Ada")]
    assert SetTimer(timeout_timer("RCA-1"), later(300)) in effects
    assert ticket.status is TicketStatus.PINGED and ticket.deadline == later(300)


def test_starting_the_same_ticket_again_changes_nothing(cycle):
    cycle.start("RCA-1", "", "", T0)
    ticket, effects = cycle.start("RCA-1", "", "", later(5))
    assert effects == [] and ticket.manager_name == "Ada" and ticket.attempts == 1


def test_consecutive_tickets_go_round_robin(cycle):
    names = [pings(cycle.start(f"RCA-{n}", "", "", T0)[1]) for n in range(3)]
    assert names == [["Ada"], ["Bea"], ["Cal"]]


def test_accept_ends_the_cycle_and_puts_the_manager_in_dnd(cycle):
    cycle.start("RCA-1", "", "", T0)
    answer = cycle.accept("RCA-1", "users/1", later(10), attempt=1)
    assert answer.outcome is Outcome.ACCEPTED
    assert tracked(answer.effects) == [("Accepted", "Ada")]
    assert CancelTimer(timeout_timer("RCA-1")) in answer.effects
    assert cycle.state.in_dnd("users/1", later(3609)) and not cycle.state.in_dnd("users/1", later(3610))


def test_decline_pings_the_next_manager_and_the_decliner_rests(cycle):
    cycle.start("RCA-1", "", "", T0)
    answer = cycle.decline("RCA-1", "users/1", later(10), attempt=1)
    assert answer.outcome is Outcome.DECLINED and answer.ticket.manager_name == "Ada"
    assert tracked(answer.effects) == [("Declined", "Ada"), ("Pinged", "Bea")]
    ping = next(e for e in answer.effects if isinstance(e, Ping))
    assert ping.note == "Declined by Ada." and ping.attempt == 2
    assert cycle.state.in_dnd("users/1", later(11))


def test_silence_past_the_timeout_pings_the_next_manager(cycle):
    cycle.start("RCA-1", "", "", T0)
    assert cycle.tick(later(299)) == [SetTimer("shift-boundary", datetime(2026, 11, 23, 12, tzinfo=timezone.utc))]
    effects = cycle.tick(later(300))
    assert tracked(effects) == [("TimedOut", "Ada"), ("Pinged", "Bea")]
    assert not cycle.state.in_dnd("users/1", later(300))


def test_the_manager_who_timed_out_is_pinged_again_only_if_nobody_else_can_be(cycle):
    cycle.reload([ADA], cycle.rules, T0)
    cycle.start("RCA-1", "", "", T0)
    effects = cycle.tick(later(300))
    assert tracked(effects) == [("TimedOut", "Ada"), ("Pinged", "Ada")]


def test_done_by_the_assignee_completes_and_forgets_the_ticket(cycle):
    cycle.start("RCA-1", "", "", T0)
    cycle.accept("RCA-1", "users/1", later(10))
    answer = cycle.done("RCA-1", "users/1", later(20))
    assert answer.outcome is Outcome.COMPLETED and tracked(answer.effects) == [("Completed", "Ada")]
    assert "RCA-1" not in cycle.state.tickets


def test_a_repeated_done_is_answered_alike_and_writes_nothing(cycle):
    cycle.start("RCA-1", "", "", T0)
    cycle.accept("RCA-1", "users/1", later(10))
    cycle.done("RCA-1", "users/1", later(20))
    again = cycle.done("RCA-1", "users/1", later(21))
    assert again.outcome is Outcome.COMPLETED and again.effects == []


def test_a_repeated_accept_is_answered_alike_and_writes_nothing(cycle):
    cycle.start("RCA-1", "", "", T0)
    cycle.accept("RCA-1", "users/1", later(10), attempt=1)
    again = cycle.accept("RCA-1", "users/1", later(11), attempt=1)
    assert again.outcome is Outcome.ACCEPTED and again.effects == []


@pytest.mark.parametrize("click, outcome", [
    (lambda c: c.accept("RCA-1", "users/2", later(1), 1), Outcome.NOT_YOURS),
    (lambda c: c.decline("RCA-1", "users/2", later(1), 1), Outcome.NOT_YOURS),
    (lambda c: c.accept("RCA-1", "users/1", later(1), 7), Outcome.EXPIRED),
    (lambda c: c.done("RCA-1", "users/1", later(1)), Outcome.NOT_ACCEPTED),
    (lambda c: c.accept("RCA-404", "users/1", later(1), 1), Outcome.CLOSED),
])
def test_clicks_that_are_not_the_pinged_managers_answer_change_nothing(cycle, click, outcome):
    cycle.start("RCA-1", "", "", T0)
    before = repr(cycle.state)
    answer = click(cycle)
    assert answer.outcome is outcome and answer.effects == []
    assert repr(cycle.state) == before


def test_a_click_on_the_card_of_a_ping_that_timed_out_is_expired(cycle):
    cycle.start("RCA-1", "", "", T0)
    cycle.tick(later(300))
    answer = cycle.accept("RCA-1", "users/1", later(301), attempt=1)
    assert answer.outcome is Outcome.EXPIRED and answer.ticket.manager_name == "Bea"


def test_only_the_assignee_can_mark_done_and_nobody_else_can_accept_a_taken_ticket(cycle):
    cycle.start("RCA-1", "", "", T0)
    cycle.accept("RCA-1", "users/1", later(10))
    assert cycle.done("RCA-1", "users/2", later(11)).outcome is Outcome.NOT_YOURS
    assert cycle.accept("RCA-1", "users/2", later(11)).outcome is Outcome.TAKEN
    assert cycle.decline("RCA-1", "users/1", later(11)).outcome is Outcome.TAKEN


def test_a_ticket_waits_visibly_when_nobody_is_free_and_is_pinged_when_someone_is(cycle):
    for n in range(3):
        cycle.start(f"RCA-{n}", "", "", T0)  # Ada, Bea and Cal each hold a ping
    ticket, effects = cycle.start("RCA-3", "", "", T0)
    assert ticket.status is TicketStatus.WAITING
    assert tracked(effects) == [("Waiting", "")]
    assert [e.text for e in effects if isinstance(e, Notice)] == [
        "Nobody on shift 2 is free right now: RCA-3 waits and goes to the first manager who is."]
    answer = cycle.accept("RCA-0", "users/1", later(5))
    assert pings(answer.effects) == []  # Ada rests after accepting: still nobody free
    assert cycle.state.tickets["RCA-3"].status is TicketStatus.WAITING


def test_a_timeout_gives_the_freed_manager_to_the_oldest_waiting_ticket_first(cycle):
    cycle.reload([ADA, BEA], cycle.rules, T0)
    cycle.start("RCA-1", "", "", T0)  # Ada
    cycle.start("RCA-2", "", "", later(1))  # Bea
    cycle.start("RCA-3", "", "", later(2))  # waits
    effects = cycle.tick(later(300))  # Ada lets RCA-1 lapse
    assert tracked(effects) == [("TimedOut", "Ada"), ("Pinged", "Ada"), ("Waiting", "")]
    assert [e.ticket_id for e in effects if isinstance(e, Ping)] == ["RCA-3"]
    notice = next(e for e in effects if isinstance(e, Notice))
    assert notice.ticket_id == "RCA-1" and notice.text.startswith("Timed out for Ada. Nobody on shift 2")


def test_a_declined_ticket_waits_with_one_notice_when_nobody_else_is_free(cycle):
    cycle.reload([ADA], cycle.rules, T0)
    cycle.start("RCA-1", "", "", T0)
    answer = cycle.decline("RCA-1", "users/1", later(5))
    assert tracked(answer.effects) == [("Declined", "Ada"), ("Waiting", "")]
    assert CancelTimer(timeout_timer("RCA-1")) in answer.effects
    assert pings(cycle.tick(later(60))) == []  # no second notice while it keeps waiting
    assert tracked(cycle.tick(later(61))) == []


def test_waiting_tickets_are_pinged_oldest_first_when_a_dnd_ends(cycle):
    cycle.reload([ADA], cycle.rules, T0)
    cycle.start("RCA-1", "", "", T0)
    cycle.accept("RCA-1", "users/1", later(1))
    cycle.start("RCA-2", "", "", later(2))
    cycle.start("RCA-3", "", "", later(3))
    assert pings(cycle.tick(later(3600))) == []
    effects = cycle.tick(later(3601))
    assert [(e.ticket_id, e.manager.name) for e in effects if isinstance(e, Ping)] == [("RCA-2", "Ada")]


def test_a_shift_change_wakes_waiting_tickets_for_the_new_shift(cycle):
    cycle.reload([NIGHT], cycle.rules, T0)  # nobody works shift 2
    _, effects = cycle.start("RCA-1", "", "", T0)
    assert pings(effects) == []
    midnight = datetime(2026, 11, 24, 0, 0, tzinfo=timezone.utc)
    assert pings(cycle.tick(midnight)) == ["Nia"]


def test_a_reload_that_adds_a_manager_wakes_waiting_tickets(cycle):
    cycle.reload([NIGHT], cycle.rules, T0)
    cycle.start("RCA-1", "", "", T0)
    assert pings(cycle.reload([NIGHT, BEA], cycle.rules, later(30))) == ["Bea"]


def test_an_open_ping_keeps_its_manager_across_a_shift_change_until_it_times_out(cycle):
    cycle.start("RCA-1", "", "", datetime(2026, 11, 23, 11, 58, tzinfo=timezone.utc))
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    assert pings(cycle.tick(noon)) == []
    effects = cycle.tick(noon + timedelta(minutes=3))
    assert tracked(effects) == [("TimedOut", "Ada"), ("Pinged", "Cal")]  # Cal is the one on shift 3


def test_a_late_delivery_restarts_the_timeout_from_the_delivery(cycle):
    cycle.start("RCA-1", "", "", T0)
    effects = cycle.delivered("RCA-1", 1, "spaces/s/messages/m", "spaces/s/threads/t", later(90))
    assert effects == [SetTimer(timeout_timer("RCA-1"), later(390))]
    assert cycle.state.tickets["RCA-1"].message_id == "spaces/s/messages/m"


def test_resume_after_a_restart_times_out_what_fell_due_and_rearms_the_rest(cycle):
    cycle.start("RCA-1", "", "", T0)
    cycle.start("RCA-2", "", "", later(200))
    restarted = Cycle(cycle.state, cycle.managers, cycle.rules)
    effects = restarted.resume(later(350))
    assert tracked(effects) == [("TimedOut", "Ada"), ("Pinged", "Cal")]
    assert SetTimer(timeout_timer("RCA-2"), later(500)) in effects


def test_a_ping_not_yet_in_the_space_does_not_lapse_and_counts_its_timeout_from_delivery():
    cycle = Cycle(BotState(), [ADA, BEA], RULES)  # Chat is down: nothing is delivered
    cycle.start("RCA-1", "", "", T0)
    assert tracked(cycle.tick(later(900))) == []
    assert cycle.state.tickets["RCA-1"].manager_id == "users/1"
    assert cycle.delivered("RCA-1", 1, "spaces/S/messages/1", "spaces/S/threads/1", later(900)) == [
        SetTimer(timeout_timer("RCA-1"), later(1200))]
    assert tracked(cycle.tick(later(1199))) == []
    assert tracked(cycle.tick(later(1200))) == [("TimedOut", "Ada"), ("Pinged", "Bea")]


def test_a_manager_who_rests_is_skipped_until_their_dnd_ends(cycle):
    assert cycle.rest("users/1", later(1800), T0) == [SetTimer(dnd_timer("users/1"), later(1800))]
    assert cycle.next_up(T0) == BEA
    _, effects = cycle.start("RCA-1", "", "", later(1))
    assert pings(effects) == ["Bea"]
    assert cycle.state.in_dnd("users/1", later(1799)) and not cycle.state.in_dnd("users/1", later(1800))


def test_resting_while_holding_a_ping_leaves_the_ping_open_and_writes_no_tracker_row(cycle):
    cycle.start("RCA-1", "", "", T0)
    effects = cycle.rest("users/1", later(7200), later(10))
    assert tracked(effects) == [] and pings(effects) == []
    assert cycle.state.tickets["RCA-1"].manager_id == "users/1"
    assert cycle.accept("RCA-1", "users/1", later(20)).outcome is Outcome.ACCEPTED


def test_accepting_keeps_a_longer_dnd_the_manager_set_themselves(cycle):
    cycle.start("RCA-1", "", "", T0)
    cycle.rest("users/1", later(7200), later(10))
    answer = cycle.accept("RCA-1", "users/1", later(20))
    assert SetTimer(dnd_timer("users/1"), later(7200)) in answer.effects
    assert cycle.state.dnd_until["users/1"] == later(7200)


def test_coming_back_pings_a_waiting_ticket_at_once(cycle):
    cycle.reload([ADA], cycle.rules, T0)
    cycle.rest("users/1", later(3600), T0)
    cycle.start("RCA-1", "", "", later(5))
    assert cycle.next_up(later(5)) is None
    effects = cycle.come_back("users/1", later(60))
    assert effects[0] == CancelTimer(dnd_timer("users/1"))
    assert pings(effects) == ["Ada"] and tracked(effects) == [("Pinged", "Ada")]
    assert not cycle.state.in_dnd("users/1", later(60))


def test_coming_back_when_not_resting_changes_nothing(cycle):
    before = repr(cycle.state)
    assert cycle.come_back("users/1", T0) == []
    assert repr(cycle.state) == before


def test_a_deadline_is_rounded_up_to_the_second_the_tabs_can_store(cycle):
    ticket, _ = cycle.start("RCA-1", "", "", T0 + timedelta(microseconds=250_000))
    assert ticket.deadline == later(301)  # never sooner than TicketTimeout, and the same after a restart


def test_who_passed_a_ticket_on_is_kept_in_the_tabs_in_order(cycle):
    from rcabot.config import TabNames
    from rcabot.state_tabs import load_state, state_rows

    cycle.start("RCA-1", "", "", T0)
    cycle.tick(later(300))  # Ada let it lapse; Bea is pinged
    cycle.decline("RCA-1", "users/2", later(310), attempt=2)
    restored = load_state(state_rows(cycle.state, TabNames()), TabNames()).tickets["RCA-1"]
    assert restored.passed_by == ("users/1", "users/2") and restored.passed_over == "users/2"
