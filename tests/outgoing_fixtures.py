"""Fixtures for the ticket system's tests: the `responses` mock the fakes of webhook receivers and
of the Jira and GitHub REST APIs answer through, the webhook receiver, and an app that sends to it."""
from __future__ import annotations

import pytest
import responses

from rcabot.web import create_app
from tests.conftest import set_configuration
from tests.fakes.webhooks import SECRET, URL, Receiver


@pytest.fixture
def http_fakes():
    """Every `requests` call goes to a fake registered here (none reaches the network)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def receiver(http_fakes):
    return Receiver(http_fakes)


@pytest.fixture
def webhook_app(workbook_dir, jobs, clock, monkeypatch, receiver):
    """The conftest app, with RCABOT_WEBHOOK_SECRET set and WebhookURL in the Configuration."""
    monkeypatch.setenv("RCABOT_WEBHOOK_SECRET", SECRET)
    app = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock})
    set_configuration(workbook_dir, WebhookURL=URL)
    app.extensions["rcabot"].reload()
    return app
