"""Chat commands, as a manager types them: help, who, tickets, dnd, back, stats.

The sample team works in Europe/Berlin here (the clock's 07:00 UTC is 08:00 there, shift 2:
Bruno Silva, Chen Wei and Hana Sato, in that row order); pings time out after 60 s.
"""
from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest

from rcabot.chat.commands import COMMAND_IDS, CommandError, dnd_length, stats_window
from rcabot.web import create_app
from tests.fakes.jobs import RecordingJobs

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = Path(__file__).resolve().parent / "samples" / "chat"  # copied from ../shared/reference/samples
BRUNO, CHEN, HANA, ADA = "users/1002", "users/1003", "users/1008", "users/1001"
STRANGER = "users/4242"
SLASH = {name: command_id for command_id, name in COMMAND_IDS.items()}


def berlin_workbook(tmp_path) -> Path:
    """A new workbook whose Configuration says Europe/Berlin (the rest comes from the templates)."""
    folder = tmp_path / "workbook"
    folder.mkdir()
    config = (ROOT / "config" / "workbook" / "Configuration.csv").read_text()
    (folder / "Configuration.csv").write_text(config.replace(",UTC,", ",Europe/Berlin,"))
    return folder


@pytest.fixture
def workbook_dir(tmp_path):
    return berlin_workbook(tmp_path)


def message_event(said: str, user: str = BRUNO, space_type: str = "SPACE", **message) -> dict:
    """What Chat sends for "@RCA Bot <said>"; `message` overrides fields of the message."""
    space = {"name": "spaces/local", "spaceType": space_type}
    return {"type": "MESSAGE", "eventTime": "2026-11-23T07:00:00Z",
            "user": {"name": user, "displayName": "Someone", "type": "HUMAN"}, "space": space,
            "message": {"name": f"spaces/local/messages/said-{abs(hash((said, user)))}", "text": f"@RCA Bot {said}",
                        "argumentText": f" {said}", "space": space, **message},
            "common": {"hostApp": "CHAT"}}


def addon_event(user: str = BRUNO, **payload) -> dict:
    return {"commonEventObject": {"hostApp": "CHAT", "userLocale": "en"},
            "chat": {"user": {"name": user, "displayName": "Someone", "type": "HUMAN"},
                     "eventTime": "2026-11-23T07:00:00Z", **payload}}


def say(client, said: str, user: str = BRUNO, **message) -> dict:
    answer = client.post("/chat/events", json=message_event(said, user, **message))
    assert answer.status_code == 200, answer.json
    assert answer.json["actionResponse"] == {"type": "NEW_MESSAGE"}
    return answer.json


def start(client, *ticket_ids: str, title: str = "") -> None:
    for ticket_id in ticket_ids:
        assert client.post("/tickets", json={"ticket_id": ticket_id, "title": title}).status_code == 202


def dnd_until(bot, chat_id: str) -> str | None:
    return next(m for m in bot.status()["managers"] if m["chat_id"] == chat_id)["dnd_until"]


def read(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def crash_and_restart(bot, workbook_dir, clock):
    bot.journal.close()  # killed: no shutdown flush
    return restart(workbook_dir, clock)


def restart(workbook_dir, clock):
    jobs = RecordingJobs(clock)
    app = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock})
    return app.test_client(), app.extensions["rcabot"], jobs


# --- help ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["help", "HELP", "/help", "  help  ", "help?", "", "/"])
def test_help_lists_every_command(client, text):
    answer = say(client, text)["text"]
    assert "press Accept to take it" in answer
    for usage in ("• help:", "• who:", "• tickets:", "• dnd 2h, dnd 30m, dnd 1h30m:", "• back:",
                  "• stats, stats 24h, stats 30d:"):
        assert usage in answer
    assert "privateMessageViewer" not in say(client, text)


