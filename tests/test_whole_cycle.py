"""The issue's acceptance scenario, through HTTP, on a real CSV workbook."""
import csv


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_a_ticket_goes_from_decline_through_timeout_to_accept_and_done(client, bot, space, jobs, clock,
                                                                       workbook_dir):
    started = client.post("/tickets", json={"ticket_id": "RCA-1", "title": "Checkout latency"})
    assert started.status_code == 202
    first = space.pinged("RCA-1")
    card = space.last_card("RCA-1")
    assert f"@{bot.manager_name(first)}" in card["text"]

    clock.advance(1)  # the space takes a write a second: a card clicked at once would hold the next one back
    answer = space.click(card, "decline", first)
    assert answer.json["actionResponse"] == {"type": "UPDATE_MESSAGE"}
    assert space.title(space.thread("RCA-1")[0]) == f"Declined by {bot.manager_name(first)}"
    second = space.pinged("RCA-1")
    assert second != first
    assert f"@{bot.manager_name(second)}" in space.last_card("RCA-1")["text"]

    clock.advance(bot.config.ticket_timeout)
    assert jobs.fire_due() == ["ping-timeout:RCA-1"]
    third = space.pinged("RCA-1")
    assert third not in (first, second)
    assert space.last_card("RCA-1")["text"].startswith(f"Timed out for {bot.manager_name(second)}.")

    space.click(space.last_card("RCA-1"), "accept", third)
    assert space.title(space.last_card("RCA-1")) == f"Assigned to {bot.manager_name(third)}"
    space.click(space.last_card("RCA-1"), "done", third)
    assert space.title(space.last_card("RCA-1")) == f"Completed by {bot.manager_name(third)}"
    assert len({m["thread"]["name"] for m in bot.chat.messages()}) == 1

    bot.flush()
    tracker = [row[3] for row in read(workbook_dir / "Tracker.csv")[1:] if row[1] == "RCA-1"]
    assert tracker == ["Pinged", "Declined", "Pinged", "TimedOut", "Pinged", "Accepted", "Completed"]
    assert read(workbook_dir / "TicketState.csv") == [read(workbook_dir / "TicketState.csv")[0]]
    assert client.get("/tickets/RCA-1").json["status"] == "Completed"


def test_the_ops_tabs_are_never_written(client, bot, space, workbook_dir):
    before = {name: (workbook_dir / name).read_bytes() for name in ("Configuration.csv", "Managers.csv")}
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    space.click(space.last_card("RCA-1"), "accept", space.pinged("RCA-1"))
    bot.flush()
    bot.reload()
    assert {name: (workbook_dir / name).read_bytes() for name in before} == before


def set_active(path, names: set[str], active: str) -> None:
    rows = read(path)
    column = rows[0].index("Active")
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([rows[0]] + [r[:column] + [active if r[0] in names else r[column]] + r[column + 1:]
                                             for r in rows[1:]])


def test_edits_ops_make_while_the_bot_runs_take_effect_at_the_next_reload(client, bot, workbook_dir):
    # 07:00 UTC is shift 2 of the sample team: Bruno Silva, Chen Wei and Hana Sato, in that order.
    set_active(workbook_dir / "Managers.csv", {"Bruno Silva", "Chen Wei"}, "no")
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    assert bot.ticket("RCA-1")["manager"]["name"] == "Bruno Silva"  # the edit is not read yet
    bot.reload()
    client.post("/tickets", json={"ticket_id": "RCA-2"})
    assert bot.ticket("RCA-2")["manager"]["name"] == "Hana Sato"


def test_a_broken_edit_is_reported_and_the_last_good_team_stays(client, bot, workbook_dir):
    set_active(workbook_dir / "Managers.csv", {"Bruno Silva"}, "perhaps")
    bot.reload()
    assert bot.problems == ["Managers row 3: Active for Bruno Silva is 'perhaps'; write yes, no or leave blank"]
    assert client.get("/healthz").json["sheet_problems"] == bot.problems
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    assert bot.ticket("RCA-1")["manager"]["name"] == "Bruno Silva"


def test_a_restarted_bot_resumes_open_tickets_with_their_remaining_time(app, bot, client, space, clock, jobs,
                                                                        workbook_dir):
    from rcabot.web import create_app
    from tests.fakes.jobs import RecordingJobs

    client.post("/tickets", json={"ticket_id": "RCA-1"})
    clock.advance(1)  # the space takes a write a second
    client.post("/tickets", json={"ticket_id": "RCA-2"})
    space.click(space.last_card("RCA-2"), "accept", space.pinged("RCA-2"))
    deadline = bot.ticket("RCA-1")["deadline"]
    bot.flush()
    bot.journal.close()  # the process ends (its lock on the journal goes with it)
    clock.advance(30)
    later_jobs = RecordingJobs(clock)
    again = create_app({"WORKBOOK_DIR": str(workbook_dir), "JOBS": later_jobs, "CLOCK": clock})
    resumed = again.extensions["rcabot"]
    assert resumed.ticket("RCA-1")["deadline"] == deadline
    assert resumed.ticket("RCA-2")["status"] == "Accepted"
    assert later_jobs.timers["ping-timeout:RCA-1"] == jobs.timers["ping-timeout:RCA-1"]
    assert resumed.status()["managers"] == bot.status()["managers"]  # DND and pings kept
    assert len(resumed.chat.messages()) == len(bot.chat.messages())  # nothing posted again


def test_a_missing_managers_tab_is_reported_and_the_last_good_team_stays(client, bot, workbook_dir):
    (workbook_dir / "Managers.csv").rename(workbook_dir / "Managers-old.csv")
    bot.reload()
    assert bot.problems == ["Tab 'Managers' is missing from the workbook"]
    client.post("/tickets", json={"ticket_id": "RCA-1"})
    assert bot.ticket("RCA-1")["manager"]["name"] == "Bruno Silva"


def test_a_bot_started_without_a_configuration_tab_runs_on_the_defaults_and_says_so(tmp_path, jobs, clock):
    from rcabot.web import create_app

    (tmp_path / "wb").mkdir()
    (tmp_path / "wb" / "Configuration.csv").write_text("")  # present but empty: all defaults
    app = create_app({"WORKBOOK_DIR": str(tmp_path / "wb"), "JOBS": jobs, "CLOCK": clock})
    assert app.extensions["rcabot"].config.ticket_timeout == 300
    (tmp_path / "wb" / "Configuration.csv").unlink()
    app.extensions["rcabot"].reload()
    assert app.extensions["rcabot"].problems == ["Tab 'Configuration' is missing from the workbook"]
    assert app.test_client().get("/status").json["problems"] == app.extensions["rcabot"].problems
