"""POST /hooks/github and /hooks/jira (issue 13): the samples in tests/samples/hooks start the
right tickets; signatures, replays, stale deliveries and odd payloads are refused or ignored."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from rcabot.inbound.signatures import sign
from rcabot.web import create_app
from rcabot.web.inputs import InputError, ticket_id_value
from tests.conftest import set_configuration

SAMPLES = Path(__file__).parent / "samples" / "hooks"
GITHUB_SECRET, JIRA_SECRET = "gh-test-secret", "jira-test-secret"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


@pytest.fixture
def app(workbook_dir, jobs, clock):
    return create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock,
                       "GITHUB_SECRET": GITHUB_SECRET, "JIRA_SECRET": JIRA_SECRET})


@pytest.fixture(autouse=True)
def configured(bot, workbook_dir):
    set_configuration(workbook_dir, GitHubLabel="rca-ready", JiraStatus="RCA Needed", JiraLabel="rca")
    bot.reload()


class Sender:
    """Posts deliveries as GitHub and Jira do: signed raw bodies, with a fresh delivery id each."""

    def __init__(self, client, clock):
        self.client, self.clock, self.count = client, clock, 0

    def _next_id(self) -> str:
        self.count += 1
        return f"delivery-{self.count}"

    def github(self, event: str, payload, *, secret=GITHUB_SECRET, signature=None, delivery=None, raw=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or self._next_id(),
                   "X-Hub-Signature-256": signature if signature is not None else sign(secret, body)}
        return self.client.post("/hooks/github", data=body, headers=headers, content_type="application/json")

    def jira(self, payload, *, secret=JIRA_SECRET, signature=None, delivery=None, raw=None, stamp=True):
        if stamp and isinstance(payload, dict):
            payload = {**payload, "timestamp": int(self.clock().timestamp() * 1000)}
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {"X-Atlassian-Webhook-Identifier": delivery or self._next_id(),
                   "X-Hub-Signature": signature if signature is not None else sign(secret, body)}
        return self.client.post("/hooks/jira", data=body, headers=headers, content_type="application/json")


@pytest.fixture
def send(client, clock) -> Sender:
    return Sender(client, clock)


def ticket(client, ticket_id: str):
    return client.get("/tickets/" + quote(ticket_id, safe="/"))


# --- The samples start the right tickets ----------------------------------------------------

@pytest.mark.parametrize("event, name, ticket_id, title, url", [
    ("issues", "github_issues_labeled", "acme/payments#42", "Checkout latency spike after the 07:40 deploy",
     "https://github.com/acme/payments/issues/42"),
    ("pull_request", "github_pull_request_labeled", "acme/payments#57",
     "Revert connection pool change that starved checkout", "https://github.com/acme/payments/pull/57"),
])
def test_a_labeled_github_issue_or_pull_request_starts_its_ticket(send, client, event, name, ticket_id, title, url):
    answer = send.github(event, sample(name))
    assert answer.status_code == 202, answer.json
    view = ticket(client, ticket_id).json
    assert (view["ticket_id"], view["title"], view["url"], view["status"]) == (ticket_id, title, url, "Pinged")


@pytest.mark.parametrize("name", ["jira_issue_updated_transition", "jira_issue_updated_label"])
def test_a_jira_issue_moved_into_the_status_or_given_the_label_starts_its_ticket(send, client, name):
    answer = send.jira(sample(name))
    assert answer.status_code == 202, answer.json
    view = ticket(client, "OPS-231").json
    assert view["title"] == "Checkout latency spike after the 07:40 deploy"
    assert view["url"] == "https://acme.atlassian.net/browse/OPS-231"


def test_a_jira_issue_created_in_the_status_starts_its_ticket(send, client):
    created = sample("jira_issue_updated_transition")
    created["webhookEvent"], created["issue_event_type_name"] = "jira:issue_created", "issue_created"
    del created["changelog"]
    assert send.jira(created).status_code == 202
    assert ticket(client, "OPS-231").status_code == 200


def test_github_ping_answers_200_and_starts_nothing(send, bot):
    answer = send.github("ping", sample("github_ping"))
    assert answer.status_code == 200 and answer.json == {"pong": True}
    assert bot.chat.messages() == []


def test_a_second_label_event_for_an_open_ticket_is_idempotent(send, bot):
    assert send.github("issues", sample("github_issues_labeled")).status_code == 202
    assert send.github("issues", sample("github_issues_labeled")).status_code == 200
    assert len(bot.chat.messages()) == 1


def test_a_pull_request_payload_larger_than_the_api_limit_is_accepted(send):
    payload = sample("github_pull_request_labeled")
    payload["pull_request"]["body"] = "x" * 65536  # GitHub's own limit for the text
    assert len(json.dumps(payload)) > 64 * 1024
    assert send.github("pull_request", payload).status_code == 202


# --- Signatures and secrets ------------------------------------------------------------------

@pytest.mark.parametrize("signature, status", [(None, 202), ("sha256=" + "0" * 64, 401), ("", 401)])
def test_github_signature_good_forged_or_missing(send, signature, status):
    assert send.github("issues", sample("github_issues_labeled"), signature=signature).status_code == status


@pytest.mark.parametrize("signature, status", [(None, 202), ("sha256=" + "0" * 64, 401), ("", 401)])
def test_jira_signature_good_forged_or_missing(send, signature, status):
    assert send.jira(sample("jira_issue_updated_transition"), signature=signature).status_code == status


def test_a_body_signed_with_another_secret_is_refused_and_starts_nothing(send, bot):
    answer = send.github("issues", sample("github_issues_labeled"), secret="not-the-secret")
    assert answer.status_code == 401 and "X-Hub-Signature-256" in answer.json["error"]
    assert bot.ticket("acme/payments#42") is None


@pytest.mark.parametrize("route, variable", [("/hooks/github", "RCABOT_GITHUB_SECRET"),
                                             ("/hooks/jira", "RCABOT_JIRA_SECRET")])
def test_without_a_secret_nothing_is_accepted(tmp_path, jobs, clock, route, variable, monkeypatch):
    monkeypatch.delenv("RCABOT_GITHUB_SECRET", raising=False)
    monkeypatch.delenv("RCABOT_JIRA_SECRET", raising=False)
    # A workbook of its own: the fixtures' app holds the one in workbook_dir.
    client = create_app({"WORKBOOK_DIR": str(tmp_path / "bare"), "JOBS": jobs, "CLOCK": clock}).test_client()
    answer = client.post(route, json={"action": "labeled"})
    assert answer.status_code == 503 and variable in answer.json["error"]


# --- Replays, staleness, malformed bodies ----------------------------------------------------

def test_a_replayed_delivery_is_ignored(send, bot):
    assert send.github("issues", sample("github_issues_labeled"), delivery="d-1").status_code == 202
    again = send.github("issues", sample("github_issues_labeled"), delivery="d-1")
    assert again.status_code == 200 and "received already" in again.json["ignored"]


def test_a_delivery_replayed_after_a_restart_does_not_start_a_closed_review_again(send, bot, space, workbook_dir,
                                                                                  jobs, clock):
    assert send.github("issues", sample("github_issues_labeled"), delivery="d-1").status_code == 202
    pinged = space.pinged("acme/payments#42")
    space.click(space.last_card("acme/payments#42"), "accept", pinged)
    space.click(space.last_card("acme/payments#42"), "done", pinged)
    bot.journal.close()  # the process ends; a cut line and a hand edit are in the file too
    with open(bot.journal.folder / "deliveries.jsonl", "a", encoding="utf-8") as f:
        f.write('{"id": "github:d-2", "at": "not a time"}\n{"id": "github:d-3", "a')

    app = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock,
                      "GITHUB_SECRET": GITHUB_SECRET, "JIRA_SECRET": JIRA_SECRET})
    again = Sender(app.test_client(), clock).github("issues", sample("github_issues_labeled"), delivery="d-1")
    assert again.status_code == 200 and "received already" in again.json["ignored"]
    assert app.test_client().get("/tickets/" + quote("acme/payments#42", safe="/")).status_code == 404


def test_a_replayed_jira_delivery_is_ignored(send):
    assert send.jira(sample("jira_issue_updated_label"), delivery="j-1").status_code == 202
    again = send.jira(sample("jira_issue_updated_label"), delivery="j-1")
    assert again.status_code == 200 and "received already" in again.json["ignored"]


def test_a_delivery_refused_while_the_bot_is_busy_gets_through_when_retried(send, bot, monkeypatch):
    from rcabot.bot import Overloaded
    start = bot.start_ticket

    def busy(*args):
        raise Overloaded("the journal cannot be written")
    monkeypatch.setattr(bot, "start_ticket", busy)
    refused = send.github("issues", sample("github_issues_labeled"), delivery="d-1")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "60"
    monkeypatch.setattr(bot, "start_ticket", start)
    assert send.github("issues", sample("github_issues_labeled"), delivery="d-1").status_code == 202


def test_a_delivery_id_is_forgotten_after_a_day(send, clock):
    send.github("issues", sample("github_issues_labeled"), delivery="d-1")
    clock.advance(24 * 3600 + 1)
    assert "ignored" not in send.github("issues", sample("github_issues_labeled"), delivery="d-1").json


@pytest.mark.parametrize("offset_ms", [-5 * 60 * 1000 - 1, 5 * 60 * 1000 + 1])
def test_a_stale_jira_timestamp_is_refused(send, clock, bot, offset_ms):
    payload = {**sample("jira_issue_updated_transition"), "timestamp": int(clock().timestamp() * 1000) + offset_ms}
    answer = send.jira(payload, stamp=False)
    assert answer.status_code == 400 and "minutes from now" in answer.json["error"]
    assert bot.ticket("OPS-231") is None


def test_a_jira_delivery_without_timestamp_is_refused(send):
    payload = sample("jira_issue_updated_transition")
    del payload["timestamp"]
    assert send.jira(payload, stamp=False).status_code == 400


@pytest.mark.parametrize("raw", [b"not json", b"{", b"[" * 40 + b"]" * 40])
def test_malformed_json_is_400(send, raw):
    github = send.github("issues", None, raw=raw)
    jira = send.jira(None, raw=raw)
    assert github.status_code == jira.status_code == 400
    assert github.json["error"] and jira.json["error"]


def test_a_form_encoded_github_delivery_says_to_send_json(client):
    body = b"payload=%7B%7D"
    answer = client.post("/hooks/github", data=body, content_type="application/x-www-form-urlencoded",
                         headers={"X-GitHub-Event": "issues", "X-Hub-Signature-256": sign(GITHUB_SECRET, body)})
    assert answer.status_code == 400 and "application/json" in answer.json["error"]


# --- Ignored: other events, actions, labels, statuses ---------------------------------------

def _github_variant(change):
    payload = sample("github_issues_labeled")
    change(payload)
    return payload


@pytest.mark.parametrize("event, payload, reason", [
    ("push", {"ref": "refs/heads/main"}, "event 'push'"),
    ("issues", _github_variant(lambda p: p.update(action="unlabeled")), "action 'unlabeled'"),
    ("issues", _github_variant(lambda p: p.update(action="opened")), "action 'opened'"),
    ("issues", _github_variant(lambda p: p["label"].update(name="bug")), "label 'bug'"),
])
def test_other_github_events_actions_and_labels_are_ignored(send, bot, event, payload, reason):
    answer = send.github(event, payload)
    assert answer.status_code == 200 and reason in answer.json["ignored"]
    assert bot.chat.messages() == []


def _jira_variant(name, change):
    payload = sample(name)
    change(payload)
    return payload


@pytest.mark.parametrize("payload, reason", [
    (_jira_variant("jira_issue_updated_transition", lambda p: p.update(webhookEvent="comment_created")),
     "'comment_created'"),
    (_jira_variant("jira_issue_updated_transition", lambda p: p["changelog"]["items"][0].update(toString="Done")),
     "neither moved"),
    (_jira_variant("jira_issue_updated_label", lambda p: p["changelog"]["items"][0].update(toString="incident sev1")),
     "neither moved"),
    (_jira_variant("jira_issue_updated_label",  # the label was there already: another label was added
                   lambda p: p["changelog"]["items"][0].update(fromString="rca", toString="rca sev1")),
     "neither moved"),
])
def test_other_jira_events_and_changes_are_ignored(send, bot, payload, reason):
    answer = send.jira(payload)
    assert answer.status_code == 200 and reason in answer.json["ignored"]
    assert bot.chat.messages() == []


def test_jira_ignores_everything_when_neither_status_nor_label_is_configured(send, bot, workbook_dir):
    set_configuration(workbook_dir, JiraStatus="", JiraLabel="")
    bot.reload()
    answer = send.jira(sample("jira_issue_updated_transition"))
    assert answer.status_code == 200 and "JiraStatus" in answer.json["ignored"]


def test_the_status_is_matched_without_regard_to_case(send, workbook_dir, bot):
    set_configuration(workbook_dir, JiraStatus="rca needed")
    bot.reload()
    assert send.jira(sample("jira_issue_updated_transition")).status_code == 202


# --- Mutations of the samples: never a 5xx, never a ticket with an invalid id ---------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)


def _paths(value, prefix=()):
    """Every path into the payload (dict keys and list indexes), the root excluded."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield prefix + (key,)
        yield from _paths(child, prefix + (key,))


