"""`python -m rcabot init-sheet`: create the bot-owned tabs that are missing, repair old headers.

The bot does the same at every start; this lets ops prepare a spreadsheet before the first one.
"""
from __future__ import annotations

import sys

from .bootstrap import StartupError, workbook_for
from .config import Settings, parse_configuration
from .state_tabs import headers

USAGE = "usage: python -m rcabot init-sheet"


def init_sheet(settings: Settings) -> list[str]:
    problems = settings.problems()
    if problems:
        raise StartupError(problems)
    workbook = workbook_for(settings)
    tabs = parse_configuration(workbook.read_tabs(["Configuration"])["Configuration"]).value.tabs
    return workbook.ensure_tabs(headers(tabs))


def main(argv: list[str]) -> int:
    if argv != ["init-sheet"]:
        print(USAGE, file=sys.stderr)
        return 2
    changed = init_sheet(Settings.from_env())
    print("created or repaired: " + ", ".join(changed) if changed else "every bot-owned tab is in place")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
