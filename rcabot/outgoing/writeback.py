"""Which write-back targets this deployment has: the Configuration turns each on, the environment
holds its credentials; a switch without its credentials is a problem to show, not a target."""
from __future__ import annotations

from ..config import Config, Settings
from . import Target
from .github import GitHubTarget
from .jira import JiraTarget


def writeback_targets(settings: Settings, config: Config) -> tuple[list[Target], list[str]]:
    """The targets to deliver to, and the problems (for BotStatus) that keep one from being made."""
    targets: list[Target] = []
    problems: list[str] = []
    if config.jira_write_back:
        missing = [name for name, value in (("RCABOT_JIRA_URL", settings.jira_url),
                                            ("RCABOT_JIRA_EMAIL", settings.jira_email),
                                            ("RCABOT_JIRA_API_TOKEN", settings.jira_api_token)) if not value]
        if missing:
            problems.append(f"JiraWriteBack is yes but {' / '.join(missing)} {'is' if len(missing) == 1 else 'are'}"
                            f" not set")
        elif not settings.jira_url.startswith(("https://", "http://")):
            problems.append(f"JiraWriteBack is yes but RCABOT_JIRA_URL is {settings.jira_url!r}; set the site's URL,"
                            f" like https://acme.atlassian.net")
        elif any(c.isspace() for c in config.jira_done_label):
            problems.append(f"JiraDoneLabel is {config.jira_done_label!r}; a Jira label cannot hold spaces")
        else:
            targets.append(JiraTarget(settings.jira_url, settings.jira_email, settings.jira_api_token,
                                      config.jira_done_label))
    if config.github_write_back:
        if not settings.github_token:
            problems.append("GitHubWriteBack is yes but RCABOT_GITHUB_TOKEN is not set")
        elif settings.github_api_url and not settings.github_api_url.startswith(("https://", "http://")):
            problems.append(f"GitHubWriteBack is yes but RCABOT_GITHUB_API_URL is {settings.github_api_url!r}; set "
                            f"an https URL (GitHub Enterprise: https://HOST/api/v3) or leave it unset")
        else:
            targets.append(GitHubTarget(settings.github_token, settings.github_api_url, config.github_done_label))
    return targets, problems