def _replace(payload, path, new):
    payload = copy.deepcopy(payload)
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return payload


GITHUB_SAMPLES = {"issues": sample("github_issues_labeled"), "pull_request": sample("github_pull_request_labeled")}
GITHUB_PATHS = {event: sorted(_paths(p), key=repr) for event, p in GITHUB_SAMPLES.items()}
JIRA_SAMPLES = [sample("jira_issue_updated_transition"), sample("jira_issue_updated_label")]
JIRA_PATHS = [sorted((p for p in _paths(s) if p != ("timestamp",)), key=repr) for s in JIRA_SAMPLES]


def _check(answer, bot):
    assert answer.status_code < 500, answer.json
    if "ticket_id" in (answer.json or {}):
        assert answer.json["ticket_id"] == ticket_id_value(answer.json["ticket_id"])
    for ticket_id in bot.cycle.state.tickets:  # every ticket in the bot, not only this answer's
        assert ticket_id == ticket_id_value(ticket_id)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.data())
def test_mutated_github_samples_never_fail_or_start_an_invalid_ticket(send, bot, data):
    event = data.draw(st.sampled_from(sorted(GITHUB_SAMPLES)))
    path = data.draw(st.sampled_from(GITHUB_PATHS[event]))
    payload = _replace(GITHUB_SAMPLES[event], path, data.draw(JSON_VALUES))
    _check(send.github(event, payload), bot)


