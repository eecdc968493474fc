"""`cover` in Chat: a manager asks the team to cover a shift of theirs; the card in the space has a
Take button; the first valid Take puts the taker on that shift occurrence at once (in the covered
manager's place in the turn) and goes into the Overrides tab with the next flush.

The clock starts on Monday 2026-11-23 at 07:00 UTC (Europe/Berlin here: 08:00), in shift 2
(06:00-12:00 local) of the sample team: Bruno Silva, Chen Wei and Hana Sato, in that row order.
"""
from __future__ import annotations

import csv

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.conftest import Space
from tests.test_commands import berlin_workbook, crash_and_restart, message_event, start

ADA, BRUNO, CHEN, DANA, HANA, GUS, STRANGER = ("users/1001", "users/1002", "users/1003", "users/1004",
                                              "users/1008", "users/1007", "users/4242")


@pytest.fixture
def workbook_dir(tmp_path):
    return berlin_workbook(tmp_path)


def ask(client, said: str, user: str) -> dict:
    answer = client.post("/chat/events", json=message_event(said, user))
    assert answer.status_code == 200, answer.json
    return answer.json


def request_card(client, said: str, user: str) -> dict:
    answer = ask(client, said, user)
    assert answer["actionResponse"] == {"type": "NEW_MESSAGE"} and "privateMessageViewer" not in answer
    return answer


def pinged(client, ticket_id: str) -> str:
    manager = client.get(f"/tickets/{ticket_id}").json["manager"]
    return manager["chat_id"] if manager else ""


def read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_a_take_puts_the_taker_in_the_covered_managers_place_at_once_and_in_the_overrides_tab(
        client, bot, workbook_dir):
    card = request_card(client, "cover today", BRUNO)
    assert card["text"] == "Bruno Silva needs cover for shift 2 on Mon 23 Nov (06:00 to 12:00 Europe/Berlin)."
    taken = Space(client, bot).click(card, "take", DANA)
    assert taken.json["actionResponse"] == {"type": "UPDATE_MESSAGE"}
    assert taken.json["text"] == "Dana Kim covers Bruno Silva on shift 2 of 2026-11-23."
    assert not any("buttonList" in w for s in taken.json["cardsV2"][0]["card"]["sections"] for w in s["widgets"])
    start(client, "RCA-1", "RCA-2", "RCA-3", "RCA-4")
    assert [pinged(client, t) for t in ("RCA-1", "RCA-2", "RCA-3", "RCA-4")] == [DANA, CHEN, HANA, ""]
    bot.flush()
    [row] = read(workbook_dir / "Overrides.csv")[1:]
    assert row[:4] == ["2026-11-23", "2", "Bruno Silva", "Dana Kim"] and row[4] and row[5]
    bot.reload()  # read back from the tab: still covered, and the row is not added twice
    bot.flush()
    assert len(read(workbook_dir / "Overrides.csv")) == 2


def test_only_the_first_take_counts_and_a_late_one_sees_who_took_it(client, bot):
    card = request_card(client, "cover today", BRUNO)
    Space(client, bot).click(card, "take", DANA)
    late = Space(client, bot).click(card, "take", ADA)
    assert late.json["text"] == "Dana Kim covers Bruno Silva on shift 2 of 2026-11-23."
    assert bot.cycle.availability.cover(bot.cycle.on_shift(bot.clock())[0].day, 2) == {BRUNO: DANA}


@pytest.mark.parametrize("taker, why", [(BRUNO, "this is your own request"),
                                        (STRANGER, "only active managers"),
                                        (GUS, "only active managers")])  # Gus is inactive
def test_a_take_that_cannot_be_is_refused_privately_and_changes_nothing(client, bot, taker, why):
    card = request_card(client, "cover today", BRUNO)
    answer = Space(client, bot).click(card, "take", taker).json
    assert answer["privateMessageViewer"] == {"name": taker} and why in answer["text"]
    assert bot.ops_rows == {} and bot.cycle.availability.overrides == ()


