"""Many teams in one deployment (RCABOT_TEAMS_FILE): a bot per team, routed by team name and by
Chat space, sharing the Sheets write quota. Two teams, two workbook folders, two spaces, one app."""
from __future__ import annotations

import csv
import logging
import re
import tempfile
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from rcabot.bootstrap import StartupError
from rcabot.pacing import SHEETS_WRITES_PER_MINUTE
from rcabot.teams import read_teams
from rcabot.web import create_app
from tests.conftest import Space
from tests.fakes.jobs import RecordingJobs

SPACES = {"a": "spaces/AAA", "b": "spaces/BBB"}


def read(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def team_folder(root: Path, team: str) -> Path:
    """A workbook folder with the team's own two managers, on every shift."""
    folder = root / f"workbook-{team}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "Managers.csv", "w", newline="") as f:
        csv.writer(f).writerows([["Name", "Email", "GChat ID", "Shift", "Active"],
                                 *[[f"{team.upper()} Manager {n}", f"{team}{n}@example.com", f"users/{team}{n}",
                                    "all", "yes"] for n in (1, 2)]])
    return folder


@pytest.fixture
def root(tmp_path) -> Path:
    for team in SPACES:
        team_folder(tmp_path, team)
    # Workbook paths relative to the Teams file's folder.
    (tmp_path / "teams.csv").write_text("Team,Workbook,Space\n" +
                                        "".join(f"{t},workbook-{t},{s}\n" for t, s in SPACES.items()))
    return tmp_path


def start(root: Path, clock):
    jobs = {team: RecordingJobs(clock) for team in SPACES}
    app = create_app({"TEAMS_FILE": str(root / "teams.csv"), "JOBS": jobs, "CLOCK": clock})
    return app, jobs


@pytest.fixture
def app(root, clock):
    return start(root, clock)[0]


@pytest.fixture
def teams(app):
    return app.extensions["rcabot.teams"]


def files(folder: Path) -> dict[str, bytes]:
    """A workbook folder's files, less the journal's record of the Sheets writes in the last minute:
    every team's counts the writes of all (the quota is shared), so that a restart counts them."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock") and p.name != "paces.json"}


def test_a_ticket_is_pinged_only_to_its_team_in_its_space_and_written_only_to_its_workbook(client, teams, root):
    a, b = teams.bots["a"], teams.bots["b"]
    assert client.post("/teams/a/tickets", json={"ticket_id": "RCA-1"}).status_code == 202
    assert a.ticket("RCA-1")["manager"]["chat_id"] in ("users/a1", "users/a2")
    assert b.ticket("RCA-1") is None
    (card,) = a.chat.messages()
    assert card["name"].startswith("spaces/AAA/") and b.chat.messages() == []
    a.flush()
    b.flush()
    assert [row[1:4:2] for row in read(root / "workbook-a" / "Tracker.csv")[1:]] == [["RCA-1", "Pinged"]]
    assert read(root / "workbook-b" / "Tracker.csv")[1:] == []


def test_a_click_in_one_team_s_space_never_touches_the_other_team(client, teams, root):
    a, b = teams.bots["a"], teams.bots["b"]
    client.post("/teams/a/tickets", json={"ticket_id": "RCA-1"})
    b.flush()
    before = files(root / "workbook-b")
    space = Space(client, a)
    manager = space.pinged("RCA-1")
    answer = space.click(space.last_card("RCA-1"), "accept", manager, space={"name": "spaces/AAA", "type": "ROOM"})
    assert answer.status_code == 200
    assert a.ticket("RCA-1")["status"] == "Accepted"
    a.flush()
    b.flush()
    assert files(root / "workbook-b") == before
    assert b.status()["tickets"] == [] and b.chat.messages() == []


def test_the_same_ticket_id_in_two_teams_is_two_tickets(client, teams):
    assert client.post("/teams/a/tickets", json={"ticket_id": "RCA-1"}).status_code == 202
    assert client.post("/teams/b/tickets", json={"ticket_id": "RCA-1"}).status_code == 202
    assert teams.bots["b"].ticket("RCA-1")["manager"]["chat_id"] in ("users/b1", "users/b2")


def test_tickets_are_routed_by_the_path_or_by_a_team_field(client, teams):
    a, b = teams.bots["a"], teams.bots["b"]
    assert client.post("/teams/b/tickets", json={"ticket_id": "RCA-1"}).status_code == 202
    assert client.post("/tickets", json={"ticket_id": "RCA-2", "team": "b"}).status_code == 202
    assert client.post("/tickets", json={"ticket_id": "RCA-2", "team": "b"}).status_code == 200  # the same again
    assert b.ticket("RCA-1") and b.ticket("RCA-2") and a.ticket("RCA-1") is None and a.ticket("RCA-2") is None
    assert client.get("/teams/b/tickets/RCA-1").json["ticket_id"] == "RCA-1"
    assert client.get("/teams/a/tickets/RCA-1").status_code == 404
    assert client.get("/tickets/RCA-2").json["ticket_id"] == "RCA-2"  # no team: every team is looked at
    assert [t["ticket_id"] for t in client.get("/teams/b/status").json["tickets"]] == ["RCA-1", "RCA-2"]
    assert set(client.get("/status").json["teams"]) == {"a", "b"}


def test_a_ticket_without_its_team_is_refused_with_the_teams_listed(client, teams):
    answer = client.post("/tickets", json={"ticket_id": "RCA-1"})
    assert answer.status_code == 400 and answer.json["teams"] == ["a", "b"]
    assert "a, b" in answer.json["error"]
    assert client.post("/tickets", json={"ticket_id": "RCA-1", "team": 7}).status_code == 400
    assert all(bot.status()["tickets"] == [] for bot in teams.bots.values())


@pytest.mark.parametrize("request_", [("/teams/zz/tickets", {"ticket_id": "RCA-1"}),
                                      ("/tickets", {"ticket_id": "RCA-1", "team": "zz"})])
def test_an_unknown_team_is_a_404_that_names_the_teams(client, teams, request_):
    path, body = request_
    answer = client.post(path, json=body)
    assert answer.status_code == 404 and "'zz'" in answer.json["error"] and answer.json["teams"] == ["a", "b"]
    assert client.get("/teams/zz/status").status_code == 404


def test_team_names_are_matched_whatever_their_case(client, teams):
    assert client.post("/teams/B/tickets", json={"ticket_id": "RCA-1"}).status_code == 202
    assert teams.bots["b"].ticket("RCA-1")


def test_a_chat_event_from_an_unknown_space_is_answered_and_logged_and_changes_nothing(client, teams, caplog):
    event = {"type": "MESSAGE", "user": {"name": "users/a1", "displayName": "A"},
             "space": {"name": "spaces/ZZZ", "type": "ROOM"}, "message": {"text": "dnd 1h"}}
    with caplog.at_level(logging.WARNING):
        answer = client.post("/chat/events", json=event)
    assert answer.status_code == 200 and "not set up for this space" in answer.json["text"]
    assert "spaces/ZZZ" in caplog.text
    assert all(not any(m["dnd_until"] for m in bot.status()["managers"]) for bot in teams.bots.values())


def test_a_chat_command_goes_to_the_team_of_its_space(client, teams):
    event = {"type": "MESSAGE", "user": {"name": "users/b1", "displayName": "B Manager 1"},
             "space": {"name": "spaces/BBB", "type": "ROOM"}, "message": {"text": "dnd 1h"}}
    assert client.post("/chat/events", json=event).status_code == 200
    dnd = {name: [m["chat_id"] for m in bot.status()["managers"] if m["dnd_until"]]
           for name, bot in teams.bots.items()}
    assert dnd == {"a": [], "b": ["users/b1"]}


def test_a_direct_message_goes_to_the_team_whose_manager_sent_it(client, teams):
    event = {"type": "MESSAGE", "user": {"name": "users/b2", "displayName": "B Manager 2"},
             "space": {"name": "spaces/DM1", "type": "DM", "spaceType": "DIRECT_MESSAGE"},
             "message": {"text": "dnd 1h"}}
    assert client.post("/chat/events", json=event).status_code == 200
    assert [m["chat_id"] for m in teams.bots["b"].status()["managers"] if m["dnd_until"]] == ["users/b2"]


def test_health_reports_every_team_and_is_degraded_when_one_team_is(client, teams):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and set(answer.json["teams"]) == {"a", "b"}
    teams.bots["b"].degraded["workbook"] = "writing failed"
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json["problems"] == ["b: workbook"]
    assert answer.json["teams"]["a"]["status"] == "ok"


def test_every_metric_series_carries_its_team(client, teams):
    client.post("/teams/a/tickets", json={"ticket_id": "RCA-1"})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'rcabot_open_tickets{team="a"} 1.0' in text and 'rcabot_open_tickets{team="b"} 0.0' in text
    assert 'rcabot_pings_total{team="a"} 1.0' in text
    assert text.count("# TYPE rcabot_open_tickets gauge") == 1  # one family, a series per team
    samples = [line for line in text.splitlines() if line.startswith("rcabot_")]
    assert samples and all('team="' in line for line in samples)


def test_a_crash_restores_every_team_s_open_tickets(client, teams, root, clock):
    client.post("/teams/a/tickets", json={"ticket_id": "RCA-1"})
    client.post("/teams/b/tickets", json={"ticket_id": "RCA-2"})
    space = Space(client, teams.bots["b"])
    space.click(space.last_card("RCA-2"), "accept", space.pinged("RCA-2"), space={"name": "spaces/BBB"})
    for bot in teams.bots.values():  # killed: no flush, only the journals' locks let go
        bot.journal.close()
    assert read(root / "workbook-a" / "Tracker.csv")[1:] == [] == read(root / "workbook-b" / "Tracker.csv")[1:]

    again = start(root, clock)[0].extensions["rcabot.teams"]
    assert again.bots["a"].ticket("RCA-1")["status"] == "Pinged" and again.bots["a"].ticket("RCA-2") is None
    assert again.bots["b"].ticket("RCA-2")["status"] == "Accepted" and again.bots["b"].ticket("RCA-1") is None
    again.close()
    assert [row[3] for row in read(root / "workbook-b" / "Tracker.csv")[1:]] == ["Pinged", "Accepted"]


class CountedWrites:
    """A workbook whose writes are counted, with the time each was sent."""

    def __init__(self, workbook, clock, sent: list):
        self._workbook, self._clock, self._sent = workbook, clock, sent

    def write(self, *args, **kwargs):
        self._sent.append(self._clock())
        return self._workbook.write(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._workbook, name)


def test_the_teams_flushes_together_stay_within_the_one_sheets_write_quota(client, teams, clock):
    sent: dict[str, list] = {"a": [], "b": []}
    for name, bot in teams.bots.items():
        bot.workbook = CountedWrites(bot.workbook, clock, sent[name])
    assert teams.bots["a"].sheets_pace is teams.bots["b"].sheets_pace
    for second in range(150):  # each team has something to write every second, and flushes every second
        for team in ("a", "b"):
            client.post(f"/teams/{team}/tickets", json={"ticket_id": f"{team}-{second}"})
            teams.bots[team].flush()
        clock.advance(1)
    times = sorted(sent["a"] + sent["b"])
    busiest = max(sum(1 for t in times if start <= t < start + timedelta(minutes=1)) for start in times)
    assert busiest <= SHEETS_WRITES_PER_MINUTE
    assert len(sent["a"]) > 30 and len(sent["b"]) > 30  # both teams wrote: the quota is shared, not taken by one


def test_without_a_teams_file_there_are_no_team_routes(client_single):
    assert client_single.post("/teams/a/tickets", json={"ticket_id": "RCA-1"}).status_code == 404
    assert client_single.post("/tickets", json={"ticket_id": "RCA-1", "team": "zz"}).status_code == 202


@pytest.fixture
def client_single(workbook_dir, jobs, clock):
    return create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": jobs, "CLOCK": clock}).test_client()


# --- the Teams file ---------------------------------------------------------------------------


def teams_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "teams.csv"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("text, message", [
    ("Team,Workbook,Space\na,wa,\nA,wb,\n", r"row 3, Team: 'A' is already row 2's"),
    ("Team,Workbook,Space\na,wa,\nb,wa/,\n", r"row 3, Workbook: .* is already row 2's"),
    ("Team,Workbook,Space\na,wa,spaces/X\nb,wb,spaces/X\n", r"row 3, Space: 'spaces/X' is already row 2's"),
    ("Team,Workbook,Space\nmy team,wa,\n", r"row 2, Team: 'my team' is not a short name"),
    ("Team,Workbook,Space\n,wa,\n", r"row 2, Team: blank"),
    ("Team,Workbook,Space\na,,\n", r"row 2, Workbook: blank"),
    ("Team,Workbook,Space\na,wa,room-1\n", r"row 2, Space: 'room-1' is not a Chat space name"),
    ("Name,Workbook\na,wa\n", r"row 1: the header lacks Team"),
    ("Team,Workbook,Space\n", r"names no team"),
])
def test_a_bad_teams_file_names_the_row_and_cell(tmp_path, text, message):
    with pytest.raises(StartupError, match=message):
        read_teams(teams_file(tmp_path, text), local=True)


def test_google_mode_needs_each_team_s_space(tmp_path):
    with pytest.raises(StartupError, match=r"row 2, Space: blank"):
        read_teams(teams_file(tmp_path, "Team,Workbook,Space\na,1AbC,\n"), local=False)
    (team,) = read_teams(teams_file(tmp_path, "team , workbook,SPACE\na,1AbC,spaces/X\n"), local=False)
    assert (team.name, team.workbook, team.space) == ("a", "1AbC", "spaces/X")


def test_a_teams_file_that_cannot_be_read_stops_the_start(tmp_path):
    with pytest.raises(StartupError, match="cannot be read"):
        read_teams(str(tmp_path / "nowhere.csv"), local=True)
    (tmp_path / "latin1.csv").write_bytes("Team,Workbook\nä,wa\n".encode("latin-1"))
    with pytest.raises(StartupError, match="not UTF-8"):
        read_teams(str(tmp_path / "latin1.csv"), local=True)


# Any of these may be read as a workbook folder (a header may swap the columns): none leads out of the test's folder.
TEXT = st.text(st.characters(blacklist_characters="/\\.", blacklist_categories=("Cs",)), max_size=6)
GOOD_NAMES = st.sampled_from(["a", "b", "B", "team-1", "x_2", "c"])
BAD_NAMES = st.sampled_from(["", " ", "bad name", "ü", "a/b", "a" * 41, "teams.csv"])
NAMES = st.one_of(GOOD_NAMES, GOOD_NAMES, GOOD_NAMES, BAD_NAMES, TEXT)  # mostly good: some files start
WORKBOOKS = st.sampled_from(["wa", "wb", "wa/", "./wb", "wc", "wd", "we", "", " "])  # never outside the test's folder
SPACE_ONES = st.sampled_from(["", "", "spaces/X", "spaces/Y", "room", "spaces/"])
SPACE_NAMES = st.one_of(SPACE_ONES, SPACE_ONES, SPACE_ONES, TEXT)
HEADERS = st.sampled_from([["Team", "Workbook", "Space"]] * 3 + [["team", " Workbook ", "space", "Notes"],
                           ["Team", "Workbook"], ["Workbook", "Team"], ["Team", "Space"], []])
ROWS = st.lists(st.tuples(NAMES, WORKBOOKS, SPACE_NAMES, st.integers(0, 6)).map(lambda r: list(r[:3])[:r[3]]),
                min_size=1, max_size=3)  # rows of 0 to 3 cells, mostly 3


def teams_csv(folder: str, rows: list[list[str]]) -> Path:
    """A Teams file of `rows` (header first) in `folder`, written as a spreadsheet app's CSV."""
    path = Path(folder) / "teams.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HEADERS, ROWS)
def test_any_teams_file_starts_or_stops_with_a_startup_error_that_names_the_row(header, rows):
    with tempfile.TemporaryDirectory() as folder:
        path = teams_csv(folder, [header, *rows])
        jobs = defaultdict(lambda: RecordingJobs(lambda: None))
        try:
            app = create_app({"TEAMS_FILE": str(path), "JOBS": jobs})
        except StartupError as exc:
            assert "RCABOT_TEAMS_FILE" in str(exc) and ("row " in str(exc) or "names no team" in str(exc))
            event("refused")
        else:
            event("started")
            teams = app.extensions["rcabot.teams"]
            assert teams.names and len({n.lower() for n in teams.names}) == len(teams.names)
            teams.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(GOOD_NAMES, st.sampled_from(["wa", "wb", "wa/", "./wb", "wc"]),
                          st.sampled_from(["", "spaces/X", "spaces/Y", "spaces/c"])), min_size=1, max_size=3))
