"""GitHub's `issues` and `pull_request` webhooks: the label `GitHubLabel` starts a ticket
`owner/repo#number`."""
from __future__ import annotations

from typing import Any

from ..config import Config
from . import Ignored, InputError, Start, obj, start, text

ITEMS = {"issues": "issue", "pull_request": "pull_request"}


def github_ticket(event: str, body: Any, config: Config) -> Start | Ignored:
    if event not in ITEMS:
        return Ignored(f"GitHub event {event!r} does not start tickets (issues and pull_request do)")
    if not isinstance(body, dict):
        raise InputError("the body must be a JSON object")
    if body.get("action") != "labeled":
        return Ignored(f"{event} action {str(body.get('action'))[:40]!r} does not start tickets (labeled does)")
    label = obj(body, "label", "").get("name")
    if label != config.github_label:
        return Ignored(f"label {str(label)[:60]!r} is not GitHubLabel {config.github_label!r}")
    item = obj(body, ITEMS[event], "")
    repository = text(obj(body, "repository", ""), "full_name", "repository.")
    number = item.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InputError(f"{ITEMS[event]}.number must be a positive integer")
    return start(f"{repository}#{number}", item.get("title"), item.get("html_url"))