@FUZZ
@given(data=st.data())
def test_mutated_jira_samples_never_fail_or_start_an_invalid_ticket(send, bot, data):
    index = data.draw(st.sampled_from([0, 1]))
    path = data.draw(st.sampled_from(JIRA_PATHS[index]))
    payload = _replace(JIRA_SAMPLES[index], path, data.draw(JSON_VALUES))
    _check(send.jira(payload), bot)


@FUZZ
@given(body=st.binary(max_size=200) | JSON_VALUES.map(lambda v: json.dumps(v).encode()),
       event=st.sampled_from(["issues", "pull_request", "ping", "push", ""]))
def test_random_signed_bodies_never_fail(send, bot, body, event):
    _check(send.github(event, None, raw=body), bot)
    _check(send.jira(None, raw=body), bot)


def test_an_invalid_id_from_a_payload_is_refused_with_400(send, bot):
    payload = sample("github_issues_labeled")
    payload["repository"]["full_name"] = "acme//payments"
    answer = send.github("issues", payload)
    assert answer.status_code == 400 and "ticket_id" in answer.json["error"]
    with pytest.raises(InputError):
        ticket_id_value("acme//payments#42")


# --- Limits and the pure mappings ------------------------------------------------------------

def test_a_hook_body_over_one_mib_is_413_with_the_hooks_limit_in_the_message(send):
    answer = send.github("issues", None, raw=b" " * (1024 * 1024 + 1))
    assert answer.status_code == 413 and "1024 KiB" in answer.json["error"]