def test_well_formed_teams_start_unless_two_share_a_name_a_workbook_or_a_space(rows):
    names = [name.lower() for name, _, _ in rows]
    folders = [folder.strip("./") for _, folder, _ in rows]
    spaces = [space or f"spaces/{name}" for name, _, space in rows]
    shared = any(len(set(values)) < len(values) for values in (names, folders, spaces))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "teams.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([["Team", "Workbook", "Space"], *rows])
        try:
            app = create_app({"TEAMS_FILE": str(path), "JOBS": defaultdict(lambda: RecordingJobs(lambda: None))})
        except StartupError as exc:
            assert shared and re.search(r"row \d, (Team|Workbook|Space): .* is already row \d's", str(exc))
            event("refused")
        else:
            assert not shared
            event("started")
            teams = app.extensions["rcabot.teams"]
            assert teams.names == [name for name, _, _ in rows]
            teams.close()


def test_the_teams_share_one_scheduler_with_their_job_ids_prefixed_by_the_team(root):
    app = create_app({"TEAMS_FILE": str(root / "teams.csv"), "START_SCHEDULER": False})
    teams = app.extensions["rcabot.teams"]
    try:
        scheduler = teams.bots["a"].jobs.scheduler
        assert teams.bots["b"].jobs.scheduler is scheduler
        app.test_client().post("/teams/b/tickets", json={"ticket_id": "RCA-1"})
        ids = {job.id for job in scheduler.get_jobs()}
        assert {"a:flush", "a:reload", "a:deliver", "b:flush", "b:reload", "b:deliver"} <= ids
        assert "b:ping-timeout:RCA-1" in ids and not any(i.startswith("ping-timeout") for i in ids)
    finally:
        teams.close()


