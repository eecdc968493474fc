"""`python -m rcabot`: the bot's commands.

- `serve`: the bot and its web server (what `python app.py`, `make run` and the Procfile run).
- `init-sheet`: create the bot-owned tabs that are missing, repair old headers. The bot does the
  same at every start; this lets ops prepare a spreadsheet before the first one.
"""
from __future__ import annotations

import argparse
import sys

from .bootstrap import StartupError, team_settings, workbook_for
from .config import Settings, parse_configuration
from .serve import ENVIRONMENT
from .state_tabs import headers

PROG = "python -m rcabot"
# Settings the bot needs to serve but the workbook does not: init-sheet starts without them.
NOT_FOR_THE_WORKBOOK = ("RCABOT_CHAT_AUDIENCE", "RCABOT_API_TOKEN")


def workbook_problems(settings: Settings) -> list[str]:
    """What keeps the workbook from opening: the settings' problems, less the Chat and API ones."""
    return [problem for problem in settings.problems() if not problem.startswith(NOT_FOR_THE_WORKBOOK)]


def init_sheet(settings: Settings) -> list[str]:
    problems = workbook_problems(settings)
    if problems:
        raise StartupError(problems)
    workbook = workbook_for(settings)
    tabs = parse_configuration(workbook.read_tabs(["Configuration"])["Configuration"]).value.tabs
    return workbook.ensure_tabs(headers(tabs))


def init_sheets(settings: Settings) -> dict[str, list[str]]:
    """init_sheet for every team's workbook of the Teams file, by team; without one, for the one
    workbook (under "")."""
    if not settings.teams_file:
        return {"": init_sheet(settings)}
    from .teams import read_teams

    problems = workbook_problems(settings)
    if problems:
        raise StartupError(problems)
    return {team.name: init_sheet(team_settings(settings, team))
            for team in read_teams(settings.teams_file, settings.local)}


def parser() -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter, epilog=ENVIRONMENT,
        description="RCA Bot routes \"RCA ticket ready for review\" requests to the manager on shift, in Google "
                    "Chat, until one of them accepts.")
    sub = commands.add_subparsers(dest="command", required=True, metavar="{serve,init-sheet}")
    sub.add_parser("serve", help="run the bot and its web server until SIGTERM or Ctrl-C (as python app.py, "
                                 "make run and the Procfile do)", add_help=False)
    sub.add_parser("init-sheet", help="create or repair the bot's own tabs in the workbook, then exit "
                                      "(needs only the workbook's settings)",
                   description="Create the bot-owned tabs that are missing and repair old headers, then exit. "
                               "Needs only the workbook's settings: RCABOT_WORKBOOK_DIR locally; "
                               "RCABOT_SPREADSHEET_ID and the service account key in Google mode; with "
                               "RCABOT_TEAMS_FILE, every team's workbook.")
    return commands


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:  # its own options and help are serve's
        from .serve import main as serve
        return serve(argv[1:], prog=f"{PROG} serve")
    parser().parse_args(argv)  # the help, or a usage error (exit 2)
    try:
        done = init_sheets(Settings.from_env())
    except StartupError as exc:
        print(exc.code, file=sys.stderr)
        return 1
    for team, changed in done.items():
        print((f"{team}: " if team else "") +
              ("created or repaired: " + ", ".join(changed) if changed else "every bot-owned tab is in place"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
