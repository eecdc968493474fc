from datetime import time

import pytest

from rcabot.config import Settings, parse_configuration, parse_managers
from rcabot.model import Manager

WIDE = [["SpaceId", "TicketTimeout", "ManagerDNDTime", "Shift1StartTime", "Shift2StartTime", "TimeZone",
         "URLForRestRequest", "Some Old Column"],
        ["spaces/AAA", "120", "1800", "6", "18:30", "Europe/Berlin", "https://old.example.com", "x"]]
TALL = [["Parameter", "Value", "Description"],
        ["Space Id", "spaces/AAA", "where to post"], ["ticket_timeout", "120", ""],
        ["ManagerDNDTime", "1800", ""], ["Shift1StartTime", "6", ""], ["Shift2StartTime", "18:30", ""],
        ["timezone", "Europe/Berlin", ""]]


@pytest.mark.parametrize("rows", [WIDE, TALL], ids=["wide", "tall"])
def test_both_configuration_layouts_give_the_same_configuration(rows):
    parsed = parse_configuration(rows)
    config = parsed.value
    assert parsed.problems == []
    assert (config.space_id, config.ticket_timeout, config.dnd_seconds) == ("spaces/AAA", 120, 1800)
    assert config.schedule.starts == (time(6), time(18, 30)) and str(config.schedule.zone) == "Europe/Berlin"


def test_an_empty_configuration_means_the_documented_defaults():
    config = parse_configuration([]).value
    assert (config.ticket_timeout, config.dnd_seconds, config.flush_seconds, config.batch_size,
            config.reload_seconds) == (300, 3600, 10, 50, 300)
    assert config.schedule.starts == (time(0), time(6), time(12), time(18))
    assert config.tabs.managers == "Managers" and config.tabs.tracker == "Tracker"


def test_shift1_defaults_to_midnight_when_only_later_shifts_are_given():
    config = parse_configuration([["Shift2StartTime", "Shift3StartTime"], ["08:00", "16:00"]]).value
    assert config.schedule.starts == (time(0), time(8), time(16))


def test_tab_names_and_the_ticket_link_come_from_the_configuration():
    config = parse_configuration([["ManagersSheetName", "TrackerSheetName", "TicketURLTemplate"],
                                  ["Team", "Log", "https://t.example.com/{ticket}"]]).value
    assert config.tabs.managers == "Team" and config.tabs.tracker == "Log"
    assert config.ticket_url("RCA-7") == "https://t.example.com/RCA-7"


@pytest.mark.parametrize("rows, message", [
    ([["TicketTimeout", "five"]], "Configuration B2: TicketTimeout is 'five'; it must be a whole number"),
    ([["TicketTimeout", "0"]], "TicketTimeout is '0'; it must be a whole number of at least 1"),
    ([["ManagerDNDTime", "-60"]], "Configuration B2: ManagerDNDTime is '-60'"),
    ([["TimeZone", "Mars/Olympus"]], "TimeZone 'Mars/Olympus' is not an IANA time zone"),
    ([["Shift2StartTime", "25:00"]], "Shift2StartTime: '25:00' is not a time of day"),
    ([["Shift3StartTime", "12:00"]], "Configuration B2: Shift2StartTime is missing"),
    ([["Shift1StartTime", "06:00"], ["Shift2StartTime", "6"]],
     "Configuration B3: Shift2StartTime: two shifts start at the same time (Shift1StartTime too)"),
    ([["TimeZone", "Europe"]], "Configuration B2: TimeZone 'Europe' is not an IANA time zone"),  # a folder of zones
    ([["TicketTimeout", "1e12"]], "Configuration B2: TicketTimeout is '1e12'; it must be at most 100,000,000"),
])
def test_a_bad_value_is_reported_with_its_cell(rows, message):
    problems = parse_configuration([["Parameter", "Value"]] + rows).problems
    assert any(message in p for p in problems), problems


@pytest.mark.parametrize("rows, problem", [
    ([], "Configuration A1: the tab is empty"),
    ([["SpaceId", "TicketTimeout"]], "Configuration A2: there is no value row under the parameter names"),
    ([["SpaceId", "TicketTimeout", "TimeZone"], ["spaces/A", "30"]],
     "Configuration C2: the value row stops before TimeZone's value: the tab looks cut short"),
])
def test_a_configuration_that_looks_cut_short_is_a_problem_not_the_defaults(rows, problem):
    problems = parse_configuration(rows).problems
    assert len(problems) == 1 and problems[0].startswith(problem), problems


@pytest.mark.parametrize("rows, warning", [
    ([["TicketTimout", "ManagerDNDTime"], ["30", "1800"]],
     "Configuration A1: 'TicketTimout' is not a parameter the bot knows, and is ignored; did you mean TicketTimeout?"),
    ([["Parameter", "Value"], ["ManagerDNDTime", "1800"], ["Shift2StartTme", "08:00"]],
     "Configuration A3: 'Shift2StartTme' is not a parameter the bot knows, and is ignored; did you mean "
     "Shift2StartTime?"),
    ([["ManagerDNDTime", "Colour"], ["1800", "blue"]],
     "Configuration B1: 'Colour' is not a parameter the bot knows, and is ignored"),
])
def test_an_unknown_parameter_is_a_warning_with_the_closest_name_and_the_rest_is_read(rows, warning):
    parsed = parse_configuration(rows)
    assert (parsed.problems, parsed.warnings, parsed.value.dnd_seconds) == ([], [warning], 1800)