def test_the_teams_share_chat_s_project_cap_and_keep_their_own_space_s_pace(teams):
    a, b = teams.bots["a"].chat_pace, teams.bots["b"].chat_pace
    assert a.paces[1] is b.paces[1] and a.paces[0] is not b.paces[0]
    assert a.paces[1].limit == 3000 and a.paces[0].limit == 60


def github_delivery(client, path: str, delivery: str):
    from rcabot.inbound.signatures import sign

    body = (Path(__file__).parent / "samples" / "hooks" / "github_issues_labeled.json").read_bytes()
    return client.post(path, data=body, content_type="application/json",
                       headers={"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery,
                                "X-Hub-Signature-256": sign("gh-secret", body)})


def test_each_team_has_its_own_github_hook_and_a_bare_one_must_name_the_team(root, clock):
    jobs = {team: RecordingJobs(clock) for team in SPACES}
    app = create_app({"TEAMS_FILE": str(root / "teams.csv"), "JOBS": jobs, "CLOCK": clock,
                      "GITHUB_SECRET": "gh-secret"})
    teams, client = app.extensions["rcabot.teams"], app.test_client()
    assert github_delivery(client, "/teams/b/hooks/github", "d-1").status_code == 202
    assert teams.bots["b"].ticket("acme/payments#42") and teams.bots["a"].ticket("acme/payments#42") is None
    # The same delivery id to another team's hook is that team's first: each team keeps its own record.
    assert github_delivery(client, "/teams/a/hooks/github", "d-1").status_code == 202
    assert github_delivery(client, "/teams/a/hooks/github", "d-1").json["ignored"]
    answer = github_delivery(client, "/hooks/github", "d-2")
    assert answer.status_code == 400 and answer.json["teams"] == ["a", "b"]
    assert github_delivery(client, "/teams/zz/hooks/github", "d-3").status_code == 404
    unsigned = client.post("/teams/zz/hooks/github", json={}, headers={"X-GitHub-Event": "issues"})
    assert unsigned.status_code == 401 and "teams" not in unsigned.json  # the names only for a signed delivery


