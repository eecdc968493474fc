"""The ticket system's API: POST /tickets, GET /tickets/<id>, GET /status, GET /healthz."""
from urllib.parse import quote

import pytest

from rcabot.web import create_app
from tests.conftest import drain


def test_starting_a_ticket_answers_202_with_its_state(client):
    answer = client.post("/tickets", json={"ticket_id": "RCA-1", "title": "Latency", "url": "https://t.example/1"})
    assert answer.status_code == 202
    assert answer.json["ticket_id"] == "RCA-1" and answer.json["status"] == "Pinged"
    assert answer.json["manager"]["name"] and answer.json["url"] == "https://t.example/1"


def test_starting_the_same_ticket_again_answers_200_and_starts_no_second_cycle(client, bot):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    again = client.post("/tickets", json={"ticket_id": "RCA-1", "title": "changed"})
    assert again.status_code == 200 and again.json["attempts"] == 1
    assert len(bot.chat.messages()) == 1


def test_the_ticket_link_comes_from_the_template_when_none_is_given(client):
    answer = client.post("/tickets", json={"ticket_id": "RCA-9"})
    assert answer.json["url"] == "https://tickets.example.com/browse/RCA-9"


def test_a_ticket_can_be_looked_up_and_an_unknown_one_is_404(client):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    assert client.get("/tickets/RCA-1").json["status"] == "Pinged"
    missing = client.get("/tickets/RCA-404")
    assert missing.status_code == 404 and missing.json == {"error": "ticket RCA-404 is not in the cycle"}


@pytest.mark.parametrize("body, status, message", [
    ("not json", 400, "the body is not valid JSON"),
    ([1, 2], 400, "the body must be a JSON object"),
    ({}, 400, "ticket_id is required"),
    ({"ticket_id": None}, 400, "ticket_id is required"),
    ({"ticket_id": ""}, 400, "ticket_id must not be blank"),
    ({"ticket_id": "   "}, 400, "ticket_id must not be blank"),
    ({"ticket_id": ["RCA-1"]}, 400, "ticket_id must be a string, not list"),
    ({"ticket_id": {"id": 1}}, 400, "ticket_id must be a string, not dict"),
    ({"ticket_id": 42}, 400, "ticket_id must be a string, not int"),
    ({"ticket_id": "R" * 129}, 400, "ticket_id is longer than 128 characters"),
    ({"ticket_id": "RCA-1\n2"}, 400, "ticket_id must not contain control characters"),
    ({"ticket_id": "RCA-1\x852"}, 400, "ticket_id must not contain control characters"),
    ({"ticket_id": "RCA\x9b1"}, 400, "ticket_id must not contain control characters"),
    ({"ticket_id": "RCA\u20281"}, 400, "line separators"),
    ('{"ticket_id": "RCA-\\ud83d"}', 400, "ticket_id is not valid Unicode"),
    ({"ticket_id": "/RCA-1"}, 400, "ticket_id must not start or end with /"),
    ({"ticket_id": "RCA-1/"}, 400, "ticket_id must not start or end with /"),
    ({"ticket_id": "acme//1"}, 400, "hold //"),
    ({"ticket_id": ".."}, 400, "have . or .."),
    ("[" * 3000 + "]" * 3000, 400, "deeper than 32 levels"),
    ('{"ticket_id": ' + "[" * 3000 + "]" * 3000 + "}", 400, "deeper than 32 levels"),
    ({"ticket_id": "RCA-1", "url": "javascript:alert(1)"}, 400, "url must be an http(s) link"),
    ({"ticket_id": "RCA-1", "url": "ftp://x"}, 400, "url must be an http(s) link"),
    ({"ticket_id": "RCA-1", "url": "http://[::1"}, 400, "url must be an http(s) link"),  # urlparse raises
    ({"ticket_id": "RCA-1", "title": 5}, 400, "title must be a string, not int"),
])
def test_a_bad_ticket_request_gets_a_clear_400_and_changes_nothing(client, bot, body, status, message):
    if isinstance(body, str):
        answer = client.post("/tickets", data=body, content_type="application/json")
    else:
        answer = client.post("/tickets", json=body)
    assert answer.status_code == status
    assert message in answer.json["error"]
    assert bot.status()["tickets"] == [] and bot.chat.messages() == []


