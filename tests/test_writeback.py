"""Write-back (issue 13): the Jira and GitHub targets against faithful fakes of their REST APIs; the
real clients (`jira`, PyGithub) do real HTTP, served by `responses`."""
from __future__ import annotations

import base64
import logging
from datetime import datetime, timezone

import pytest
import requests

from rcabot.config import Config, Settings
from rcabot.outgoing import ACCEPTED, COMPLETED, EVENT_TYPES, GiveUp, HookEvent, TryLater, event_id
from rcabot.outgoing.github import GitHubTarget
from rcabot.outgoing.jira import JiraTarget
from rcabot.outgoing.writeback import writeback_targets
from tests.fakes.ticket_apis import Fault, FakeGitHub, FakeJira

AT = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
GH = "acme/widgets#7"


def event(type_: str, ticket: str = "RCA-42", name: str = "Ada Lovelace") -> HookEvent:
    return HookEvent(id=event_id(ticket, "c1", type_, AT, "users/1"), type=type_, at=AT, ticket_id=ticket,
                     cycle="c1", manager_name=name, manager_id="users/1")


@pytest.fixture
def jira(http_fakes):
    fake = FakeJira(http_fakes)
    fake.add_issue("RCA-42")
    return fake


@pytest.fixture
def jira_target(jira):
    return JiraTarget(jira.base, jira.email, jira.token, done_label="rca-done")


@pytest.fixture
def github(http_fakes):
    fake = FakeGitHub(http_fakes)
    fake.add_issue("acme/widgets", 7)
    return fake


@pytest.fixture
def github_target(github):
    return GitHubTarget(github.token, done_label="rca-done", write_gap=None)


# --- Jira ---------------------------------------------------------------------------------------

def test_jira_accept_and_done_comment_and_label(jira, jira_target):
    accepted, done = event(ACCEPTED), event(COMPLETED)
    jira_target.send(accepted)
    jira_target.send(done)
    bodies = jira.bodies("RCA-42")
    assert len(bodies) == 2
    assert bodies[0].splitlines()[0] == "RCA review accepted by Ada Lovelace"
    assert bodies[1].splitlines()[0] == "RCA review done by Ada Lovelace"
    assert bodies[0].splitlines()[-1] == f"{{{{rcabot:{accepted.id}}}}}"
    assert f"rcabot:{done.id}" in bodies[1]
    assert jira.issues["RCA-42"]["labels"] == ["rca-done"]
    # v2 endpoints, by key; the label through the issue's own `self` URL
    paths = {p for _, p in jira.requests}
    assert paths == {"/rest/api/2/issue/RCA-42/comment", "/rest/api/2/issue/RCA-42", "/rest/api/2/issue/10001"}


def test_jira_no_label_when_none_configured(jira):
    JiraTarget(jira.base, jira.email, jira.token).send(event(COMPLETED))
    assert jira.issues["RCA-42"]["labels"] == []
    assert [m for m, _ in jira.requests] == ["GET", "POST"]


def test_jira_same_event_twice_posts_once(jira, jira_target):
    done = event(COMPLETED)
    jira_target.send(done)
    JiraTarget(jira.base, jira.email, jira.token, "rca-done").send(done)  # after a restart: a new client
    assert len(jira.bodies("RCA-42")) == 1
    assert jira.issues["RCA-42"]["labels"] == ["rca-done"]


def test_jira_marker_found_among_many_comments(jira, jira_target):
    accepted = event(ACCEPTED)
    jira_target.send(accepted)
    for n in range(250):
        jira.issues["RCA-42"]["comments"].append({"id": str(n), "body": f"chatter {n}", "created": "x"})
    jira.requests.clear()
    jira_target.send(accepted)  # the marker is the oldest of 251: on the third page, newest first
    assert len(jira.requests) == 3
    assert sum("rcabot:" in b for b in jira.bodies("RCA-42")) == 1


@pytest.mark.parametrize("fault, kind, after", [
    (Fault(500, body={"errorMessages": ["Internal server error"]}), TryLater, None),
    (Fault(503, {"Retry-After": "12"}), TryLater, 12),
    (Fault(429, {"Retry-After": "30"}, body={"errorMessages": ["Rate limit exceeded."]}), TryLater, 30),
    (Fault(raises=requests.ConnectionError("connection refused")), TryLater, None),
    (Fault(raises=requests.ReadTimeout("read timed out")), TryLater, None),
    (Fault(410, body={"errorMessages": ["gone"]}), GiveUp, None),
    (Fault(400, body={"errorMessages": [], "errors": {"labels": "The label 'a b' contains spaces which is invalid."}}),
     GiveUp, None),
    (Fault(200, {"Content-Type": "text/html"}, body="<html>Log in to your proxy</html>"), TryLater, None),
])
def test_jira_failures_mapped(jira, jira_target, fault, kind, after):
    jira.faults.append(fault)
    with pytest.raises(kind) as raised:
        jira_target.send(event(ACCEPTED))
    if kind is TryLater:
        assert raised.value.after == after
    assert "RCA-42" in str(raised.value)
    assert jira.bodies("RCA-42") == []


