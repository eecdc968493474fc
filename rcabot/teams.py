"""Many teams in one deployment: the Teams file, and the bots it makes, found by name or by space.

The Teams file (RCABOT_TEAMS_FILE) is a CSV with the header `Team,Workbook,Space`: a team's short
name, its workbook (a folder in local mode, relative to the Teams file's own folder; a spreadsheet
id in Google mode), and its Chat space (`spaces/...`; in local mode it may be blank). Each team is a
bot of its own: its workbook, state, journal and Chat pace. What Google counts per project or per
user, the Sheets write quota, the bots share (bootstrap.build_teams).
"""
from __future__ import annotations

import csv
import io
import logging
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from .bootstrap import StartupError

if TYPE_CHECKING:
    from .bot import RcaBot
    from .chat.events import ChatEvent

log = logging.getLogger(__name__)
COLUMNS = ("team", "workbook", "space")
TEAM_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)


@dataclass(frozen=True)
class Team:
    name: str
    workbook: str  # a folder (local mode, absolute) or a spreadsheet id (Google mode)
    space: str  # spaces/...; in local mode, spaces/<name> when the file leaves it blank
    row: int = 0  # in the Teams file, for what start-up says of the team


def read_teams(path: str, local: bool) -> list[Team]:
    """The teams the file names; StartupError naming the row and cell of the first thing wrong."""
    where = f"RCABOT_TEAMS_FILE ({path})"
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8-sig")
    except OSError as exc:
        raise StartupError([f"{where} cannot be read ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise StartupError([f"{where} is not UTF-8 text; save it as CSV UTF-8"]) from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise StartupError([f"{where} is not a CSV file ({exc})"]) from None
    teams = list(_teams(rows, where, os.path.dirname(os.path.abspath(path)), local))
    if not teams:
        raise StartupError([f"{where} names no team: add a row under the header Team,Workbook,Space"])
    return teams


def _teams(rows: list[list[str]], where: str, base: str, local: bool) -> Iterator[Team]:
    header = [cell.strip().lower().replace(" ", "") for cell in rows[0]] if rows else []
    missing = [name.capitalize() for name in COLUMNS if name not in header and (name != "space" or not local)]
    if missing:
        raise StartupError([f"{where}, row 1: the header lacks {', '.join(missing)} (it is Team,Workbook,Space)"])
    seen: dict[str, dict[str, int]] = {name: {} for name in COLUMNS}
    for number, row in enumerate(rows[1:], start=2):
        cells = {name: _cell(row, header, name) for name in COLUMNS}
        if not any(cells.values()):
            continue  # a blank line
        team = _team(cells, f"{where}, row {number}", base, local, number)
        for name, value, shown in (("team", team.name.lower(), team.name),
                                   ("workbook", team.workbook, cells["workbook"]), ("space", team.space, team.space)):
            if value in seen[name]:
                raise StartupError([f"{where}, row {number}, {name.capitalize()}: {shown!r} is already row "
                                    f"{seen[name][value]}'s; each team needs its own"])
            seen[name][value] = number
        yield team


def _team(cells: dict[str, str], where: str, base: str, local: bool, row: int) -> Team:
    name, workbook, space = cells["team"], cells["workbook"], cells["space"]
    if not TEAM_NAME.fullmatch(name):
        raise StartupError([f"{where}, Team: {name!r} is not a short name (1 to 40 letters, digits, - or _)"
                            if name else f"{where}, Team: blank; give the team a short name"])
    if not workbook:
        raise StartupError([f"{where}, Workbook: blank; give team {name} its " +
                            ("workbook folder" if local else "spreadsheet id")])
    if not space and not local:
        raise StartupError([f"{where}, Space: blank; give team {name} its Chat space (spaces/...)"])
    if space and not re.fullmatch(r"spaces/[A-Za-z0-9_-]+", space, re.ASCII):
        raise StartupError([f"{where}, Space: {space!r} is not a Chat space name (spaces/ and its id)"])
    if local:
        workbook = _folder(workbook, base, f"{where}, Workbook")
    return Team(name, workbook, space or f"spaces/{name}", row)


def _folder(workbook: str, base: str, where: str) -> str:
    """A local workbook's folder, absolute (a relative one is in the Teams file's folder)."""
    if any(ord(c) < 32 for c in workbook):
        raise StartupError([f"{where}: {workbook!r} has a control character; give a folder path"])
    folder = os.path.realpath(os.path.join(base, workbook))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise StartupError([f"{where}: {workbook!r} is a file, not a folder"])
    return folder


def _cell(row: list[str], header: list[str], name: str) -> str:
    column = header.index(name) if name in header else len(row)
    return row[column].strip() if column < len(row) else ""


class Teams:
    """The bots of one deployment, by team name (in the Teams file's order) and by Chat space."""

    def __init__(self, bots: dict[str, "RcaBot"], teams: list[Team]):
        self.bots = bots
        self.teams = {team.name: team for team in teams}

    @property
    def names(self) -> list[str]:
        return list(self.bots)

    @property
    def first(self) -> "RcaBot":
        return next(iter(self.bots.values()))

    def get(self, name: str) -> "RcaBot | None":
        """A team's bot; names compare case-insensitively, as the Teams file's uniqueness does."""
        wanted = name.lower()
        return next((bot for team, bot in self.bots.items() if team.lower() == wanted), None)

    def for_space(self, space: str) -> "str | None":
        """The team whose space this is: its Configuration's SpaceId (where the bot posts, when set),
        or its Space in the Teams file (where its older cards may still be clicked)."""
        if not space:
            return None
        return next((name for name, bot in self.bots.items() if space == bot.config.space_id),
                    next((name for name, team in self.teams.items() if space == team.space), None))

    def for_event(self, event: "ChatEvent") -> "str | None":
        """The team an event belongs to: by its space; a direct message, by who sent it (the first
        team whose Managers tab has them)."""
        team = self.for_space(event.space)
        if team is None and event.direct:
            team = next((name for name, bot in self.bots.items()
                         if any(m.chat_id == event.user_id for m in bot.cycle.managers)), None)
        return team

    def close(self) -> int:
        """Close every bot (at shutdown); the Tracker rows their last flushes wrote. Their last
        flushes go within the Sheets quota they share: twenty of them past a full minute would be
        twenty writes over it; a team whose turn does not come keeps its rows in its journal,
        which its next start writes."""
        return sum(bot.close(within_quota=True) for bot in self.bots.values())