def test_an_unknown_command_gets_the_help_for_the_asker_only(client):
    answer = client.post("/chat/events", json=json.loads((SAMPLES / "message_event.json").read_text())).json
    assert answer["text"].startswith("I don't know “status”.\n\nI route RCA tickets")
    assert "• stats, stats 24h, stats 30d:" in answer["text"]
    assert answer["privateMessageViewer"] == {"name": "users/113345902244171829470"}


# --- who -----------------------------------------------------------------------------------

def test_who_names_the_shift_each_managers_state_and_who_is_next(client):
    start(client, "RCA-1")  # Bruno
    say(client, "dnd 2h", CHEN)
    assert say(client, "who", ADA)["text"] == (
        "Shift 2 of 4, 06:00 to 12:00 (Europe/Berlin); now 08:00.\n"
        "• Bruno Silva: holding the ping for RCA-1 until 08:01\n"
        "• Chen Wei: in DND until 10:00\n"
        "• Hana Sato: free\n"
        "Next up: Hana Sato.")


def test_who_says_nobody_is_free_and_how_many_wait(client, bot, space, clock):
    start(client, "RCA-1", "RCA-2", "RCA-3", "RCA-4")
    space.click(space.last_card("RCA-1"), "accept", BRUNO)
    clock.advance(30)
    assert say(client, "/WHO")["text"].splitlines()[1:] == [
        "• Bruno Silva: in DND until 09:00",
        "• Chen Wei: holding the ping for RCA-2 until 08:01",
        "• Hana Sato: holding the ping for RCA-3 until 08:01",
        "Next up: nobody is free, so a new ticket would wait (1 ticket waiting) until someone is."]


def test_who_shows_a_ping_held_over_from_the_last_shift(client, clock):
    clock.advance(3 * 3600 + 59 * 60 + 30)  # 11:59:30 in Berlin, shift 2's last half minute
    start(client, "RCA-1")  # Bruno, until 12:00:30
    clock.advance(30)
    lines = say(client, "who")["text"].splitlines()
    assert lines[0] == "Shift 3 of 4, 12:00 to 18:00 (Europe/Berlin); now 12:00."
    assert lines[1:] == ["• Dana Kim: free", "• Emeka Obi: free", "• Hana Sato: free",
                         "• Bruno Silva (off shift): holding the ping for RCA-1 until 12:00",
                         "Next up: Dana Kim."]


# --- tickets -------------------------------------------------------------------------------

def test_tickets_lists_each_ticket_and_where_it_stands(client, space):
    start(client, "RCA-1", title="Checkout latency")
    space.click(space.last_card("RCA-1"), "accept", BRUNO)
    say(client, "dnd 1h", HANA)
    start(client, "RCA-2", "<users/all>")
    assert say(client, "tickets")["text"] == (
        "3 tickets in the cycle (1 pinged, 1 waiting, 1 accepted); times in Europe/Berlin:\n"
        "• RCA-1 “Checkout latency”: accepted by Bruno Silva, in review\n"
        "• RCA-2: pinged to Chen Wei (ping 1), answer due by 08:01\n"
        "• \u2039users/all\u203a: waiting for a free manager")


def test_tickets_says_when_there_are_none(client):
    assert say(client, "tickets")["text"] == "No tickets in the cycle: none waiting, pinged or in review."


def test_a_long_list_of_tickets_is_cut_short_and_says_how_many_more(client):
    start(client, *[f"RCA-{n}" for n in range(45)])
    lines = say(client, "tickets")["text"].splitlines()
    assert lines[0].startswith("45 tickets in the cycle (3 pinged, 42 waiting)")
    assert len(lines) == 42 and lines[-1] == "… and 5 more."


# --- dnd and back --------------------------------------------------------------------------