def test_jira_unknown_issue_gives_up(jira, jira_target):
    with pytest.raises(GiveUp, match="no issue RCA-999"):
        jira_target.send(event(ACCEPTED, "RCA-999"))


def test_jira_bad_token_gives_up(jira):
    with pytest.raises(GiveUp, match="RCABOT_JIRA_API_TOKEN"):
        JiraTarget(jira.base, jira.email, "wrong-token").send(event(ACCEPTED))
    assert jira.bodies("RCA-42") == []


def test_jira_retry_after_fault_then_delivers_once(jira, jira_target):
    jira.faults.append(Fault(502))
    with pytest.raises(TryLater):
        jira_target.send(event(ACCEPTED))
    jira_target.send(event(ACCEPTED))
    assert len(jira.bodies("RCA-42")) == 1


def test_jira_client_is_made_on_first_send(http_fakes, jira):
    target = JiraTarget(jira.base, jira.email, jira.token)
    assert target._client is None and jira.requests == []  # noqa: SLF001 - no HTTP before a send


# --- GitHub -------------------------------------------------------------------------------------

def test_github_accept_and_done_comment_and_label(github, github_target):
    accepted, done = event(ACCEPTED, GH), event(COMPLETED, GH)
    github_target.send(accepted)
    github_target.send(done)
    bodies = github.bodies("acme/widgets", 7)
    assert [b.splitlines()[0] for b in bodies] == ["RCA review accepted by Ada Lovelace",
                                                   "RCA review done by Ada Lovelace"]
    assert bodies[0].splitlines()[-1] == f"<!-- rcabot:{accepted.id} -->"
    assert f"<!-- rcabot:{done.id} -->" in bodies[1]
    assert github.issues[("acme/widgets", 7)]["labels"] == ["rca-done"]
    assert {p for _, p in github.requests} == {"/repos/acme/widgets/issues/7/comments",
                                               "/repos/acme/widgets/issues/7/labels"}


def test_github_same_event_twice_posts_once_even_pages_back(github, github_target):
    github.add_issue("acme/widgets", 8, comments=[f"comment {n}" for n in range(150)])
    done = event(COMPLETED, "acme/widgets#8")
    github_target.send(done)
    github.issues[("acme/widgets", 8)]["comments"][0:0] = \
        github.issues[("acme/widgets", 8)]["comments"][-1:]  # the marker also on page 1, a crash's copy
    del github.issues[("acme/widgets", 8)]["comments"][-1]
    GitHubTarget(github.token, done_label="rca-done", write_gap=None).send(done)
    assert sum("rcabot:" in b for b in github.bodies("acme/widgets", 8)) == 1
    github.issues[("acme/widgets", 8)]["comments"].append(github.issues[("acme/widgets", 8)]["comments"].pop(0))
    github.urls.clear()
    github_target.send(done)  # marker on the last of two pages
    assert any("page=2" in u for u in github.urls)
    assert sum("rcabot:" in b for b in github.bodies("acme/widgets", 8)) == 1
    assert github.issues[("acme/widgets", 8)]["labels"] == ["rca-done"]


def test_github_enterprise_base_url(http_fakes):
    fake = FakeGitHub(http_fakes, base="https://ghe.acme.example/api/v3")
    fake.add_issue("acme/widgets", 7)
    GitHubTarget(fake.token, api_url=fake.base, write_gap=None).send(event(ACCEPTED, GH))
    assert len(fake.bodies("acme/widgets", 7)) == 1


