"""The ticket system both ways (issue 13): a GitHub or Jira webhook starts the ticket, the manager
takes it in the space, and the review's Accept and Done are written back to the same issue, once,
through the durable outbox, by the real clients against fakes of the two REST APIs."""
from __future__ import annotations

import json

import pytest

from rcabot.web import create_app
from tests.conftest import set_configuration
from tests.fakes.ticket_apis import FakeGitHub, FakeJira
from tests.test_inbound_hooks import GITHUB_SECRET, JIRA_SECRET, Sender, sample


@pytest.fixture
def github(http_fakes):
    return FakeGitHub(http_fakes)


@pytest.fixture
def jira(http_fakes):
    return FakeJira(http_fakes)


@pytest.fixture
def app(workbook_dir, jobs, clock, monkeypatch, github, jira):
    monkeypatch.setenv("RCABOT_GITHUB_TOKEN", github.token)
    monkeypatch.setenv("RCABOT_JIRA_URL", jira.base)
    monkeypatch.setenv("RCABOT_JIRA_EMAIL", jira.email)
    monkeypatch.setenv("RCABOT_JIRA_API_TOKEN", jira.token)
    app = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock,
                      "GITHUB_SECRET": GITHUB_SECRET, "JIRA_SECRET": JIRA_SECRET})
    set_configuration(workbook_dir, GitHubLabel="rca-ready", JiraStatus="RCA Needed", GitHubWriteBack="yes",
                      JiraWriteBack="yes", JiraDoneLabel="rca-reviewed")
    app.extensions["rcabot"].reload()
    return app


@pytest.fixture
def send(client, clock) -> Sender:
    return Sender(client, clock)


def review(space, ticket_id: str) -> str:
    """The pinged manager accepts, then marks the review done; their name."""
    pinged = space.pinged(ticket_id)
    space.click(space.last_card(ticket_id), "accept", pinged)
    space.click(space.last_card(ticket_id), "done", pinged)
    return space.bot.manager_name(pinged)


def test_a_labelled_github_issue_is_reviewed_and_told_so(send, space, bot, github):
    github.add_issue("acme/payments", 42)
    assert send.github("issues", sample("github_issues_labeled")).status_code == 202
    name = review(space, "acme/payments#42")
    bot.outgoing.pump()

    bodies = github.bodies("acme/payments", 42)
    assert [b.splitlines()[0] for b in bodies] == [f"RCA review accepted by {name}", f"RCA review done by {name}"]


def test_a_jira_issue_moved_to_the_status_is_reviewed_commented_and_labelled(send, space, bot, jira):
    jira.add_issue("OPS-231")
    assert send.jira(sample("jira_issue_updated_transition")).status_code == 202
    name = review(space, "OPS-231")
    bot.outgoing.pump()

    assert [b.splitlines()[0] for b in jira.bodies("OPS-231")] == [f"RCA review accepted by {name}",
                                                                   f"RCA review done by {name}"]
    assert jira.issues["OPS-231"]["labels"] == ["rca-reviewed"]


def test_write_back_owed_at_a_crash_is_posted_after_the_restart_and_only_once(send, space, bot, github, jobs,
                                                                             clock, workbook_dir):
    github.add_issue("acme/payments", 42)
    send.github("issues", sample("github_issues_labeled"))
    review(space, "acme/payments#42")
    bot.journal.close()  # the process dies before delivering: the outbox file holds both comments

    again = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock,
                        "GITHUB_SECRET": GITHUB_SECRET, "JIRA_SECRET": JIRA_SECRET}).extensions["rcabot"]
    again.outgoing.pump()
    again.outgoing.pump()
    assert len(github.bodies("acme/payments", 42)) == 2


def test_write_back_switched_on_without_credentials_is_a_botstatus_problem(tmp_path, jobs, clock, monkeypatch):
    monkeypatch.delenv("RCABOT_GITHUB_TOKEN", raising=False)
    folder = tmp_path / "other"
    bot = create_app({"WORKBOOK_DIR": str(folder), "JOBS": jobs, "CLOCK": clock}).extensions["rcabot"]
    set_configuration(folder, GitHubWriteBack="yes")
    bot.reload()
    assert "GitHubWriteBack is yes but RCABOT_GITHUB_TOKEN is not set" in json.dumps(bot.status_rows())
    assert "github" not in bot.outgoing.view()