def test_each_team_has_its_own_calendar(client, teams):
    assert client.get("/teams/b/calendar.ics").status_code == 200
    assert "B Manager 1" in client.get("/teams/b/calendar.ics").get_data(as_text=True)
    assert "A Manager 1" not in client.get("/teams/b/calendar.ics").get_data(as_text=True)
    assert client.get("/calendar.ics").status_code == 400
    assert client.get("/teams/zz/calendar.ics").status_code == 404


def test_each_team_has_its_own_console(client, teams):
    client.post("/teams/b/tickets", json={"ticket_id": "RCA-1"})
    page = client.get("/teams/b/console").get_data(as_text=True)
    assert 'data-space="spaces/BBB"' in page and 'data-base="/teams/b"' in page
    assert len(client.get("/teams/b/console/messages").json["messages"]) == 1
    assert client.get("/teams/a/console/messages").json["messages"] == []
    assert {m["chat_id"] for m in client.get("/teams/b/console/managers").json["managers"]} == {"users/b1",
                                                                                                "users/b2"}
    assert client.get("/teams/b/console/status").status_code == 200
    first = client.get("/console").get_data(as_text=True)  # the first team's
    assert 'data-space="spaces/AAA"' in first and 'data-base="/teams/a"' in first
    assert client.get("/teams/zz/console").status_code == 404


