"""Beyond the older bot: escalation, Done reminders, load balancing, the shift-start notice, the
BotStatus tab and the daily digest. Each is off unless the Configuration turns it on."""
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from rcabot.config import Config, parse_configuration
from rcabot.cycle import (Announce, Cycle, Notice, Rules, SetTimer, Tracked, escalation_timer, reminder_timer)
from rcabot.history import Event, History
from rcabot.model import BotState, Manager, Track
from rcabot.chat import answers
from rcabot.status_tab import status_rows
from rcabot.shifts import ShiftSchedule

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)  # shift 2
SCHEDULE = ShiftSchedule((time(0), time(6), time(12), time(18)))
ADA = Manager("Ada", "users/1", shifts=frozenset({2}))
BEA = Manager("Bea", "users/2", shifts=frozenset({2}))
CAL = Manager("Cal", "users/3", shifts=frozenset({2, 3}))
BASE = Rules(timedelta(seconds=300), timedelta(seconds=3600), SCHEDULE)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cycle(rules: Rules = BASE, team=(ADA, BEA, CAL), history: History | None = None) -> Cycle:
    return Cycle(BotState(), list(team), rules, history)


def posted(c: Cycle) -> None:
    """The shell posted every ping (an unposted ping does not lapse)."""
    for t in c.state.tickets.values():
        t.message_id = t.message_id or f"m-{t.ticket_id}-{t.attempts}"
        c.index.file(t)  # as Cycle.delivered does


def of(kind, effects):
    return [e for e in effects if isinstance(e, kind)]


def tracked(effects):
    return [(e.status.value, e.ticket_id) for e in of(Tracked, effects)]


# --- escalation ---------------------------------------------------------------------------

ESCALATING = replace(BASE, escalate_after=timedelta(minutes=30), escalation_contacts=("users/77", "users/all"))


def test_a_ticket_not_accepted_in_time_is_escalated_once_mentioning_the_contacts_and_goes_on():
    c = cycle(ESCALATING)
    _, effects = c.start("RCA-1", "", "", T0)
    assert SetTimer(escalation_timer("RCA-1"), later(1800)) in effects
    posted(c)
    assert of(Notice, c.tick(later(1799))) == []
    effects = c.tick(later(1800))
    [notice] = of(Notice, effects)
    assert notice.kind == "escalation" and notice.mentions == ("users/77", "users/all")
    assert notice.text.startswith("Escalation: RCA-1")
    assert "not accepted 30 min after it was ready" in notice.text
    assert tracked(effects) == [("Escalated", "RCA-1")]
    assert c.state.tickets["RCA-1"].manager_id  # the cycle goes on: the ping stays open
    c.decline("RCA-1", c.state.tickets["RCA-1"].manager_id, later(1900))
    assert "Escalated" not in [s for s, _ in tracked(c.tick(later(4000)))]  # once


def test_an_accepted_ticket_is_not_escalated():
    c = cycle(ESCALATING)
    c.start("RCA-1", "", "", T0)
    answer = c.accept("RCA-1", "users/1", later(60), attempt=1)
    assert any(getattr(e, "key", "") == escalation_timer("RCA-1") for e in answer.effects)  # cancelled
    assert tracked(c.tick(later(1800))) == []


def test_a_ticket_passed_on_by_everyone_on_shift_is_escalated_at_once():
    c = cycle(replace(BASE, escalation_contacts=("users/77",)))  # no time limit: only this rule
    c.start("RCA-1", "", "", T0)
    c.decline("RCA-1", "users/1", later(10), attempt=1)
    c.decline("RCA-1", "users/2", later(20), attempt=2)
    answer = c.decline("RCA-1", "users/3", later(30), attempt=3)
    assert ("Escalated", "RCA-1") in tracked(answer.effects)
    assert "declined or let lapse by every manager of shift 2" in of(Notice, answer.effects)[-1].text


def test_without_contacts_nothing_is_escalated():
    c = cycle(replace(BASE, escalate_after=timedelta(minutes=30)))
    _, effects = c.start("RCA-1", "", "", T0)
    assert not [e for e in effects if getattr(e, "key", "").startswith("escalation")]
    posted(c)
    assert "Escalated" not in [s for s, _ in tracked(c.tick(later(4000)))]


# --- Done reminders -----------------------------------------------------------------------

REMINDING = replace(BASE, remind_after=timedelta(hours=2), max_reminders=2)


def test_an_accepted_ticket_not_done_gets_reminders_at_the_interval_up_to_the_maximum():
    c = cycle(REMINDING)
    c.start("RCA-1", "", "", T0)
    answer = c.accept("RCA-1", "users/1", T0, attempt=1)
    assert SetTimer(reminder_timer("RCA-1"), later(7200)) in answer.effects
    first = c.tick(later(7200))
    [notice] = of(Notice, first)
    assert notice.kind == "reminder" and notice.number == 1 and notice.mentions == ("users/1",)
    assert notice.text.startswith("A reminder: you accepted RCA-1 2 h ago")
    assert SetTimer(reminder_timer("RCA-1"), later(14400)) in first
    assert tracked(c.tick(later(14400))) == [("Reminded", "RCA-1")]
    assert tracked(c.tick(later(30000))) == []  # MaxDoneReminders reached


