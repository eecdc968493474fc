"""Ops edit the Configuration and Managers tabs by hand, with tools that save half a file, the wrong
encoding or the wrong separator, and now and then delete one of the bot's tabs. Each bad edit is
reported with its cell or row, and the last good version stays in force; a deleted bot tab is
made again at the next flush. (Local mode on the CSV folder; Google mode on the fake Sheets.)"""
from __future__ import annotations

import csv
import io
import logging

from tests.conftest import set_configuration
from tests.google_fixtures import API_TOKEN

# At 07:00 UTC (the fake clock's start) shift 2 is on: Bruno Silva, Chen Wei and Hana Sato.
SHIFT_2 = ["Bruno Silva", "Chen Wei", "Hana Sato"]


def read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def on_shift(bot) -> list[str]:
    return [m["name"] for m in bot.status()["managers"] if m["on_shift"]]


def cut_after(path, text: str) -> None:
    """The file as a save that stopped just after the first `text` leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[:data.index(text.encode()) + len(text.encode())])


# --- the Managers tab ------------------------------------------------------------------------

def test_a_managers_tab_cut_down_to_its_header_is_reported_and_the_last_good_team_stays(bot, client,
                                                                                        workbook_dir):
    path = workbook_dir / "Managers.csv"
    path.write_bytes(path.read_bytes().splitlines(keepends=True)[0])
    bot.reload()
    assert bot.problems == ["Managers row 2: there is no manager under the header row: the tab looks emptied or "
                            "cut short"]
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    assert bot.ticket("RCA-1")["manager"]["name"] == "Bruno Silva"


def test_a_bot_started_on_a_managers_tab_with_only_its_header_says_so_loudly(tmp_path, jobs, clock, caplog):
    from rcabot.web import create_app

    (tmp_path / "wb").mkdir()
    (tmp_path / "wb" / "Managers.csv").write_text("Name,Email,GChat ID,Shift,Active\n")
    with caplog.at_level(logging.ERROR):
        bot = create_app({"WORKBOOK_DIR": str(tmp_path / "wb"), "JOBS": jobs, "CLOCK": clock}).extensions["rcabot"]
    assert bot.problems == ["Managers row 2: there is no manager under the header row: the tab looks emptied or "
                            "cut short"]
    assert any(r.levelno == logging.CRITICAL and "no manager can be pinged" in r.getMessage() for r in caplog.records)


def test_a_managers_row_cut_inside_a_quoted_cell_is_reported_with_its_cell_and_the_last_good_team_stays(
        bot, workbook_dir):
    cut_after(workbook_dir / "Managers.csv", 'users/1002,"1,')  # Bruno Silva's Shift, "1,2", cut after "1,"
    bot.reload()
    assert bot.problems == ["Managers D3: the file ends inside this quoted cell: it looks cut short (by a save "
                            "that did not finish?)"]
    assert on_shift(bot) == SHIFT_2


def test_a_managers_row_cut_mid_row_is_reported_and_the_last_good_team_stays(bot, workbook_dir):
    cut_after(workbook_dir / "Managers.csv", "Hana Sato,hana.sato@")
    bot.reload()
    assert bot.problems == ["Managers C9: row 9 stops after 2 cells where the row above has 6, with no line break "
                            "at the end: it looks cut short (by a save that did not finish?)"]
    assert on_shift(bot) == SHIFT_2


def test_a_managers_file_saved_with_semicolons_is_read(bot, workbook_dir):
    path = workbook_dir / "Managers.csv"
    rows = read(path)
    rows[3][0] = "Chen Wei; night desk"  # a separator inside a quoted cell stays in the cell
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode())  # as a spreadsheet app set to German saves it
    bot.reload()
    assert bot.problems == []
    assert on_shift(bot) == ["Bruno Silva", "Chen Wei; night desk", "Hana Sato"]


def test_a_managers_file_saved_as_latin_1_is_reported_with_its_position_and_the_last_good_team_stays(
        bot, workbook_dir):
    path = workbook_dir / "Managers.csv"
    text = path.read_text(encoding="utf-8").replace("Chen Wei", "Zoë Chen")
    path.write_bytes(text.encode("latin-1"))
    bot.reload()
    byte = text.encode("latin-1").index("ë".encode("latin-1")) + 1
    assert bot.problems == [f"Managers row 4: the file is not UTF-8 text (byte 0xEB at byte {byte}); save it as "
                            f"CSV UTF-8"]
    assert on_shift(bot) == SHIFT_2


def test_a_managers_file_cut_in_the_middle_of_a_character_is_reported(bot, workbook_dir):
    path = workbook_dir / "Managers.csv"
    path.write_bytes(path.read_bytes() + "Zoë".encode()[:-1])  # a new row, cut inside the ë
    bot.reload()
    assert bot.problems == ["Managers A10: the file ends in the middle of a character: it looks cut short (by a "
                            "save that did not finish?)"]
    assert on_shift(bot) == SHIFT_2


# --- the Configuration tab -------------------------------------------------------------------

def test_a_half_written_wide_configuration_keeps_the_last_good_one_and_its_reload_interval(bot, jobs,
                                                                                         workbook_dir):
    set_configuration(workbook_dir, TicketTimeout=30)
    bot.reload()
    cut_after(workbook_dir / "Configuration.csv", ",30,36")  # ManagerDNDTime 3600, cut to 36
    bot.reload()
    assert bot.problems == ["Configuration D2: row 2 stops after 3 cells where the row above has 31, with no line "
                            "break at the end: it looks cut short (by a save that did not finish?)"]
    config = bot.config
    assert (config.ticket_timeout, config.dnd_seconds, config.reload_seconds) == (30, 3600, 30)
    assert jobs.configured.reload_seconds == 30


def test_a_wide_configuration_whose_value_row_stops_early_is_taken_as_cut_short(bot, workbook_dir):
    path = workbook_dir / "Configuration.csv"
    header, values = read(path)[:2]
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([header, values[:5]])
    bot.reload()
    assert bot.problems == ["Configuration F2: the value row stops before TimeForManagerDataReload's value: the "
                            "tab looks cut short"]
    assert bot.config.reload_seconds == 30


TALL = [["Parameter", "Value", "Description"], ["TicketTimeout", "30", "seconds a ping waits"],
        ["ManagerDNDTime", "1800", "seconds of rest after an answer"],
        ["TimeForManagerDataReload", "20", "seconds between reads of this tab"], ["TimeZone", "UTC", ""]]


def test_a_tall_configuration_cut_mid_way_keeps_the_last_good_one(bot, workbook_dir):
    path = workbook_dir / "Configuration.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(TALL)
    bot.reload()
    assert bot.problems == [] and bot.config.reload_seconds == 20
    cut_after(path, "ManagerDNDTime,18")
    bot.reload()
    assert bot.problems == ["Configuration C3: row 3 stops after 2 cells where the row above has 3, with no line "
                            "break at the end: it looks cut short (by a save that did not finish?)"]
    assert (bot.config.ticket_timeout, bot.config.dnd_seconds, bot.config.reload_seconds) == (30, 1800, 20)


def test_a_misspelt_parameter_is_reported_with_the_closest_name_and_the_rest_takes_effect(bot, workbook_dir):
    set_configuration(workbook_dir, TicketTimout=30, ManagerDNDTime=1800)
    bot.reload()
    assert bot.problems == ["Configuration AF1: 'TicketTimout' is not a parameter the bot knows, and is ignored; "
                            "did you mean TicketTimeout?"]
    assert (bot.config.ticket_timeout, bot.config.dnd_seconds) == (60, 1800)


def test_the_availability_and_ticket_system_parameters_are_known_names(bot, workbook_dir):
    set_configuration(workbook_dir, Shift1Days="Mon-Fri", Shift2EndTime="12:00", HolidayCountry="DE",
                      HolidaySubdivision="BE", CalendarOutOfOffice="no", WebhookURL="https://hooks.example.com/x",
                      JiraStatus="In Review", JiraLabel="rca", GitHubLabel="rca")
    bot.reload()
    assert bot.problems == []


# --- the bot's own tabs ----------------------------------------------------------------------

def test_a_tracker_deleted_while_the_bot_runs_is_made_again_by_the_next_flush(bot, client, workbook_dir):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    bot.flush()
    (workbook_dir / "Tracker.csv").unlink()
    client.post("/tickets", json={"ticket_id": "RCA-2"})
    bot.flush()
    rows = read(workbook_dir / "Tracker.csv")
    assert rows[0][:2] == ["Timestamp", "Ticket"] and [r[1] for r in rows[1:]] == ["RCA-2"]
    assert "workbook" not in bot.degraded
    assert bot.problems[-1].startswith("Tracker: the tab was missing (deleted?) and the bot made it again")
    bot.flush()
    assert ["Problem", "Tracker"] == read(workbook_dir / "BotStatus.csv")[-1][:2]


def test_state_tabs_deleted_while_the_bot_runs_are_written_whole_by_the_next_flush(bot, client, space,
                                                                                   workbook_dir):
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    space.click(space.last_card("RCA-1"), "accept", space.pinged("RCA-1"))  # a manager in DND: ManagerState
    bot.flush()
    before = read(workbook_dir / "ManagerState.csv")
    for tab in ("TicketState", "ManagerState"):
        (workbook_dir / f"{tab}.csv").unlink()
    client.post("/tickets", json={"ticket_id": "RCA-2"})  # TicketState changes, ManagerState does not
    bot.flush()
    assert read(workbook_dir / "ManagerState.csv") == before
    assert [r[0] for r in read(workbook_dir / "TicketState.csv")[1:]] == ["RCA-1", "RCA-2"]


def test_a_tracker_deleted_in_google_sheets_is_made_again_by_the_next_flush(gspace, fake):
    def start(ticket_id):
        gspace.client.post("/tickets", json={"ticket_id": ticket_id}, headers={"Authorization": f"Bearer {API_TOKEN}"})

    start("RCA-1")
    gspace.bot.flush()
    fake.sheets.tabs = [t for t in fake.sheets.tabs if t.title != "Tracker"]
    start("RCA-2")
    gspace.bot.flush()
    rows = fake.sheets.rows("Tracker")
    assert rows[0][:2] == ["Timestamp", "Ticket"] and [r[1] for r in rows[1:]] == ["RCA-2"]
    assert "workbook" not in gspace.bot.degraded
    assert gspace.bot.problems[-1].startswith("Tracker: the tab was missing")


# --- text a file or a cell cannot hold -------------------------------------------------------

def test_a_lone_surrogate_in_a_google_cell_is_read_as_a_replacement_character(gspace, fake):
    rows = fake.sheets.rows("Managers")
    rows[2][0] = "Bruno \ud83d"  # JSON carries it as "\ud83d"; UTF-8 cannot
    fake.sheets.tabs = [t for t in fake.sheets.tabs if t.title != "Managers"]
    fake.sheets.add_tab("Managers", rows)
    gspace.bot.reload()
    gspace.client.post("/tickets", json={"ticket_id": "RCA-1"}, headers={"Authorization": f"Bearer {API_TOKEN}"})
    gspace.bot.flush()
    assert gspace.bot.ticket("RCA-1")["manager"]["name"] == "Bruno \ufffd"
    assert fake.sheets.rows("TicketState")[1][4] == "Bruno \ufffd"


def test_a_google_configuration_whose_last_values_are_blank_is_not_taken_for_a_cut_one(gspace, fake):
    names, values = fake.sheets.rows("Configuration")[:2]
    assert len(values) < len(names)  # Sheets leaves the blank DigestTime out
    gspace.bot.reload()
    assert gspace.bot.problems == []


def test_a_google_managers_tab_cleared_below_its_header_is_reported_and_the_last_good_team_stays(gspace, fake):
    header = fake.sheets.rows("Managers")[0]
    fake.sheets.tabs = [t for t in fake.sheets.tabs if t.title != "Managers"]
    fake.sheets.add_tab("Managers", [header])
    gspace.bot.reload()
    assert gspace.bot.problems == ["Managers row 2: there is no manager under the header row: the tab looks "
                                   "emptied or cut short"]
    assert on_shift(gspace.bot) == SHIFT_2
