"""`away` in Chat: leave a manager sets for themselves, in force at once, written to the Away tab
through the journal with the next flush (nothing lost in a crash), and `away off` to come back.

The clock starts on Monday 2026-11-23 at 07:00 UTC (Europe/Berlin here: 08:00), in shift 2 of the
sample team: Bruno Silva, Chen Wei and Hana Sato, in that row order.
"""
from __future__ import annotations

import csv

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.test_commands import berlin_workbook, crash_and_restart, say, start

BRUNO, CHEN, HANA, STRANGER = "users/1002", "users/1003", "users/1008", "users/4242"


def read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def pinged(client, ticket_id: str) -> str:
    manager = client.get(f"/tickets/{ticket_id}").json["manager"]
    return manager["chat_id"] if manager else ""


@pytest.fixture
def workbook_dir(tmp_path):
    return berlin_workbook(tmp_path)


def test_away_today_takes_effect_at_once_and_reaches_the_away_tab_with_the_next_flush(client, bot, workbook_dir):
    answer = say(client, "away today Dentist", user=BRUNO)["text"]
    assert answer.startswith("You're away from Mon 23 Nov 00:00 to Tue 24 Nov 00:00 (Europe/Berlin): no pings")
    start(client, "RCA-1", "RCA-2", "RCA-3")
    assert [pinged(client, t) for t in ("RCA-1", "RCA-2", "RCA-3")] == [CHEN, HANA, ""]
    assert read(workbook_dir / "Away.csv") == [["Manager", "From", "To", "Reason"]]  # not before the flush
    bot.flush()
    assert read(workbook_dir / "Away.csv")[1:] == [["Bruno Silva", "2026-11-23", "", "Dentist"]]
    bot.reload()  # read back from the tab: still away, and the row is not added twice
    bot.flush()
    assert len(read(workbook_dir / "Away.csv")) == 2
    assert "• Bruno Silva: away until tomorrow 00:00, Dentist" in say(client, "who", user=CHEN)["text"]


def test_a_range_and_hours_and_the_list_of_my_leave(client, bot, workbook_dir):
    say(client, "away 2026-12-24 to 2026-12-31 Holiday", user=CHEN)
    say(client, "away tomorrow 13:00 to 17:00", user=CHEN)
    listed = say(client, "away", user=CHEN)["text"].splitlines()
    assert listed[1:3] == ["• Tue 24 Nov 13:00 to Tue 24 Nov 17:00 (from this chat)",
                           "• Thu 24 Dec 00:00 to Fri 1 Jan 00:00, Holiday (from this chat)"]
    bot.flush()
    assert read(workbook_dir / "Away.csv")[1:] == [["Chen Wei", "2026-12-24", "2026-12-31", "Holiday"],
                                                   ["Chen Wei", "2026-11-24 13:00", "2026-11-24 17:00", ""]]


def test_away_off_ends_the_leave_now_and_a_waiting_ticket_goes_to_them(client, bot, workbook_dir):
    for who in (BRUNO, CHEN, HANA):
        say(client, "away today", user=who)
    start(client, "RCA-1")
    assert pinged(client, "RCA-1") == ""
    answer = say(client, "away off", user=HANA)["text"]
    assert answer.startswith("Welcome back: your leave (until Tue 24 Nov 00:00) is over from now.")
    assert pinged(client, "RCA-1") == HANA
    assert say(client, "away off", user=HANA)["text"].startswith("You're not away now")


def test_away_off_survives_a_restart_even_against_the_rows_in_the_tab(client, bot, workbook_dir, clock):
    say(client, "away today", user=BRUNO)
    bot.flush()
    say(client, "away off", user=BRUNO)
    bot.reload()  # the row still says away today; Bruno came back
    start(client, "RCA-1")
    assert pinged(client, "RCA-1") == BRUNO
    client, bot, _ = crash_and_restart(bot, workbook_dir, clock)
    assert "• Bruno Silva: holding the ping for RCA-1" in say(client, "who", user=CHEN)["text"]  # not away


def test_leave_set_just_before_a_crash_is_kept_and_written_once(client, bot, workbook_dir, clock):
    say(client, "away today", user=BRUNO)
    client, bot, _ = crash_and_restart(bot, workbook_dir, clock)  # before any flush
    start(client, "RCA-1", "RCA-2", "RCA-3")
    assert BRUNO not in {pinged(client, t) for t in ("RCA-1", "RCA-2", "RCA-3")}
    bot.flush()
    client, bot, _ = crash_and_restart(bot, workbook_dir, clock)  # the journal may still hold it
    bot.flush()
    assert read(workbook_dir / "Away.csv")[1:] == [["Bruno Silva", "2026-11-23", "", ""]]