def test_done_stops_the_reminders():
    c = cycle(REMINDING)
    c.start("RCA-1", "", "", T0)
    c.accept("RCA-1", "users/1", T0, attempt=1)
    c.done("RCA-1", "users/1", later(60))
    assert tracked(c.tick(later(7200))) == []


def test_reminders_and_escalations_survive_a_restart_with_their_times():
    c = cycle(replace(REMINDING, escalate_after=timedelta(minutes=30), escalation_contacts=("users/77",)))
    c.start("RCA-1", "", "", T0)
    c.start("RCA-2", "", "", T0)
    c.accept("RCA-1", "users/1", T0, attempt=1)
    again = Cycle(c.state, c.managers, c.rules)
    timers = of(SetTimer, again.resume(later(60)))
    assert SetTimer(reminder_timer("RCA-1"), later(7200)) in timers
    assert SetTimer(escalation_timer("RCA-2"), later(1800)) in timers


# --- load balancing -----------------------------------------------------------------------

def test_load_balance_picks_the_manager_with_the_fewest_recent_accepts_ties_in_turn():
    history = History([Event(T0 - timedelta(days=d), f"OLD-{d}", Track.ACCEPTED, "users/1", "Ada") for d in (1, 2)]
                      + [Event(T0 - timedelta(days=3), "OLD-3", Track.ACCEPTED, "users/2", "Bea")]
                      + [Event(T0 - timedelta(days=40), "OLD-4", Track.ACCEPTED, "users/3", "Cal")])
    c = cycle(replace(BASE, load_balance=True), history=history)
    _, effects = c.start("RCA-1", "", "", T0)
    assert [p.manager.name for p in effects if hasattr(p, "manager")] == ["Cal"]  # 0 in the last 30 days
    _, effects = c.start("RCA-2", "", "", T0)
    assert [p.manager.name for p in effects if hasattr(p, "manager")] == ["Bea"]  # 1, before Ada's 2


def test_round_robin_stays_the_default():
    history = History([Event(T0 - timedelta(days=1), "OLD", Track.ACCEPTED, "users/3", "Cal")])
    c = cycle(history=history)
    names = [[p.manager.name for p in c.start(f"RCA-{n}", "", "", T0)[1] if hasattr(p, "manager")]
             for n in range(3)]
    assert names == [["Ada"], ["Bea"], ["Cal"]]


# --- the shift-start notice and BotStatus ---------------------------------------------------

def test_at_a_shift_start_the_space_is_told_who_is_on_and_what_waits_once():
    c = cycle(replace(BASE, shift_notice=True), team=(ADA, CAL))
    c.resume(T0)
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    c.start("RCA-1", "", "", later(10))
    c.start("RCA-2", "", "", later(10))
    c.start("RCA-3", "", "", later(10))  # waits: Ada and Cal hold pings
    [announce] = of(Announce, c.tick(noon))
    assert announce.text.startswith("Shift 3 has begun. On shift: Cal.")
    assert "Waiting: RCA-3." in announce.text
    assert of(Announce, c.tick(noon + timedelta(minutes=1))) == []


def test_a_restart_mid_shift_announces_nothing():
    c = cycle(replace(BASE, shift_notice=True))
    assert of(Announce, c.resume(later(60))) == []


def test_the_bot_status_rows_show_the_shift_who_is_on_who_is_next_dnd_waiting_and_problems():
    zone = ZoneInfo("Europe/Berlin")
    c = cycle(replace(BASE, schedule=ShiftSchedule(SCHEDULE.starts, zone)))
    c.start("RCA-1", "", "", T0)
    c.accept("RCA-1", "users/1", T0, attempt=1)
    rows = status_rows(c.board(T0),
                       ["Configuration B2: TicketTimeout is 'soon'; it must be a whole number of at least 1"])
    assert rows[0] == ["Item", "Value", "Detail"]
    assert ["Shift", "2", "06:00 to 12:00 (Europe/Berlin)"] in rows
    assert ["On shift", "Ada", "in DND until 09:00"] in rows  # 08:00 Berlin + 1 h
    assert ["On shift", "Bea", "free"] in rows
    assert ["Next", "Bea", ""] in rows
    assert ["In DND", "Ada", "until 2026-11-23 09:00"] in rows
    assert ["Waiting", "none", ""] in rows
    assert ["Problem", "Configuration B2", "TicketTimeout is 'soon'; it must be a whole number of at least 1"] in rows