@pytest.mark.parametrize("said, why", [("cover 2026-11-24 shift 3", "you have no shift 3 on Tue 24 Nov"),
                                       ("cover", "Which day?"), ("cover someday", "is not a day I can use"),
                                       ("cover today please", "I can't read that")])
def test_a_cover_request_that_cannot_be_is_answered_privately(client, bot, said, why):
    answer = ask(client, said, BRUNO)
    assert answer["privateMessageViewer"] == {"name": BRUNO} and why in answer["text"]


def test_a_manager_of_two_shifts_that_day_says_which(client, bot):
    assert "you work shifts 1 and 2 that day" in ask(client, "cover tomorrow", BRUNO)["text"]
    card = request_card(client, "cover tomorrow shift 1", BRUNO)
    assert "shift 1 on Tue 24 Nov (00:00 to 06:00 Europe/Berlin)" in card["text"]


def test_a_shift_already_covered_cannot_be_asked_again(client, bot):
    Space(client, bot).click(request_card(client, "cover today", BRUNO), "take", DANA)
    assert "Dana Kim covers you on that shift already" in ask(client, "cover today", BRUNO)["text"]


def test_a_take_is_kept_through_a_crash_before_the_flush(client, bot, workbook_dir, clock):
    Space(client, bot).click(request_card(client, "cover today", BRUNO), "take", DANA)
    client, bot, _ = crash_and_restart(bot, workbook_dir, clock)
    start(client, "RCA-1")
    assert pinged(client, "RCA-1") == DANA
    bot.flush()
    assert [r[:4] for r in read(workbook_dir / "Overrides.csv")[1:]] == [["2026-11-23", "2", "Bruno Silva", "Dana Kim"]]


def test_a_take_button_with_forged_parameters_is_a_bad_request(client, bot):
    card = request_card(client, "cover today", BRUNO)
    space = Space(client, bot)
    for key, value in (("day", "not-a-day"), ("shift", "²"), ("instead_of", "bruno")):
        forged = {**card}
        event_params = [{"key": k, "value": (value if k == key else v)} for k, v in
                        ((p["key"], p["value"]) for p in card["cardsV2"][0]["card"]["sections"][0]["widgets"][1]
                         ["buttonList"]["buttons"][0]["onClick"]["action"]["parameters"])]
        forged["cardsV2"] = [{**card["cardsV2"][0], "card": {**card["cardsV2"][0]["card"], "sections": [
            {"widgets": [{"buttonList": {"buttons": [{"text": "Take", "onClick": {"action": {
                "function": "take", "parameters": event_params}}}]}}]}]}}]
        assert space.click(forged, "take", DANA).status_code == 400
    for day in ("0001-01-01", "9999-12-31"):  # well-formed, but no card asks about them
        params = {"day": day, "shift": "2", "instead_of": BRUNO, "requested": ""}
        forged = {**card, "cardsV2": [{"cardId": "x", "card": {"sections": [{"widgets": [{"buttonList": {"buttons": [
            {"text": "Take", "onClick": {"action": {"function": "take", "parameters": [
                {"key": k, "value": v} for k, v in params.items()]}}}]}}]}]}}]}
        answer = space.click(forged, "take", DANA)
        assert answer.status_code == 200 and "is not one the bot asks about" in answer.json["text"]
    assert bot.cycle.availability.overrides == ()


def test_a_lead_asks_on_someone_elses_behalf_and_others_cannot(client, bot, workbook_dir):
    path = workbook_dir / "Managers.csv"
    rows = read(path)
    rows[0].append("Lead")
    for row in rows[1:]:
        row.append("yes" if row[0] == "Hana Sato" else "")
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    bot.reload()
    card = request_card(client, "cover today for Chen Wei", HANA)
    assert card["text"].startswith("Chen Wei needs cover for shift 2 on Mon 23 Nov")
    assert Space(client, bot).click(card, "take", ADA).json["text"].startswith("Ada Park covers Chen Wei")
    refused = ask(client, "cover today for Hana Sato", CHEN)
    assert "only a lead (Lead = yes in the Managers tab)" in refused["text"] and refused["privateMessageViewer"]
    assert "is not one manager in the Managers tab" in ask(client, "cover today for <users/all>", HANA)["text"]
    rows[2][-1] = "maybe"  # Bruno Silva's row
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    bot.reload()
    assert "Managers row 3: Lead for Bruno Silva is 'maybe'; write yes, no or leave blank" in bot.problems


