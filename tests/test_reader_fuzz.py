"""Generated inputs for the readers: whatever ops (or their tools) leave in the Configuration and
Managers tabs, the bot reports problems and never raises; a reload with problems keeps the last
good configuration and team; every problem names a cell or row; and any cell the bot writes
reads back as it was written (a lone surrogate as U+FFFD).

Run with `--hypothesis-show-statistics` to see how many examples each property ran."""
from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pytest
import responses
from hypothesis import HealthCheck, given, settings, strategies as st

from rcabot.bootstrap import SHEETS_SCOPE, TEMPLATES
from rcabot.bot import RcaBot
from rcabot.chat.local import LocalSpace
from rcabot.config import KNOWN_PARAMETERS, parse_configuration, parse_managers
from rcabot.workbook import TabDamaged
from rcabot.workbook.cells import FORMULA_STARTS, plain
from rcabot.workbook.google import GoogleWorkbook
from rcabot.workbook.local import LocalWorkbook
from tests.fakes.clock import FakeClock
from tests.fakes.google import SHEETS, FakeGoogle
from tests.fakes.jobs import RecordingJobs
from tests.fakes.transport import FakeRequest

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES_A_CELL = re.compile(r"^(Configuration|Managers|Away|Holidays|Overrides) ([A-Z]+[0-9]+|row [0-9]+): ")
# Good availability tabs for the reload bench: leave, a holiday keeping shift 1, and a cover.
AVAILABILITY = {
    "Away": "Manager,From,To,Reason\nBruno Silva,2026-11-24,2026-11-25,Trip\nusers/1003,2026-11-23 13:00,2026-11-23 17:00,\n",
    "Holidays": "Date,Name,Shifts\n2026-12-24,Christmas Eve,\n2026-12-31,New Year's Eve,1\n",
    "Overrides": "Date,Shift,Instead of,Covered by,Requested at,Taken at\n2026-11-23,2,Bruno Silva,Dana Kim,,\n",
}
WARNING = "is not a parameter the bot knows"

# Text of every Unicode category (lone surrogates included), weighted towards what CSV and the
# parsers treat specially.
ANY_CHARACTER = st.characters(blacklist_categories=())
SPECIAL = st.sampled_from([",", ";", "\t", '"', "'", "\n", "\r", "\r\n", " ", "=", "+", "-", "@", "\x00", "\ufeff",
                           "\u00e9", "\U0001F600", "\ud83d", "\u00b2", "users/", "1", "all", "yes", ":"])
CELL = st.lists(st.one_of(ANY_CHARACTER, SPECIAL), max_size=12).map("".join)
MANAGER_HEADINGS = ["Name", "Email", "GChat ID", "Shift", "Active", "Notes"]
HEADING = st.one_of(st.sampled_from(list(KNOWN_PARAMETERS) + ["Shift1StartTime", "Shift2StartTime", "Parameter",
                                                              "Value", "Shift1Days", "Shift2EndTime", "Shift9Days",
                                                              "Shift1EndTime"] + MANAGER_HEADINGS), CELL)
PLAUSIBLE = st.sampled_from(["", "30", "0", "-5", "1e400", "nan", "06:00", "6", "25:00", "UTC", "Europe",
                             "Europe/Berlin", "round_robin", "yes", "no", "users/1", "1,3", "all", "1;2", "spaces/A",
                             "Mon-Fri", "Sat-Sun", "Fri-Mon", "mo,we", "Mon-", "-", "DE", "US", "XX", "BY", "23:59"])
ROW = st.lists(st.one_of(CELL, PLAUSIBLE), max_size=7)
TABLE = st.tuples(st.lists(HEADING, min_size=0, max_size=7), st.lists(ROW, max_size=6)).map(
    lambda parts: [parts[0], *parts[1]])


def assert_named(problems: list[str]) -> None:
    for problem in problems:
        assert NAMES_A_CELL.match(problem), problem


def as_csv(rows: list[list[str]], separator: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=separator, lineterminator="\n").writerows(rows)
    return out.getvalue()


@st.composite
def csv_bytes(draw) -> bytes:
    """A tab as a file: written by a CSV writer or joined by hand (quotes left open), in UTF-8
    (lone surrogates as the bytes they would be) or Latin-1, cut at any byte."""
    rows = draw(TABLE)
    separator = draw(st.sampled_from([",", ";", "\t"]))
    text = as_csv(rows, separator) if draw(st.booleans()) else "\n".join(separator.join(r) for r in rows)
    data = text.encode("utf-8", "surrogatepass") if draw(st.booleans()) else text.encode("latin-1", "replace")
    return data[:draw(st.integers(0, len(data)))]


# --- the parsers and the CSV reader ----------------------------------------------------------