def test_the_console_s_polls_of_any_team_are_kept_out_of_the_log():
    from rcabot.web import QUIET_POLLING

    line = '127.0.0.1 - - [23/Nov/2026 07:00:00] "GET /teams/b/console/messages HTTP/1.1" 200 -'
    record = logging.LogRecord("werkzeug", logging.INFO, "", 0, line, None, None)
    assert not QUIET_POLLING.filter(record)


def test_a_space_id_the_team_s_configuration_names_routes_its_events_as_its_teams_file_space_does(client, teams, root):
    from tests.conftest import set_configuration

    set_configuration(root / "workbook-a", SpaceId="spaces/NEWA")
    teams.bots["a"].reload()
    event = {"type": "MESSAGE", "user": {"name": "users/a1", "displayName": "A Manager 1"},
             "space": {"name": "spaces/NEWA", "type": "ROOM"}, "message": {"text": "dnd 1h"}}
    assert client.post("/chat/events", json=event).status_code == 200
    assert [m["chat_id"] for m in teams.bots["a"].status()["managers"] if m["dnd_until"]] == ["users/a1"]
    teams.bots["a"].end_dnd("users/a1")
    old = {**event, "space": {"name": "spaces/AAA", "type": "ROOM"}}  # its older cards are still there
    assert client.post("/chat/events", json=old).status_code == 200
    assert [m["chat_id"] for m in teams.bots["a"].status()["managers"] if m["dnd_until"]] == ["users/a1"]