def test_a_withdrawn_request_cannot_be_taken_even_after_a_restart_until_it_is_asked_again(
        client, bot, workbook_dir, clock):
    card = request_card(client, "cover today", BRUNO)
    answer = ask(client, "cover cancel today", BRUNO)
    assert answer["text"].startswith("Withdrawn: the request for cover of Bruno Silva's shift 2 on Mon 23 Nov")
    client, bot, _ = crash_and_restart(bot, workbook_dir, clock)
    refused = Space(client, bot).click(card, "take", DANA).json
    assert refused["privateMessageViewer"] == {"name": DANA} and "Bruno Silva withdrew this request" in refused["text"]
    assert bot.cycle.availability.overrides == ()
    request_card(client, "cover today", BRUNO)  # asked again: the first card's Take counts again
    assert Space(client, bot).click(card, "take", DANA).json["text"].startswith("Dana Kim covers Bruno Silva")


def test_a_taken_request_cannot_be_withdrawn(client, bot):
    Space(client, bot).click(request_card(client, "cover today", BRUNO), "take", DANA)
    answer = ask(client, "cover cancel today", BRUNO)
    assert "Dana Kim took it already" in answer["text"] and answer["privateMessageViewer"]


ANY_PARAM = st.one_of(st.text(max_size=30), st.sampled_from(["2026-11-23", "2026-11-24", "2", "1", "9", BRUNO, DANA,
                                                             "2026-11-23T06:00:00Z", "=1+1", "users/", ""]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.fixed_dictionaries({"day": ANY_PARAM, "shift": ANY_PARAM, "instead_of": ANY_PARAM,
                                     "requested": ANY_PARAM}), taker=st.sampled_from([ADA, DANA, STRANGER, BRUNO]))
def test_any_take_parameters_get_an_answer_and_only_a_valid_take_covers(client, bot, params, taker):
    """The Take button's parameters come back from the client: whatever they hold, no 5xx, and
    cover comes only for a real request of a real manager's running shift, with only our own
    kind of time written into the sheet."""
    message = {"name": "spaces/local/messages/x", "text": "", "cardsV2": [{"cardId": "x", "card": {"sections": [
        {"widgets": [{"buttonList": {"buttons": [{"text": "Take", "onClick": {"action": {
            "function": "take", "parameters": [{"key": k, "value": v} for k, v in params.items()]}}}]}}]}]}}]}
    before = set(bot.cycle.availability.overrides)
    answer = Space(client, bot).click(message, "take", taker)
    assert answer.status_code in (200, 400)
    added = set(bot.cycle.availability.overrides) - before
    for override in added:
        assert override.instead_of in {m.chat_id for m in bot.cycle.managers} and override.covered_by == taker
    for row in bot.ops_rows.get("overrides", []):
        assert row[4] == "" or row[4].endswith("Z") and row[4] <= row[5]  # Requested at: ours or nothing


def test_only_a_time_of_ours_goes_into_requested_at(client, bot, workbook_dir):
    card = request_card(client, "cover today", BRUNO)
    take = card["cardsV2"][0]["card"]["sections"][0]["widgets"][1]["buttonList"]["buttons"][0]["onClick"]["action"]
    for p in take["parameters"]:
        if p["key"] == "requested":
            p["value"] = '=HYPERLINK("http://evil.example")'
    Space(client, bot).click(card, "take", DANA)
    bot.flush()
    [row] = read(workbook_dir / "Overrides.csv")[1:]
    assert row[4] == "" and row[5] == "2026-11-23T07:00:00Z"