@FUZZ
@given(TABLE, st.integers(1, 6))
def test_the_parsers_never_raise_and_every_problem_names_a_cell_or_row(rows, shift_count):
    parsed = parse_configuration(rows)
    assert_named(parsed.problems + parsed.warnings)
    team = parse_managers(rows, shift_count)
    assert_named(team.problems)
    assert len({m.chat_id for m in team.value}) == len(team.value)


@FUZZ
@given(csv_bytes(), st.booleans())
def test_the_csv_reader_never_raises_and_names_the_damage(data, strict):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "Managers.csv").write_bytes(data)
        try:
            rows = LocalWorkbook(folder).read_tabs(["Managers"], strict=strict)["Managers"]
        except TabDamaged as damaged:
            assert strict
            assert_named([str(damaged)])
            rows = damaged.rows
    assert all(isinstance(cell, str) and not re.search("[\ud800-\udfff]", cell) for row in rows for cell in row)
    assert_named(parse_configuration(rows).problems + parse_managers(rows, 4).problems)


# --- reloads ---------------------------------------------------------------------------------

class Workbench:
    """A local bot on the sample workbook (made once: a reload is what each example exercises)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.workbook = LocalWorkbook.from_templates(folder, TEMPLATES)
        for tab, text in AVAILABILITY.items():
            (folder / f"{tab}.csv").write_text(text, encoding="utf-8")
        self.good = {tab: (folder / f"{tab}.csv").read_bytes() for tab in ("Configuration", "Managers", *AVAILABILITY)}
        clock = FakeClock()
        jobs = RecordingJobs(clock)
        self.bot = RcaBot(self.workbook, LocalSpace(clock), jobs, clock)
        jobs.bind(self.bot)
        self.bot.boot()
        assert self.bot.problems == []
        self.config, self.team = self.bot.config, list(self.bot.cycle.managers)
        self.availability = self.in_force()
        assert len(self.availability[0]) == 2 and len(self.availability[1]) == 1 and len(self.availability[2]) == 2

    def in_force(self) -> tuple:
        """The leave, cover and holidays the bot routes by."""
        availability = self.bot.cycle.availability
        return availability.away, availability.overrides, self.bot.config.schedule.holidays.listed

    def reload_with(self, tab: str, data: bytes) -> None:
        for name, good in self.good.items():  # back to the good version first
            (self.folder / f"{name}.csv").write_bytes(good)
        self.bot.reload()
        assert self.bot.config == self.config and self.bot.cycle.managers == self.team
        assert self.in_force() == self.availability
        (self.folder / f"{tab}.csv").write_bytes(data)
        self.bot.reload()

    def problems(self, tab: str) -> list[str]:
        """The problems that keep `tab`'s last good version in force (not the warnings)."""
        return [p for p in self.bot.problems if p.startswith(tab) and WARNING not in p]


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Workbench:
    return Workbench(tmp_path_factory.mktemp("fuzz") / "workbook")


@st.composite
def damaged(draw, good: bytes) -> bytes:
    """The good file after a bad edit: cut at any byte, a byte replaced, or text put in anywhere."""
    at = draw(st.integers(0, len(good)))
    edit = draw(st.sampled_from(["cut", "byte", "insert"]))
    if edit == "cut":
        return good[:at]
    if edit == "byte":
        return good[:at] + bytes([draw(st.integers(0, 255))]) + good[at + 1:]
    return good[:at] + draw(CELL).encode("utf-8", "surrogatepass") + good[at:]


@FUZZ
@given(st.data(), st.sampled_from(["Configuration", "Managers"]))
def test_a_reload_with_problems_keeps_the_last_good_configuration_and_team(bench, data, tab):
    bench.reload_with(tab, data.draw(damaged(bench.good[tab])))
    assert_named(bench.bot.problems)
    if bench.problems("Configuration"):
        assert bench.bot.config == bench.config
    if bench.problems("Managers"):
        assert bench.bot.cycle.managers == bench.team


@FUZZ
@given(st.data(), st.sampled_from(list(AVAILABILITY)))
def test_a_damaged_availability_tab_is_reported_with_its_cell_and_the_last_good_one_stays(bench, data, tab):
    bench.reload_with(tab, data.draw(damaged(bench.good[tab])))
    assert_named(bench.bot.problems)
    if bench.problems(tab):
        assert bench.in_force() == bench.availability


def test_the_sample_configuration_cut_at_any_byte_leaves_the_good_one_in_force(bench):
    good = bench.good["Configuration"]
    for at in range(len(good)):
        bench.reload_with("Configuration", good[:at])
        assert bench.bot.config == bench.config, (at, good[:at], bench.bot.problems)
        whole = good[:at] == good.rstrip(b"\r\n")  # all but the final line break
        assert whole or bench.problems("Configuration"), (at, good[:at])