@pytest.fixture(scope="module")
def served_teams(tmp_path_factory):
    from tests.fakes.clock import FakeClock

    root, clock = tmp_path_factory.mktemp("teams-fuzz"), FakeClock()
    for team in SPACES:
        team_folder(root, team)
    (root / "teams.csv").write_text("Team,Workbook,Space\n" +
                                    "".join(f"{t},workbook-{t},{s}\n" for t, s in SPACES.items()))
    app = start(root, clock)[0]
    yield app.test_client()
    for bot in app.extensions["rcabot.teams"].bots.values():
        bot.journal.close()


def _any_json():
    from tests.test_input_fuzz import any_json, any_text

    space = st.one_of(st.sampled_from([*SPACES.values(), "spaces/ZZZ", ""]), any_text)
    event = st.fixed_dictionaries({"type": st.sampled_from(["MESSAGE", "CARD_CLICKED", "ADDED_TO_SPACE"]),
                                   "space": st.one_of(st.fixed_dictionaries({"name": space}), any_json)},
                                  optional={"user": any_json, "message": any_json, "common": any_json})
    return st.one_of(any_json, event)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=_any_json(), team=st.one_of(st.sampled_from(["a", "B", "zz", "%2F", "a.b"]), st.text(max_size=8)))
def test_any_body_or_team_sent_to_the_teams_routes_is_answered_without_a_5xx(served_teams, body, team):
    from urllib.parse import quote

    for path in ("/chat/events", "/tickets", f"/teams/{quote(team, safe='')}/tickets"):
        answer = served_teams.post(path, json=body)
        assert answer.status_code < 500, (path, answer.get_data(as_text=True))
    assert served_teams.get(f"/teams/{quote(team, safe='')}/status").status_code < 500


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HEADERS, ROWS)
def test_any_teams_file_in_google_mode_is_read_or_refused_naming_the_row(header, rows):
    with tempfile.TemporaryDirectory() as folder:
        path = teams_csv(folder, [header, *rows])
        try:
            teams = read_teams(str(path), local=False)
        except StartupError as exc:
            assert "RCABOT_TEAMS_FILE" in str(exc) and ("row " in str(exc) or "names no team" in str(exc))
        else:
            assert all(team.space.startswith("spaces/") and team.workbook for team in teams)
            assert len({team.space for team in teams}) == len({team.name.lower() for team in teams}) == len(teams)


def test_teams_stopping_together_write_their_last_flushes_within_the_shared_quota(client, teams, clock, root):
    """Each bot alone writes its last flush whatever the quota (one request over at worst); twenty
    stopping together would be twenty over. Here the minute has room for one: team a writes, team b
    keeps its rows in its journal, and its next start writes them."""
    sent: dict[str, list] = {"a": [], "b": []}
    for name, bot in teams.bots.items():
        bot.workbook = CountedWrites(bot.workbook, clock, sent[name])
        client.post(f"/teams/{name}/tickets", json={"ticket_id": f"{name}-1"})
    pace = teams.bots["a"].sheets_pace
    pace.record(clock(), pace.room(clock()) - 1)  # room for one more write in this minute
    teams.close()
    assert len(sent["a"]) == 1 and sent["b"] == []
    again = start(root, clock)[0].extensions["rcabot.teams"]
    assert again.bots["b"].ticket("b-1") is not None  # from its journal
    clock.advance(62)
    again.bots["b"].flush()
    assert any(row[1] == "b-1" for row in read(team_folder(root, "b") / "Tracker.csv"))
    again.close()