def test_dnd_keeps_new_pings_away_and_shows_in_manager_state(client, bot, jobs, workbook_dir):
    answer = say(client, "dnd 2h", CHEN)
    assert answer["text"] == ("You're in DND until 10:00 (Europe/Berlin), 2h from now: no new pings until then. "
                              "Say back to end it sooner.")
    assert "privateMessageViewer" not in answer
    start(client, "RCA-1", "RCA-2")
    assert [bot.ticket(t)["manager"]["name"] for t in ("RCA-1", "RCA-2")] == ["Bruno Silva", "Hana Sato"]
    assert jobs.timers["dnd-expiry:users/1003"].isoformat() == "2026-11-23T09:00:00+00:00"
    bot.flush()
    assert [CHEN, "2026-11-23T07:00:00Z", "2026-11-23T09:00:00Z", "", ""] in read(workbook_dir / "ManagerState.csv")


def test_the_dnd_ends_by_itself_at_its_time_and_a_waiting_ticket_goes_to_the_manager(client, bot, clock, jobs):
    for manager in (BRUNO, CHEN):
        say(client, "dnd 2h", manager)
    say(client, "dnd 30m", HANA)
    start(client, "RCA-1")
    assert bot.ticket("RCA-1")["status"] == "Waiting"
    clock.advance(30 * 60)
    jobs.fire_due()
    assert bot.ticket("RCA-1")["manager"]["name"] == "Hana Sato"


@pytest.mark.parametrize("text, minutes", [
    ("2h", 120), ("30m", 30), ("90m", 90), ("1h30m", 90), ("1h 30m", 90), ("2 hours", 120), ("45 min", 45),
    ("1hr15mins", 75), ("24h", 1440), ("1440m", 1440), ("1M", 1),
])
def test_dnd_takes_hours_and_minutes(text, minutes):
    assert dnd_length(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text, said", [
    ("dnd", "For how long? Give hours and minutes, like dnd 2h, dnd 30m or dnd 1h30m (at most 24h)."),
    ("dnd 45s", "“45s” is not a length I can use. Give hours and minutes, like dnd 2h, dnd 30m or dnd 1h30m"),
    ("dnd 30", "“30” is not a length I can use."),
    ("dnd 1.5h", "“1.5h” is not a length I can use."),
    ("dnd -2h", "“-2h” is not a length I can use."),
    ("dnd soon", "“soon” is not a length I can use."),
    ("dnd 0m", "A DND of no time at all ends at once: give at least 1m, or say back to take pings."),
    ("dnd 25h", "DND goes up to 24h at a time, and 25h is longer."),
    ("dnd 24h1m", "DND goes up to 24h at a time, and 24h1m is longer."),
    ("dnd 99999999999999999999h", "DND goes up to 24h at a time"),
])
def test_a_bad_duration_gets_a_clear_private_answer_and_changes_nothing(client, bot, text, said):
    answer = say(client, text, CHEN)
    assert answer["text"].startswith(said)
    assert answer["privateMessageViewer"] == {"name": CHEN}
    assert dnd_until(bot, CHEN) is None


@pytest.mark.parametrize("command", ["dnd 2h", "back"])
def test_someone_not_in_the_managers_tab_is_refused_politely(client, bot, command):
    answer = say(client, command, STRANGER)
    assert answer["text"] == ("Sorry, only managers listed in the Managers tab can set or end DND, and you are "
                              "not there. Ask whoever keeps the sheet to add your GChat ID.")
    assert answer["privateMessageViewer"] == {"name": STRANGER}
    assert STRANGER not in bot.cycle.state.dnd_until


def test_dnd_while_holding_a_ping_leaves_that_ping_with_the_manager(client, bot, clock, jobs):
    start(client, "RCA-1")  # Bruno
    assert say(client, "dnd 1h", BRUNO)["text"].endswith(
        "The open ping for RCA-1 is still yours: answer it on its card, or at 08:01 it times out and goes to "
        "the next manager.")
    assert bot.ticket("RCA-1")["manager"]["name"] == "Bruno Silva"
    clock.advance(60)
    jobs.fire_due()
    assert bot.ticket("RCA-1")["manager"]["name"] == "Chen Wei"