def test_the_sample_team_cut_at_any_byte_is_the_good_one_or_a_head_of_it(bench):
    """A cut at the end of a row leaves a shorter team that nothing tells from a real one; a cut
    inside a row is reported (or falls in the Notes column, which the bot does not read), and the
    good team stays. No cut ever changes a manager."""
    good = bench.good["Managers"]
    for at in range(len(good)):
        bench.reload_with("Managers", good[:at])
        team = bench.bot.cycle.managers
        assert team == bench.team[:len(team)], (at, good[:at], team)


# --- the Google reader -----------------------------------------------------------------------

JSON_VALUE = st.one_of(CELL, PLAUSIBLE, st.integers(-10**20, 10**20), st.floats(allow_nan=False), st.booleans(),
                       st.none())


class SheetsBench:
    """The Google workbook against the fake Sheets, with values.batchGet answering what a test says."""

    def __init__(self):
        self.fake = FakeGoogle()
        self.fake.sheets.add_tab("Configuration", [["SpaceId"]])
        self.fake.sheets.add_tab("Managers", [["Name"]])
        self.answer: list[dict] = []
        self.fake.router.routes[SHEETS] = self._handle
        self.workbook = GoogleWorkbook(self.fake.sheets.spreadsheet_id, self.fake.credentials(SHEETS_SCOPE),
                                       sleep=lambda seconds: None)

    def _handle(self, request: FakeRequest):
        status, payload = self.fake.sheets.handle(request)
        if request.path.endswith("values:batchGet") and status == 200:
            payload["valueRanges"] = [{**r, "values": v} for r, v in zip(payload["valueRanges"], self.answer)]
        return status, payload


@pytest.fixture(scope="module")
def sheets():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        bench = SheetsBench()
        bench.fake.install(rsps)
        yield bench


@FUZZ
@given(st.lists(st.lists(st.lists(JSON_VALUE, max_size=6), max_size=5), min_size=2, max_size=2))
def test_the_google_reader_takes_any_values_and_the_parsers_report_them(sheets, answer):
    sheets.answer = answer
    tables = sheets.workbook.read_tabs(["Configuration", "Managers"], strict=True)
    for rows in tables.values():
        assert all(isinstance(c, str) and not re.search("[\ud800-\udfff]", c) for row in rows for c in row)
        assert len({len(row) for row in rows}) <= 1  # padded to the tab's width
    parsed = parse_configuration(tables["Configuration"])
    assert not [p for p in parsed.problems if "looks cut short" in p and "value row stops" in p]
    assert_named(parsed.problems + parsed.warnings + parse_managers(tables["Managers"], 4).problems)


# --- what the bot writes reads back ----------------------------------------------------------

WRITTEN = st.lists(st.tuples(CELL, CELL), min_size=1, max_size=4)
HEADERS = {"TicketState": ["Ticket", "Title", "Detail"], "Tracker": ["Timestamp", "Ticket", "Detail"]}


def written_then_read(workbook, cells) -> tuple[list, list]:
    rows = [[f"RCA-{n}", a, b] for n, (a, b) in enumerate(cells)]
    workbook.write({"TicketState": [HEADERS["TicketState"], *rows]}, {"Tracker": rows})
    tables = workbook.read_tabs(["TicketState", "Tracker"])
    expected = [[plain(c) for c in row] for row in rows]
    return expected, [tables["TicketState"][1:], tables["Tracker"][-len(rows):]]


@FUZZ
@given(WRITTEN)
def test_any_cell_the_bot_writes_to_the_csv_folder_reads_back_the_same(cells):
    with tempfile.TemporaryDirectory() as folder:
        workbook = LocalWorkbook(folder)
        workbook.ensure_tabs(HEADERS)
        expected, read_back = written_then_read(workbook, cells)
        assert read_back == [expected, expected]
        raw = (Path(folder) / "TicketState.csv").read_bytes().decode("utf-8")
        stored = [cell for row in csv.reader(io.StringIO(raw, newline="")) for cell in row]
        assert not any(cell.startswith(FORMULA_STARTS) for cell in stored)  # a spreadsheet app opens it as text


@pytest.fixture(scope="module")
def google_book():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeGoogle()
        fake.install(rsps)
        workbook = GoogleWorkbook(fake.sheets.spreadsheet_id, fake.credentials(SHEETS_SCOPE),
                                  sleep=lambda seconds: None)
        workbook.ensure_tabs(HEADERS)
        yield fake, workbook


@FUZZ
@given(WRITTEN)
def test_any_cell_the_bot_writes_to_google_sheets_reads_back_the_same_and_never_as_a_formula(google_book, cells):
    fake, workbook = google_book
    expected, read_back = written_then_read(workbook, cells)
    assert read_back == [expected, expected]
    assert all(fake.sheets.formula("TicketState", f"{col}{n}") is None
               for n in range(2, len(cells) + 2) for col in "BC")
