"""Jira Cloud's issue webhooks: an issue moved into `JiraStatus`, or given `JiraLabel`, starts a
ticket named by its key."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlparse

from ..config import Config
from . import Ignored, InputError, Start, obj, start, text

EVENTS = ("jira:issue_updated", "jira:issue_created")


def jira_ticket(body: Any, config: Config) -> Start | Ignored:
    if not isinstance(body, dict):
        raise InputError("the body must be a JSON object")
    event = body.get("webhookEvent")
    if event not in EVENTS:
        return Ignored(f"Jira event {str(event)[:60]!r} does not start tickets ({' and '.join(EVENTS)} do)")
    if not (config.jira_status or config.jira_label):
        return Ignored("neither JiraStatus nor JiraLabel is set in the Configuration")
    issue = obj(body, "issue", "")
    fields = obj(issue, "fields", "issue.")
    if event == "jira:issue_updated" and not _moved(body.get("changelog"), config):
        return Ignored(f"the update neither moved the issue into {_wanted(config)}")
    if event == "jira:issue_created" and not _already(fields, config):
        return Ignored(f"the new issue is neither in {_wanted(config)}")
    key = text(issue, "key", "issue.")
    return start(key, fields.get("summary"), _browse_link(issue.get("self"), key))


def _moved(changelog: Any, config: Config) -> bool:
    """Whether the update's changelog moves the issue into the status or newly gives it the label."""
    items = changelog.get("items") if isinstance(changelog, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("field") == "status" and config.jira_status and _same(item.get("toString"), config.jira_status):
            return True
        if item.get("field") == "labels" and config.jira_label \
                and config.jira_label in _labels(item.get("toString")) \
                and config.jira_label not in _labels(item.get("fromString")):
            return True
    return False


def _already(fields: dict, config: Config) -> bool:
    """Whether a new issue is created in the status or with the label."""
    status = fields.get("status")
    labels = fields.get("labels")
    return bool(config.jira_status and isinstance(status, dict) and _same(status.get("name"), config.jira_status)) \
        or bool(config.jira_label and isinstance(labels, list) and config.jira_label in labels)


def _wanted(config: Config) -> str:
    status = f"status {config.jira_status!r}" if config.jira_status else "a status (JiraStatus is not set)"
    label = f"label {config.jira_label!r}" if config.jira_label else "a label (JiraLabel is not set)"
    return f"{status} nor has the {label}"


def _same(name: Any, wanted: str) -> bool:
    # Jira refuses two statuses whose names differ only in case: case is not what tells them apart.
    return isinstance(name, str) and name.strip().casefold() == wanted.strip().casefold()


def _labels(value: Any) -> list[str]:
    # A labels change item lists the labels space-separated (a Jira label holds no space).
    return value.split() if isinstance(value, str) else []


def _browse_link(self_url: Any, key: str) -> str:
    """https://acme.atlassian.net/rest/api/2/issue/10001 -> https://acme.atlassian.net/browse/KEY."""
    if not isinstance(self_url, str):
        return ""
    try:
        parts = urlparse(self_url)
    except ValueError:  # e.g. an unclosed [ in the host
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    # A site on a context path (Data Center: https://host/jira/rest/api/...) keeps it.
    base = parts.path.split("/rest/api/")[0] if "/rest/api/" in parts.path else ""
    return f"{parts.scheme}://{parts.netloc}{base}/browse/{quote(key, safe='')}"