def test_accepting_a_held_ping_keeps_the_longer_dnd_the_manager_asked_for(client, bot, space):
    start(client, "RCA-1")
    say(client, "dnd 3h", BRUNO)
    space.click(space.last_card("RCA-1"), "accept", BRUNO)
    assert dnd_until(bot, BRUNO) == "2026-11-23T10:00:00Z"  # not the 1 h an Accept gives


def test_back_pings_a_waiting_ticket_at_once(client, bot, space, jobs, clock):
    for manager in (BRUNO, CHEN, HANA):
        say(client, "dnd 1h", manager)
    start(client, "RCA-1")
    assert space.thread("RCA-1")[-1]["text"].startswith("Nobody on shift 2 is free right now")
    clock.advance(1)  # the space takes a write a second

    answer = say(client, "back", HANA)
    assert answer["text"] == ("Welcome back: your DND (until 09:00) is over. RCA-1 was waiting and is now pinged "
                              "to you: see its card.")
    assert space.pinged("RCA-1") == HANA
    assert space.last_card("RCA-1")["text"] == "@Hana Sato RCA ticket RCA-1 is ready for review."
    assert "dnd-expiry:users/1008" not in jobs.timers and dnd_until(bot, HANA) is None


def test_back_says_so_when_there_was_no_dnd_and_when_the_manager_is_off_shift(client):
    assert say(client, "back", HANA)["text"] == "You're not in DND: pings can come to you already."
    say(client, "dnd 1h", ADA)
    assert say(client, "back", ADA)["text"] == (
        "Welcome back: your DND (until 09:00) is over. You're not on the current shift, though: pings come to "
        "you on your own shifts.")
    say(client, "dnd 1h", CHEN)
    assert say(client, "dnd off", CHEN)["text"].startswith("Welcome back")


def test_a_dnd_set_by_command_survives_a_crash_and_so_does_its_end(client, bot, clock, workbook_dir):
    say(client, "dnd 2h", CHEN)
    client, bot, jobs = crash_and_restart(bot, workbook_dir, clock)
    assert dnd_until(bot, CHEN) == "2026-11-23T09:00:00Z"
    assert "dnd-expiry:users/1003" in jobs.timers
    start(client, "RCA-1", "RCA-2")
    assert CHEN not in {bot.ticket(t)["manager"]["chat_id"] for t in ("RCA-1", "RCA-2")}

    say(client, "back", CHEN)
    client, bot, jobs = crash_and_restart(bot, workbook_dir, clock)
    assert dnd_until(bot, CHEN) is None and "dnd-expiry:users/1003" not in jobs.timers


# --- stats ---------------------------------------------------------------------------------

TRACKER_ROWS = [  # the clock says 2026-11-23T07:00:00Z
    ["2026-11-13T09:00:00Z", "RCA-9", "Hana Sato", "Pinged", HANA, ""],  # ten days ago
    ["2026-11-13T09:00:30Z", "RCA-9", "Hana Sato", "Accepted", HANA, ""],
    ["2026-11-20T10:00:00Z", "RCA-10", "Bruno Silva", "Pinged", BRUNO, ""],
    ["2026-11-20T10:02:00Z", "RCA-10", "Bruno Silva", "Declined", BRUNO, ""],
    ["2026-11-20T10:02:00Z", "RCA-10", "Chen Wei", "Pinged", CHEN, ""],
    ["2026-11-20T10:03:30Z", "RCA-10", "Chen Wei", "Accepted", CHEN, ""],
    ["2026-11-21T09:00:00Z", "RCA-11", "Chen Wei", "Pinged", CHEN, ""],
    ["2026-11-21T09:05:00Z", "RCA-11", "Chen Wei", "TimedOut", CHEN, ""],
    ["2026-11-21T09:05:00Z", "RCA-11", "Bruno Silva", "Pinged", BRUNO, ""],
    ["2026-11-21T09:06:00Z", "RCA-11", "Bruno Silva", "Accepted", BRUNO, ""],
    ["2026-11-21T11:00:00Z", "RCA-11", "Bruno Silva", "Completed", BRUNO, ""],
    ["2026-11-22T09:00:00Z", "RCA-12", "Chen Wei", "Pinged", CHEN, ""],
    ["2026-11-22T09:04:30Z", "RCA-12", "Chen Wei", "Accepted", CHEN, ""],
    ["2026-11-22T09:10:00Z", "RCA-13", "", "Waiting", "", "shift 2"],
]