def test_a_title_cut_mid_emoji_is_stored_safely_and_the_bot_goes_on(client, bot, clock, workbook_dir):
    cut = client.post("/tickets", data='{"ticket_id": "X", "title": "cut emoji \\ud83d"}',
                      content_type="application/json")
    assert cut.status_code == 202 and cut.json["title"] == "cut emoji \ufffd"
    assert client.post("/tickets", json={"ticket_id": "Y"}).status_code == 202
    drain(bot, clock)
    assert bot.ticket("X")["message"] and bot.ticket("Y")["message"]  # both posted: nothing wedged
    bot.flush()
    assert "cut emoji \ufffd" in (workbook_dir / "TicketState.csv").read_text(encoding="utf-8")
    assert client.get("/healthz").status_code == 200


def test_ids_with_slashes_and_any_unicode_read_back(client):
    for ticket_id in ("acme/api#42", "RCA 7 ü", "=1+1", "%2F", "a?b&c"):
        assert client.post("/tickets", json={"ticket_id": ticket_id}).status_code == 202
        answer = client.get("/tickets/" + quote(ticket_id, safe=""))
        assert answer.status_code == 200 and answer.json["ticket_id"] == ticket_id


def test_the_ticket_link_encodes_the_id(client):
    answer = client.post("/tickets", json={"ticket_id": "acme/api#42"})
    assert answer.json["url"] == "https://tickets.example.com/browse/acme%2Fapi%2342"


def test_a_body_that_is_not_json_typed_gets_415(client):
    answer = client.post("/tickets", data="ticket_id=RCA-1", content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 415 and "application/json" in answer.json["error"]


def test_a_body_over_the_size_limit_gets_413(client, bot):
    answer = client.post("/tickets", json={"ticket_id": "RCA-1", "title": "x" * 100_000})
    assert answer.status_code == 413 and "larger than" in answer.json["error"]
    assert bot.status()["tickets"] == []


def test_local_mode_needs_no_token(client):
    assert client.post("/tickets", json={"ticket_id": "RCA-1"}).status_code == 202


@pytest.fixture
def guarded(workbook_dir, jobs, clock):
    return create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock,
                       "API_TOKEN": "s3cret-token"}).test_client()


@pytest.mark.parametrize("header", [None, "Bearer wrong", "s3cret-token", "Basic s3cret-token"])
def test_with_a_token_set_the_api_refuses_requests_without_it(guarded, header):
    headers = {"Authorization": header} if header else {}
    for answer in (guarded.post("/tickets", json={"ticket_id": "RCA-1"}, headers=headers),
                   guarded.get("/tickets/RCA-1", headers=headers), guarded.get("/status", headers=headers)):
        assert answer.status_code == 401 and "API token" in answer.json["error"]


def test_with_a_token_set_the_api_accepts_requests_with_it(guarded):
    headers = {"Authorization": "Bearer s3cret-token"}
    assert guarded.post("/tickets", json={"ticket_id": "RCA-1"}, headers=headers).status_code == 202
    assert guarded.get("/status", headers=headers).status_code == 200


def test_status_shows_the_shift_who_is_on_it_and_the_tickets(client, space):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    space.click(space.last_card("RCA-1"), "decline", space.pinged("RCA-1"))
    status = client.get("/status").json
    assert status["shift"] == 2 and status["shifts"] == 4
    on_shift = {m["name"]: m for m in status["managers"] if m["on_shift"]}
    assert set(on_shift) == {"Bruno Silva", "Chen Wei", "Hana Sato"}
    assert on_shift["Bruno Silva"]["dnd_until"] == "2026-11-23T08:00:00Z"
    assert on_shift["Chen Wei"]["holding"] == "RCA-1"
    assert [t["ticket_id"] for t in status["tickets"]] == ["RCA-1"]


def test_health_is_200_when_all_is_well(client):
    assert client.get("/healthz").json == {"status": "ok", "problems": {}, "sheet_problems": []}


def test_unknown_routes_and_methods_answer_json(client):
    assert client.get("/nope").json == {"error": "no such route"}
    assert client.get("/chat/events").status_code == 405