@pytest.mark.parametrize("fault, kind, after", [
    (Fault(500, body={"message": "Server Error"}), TryLater, None),
    (Fault(502, body="<html>bad gateway</html>"), TryLater, None),
    (Fault(429, {"Retry-After": "45"}, body={"message": "Too many requests"}), TryLater, 45),
    (Fault(403, {"retry-after": "60"}, body={
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
     TryLater, 60),
    (Fault(403, body={"message": "You have exceeded a secondary rate limit and have been temporarily blocked "
                                 "from content creation. Please retry your request again later."}), TryLater, 60),
    (Fault(raises=requests.ConnectionError("connection refused")), TryLater, None),
    (Fault(raises=requests.ConnectTimeout("timed out")), TryLater, None),
    (Fault(403, body={"message": "Resource not accessible by personal access token"}), GiveUp, None),
    (Fault(410, body={"message": "Issues are disabled for this repo"}), GiveUp, None),
    (Fault(422, body={"message": "Validation Failed"}), GiveUp, None),
])
def test_github_failures_mapped(github, github_target, fault, kind, after):
    github.faults.append(fault)
    with pytest.raises(kind) as raised:
        github_target.send(event(ACCEPTED, GH))
    if kind is TryLater:
        assert raised.value.after == after
    assert GH in str(raised.value)
    assert github.bodies("acme/widgets", 7) == []


def test_github_primary_rate_limit_waits_for_reset(github, github_target, monkeypatch):
    import time
    reset = int(time.time()) + 120
    github.faults.append(Fault(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                               body={"message": "API rate limit exceeded for user ID 1."}))
    with pytest.raises(TryLater) as raised:
        github_target.send(event(ACCEPTED, GH))
    assert 100 <= raised.value.after <= 121


def test_github_unknown_issue_gives_up(github, github_target):
    with pytest.raises(GiveUp, match="no issue acme/widgets#99"):
        github_target.send(event(ACCEPTED, "acme/widgets#99"))


def test_github_bad_token_gives_up(github):
    with pytest.raises(GiveUp, match="RCABOT_GITHUB_TOKEN"):
        GitHubTarget("ghp_wrong", write_gap=None).send(event(ACCEPTED, GH))


# --- wants, the list of targets, secrets ---------------------------------------------------------

def test_wants_only_accept_and_done_of_its_own_tickets():
    jira, gh = JiraTarget("https://acme.atlassian.net", "e", "t"), GitHubTarget("t")
    for type_ in EVENT_TYPES:
        expected = type_ in (ACCEPTED, COMPLETED)
        assert jira.wants(event(type_, "RCA-42")) is expected
        assert gh.wants(event(type_, GH)) is expected
    for ticket in ("acme/widgets#7", "rca-42", "RCA42", "R-1", "RCA-42 ", "INC1234", "42"):
        assert not jira.wants(event(ACCEPTED, ticket)), ticket
    for ticket in ("RCA-42", "acme#7", "acme/widgets#", "acme/widgets#0", "a/b/c#1", "acme/widgets#7x", "#7"):
        assert not gh.wants(event(ACCEPTED, ticket)), ticket
    assert jira.wants(event(COMPLETED, "OPS_2-7"))
    assert gh.wants(event(COMPLETED, "my-org/repo.name_x#12345"))


def test_writeback_targets_need_switch_and_credentials():
    full = Settings(jira_url="https://acme.atlassian.net", jira_email="e@x", jira_api_token="t", github_token="g")
    assert writeback_targets(full, Config()) == ([], [])
    targets, problems = writeback_targets(full, Config(jira_write_back=True, github_write_back=True,
                                                       github_done_label="done"))
    assert [t.name for t in targets] == ["jira", "github"] and problems == []
    assert targets[1].done_label == "done"

    targets, problems = writeback_targets(Settings(), Config(jira_write_back=True, github_write_back=True))
    assert targets == []
    assert problems == ["JiraWriteBack is yes but RCABOT_JIRA_URL / RCABOT_JIRA_EMAIL / RCABOT_JIRA_API_TOKEN "
                        "are not set", "GitHubWriteBack is yes but RCABOT_GITHUB_TOKEN is not set"]
    _, problems = writeback_targets(Settings(jira_url="https://a.atlassian.net", jira_email="e"),
                                    Config(jira_write_back=True))
    assert problems == ["JiraWriteBack is yes but RCABOT_JIRA_API_TOKEN is not set"]
    _, problems = writeback_targets(full, Config(jira_write_back=True, jira_done_label="rca done"))
    assert problems == ["JiraDoneLabel is 'rca done'; a Jira label cannot hold spaces"]


def test_tokens_never_in_errors_or_logs(jira, github, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = [jira.token, github.token, base64.b64encode(f"{jira.email}:{jira.token}".encode()).decode()]
    messages = []
    for fault in (Fault(500, body={"errorMessages": ["boom"]}), Fault(429, {"Retry-After": "5"}),
                  Fault(raises=requests.ConnectionError("refused"))):
        jira.faults.append(fault)
        github.faults.append(fault)
        for target, ticket in ((JiraTarget(jira.base, jira.email, jira.token), "RCA-42"),
                               (GitHubTarget(github.token, write_gap=None), GH)):
            with pytest.raises(TryLater) as raised:
                target.send(event(ACCEPTED, ticket))
            messages += [str(raised.value), repr(raised.value), repr(target)]
    for target, ticket in ((JiraTarget(jira.base, jira.email, jira.token + "x"), "RCA-42"),
                           (GitHubTarget(github.token + "x", write_gap=None), GH)):
        with pytest.raises(GiveUp) as raised:
            target.send(event(ACCEPTED, ticket))
        messages += [str(raised.value), repr(target)]
        assert raised.value.__cause__ is None and raised.value.__suppress_context__
    text = "\n".join(messages) + caplog.text
    assert "write-back:" in caplog.text
    for secret in secrets:
        assert secret not in text


def test_a_display_name_cannot_mention_link_or_hide(jira, jira_target, github, github_target):
    name = "Eve @octocat [x|http://evil] {code} <!-- hidden -->\nsecond line"
    jira_target.send(event(ACCEPTED, "RCA-42", name))
    github_target.send(event(ACCEPTED, GH, name))
    (jira_body,), (github_body,) = jira.bodies("RCA-42"), github.bodies("acme/widgets", 7)
    assert jira_body.splitlines()[0] == r"RCA review accepted by Eve @octocat \[x\|http://evil\] \{code\} " \
                                        r"<\!-- hidden --> second line"
    assert github_body.splitlines()[0] == r"RCA review accepted by Eve \@octocat \[x\|http://evil\] {code} " \
                                          r"\<\!-- hidden --\> second line"
    assert github_body.count("<!--") == 1  # only the marker