@pytest.fixture
def with_history(bot, clock, workbook_dir):
    """The Tracker holds the rows above when the bot starts."""
    bot.journal.close()
    with open(workbook_dir / "Tracker.csv", "a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(TRACKER_ROWS)
    return restart(workbook_dir, clock)[:2]


def test_stats_count_the_tracker_rows_of_the_last_seven_days(with_history):
    client, _ = with_history
    assert say(client, "stats")["text"] == (
        "Last 7 days (since Mon 16 Nov 08:00 Europe/Berlin):\n"
        "• Bruno Silva: 2 pinged, 1 accepted, 1 declined, 0 timed out; median time to accept 1m\n"
        "• Chen Wei: 3 pinged, 2 accepted, 0 declined, 1 timed out; median time to accept 3m\n"
        "No pings: Ada Park, Dana Kim, Emeka Obi, Farah Haddad, Hana Sato.")


def test_stats_take_a_window_of_up_to_thirty_days(with_history):
    client, _ = with_history
    month = say(client, "stats 30d")["text"]
    assert month.startswith("Last 30 days (since Sat 24 Oct 09:00 Europe/Berlin):\n")
    assert "• Hana Sato: 1 pinged, 1 accepted, 0 declined, 0 timed out; median time to accept 30s" in month
    assert say(client, "/stats 24h")["text"] == (
        "Last 24 hours (since yesterday 08:00 Europe/Berlin):\n"
        "• Chen Wei: 1 pinged, 1 accepted, 0 declined, 0 timed out; median time to accept 4m 30s\n"
        "No pings: Ada Park, Bruno Silva, Dana Kim, Emeka Obi, Farah Haddad, Hana Sato.")


def test_stats_count_what_happens_after_the_start_too(with_history, space):
    client, bot = with_history
    start(client, "RCA-1")
    assert bot.ticket("RCA-1")["manager"]["chat_id"] == BRUNO
    assert "• Bruno Silva: 1 pinged, 0 accepted, 0 declined, 0 timed out\n" in say(client, "stats 1d")["text"]
    assert "• Bruno Silva: 3 pinged, 1 accepted, 1 declined, 0 timed out; median" in say(client, "stats")["text"]


def test_stats_with_nothing_in_the_window_say_so(client):
    assert say(client, "stats 1h")["text"] == "Last 1 hour (since 07:00 Europe/Berlin): no pings."


@pytest.mark.parametrize("text, window, label", [
    ("", 7 * 24, "7 days"), ("7d", 7 * 24, "7 days"), ("30d", 30 * 24, "30 days"), ("24h", 24, "24 hours"),
    ("1 day", 24, "1 day"), ("2w", 14 * 24, "2 weeks"), ("720h", 720, "720 hours"),
])
def test_stats_windows(text, window, label):
    assert stats_window(text) == (timedelta(hours=window), label)


@pytest.mark.parametrize("text, said", [
    ("40d", "Stats cover between 1 hour and 30 days"), ("5w", "Stats cover between 1 hour and 30 days"),
    ("0d", "Stats cover between 1 hour and 30 days"), ("week", "“week” is not a window I can use."),
    ("7", "“7” is not a window I can use."),
])
def test_a_bad_stats_window_gets_a_clear_answer(client, text, said):
    with pytest.raises(CommandError, match=said):
        stats_window(text)
    answer = say(client, f"stats {text}")
    assert answer["text"].startswith(said) and answer["privateMessageViewer"] == {"name": BRUNO}


# --- the shapes commands arrive in -----------------------------------------------------------

def test_a_classic_slash_command_is_known_by_its_id_and_answered_privately_in_a_space(client, bot):
    answer = say(client, "2h", CHEN, text="/dnd 2h", slashCommand={"commandId": SLASH["dnd"]},
                 annotations=[{"type": "SLASH_COMMAND", "slashCommand": {"commandId": SLASH["dnd"],
                                                                          "commandName": "/dnd", "type": "INVOKE"}}])
    assert answer["text"].startswith("You're in DND until 10:00")
    assert answer["privateMessageViewer"] == {"name": CHEN}
    assert dnd_until(bot, CHEN) == "2026-11-23T09:00:00Z"


def test_a_direct_message_is_answered_without_a_private_viewer(client):
    answer = say(client, "stats 0d", space_type="DIRECT_MESSAGE")
    assert answer["text"].startswith("Stats cover") and "privateMessageViewer" not in answer
    slash = say(client, "", space_type="DIRECT_MESSAGE", slashCommand={"commandId": SLASH["tickets"]})
    assert slash["text"].startswith("No tickets in the cycle") and "privateMessageViewer" not in slash


def test_an_add_on_message_is_answered_in_kind(client, bot):
    space = {"name": "spaces/AAQAv7Rk3mE", "spaceType": "SPACE"}
    event = addon_event(CHEN, messagePayload={"space": space, "message": {
        "name": "spaces/AAQAv7Rk3mE/messages/x.x", "text": "@RCA Bot dnd 30m", "argumentText": " dnd 30m",
        "space": space, "thread": {"name": "spaces/AAQAv7Rk3mE/threads/x"}}})
    answer = client.post("/chat/events", json=event).json
    message = answer["hostAppDataAction"]["chatDataAction"]["createMessageAction"]["message"]
    assert message["text"].startswith("You're in DND until 08:30 (Europe/Berlin), 30m from now")
    assert dnd_until(bot, CHEN) == "2026-11-23T07:30:00Z"


def test_an_add_on_quick_command_is_known_by_its_numeric_id(client):
    start(client, "RCA-1")
    event = addon_event(ADA, appCommandPayload={
        "space": {"name": "spaces/AAQAv7Rk3mE", "spaceType": "SPACE"},
        "appCommandMetadata": {"appCommandId": float(SLASH["who"]), "appCommandType": "QUICK_COMMAND"}})
    answer = client.post("/chat/events", json=event).json
    message = answer["hostAppDataAction"]["chatDataAction"]["createMessageAction"]["message"]
    assert message["text"].startswith("Shift 2 of 4, 06:00 to 12:00 (Europe/Berlin)")
    assert message["privateMessageViewer"] == {"name": ADA}


def test_a_command_typed_in_the_console_is_answered_in_its_thread(client, bot):
    event = message_event("who", HANA)
    event["message"]["argumentText"] = event["message"]["text"] = "who"  # the console sends the bare text
    client.post("/chat/events", json=event)
    asked, answered = bot.chat.messages()
    assert asked["text"] == "who" and asked["sender"]["name"] == HANA
    assert answered["thread"] == asked["thread"] and answered["text"].startswith("Shift 2 of 4")


class Unreachable:
    def __getattr__(self, name):
        raise AssertionError(f"a command called the spreadsheet's {name}")


def test_commands_are_answered_from_memory_without_the_spreadsheet_or_a_chat_post(client, bot, monkeypatch):
    start(client, "RCA-1")
    monkeypatch.setattr(bot, "workbook", Unreachable())
    monkeypatch.setattr(bot, "deliver", lambda: pytest.fail("a command posted to Chat"))
    for text in ("help", "who", "tickets", "stats", "stats 30d", "dnd 1h", "back", "nonsense"):
        assert say(client, text, HANA)["text"]