def test_a_long_queue_names_its_oldest_waiting_tickets_and_counts_the_rest():
    c = cycle(replace(BASE, shift_notice=True), team=(ADA,))
    for n in range(150):
        c.start(f"RCA-{n}", "", "", later(n))  # RCA-0 is pinged to Ada; the rest wait
    rows = [row for row in status_rows(c.board(later(200)), []) if row[0] == "Waiting"]
    assert [row[1] for row in rows[:3]] == ["RCA-1", "RCA-2", "RCA-3"] and rows[99][1] == "RCA-100"
    assert rows[100][1] == "and 49 more" and len(rows) == 101
    [announce] = of(Announce, c.tick(datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)))
    assert "Waiting: RCA-1, RCA-2," in announce.text and "RCA-20, and 129 more." in announce.text
    assert "RCA-21" not in announce.text


# --- the digest ---------------------------------------------------------------------------

def test_the_digest_gives_the_days_numbers_and_what_is_still_open():
    history = History([Event(later(-3600), "RCA-0", Track.PINGED, "users/1", "Ada"),
                       Event(later(-3000), "RCA-0", Track.ACCEPTED, "users/1", "Ada"),
                       Event(later(-2000), "RCA-0", Track.COMPLETED, "users/1", "Ada"),
                       Event(T0 - timedelta(days=3), "RCA-9", Track.ACCEPTED, "users/2", "Bea")])
    c = cycle(history=history)
    c.start("RCA-1", "", "", T0)
    c.accept("RCA-1", "users/1", T0, attempt=1)
    now = later(60)
    since = now - timedelta(days=1)
    text = answers.digest(c.board(now), since, history.since(since), history.stats(since))
    head, by_manager, still_open = text.split("\n\n")
    assert head == "Daily digest. In the last 24 hours: 1 ticket in play, 1 accepted, 1 done, 0 declined, 0 timed out."
    assert "• Ada: 1 pinged, 1 accepted, 0 declined, 0 timed out; median time to accept 10m" in by_manager
    assert "Bea" not in by_manager.split("No pings")[0]  # her accept was three days ago
    assert "• RCA-1: accepted by Ada, in review" in still_open


# --- the Configuration ---------------------------------------------------------------------

def test_the_new_parameters_are_read_and_default_to_the_old_behaviour():
    assert parse_configuration([]).value.rules == BASE.__class__(schedule=Config().schedule)
    rows = [["Parameter", "Value"], ["EscalationAfterSeconds", "1800"], ["EscalationContacts", "users/7, 8, all"],
            ["DoneReminderAfterSeconds", "7200"], ["MaxDoneReminders", "2"], ["DigestTime", "09:30"],
            ["RotationMode", "load_balance"], ["ShiftStartNotice", "yes"]]
    parsed = parse_configuration(rows)
    assert parsed.problems == []
    rules = parsed.value.rules
    assert rules.escalate_after == timedelta(minutes=30)
    assert rules.escalation_contacts == ("users/7", "users/8", "users/all")
    assert (rules.remind_after, rules.max_reminders) == (timedelta(hours=2), 2)
    assert rules.load_balance and rules.shift_notice and parsed.value.digest_time == time(9, 30)


@pytest.mark.parametrize("name, value, message", [
    ("EscalationContacts", "ops team", "Configuration B2: EscalationContacts 'ops' is not a Chat user id"),
    ("DigestTime", "25:00", "Configuration B2: DigestTime: '25:00' is not a time of day"),
    ("RotationMode", "random", "Configuration B2: RotationMode is 'random'; write round_robin or load_balance"),
    ("ShiftStartNotice", "maybe", "Configuration B2: ShiftStartNotice is 'maybe'; write yes or no"),
    ("MaxDoneReminders", "-1", "Configuration B2: MaxDoneReminders is '-1'"),
])
def test_a_bad_new_parameter_is_reported_with_its_cell(name, value, message):
    problems = parse_configuration([["Parameter", "Value"], [name, value]]).problems
    assert len(problems) == 1 and problems[0].startswith(message)


def test_reminders_missed_while_the_bot_slept_are_not_sent_in_a_row():
    c = cycle(replace(REMINDING, max_reminders=3))
    c.start("RCA-1", "", "", T0)
    c.accept("RCA-1", "users/1", T0, attempt=1)
    effects = c.tick(later(5 * 3600))  # the 2 h and 4 h reminders fell due while the bot was down
    assert [e.detail for e in of(Tracked, effects)] == ["reminder 2 of 3"]
    assert SetTimer(reminder_timer("RCA-1"), later(6 * 3600)) in effects


def test_a_ticket_whose_pings_all_lapsed_on_the_shift_is_escalated_by_the_timeout():
    c = cycle(replace(BASE, escalation_contacts=("users/77",)), team=(ADA, BEA))
    c.start("RCA-1", "", "", T0)
    posted(c)
    c.tick(later(300))  # Ada's ping lapses; Bea is pinged
    posted(c)
    effects = c.tick(later(600))  # Bea's lapses too: everyone on shift 2 let it go
    assert ("Escalated", "RCA-1") in tracked(effects)
    assert "declined or let lapse by every manager of shift 2" in of(Notice, effects)[-1].text