def test_the_ticket_api_keeps_its_64_kib_limit(client):
    answer = client.post("/tickets", data=b" " * (64 * 1024 + 1), content_type="application/json")
    assert answer.status_code == 413 and "64 KiB" in answer.json["error"]


@pytest.mark.parametrize("self_url, link", [
    ("https://acme.atlassian.net/rest/api/2/issue/10231", "https://acme.atlassian.net/browse/OPS-231"),
    ("https://jira.acme.example/jira/rest/api/2/issue/10231", "https://jira.acme.example/jira/browse/OPS-231"),
    ("http://[::1", ""), ("javascript:alert(1)", ""), (5, ""),
])
def test_the_jira_link_is_the_issues_browse_page_on_its_site(self_url, link):
    from rcabot.config import Config
    from rcabot.inbound.jira import jira_ticket
    payload = sample("jira_issue_updated_transition")
    payload["issue"]["self"] = self_url
    assert jira_ticket(payload, Config(jira_status="RCA Needed")).url == link


@pytest.mark.parametrize("number", [True, 0, -1, "42", 4.2, None])
def test_a_github_number_that_is_not_a_positive_integer_is_refused(number):
    from rcabot.config import Config
    from rcabot.inbound.github import github_ticket
    payload = sample("github_issues_labeled")
    payload["issue"]["number"] = number
    with pytest.raises(InputError, match="issue.number"):
        github_ticket("issues", payload, Config())


def test_a_github_link_urlparse_cannot_read_is_400_not_500(send):
    payload = sample("github_issues_labeled")
    payload["issue"]["html_url"] = "http://[::1"
    answer = send.github("issues", payload)
    assert answer.status_code == 400 and answer.json["error"] == "url must be an http(s) link"
