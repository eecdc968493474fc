"""The benchmark (`make bench`) at a tiny size, so that it keeps working: every scenario runs with
10 tickets and no Google latency, and the report has every figure. No figure is judged here: the
timings of a shared test machine say nothing."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import subprocess_can_listen

ROOT = Path(__file__).resolve().parent.parent
METRICS = [
    "start_p50_ms", "start_p99_ms", "accept_p50_ms", "accept_p99_ms", "decline_p50_ms", "decline_p99_ms",
    "start_client_p99_ms", "accept_client_p99_ms", "decline_client_p99_ms",
    "dead_webhook_accept_p50_ms", "dead_webhook_accept_p99_ms", "dead_webhook_accept_client_p99_ms",
    "cycles_429", "dead_webhook_cycles_429",
    "low_sheets_reads_per_lifecycle", "low_sheets_writes_per_lifecycle", "low_chat_writes_per_lifecycle",
    "burst_sheets_reads_per_lifecycle", "burst_sheets_writes_per_lifecycle", "burst_chat_writes_per_lifecycle",
    "burst_sheets_requests_per_event", "burst_all_pinged_min", "burst_sheets_writes_peak_per_min",
    "burst_chat_writes_peak_per_min", "burst_429",
    "open_rss_mb", "open_threads_small", "open_threads", "timeout_late_p50_ms", "timeout_late_p99_ms", "startup_s",
    "backlog_accept_p99_ms", "backlog_decline_p99_ms", "backlog_expiry_p99_ms",
    "tracker_200_startup_s", "tracker_200_peak_rss_mb", "tracker_200_cells_read", "tracker_200_sheets_requests",
    "tracker_200_fake_work_s",
] + [f"scale_{open_}_{figure}" for open_ in (2, 10)  # --size 10: a tenth (at least 2) and 10 open
     for figure in ("start_p50_ms", "start_p99_ms", "accept_p50_ms", "accept_p99_ms", "decline_p50_ms",
                    "decline_p99_ms", "flush_p50_ms", "flush_p99_ms", "flush_max_ms", "sheets_mb_per_write",
                    "startup_s", "429")] + [
    "teams_others_ping_p50_baseline_s", "teams_others_ping_p99_baseline_s", "teams_others_ping_p50_s",
    "teams_others_ping_p99_s", "teams_others_pings_missed", "teams_burst_pings_in_window",
    "teams_sheets_writes_peak_per_min", "teams_sheets_writes_peak_after_startup_per_min",
    "teams_chat_space_peak_per_min", "teams_chat_project_peak_per_min",
    "teams_429"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[dict, str]:
    why = subprocess_can_listen()
    if why:
        pytest.skip(f"the benchmark runs the bot as a real process: {why}")
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--size", "10", "--latency", "0", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), done.stdout


def test_every_scenario_reports_every_figure_as_a_number(report):
    body, _ = report
    assert sorted(body["metrics"]) == sorted(METRICS)
    for key, figure in body["metrics"].items():
        value = figure["value"]
        assert isinstance(value, (int, float)) and not isinstance(value, bool), key
        assert math.isfinite(value), key


def test_the_table_shows_every_figure_with_its_target(report):
    body, table = report
    lines = [line for line in table.splitlines() if line.startswith("| ")]
    assert lines[0] == "| metric | value | target | met? |"
    for figure in body["metrics"].values():
        assert any(line.startswith(f"| {figure['label']} |") for line in lines), figure["label"]
    judged = [f for f in body["metrics"].values() if f["target"] and f["met"] is not None]
    assert {f["key"] for f in judged} >= {"accept_p99_ms", "decline_p99_ms", "burst_sheets_requests_per_event",
                                          "open_rss_mb", "open_threads", "timeout_late_p99_ms", "startup_s"}


def test_the_tiny_run_still_counts_the_google_calls_it_made(report):
    body, _ = report
    lifecycle = body["details"]["lifecycle"]
    for load in ("low", "burst"):
        assert lifecycle[load]["lifecycles_as_planned"] == lifecycle[load]["count"]
    assert body["metrics"]["low_chat_writes_per_lifecycle"]["value"] == 4  # 3 posts, the lapsed card redrawn
    assert body["details"]["capacity"]["large"]["timeouts_seen"] == 10


def test_the_tiny_scale_run_timed_its_rounds_and_flushes_under_the_production_server(report):
    body, _ = report
    scale = body["details"]["scale"]
    assert scale["server"].startswith("waitress")
    for open_ in ("2", "10"):
        assert scale[open_]["served_by"] == "waitress"
        assert scale[open_]["rounds"] == 10
        assert scale[open_]["flushes"] >= 1  # a flush ran while the clicks were timed
        assert all(len(scale[open_]["client_ms"][kind]) == 10 for kind in ("start", "accept", "decline"))
