"""Generated inputs against every route: no 5xx, no job wedged, /healthz truthful, nothing
half-written, every accepted id readable back.

The inputs are what the world sends, not what our own code makes: arbitrary JSON (lone UTF-16
surrogates, deep nesting, huge numbers, every Unicode category, control characters), arbitrary
bytes, and Chat events built from the documented shapes (tests/samples/chat) with every field
replaced by generated values. One bot serves every example of a test, as a real one would serve
a day of traffic; after each batch its jobs must still run clean.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcabot.web import create_app
from tests.fakes.clock import FakeClock
from tests.fakes.jobs import RecordingJobs

SAMPLES = Path(__file__).parent / "samples" / "chat"
EXAMPLES = 300
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
TRIED: dict[str, int] = {}  # route -> examples sent (printed at the end, for the issue notes)

# Every code point, lone surrogates included (hypothesis' own text strategy leaves those out).
any_char = st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr),
                     st.sampled_from("\x00\x1f\x7f\x85\x9b\u2028\u2029\ufeff/.%?#=+-@'\"\\<>"))
any_text = st.lists(any_char, max_size=40).map("".join)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=10 ** 30),
                    st.floats(allow_nan=False, allow_infinity=False), any_text)
any_json = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(any_text, inner, max_size=4)),
                        max_leaves=12)


def deep(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)


deep_json = st.builds(deep, st.integers(1, 5000), st.sampled_from(["list", "dict"]))
# Numbers Python's json reads as infinity or NaN, where Chat events carry numbers (command ids).
odd_numbers = st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "1" * 5000, "-0", "1e-400"])
odd_number_events = st.builds(
    lambda n, where: {"app": '{"type": "APP_COMMAND", "user": {"name": "users/1"}, '
                             '"appCommandMetadata": {"appCommandId": %s}}',
                      "slash": '{"type": "MESSAGE", "user": {"name": "users/1"}, "message": {"text": "/who", '
                               '"slashCommand": {"commandId": %s}}}',
                      "title": '{"ticket_id": "N-1", "title": %s}'}[where] % n,
    odd_numbers, st.sampled_from(["app", "slash", "title"]))


def dumps(value) -> bytes:
    """JSON as a ticket system would send it: a lone surrogate as its \\u escape."""
    return json.dumps(value, ensure_ascii=True, allow_nan=False).encode()


TOKEN = "fuzz-token"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    clock = FakeClock()
    jobs = RecordingJobs(clock)
    app = create_app({"WORKBOOK_DIR": str(tmp_path_factory.mktemp("fuzz") / "workbook"), "JOBS": jobs,
                      "CLOCK": clock})
    yield app.test_client(), app.extensions["rcabot"], clock
    app.extensions["rcabot"].journal.close()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """The same with RCABOT_API_TOKEN set: the token checks meet the generated headers too."""
    clock = FakeClock()
    app = create_app({"WORKBOOK_DIR": str(tmp_path_factory.mktemp("fuzz") / "workbook"),
                      "JOBS": RecordingJobs(clock), "CLOCK": clock, "API_TOKEN": TOKEN})
    yield app.test_client(), app.extensions["rcabot"], clock
    app.extensions["rcabot"].journal.close()


def send(client, route: str, data: bytes):
    TRIED[route] = TRIED.get(route, 0) + 1
    answer = client.post(route, data=data, content_type="application/json")
    assert answer.status_code < 500, (route, data[:300], answer.get_data()[:300])
    assert answer.is_json, (route, answer.status_code)
    return answer


def still_healthy(client, bot, clock) -> None:
    """The jobs run clean on what the inputs left behind, and /healthz says so."""
    clock.advance(seconds=400)
    bot.tick()
    bot.deliver()
    bot.flush()
    bot.reload()
    health = client.get("/healthz")
    assert health.status_code == 200, health.get_json()
    assert not bot.degraded


def readable_back(client, bot, ticket_id: str) -> None:
    answer = client.get("/tickets/" + quote(ticket_id, safe=""))
    assert answer.status_code == 200 and answer.json["ticket_id"] == ticket_id, (ticket_id, answer.status_code)


@FUZZ
@given(body=st.one_of(any_json, st.fixed_dictionaries({"ticket_id": any_text},
                                                      optional={"title": any_text, "url": any_text})))
def test_any_json_sent_to_start_a_ticket_is_answered_without_a_5xx_and_what_is_accepted_reads_back(served, body):
    client, bot, _ = served
    answer = send(client, "/tickets", dumps(body))
    if answer.status_code in (200, 202):
        readable_back(client, bot, answer.json["ticket_id"])
    else:
        assert answer.status_code == 400 and answer.json["error"]


@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), deep_json.map(str.encode), odd_number_events.map(str.encode)))
def test_any_bytes_or_nesting_sent_to_the_json_routes_get_a_4xx(served, raw):
    client, _, _ = served
    for route in ("/tickets", "/chat/events"):
        answer = send(client, route, raw)
        assert answer.status_code < 500


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def replaced(event, values: st.DataObject):
    """The documented event with some of its fields (at any depth) replaced by generated values."""
    if isinstance(event, dict):
        return {k: (values.draw(any_json) if values.draw(st.integers(0, 9)) == 0 else replaced(v, values))
                for k, v in event.items()}
    if isinstance(event, list):
        return [replaced(v, values) for v in event]
    return event


documented = ["card_clicked_event.json", "message_event.json", "added_to_space_event.json",
              "addon_button_clicked_event.json"]


@FUZZ
@given(name=st.sampled_from(documented), values=st.data(), text=any_text)
def test_chat_events_shaped_as_google_documents_them_with_any_field_changed_never_get_a_5xx(served, name, values,
                                                                                         text):
    client, bot, _ = served
    event = sample(name)
    if "message" in event:
        event["message"]["text"] = event["message"]["argumentText"] = text
    send(client, "/chat/events", dumps(replaced(event, values)))


@FUZZ
@given(path=any_text)
def test_any_ticket_path_is_answered_without_a_5xx(served, path):
    client, _, _ = served
    TRIED["GET /tickets/<id>"] = TRIED.get("GET /tickets/<id>", 0) + 1
    answer = client.get("/tickets/" + quote(path.encode("utf-8", "surrogatepass"), safe=""))
    assert answer.status_code < 500


@FUZZ
@given(text=any_text, command=st.sampled_from(["", "who ", "tickets ", "dnd ", "back ", "stats ", "/dnd ", "away ",
                                               "away today to ", "cover ", "cover today ", "cover cancel ",
                                               "who 2026-11-2"]))
def test_any_command_text_from_a_manager_gets_an_answer(served, text, command):
    client, bot, _ = served
    manager = bot.cycle.managers[0].chat_id
    event = {"type": "MESSAGE", "user": {"name": manager, "displayName": "M", "type": "HUMAN"},
             "space": {"name": "spaces/local", "spaceType": "SPACE"},
             "message": {"name": "spaces/local/messages/fuzz", "text": command + text,
                         "argumentText": command + text}}
    answer = send(client, "/chat/events", dumps(event))
    assert answer.status_code == 200


latin1_text = st.text(st.characters(max_codepoint=0xFF, exclude_characters="\r\n"), max_size=60)  # a header line
GET_ROUTES = ["/", "/console", "/console/messages", "/console/status", "/console/managers", "/healthz", "/status",
              "/calendar.ics", "/tickets/RCA-1"]


@FUZZ
@given(route=st.sampled_from(GET_ROUTES), host=st.one_of(st.none(), latin1_text),
       authorization=st.one_of(st.none(), latin1_text, latin1_text.map("Bearer ".__add__)),
       query=st.dictionaries(latin1_text, latin1_text, max_size=3))
def test_any_host_authorization_or_query_on_the_read_routes_is_answered_without_a_5xx(served, guarded, route, host,
                                                                                     authorization, query):
    TRIED["GET (headers, query)"] = TRIED.get("GET (headers, query)", 0) + 2
    headers = {k: v for k, v in (("Host", host), ("Authorization", authorization)) if v is not None}
    for client, _, _ in (served, guarded):
        answer = client.get(route, headers=headers, query_string=query)
        assert answer.status_code < 500, (route, headers, answer.status_code)
    if authorization != f"Bearer {TOKEN}" and route not in ("/", "/console", "/healthz"):
        assert answer.status_code in (401, 403, 404), (route, headers, answer.status_code)  # nothing leaks


def test_after_every_generated_input_the_bot_still_works_and_says_so(served):
    """Runs after the generated tests above (pytest keeps a module's order): nothing they sent
    wedged a job, and a plain ticket still goes through its whole cycle."""
    client, bot, clock = served
    still_healthy(client, bot, clock)
    written = bot.workbook.read_tabs([bot.config.tabs.tickets])[bot.config.tabs.tickets][1:]
    assert {row[0] for row in written} == {t["ticket_id"] for t in bot.status()["tickets"]}  # nothing half-written
    assert client.post("/tickets", json={"ticket_id": "AFTER-FUZZ"}).status_code == 202
    bot.deliver()
    assert bot.ticket("AFTER-FUZZ")["message"] or bot.ticket("AFTER-FUZZ")["status"] == "Waiting"
    print(f"\ngenerated inputs tried per route: {TRIED}")
