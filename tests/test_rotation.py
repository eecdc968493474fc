from rcabot.model import Manager
from rcabot.rotation import on_shift, pick_manager

ADA = Manager("Ada", "users/1", shifts=frozenset({1}))
BEA = Manager("Bea", "users/2", shifts=frozenset({1, 2}))
CAL = Manager("Cal", "users/3", shifts=frozenset({2}))
DEE = Manager("Dee", "users/4", shifts=None)
OLD = Manager("Old", "users/5", shifts=None, active=False)
TEAM = [ADA, BEA, CAL, DEE, OLD]
ORDER = [m.chat_id for m in TEAM]


def test_round_robin_starts_after_the_manager_last_pinged_in_the_shift():
    assert pick_manager(on_shift(TEAM, 1), after="", busy=set()) is ADA
    assert pick_manager(on_shift(TEAM, 1), after="users/1", busy=set()) is BEA
    assert pick_manager(on_shift(TEAM, 1), after="users/2", busy=set()) is DEE
    assert pick_manager(on_shift(TEAM, 1), after="users/4", busy=set()) is ADA


def test_managers_of_other_shifts_and_inactive_managers_are_never_picked():
    picks = set()
    after = ""
    for _ in range(10):
        manager = pick_manager(on_shift(TEAM, 2), after, busy=set())
        picks.add(manager.name)
        after = manager.chat_id
    assert picks == {"Bea", "Cal", "Dee"}


def test_busy_managers_are_skipped():
    assert pick_manager(on_shift(TEAM, 1), after="", busy={"users/1", "users/2"}) is DEE


def test_nobody_is_picked_when_everyone_on_shift_is_busy():
    assert pick_manager(on_shift(TEAM, 1), after="", busy={"users/1", "users/2", "users/4"}) is None


def test_the_passed_over_manager_is_picked_only_when_nobody_else_is_eligible():
    assert pick_manager(on_shift(TEAM, 1), after="", busy=set(), passed_over="users/1") is BEA
    assert pick_manager(on_shift(TEAM, 1), after="", busy={"users/2", "users/4"}, passed_over="users/1") is ADA


def test_a_pointer_to_a_manager_no_longer_listed_starts_from_the_top():
    assert pick_manager(on_shift(TEAM, 1), after="users/99", busy=set()) is ADA


def test_a_pointer_to_a_manager_of_another_shift_continues_after_their_row():
    assert pick_manager(on_shift(TEAM, 1), after="users/3", busy=set(), order=ORDER) is DEE


def test_a_pointer_to_a_manager_now_away_continues_after_their_row_not_from_the_top():
    present = [m for m in on_shift(TEAM, 1) if m is not BEA]  # Bea was pinged last, then went on leave
    assert pick_manager(present, after="users/2", busy=set(), order=ORDER) is DEE