def test_every_documented_parameter_and_those_of_the_coming_change_are_known():
    names = ["SpaceId", "TicketTimeout", "ManagerDNDTime", "TimeForDataFlush", "NumberOfItemsInBatch",
             "TimeForManagerDataReload", "Shift1StartTime", "Shift12StartTime", "TimeZone", "TicketURLTemplate",
             "URLForRestRequest", "EscalationAfterSeconds", "EscalationContacts", "DoneReminderAfterSeconds",
             "MaxDoneReminders", "RotationMode", "ShiftStartNotice", "DigestTime", "ManagersSheetName",
             "StateManagementSheetName", "TicketStateSheetName", "TrackerSheetName", "ManagerStateSheetName",
             "BotStatusSheetName", "Shift1Days", "Shift3EndTime", "HolidayCountry", "HolidaySubdivision",
             "CalendarOutOfOffice", "WebhookURL", "JiraStatus", "JiraLabel", "GitHubLabel", "ticket timeout"]
    assert parse_configuration([["Parameter", "Value"]] + [[name, ""] for name in names]).warnings == []


MANAGERS_HEADER = ["Name", "Email", "GChat ID", "Shift", "Active", "Phone"]


def test_managers_are_read_by_header_name_with_either_id_form_and_extra_columns():
    rows = [["active", "shift", "gchat id", "NAME", "Phone"],
            ["", "1,3", "123", "Ada", "555"], ["no", "all", "users/456", "Bea", ""]]
    parsed = parse_managers(rows, shift_count=4)
    assert parsed.problems == []
    assert parsed.value == [Manager("Ada", "users/123", "", frozenset({1, 3}), True),
                            Manager("Bea", "users/456", "", None, False)]


@pytest.mark.parametrize("row, message", [
    (["Ada", "", "", "1", ""], "Managers row 2: Ada has no usable GChat ID"),
    (["Ada", "", "users/1", "5", ""], "shift 5 does not exist (the Configuration has shifts 1 to 4)"),
    (["Ada", "", "users/1", "mornings", ""], "'mornings' is not a shift number"),
    (["Ada", "", "users/1", "1", "maybe"], "Active for Ada is 'maybe'"),
    (["Ada", "", "users/1", "\u00b2", ""], "'\u00b2' is not a shift number"),  # a digit int() does not take
])
def test_a_bad_manager_row_is_reported_and_left_out(row, message):
    parsed = parse_managers([MANAGERS_HEADER[:5], row, ["Bea", "", "users/2", "1", ""]], shift_count=4)
    assert [m.name for m in parsed.value] == ["Bea"]
    assert any(message in p for p in parsed.problems), parsed.problems


def test_duplicate_manager_ids_are_reported():
    rows = [MANAGERS_HEADER[:5], ["Ada", "", "users/1", "1", ""], ["Ada again", "", "1", "2", ""]]
    parsed = parse_managers(rows, shift_count=4)
    assert [m.name for m in parsed.value] == ["Ada"]
    assert parsed.problems == ["Managers row 3: GChat ID users/1 is used by an earlier row too"]


def test_a_managers_tab_with_a_header_and_no_manager_is_a_problem_not_an_empty_team():
    parsed = parse_managers([MANAGERS_HEADER[:5]], 4)
    assert parsed.problems == ["Managers row 2: there is no manager under the header row: the tab looks emptied or "
                               "cut short"]


def test_a_managers_tab_without_an_id_column_is_reported():
    assert parse_managers([["Name", "Shift"]], 4).problems == ["Managers row 1: the header row has no GChat ID column"]


def test_settings_come_from_the_environment_with_local_defaults():
    assert Settings.from_env({}) == Settings()
    settings = Settings.from_env({"RCABOT_BACKEND": "Google", "PORT": "9000", "RCABOT_API_TOKEN": "t"})
    assert (settings.backend, settings.port, settings.api_token, settings.local) == ("google", 9000, "t", False)


def test_google_mode_names_every_setting_it_is_missing():
    assert Settings(backend="google").problems() == [
        "RCABOT_SPREADSHEET_ID is not set", "GOOGLE_APPLICATION_CREDENTIALS or RCABOT_SERVICE_ACCOUNT_JSON is not set",
        "RCABOT_CHAT_AUDIENCE is not set", "RCABOT_API_TOKEN is not set"]
    missing_file = Settings(backend="google", spreadsheet_id="s", credentials_file="/nowhere/key.json",
                            chat_audience="123", api_token="t")
    assert missing_file.problems() == ["GOOGLE_APPLICATION_CREDENTIALS names /nowhere/key.json, which is not a file"]
    assert Settings(backend="cloud").problems() == ["RCABOT_BACKEND is 'cloud'; use local or google"]
    assert Settings().problems() == []


def test_the_google_timeout_is_a_setting_with_a_default_and_a_clear_problem():
    assert Settings.from_env({}).google_timeout == 30
    assert Settings.from_env({"RCABOT_GOOGLE_TIMEOUT": "12.5"}).google_timeout == 12.5
    google = {"RCABOT_BACKEND": "google", "RCABOT_SPREADSHEET_ID": "x", "RCABOT_SERVICE_ACCOUNT_JSON": "{}",
              "RCABOT_CHAT_AUDIENCE": "123", "RCABOT_API_TOKEN": "t", "RCABOT_GOOGLE_TIMEOUT": "soon"}
    assert Settings.from_env(google).problems() == [
        "RCABOT_GOOGLE_TIMEOUT must be a positive number of seconds (default 30)"]