def test_rows_go_into_the_columns_ops_arranged(client, bot, workbook_dir):
    with open(workbook_dir / "Away.csv", "w", newline="") as f:
        csv.writer(f).writerows([["Reason", "Manager", "Notes", "To", "From"], ["Course", "Hana Sato", "x", "", "2026-11-30"]])
    bot.reload()
    say(client, "away today Sick", user=BRUNO)
    bot.flush()
    assert read(workbook_dir / "Away.csv")[2] == ["Sick", "Bruno Silva", "", "", "2026-11-23"]


def test_a_deleted_away_tab_is_made_again_for_the_row(client, bot, workbook_dir):
    (workbook_dir / "Away.csv").unlink()
    bot.reload()
    say(client, "away today", user=BRUNO)
    bot.flush()
    assert read(workbook_dir / "Away.csv") == [["Manager", "From", "To", "Reason"], ["Bruno Silva", "2026-11-23", "", ""]]


@pytest.mark.parametrize("said, why", [
    ("away 2026-11-30 to 2026-11-20", "is before From"),
    ("away 2026-13-01", "is not a day I can use"),
    ("away someday", "is not a day I can use"),
    ("away 2020-01-01", "I look at most a year ahead or back"),
    ("away 2026-11-20", "that time is over already"),
    ("away today 25:00", "is not a time of day"),
])
def test_a_bad_away_is_refused_and_changes_nothing(client, bot, workbook_dir, said, why):
    answer = say(client, said, user=BRUNO)
    assert why in answer["text"]
    assert answer.get("privateMessageViewer") or "I can't" in answer["text"] or "not a day" in answer["text"] \
        or "at most a year" in answer["text"]
    assert bot.ops_rows == {} and bot.leave(BRUNO)[1] == []


def test_only_managers_can_set_leave(client, bot):
    assert "only managers listed in the Managers tab can set leave" in say(client, "away today", user=STRANGER)["text"]
    assert "only managers listed in the Managers tab can set leave" in say(client, "away off", user=STRANGER)["text"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.one_of(st.sampled_from(["today", "tomorrow", "to", "off", "fri", "2026-12-24", "13:00",
                                                 "2026-12-31", "-", "25:99", "2026-02-30"]),
                                st.text(max_size=12)), max_size=6))
def test_any_away_words_get_an_answer_and_never_a_bad_row(client, bot, words):
    answer = client.post("/chat/events", json={
        "type": "MESSAGE", "eventTime": "2026-11-23T07:00:00Z",
        "user": {"name": BRUNO, "displayName": "Bruno", "type": "HUMAN"},
        "space": {"name": "spaces/local", "spaceType": "SPACE"},
        "message": {"name": "spaces/local/messages/x", "text": "@RCA Bot away " + " ".join(words),
                    "argumentText": " away " + " ".join(words), "space": {"name": "spaces/local"}}})
    assert answer.status_code == 200, answer.json
    from rcabot.availability import AWAY_HEADER
    from rcabot.availability.tabs import parse_away
    owed = bot.ops_rows.get("away", [])
    assert parse_away([AWAY_HEADER] + owed, bot.cycle.managers, bot.config.schedule.zone).problems == []


# --- Google mode: the row goes to the Away tab through values.append on the fake Sheets API ---

def google_say(gspace, said: str, user: str) -> dict:
    from tests.fakes.tokens import project_number_claims
    from tests.test_commands import message_event

    event = message_event(said, user)
    event["space"]["name"] = event["message"]["space"]["name"] = "spaces/AAQAv7Rk3mE"
    answer = gspace.client.post("/chat/events", json=event,
                                headers={"Authorization": gspace.certs.bearer(project_number_claims())})
    assert answer.status_code == 200, answer.json
    return answer.json


def test_in_google_mode_away_appends_after_rows_ops_added_since_the_last_read(fake, google_env, certs, jobs, clock,
                                                                             no_backoff):
    import responses

    from rcabot.web import create_app
    from tests.google_fixtures import GoogleSpace

    fake.sheets.add_tab("Away", [["Manager", "From", "To", "Reason"], ["Dana Kim", "2026-12-24", "2026-12-31", ""]])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        certs.install(rsps)
        app = create_app({"JOBS": jobs, "CLOCK": clock, "CHAT_TRANSPORT": fake.http()})
        gspace = GoogleSpace(app.test_client(), app.extensions["rcabot"], fake, certs)
        tab = next(t for t in fake.sheets.tabs if t.title == "Away")
        for column, value in enumerate(["Emeka Obi", "2027-01-04", "", "Course"], 1):
            tab.cells[(3, column)] = value  # ops add a row after the bot's last read
        assert "You're away from" in google_say(gspace, "away today Sick", BRUNO)["text"]
        gspace.bot.flush()
        assert fake.sheets.rows("Away") == [["Manager", "From", "To", "Reason"],
                                            ["Dana Kim", "2026-12-24", "2026-12-31"],
                                            ["Emeka Obi", "2027-01-04", "", "Course"],
                                            ["Bruno Silva", "2026-11-23", "", "Sick"]]
        assert any(call.path.endswith(":append") for call in fake.sheets.calls)
