"""Write-back to Jira: a comment on the issue when its review is accepted and when it is done.

Jira Cloud REST API v2 (what the `jira` client calls), with the account's e-mail and an API token:
  GET  /rest/api/2/issue/{key}/comment?orderBy=-created&startAt=N&maxResults=100  (the marker check)
  POST /rest/api/2/issue/{key}/comment                                          (the comment)
  GET  /rest/api/2/issue/{key}?fields=labels, then PUT the issue's `self` URL
       with {"update": {"labels": [{"add": LABEL}]}}                             (the done label)

Each comment ends with a marker line holding the event id; before posting, the issue's comments
are read and a comment already carrying the marker is not posted again (a crash after posting and
before the outbox recorded it must not comment twice). The client never retries on its own
(max_retries=0): the outbox retries, on TryLater.
"""
from __future__ import annotations

import logging
import re

import requests

from . import ACCEPTED, COMPLETED, GiveUp, HookEvent, TryLater
from .errors import marker, retry_after_seconds, review_line

log = logging.getLogger(__name__)

ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]+-\d+")
TIMEOUT = 10.0  # seconds, connect and read
PAGE = 100  # comments read per request for the marker check
MAX_PAGES = 20  # newest first; a marker older than 2000 comments back is not looked for


MARKUP = "\\[]{}|!"  # what Jira wiki markup reads in a name: escaped


def comment_text(event: HookEvent) -> str:
    # {{...}} is Jira wiki markup's monospace: the marker shows as a small, quiet code span.
    return f"{review_line(event, MARKUP)}\n\n{{{{{marker(event)}}}}}"


class JiraTarget:
    name = "jira"

    def __init__(self, url: str, email: str, api_token: str, done_label: str = ""):
        self.url = url.rstrip("/")
        self._email = email
        self._token = api_token
        self.done_label = done_label
        self._client = None

    def __repr__(self) -> str:  # never the token
        return f"JiraTarget({self.url!r})"

    def wants(self, event: HookEvent) -> bool:
        return event.type in (ACCEPTED, COMPLETED) and ISSUE_KEY.fullmatch(event.ticket_id) is not None

    def _jira(self):
        if self._client is None:
            from jira import JIRA  # imported on first use: a bot without write-back never loads it
            self._client = JIRA(server=self.url, basic_auth=(self._email, self._token), get_server_info=False,
                                max_retries=0, timeout=TIMEOUT)
        return self._client

    def send(self, event: HookEvent) -> None:
        key = event.ticket_id
        try:
            client = self._jira()
            if not self._already_commented(client, key, marker(event)):
                client.add_comment(key, comment_text(event))
            if event.type == COMPLETED and self.done_label:
                issue = client.issue(key, fields="labels")
                if self.done_label not in (getattr(issue.fields, "labels", None) or []):
                    issue.add_field_value("labels", self.done_label)  # "add": harmless when repeated
        except (TryLater, GiveUp):
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to TryLater / GiveUp, never re-raised raw
            raise _mapped(exc, key) from None

    @staticmethod
    def _already_commented(client, key: str, mark: str) -> bool:
        start = 0
        for _ in range(MAX_PAGES):
            page = client.comments(key, start_at=start, max_results=PAGE, order_by="-created")
            if any(mark in (getattr(c, "body", "") or "") for c in page):
                return True
            if not page:
                return False
            start += len(page)
        return False


def _mapped(exc: Exception, key: str) -> Exception:
    """A failure as TryLater or GiveUp, with a reason that names the issue, never a credential."""
    from jira.exceptions import JIRAError

    if isinstance(exc, requests.exceptions.Timeout):
        why = TryLater(f"Jira did not answer in time for {key}")
    elif isinstance(exc, requests.exceptions.RequestException):
        why = TryLater(f"Jira could not be reached for {key} ({type(exc).__name__})")
    elif isinstance(exc, JIRAError):
        status = exc.status_code or 0
        headers = exc.response.headers if exc.response is not None else {}
        if status in (401, 403):
            why = GiveUp(f"Jira refused the write-back for {key} (HTTP {status}): check RCABOT_JIRA_EMAIL and "
                         f"RCABOT_JIRA_API_TOKEN, and that the account may comment on {key}")
        elif status == 404:
            why = GiveUp(f"Jira has no issue {key} (HTTP 404), or the account may not see it")
        elif status in (408, 429) or status >= 500 or status < 400:  # < 400: no answer, or not Jira's JSON
            why = TryLater(f"Jira answered HTTP {status or 'nothing'} for {key}", retry_after_seconds(headers))
        else:
            why = GiveUp(f"Jira refused the write-back for {key} (HTTP {status})")
    else:
        why = TryLater(f"Jira write-back for {key} failed: {type(exc).__name__}")
    log.warning("write-back: %s", why)
    return why
