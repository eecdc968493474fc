"""Write-back to GitHub: a comment on the issue or pull request when its review is accepted and when
it is done, and on done an optional label.

GitHub REST API (PyGithub; the issues endpoints serve pull requests too):
  GET  /repos/{owner}/{repo}/issues/{number}/comments?per_page=100  (every page: the marker check)
  POST /repos/{owner}/{repo}/issues/{number}/comments  {"body": ...}
  POST /repos/{owner}/{repo}/issues/{number}/labels    [LABEL]     (adds; an existing label stays)

Each comment carries a hidden marker, `<!-- rcabot:evt_... -->`; a comment whose marker is already
on the issue is not posted again. The client never retries on its own (retry=None): the outbox
retries, on TryLater.
"""
from __future__ import annotations

import logging
import re

import requests

from . import ACCEPTED, COMPLETED, GiveUp, HookEvent, TryLater
from .errors import marker, retry_after_seconds, review_line

log = logging.getLogger(__name__)

TICKET = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)/([A-Za-z0-9._-]+)#([1-9]\d*)")
DEFAULT_API = "https://api.github.com"
TIMEOUT = 10  # seconds


MARKUP = "\\`*_[]<>@#|~!"  # what GitHub Markdown reads in a name (a mention, a link, a comment): escaped


def comment_text(event: HookEvent) -> str:
    return f"{review_line(event, MARKUP)}\n\n<!-- {marker(event)} -->"


class GitHubTarget:
    name = "github"

    def __init__(self, token: str, api_url: str = "", done_label: str = "", write_gap: float | None = 1.0):
        self.api_url = (api_url or DEFAULT_API).rstrip("/")
        self._token = token
        self.done_label = done_label
        self._write_gap = write_gap  # GitHub asks for a second between writes (secondary rate limits)
        self._client = None

    def __repr__(self) -> str:  # never the token
        return f"GitHubTarget({self.api_url!r})"

    def wants(self, event: HookEvent) -> bool:
        return event.type in (ACCEPTED, COMPLETED) and TICKET.fullmatch(event.ticket_id) is not None

    def _github(self):
        if self._client is None:
            from github import Auth, Github  # imported on first use
            self._client = Github(auth=Auth.Token(self._token), base_url=self.api_url, timeout=TIMEOUT, retry=None,
                                  per_page=100, lazy=True, seconds_between_requests=None,
                                  seconds_between_writes=self._write_gap)
        return self._client

    def send(self, event: HookEvent) -> None:
        match = TICKET.fullmatch(event.ticket_id)
        if match is None:
            raise GiveUp(f"{event.ticket_id!r} is not a GitHub issue (owner/repo#number)")
        owner, repo, number = match.group(1), match.group(2), int(match.group(3))
        try:
            issue = self._github().get_repo(f"{owner}/{repo}").get_issue(number)
            mark = marker(event)
            if not any(mark in (c.body or "") for c in issue.get_comments()):
                issue.create_comment(comment_text(event))
            if event.type == COMPLETED and self.done_label:
                issue.add_to_labels(self.done_label)
        except (TryLater, GiveUp):
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to TryLater / GiveUp, never re-raised raw
            raise _mapped(exc, event.ticket_id) from None


def _mapped(exc: Exception, ticket: str) -> Exception:
    """A failure as TryLater or GiveUp, with a reason that names the issue, never a credential."""
    from github.GithubException import GithubException

    if isinstance(exc, requests.exceptions.Timeout):
        why = TryLater(f"GitHub did not answer in time for {ticket}")
    elif isinstance(exc, requests.exceptions.RequestException):
        why = TryLater(f"GitHub could not be reached for {ticket} ({type(exc).__name__})")
    elif isinstance(exc, GithubException):
        status = exc.status or 0
        headers = exc.headers or {}
        message = str((exc.data or {}).get("message", "")) if isinstance(exc.data, dict) else ""
        lower = {str(k).lower(): str(v) for k, v in headers.items()}
        rate_limited = status == 429 or (status == 403 and (
            "rate limit" in message.lower() or "retry-after" in lower or lower.get("x-ratelimit-remaining") == "0"))
        if rate_limited or status in (408,) or status >= 500 or status < 400:
            after = retry_after_seconds(headers)
            if after is None and rate_limited:
                after = 60.0  # GitHub: with neither header, wait at least a minute
            why = TryLater(f"GitHub answered HTTP {status or 'nothing'} for {ticket}"
                           + (" (rate limited)" if rate_limited else ""), after)
        elif status in (401, 403):
            why = GiveUp(f"GitHub refused the write-back for {ticket} (HTTP {status}): check RCABOT_GITHUB_TOKEN "
                         f"and that it may comment on and label the repository's issues")
        elif status == 404:
            why = GiveUp(f"GitHub has no issue {ticket} (HTTP 404), or the token may not see it")
        elif status == 410:
            why = GiveUp(f"GitHub: issues are disabled or {ticket} was deleted (HTTP 410)")
        else:
            why = GiveUp(f"GitHub refused the write-back for {ticket} (HTTP {status}"
                         + (f": {message[:200]}" if message else "") + ")")
    else:
        why = TryLater(f"GitHub write-back for {ticket} failed: {type(exc).__name__}")
    log.warning("write-back: %s", why)
    return why
